"""Coupons reacting to domain events (events/registry.py): on order.paid the coupons the
order used become used, and 支付有礼 is issued; 新人礼 on member.registered. All are
idempotent (conditional moves of the order's own coupons; coupon ids keyed by the order
or the member), so a redelivered event changes nothing twice, and each is declared
``idempotent``: no done marker is written after a success (a write per event saved), a
redelivery runs it again to no effect. A failure raises and the event dispatcher retries
it, then parks it for head office."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import MemberRegistered, OrderPaid


# Idempotent: conditional on each coupon still being locked by this order.
@subscriber(
    OrderPaid,
    "coupons.mark_used",
    when=lambda event: bool(event.coupon_ids),
    idempotent=True,
)
def mark_used(event: OrderPaid) -> None:
    """The coupons the order locked at placing: locked -> used (and the template's
    ``used_count``). The payment does not wait for this: until it runs, a give-back of
    the paid order (cancel, nothing picked) marks them used first (checkout.give_back).
    Orders without coupons (most) are not its concern: no call, no delivery marker."""
    from chalicelib.coupons.repo import mark_used as mark_coupons_used

    mark_coupons_used(event.order_id, list(event.coupon_ids))


# Idempotent: the coupon ids are "<template>:order:<order_id>" (issue() creates each once).
@subscriber(OrderPaid, "coupons.after_payment_gift", idempotent=True)
def after_payment_gift(event: OrderPaid) -> None:
    """支付有礼: every active after-payment template whose minimum the payment reaches."""
    from chalicelib.coupons.service import issue_after_payment

    issue_after_payment(event.order_id, event.customer_id, event.paid_fen, event.occurred_at)


# Idempotent: the coupon ids are "<template>:reg:<customer_id>".
@subscriber(MemberRegistered, "coupons.new_member_gift", idempotent=True)
def new_member_gift(event: MemberRegistered) -> None:
    """新人礼: every active registration template."""
    from chalicelib.coupons.service import issue_on_registration

    issue_on_registration(event.customer_id, event.occurred_at)
