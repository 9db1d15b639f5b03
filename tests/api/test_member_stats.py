"""Members' aggregates (issue 15 item 1) through the real streams and the route: an order
counts when completed, on what it kept; a return after completion subtracts; redelivered
events change nothing; two events of one member at once both count."""

from __future__ import annotations

import threading

import pytest
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.customers import aggregates
from chalicelib.customers.models import MemberStatsModel
from chalicelib.events.types import OrderCompleted, OrderLine
from chalicelib.orders.models import OrderModel

from tests.event_steps import deliver_events
from tests.order_steps import complete, open_return, pick, place_paid, set_fresh

PHONE = "13900000042"


@pytest.fixture
def member(catalogue):
    from chalicelib.identity.service import register_customer

    m, _ = register_customer(PHONE, home_store_id="sh-a")
    return m.customer_id


def goods_kept(order_id: str) -> int:
    from chalicelib.orders import order_flow

    lines = order_flow.get(order_id).lines
    return sum(int(x.paid_fen) - int(x.refunded_fen or 0) for x in lines)


def stats(api, tokens_, customer_id, who="hq"):
    return api.call("GET", f"/admin/members/{customer_id}/stats", token=tokens_[who])


def test_a_completed_order_counts_on_what_it_kept_and_a_later_return_subtracts(
    api, tokens_, member
):
    me = Principal(member, CUSTOMER)
    set_fresh(["100"], True)  # 100 is 水果, 102 蔬菜 (the catalogue fixture)
    order_id = place_paid([("100", 2), ("102", 1)], customer=me)
    pick(order_id, picked={"100": 2, "102": 0})  # a shortage: refunded before completion
    complete(order_id, customer=me)
    deliver_events()
    order = OrderModel.get(order_id)
    kept = int(order.paid_fen) - int(order.refunded_fen)
    assert int(order.refunded_fen) > 0

    status, body = stats(api, tokens_, member)
    assert status == 200, body
    assert (body["orders"], body["spend_fen"], body["average_order_fen"]) == (1, kept, kept)
    assert body["favourite_store_id"] == "sh-a" and body["store_orders"] == {"sh-a": 1}
    # goods by category (the delivery fee is in the spend, in no category); 蔬菜 all
    # refunded before completion: not shown
    assert body["categories"] == [{"category1": "水果", "spend_fen": goods_kept(order_id)}]
    assert body["fresh_orders_last_30_days"] == 1 and body["orders_last_30_days"] == 1
    assert body["days_since_last_order"] == 0 and body["months_since_registered"] == 0
    assert body["first_order_date"] == body["last_order_date"]

    open_return(order_id, {"100": 1}, who=me)  # fresh: refunded at once
    deliver_events()  # every record again: the completion's redelivery counts nothing
    deliver_events()
    order = OrderModel.get(order_id)
    status, body = stats(api, tokens_, member)
    assert int(order.paid_fen) - int(order.refunded_fen) < kept  # the return refunded
    assert (body["orders"], body["spend_fen"]) == (1, order.paid_fen - order.refunded_fen)
    assert body["categories"] == [{"category1": "水果", "spend_fen": goods_kept(order_id)}]
    assert body["fresh_orders_last_30_days"] == 1  # one fresh unit kept
    item = MemberStatsModel.get(member)
    assert (item.favourite_store, item.last_month) == ("sh-a", body["last_order_date"][:7])


def test_who_may_read_a_members_stats(api, tokens_, member):
    assert stats(api, tokens_, member, "manager_a")[0] == 200  # the member's home store
    status, err = stats(api, tokens_, member, "manager_b")
    assert status == 403 and err["error"]["code"] == "other_store"
    status, err = stats(api, tokens_, member, "staff_a")
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    status, err = stats(api, tokens_, member, "customer")
    assert status == 403
    status, err = stats(api, tokens_, "c-nobody")
    assert status == 404 and err["error"]["code"] == "member_not_found"
    status, body = stats(api, tokens_, member)  # no order yet: zeros, no division by zero
    assert (body["orders"], body["average_order_fen"], body["last_order_date"]) == (0, 0, None)


def completion(order_id: str, customer_id: str, at: str) -> OrderCompleted:
    return OrderCompleted(
        event_id=f"order.completed:{order_id}",
        occurred_at=at,
        order_id=order_id,
        customer_id=customer_id,
        store_id="sh-b",
        paid_fen=1000,
        refunded_fen=0,
        lines=[OrderLine(sku="100", qty=1, paid_fen=1000, category1="水果")],
    )


def test_two_completions_of_one_member_at_once_both_count(aws, monkeypatch):
    """Both read the item before either writes: the second write fails its version
    condition and is applied again on what the first wrote."""
    both_read = threading.Barrier(2)
    real_load = aggregates.load
    first = threading.local()

    def load(customer_id, consistent=True):
        item = real_load(customer_id, consistent)
        if not getattr(first, "done", False):
            first.done = True
            both_read.wait(timeout=10)
        return item

    monkeypatch.setattr(aggregates, "load", load)
    events = [
        completion("O1", "c-9", "2026-11-24T02:00:00Z"),
        completion("O2", "c-9", "2026-11-25T02:00:00Z"),
    ]
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda e=e: results.append(aggregates.on_completed(e)))
        for e in events
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True, True]
    item = MemberStatsModel.get("c-9")
    assert (item.orders, item.spend_fen, item.version) == (2, 2000, 2)
    assert (item.first_date, item.last_date, item.last_month) == (
        "2026-11-24",
        "2026-11-25",
        "2026-11",
    )
    monkeypatch.setattr(aggregates, "load", real_load)
    assert not aggregates.on_completed(events[0])  # a redelivery: nothing more
    assert MemberStatsModel.get("c-9").version == 2


def test_a_store_s_members_by_last_order_month(aws):
    """The recall list's index: favourite store, last-order month."""
    aggregates.on_completed(completion("O1", "c-7", "2026-08-24T02:00:00Z"))
    aggregates.on_completed(completion("O2", "c-8", "2026-11-24T02:00:00Z"))
    lapsed = MemberStatsModel.by_store_month.query("sh-b", MemberStatsModel.last_month < "2026-09")
    assert [m.customer_id for m in lapsed] == ["c-7"]


def test_a_stale_first_read_is_read_again_strongly_before_a_refund_waits(aws, monkeypatch):
    """The first read is eventually consistent: a completion counted a moment ago may
    not show in it. The refund reads again strongly instead of failing for a retry."""
    from chalicelib.events.types import RefundSucceeded

    aggregates.on_completed(completion("O1", "c-6", "2026-11-24T02:00:00Z"))
    real_load = aggregates.load
    monkeypatch.setattr(
        aggregates, "load", lambda c, consistent=True: real_load(c) if consistent else None
    )
    view = aggregates.OrderView(
        customer_id="c-6",
        status="completed",
        completed_at="2026-11-24T02:00:00Z",
        refunded_fen=400,
        lines=[aggregates.rules.Line("水果", False, 1, 1000, 0, 400)],
    )
    refund = RefundSucceeded(
        event_id="refund.succeeded:r1",
        occurred_at="2026-11-25T02:00:00Z",
        refund_id="r1",
        order_id="O1",
        reason="return",
        amount_fen=400,
        delivery_fee_fen=0,
        lines=[],
        completes_order=False,
    )
    assert aggregates.on_refund(refund, read=lambda _: view)
    assert MemberStatsModel.get("c-6").spend_fen == 600
