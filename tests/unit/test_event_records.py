"""Stream records -> domain events (chalicelib/events/records.py): pure, no AWS. Also the
Lambda event filters: every record that is an event passes them, and the records that
are not (most of an order's writes) do not invoke the function."""

from __future__ import annotations

from typing import Any

import pytest
from chalicelib.events import records as r
from chalicelib.events import types as t


def ddb(value: Any) -> dict[str, Any]:
    """Plain Python -> DynamoDB JSON (as a stream record carries it)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [ddb(v) for v in value]}
    if isinstance(value, set):
        return {"SS": sorted(value)}
    return {"M": {k: ddb(v) for k, v in value.items()}}


def record(name: str, new: dict | None, old: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"Keys": {}, "SequenceNumber": "100", "StreamViewType": "X"}
    if new is not None:
        body["NewImage"] = {k: ddb(v) for k, v in new.items()}
    if old is not None:
        body["OldImage"] = {k: ddb(v) for k, v in old.items()}
    return {"eventID": "e1", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body}


LINE = {"sku": "100", "qty": 3, "paid_fen": 2700, "refunded_units": 0, "refunded_fen": 0}


def order(status: str, **over: Any) -> dict[str, Any]:
    base = {
        "order_id": "O1",
        "customer_id": "c-1",
        "store_id": "sh-a",
        "fulfilment": "delivery",
        "status": status,
        "lines": [dict(LINE, name="橙", unit_price_fen=1000)],
        "paid_fen": 0,
        "refunded_fen": 0,
        "print_job_ids": {"O1-p1"},
        "history": [],
        "created_at": "2026-11-24T02:00:00Z",
        "updated_at": "2026-11-24T02:00:00Z",
        "version": 1,
    }
    return {**base, **over}


def moved(to: str, action: str, reason: str | None = None) -> dict[str, Any]:
    return {
        "action": action,
        "from": "x",
        "to": to,
        "at": "2026-11-24T02:30:00Z",
        "actor": "a",
        "role": "system",
        "reason": reason,
    }


def test_payment_gives_order_paid_with_the_lines_and_the_time_of_the_change():
    paid = order(
        "paid",
        paid_fen=2700,
        payment_id="local:O1",
        history=[moved("paid", "pay")],
        updated_at="2026-11-24T02:31:00Z",
    )
    (event,) = r.events_of("orders", record("MODIFY", paid, order("awaiting_payment")))
    assert event == t.OrderPaid(
        event_id="order.paid:O1",
        occurred_at="2026-11-24T02:30:00Z",
        order_id="O1",
        customer_id="c-1",
        store_id="sh-a",
        fulfilment="delivery",
        paid_fen=2700,
        payment_id="local:O1",
        lines=[t.OrderLine(**LINE)],
    )


def test_the_same_record_twice_gives_the_same_event():
    rec = record("MODIFY", order("paid", paid_fen=10), order("awaiting_payment"))
    assert r.events_of("orders", rec) == r.events_of("orders", rec)


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("delivered", "completed", t.OrderCompleted),
        ("ready_for_pickup", "completed", t.OrderCompleted),
        ("paid", "cancelled", t.OrderCancelled),
        ("awaiting_payment", "cancelled", t.OrderCancelled),
        ("picking", "cancelled", t.OrderCancelled),
        ("awaiting_payment", "expired", t.OrderExpired),
    ],
)
def test_final_states_give_their_event(before, after, kind):
    new = order(after, paid_fen=2700, refunded_fen=500, history=[moved(after, "x", "顾客取消")])
    (event,) = r.events_of("orders", record("MODIFY", new, order(before)))
    assert type(event) is kind and event.event_id == f"order.{after}:O1"
    if kind is t.OrderCancelled:
        assert (event.from_status, event.paid_fen, event.reason) == (before, 2700, "顾客取消")
    if kind is t.OrderCompleted:
        assert (event.paid_fen, event.refunded_fen) == (2700, 500)


@pytest.mark.parametrize(
    ("name", "new", "old"),
    [
        ("INSERT", order("awaiting_payment"), None),  # placing
        ("MODIFY", order("paid", daily_seq=3), order("paid")),  # numbered at print time
        ("MODIFY", order("picking"), order("paid")),  # a step that is no event
        ("MODIFY", order("completed", refunded_fen=5), order("completed")),  # a later refund
        ("REMOVE", None, order("paid")),
    ],
)
def test_other_order_writes_give_nothing(name, new, old):
    assert r.events_of("orders", record(name, new, old)) == []


REFUND = {
    "refund_id": "O1:shortage",
    "order_id": "O1",
    "reason": "shortage",
    "amount_fen": 900,
    "delivery_fee_fen": 0,
    "lines": [{"sku": "100", "units": 1, "amount_fen": 900}],
    "completes_order": False,
    "created_at": "2026-11-24T03:00:00.000Z",
    "updated_at": "2026-11-24T03:00:05Z",
}


def test_a_refund_that_succeeds_gives_refund_succeeded_with_its_lines():
    rec = record(
        "MODIFY",
        dict(REFUND, status="succeeded"),
        dict(REFUND, status="pending", pending="pending"),
    )
    (event,) = r.events_of("refunds", rec)
    assert event == t.RefundSucceeded(
        event_id="refund.succeeded:O1:shortage",
        occurred_at="2026-11-24T03:00:05Z",
        refund_id="O1:shortage",
        order_id="O1",
        reason="shortage",
        amount_fen=900,
        delivery_fee_fen=0,
        lines=[t.RefundLine(sku="100", units=1, amount_fen=900)],
        completes_order=False,
    )
    inserted = record("INSERT", dict(REFUND, status="succeeded"))
    assert [e.event_id for e in r.events_of("refunds", inserted)] == [event.event_id]


@pytest.mark.parametrize(
    ("name", "new", "old"),
    [
        ("INSERT", dict(REFUND, status="pending"), None),
        ("MODIFY", dict(REFUND, status="pending", attempts=1), dict(REFUND, status="pending")),
        ("MODIFY", dict(REFUND, status="succeeded", x=1), dict(REFUND, status="succeeded")),
    ],
)
def test_other_refund_writes_give_nothing(name, new, old):
    assert r.events_of("refunds", record(name, new, old)) == []


def test_a_new_customer_gives_member_registered_and_nothing_else_does():
    member = {
        "customer_id": "c-9",
        "phone": "13800000009",
        "source": "store:sh-a",
        "home_store_id": "sh-a",
        "created_at": "2026-11-24T01:00:00Z",
        "token_gen": 0,
    }
    (event,) = r.events_of("customers", record("INSERT", member))
    assert event == t.MemberRegistered(
        event_id="member.registered:c-9",
        occurred_at="2026-11-24T01:00:00Z",
        customer_id="c-9",
        source="store:sh-a",
        home_store_id="sh-a",
    )
    assert "13800000009" not in t.encode(event)  # no phone number in the event
    assert r.events_of("customers", record("MODIFY", dict(member, token_gen=1), member)) == []


def test_every_event_round_trips_through_its_encoding():
    for example in t.EXAMPLES:
        event = t.decode(t.encode(t.decode(__import__("json").dumps(example))))
        assert event.type == example["type"]


# --- the Lambda event filters ------------------------------------------------------------


def _matches(pattern: Any, value: Any) -> bool:
    """The subset of Lambda's filter rules the filters use: a list of allowed values
    (strings, or {"anything-but": [...]}) at a leaf, nested objects; a missing key does
    not match."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            k in value and _matches(p, value[k]) for k, p in pattern.items()
        )
    for allowed in pattern:
        if isinstance(allowed, dict) and "anything-but" in allowed:
            if value not in allowed["anything-but"]:
                return True
        elif value == allowed:
            return True
    return False


def passes(table: str, rec: dict[str, Any]) -> bool:
    return any(_matches(f, rec) for f in r.STREAM_FILTERS[table])


ALL_ORDER_RECORDS = [
    record("INSERT", order("awaiting_payment")),
    record("MODIFY", order("paid"), order("awaiting_payment")),
    record("MODIFY", order("paid", daily_seq=1), order("paid")),
    record("MODIFY", order("picking"), order("paid")),
    record("MODIFY", order("picked"), order("picking")),
    record("MODIFY", order("delivered"), order("out_for_delivery")),
    record("MODIFY", order("completed"), order("delivered")),
    record("MODIFY", order("completed", refunded_fen=1), order("completed")),
    record("MODIFY", order("cancelled"), order("paid")),
    record("MODIFY", order("expired"), order("awaiting_payment")),
]
ALL_REFUND_RECORDS = [
    record("INSERT", dict(REFUND, status="pending")),
    record("INSERT", dict(REFUND, status="succeeded")),
    record("MODIFY", dict(REFUND, status="succeeded"), dict(REFUND, status="pending")),
    record("MODIFY", dict(REFUND, status="pending"), dict(REFUND, status="pending")),
    record("MODIFY", dict(REFUND, status="succeeded"), dict(REFUND, status="succeeded")),
]


@pytest.mark.parametrize(
    ("table", "records"), [("orders", ALL_ORDER_RECORDS), ("refunds", ALL_REFUND_RECORDS)]
)
def test_the_filters_pass_exactly_the_records_that_are_events(table, records):
    for rec in records:
        assert passes(table, rec) == bool(r.events_of(table, rec)), rec


def test_each_event_table_has_the_stream_view_its_events_need():
    from chalicelib.db.tables import ALL_MODELS

    views = {
        m.Meta.table_name.rsplit("-", 1)[-1]: getattr(m.Meta, "stream_view_type", None)
        for m in ALL_MODELS
    }
    assert {table: views[table] for table in r.STREAM_VIEWS} == r.STREAM_VIEWS


# --- after the split: the lines come from the order's detail, history as strings --------


def split_order(status: str, **over: Any) -> dict[str, Any]:
    """An orders stream image since the split: no lines; history entries are strings."""
    image = {k: v for k, v in order(status, **over).items() if k != "lines"}
    return image


def stored_detail() -> dict[str, Any]:
    """A detail as the handler reads it: written through the model (its short stored
    names), plain values."""
    from chalicelib.orders.models import (
        CouponUseAttribute,
        DiscountAttribute,
        OrderDetailModel,
        OrderLineAttribute,
    )

    detail = OrderDetailModel(
        "O1",
        lines=[
            OrderLineAttribute(
                name="橙",
                unit="个",
                category1="水果",
                category2="柑橘",
                unit_price_fen=1000,
                amount_fen=3000,
                discount_fen=300,
                **LINE,
            )
        ],
        coupon_uses=[
            CouponUseAttribute(
                coupon_id="tpl-5off:claim:r-1",
                template_id="tpl-5off",
                kind="amount_off",
                discount_fen=300,
            )
        ],
        discounts=[
            DiscountAttribute(code="tiered:P-9", label="满30减2", amount_fen=200),
            DiscountAttribute(code="coupon:tpl-5off:claim:r-1", label="券", amount_fen=300),
        ],
        subtotal_fen=3000,
    )
    return {k: r.plain(v) for k, v in detail.serialize().items()}


def test_the_stored_names_read_raw_are_the_models():
    from chalicelib.orders.models import (
        CouponUseAttribute,
        DiscountAttribute,
        OrderDetailModel,
        OrderLineAttribute,
    )

    stored = {
        name: a.attr_name
        for cls in (OrderDetailModel, OrderLineAttribute, DiscountAttribute, CouponUseAttribute)
        for name, a in cls.get_attributes().items()
    }
    assert {name: stored[name] for name in r.DETAIL_NAMES} == r.DETAIL_NAMES


def test_an_order_event_takes_its_lines_from_the_detail_the_handler_passes_in():
    paid = split_order("paid", paid_fen=2700, history=["1796342400|pay||paid|payment-provider|y|"])
    rec = record("MODIFY", paid, split_order("awaiting_payment"))
    rec["dynamodb"]["Keys"] = {"order_id": {"S": "O1"}}
    assert r.detail_ids("orders", [rec]) == ["O1"]
    assert r.detail_ids("refunds", [rec]) == []
    details = {"O1": stored_detail()}
    (event,) = r.events_of("orders", rec, details)
    # the category and the fresh flag ride along (customers' aggregates read them)
    assert event.lines == [t.OrderLine(**LINE, category1="水果", fresh=False)]
    assert event.coupon_ids == ["tpl-5off:claim:r-1"]
    # discounts by source for campaign reviews: the promotion from its code, the coupon
    # by its template (from the coupon use, not the discount's code)
    assert event.discounts == {"p:P-9": 200, "t:tpl-5off": 300}
    assert event.occurred_at == "2026-12-04T00:00:00Z"  # the compact entry's time
    with pytest.raises(LookupError):  # no detail and no lines: never an event without lines
        r.events_of("orders", rec)


def test_a_cancellation_needs_no_detail_and_reads_its_reason_from_a_compact_entry():
    new = split_order("cancelled", history=["1796342400|cancel||cancelled|c-1|c|不要了"])
    rec = record("MODIFY", new, split_order("paid"))
    assert r.detail_ids("orders", [rec]) == []
    (event,) = r.events_of("orders", rec)
    assert (event.reason, event.occurred_at) == ("不要了", "2026-12-04T00:00:00Z")
