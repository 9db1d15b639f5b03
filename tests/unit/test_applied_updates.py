"""db/applied.py computes an item after an update instead of reading it back: its result
must be exactly what DynamoDB (here moto) stores for the same actions."""

from __future__ import annotations

import pytest
from chalicelib.db.applied import applied
from chalicelib.db.transitions import TransitionAttribute
from chalicelib.orders.models import (
    AddressAttribute,
    OrderDetailModel,
    OrderLineAttribute,
    OrderModel,
)


def line(sku: str, qty: int) -> OrderLineAttribute:
    return OrderLineAttribute(
        sku=sku,
        name="鲜牛奶",
        unit="瓶",
        category1="乳品",
        category2="牛奶",
        unit_price_fen=1290,
        qty=qty,
        amount_fen=1290 * qty,
        paid_fen=1290 * qty,
    )


def entry(action: str) -> TransitionAttribute:
    return TransitionAttribute(
        at="2026-12-04T00:00:00Z", actor="system", role="system", action=action, to_state="x"
    )


@pytest.fixture
def order(aws):
    o = OrderModel(
        "O-APPLIED-1",
        customer_id="c-1",
        store_id="sh-a",
        fulfilment="delivery",
        status="paid",
        store_queue="sh-a#open",
        store_day="sh-a#2026-12-04",
        history=[entry("place")],
        total_fen=6450,
        paid_fen=6450,
        print_job_ids={"O-APPLIED-1-p1"},
        due_kind="expire",
        due_at=123,
        expires_at="2026-12-04T00:15:00Z",
        created_at="2026-12-04T00:00:00Z",
        updated_at="2026-12-04T00:00:00Z",
    )
    o.save()
    return OrderModel.get("O-APPLIED-1", consistent_read=True)


@pytest.fixture
def detail(aws):
    OrderDetailModel(
        "O-APPLIED-1",
        address=AddressAttribute(name="王", phone="13800000000", line="1号", lat=31.2, lng=121.4),
        lines=[line("100", 2), line("101", 3)],
        subtotal_fen=6450,
    ).save()
    return OrderDetailModel.get("O-APPLIED-1", consistent_read=True)


ACTIONS = {
    "set, remove, increment and list_append": lambda: [
        OrderModel.status.set("picked"),
        OrderModel.short_picked.set({"101": 2}),
        OrderModel.refunded_fen.set(OrderModel.refunded_fen + 1290),
        OrderModel.paid_fen.set(OrderModel.paid_fen - 10),
        OrderModel.history.set(OrderModel.history.append([entry("pick")])),
        OrderModel.due_kind.remove(),
        OrderModel.due_at.remove(),
    ],
    "sets and if_not_exists": lambda: [
        OrderModel.print_job_ids.add({"O-APPLIED-1-p2", "O-APPLIED-1-p3"}),
        OrderModel.pickup_code.set("123456"),
        OrderModel.daily_seq.add(7),
    ],
    "an empty map": lambda: [OrderModel.short_picked.set({})],
    "a set emptied by delete disappears": lambda: [
        OrderModel.print_job_ids.delete({"O-APPLIED-1-p1"}),
        OrderModel.missed_print.set(True),
    ],
}


# The detail changes only with refunds (per-line units and amounts).
DETAIL_ACTIONS = {
    "line paths": lambda: [
        OrderDetailModel.lines[1].picked_qty.set(2),
        OrderDetailModel.lines[1].refunded_units.add(1),
        OrderDetailModel.lines[1].refunded_fen.set(OrderDetailModel.lines[1].refunded_fen + 1290),
    ],
    "if_not_exists": lambda: [OrderDetailModel.remark.set(OrderDetailModel.remark | "no remark")],
}


def image(model: OrderModel | OrderDetailModel, *, version: bool = True) -> dict:
    """The item as DynamoDB holds it, with string sets in a fixed order (a set has none)."""

    def norm(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict):
            return {k: sorted(v) if k in ("SS", "NS") else norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    out = norm(model.serialize())
    return out if version else out | {"version": None}


@pytest.mark.parametrize("name", ACTIONS)
def test_applied_matches_what_dynamodb_stores(order, name):
    expected = applied(order, ACTIONS[name]())

    order.update(actions=ACTIONS[name]())  # through DynamoDB; bumps the version
    stored = OrderModel.get(order.order_id, consistent_read=True)

    assert image(expected, version=False) == image(stored, version=False)
    assert image(applied(order, [])) == image(order)  # the input is untouched


@pytest.mark.parametrize("name", DETAIL_ACTIONS)
def test_applied_matches_what_dynamodb_stores_of_the_detail(detail, name):
    expected = applied(detail, DETAIL_ACTIONS[name]())
    detail.update(actions=DETAIL_ACTIONS[name]())
    stored = OrderDetailModel.get(detail.order_id, consistent_read=True)
    assert image(expected) == image(stored)


def test_applied_keeps_the_version_a_committed_transaction_left_on_the_item(order):
    from chalicelib.db.transactions import transact

    actions = [OrderModel.status.set("picking")]
    transact(lambda tx: tx.update(order, actions=actions, label="order"))  # version + 1 too

    stored = OrderModel.get(order.order_id, consistent_read=True)
    assert image(applied(order, actions)) == image(stored)
