"""GET /admin/dashboard: today's paid orders, GMV, refunds, printing and missed prints per
store and in total, with the trend of the last days; who may see which store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.kernel import clock
from chalicelib.orders.models import OrderModel

from tests.api.conftest import relay_token_for
from tests.api.test_orders_api import cart, place

# 12:00 in Shanghai: the business day is 2026-11-24 in both test stores.
T0 = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch):
    """Move the clock (clock.now and everything built on it) to T0 + ``seconds``."""

    def move(seconds: float = 0, days: int = 0) -> None:
        moment = T0 + timedelta(days=days, seconds=seconds)
        monkeypatch.setattr(clock, "now", lambda: moment)

    move()
    return move


def paid_order(api, tokens_, key, store="sh-a", items=(("100", 2), ("101", 1))):
    """Place and pay an order (delivery at sh-a, pickup at sh-b, which does not deliver to
    the test address); returns (order id, paid_fen, first job id)."""
    fulfilment = "delivery" if store == "sh-a" else "pickup"
    body = cart(*items, store_id=store, fulfilment=fulfilment)
    status, order = place(api, tokens_["customer"], body, key)
    assert status == 201, order
    status, ack = api.call(
        "POST", f"/local/payments/{order['order_id']}/complete", {}, tokens_["customer"]
    )
    assert status == 200 and ack["code"] == "SUCCESS", ack
    stored = OrderModel.get(order["order_id"])
    (job_id,) = stored.print_job_ids
    return order["order_id"], int(stored.paid_fen), job_id


def print_ticket(api, token, job_id):
    for copy in ("picking", "delivery"):
        status, body = api.call("POST", f"/relay/print-jobs/{job_id}/ack", {"copy": copy}, token)
        assert status == 200, body
    assert body["status"] == "printed"


@pytest.fixture
def day(api, catalogue, tokens_, at):
    """Yesterday one paid order at sh-a; today two paid and printed (after 4 s and 10 s)
    at sh-a, the second then cancelled and refunded, one unpaid; one paid at sh-b whose
    ticket failed at the relay (a missed print)."""
    at(days=-1)
    _, yesterday_fen, _ = paid_order(api, tokens_, "dash-key-y001")
    at()
    _, a1_fen, a1_job = paid_order(api, tokens_, "dash-key-a001")
    a2, a2_fen, a2_job = paid_order(api, tokens_, "dash-key-a002", items=(("102", 3),))
    status, _ = place(api, tokens_["customer"], cart(("103", 2)), "dash-key-a003")  # unpaid
    assert status == 201
    _, b1_fen, b1_job = paid_order(api, tokens_, "dash-key-b001", store="sh-b")
    at(seconds=4)
    print_ticket(api, tokens_["relay_a"], a1_job)
    at(seconds=10)
    print_ticket(api, tokens_["relay_a"], a2_job)
    status, cancelled = api.call(
        "POST", f"/orders/{a2}/cancel", {"reason": "顾客取消"}, tokens_["customer"]
    )
    assert status == 200 and cancelled["refunded_fen"] == a2_fen, cancelled
    status, _ = api.call(
        "POST",
        f"/relay/print-jobs/{b1_job}/failure",
        {"reason": "render_failed", "message": "boom", "receive_count": 5},
        relay_token_for("sh-b"),
    )
    assert status == 200
    return {"yesterday": yesterday_fen, "a1": a1_fen, "a2": a2_fen, "b1": b1_fen}


def dashboard(api, token, query=""):
    return api.call("GET", f"/admin/dashboard{query}", token=token)


def test_head_office_sees_every_store_and_the_totals(api, tokens_, day):
    status, body = dashboard(api, tokens_["hq"], "?days=3")
    assert status == 200, body
    assert (body["date"], body["days"]) == ("2026-11-24", 3)
    assert body["generated_at"] == "2026-11-24T04:00:10Z"
    a, b = body["stores"]
    gmv_a = day["a1"] + day["a2"]
    assert a == {
        "store_id": "sh-a",
        "name": "鲜到家 静安寺店",
        "date": "2026-11-24",
        "orders": 2,
        "gmv_fen": gmv_a,
        "average_order_fen": gmv_a // 2,
        "refunded_fen": day["a2"],
        "printed": 2,
        "print_latency_p50_s": 7.0,  # 4 s and 10 s
        "print_latency_p95_s": 9.7,
        "missed_prints": 0,
        "relay": {"healthy": False, "problems": ["relay_never_seen"]},
        "trend": [
            {"date": "2026-11-22", "orders": 0, "gmv_fen": 0},
            {"date": "2026-11-23", "orders": 1, "gmv_fen": day["yesterday"]},
            {"date": "2026-11-24", "orders": 2, "gmv_fen": gmv_a},
        ],
    }
    assert (b["store_id"], b["orders"], b["gmv_fen"], b["average_order_fen"]) == (
        "sh-b",
        1,
        day["b1"],
        day["b1"],
    )
    assert (b["refunded_fen"], b["printed"], b["missed_prints"]) == (0, 0, 1)
    assert b["print_latency_p50_s"] is None and b["print_latency_p95_s"] is None
    assert b["relay"] == {"healthy": False, "problems": ["relay_never_seen"]}
    gmv = gmv_a + day["b1"]
    assert body["totals"] == {
        "orders": 3,
        "gmv_fen": gmv,
        "average_order_fen": gmv // 3,
        "refunded_fen": day["a2"],
        "printed": 2,
        "print_latency_p50_s": 7.0,
        "print_latency_p95_s": 9.7,
        "missed_prints": 1,
    }
    assert body["trend"] == [
        {"date": "2026-11-22", "orders": 0, "gmv_fen": 0},
        {"date": "2026-11-23", "orders": 1, "gmv_fen": day["yesterday"]},
        {"date": "2026-11-24", "orders": 3, "gmv_fen": gmv},
    ]


def test_the_trend_is_seven_days_by_default_and_a_reprint_is_not_the_first_ticket(
    api, tokens_, day, at
):
    status, body = dashboard(api, tokens_["hq"], "?store_id=sh-b")
    assert status == 200 and [s["store_id"] for s in body["stores"]] == ["sh-b"]
    assert [t["date"] for t in body["trend"]] == [f"2026-11-{n}" for n in range(18, 25)]
    assert body["totals"]["orders"] == 1 and body["totals"]["missed_prints"] == 1
    # A reprint that prints does not make the order's first ticket printed.
    (b1,) = [o for o in OrderModel.by_store_day.query("sh-b#2026-11-24")]
    status, reprint = api.call("POST", f"/admin/orders/{b1.order_id}/reprint", {}, tokens_["hq"])
    assert status == 201
    at(seconds=30)
    print_ticket(api, relay_token_for("sh-b", "relay-sh-b-2"), reprint["job_id"])
    status, body = dashboard(api, tokens_["hq"], "?store_id=sh-b")
    assert body["stores"][0]["printed"] == 0


def test_the_business_day_follows_the_stores_time_zone(api, tokens_, day, at):
    at(seconds=14 * 3600)  # 18:00 UTC: 02:00 on the 25th in Shanghai, a new business day
    status, body = dashboard(api, tokens_["hq"], "?days=2")
    assert body["date"] == "2026-11-25"
    assert body["totals"]["orders"] == 0 and body["totals"]["missed_prints"] == 1
    assert body["trend"][0] == {
        "date": "2026-11-24",
        "orders": 3,
        "gmv_fen": day["a1"] + day["a2"] + day["b1"],
    }
    london = {"timezone": "Europe/London"}
    status, _ = api.call("PATCH", "/admin/stores/sh-b", london, tokens_["hq"])
    assert status == 200
    status, body = dashboard(api, tokens_["hq"], "?days=2")
    a, b = body["stores"]
    assert (a["date"], b["date"], body["date"]) == ("2026-11-25", "2026-11-24", "2026-11-25")
    # sh-b's own today (the 24th in London) is its last trend entry and counts in totals.
    assert (b["orders"], b["trend"][-1]["date"], b["trend"][-1]["orders"]) == (1, "2026-11-24", 1)
    assert body["totals"]["orders"] == 1 and body["trend"][-1]["orders"] == 1


def test_store_accounts_see_their_own_store_only(api, tokens_, day):
    status, body = dashboard(api, tokens_["staff_a"])
    assert status == 200 and [s["store_id"] for s in body["stores"]] == ["sh-a"]
    assert body["totals"]["orders"] == 2 and body["totals"]["missed_prints"] == 0
    status, body = dashboard(api, tokens_["manager_a"], "?store_id=sh-a")
    assert status == 200 and [s["store_id"] for s in body["stores"]] == ["sh-a"]
    status, body = dashboard(api, tokens_["manager_b"])
    assert [s["store_id"] for s in body["stores"]] == ["sh-b"]
    for who in ("staff_a", "manager_a"):
        status, body = dashboard(api, tokens_[who], "?store_id=sh-b")
        assert status == 403 and body["error"]["code"] == "other_store"
    for who in ("customer", "relay_a"):
        status, body = dashboard(api, tokens_[who])
        assert status == 403 and body["error"]["code"] == "role_not_allowed"
    assert api.call("GET", "/admin/dashboard")[0] == 401


def test_bad_queries_are_refused(api, tokens_, stores):
    for query, field in (("?days=0", "days"), ("?days=32", "days"), ("?days=x", "days")):
        status, body = dashboard(api, tokens_["hq"], query)
        assert status == 422 and body["error"]["details"][0]["field"] == field
    status, body = dashboard(api, tokens_["hq"], "?store_id=sh-nowhere")
    assert status == 404 and body["error"]["code"] == "store_not_found"
    status, body = dashboard(api, tokens_["hq"], "?store_id=Bad_Id")
    assert status == 422


def test_an_empty_chain_has_an_empty_dashboard(api, tokens_, aws, at):
    status, body = dashboard(api, tokens_["hq"], "?days=1")
    assert status == 200
    assert body["stores"] == [] and body["date"] == "2026-11-24"
    assert body["totals"]["orders"] == 0 and body["totals"]["print_latency_p50_s"] is None
    assert body["trend"] == [{"date": "2026-11-24", "orders": 0, "gmv_fen": 0}]


def test_one_store_costs_one_query_per_day_a_count_and_batch_reads(api, tokens_, day, monkeypatch):
    import botocore.client

    dashboard(api, tokens_["hq"], "?store_id=sh-a&days=1")  # the authorizer's account read
    calls: list[tuple[str, dict]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append((operation_name, api_params))
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    status, _ = dashboard(api, tokens_["hq"], "?store_id=sh-a&days=5")
    assert status == 200
    names = [c[0] for c in calls]
    assert "Scan" not in names and set(names) <= {"GetItem", "Query", "BatchGetItem"}
    queries = [p for op, p in calls if op == "Query"]
    by_day = [p for p in queries if p.get("IndexName") == "by_store_day"]
    assert len(by_day) == 5 and all("ProjectionExpression" in p for p in by_day)
    counts = [p for p in queries if p.get("Select") == "COUNT"]
    assert len(counts) == 1 and counts[0]["IndexName"] == "by_store_status"
    assert len(queries) == 5 + 1 + 1  # days, missed count, the store's relays
    batches = [p for op, p in calls if op == "BatchGetItem"]
    assert len(batches) == 2  # the store's relay records; today's first tickets
    (tickets,) = [b for b in batches if "daojia-test-print_jobs" in b["RequestItems"]]
    assert len(tickets["RequestItems"]["daojia-test-print_jobs"]["Keys"]) == 2
    assert names.count("GetItem") == 1  # the store
