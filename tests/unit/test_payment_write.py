"""The payment's write on the order is built without reading the order
(orders/payments.py ``_pay``): what it needs from the order must not depend on it."""

from __future__ import annotations

from chalicelib.kernel.states import order_queue
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel


def test_paying_keeps_the_order_in_its_work_queue_bucket():
    """The by_store_queue key is "<store_id>#<bucket>": if paying moved the order to
    another bucket, the write would need the store id, i.e. a read of the order first."""
    assert order_queue("awaiting_payment") == order_queue("paid")
    payable = OrderModel("o-1", status="awaiting_payment")  # no store id known
    to, actions, _ = order_flow.transition_actions(
        payable, "pay", order_flow.PAYMENT_PROVIDER, None
    )
    assert to == "paid"
    assert not [a for a in actions if "store_queue" in str(a)]
