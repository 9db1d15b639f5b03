"""Head office's view of parked event deliveries (the dead-letter list)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp


class ParkedQuery(Schema, kw_only=True):
    limit: Annotated[int, Meta(ge=1, le=500)] = 100


class Delivery(Out, kw_only=True):
    """One event delivered to one subscriber that kept failing."""

    delivery_id: Annotated[str, Meta(description="Id for the retry route.")]
    event_id: str
    event_type: Annotated[str, Meta(description="order.paid, member.registered, ...")]
    subscriber: Annotated[str, Meta(description="The subscriber's stable name.")]
    status: Annotated[
        Literal["done", "failed", "parked"],
        Meta(description="parked: waits for head office; done: a retry succeeded."),
    ]
    attempts: int
    last_error: str | None
    parked_at: Timestamp | None
    updated_at: Timestamp
    event: Annotated[
        dict[str, Any] | None,
        Meta(description="The event as delivered (docs/schemas/events.v1.json)."),
    ]


class ParkedPage(Out, kw_only=True):
    items: list[Delivery]
    truncated: bool  # more than ``limit`` parked: the oldest are listed


_PARKED = {
    "delivery_id": "5b1e0c7d2a9f4e3b8c6d1a2f3e4b5c6d",
    "event_id": "order.paid:261124K7M2Q9XD",
    "event_type": "order.paid",
    "subscriber": "coupons.after_payment_gift",
    "status": "parked",
    "attempts": 5,
    "last_error": "ClientError: ... ProvisionedThroughputExceededException ...",
    "parked_at": "2026-11-24T02:45:03Z",
    "updated_at": "2026-11-24T02:45:03Z",
    "event": {
        "type": "order.paid",
        "schema_version": "1",
        "event_id": "order.paid:261124K7M2Q9XD",
        "occurred_at": "2026-11-24T02:29:58Z",
        "order_id": "261124K7M2Q9XD",
        "customer_id": "c-5f2a9e01b7c44d10",
        "store_id": "sh-jingan",
        "fulfilment": "delivery",
        "paid_fen": 7670,
        "payment_id": "local:261124K7M2Q9XD",
        "lines": [],
    },
}
EXAMPLES = {"ParkedPage": {"items": [_PARKED], "truncated": False}, "Delivery": _PARKED}
