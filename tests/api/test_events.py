"""Domain events end to end on in-process moto: the payment commits, the orders stream
carries the change, the dispatcher delivers order.paid to its subscribers. Duplicates
give one effect; a failing subscriber is retried, then parked where head office sees it,
without holding up the others."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from chalicelib.coupons import service as coupon_service
from chalicelib.coupons.models import CouponModel
from chalicelib.events import dispatch
from chalicelib.events import registry as reg
from chalicelib.events import types as t
from chalicelib.events.models import DeliveryModel
from chalicelib.kernel import clock
from chalicelib.reports.models import ReportOrderModel

from tests.api.test_checkout import after_payment_gift, gift_of, pay
from tests.api.test_orders_api import cart, place
from tests.event_steps import deliver_events, events_in, stream_records

LATER = int(time.time()) + 10**7  # every retry is due


@pytest.fixture(autouse=True)
def fresh_caches():
    coupon_service.forget_auto_cache()
    reg.loaded()  # the real subscribers registered before any test swaps the registry


def paid_order(api, tokens_, key="key-ev-0001"):
    status, order = place(api, tokens_["customer"], cart(("100", 3)), key)
    assert status == 201, order
    pay(api, tokens_, order["order_id"])
    return order["order_id"]


def gifts(customer="c-1"):
    return [c.coupon_id for c in CouponModel.by_customer.query(customer)]


def test_the_gift_arrives_through_order_paid_not_on_the_payment_path(api, catalogue, tokens_):
    t_ = after_payment_gift(api, tokens_)
    order_id = paid_order(api, tokens_)
    assert gifts() == []  # the payment notification issued nothing itself
    assert deliver_events() >= 1
    assert gifts() == [gift_of(t_, order_id)]


def test_a_duplicate_delivery_of_order_paid_gives_one_coupon(api, catalogue, tokens_):
    t_ = after_payment_gift(api, tokens_)
    order_id = paid_order(api, tokens_)
    records = stream_records("orders")
    # order.paid's subscribers: the gift, the reports' lines and the member's home store
    # (and coupons.mark_used, for orders with coupons)
    assert dispatch.handle_stream_records("orders", records) == 3
    # Both are idempotent: no done marker was written (a write per event saved) ...
    assert DeliveryModel.count() == 0
    lines = ReportOrderModel.get(order_id).lines
    assert lines and lines.startswith("100:3:")
    # ... so the batch again (a stream retry), the whole stream again, the event itself
    # again run them again, with no second effect.
    assert dispatch.handle_stream_records("orders", records) == 3
    assert deliver_events() == 3
    (paid,) = events_in("orders", records)
    assert [(x.sku, x.qty) for x in paid.lines] == [("100", 3)]  # from the order's detail
    assert dispatch.deliver(paid, reg.loaded()) == 3
    assert gifts() == [gift_of(t_, order_id)]
    assert CouponModel.get(gift_of(t_, order_id)).state == "available"
    assert ReportOrderModel.get(order_id).lines == lines
    assert DeliveryModel.count() == 0


def test_two_deliveries_of_one_event_at_once_give_one_coupon(api, catalogue, tokens_):
    t_ = after_payment_gift(api, tokens_)
    order_id = paid_order(api, tokens_)
    records = stream_records("orders")
    start = threading.Barrier(2)

    def run():
        start.wait()
        dispatch.handle_stream_records("orders", records)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert gifts() == [gift_of(t_, order_id)]


# --- failures, retries, parking -----------------------------------------------------------


def paid_event(n: int) -> t.OrderPaid:
    return t.OrderPaid(
        event_id=f"order.paid:O{n}",
        occurred_at="2026-11-24T02:30:00Z",
        order_id=f"O{n}",
        customer_id="c-1",
        store_id="sh-a",
        fulfilment="pickup",
        paid_fen=100,
        payment_id=None,
        lines=[],
    )


@pytest.fixture(params=[False, True], ids=["marked", "idempotent"])
def flaky(monkeypatch, request):
    """A registry of two subscribers of order.paid: one that fails while ``broken`` is
    set (declared idempotent or not: failures are handled alike), one that records what
    it saw (not idempotent: it keeps its done marker)."""
    registry = reg.Registry()
    state = {"broken": True, "flaky_calls": 0, "seen": []}

    def fails(event):
        state["flaky_calls"] += 1
        if state["broken"]:
            raise RuntimeError("points service unavailable")

    registry.add(t.OrderPaid, "test.flaky", fails, idempotent=request.param)
    registry.add(t.OrderPaid, "test.recorder", lambda e: state["seen"].append(e.event_id))
    monkeypatch.setattr(reg, "REGISTRY", registry)
    return state


def marker(event_id, name="test.flaky"):
    return DeliveryModel.get(dispatch.delivery_id(event_id, name), consistent_read=True)


def test_a_failing_subscriber_is_retried_then_parked_and_never_holds_up_the_others(
    api, tokens_, flaky
):
    registry = reg.loaded()
    assert dispatch.deliver(paid_event(1), registry) == 1  # the recorder ran
    assert dispatch.deliver(paid_event(2), registry) == 1  # the next event too
    assert flaky["seen"] == ["order.paid:O1", "order.paid:O2"]
    assert marker("order.paid:O1", "test.recorder").status == "done"
    first = marker("order.paid:O1")
    assert (first.status, first.attempts, first.retry) == ("failed", 1, "due")
    assert "points service unavailable" in first.last_error

    assert dispatch.retry_due(now=int(time.time())) == 0  # not due yet: nothing tried
    assert flaky["flaky_calls"] == 2
    for attempt in range(2, 6):
        assert dispatch.retry_due(now=LATER) == 0
        assert marker("order.paid:O1").attempts == attempt
    parked = marker("order.paid:O1")
    assert (parked.status, parked.parked, parked.retry) == ("parked", "parked", None)
    assert flaky["flaky_calls"] == 10  # 5 attempts of each event, then no more
    assert dispatch.retry_due(now=LATER) == 0 and flaky["flaky_calls"] == 10
    # A redelivery of the event does not run the parked subscriber, nor the recorder again.
    assert dispatch.deliver(paid_event(1), registry) == 0
    assert flaky["seen"] == ["order.paid:O1", "order.paid:O2"]

    status, page = api.call("GET", "/admin/events/parked", token=tokens_["hq"])
    assert status == 200
    assert [(i["event_id"], i["subscriber"], i["attempts"]) for i in page["items"]] == [
        ("order.paid:O1", "test.flaky", 5),
        ("order.paid:O2", "test.flaky", 5),
    ]
    item = page["items"][0]
    assert "points service unavailable" in item["last_error"]
    assert item["event"]["type"] == "order.paid" and item["event"]["order_id"] == "O1"

    # Head office retries: still failing stays parked with one more attempt; fixed, done.
    path = f"/admin/events/parked/{item['delivery_id']}/retry"
    status, again = api.call("POST", path, token=tokens_["hq"])
    assert (status, again["status"], again["attempts"]) == (200, "parked", 6)
    flaky["broken"] = False
    status, done = api.call("POST", path, token=tokens_["hq"])
    assert (status, done["status"]) == (200, "done")
    status, page = api.call("GET", "/admin/events/parked", token=tokens_["hq"])
    assert [i["event_id"] for i in page["items"]] == ["order.paid:O2"]
    assert api.call("POST", path, token=tokens_["hq"])[1]["status"] == "done"  # idempotent


def test_a_retry_that_succeeds_marks_the_delivery_done(aws, flaky):
    registry = reg.loaded()
    dispatch.deliver(paid_event(3), registry)
    flaky["broken"] = False
    assert dispatch.retry_due(now=LATER) == 1
    done = marker("order.paid:O3")
    assert (done.status, done.retry, done.parked, done.event) == ("done", None, None, None)
    assert dispatch.retry_due(now=LATER) == 0 and flaky["flaky_calls"] == 2


def test_the_parked_routes_are_head_office_only(api, tokens_):
    for who in ("customer", "staff_a", "manager_a", "relay_a"):
        status, err = api.call("GET", "/admin/events/parked", token=tokens_[who])
        assert status == 403, (who, err)
        status, err = api.call("POST", "/admin/events/parked/x/retry", token=tokens_[who])
        assert status == 403, (who, err)
    status, err = api.call("POST", "/admin/events/parked/nope/retry", token=tokens_["hq"])
    assert (status, err["error"]["code"]) == (404, "delivery_not_found")


def test_a_delivery_still_being_retried_cannot_be_retried_by_hand(api, tokens_, flaky):
    dispatch.deliver(paid_event(4), reg.loaded())
    delivery = dispatch.delivery_id("order.paid:O4", "test.flaky")
    status, err = api.call("POST", f"/admin/events/parked/{delivery}/retry", token=tokens_["hq"])
    assert (status, err["error"]["code"]) == (409, "delivery_not_parked")


def test_a_record_that_cannot_be_read_is_parked_not_dropped(aws, flaky):
    broken = {
        "eventID": "bad-1",
        "eventName": "MODIFY",
        "dynamodb": {
            "NewImage": {"status": {"S": "paid"}},
            "OldImage": {"status": {"S": "awaiting_payment"}},
        },
    }
    assert dispatch.handle_stream_records("orders", [broken]) == 0
    items, _ = dispatch.list_parked()
    assert [(i.event_type, i.subscriber) for i in items] == [("unreadable", dispatch.UNREADABLE)]
    assert "order_id" in items[0].last_error


def test_events_from_a_whole_order_life_validate_against_the_committed_schema(
    api, catalogue, tokens_
):
    import json
    from pathlib import Path

    import jsonschema

    from tests.order_steps import STAFF_A
    from tests.order_steps import pick as pick_order

    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "docs/schemas/events.v1.json").read_text()
    )
    validator = jsonschema.Draft202012Validator(schema)
    _, order = place(api, tokens_["customer"], cart(("100", 3), ("101", 1)), "key-ev-life")
    pay(api, tokens_, order["order_id"])
    pick_order(order["order_id"], {"100": 2}, staff=STAFF_A)  # a shortage: a refund
    _, unpaid = place(api, tokens_["customer"], cart(("102", 3)), "key-ev-life2")
    api.call("POST", f"/orders/{unpaid['order_id']}/cancel", {}, tokens_["customer"])
    from chalicelib.identity.service import register_customer

    register_customer("13700000002", source="store:sh-a")
    seen = []
    for table in ("orders", "refunds", "customers"):
        for event in events_in(table, stream_records(table)):
            validator.validate(json.loads(t.encode(event)))
            seen.append(event)
    assert {"order.paid", "order.cancelled", "refund.succeeded", "member.registered"} <= {
        e.type for e in seen
    }
    (refund,) = [e for e in seen if isinstance(e, t.RefundSucceeded)]
    assert (refund.reason, [(x.sku, x.units) for x in refund.lines]) == ("shortage", [("100", 1)])


def test_a_subscriber_is_not_called_and_leaves_no_marker_for_events_it_does_not_concern(
    api, tokens_, monkeypatch
):
    registry = reg.Registry()
    seen: list[str] = []
    registry.add(
        t.OrderPaid,
        "test.odd_only",
        lambda e: seen.append(e.order_id),
        when=lambda e: e.order_id.endswith("1"),
    )
    assert dispatch.deliver(paid_event(2), registry) == 0
    assert dispatch.deliver(paid_event(1), registry) == 1
    assert seen == ["O1"]
    assert DeliveryModel.count() == 1
    assert marker("order.paid:O1", "test.odd_only").status == "done"


def test_paid_and_completed_events_carry_the_lines_read_from_the_order_detail(api, catalogue):
    """The orders stream has no lines since the split: the handler reads the batch's
    order details (one BatchGetItem) and the events carry the lines as before."""
    from tests.order_steps import completed_order

    order_id = completed_order([("100", 3), ("101", 1)], picked={"100": 2})
    registry = reg.Registry()
    seen: list[t.Event] = []
    registry.add(t.OrderPaid, "test.paid", seen.append)
    registry.add(t.OrderCompleted, "test.completed", seen.append)
    assert deliver_events(registry) == 2
    paid, completed = sorted(seen, key=lambda e: e.type != "order.paid")
    assert [(x.sku, x.qty, x.refunded_units) for x in paid.lines] == [("100", 3, 0), ("101", 1, 0)]
    # At completion, the shortage's refund is in the detail's line accounting.
    assert [(x.sku, x.qty, x.refunded_units) for x in completed.lines] == [
        ("100", 3, 1),
        ("101", 1, 0),
    ]
    assert completed.refunded_fen == completed.lines[0].refunded_fen > 0
    assert completed.order_id == order_id


def test_an_idempotent_subscriber_writes_no_done_marker_and_runs_again_on_redelivery(
    aws, monkeypatch
):
    registry = reg.Registry()
    runs: list[str] = []
    registry.add(t.OrderPaid, "test.idempotent", lambda e: runs.append("idem"), idempotent=True)
    registry.add(t.OrderPaid, "test.marked", lambda e: runs.append("marked"))
    assert dispatch.deliver(paid_event(5), registry) == 2
    assert marker("order.paid:O5", "test.marked").status == "done"
    assert DeliveryModel.count() == 1  # the idempotent one left none
    assert dispatch.deliver(paid_event(5), registry) == 1  # the redelivery
    assert runs == ["idem", "marked", "idem"]
    assert DeliveryModel.count() == 1


def test_a_failed_idempotent_subscriber_is_skipped_on_redelivery_while_retried(aws, flaky):
    """The failed marker is still read: the retry job owns the delivery, a redelivery of
    the event does not run it (nor twice at once with the retry)."""
    registry = reg.loaded()
    dispatch.deliver(paid_event(6), registry)
    assert dispatch.deliver(paid_event(6), registry) == 0
    assert flaky["flaky_calls"] == 1


def test_a_redelivered_order_paid_earns_no_gift_from_a_template_created_since(
    api, catalogue, tokens_, monkeypatch
):
    """Subscribers run again on a redelivery (no done marker): a gift template created
    after the payment is not for that payment."""
    paid_order(api, tokens_)
    records = stream_records("orders")
    dispatch.handle_stream_records("orders", records)
    assert gifts() == []
    later = clock.now() + timedelta(seconds=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    t_ = after_payment_gift(api, tokens_)  # created after the order was paid
    from chalicelib.coupons.service import forget_auto_cache

    forget_auto_cache()
    dispatch.handle_stream_records("orders", records)  # a stream retry, say
    assert gifts() == []
    paid_order(api, tokens_, key="key-ev-0002")  # a payment after it earns the gift
    deliver_events()
    assert len(gifts()) == 1 and gifts()[0].startswith(t_["template_id"])
