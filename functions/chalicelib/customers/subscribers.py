"""Members' aggregates reacting to domain events (events/registry.py). Both are
idempotent by construction (the aggregates item records the orders counted and the
refunds charged: customers/rules.py), so no done marker is written (``idempotent=True``).

- order.completed: the order counts, on what it kept (paid - refunded at completion);
- refund.succeeded: a refund AFTER completion subtracts what was refunded since (read
  from the order); one before completion needs nothing (the completion already left it
  out). A refund of a completed order not counted yet raises, and the dispatcher retries.

order.paid has no subscriber: nothing here must be live before the order is completed
(a paid order can still be cancelled in full), and a second subscriber per order would
be a second write. docs/segments.md, "Member aggregates"."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import MemberRegistered, OrderCompleted, RefundSucceeded


@subscriber(OrderCompleted, "customers.stats_on_completed", idempotent=True)
def stats_on_completed(event: OrderCompleted) -> None:
    from chalicelib.customers import aggregates

    aggregates.on_completed(event)


@subscriber(
    RefundSucceeded,
    "customers.stats_on_refund",
    when=lambda event: not event.order_id.startswith("CS"),
    idempotent=True,
)
def stats_on_refund(event: RefundSucceeded) -> None:
    from chalicelib.customers import aggregates

    aggregates.on_refund(event)


@subscriber(
    MemberRegistered,
    "customers.distribution_binding",
    when=lambda event: bool(event.source) and ":" not in str(event.source),  # a QR code
    idempotent=True,
)
def distribution_binding(event: MemberRegistered) -> None:
    """A member registered through a staff member's QR code is bound to them (staff
    distribution: customers/distribution.py). A subscriber, not a piece of the
    registration: the binding is written under the aggregates item's version, so a
    scan of another staff QR at the same moment still gives one binding; a redelivery
    finds it ("same") and writes nothing."""
    from chalicelib.customers import distribution

    distribution.on_registered(event.customer_id, event.source, event.occurred_at)
