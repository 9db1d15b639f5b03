"""Customers: a member's aggregates as head office and store managers read them."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from chalicelib.kernel.schema import Out, Timestamp

SignedFen = Annotated[int, Meta(description="Integer fen (分), CNY.")]
LocalDate = Annotated[str, Meta(description="The chain's local date (Asia/Shanghai), YYYY-MM-DD.")]


class CategorySpend(Out, kw_only=True):
    category1: Annotated[str, Meta(description="First-level category ('-': not known).")]
    spend_fen: SignedFen


class MemberStats(Out, kw_only=True):
    """A member's aggregates, kept live from order events (docs/segments.md); the
    figures that depend on today are computed when read."""

    customer_id: str
    registered_at: Timestamp | None = None
    orders: Annotated[int, Meta(description="Completed orders.")]
    spend_fen: Annotated[
        SignedFen, Meta(description="What the completed orders kept: paid - refunded.")
    ]
    average_order_fen: Annotated[SignedFen, Meta(description="spend / orders, rounded down.")]
    first_order_date: LocalDate | None = None
    last_order_date: LocalDate | None = None
    days_since_last_order: int | None = None
    months_since_last_order: int | None = None
    months_since_registered: int | None = None
    favourite_store_id: Annotated[
        str | None, Meta(description="The store with the most completed orders.")
    ] = None
    store_orders: Annotated[dict[str, int], Meta(description="Completed orders per store.")]
    categories: Annotated[
        list[CategorySpend], Meta(description="Spend by category, largest first.")
    ]
    orders_last_30_days: int
    fresh_orders_last_30_days: Annotated[
        int, Meta(description="Completed orders with a fresh (生鲜) line kept, last 30 days.")
    ]
    orders_last_90_days: int


EXAMPLE = {
    "customer_id": "c-5f2a9e01b7c44d10",
    "registered_at": "2026-06-02T02:10:00Z",
    "orders": 14,
    "spend_fen": 186040,
    "average_order_fen": 13288,
    "first_order_date": "2026-06-02",
    "last_order_date": "2026-11-28",
    "days_since_last_order": 7,
    "months_since_last_order": 0,
    "months_since_registered": 6,
    "favourite_store_id": "sh-jingan",
    "store_orders": {"sh-jingan": 11, "sh-xuhui": 3},
    "categories": [
        {"category1": "水果", "spend_fen": 72010},
        {"category1": "肉禽蛋", "spend_fen": 60530},
        {"category1": "乳品烘焙", "spend_fen": 53500},
    ],
    "orders_last_30_days": 4,
    "fresh_orders_last_30_days": 3,
    "orders_last_90_days": 9,
}
