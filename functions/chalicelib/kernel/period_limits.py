"""Per-period redemption limits in the API and in storage (issue 18 item 3;
docs/promotions.md "Limits and anti-abuse"). Shared by promotions/ (their ``limits``
fields) and coupons/ (a coupon template's ``limits``, copied onto each coupon issued so
that checkout knows its counters before reading the cart). The counting itself, counter
keys, local days and ISO weeks, and the reservation in the order's transaction, is
promotions/limits.py, used by checkout for both."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema

Times = Annotated[int, Meta(ge=1, le=100_000)]
PerCustomerPerDay = Annotated[
    Times | None, Meta(description="Orders per customer per local day that get it.")
]
PerCustomerPerWeek = Annotated[
    Times | None, Meta(description="Orders per customer per ISO week (Monday first).")
]
PerStorePerDay = Annotated[
    Times | None, Meta(description="Orders per store per local day that get it.")
]
FIELDS = ("per_customer_per_day", "per_customer_per_week", "per_store_per_day")


class PeriodLimits(Schema, kw_only=True):
    """How many orders may use coupons of this template (Asia/Shanghai days, ISO weeks);
    every field optional (absent: not limited)."""

    per_customer_per_day: PerCustomerPerDay = None
    per_customer_per_week: PerCustomerPerWeek = None
    per_store_per_day: PerStorePerDay = None


class PeriodLimitsOut(Out, kw_only=True):
    """A coupon template's redemption limits (null: not limited by that period)."""

    per_customer_per_day: int | None
    per_customer_per_week: int | None
    per_store_per_day: int | None


PERIOD_LIMITS_EXAMPLE: dict[str, Any] = {"per_customer_per_day": 1, "per_store_per_day": 200}


def stored(spec: PeriodLimits | None) -> dict[str, int] | None:
    """What an item holds: only the limits set (a map attribute holds no nulls), None
    when none is (no attribute, the item stays as it was)."""
    if spec is None:
        return None
    out = {f: getattr(spec, f) for f in FIELDS if getattr(spec, f) is not None}
    return out or None


def as_dict(raw: Any) -> dict[str, int]:
    """A stored map (a map attribute read back, or a plain dict) as {field: limit}."""
    if raw is not None and hasattr(raw, "as_dict"):
        raw = raw.as_dict()
    return {f: int(v) for f, v in dict(raw or {}).items() if f in FIELDS and v is not None}


def view(raw: Any) -> PeriodLimitsOut | None:
    """The API's view of stored limits (None: not limited)."""
    d = as_dict(raw)
    if not d:
        return None
    return PeriodLimitsOut(**{f: d.get(f) for f in FIELDS})
