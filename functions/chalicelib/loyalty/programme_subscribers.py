"""Growth, levels and tasks reacting to domain events (events/registry.py). Each is
idempotent by construction (growth entries keyed ``order:<id>`` / ``refund:<id>``,
task rewards ``task:<task>:<period>``, an order counted once with its growth change),
so a redelivered event earns nothing twice: ``idempotent=True``, no done marker."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import MemberRegistered, OrderCompleted, RefundSucceeded


class GrowthNotYetWritten(Exception):
    """A refund of a completed order came before the order's growth: retried later."""


@subscriber(OrderCompleted, "loyalty.order_completion", idempotent=True)
def order_completion(event: OrderCompleted) -> None:
    """The order's points, growth and order tasks: ONE change of the member's loyalty
    account (tasks.on_order_completed); level-up gifts follow."""
    from chalicelib.loyalty import tasks

    tasks.on_order_completed(
        event.customer_id,
        event.order_id,
        event.paid_fen,
        event.refunded_fen,
        event.occurred_at,
        extra_multiplier=event.points_multiplier,
    )


@subscriber(RefundSucceeded, "loyalty.growth_on_refund", idempotent=True)
def growth_on_refund(event: RefundSucceeded) -> None:
    """A refund after completion takes back the growth on the part refunded."""
    from chalicelib.loyalty import growth, levels
    from chalicelib.loyalty.programme_settings import levels_settings
    from chalicelib.loyalty.subscribers import read_order

    if event.order_id.startswith("CS"):
        return  # a sold coupon, not an order
    order = read_order(event.order_id)
    if order is None:
        return
    customer_id, status, paid, refunded = order
    if status != "completed":
        return  # the completion earns on paid - refunded
    taken = growth.reverse_for_refund(customer_id, event.order_id, event.refund_id, refunded)
    if taken or growth.has_entry(customer_id, growth.order_entry_key(event.order_id)):
        return
    if levels.growth_for_order(paid - refunded, levels_settings().growth_per_yuan) > 0:
        raise GrowthNotYetWritten(f"order {event.order_id}: completed, its growth not written")


@subscriber(MemberRegistered, "loyalty.tasks_on_registration", idempotent=True)
def tasks_on_registration(event: MemberRegistered) -> None:
    """Invite a friend: the event names the inviter (``invited_by``, recorded once at
    registration by members/sources.py); the reward is keyed per friend."""
    from chalicelib.loyalty import tasks

    tasks.on_registered(event.customer_id, event.invited_by, event.occurred_at)


@subscriber(MemberRegistered, "loyalty.level_on_registration", idempotent=True)
def level_on_registration(event: MemberRegistered) -> None:
    """A new member is at the lowest level: copied onto the member item (the admin list's
    level filter) unless a growth change wrote a level first."""
    from chalicelib.loyalty import growth

    growth.set_initial_level(event.customer_id)
