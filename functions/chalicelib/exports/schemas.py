"""Exports: a CSV of a list the caller can see, made by a background job."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from chalicelib.customers.schemas import SegmentFilter
from chalicelib.kernel.schema import Out, Phone, Schema, StoreId, Timestamp
from chalicelib.members.schemas import SourceKind

Day = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="A business day (YYYY-MM-DD) in the store's time zone, inclusive.",
        examples=["2026-11-24"],
    ),
]
ExportKind = Literal[
    "orders",
    "refunds",
    "coupon_redemptions",
    "stock",
    "daily_sales",
    "returns",
    "audit",
    "members",
    "points_entries",
    "stored_value_entries",
    "segment",
]
UtcDay = Annotated[
    str,
    Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A UTC day (YYYY-MM-DD), inclusive."),
]


class ExportFilters(Schema, kw_only=True):
    store_id: StoreId | None = None  # store roles: their own store (the default)
    date_from: Day | None = None  # orders, refunds, coupon_redemptions, daily_sales
    date_to: Day | None = None
    status: (
        Annotated[
            str,
            Meta(
                pattern=r"^[a-z_]{1,32}$",
                description="orders: one order status; returns: one return status",
            ),
        ]
        | None
    ) = None
    # orders only, as GET /admin/orders filters them (head office's list across stores)
    store_ids: (
        Annotated[
            str,
            Meta(
                pattern=r"^[a-z0-9][a-z0-9-]{1,31}(,[a-z0-9][a-z0-9-]{1,31}){0,49}$",
                description="orders, head office only: several stores, comma separated",
            ),
        ]
        | None
    ) = None
    fulfilment: Literal["delivery", "pickup"] | None = None
    min_paid_fen: Annotated[int, Meta(ge=0)] | None = None
    max_paid_fen: Annotated[int, Meta(ge=0)] | None = None
    has_refund: bool | None = None
    missed_print: bool | None = None
    # audit only: the log page's filters (GET /admin/audit)
    actor: Annotated[str, Meta(max_length=64)] | None = None
    target_type: Annotated[str, Meta(pattern=r"^[a-z_]{1,32}$", examples=["store_item"])] | None = (
        None
    )
    target_id: Annotated[str, Meta(max_length=200, examples=["sh-jingan/100001"])] | None = None
    # members only: the member list's filters (GET /admin/members)
    phone: Phone | None = None
    source_kind: SourceKind | None = None
    registered_from: UtcDay | None = None
    registered_to: UtcDay | None = None
    level: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,20}$", examples=["V3"])] | None = None
    # points_entries and stored_value_entries: the member whose ledger it is
    customer_id: (
        Annotated[str, Meta(min_length=1, max_length=64, examples=["c-0123456789abcdef"])] | None
    ) = None
    # segment only (head office): a saved segment or a filter; phones masked unless
    # purpose "campaign" with a campaign and unmasked: then only consenting members
    segment_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    segment: SegmentFilter | None = None
    purpose: Literal["campaign"] | None = None
    campaign: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    unmasked: bool | None = None


class ExportRequest(Schema, kw_only=True):
    kind: ExportKind
    filters: ExportFilters = field(default_factory=ExportFilters)
    language: Literal["zh-CN", "en"] = "zh-CN"


class ExportJob(Out, kw_only=True):
    export_id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    filters: dict[str, str]
    language: str
    created_by: str
    created_at: Timestamp
    finished_at: Timestamp | None = None
    rows_done: int = 0  # rows written so far
    rows_estimated: int = 0  # a running estimate; equals rows_done once succeeded
    file_name: str | None = None
    download_url: str | None = None  # when succeeded: a link that expires (download_expires_at)
    download_expires_at: Timestamp | None = None
    error: str | None = None
    excluded_no_consent: (
        Annotated[int, Meta(description="segment: members left out for marketing consent.")] | None
    ) = None
