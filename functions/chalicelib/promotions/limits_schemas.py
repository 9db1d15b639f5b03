"""A promotion's ``limits`` in the API (issue 18 item 3): promotions/limits.py holds the
rules; docs/promotions.md, "Limits and anti-abuse", the policy."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from chalicelib.kernel.period_limits import (
    PerCustomerPerDay,
    PerCustomerPerWeek,
    PerStorePerDay,
    Times,
)
from chalicelib.kernel.schema import Out, Schema

Fingerprint = Literal["device", "address", "payment"]


class LimitsSpec(Schema, kw_only=True):
    """A promotion's limits; every field optional (absent: not limited)."""

    per_customer_per_day: PerCustomerPerDay = None
    per_customer_per_week: PerCustomerPerWeek = None
    per_customer_per_campaign: Annotated[
        Times | None, Meta(description="Orders per customer over the whole promotion.")
    ] = None
    per_order_units: Annotated[
        Times | None,
        Meta(
            description="Per order: second_half_price, at most this many units at half "
            "price; add_on, at most this many add-on units (with max_units, the lower "
            "wins); bundle, at most this many bundles."
        ),
    ] = None
    per_store_per_day: PerStorePerDay = None
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
            max_length=3,
            description="New-customer benefits: accounts sharing this device (the order's "
            "device_id), delivery address or payment account (the order's payment_account, "
            "and the payer the payment confirms) count as one customer.",
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


class AbuseQuery(Schema, kw_only=True):
    days: Annotated[
        int, Meta(ge=1, le=365, description="Fingerprints used within this many days.")
    ] = 30


class AbuseOrder(Out, kw_only=True):
    order_id: str
    customer_id: str
    discount_fen: int  # the new-customer benefits the order got
    promotion_id: str
    at: str


class SharedFingerprint(Out, kw_only=True):
    """A device, delivery address or payment account (only its hash is kept) several
    customers used to take new-customer benefits."""

    kind: str  # "device" | "address" | "payment"
    fingerprint: str  # its hash
    first_customer_id: str  # the customer who used it first (the others are refused
    # where the promotion says one_per)
    customers: list[str]
    orders: list[AbuseOrder]
    discount_fen: int
    last_at: str


class AbuseReport(Out, kw_only=True):
    days: int
    items: list[SharedFingerprint]


ABUSE_EXAMPLE = {
    "days": 30,
    "items": [
        {
            "kind": "device",
            "fingerprint": "9b1f0c3a5d7e2f4a6b8c0d1e2f3a4b5c",
            "first_customer_id": "c-13800001111",
            "customers": ["c-13800001111", "c-13900002222"],
            "orders": [
                {
                    "order_id": "261124ABCDEFGH",
                    "customer_id": "c-13800001111",
                    "discount_fen": 1000,
                    "promotion_id": "P9f2c1a7b3e4d5c6a",
                    "at": "2026-11-24T08:00:00Z",
                },
                {
                    "order_id": "261125HGFEDCBA",
                    "customer_id": "c-13900002222",
                    "discount_fen": 1000,
                    "promotion_id": "P9f2c1a7b3e4d5c6a",
                    "at": "2026-11-25T09:30:00Z",
                },
            ],
            "discount_fen": 2000,
            "last_at": "2026-11-25T09:30:00Z",
        }
    ],
}
