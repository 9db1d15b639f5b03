"""The order's lifecycle as use cases, without HTTP: payment, a pick with a shortage and
its refund, and the state machine refusing what it must (a stale read, a wrong state)."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, STORE_STAFF, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel.errors import Conflict
from chalicelib.orders import order_flow, payments, store_workflow
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderModel, RefundModel
from chalicelib.orders.payment_providers import provider
from chalicelib.orders.schemas import PlaceOrder
from chalicelib.orders.store_workflow_schemas import PickResult

ME = Principal("c-usecase-2", CUSTOMER)
PICKER = Principal("sh-a-staff", STORE_STAFF, "sh-a")


def placed(key: str):
    cart = {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": "100", "qty": 2}, {"sku": "101", "qty": 1}],
    }
    order, _ = orders.place(ME, key, msgspec.convert(cart, PlaceOrder))
    return order


def paid(key: str):
    order = placed(key)
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    assert payments.notify("local", headers, body).code == "SUCCESS"
    return order_flow.get(order.order_id)


def test_a_payment_notice_pays_once_and_a_copy_changes_nothing(catalogue):
    order = placed("uc-life-0001")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    assert payments.notify("local", headers, body).message == "paid"
    assert payments.notify("local", headers, body).message == "already recorded"
    saved = order_flow.get(order.order_id)
    assert saved.status == "paid" and int(saved.paid_fen) == order.total_fen
    assert [h.action for h in saved.history] == ["place", "pay"]


def test_a_pick_with_a_shortage_refunds_the_missing_unit(catalogue):
    order = paid("uc-life-0002")
    result = msgspec.convert(
        {"lines": [{"sku": "100", "picked_qty": 1}, {"sku": "101", "picked_qty": 1}]},
        PickResult,
    )
    picked = store_workflow.pick(PICKER, order.order_id, result)
    assert picked.status == "picked"
    [refund] = RefundModel.by_order.query(order.order_id)
    assert refund.reason == "shortage" and int(refund.amount_fen) == picked.refunded_fen > 0
    assert [(x.sku, int(x.units)) for x in refund.lines] == [("100", 1)]
    # a shortage gives no stock back: the goods were not on the shelf
    assert int(StoreItemModel.get("sh-a", "100").stock) == 8


def test_a_stale_read_loses_to_the_write_that_moved_the_order(catalogue):
    order = paid("uc-life-0003")
    stale = order_flow.get(order.order_id)
    order_flow.apply(order_flow.get(order.order_id), "start_picking", PICKER)
    with pytest.raises(Conflict) as refused:
        order_flow.apply(stale, "cancel", ME)
    assert refused.value.code == "illegal_transition"
    assert OrderModel.get(order.order_id).status == "picking"


def test_an_action_from_the_wrong_state_writes_nothing(catalogue):
    order = placed("uc-life-0004")
    before = order_flow.get(order.order_id)
    with pytest.raises(Conflict) as refused:
        order_flow.apply(before, "deliver", PICKER)
    assert refused.value.code == "illegal_transition"
    assert order_flow.get(order.order_id).version == before.version
