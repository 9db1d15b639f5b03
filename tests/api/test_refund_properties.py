"""Property: whatever the cart, discount, shortages and returns, refunds never exceed what
was paid (in total and per line), and refunding everything returns exactly what was paid.

Runs the real services (pricing, placement, payment, picking, returns, refunds) on
in-process moto; hypothesis chooses the carts and what happens to them.
"""

from __future__ import annotations

import hypothesis.strategies as st
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.orders import order_flow
from chalicelib.orders.models import RefundModel
from hypothesis import HealthCheck, given, settings

from tests.order_steps import (
    STAFF_A,
    complete,
    open_return,
    pick,
    place_paid,
    set_fresh,
    set_stock,
    with_discount,
)

SKUS = [f"{100 + i}" for i in range(25) if i != 5]


@st.composite
def scenarios(draw):
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=4, unique=True))
    lines = [(sku, draw(st.integers(1, 5)), draw(st.booleans())) for sku in skus]
    picked = {sku: draw(st.integers(0, qty)) for sku, qty, _ in lines}
    returns = draw(
        st.lists(
            st.tuples(
                st.sampled_from(skus),
                st.integers(1, 5),
                st.sampled_from(["collect", "receive", "reject", "open"]),
            ),
            max_size=5,
        )
    )
    return {
        "lines": lines,
        "discount": draw(st.integers(0, 6000)),
        "fulfilment": draw(st.sampled_from(["delivery", "pickup"])),
        "picked": picked,
        "returns": returns,
        "return_the_rest": draw(st.booleans()),
    }


def refunds_of(order_id):
    return list(RefundModel.by_order.query(order_id))


def check_never_more_than_paid(order_id):
    order = order_flow.get(order_id)
    records = refunds_of(order_id)
    assert sum(int(r.amount_fen) for r in records) == int(order.refunded_fen)
    assert int(order.refunded_fen) <= int(order.paid_fen)
    for line in order.lines:
        from_records = sum(int(x.amount_fen) for r in records for x in r.lines if x.sku == line.sku)
        units = sum(int(x.units) for r in records for x in r.lines if x.sku == line.sku)
        assert from_records == int(line.refunded_fen) <= int(line.paid_fen)
        # units whose share is 0 fen are counted on the line without a refund record
        assert units <= int(line.refunded_units) <= int(line.qty)
    assert int(order.delivery_fee_refunded_fen) <= int(order.delivery_fee_fen)
    return order


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenarios())
def test_refunds_never_exceed_what_was_paid(catalogue, monkeypatch, scenario):
    from chalicelib.orders import returns

    lines = scenario["lines"]
    set_stock([sku for sku, _, _ in lines], 999)
    for sku, _, fresh in lines:
        set_fresh([sku], fresh)
    with_discount(monkeypatch, scenario["discount"])
    fulfilment = scenario["fulfilment"]
    subtotal = sum(1000 * qty for _, qty, _ in lines)  # prices are 1000-1024 fen
    if fulfilment == "delivery" and subtotal - scenario["discount"] < 2100:
        fulfilment = "pickup"  # below the minimum order for delivery
    order_id = place_paid([(sku, qty) for sku, qty, _ in lines], fulfilment)
    paid = order_flow.get(order_id)
    assert int(paid.paid_fen) == int(paid.total_fen)
    assert sum(int(x.paid_fen) for x in paid.lines) == int(paid.total_fen) - int(
        paid.delivery_fee_fen
    )

    pick(order_id, scenario["picked"])
    order = check_never_more_than_paid(order_id)
    if order.status == "cancelled":  # nothing could be picked: everything back
        assert int(order.refunded_fen) == int(order.paid_fen)
        return
    shortage = sum(int(x.refunded_fen) for x in order.lines)
    assert int(order.refunded_fen) == shortage  # the delivery fee is kept
    complete(order_id)

    for sku, units, decision in scenario["returns"]:
        try:
            opened, _ = open_return(order_id, {sku: units})
        except ValidationFailed:
            continue  # asked for more than is left: refused, nothing written
        for r in opened.items:
            if r.status != "awaiting_verification" or decision == "open":
                continue
            if decision == "reject":
                returns.reject(STAFF_A, r.return_id, "不符合")
                continue
            returns.verify(STAFF_A, r.return_id)
            returns.receive(
                STAFF_A, r.return_id, "collect" if decision == "collect" else "receive_at_counter"
            )
        check_never_more_than_paid(order_id)

    if not scenario["return_the_rest"]:
        return
    order, existing = returns.load(order_id)
    for r in existing:  # settle the open ones
        if r.status == "awaiting_verification":
            returns.verify(STAFF_A, r.return_id)
        if r.status in ("awaiting_verification", "verified"):
            returns.receive(STAFF_A, r.return_id, "receive_at_counter")
    order, existing = returns.load(order_id)
    left = returns.returnable(order, existing)
    rest = {line.sku: n for line, n in zip(order.lines, left, strict=True) if n > 0}
    if rest:
        for r in open_return(order_id, rest)[0].items:
            if r.status == "awaiting_verification":
                returns.verify(STAFF_A, r.return_id)
                returns.receive(STAFF_A, r.return_id, "collect")
    order = check_never_more_than_paid(order_id)
    for line in order.lines:
        assert int(line.refunded_fen) == int(line.paid_fen)
        assert int(line.refunded_units) == int(line.qty)
    assert int(order.refunded_fen) == int(order.paid_fen) - int(order.delivery_fee_fen)
