"""Cold-start proxy of the API: ``python bench/cold_import.py [--runs 5]``.

A Lambda cold start pays for importing the handler module. This bench measures, in fresh
interpreters, the wall time of ``python -c "import app"`` (``functions/`` as the working
directory, so on ``sys.path``, with the environment the API needs) and of
``python -c "import boto3"``, ``--runs`` times each (5 by default), interleaved so that
drift of the machine hits both alike. From each the median wall time of a bare
``python -c "pass"`` measured the same way is subtracted, so the figures compare the
imports, not the interpreter's own start-up. One discarded warm-up run of each compiles
the bytecode caches first (Lambda ships them too).

Printed: ``api_import_ms``, ``boto3_import_ms`` and, last, ``api_import_ratio`` =
api/boto3. Before them, as ``#`` comment lines, the 10 modules with the largest
cumulative import time under ``import app`` (medians of ``-X importtime`` runs), to show
the next engineer where the time goes. Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"

STATEMENTS = {
    "bare": "pass",
    "boto3": "import boto3",
    "api": "import app",
}


def api_env() -> dict[str, str]:
    """What the API reads at import time: stage, fake AWS credentials and region, secret.

    No AWS endpoint is set: importing must not reach AWS at all.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DAOJIA_", "PYTHON")) or k == "PYTHONHASHSEED"
    }
    env.update(
        {
            "DAOJIA_STAGE": "local",
            "DAOJIA_JWT_SECRET": "bench-secret-not-for-production-0123456789",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return env


def wall_ms(statement: str, env: dict[str, str]) -> float:
    """Wall time of one fresh ``python -c statement`` in functions/, in milliseconds."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", statement], cwd=FUNCTIONS, env=env, check=True, capture_output=True
    )
    return (time.perf_counter() - t0) * 1000


def _parse_importtime_line(line: str) -> tuple[str, int] | None:
    """(module, cumulative µs) from ``import time: self | cumulative | name``."""
    fields = line.removeprefix("import time:").split("|")
    if len(fields) != 3 or not fields[1].strip().isdigit():
        return None
    return fields[2].strip(), int(fields[1].strip())


def top_modules(env: dict[str, str], runs: int, count: int = 10) -> list[tuple[str, float]]:
    """The ``count`` modules with the largest median cumulative import time under
    ``import app`` over ``runs`` fresh ``-X importtime`` interpreters, in ms."""
    samples: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", STATEMENTS["api"]],
            cwd=FUNCTIONS,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        lines = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
        # Start-up imports (encodings, site, ...) are listed before the statement runs;
        # ``site`` is the last of them.
        site = max((i for i, line in enumerate(lines) if line.endswith("| site")), default=-1)
        for line in lines[site + 1 :]:
            parsed = _parse_importtime_line(line)
            if parsed is not None:
                samples[parsed[0]].append(parsed[1])
    medians = {name: statistics.median(values) / 1000 for name, values in samples.items()}
    return sorted(medians.items(), key=lambda item: -item[1])[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per figure")
    args = parser.parse_args(argv)
    env = api_env()

    for statement in STATEMENTS.values():  # warm-up: write the .pyc caches, discard
        wall_ms(statement, env)
    samples: dict[str, list[float]] = {key: [] for key in STATEMENTS}
    for _ in range(args.runs):
        for key, statement in STATEMENTS.items():
            samples[key].append(wall_ms(statement, env))
    median = {key: statistics.median(values) for key, values in samples.items()}
    # Net import time: the bare interpreter start-up, measured the same way, subtracted.
    api_ms = median["api"] - median["bare"]
    boto3_ms = median["boto3"] - median["bare"]

    print(f"# interpreter start-up (python -c pass), median: {median['bare']:.1f} ms")
    print(
        "# top 10 modules by cumulative import time under `import app` "
        f"(median of {args.runs} -X importtime runs; importtime adds its own overhead):"
    )
    for name, ms in top_modules(env, args.runs):
        print(f"#   {ms:8.1f} ms  {name}")
    print(f"api_import_ms: {api_ms:.1f}")
    print(f"boto3_import_ms: {boto3_ms:.1f}")
    print(f"api_import_ratio: {api_ms / boto3_ms:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
