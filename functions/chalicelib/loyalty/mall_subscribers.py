"""The points mall reacting to order events (events/registry.py): a product reward placed
as an order spends its locked points when the order is paid, and gives back its unit,
the member's redemption and the points when the order is cancelled or expires. Only
events naming a reward (``reward_id``, set from the order's head) run them: no read or
marker for other orders. Each is idempotent by construction (the redemption's state
moves under a condition, points entries are keyed by the order), so ``idempotent=True``."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import OrderCancelled, OrderExpired, OrderPaid


@subscriber(OrderPaid, "loyalty.mall_order_paid", when=lambda e: bool(e.reward_id), idempotent=True)
def reward_order_paid(event: OrderPaid) -> None:
    """The reward's points are spent (``spend:order:<id>``); the redemption is paid."""
    from chalicelib.loyalty import mall

    mall.order_paid(event.customer_id, event.order_id)


@subscriber(
    OrderCancelled,
    "loyalty.mall_order_cancelled",
    when=lambda e: bool(e.reward_id),
    idempotent=True,
)
def reward_order_cancelled(event: OrderCancelled) -> None:
    """Unit, redemption and points back (an unpaid order's lock released; a paid order's
    points returned here when it paid no money, else by its refund)."""
    from chalicelib.loyalty import mall

    assert event.reward_id is not None
    mall.order_given_back(
        event.customer_id,
        event.order_id,
        event.reward_id,
        paid=event.from_status != "awaiting_payment",
        cash_paid_fen=event.paid_fen,
    )


@subscriber(
    OrderExpired, "loyalty.mall_order_expired", when=lambda e: bool(e.reward_id), idempotent=True
)
def reward_order_expired(event: OrderExpired) -> None:
    """Unpaid in time: the lock released, the unit and the redemption back."""
    from chalicelib.loyalty import mall

    assert event.reward_id is not None
    mall.order_given_back(event.customer_id, event.order_id, event.reward_id, paid=False)
