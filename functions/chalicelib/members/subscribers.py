"""Members react to orders: a member without a home store gets the store of their first
paid order (QR and ticket registrations set it earlier)."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import OrderPaid


@subscriber(OrderPaid, "members.home_store", idempotent=True)
def home_store(event: OrderPaid) -> None:
    """Set only where none is set (a conditional write): a replay, or a later order at
    another store, changes nothing. Read first (half a read unit, eventually
    consistent): most paid orders are by members who have a home store, and a write
    whose condition fails is billed like one that succeeds."""
    from pynamodb.exceptions import DoesNotExist, UpdateError

    from chalicelib.identity.models import CustomerModel

    try:
        member = CustomerModel.get(
            event.customer_id, attributes_to_get=["customer_id", "home_store_id", "erased_at"]
        )
    except DoesNotExist:
        return
    if member.home_store_id or member.erased_at:
        return
    try:
        CustomerModel(event.customer_id).update(
            actions=[CustomerModel.home_store_id.set(event.store_id)],
            condition=CustomerModel.customer_id.exists()
            & CustomerModel.home_store_id.does_not_exist()
            & CustomerModel.erased_at.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
