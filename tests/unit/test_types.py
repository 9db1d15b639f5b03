"""mypy passes over functions/ (chalicelib and app.py), print_relay/, erp_sync/ and infra/
with pyproject.toml's [tool.mypy] configuration (issue 12 item 6), and the configuration
catches what it promises to: a type error, an untyped function in a strict package (the
kernel, the db kit, the pure rules), a ``type: ignore`` that no longer ignores anything.

The failures are proven by planting them in a copy of the trees, never in the tree itself.
Run mypy alone: ``.venv/bin/mypy`` from the repository root.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # a cold mypy run takes 10-30 s


def mypy(root: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """mypy with root's pyproject.toml over the files it lists, caching outside the tree."""
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-color-output"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_four_trees_type_check(tmp_path: Path) -> None:
    result = mypy(ROOT, tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_checks_every_tree() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert set(config["files"]) >= {
        "functions/chalicelib",
        "functions/app.py",
        "print_relay",
        "erp_sync",
        "infra",
    }
    assert config["warn_unused_ignores"] is True


# (file, line appended, what mypy must report): each planted in a copy of the trees.
PLANTED = [
    # a type error in a feature
    (
        "functions/chalicelib/orders/service.py",
        'def _planted_a() -> int: return "not a number"\n',
        "orders/service.py:{line}: error: Incompatible return value type",
    ),
    # an untyped function in a strict package
    (
        "functions/chalicelib/kernel/money.py",
        "def _planted_b(x):\n    return x\n",
        "kernel/money.py:{line}: error: Function is missing a type annotation",
    ),
    (
        "functions/chalicelib/db/writes.py",
        "def _planted_c(x: int):\n    return x\n",
        "db/writes.py:{line}: error: Function is missing a return type annotation",
    ),
    # a stale ignore, in the relay (outside functions/)
    (
        "print_relay/tickets.py",
        "_planted_d: int = 1  # type: ignore[assignment]\n",
        'print_relay/tickets.py:{line}: error: Unused "type: ignore" comment',
    ),
    # a type error in app.py and in infra/
    (
        "functions/app.py",
        "_planted_e: str = 1\n",
        "app.py:{line}: error: Incompatible types in assignment",
    ),
    (
        "infra/template.py",
        "_planted_f: str = 1\n",
        "infra/template.py:{line}: error: Incompatible types in assignment",
    ),
]


def test_planted_errors_are_reported(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__", "build", ".chalice")
    for tree in ("functions", "print_relay", "erp_sync", "infra"):
        shutil.copytree(ROOT / tree, copy / tree, ignore=ignore)
    expected = []
    for path, code, message in PLANTED:
        target = copy / path
        text = target.read_text()
        text += "" if text.endswith("\n") else "\n"
        line = text.count("\n") + 1  # the planted code's first line
        target.write_text(text + "\n\n" + code)
        expected.append(message.format(line=line + 2))
    result = mypy(copy, tmp_path / "cache")
    assert result.returncode == 1, result.stdout + result.stderr
    for message in expected:
        assert message in result.stdout, f"{message!r} not reported:\n{result.stdout}"
    assert f"Found {len(PLANTED)} errors" in result.stdout, result.stdout
