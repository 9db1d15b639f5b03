"""Coupons reacting to domain events (events/registry.py): 支付有礼 on order.paid and
新人礼 on member.registered. Both issue idempotently (coupon ids keyed by the order or
the member), so a redelivered event issues nothing twice; a failure raises and the
event dispatcher retries it, then parks it for head office."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import MemberRegistered, OrderPaid


@subscriber(OrderPaid, "coupons.after_payment_gift")
def after_payment_gift(event: OrderPaid) -> None:
    """支付有礼: every active after-payment template whose minimum the payment reaches."""
    from chalicelib.coupons.service import issue_after_payment

    issue_after_payment(event.order_id, event.customer_id, event.paid_fen)


@subscriber(MemberRegistered, "coupons.new_member_gift")
def new_member_gift(event: MemberRegistered) -> None:
    """新人礼: every active registration template."""
    from chalicelib.coupons.service import issue_on_registration

    issue_on_registration(event.customer_id)
