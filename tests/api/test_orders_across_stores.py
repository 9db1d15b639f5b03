"""Head office's orders across stores (GET /admin/orders): merged newest first over the
by_store_day index, filters, hostile input, roles, no Scan."""

from __future__ import annotations

import base64
import json

import pytest
from chalicelib.orders.models import OrderModel

from tests.order_steps import place_paid


def _orders():
    stores = ["sh-a", "sh-b", "sh-a", "sh-b", "sh-b"]
    ids = [place_paid([("110", 3)], "pickup", store_id=x) for x in stores]
    heads = sorted(OrderModel.batch_get(ids), key=lambda o: o.created_at, reverse=True)
    return [o.order_id for o in heads], heads[0].store_day.split("#")[1]


def test_orders_of_two_stores_merge_newest_first_across_pages(api, catalogue, tokens_, aws_calls):
    newest_first, day = _orders()
    seen, cursor, pages = [], None, 0
    aws_calls.clear()
    while True:
        q = f"/admin/orders?from={day}&to={day}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.call("GET", q, token=tokens_["hq"])
        assert status == 200, page
        seen += [x["order_id"] for x in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == newest_first and pages == 3
    assert "Scan" not in aws_calls and set(aws_calls) <= {"Query", "BatchGetItem", "GetItem"}
    _, b = api.call("GET", f"/admin/orders?store_ids=sh-b&to={day}&limit=50", token=tokens_["hq"])
    assert [x["store_id"] for x in b["items"]] == ["sh-b"] * 3
    q = f"/admin/orders?to={day}&fulfilment=delivery&has_refund=true"
    assert api.call("GET", q, token=tokens_["hq"])[1]["items"] == []
    q = f"/admin/orders?to={day}&status=paid&min_paid_fen=1&fulfilment=pickup&limit=50"
    assert [x["order_id"] for x in api.call("GET", q, token=tokens_["hq"])[1]["items"]] == (
        newest_first
    )


def _walk(api, token, query):
    seen, cursor, pages = [], None, 0
    while True:
        status, page = api.call(
            "GET", f"/admin/orders?{query}" + (f"&cursor={cursor}" if cursor else ""), token=token
        )
        assert status == 200, page
        seen += [x["order_id"] for x in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            return seen, pages


def test_oldest_first_walks_the_days_forwards_across_pages(api, catalogue, tokens_, aws_calls):
    from datetime import date, timedelta

    newest_first, day = _orders()
    prev = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    # the two oldest orders were placed the day before (their store's business day)
    for n, order_id in enumerate(reversed(newest_first[-2:])):
        o = OrderModel.get(order_id)
        o.update(
            actions=[
                OrderModel.store_day.set(f"{o.store_id}#{prev}"),
                OrderModel.created_at.set(f"{prev}T10:00:0{n}.000Z"),
            ]
        )
    aws_calls.clear()
    oldest, pages = _walk(api, tokens_["hq"], f"from={prev}&to={day}&limit=2&sort=oldest")
    assert oldest == list(reversed(newest_first)) and pages == 3
    newest, _ = _walk(api, tokens_["hq"], f"from={prev}&to={day}&limit=2")
    assert newest == newest_first
    assert "Scan" not in aws_calls
    # a cursor goes on in the order it was made in
    status, page = api.call(
        "GET", f"/admin/orders?from={prev}&to={day}&limit=2", token=tokens_["hq"]
    )
    q = f"/admin/orders?from={prev}&to={day}&limit=2&sort=oldest&cursor={page['next_cursor']}"
    status, err = api.call("GET", q, token=tokens_["hq"])
    assert status == 400 and err["error"]["code"] == BAD


@pytest.mark.parametrize("who", ["customer", "staff_a", "manager_a", "relay_a"])
def test_only_head_office_lists_orders_across_stores(api, stores, tokens_, who):
    status, err = api.call("GET", "/admin/orders", token=tokens_[who])
    assert status == 403 and err["error"]["code"] == "role_not_allowed"


BAD = "bad_cursor"


def _enc(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query,code",
    [
        ("from=2026-13-01&to=2026-12-01", "validation_failed"),
        ("from=2026-11-02&to=2026-11-01", "validation_failed"),
        ("from=2026-01-01&to=2026-12-01", "validation_failed"),  # > 92 days
        ("store_ids=sh-zz", "validation_failed"),
        ("cursor=!!!", "bad_cursor"),
        ("sort=sideways", "validation_failed"),
        ("to=2026-11-01&cursor=" + _enc({"day": "2026-10-01", "at": {}}), "bad_cursor"),
        (
            "to=2026-11-01&cursor=" + _enc({"day": "2026-11-01", "at": {"sh-zz": None}}),
            "bad_cursor",
        ),
        (
            "to=2026-11-01&cursor=" + _enc({"day": "2026-11-01", "at": {"sh-a": "eyJ4Ijox"}}),
            "bad_cursor",
        ),
    ],
)
def test_hostile_input_is_refused(api, stores, tokens_, query, code):
    status, err = api.call("GET", f"/admin/orders?{query}", token=tokens_["hq"])
    assert status in (400, 422) and err["error"]["code"] == code, err


class _BothStoresAtOnce:
    """Wraps an index's query: the first two calls wait for each other (a Barrier), so
    they pass only when the stores' buckets are queried concurrently. Later calls (one
    store left) run straight through."""

    def __init__(self, query):
        import threading

        self.query, self.lock, self.calls = query, threading.Lock(), 0
        self.barrier = threading.Barrier(2, timeout=30)  # a hang guard, not a timing

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
            first_two = self.calls <= 2
        if first_two:
            self.barrier.wait()
        return self.query(*args, **kwargs)


def test_the_stores_are_queried_concurrently_keeping_the_merge(
    api, catalogue, tokens_, monkeypatch
):
    newest_first, day = _orders()
    both = _BothStoresAtOnce(OrderModel.by_store_day.query)
    monkeypatch.setattr(OrderModel.by_store_day, "query", both)
    q = f"/admin/orders?store_ids=sh-a,sh-b&from={day}&to={day}&limit=50"
    status, page = api.call("GET", q, token=tokens_["hq"])
    assert status == 200, page
    assert [x["order_id"] for x in page["items"]] == newest_first


def test_the_default_to_is_the_chains_business_day_not_the_utc_date(
    api, catalogue, tokens_, monkeypatch
):
    from datetime import UTC, date, datetime, time, timedelta

    from chalicelib.kernel import clock

    oid = place_paid([("110", 1)], "pickup", store_id="sh-a")
    local_day = date.fromisoformat(OrderModel.get(oid).store_day.split("#")[1])
    # 23:30 UTC the day before = 07:30 of the order's day in Shanghai
    moment = datetime.combine(local_day - timedelta(days=1), time(23, 30), tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)
    status, page = api.call("GET", "/admin/orders?limit=50", token=tokens_["hq"])
    assert status == 200, page
    assert [x["order_id"] for x in page["items"]] == [oid]
