"""Storefront events in, traffic figures out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Sku, StoreId

MAX_EVENTS = 50  # per batch; the client flushes at this many (or every 10 s)

EventType = Literal["visit_store", "view_product", "add_to_cart", "start_checkout"]
DeviceId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_-]{16,64}$",
        description="The storefront's id for this browser or app install (a random UUID "
        "kept in local storage): 16-64 letters, digits, '-' or '_'.",
        examples=["3f6c2a8e-51b4-4c1e-9d0a-7b2f1e6c9a40"],
    ),
]
BatchId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="Unique per batch of this device (a random UUID); a retry sends the "
        "same batch with the same id.",
        examples=["b7d1c0e2-6a4f-4d55-8f0e-2c9b1a7e5d33"],
    ),
]
CampaignId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$", examples=["cmp-1212"])]
LocalDate = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="A local day (the store's time zone), YYYY-MM-DD.",
        examples=["2026-12-05"],
    ),
]


class StorefrontEvent(Schema, kw_only=True):
    type: EventType
    store_id: StoreId
    at: Annotated[
        datetime,
        Meta(
            tz=True,
            description="When it happened on the client, ISO-8601 with a zone (UTC 'Z'). "
            "More than 1 day old or 5 minutes ahead of the server: dropped (rejected).",
        ),
    ]
    sku: Sku | None = None
    campaign_id: Annotated[
        CampaignId | None,
        Meta(description="The campaign the page was opened from (an unknown one counts as none)."),
    ] = None


class EventBatch(Schema, kw_only=True):
    batch_id: BatchId
    device_id: DeviceId
    events: Annotated[list[StorefrontEvent], Meta(min_length=1, max_length=MAX_EVENTS)]


class EventRejection(Out, kw_only=True):
    index: Annotated[int, Meta(description="The event's position in ``events``.")]
    reason: Annotated[
        Literal["too_old", "in_the_future", "unknown_store"],
        Meta(description="Why the event was dropped (the rest of the batch still counts)."),
    ]


class EventBatchResult(Out, kw_only=True):
    batch_id: str
    duplicate: Annotated[
        bool, Meta(description="The batch was counted before: nothing was counted again.")
    ]
    accepted: Annotated[int, Meta(description="Events counted (by the first delivery).")]
    rejected: Annotated[int, Meta(description="Events dropped (by the first delivery).")]
    rejections: Annotated[
        list[EventRejection], Meta(description="Each dropped event and why (empty on a replay).")
    ]
    uncampaigned: Annotated[
        int, Meta(description="Counted events whose campaign_id is unknown: counted under none.")
    ]


class TrafficQuery(Schema, kw_only=True):
    store_id: StoreId | None = None
    # ``from`` is a Python keyword: the field is named from_ and read as ``from``.
    from_: Annotated[LocalDate | None, Meta(description="First day; default 6 days before to.")] = (
        msgspec.field(default=None, name="from")
    )
    to: Annotated[LocalDate | None, Meta(description="Last day; default today.")] = None
    campaign_id: Annotated[
        CampaignId | None, Meta(description="Only the events that named this campaign.")
    ] = None


class TrafficCounts(Out, kw_only=True):
    visits: Annotated[int, Meta(description="visit_store events.")]
    visitors: Annotated[int, Meta(description="Distinct devices that visited (进店量).")]
    product_views: int
    carts: Annotated[int, Meta(description="add_to_cart events.")]
    cart_visitors: Annotated[int, Meta(description="Distinct devices that added to cart.")]
    checkouts: Annotated[int, Meta(description="start_checkout events.")]
    checkout_visitors: Annotated[int, Meta(description="Distinct devices that started checkout.")]


class TrafficDay(TrafficCounts, kw_only=True):
    day: LocalDate


class TrafficReport(Out, kw_only=True):
    store_id: Annotated[str | None, Meta(description="null: every store, summed.")]
    from_: LocalDate = msgspec.field(name="from")
    to: LocalDate
    campaign_id: str | None
    days: Annotated[list[TrafficDay], Meta(description="Every day of the window, oldest first.")]
    total: Annotated[
        TrafficCounts,
        Meta(description="The days summed (a device on two days is two daily visitors)."),
    ]


BATCH_EXAMPLE = {
    "batch_id": "b7d1c0e2-6a4f-4d55-8f0e-2c9b1a7e5d33",
    "device_id": "3f6c2a8e-51b4-4c1e-9d0a-7b2f1e6c9a40",
    "events": [
        {"type": "visit_store", "store_id": "sh-jingan", "at": "2026-12-05T02:30:00Z"},
        {
            "type": "view_product",
            "store_id": "sh-jingan",
            "at": "2026-12-05T02:30:04Z",
            "sku": "100001",
            "campaign_id": "cmp-1212",
        },
        {
            "type": "add_to_cart",
            "store_id": "sh-jingan",
            "at": "2026-12-05T02:30:09Z",
            "sku": "100001",
            "campaign_id": "cmp-1212",
        },
    ],
}
RESULT_EXAMPLE = {
    "batch_id": "b7d1c0e2-6a4f-4d55-8f0e-2c9b1a7e5d33",
    "duplicate": False,
    "accepted": 3,
    "rejected": 0,
    "rejections": [],
    "uncampaigned": 0,
}
_DAY = {
    "visits": 412,
    "visitors": 298,
    "product_views": 1730,
    "carts": 260,
    "cart_visitors": 121,
    "checkouts": 88,
    "checkout_visitors": 80,
}
REPORT_EXAMPLE = {
    "store_id": "sh-jingan",
    "from": "2026-12-04",
    "to": "2026-12-05",
    "campaign_id": None,
    "days": [dict(_DAY, day="2026-12-04"), dict(_DAY, day="2026-12-05")],
    "total": {k: 2 * v for k, v in _DAY.items()},
}
