"""Reports reacting to domain events: keep the lines each paid order carried and mark
the paid orders cancelled since. Both write with SET actions keyed by the order, so a
redelivered event (even one whose delivery marker was lost) writes the same values again:
nothing is counted here, and both are declared ``idempotent`` (no done marker). The
counting happens when a day is rolled up (reports/service.py), from these items and the
by_store_day index.

Cost per order: one UpdateItem of an item under 1 KB (1 WRU), no delivery marker;
order.completed and refund.succeeded have no subscriber here (refunds are read from the
by_store_day index when the day is rolled up)."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import OrderCancelled, OrderPaid


@subscriber(OrderPaid, "reports.paid_lines", idempotent=True)
def paid_lines(event: OrderPaid) -> None:
    """Keep the order's lines as paid (sku, units, paid amount)."""
    from chalicelib.reports.service import record_paid

    record_paid(event)


@subscriber(OrderCancelled, "reports.cancelled", idempotent=True)
def cancelled(event: OrderCancelled) -> None:
    """A paid order cancelled is no longer a sale (its refund comes separately)."""
    from chalicelib.reports.service import record_cancelled

    if event.paid_fen > 0:
        record_cancelled(event.order_id)
