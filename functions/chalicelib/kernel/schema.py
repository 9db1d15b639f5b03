"""Schema building blocks shared by every area."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

Fen = Annotated[int, Meta(ge=0, le=100_000_000_00, description="Money in integer fen (分), CNY.")]
PositiveFen = Annotated[
    int, Meta(ge=1, le=100_000_000_00, description="Money in integer fen (分).")
]
StoreId = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9][a-z0-9-]{1,31}$",
        description="Store id: lowercase letters, digits, '-'.",
        examples=["sh-jingan"],
    ),
]
Sku = Annotated[
    str,
    Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Stock-keeping unit.", examples=["100001"]),
]
Phone = Annotated[
    str,
    Meta(
        pattern=r"^1[3-9]\d{9}$",
        description="Mainland mobile number, 11 digits.",
        examples=["13800000001"],
    ),
]
Latitude = Annotated[float, Meta(ge=-90, le=90, examples=[31.2236])]
Longitude = Annotated[float, Meta(ge=-180, le=180, examples=[121.4457])]
Timestamp = Annotated[
    str, Meta(description="UTC ISO-8601 time.", examples=["2026-11-24T02:30:00Z"])
]


class Schema(Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of request schemas: unknown fields are refused, so typos do not pass silently."""


class Out(Struct, kw_only=True):
    """Base of response schemas: every field is always sent (null when it has no value),
    so clients never have to tell a missing field from a false one."""


class ErrorDetail(Out, kw_only=True):
    """One bad field (a path such as ``items[0].qty``) and why; some codes add keys."""

    field: str
    reason: str


class ErrorBody(Out, kw_only=True):
    """All three keys are always present; ``details`` is null when there is nothing to add."""

    code: str
    message: str
    details: list[ErrorDetail] | dict[str, Any] | None


class ErrorResponse(Out, kw_only=True):
    """Every 4xx/5xx response."""

    error: ErrorBody


# --- targeting (issue 18 item 4): shared by promotions and coupon templates ------------

HHMM = Annotated[str, Meta(pattern=r"^\d\d:\d\d$", examples=["18:00"])]


class RecurrenceSpec(Schema, kw_only=True):
    """A weekly window on Shanghai time: on ``weekdays`` (ISO, 1 = Monday ... 7 = Sunday)
    from ``start`` to ``end`` (local HH:MM, end after start on the same day, "24:00"
    allowed; a window crossing midnight is refused). Inside the overall window."""

    weekdays: Annotated[list[Annotated[int, Meta(ge=1, le=7)]], Meta(min_length=1, max_length=7)]
    start: HHMM
    end: HHMM


class RecurrenceOut(Out, kw_only=True):
    weekdays: list[int]
    start: str
    end: str
    text: str  # e.g. "Wednesdays 18:00–21:00"


class AudienceSpec(Schema, kw_only=True):
    """Who may get it: members at ``min_level`` or above, or the members of a saved
    segment (docs/segments.md) as of the latest snapshot. One of the two."""

    min_level: Annotated[str, Meta(pattern=r"^V[1-9]$", examples=["V3"])] | None = None
    segment_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None


class AudienceOut(Out, kw_only=True):
    min_level: str | None
    segment_id: str | None
