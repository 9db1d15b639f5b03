"""The campaign review's figure on a moto server (loopback HTTP, as the local stack's
AWS): ``python bench/campaign_review.py``. To be merged into bench/campaigns.py.

Seeds 200 stores, a campaign over 30 days on all of them, and per store × day of the
campaign and of its baseline (the 30 days before): a ``report_days`` rollup (with
placed, new members and discounts by source) and a ``traffic_days`` counter, with
BatchWriteItem. Then:

- ``review_ms``: one live review (campaigns/review.py ``compute``: the store list, a
  Query per store of report_days and of traffic_days, concurrently, and the arithmetic),
  median of 3. On moto this is almost all moto's own Query, which walks every item of
  the table (24,000 here) for each of the 400 Queries; DynamoDB reads only the store's
  60 items. So it also prints ``review_compute_ms`` (the same review from figures
  already read) and ``review_queries`` (what DynamoDB would serve, 16 at a time);
- ``review_frozen_ms``: a read of the frozen review (one GetItem, gunzip, decode),
  median of 3, after one ``freeze`` (reported as ``review_freeze_ms``: three periods
  read, both baselines computed, one conditional PutItem).

Figures only; no assertions.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

import roundtrips as rt  # noqa: E402  (bench/roundtrips.py: the API's environment)

STORES = [f"s{i:03d}" for i in range(200)]
FIRST = date(2026, 11, 1)  # the campaign: 2026-11-01 .. 2026-11-30 (local)
DAYS = 30
RUNS = 3


def _items(rnd: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    from chalicelib.traffic.models import day_campaign

    stores, days, traffic = [], [], []
    for i, sid in enumerate(STORES):
        stores.append(
            {
                "store_id": {"S": sid},
                "name": {"S": f"门店{i}"},
                "listing": {"S": "stores"},
                "timezone": {"S": "Asia/Shanghai"},
            }
        )
        for n in range(-DAYS, DAYS):
            d = (FIRST + timedelta(days=n)).isoformat()
            boost = 1.3 if n >= 0 else 1.0
            visitors = int(rnd.randint(200, 600) * boost)
            orders = int(visitors * rnd.uniform(0.08, 0.14))
            paid = orders * rnd.randint(6_000, 9_000)
            disc = {"p:P-1": [orders // 2, orders * 300], "t:T-1": [orders // 5, orders * 200]}
            days.append(
                {
                    "store_id": {"S": sid},
                    "day": {"S": d},
                    "orders": {"N": str(orders)},
                    "paid_fen": {"N": str(paid)},
                    "refunded_fen": {"N": str(paid // 50)},
                    "refund_orders": {"N": str(orders // 20)},
                    "cancelled": {"N": "1"},
                    "placed": {"N": str(orders + orders // 4)},
                    "new_members": {"N": str(rnd.randint(0, 12))},
                    "disc": {"S": json.dumps(disc)},
                }
            )
            traffic.append(
                {
                    "store_id": {"S": sid},
                    "day_campaign": {"S": day_campaign(d, "cmp-bench" if n >= 0 else None)},
                    "visitors": {"N": str(visitors)},
                    "visits": {"N": str(visitors * 2)},
                    "cart_visitors": {"N": str(visitors // 3)},
                }
            )
            # the day's distinct devices, on its all-campaigns row (as the ingest writes)
            traffic.append(
                {
                    "store_id": {"S": sid},
                    "day_campaign": {"S": day_campaign(d, "*")},
                    "visitors": {"N": str(visitors)},
                    "cart_visitors": {"N": str(visitors // 3)},
                }
            )
    return stores, days, traffic


def seed() -> None:
    import boto3
    from chalicelib.campaign_budgets.models import CampaignModel, starts_key
    from chalicelib.reports.models import ReportDayModel
    from chalicelib.stores.models import StoreModel
    from chalicelib.traffic.models import TrafficDayModel

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    stores, days, traffic = _items(random.Random(16))
    batches = []
    for table, items in (
        (StoreModel.Meta.table_name, stores),
        (ReportDayModel.Meta.table_name, days),
        (TrafficDayModel.Meta.table_name, traffic),
    ):
        for start in range(0, len(items), 25):
            chunk = items[start : start + 25]
            batches.append({table: [{"PutRequest": {"Item": x}} for x in chunk]})

    def write(batch: dict) -> None:
        while batch:
            batch = ddb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, batches))
    starts = "2026-10-31T16:00:00Z"
    CampaignModel(
        "cmp-bench",
        name="双11 bench",
        grade="S",
        state="live",
        starts_at=starts,
        ends_at="2026-11-30T16:00:00Z",
        starts_key=starts_key(starts, "cmp-bench"),
        created_by="bench",
        created_at=starts,
        updated_at=starts,
        promotion_ids=["P-1"],
        coupon_template_ids=["T-1"],
        budget_hq_fen=10_000_000,
        budget_fen=10_000_000,
        spent_hq_fen=8_000_000,
        discounts_fen=8_000_000,
    ).save()


def review_ms() -> dict[str, float]:
    """Seed and time; returns the figures (also printed)."""
    from chalicelib.campaigns import review
    from chalicelib.campaigns import review_rules as rr
    from chalicelib.kernel import clock

    seed()
    # on the campaign's last day: 30 live days against the 30 before
    clock.now = lambda: datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # type: ignore[assignment]
    c = review.get_campaign("cmp-bench")
    live, served = [], []
    for _ in range(RUNS):
        MOTO_S[0] = 0.0
        t0 = time.perf_counter()
        got = review.compute(c, review.campaign_stores(c), "before")
        live.append((time.perf_counter() - t0) * 1000)
        served.append(MOTO_S[0] * 1000)
    assert got.days == DAYS and len(got.stores) == len(STORES), got.days
    # the same review from figures already read: what is not the reads' time
    stores = review.campaign_stores(c)
    first, last = review.window(c)
    days = review.read_days(
        [st.store_id for st in stores], [(first, last), rr.baseline_period(first, last, "before")]
    )
    compute = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        review.compute(c, stores, "before", days=days)
        compute.append((time.perf_counter() - t0) * 1000)
    clock.now = lambda: datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # type: ignore[assignment]
    t0 = time.perf_counter()
    review.freeze("cmp-bench")
    freeze_ms = (time.perf_counter() - t0) * 1000
    frozen = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        review.freeze("cmp-bench")  # served from the stored item
        frozen.append((time.perf_counter() - t0) * 1000)
    out = {
        "review_ms": statistics.median(live),
        "review_moto_serving_ms": statistics.median(served),
        "review_ours_ms": statistics.median(a - b for a, b in zip(live, served, strict=True)),
        "review_compute_ms": statistics.median(compute),
        "review_queries": 2 * len(STORES) + 1,  # report_days and traffic_days per store
        "review_frozen_ms": statistics.median(frozen),
        "review_freeze_ms": freeze_ms,
    }
    for name, value in out.items():
        print(f"{name}: {value:.1f}" if isinstance(value, float) else f"{name}: {value}")
    return out


MOTO_S = [0.0]  # seconds moto spent serving DynamoDB requests (one at a time)


def time_moto() -> None:
    """Count the time moto's DynamoDB handler takes: requests run one at a time
    (make_dynamodb_atomic), so what a review waits on moto is at least this, and the
    rest of its time is ours (threads, HTTP, PynamoDB's parsing, the arithmetic)."""
    from moto.dynamodb.responses import DynamoHandler

    handle = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return handle(self)
        finally:
            MOTO_S[0] += time.perf_counter() - t0

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def partition_local_queries() -> None:
    """moto answers a Query on a table's own key by walking (and sorting) every item of
    the table: 400 Queries over 24,000 items took ~110 s, all of it moto's. DynamoDB
    reads only the partition's items, so the bench makes moto do the same: within a
    base-table Query, ``all_items`` yields the queried partition alone (what the Query
    filters down to anyway). Index Queries are left as they are."""
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # type: ignore[method-assign]
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


def main() -> None:
    rt.prepare_environment()
    import logging
    import os

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server's request log

    import boto3
    from moto.server import ThreadedMotoServer

    from infra.local.moto_server import make_dynamodb_atomic
    from infra.resources import create_all

    time_moto()  # inside the lock make_dynamodb_atomic adds: serving time, not waiting
    make_dynamodb_atomic()
    partition_local_queries()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    try:
        create_all(boto3.Session(region_name="us-east-1"), rt.PREFIX)
        review_ms()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
