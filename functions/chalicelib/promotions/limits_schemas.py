"""A promotion's ``limits`` in the API (issue 18 item 3): promotions/limits.py holds the
rules; docs/promotions.md, "Limits and anti-abuse", the policy."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from chalicelib.kernel.schema import Out, Schema

Times = Annotated[int, Meta(ge=1, le=100_000)]
Fingerprint = Literal["device", "address"]


class LimitsSpec(Schema, kw_only=True):
    """A promotion's limits; every field optional (absent: not limited)."""

    per_customer_per_day: Annotated[
        Times | None, Meta(description="Orders per customer per local day that get it.")
    ] = None
    per_customer_per_week: Annotated[
        Times | None, Meta(description="Orders per customer per ISO week (Monday first).")
    ] = None
    per_customer_per_campaign: Annotated[
        Times | None, Meta(description="Orders per customer over the whole promotion.")
    ] = None
    per_order_units: Annotated[
        Times | None,
        Meta(description="second_half_price: at most this many units at half price per order."),
    ] = None
    per_store_per_day: Annotated[
        Times | None, Meta(description="Orders per store per local day that get it.")
    ] = None
    first_order_only: Annotated[
        bool, Meta(description="Only on the customer's first order (no order before).")
    ] = False
    new_customers_only: Annotated[
        Annotated[int, Meta(ge=1, le=365)] | None,
        Meta(description="Only for customers registered within this many days, no order before."),
    ] = None
    one_per: Annotated[
        list[Fingerprint],
        Meta(
            max_length=2,
            description="New-customer benefits: accounts sharing this device or delivery "
            "address count as one customer.",
        ),
    ] = field(default_factory=list)


LIMITS_EXAMPLE = {
    "per_customer_per_day": 1,
    "per_store_per_day": 200,
    "per_order_units": 2,
}


class LimitsOut(Out, kw_only=True):
    per_customer_per_day: int | None
    per_customer_per_week: int | None
    per_customer_per_campaign: int | None
    per_order_units: int | None
    per_store_per_day: int | None
    first_order_only: bool
    new_customers_only: int | None
    one_per: list[str]
