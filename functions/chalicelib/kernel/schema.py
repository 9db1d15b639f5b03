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
