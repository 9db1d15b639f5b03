"""The quick benches still run and print their figures as ``name: value`` lines (a bench
broken by a change otherwise goes unnoticed until someone needs its numbers). Figures
are not judged here, except round trips, which are behaviour, not timing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def figures(script: str) -> dict[str, str]:
    run = subprocess.run(
        [sys.executable, f"bench/{script}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return dict(re.findall(r"^([a-z0-9_]+): (\S+)$", run.stdout, re.M))


def test_roundtrips_prints_each_figure_and_placing_stays_at_two_calls():
    got = figures("roundtrips.py")
    assert set(got) >= {
        "place_order_calls",
        "place_order_with_coupon_calls",
        "pay_callback_calls",
        "pick_calls",
    }
    assert int(got["place_order_calls"]) <= 2
    assert int(got["place_order_with_coupon_calls"]) <= 2


def test_quote_prints_its_percentiles():
    got = figures("quote.py")
    assert float(got["quote_ms_p50"]) > 0 and float(got["quote_ms_p99"]) > 0
