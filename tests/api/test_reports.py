"""Daily rollups (reports/) and GET /admin/reports/sales: rolled up from the by_store_day
index and the lines the order.paid events carried; cancelled orders are not sales,
refunds subtract, a redelivered event counts nothing twice; who may see which store; the
range limit and the previous period."""

from __future__ import annotations

from datetime import date

import pytest
from chalicelib.coupons import service as coupon_service
from chalicelib.events import dispatch
from chalicelib.events.registry import loaded
from chalicelib.events.types import OrderLine, OrderPaid
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel
from chalicelib.reports import service
from chalicelib.reports.models import ReportDayModel, ReportOrderModel

from tests.api.test_dashboard import at, paid_order, print_ticket  # noqa: F401
from tests.api.test_orders_api import cart, place
from tests.event_steps import deliver_events

DAY = "2026-11-24"


@pytest.fixture(autouse=True)
def fresh_gift_cache():
    """Redeliveries run the (idempotent) gift subscriber again: it must not see templates
    cached by an earlier test's tables."""
    coupon_service.forget_auto_cache()
    yield
    coupon_service.forget_auto_cache()


@pytest.fixture
def sales(api, catalogue, tokens_, at):  # noqa: F811
    """Yesterday one paid order at sh-a; today at sh-a two paid (printed after 4 s and
    10 s), the second then cancelled, one unpaid; one paid at sh-b; events delivered and
    both days rolled up."""
    at(days=-1)
    _, yesterday_fen, _ = paid_order(api, tokens_, "rep-key-y001")
    at()
    a1, a1_fen, a1_job = paid_order(api, tokens_, "rep-key-a001")
    a2, a2_fen, a2_job = paid_order(api, tokens_, "rep-key-a002", items=(("102", 3),))
    assert place(api, tokens_["customer"], cart(("103", 2)), "rep-key-a003")[0] == 201
    _, b1_fen, _ = paid_order(api, tokens_, "rep-key-b001", store="sh-b")
    at(seconds=4)
    print_ticket(api, tokens_["relay_a"], a1_job)
    at(seconds=10)
    print_ticket(api, tokens_["relay_a"], a2_job)
    status, body = api.call(
        "POST", f"/orders/{a2}/cancel", {"reason": "顾客取消"}, tokens_["customer"]
    )
    assert status == 200, body
    deliver_events()
    assert service.backfill(None, date(2026, 11, 23), date(2026, 11, 24)) == 4
    return {"yesterday": yesterday_fen, "a1": a1_fen, "a1_id": a1, "a2": a2_fen, "b1": b1_fen}


def report(api, token, query=""):
    return api.call("GET", f"/admin/reports/sales{query}", token=token)


def test_a_day_counts_paid_orders_and_not_cancelled_ones(api, tokens_, sales):
    item = ReportDayModel.get("sh-a", DAY)
    assert (item.orders, item.paid_fen, item.cancelled) == (1, sales["a1"], 1)
    assert (item.refunded_fen, item.refund_orders) == (0, 0)  # the cancel's refund is no sale's
    assert (item.printed, item.missed) == (2, 0)
    cats = service.from_item(item).categories
    assert sum(fen for fen, _ in cats.values()) == sales["a1"] - _delivery_fee(sales["a1_id"])
    assert sum(units for _, units in cats.values()) == 3  # two of 100, one of 101
    assert ReportDayModel.get("sh-a", "2026-11-23").paid_fen == sales["yesterday"]


def _delivery_fee(order_id: str) -> int:
    order = order_flow.get(order_id)
    return int(order.paid_fen) - sum(int(ln.paid_fen) for ln in order.lines)


def test_a_redelivered_event_counts_nothing_twice(api, tokens_, sales):
    before = ReportDayModel.get("sh-a", DAY)
    row = ReportOrderModel.get(sales["a1_id"])
    # A redelivery of order.paid runs the subscriber again (no done marker: idempotent).
    order = order_flow.get(sales["a1_id"])
    event = OrderPaid(
        event_id=f"order.paid:{order.order_id}",
        occurred_at=order.paid_at,
        order_id=order.order_id,
        customer_id=order.customer_id,
        store_id="sh-a",
        fulfilment="delivery",
        paid_fen=int(order.paid_fen),
        payment_id=None,
        lines=[
            OrderLine(sku=ln.sku, qty=int(ln.qty), paid_fen=int(ln.paid_fen)) for ln in order.lines
        ],
    )
    from chalicelib.events.models import DeliveryModel

    # reports.paid_lines is idempotent: it left no done marker, every redelivery runs it.
    assert DeliveryModel.count() == 0
    assert dispatch.deliver(event, loaded()) == 3  # the gift, the lines, the home store again
    assert deliver_events() >= 1  # the streams again: they run again
    assert ReportOrderModel.get(sales["a1_id"]).lines == row.lines
    service.rollup_day("sh-a", DAY)
    after = ReportDayModel.get("sh-a", DAY)
    assert (after.orders, after.paid_fen, after.cats, after.top) == (
        before.orders,
        before.paid_fen,
        before.cats,
        before.top,
    )


def test_refunds_subtract_in_the_refund_rate(api, tokens_, sales):
    # A partial refund on a1, as a store shortage would make it.
    OrderModel.get(sales["a1_id"]).update(actions=[OrderModel.refunded_fen.set(500)])
    service.rollup_day("sh-a", DAY)
    status, body = report(api, tokens_["hq"], f"?from={DAY}&to={DAY}&store_id=sh-a")
    assert status == 200, body
    (point,) = body["days"]
    assert (point["orders"], point["paid_fen"], point["refunded_fen"]) == (1, sales["a1"], 500)
    assert point["refund_orders"] == 1
    assert point["refund_rate"] == round(500 / sales["a1"], 4)


def test_head_office_sees_every_store_with_the_previous_period(api, tokens_, sales):
    status, body = report(api, tokens_["hq"], f"?from={DAY}&to={DAY}&compare=previous")
    assert status == 200, body
    assert body["store_ids"] == ["sh-a", "sh-b"]
    (point,) = body["days"]
    paid = sales["a1"] + sales["b1"]
    assert (point["date"], point["orders"], point["paid_fen"], point["aov_fen"]) == (
        DAY,
        2,
        paid,
        paid // 2,
    )
    assert point["missed_prints"] == 0 and point["printed"] == 2
    assert point["print_latency_p50_s"] is not None
    prev = body["previous"]
    assert (prev["from"], prev["to"]) == ("2026-11-23", "2026-11-23")
    assert prev["days"][0]["paid_fen"] == sales["yesterday"]
    assert [s["store_id"] for s in body["by_store"]] == ["sh-a", "sh-b"]
    assert body["by_store"][1]["totals"]["paid_fen"] == sales["b1"]
    assert {p["sku"] for p in body["top_products"]} >= {"100", "101"}
    assert body["by_category"] and all(c["units"] > 0 for c in body["by_category"])


def test_who_may_see_which_store(api, tokens_, sales):
    status, body = report(api, tokens_["manager_a"], f"?from={DAY}&to={DAY}")
    assert status == 200 and body["store_ids"] == ["sh-a"]
    assert body["totals"]["paid_fen"] == sales["a1"]
    status, body = report(api, tokens_["manager_a"], "?store_id=sh-b")
    assert status == 403 and body["error"]["code"] == "other_store"
    status, body = report(api, tokens_["hq"], f"?from={DAY}&to={DAY}&store_id=sh-b")
    assert body["store_ids"] == ["sh-b"] and body["totals"]["paid_fen"] == sales["b1"]
    for who in ("staff_a", "customer", "relay_a"):
        status, body = report(api, tokens_[who])
        assert status == 403 and body["error"]["code"] == "role_not_allowed", who
    assert report(api, None)[0] == 401


def test_a_range_is_at_most_a_year(api, tokens_, stores, at):  # noqa: F811
    status, body = report(api, tokens_["hq"], "?from=2025-11-24&to=2026-11-24")
    assert status == 200 and len(body["days"]) == 366
    status, body = report(api, tokens_["hq"], "?from=2025-11-23&to=2026-11-24")
    assert status == 400 and body["error"]["code"] == "range_too_long"
    assert body["error"]["details"] == {"days": 367, "max_days": 366}
    status, body = report(api, tokens_["hq"], "?from=2026-11-25&to=2026-11-24")
    assert status == 400 and body["error"]["code"] == "bad_range"
    status, body = report(api, tokens_["hq"], "?from=yesterday")
    assert status == 400 and body["error"]["code"] == "bad_date"
    status, body = report(api, tokens_["hq"])  # default: the 30 days ending today
    assert (body["from"], body["to"], len(body["days"])) == ("2026-10-26", DAY, 30)


def test_concurrent_redeliveries_and_rollups_agree_with_one_run(api, tokens_, sales):
    """The job and a backfill rolling up the same day while order.paid is delivered again
    (its markers lost) all land on the figures of a single run: nothing is added up."""
    import threading

    # reports.paid_lines writes no done marker (idempotent): every delivery runs it.
    once = service.from_item(ReportDayModel.get("sh-a", DAY))
    start = threading.Barrier(4)

    def run(work):
        start.wait()
        work()

    works = [
        deliver_events,
        deliver_events,
        lambda: service.rollup_day("sh-a", DAY),
        lambda: service.backfill(["sh-a"], date(2026, 11, 24), date(2026, 11, 24)),
    ]
    threads = [threading.Thread(target=run, args=(w,)) for w in works]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    service.rollup_day("sh-a", DAY)
    assert service.from_item(ReportDayModel.get("sh-a", DAY)) == once


def test_a_day_keeps_what_a_campaign_review_reads(api, tokens_, sales):
    """Placed orders (paid or not), new members by home store and local day, and the
    sales' discounts by source (from order.paid ``discounts``, in the lines' write)."""
    from chalicelib.identity.models import CustomerModel

    # local day 2026-11-24 (Asia/Shanghai) is 2026-11-23T16:00:00Z .. 2026-11-24T16:00:00Z
    for cid, home, at_ in (
        ("m-1", "sh-a", "2026-11-23T16:00:00Z"),  # local midnight: in
        ("m-2", "sh-a", "2026-11-24T15:59:59.500Z"),  # the last half second: in
        ("m-3", "sh-a", "2026-11-23T15:59:59Z"),  # the day before
        ("m-4", "sh-a", "2026-11-24T16:00:00Z"),  # the day after
        ("m-5", "sh-b", "2026-11-24T02:00:00Z"),  # another store
    ):
        CustomerModel(cid, phone=f"1380000{cid[-1]}", created_at=at_, home_store_id=home).save()
    order = order_flow.get(sales["a1_id"])
    paid = OrderPaid(
        event_id=f"order.paid:{order.order_id}",
        occurred_at=order.paid_at,
        order_id=order.order_id,
        customer_id=order.customer_id,
        store_id="sh-a",
        fulfilment="delivery",
        paid_fen=int(order.paid_fen),
        payment_id=None,
        lines=[],
        discounts={"p:P-1": 200, "t:T-1": 300},
    )
    service.record_paid(paid)
    service.record_paid(paid)  # a redelivery sets the same value
    f = service.rollup_day("sh-a", DAY)
    assert f.placed == 3  # a1 paid, a2 paid then cancelled, a3 unpaid
    assert f.new_members == 2
    assert f.disc == {"p:P-1": [1, 200], "t:T-1": [1, 300]}
    assert service.from_item(ReportDayModel.get("sh-a", DAY)) == f
