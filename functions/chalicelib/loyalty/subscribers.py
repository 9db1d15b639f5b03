"""Points reacting to domain events (events/registry.py). Each is idempotent by
construction: entries are keyed by the event's subject (``earn:order:<id>``,
``reverse:refund:<id>``, ``spend:order:<id>``) and written with ``attribute_not_exists``
in the account's transaction, so a redelivered event earns, reverses or spends nothing
twice; no done marker is needed (``idempotent=True``)."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import (
    OrderCancelled,
    OrderExpired,
    OrderPaid,
    RefundSucceeded,
)


class EarnNotYetWritten(Exception):
    """A refund of a completed order arrived before the order's earn was written: the
    dispatcher retries it, and the earn (the completion's subscriber) comes first."""


# An order's completion earns its points in the same change of the loyalty account as
# its growth: loyalty/programme_subscribers.py ``order_completion``.


@subscriber(RefundSucceeded, "loyalty.points_on_refund", idempotent=True)
def reverse_on_refund(event: RefundSucceeded) -> None:
    """Take back the points earned on the refunded part and give back the points spent
    on it, in proportion (exact over all of an order's refunds). A refund before
    completion needs nothing: the completion earns on paid - refunded."""
    from chalicelib.loyalty import levels, points
    from chalicelib.loyalty.settings import points_settings

    if event.order_id.startswith("CS"):
        return  # a sold coupon (一元买百元券), not an order: no points on it
    order = read_order(event.order_id)
    if order is None:
        return
    customer_id, status, paid, refunded = order
    # A refund implies the order was paid: if its order.paid has not been handled yet
    # (another stream), spend the locked points now so the refund can return them.
    points.consume(customer_id, event.order_id)
    done = points.reverse_for_refund(customer_id, event.order_id, event.refund_id, paid, refunded)
    if done or status != "completed":
        return
    if points.has_entry(customer_id, f"earn:order:{event.order_id}"):
        return  # earned, and this refund's share was reversed already (or rounds to 0)
    settings = points_settings()
    kept = paid - refunded
    if points.order_points(kept, settings.points_per_yuan, levels.multiplier(customer_id)) > 0:
        raise EarnNotYetWritten(f"order {event.order_id}: completed, its earn not written yet")


def read_order(order_id: str) -> tuple[str, str, int, int] | None:
    """(customer, status, paid_fen, refunded_fen) of an order, read by table name: the
    event lacks the customer, and loyalty sits below orders (it may not import them)."""
    from chalicelib.db.connection import connection
    from chalicelib.kernel import config

    item = (
        connection()
        .client.get_item(
            TableName=config.table_name("orders"),
            Key={"order_id": {"S": order_id}},
            ConsistentRead=True,
            ProjectionExpression="customer_id, #st, paid_fen, refunded_fen",
            ExpressionAttributeNames={"#st": "status"},
        )
        .get("Item")
    )
    if not item:
        return None
    return (
        item["customer_id"]["S"],
        item["status"]["S"],
        int(item.get("paid_fen", {}).get("N", "0")),
        int(item.get("refunded_fen", {}).get("N", "0")),
    )


# Spending with an order (checkout locks points in the placing transaction with
# points.lock_piece; the cancelling/expiring transaction releases them with release_piece).
# ``points_locked`` on OrderPaid, OrderCancelled and OrderExpired comes from the order's
# head (events/records.py): 0 for orders without points, so these do not run for them (no
# read), and 0 for a paid order's cancellation (its refund returns the points).
def locked_points(event: OrderPaid | OrderCancelled | OrderExpired) -> int:
    return int(getattr(event, "points_locked", 0) or 0)


@subscriber(
    OrderPaid,
    "loyalty.points_consume_on_paid",
    when=lambda event: locked_points(event) > 0,
    idempotent=True,
)
def consume_on_paid(event: OrderPaid) -> None:
    """The paid order's locked points are spent (no-op when they were already)."""
    from chalicelib.loyalty import points

    points.consume(event.customer_id, event.order_id)


@subscriber(
    OrderCancelled,
    "loyalty.points_release_on_cancel",
    when=lambda event: locked_points(event) > 0,
    idempotent=True,
)
def release_on_cancel(event: OrderCancelled) -> None:
    """An unpaid order cancelled: its locked points are free again (a paid one's were
    spent: its refund returns them)."""
    from chalicelib.loyalty import points

    points.release(event.customer_id, event.order_id)


@subscriber(
    OrderExpired,
    "loyalty.points_release_on_expiry",
    when=lambda event: locked_points(event) > 0,
    idempotent=True,
)
def release_on_expiry(event: OrderExpired) -> None:
    """An unpaid order expired: its locked points are free again."""
    from chalicelib.loyalty import points

    points.release(event.customer_id, event.order_id)
