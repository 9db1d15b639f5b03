"""Campaign figures: ``python bench/campaigns.py [--visits 300] [--batches 300]``.

Each figure is one function; ``main`` prints ``name: value`` lines (figures only, no
assertions). The app runs in process (``chalice.test.Client`` over in-process moto with
the demo stores), every AWS call seen by the botocore hook of ``bench/roundtrips.py``
and its request units estimated from item sizes as ``bench/lifecycle_cost.py`` does.

Storefront events (POST /storefront/events):

* ``events_ingest_per_s``: batches of 10 events (a visit, views, carts, checkouts of
  one store, each batch a new device) through the route handler, one after another in
  one thread: events counted per second of wall time (moto's time included).
* ``usd_per_1000_visits``: a realistic visit, batched by the client rule of the README
  (flush 10 s after the first queued event or at 50 events, and on page hide): one
  visit_store, 5 view_product, 1 add_to_cart and, in 3 visits of 10, a start_checkout,
  at the times of ``VISIT_TIMELINE``; priced like lifecycle_cost.py: an API Gateway
  request (HTTP API) and a Lambda invocation per request, the Lambda's duration (our
  CPU time scaled to 512 MB plus 8 ms per AWS call), DynamoDB write and read units
  counted from the real calls, response bytes out. The route is public: no authorizer.
* ``events_per_request`` and ``wru_per_visit`` with it.

The campaign review (bench/campaign_review.py, run after them on a moto server of its
own; ``--no-review`` leaves it out): ``review_ms`` for a campaign over 30 days × 200
stores against the 30 days before (400 Queries), with ``review_moto_serving_ms`` (what
moto took to serve them, one at a time) and ``review_ours_ms`` (the rest: HTTP,
PynamoDB's parsing, the threads and the arithmetic), and ``review_frozen_ms``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lifecycle_cost as lc
import roundtrips as rt

STORE = "sh-xuhui"
FLUSH_S = 10.0  # the client rule: send 10 s after the first queued event ...
MAX_EVENTS = 50  # ... or at 50 queued events, and what is left on page hide
# A visit: (seconds after opening the store page, event); the checkout only in 3 visits
# in 10 (CHECKOUT_SHARE); the page is hidden PAGE_HIDE_S after opening.
VISIT_TIMELINE = [
    (0.0, "visit_store"),
    (6.0, "view_product"),
    (14.0, "view_product"),
    (25.0, "view_product"),
    (38.0, "view_product"),
    (52.0, "view_product"),
    (60.0, "add_to_cart"),
    (75.0, "start_checkout"),
]
CHECKOUT_SHARE = 3  # in 10 visits
PAGE_HIDE_S = 90.0


def client_batches(timeline: list[tuple[float, str]], hide_at: float) -> list[list[str]]:
    """The batches a storefront following the client rule sends for one page visit."""
    batches: list[list[str]] = []
    queue: list[str] = []
    first_at = 0.0
    for t, event in timeline:
        if queue and t >= first_at + FLUSH_S:
            batches.append(queue)
            queue = []
        if not queue:
            first_at = t
        queue.append(event)
        if len(queue) >= MAX_EVENTS:
            batches.append(queue)
            queue = []
    if queue and hide_at >= first_at:
        batches.append(queue)  # sendBeacon on page hide (or the timer before it)
    return batches


@contextmanager
def app_on_moto() -> Iterator[tuple[rt.AwsMeter, Any]]:
    """The app in process on in-process moto with every resource and the demo stores."""
    rt.prepare_environment()
    meter = rt.AwsMeter().install()
    import boto3
    import moto

    from infra.local.moto_server import make_dynamodb_atomic

    lc.fast_moto_dynamodb()
    # moto backs a transaction up by deep-copying every table it names (the markers table
    # grows with every batch): roll back item by item instead, as the local stack does.
    make_dynamodb_atomic()
    with moto.mock_aws():
        import msgspec
        from chalicelib.stores import service as store_service
        from chalicelib.stores.schemas import StoreCreate

        from infra.local import demo_data
        from infra.resources import create_all

        create_all(boto3.Session(region_name="us-east-1"), rt.PREFIX)
        for raw in demo_data.stores():
            store_service.create_store(msgspec.convert(raw, StoreCreate))
        meter.observers.append(lc.DynamoUnits())
        from app import app
        from chalice.test import Client

        with Client(app) as client:
            yield meter, lc.CountingApi(client)


def _event(kind: str, n: int) -> dict[str, Any]:
    from chalicelib.kernel import clock

    at = clock.iso(clock.now() - timedelta(seconds=120 - n))
    e: dict[str, Any] = {"type": kind, "store_id": STORE, "at": at}
    if kind in ("view_product", "add_to_cart"):
        e["sku"] = f"{100001 + n}"
    return e


def _send(api: Any, device: str, kinds: list[str]) -> tuple[int, Any]:
    body = {
        "batch_id": str(uuid.uuid4()),
        "device_id": device,
        "events": [_event(k, i) for i, k in enumerate(kinds)],
    }
    # As the client sends it: a text/plain JSON string (no CORS preflight).
    return api.call(
        "POST",
        "/storefront/events",
        raw=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain;charset=UTF-8"},
    )


def events_ingest_per_s(api: Any, batches: int) -> float:
    """Events counted per second, batches of 10 events of one store, a new device each."""
    kinds = ["visit_store"] + ["view_product"] * 6 + ["add_to_cart"] * 2 + ["start_checkout"]
    _send(api, "dev-warm-up-0000000000", kinds)  # caches and imports warm
    started = time.perf_counter()
    for i in range(batches):
        status, body = _send(api, f"dev-ingest-{i:012d}", kinds)
        assert status == 202 and body["accepted"] == 10, body
    return batches * len(kinds) / (time.perf_counter() - started)


@dataclass
class VisitCost:
    visits: int = 0
    requests: int = 0
    events: int = 0
    wru: float = 0.0
    rru: float = 0.0
    billed_ms: float = 0.0
    response_bytes: int = 0

    @property
    def usd(self) -> float:
        lambda_usd = lc.lambda_usd(self.requests, self.billed_ms)
        return (
            self.requests * lc.APIGW_USD_PER_REQUEST
            + lambda_usd
            + self.wru * lc.DDB_USD_PER_WRU
            + self.rru * lc.DDB_USD_PER_RRU
            + self.response_bytes / 1e9 * lc.TRANSFER_USD_PER_GB
        )


def visit_cost(meter: rt.AwsMeter, api: Any, visits: int) -> VisitCost:
    """What ``visits`` realistic visits cost, each by a new device, batched by the rule."""
    cost = VisitCost()
    for v in range(visits):
        timeline = [
            (t, k) for t, k in VISIT_TIMELINE if k != "start_checkout" or v % 10 < CHECKOUT_SHARE
        ]
        device = f"dev-visit-{v:012d}"
        for kinds in client_batches(timeline, PAGE_HIDE_S):
            before = api.response_bytes
            cpu = time.thread_time()
            with meter.measure() as calls:
                status, body = _send(api, device, kinds)
            assert status == 202 and body["accepted"] == len(kinds), body
            x = lc.Invocation("storefront_events", "api", list(calls), time.thread_time() - cpu)
            cost.requests += 1
            cost.events += len(kinds)
            cost.billed_ms += x.billed_ms
            cost.wru += sum(c.extra.get("wru", 0) for c in calls)
            cost.rru += sum(c.extra.get("rru", 0.0) for c in calls)
            cost.response_bytes += api.response_bytes - before
        cost.visits += 1
    return cost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=300, help="visits priced (300)")
    parser.add_argument("--batches", type=int, default=300, help="batches of 10 timed (300)")
    parser.add_argument(
        "--no-review", action="store_true", help="leave out review_ms (about a minute)"
    )
    args = parser.parse_args(argv)
    with app_on_moto() as (meter, api):
        per_s = events_ingest_per_s(api, args.batches)
        cost = visit_cost(meter, api, args.visits)
    print(f"events_ingest_per_s: {per_s:.0f}")
    print(f"events_per_request: {cost.events / cost.requests:.2f}")
    print(f"requests_per_visit: {cost.requests / cost.visits:.2f}")
    print(f"wru_per_visit: {cost.wru / cost.visits:.1f}")
    print(f"rru_per_visit: {cost.rru / cost.visits:.2f}")
    print(f"lambda_ms_per_request: {cost.billed_ms / cost.requests:.1f}")
    print(f"usd_per_1000_visits: {cost.usd / cost.visits * 1000:.4f}", flush=True)
    if not args.no_review:
        # the review's figures on a moto server of their own (bench/campaign_review.py)
        subprocess.run(
            [sys.executable, str(Path(__file__).with_name("campaign_review.py"))], check=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
