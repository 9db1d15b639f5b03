"""The quick benches still run and print their figures as ``name: value`` lines (a bench
broken by a change otherwise goes unnoticed until someone needs its numbers). Figures
are not judged here, except round trips, which are behaviour, not timing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str, timeout: float = 300) -> str:
    run = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def figures(output: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9_]+): (\S+)$", output, re.M))


def test_roundtrips_prints_each_figure_and_the_counted_paths_stay_within_their_targets():
    got = figures(run_bench("roundtrips.py"))
    assert set(got) >= {
        "place_order_calls",
        "place_order_with_coupon_calls",
        "pay_callback_calls",
        "pick_calls",
    }
    assert int(got["place_order_calls"]) <= 2
    assert int(got["place_order_with_coupon_calls"]) <= 2
    assert int(got["pay_callback_calls"]) <= 2
    assert int(got["pick_calls"]) <= 3


def test_quote_prints_its_percentiles():
    got = figures(run_bench("quote.py"))
    assert float(got["quote_ms_p50"]) > 0 and float(got["quote_ms_p99"]) > 0


def test_print_latency_prints_both_percentiles_with_every_order_printed_once():
    """A short run (8 orders) of the local stack with its relays: every order is paid and
    reaches paper, none twice. The bench waits on events (relays heartbeating, each payment
    answered, each order on paper), so a loaded machine only makes it slower; its timeout is
    a safety net. The latency itself is only measured by the full bench."""
    output = run_bench("print_latency.py", "--orders", "8", "--rate", "4", timeout=1200)
    got = figures(output)
    assert got["orders_paid"] == "8", output
    assert got["orders_printed"] == "8", output
    assert float(got["order_to_paper_p50_s"]) > 0
    assert float(got["order_to_paper_p99_s"]) >= float(got["order_to_paper_p50_s"])
    assert "# printed more than once: 0" in output
