"""Segments figures on a moto server (loopback HTTP, as the local stack's AWS):
``python bench/segments.py [--members 100000]``.

Seeds N members' aggregates (``member_stats`` items and identity's ``customers`` items:
3 years of registrations, 70 % with orders, spend and dates spread as a real chain's,
200 stores, levels, sources, 5 % revoked consent) with BatchWriteItem, then:

- ``rfm_recompute_members_per_s``: the nightly job end to end (customers/segment_snapshot.py
  ``run``: parallel Scan of both tables, scoring, encoding, the S3 put, the pointer);
- ``segment_snapshot_load_ms``: a cold load of that snapshot (S3 get, zlib, columns);
- ``segment_count_ms``: ``segments.count`` of a 3-condition segment (RFM groups,
  lifecycle stages, stores) warm, median of 20, the pointer's GetItem included;
- ``segment_export_members_per_s``: the segment export's worker (exports/jobs.py
  ``process_job``, kind "segment": ids from the snapshot, BatchGetItem of the member
  items 100 at a time, masked CSV streamed to S3) over every member;
- ``aggregate_event_ms_p50``: one order.completed applied to ``member_stats`` through
  the subscriber (read, apply, conditional write), median of 200.

Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import roundtrips as rt  # noqa: E402  (bench/roundtrips.py: the API's environment)

TODAY = date(2026, 12, 5)
STORES = [f"s{i:03d}" for i in range(200)]
LEVELS = ["V1", "V1", "V1", "V2", "V2", "V3", "V4", "V5"]
SOURCES = ["store", "store", "shelf", "staff", "campaign", "ticket", "invite"]


def items(i: int, rnd: random.Random) -> tuple[dict, dict]:
    """One member's customers item and member_stats item (DynamoDB JSON)."""
    cid = f"c-{i:016x}"
    joined = TODAY - timedelta(days=int(rnd.random() ** 1.5 * 1095))
    created = f"{joined.isoformat()}T02:00:00Z"
    home = rnd.choice(STORES)
    member = {
        "customer_id": {"S": cid},
        "phone": {"S": f"139{i:08d}"},
        "nickname": {"S": f"会员{i}"},
        "created_at": {"S": created},
        "home_store_id": {"S": home},
        "level": {"S": rnd.choice(LEVELS)},
        "source_kind": {"S": rnd.choice(SOURCES)},
    }
    c = rnd.random()
    if c < 0.05:
        member["marketing_consent"] = {"S": "revoked"}
    elif c < 0.65:
        member["marketing_consent"] = {"S": "granted"}
    stats = {"customer_id": {"S": cid}, "v": {"N": "1"}}
    if rnd.random() < 0.7:
        orders = 1 + int(rnd.expovariate(1 / 6))
        spend = int(orders * rnd.lognormvariate(9.0, 0.6))  # AOV around 80 yuan
        span = (TODAY - joined).days
        last = joined + timedelta(days=int(span * rnd.random() ** 0.4))
        fav = home if rnd.random() < 0.8 else rnd.choice(STORES)
        stats.update(
            n={"N": str(orders)},
            sp={"N": str(spend)},
            fd={"S": joined.isoformat()},
            ld={"S": last.isoformat()},
            fs={"S": fav},
            lm={"S": last.isoformat()[:7]},
        )
    return member, stats


def seed(n: int) -> float:
    import boto3
    from chalicelib.customers.models import MemberStatsModel
    from chalicelib.identity.models import CustomerModel

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    rnd = random.Random(15)
    pairs = [items(i, rnd) for i in range(n)]
    batches = []
    for table, col in ((CustomerModel.Meta.table_name, 0), (MemberStatsModel.Meta.table_name, 1)):
        for start in range(0, n, 25):
            batches.append(
                {table: [{"PutRequest": {"Item": p[col]}} for p in pairs[start : start + 25]]}
            )

    def write(batch: dict) -> None:
        while batch:
            batch = ddb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, batches))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()

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
        from chalicelib.customers import schemas as s
        from chalicelib.customers import segment_snapshot, segments
        from chalicelib.customers.subscribers import stats_on_completed
        from chalicelib.events.types import OrderCompleted, OrderLine
        from chalicelib.kernel import clock

        seed_s = seed(args.members)
        print(f"# setup: {args.members} members seeded (2 items each) in {seed_s:.1f} s")

        scan_s = [0.0]
        plain_scan = segment_snapshot._scan

        def timed_scan(*a: object, **k: object) -> None:
            t0 = time.perf_counter()
            plain_scan(*a, **k)  # type: ignore[arg-type]
            scan_s[0] += time.perf_counter() - t0

        segment_snapshot._scan = timed_scan  # type: ignore[assignment]
        started = time.perf_counter()
        got = segment_snapshot.run(segment_snapshot.NoTags(), today=TODAY)
        job_s = time.perf_counter() - started
        segment_snapshot._scan = plain_scan
        print(
            f"# nightly job {job_s:.1f} s: scans with the rows made from their pages "
            f"{scan_s[0]:.1f} s (moto), the rest (scores, encoding, S3 put) "
            f"{job_s - scan_s[0]:.1f} s"
        )
        print(f"# snapshot {got['bytes']} bytes compressed, {got['members']} members")

        segments._loaded.update(key=None, index=None)
        t0 = time.perf_counter()
        index = segments.load(got["object_key"])
        load_ms = (time.perf_counter() - t0) * 1000
        segments._loaded.update(key=got["object_key"], index=index)

        f = s.SegmentFilter(
            rfm_groups=["important_recall", "important_retain", "lost"],
            lifecycle=["churn_recall", "dormant"],
            stores=STORES[:20],
        )
        t0 = time.perf_counter()
        first = segments.count(f)  # builds the bitmaps it needs (today's stages too)
        first_ms = (time.perf_counter() - t0) * 1000
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            counted = segments.count(f)
            times.append((time.perf_counter() - t0) * 1000)
        assert counted == first
        print(f"# first count (bitmaps built) {first_ms:.0f} ms: {counted.members} members")

        export_rate, exported = export()
        print(f"# export: {exported} members (revoked consent left out), phones masked")

        def event(i: int) -> OrderCompleted:
            return OrderCompleted(
                event_id=f"order.completed:B{i:013d}",
                occurred_at=clock.now_iso(),
                order_id=f"B{i:013d}",
                customer_id=f"c-{i * 7919 % args.members:016x}",
                store_id=STORES[i % 200],
                paid_fen=5_000 + i,
                refunded_fen=0,
                lines=[OrderLine(sku="100", qty=1, paid_fen=5_000 + i, category1="水果")],
            )

        stats_on_completed(event(args.events))  # warm-up: clients, connections
        ev_times = []
        for i in range(args.events):
            t0 = time.perf_counter()
            stats_on_completed(event(i))
            ev_times.append((time.perf_counter() - t0) * 1000)

        print(f"# {args.members} members; count: 3 conditions, warm, median of 20")
        print(f"rfm_recompute_members_per_s: {args.members / job_s:.0f}")
        print(f"segment_snapshot_load_ms: {load_ms:.0f}")
        print(f"segment_export_members_per_s: {export_rate:.0f}")
        print(f"aggregate_event_ms_p50: {statistics.median(ev_times):.2f}")
        print(f"segment_count_ms: {statistics.median(times):.2f}")
    finally:
        server.stop()


def export() -> tuple[float, int]:
    """The segment export's worker (exports/jobs.py process_job, kind "segment") over
    every member: (members per second, rows)."""
    from chalicelib.auth.principal import HQ_ADMIN, Principal
    from chalicelib.customers import schemas as cs
    from chalicelib.exports import jobs
    from chalicelib.exports import schemas as es

    hq = Principal(subject="bench-hq", role=HQ_ADMIN)
    body = es.ExportRequest(kind="segment", filters=es.ExportFilters(segment=cs.SegmentFilter()))
    job = jobs.create_job(hq, body, "bench-segment-export")
    t0 = time.perf_counter()
    done = jobs.process_job(job.export_id)
    seconds = time.perf_counter() - t0
    assert done.status == "succeeded", done
    return done.rows_done / seconds, done.rows_done


if __name__ == "__main__":
    main()
