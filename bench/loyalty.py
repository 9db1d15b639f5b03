"""Loyalty figures on a moto server (loopback HTTP, as the local stack's AWS):
``python bench/loyalty.py [--events 300] [--reads 50]``.

- ``points_earn_events_per_s``: order.completed events handled by the loyalty subscriber
  (``loyalty.programme_subscribers.order_completion``: settings, the member's loyalty
  account, ONE UpdateItem of it for the order's points, growth and tasks, then its
  entries: decisions.md entry 32), one after another, 50 members;
- ``member_ledger_read_ms_p50``: one page (20 entries, newest first) of the history of a
  member with 1,000 entries (``loyalty.points.entries``: one Query of the member's entries,
  ordered in memory: loyalty/history.py).

- ``place_order_with_points_and_balance_calls``: AWS calls of ``POST /orders`` using points
  as cash and stored value (target 2: one BatchGetItem with the points and stored-value
  accounts and the points rules, one TransactWriteItems with their locks), counted by
  ``bench/roundtrips.py`` in a process of its own (its botocore hook must be installed
  before any session exists; ``--no-orders`` skips it).

Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import roundtrips as rt  # noqa: E402  (bench/roundtrips.py: the API's environment)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--reads", type=int, default=50)
    parser.add_argument("--no-orders", action="store_true", help="skip the placing count")
    args = parser.parse_args()
    if not args.no_orders:
        print(placing_with_points_and_balance())

    rt.prepare_environment()
    import logging
    import os

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's request log

    import boto3
    from moto.server import ThreadedMotoServer

    from infra.local.moto_server import make_dynamodb_atomic
    from infra.resources import create_all

    make_dynamodb_atomic()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    try:
        create_all(boto3.Session(region_name="us-east-1"), rt.PREFIX)
        from chalicelib.db.transactions import batch_put
        from chalicelib.events.types import OrderCompleted
        from chalicelib.kernel import clock
        from chalicelib.loyalty import points, programme_subscribers
        from chalicelib.loyalty.models import PointsEntryModel

        def event(i: int) -> OrderCompleted:
            return OrderCompleted(
                event_id=f"order.completed:B{i:013d}",
                occurred_at=clock.now_iso(),
                order_id=f"B{i:013d}",
                customer_id=f"c-bench-{i % 50:02d}",
                store_id="sh-xuhui",
                paid_fen=5_000 + i,
                refunded_fen=0,
                lines=[],
            )

        programme_subscribers.order_completion(event(-1))  # warm-up: clients, connections
        started = time.perf_counter()
        for i in range(args.events):
            programme_subscribers.order_completion(event(i))
        earn_s = time.perf_counter() - started

        member = "c-bench-ledger"
        rows = [
            PointsEntryModel(
                member,
                f"task:{i:05d}",
                at_key=f"2026-{i // 28 % 12 + 1:02d}-{i % 28 + 1:02d}T00:00:00.000Z#{i:05d}",
                at="2026-01-01T00:00:00Z",
                kind="earn",
                delta=5,
                debt=0,
                balance_after=5 * (i + 1),
                lots=[f"task:{i:05d}=5"],
                reason="task",
            )
            for i in range(1000)
        ]
        for start in range(0, len(rows), 25):
            batch_put(rows[start : start + 25])
        points.entries(member, None, 20)  # warm-up
        times = []
        for _ in range(args.reads):
            t0 = time.perf_counter()
            page = points.entries(member, None, 20)
            times.append((time.perf_counter() - t0) * 1000)
        assert len(page.items) == 20
        print(f"# {args.events} order.completed events, 50 members; 1,000-entry history, 20 a page")
        print(f"points_earn_events_per_s: {args.events / earn_s:.1f}")
        print(f"member_ledger_read_ms_p50: {statistics.median(times):.2f}")
    finally:
        server.stop()


def placing_with_points_and_balance() -> str:
    """The figure line of bench/roundtrips.py's run (from functions/, as it is run)."""
    import subprocess

    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "roundtrips.py")],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name = "place_order_with_points_and_balance_calls"
    return next((x for x in out.splitlines() if x.startswith(f"{name}:")), f"{name}: n/a")


if __name__ == "__main__":
    main()
