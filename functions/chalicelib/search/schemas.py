"""Global search: what the back office looks up by one string, grouped by kind."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

Link = Annotated[
    str, Meta(description="Admin site route that opens the result.", examples=["#/orders/x"])
]


class SearchQuery(Schema, kw_only=True):
    q: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=64,
            pattern=r"\S",  # not blank
            description="Order number (the ticket's code), pickup code, member phone, SKU, "
            "barcode, store id or part of a store's name.",
            examples=["261124K7QX3M9P"],
        ),
    ]


class SearchOrder(Out, kw_only=True):
    order_id: str
    store_id: str
    status: str
    fulfilment: str
    total_fen: int
    created_at: Timestamp
    matched: str  # order_id | pickup_code | phone
    link: Link


class SearchCustomer(Out, kw_only=True):
    customer_id: str
    phone_masked: str
    nickname: str | None
    link: Link | None  # head office: the member's wallet; null for store roles


class SearchProduct(Out, kw_only=True):
    sku: str
    name: str
    barcode: str | None
    link: Link


class SearchStore(Out, kw_only=True):
    store_id: str
    name: str
    link: Link


class SearchResults(Out, kw_only=True):
    q: str  # as searched (trimmed)
    orders: list[SearchOrder]
    customers: list[SearchCustomer]
    products: list[SearchProduct]
    stores: list[SearchStore]


_ORDER = {
    "order_id": "261124K7QX3M9P",
    "store_id": "sh-jingan",
    "status": "ready_for_pickup",
    "fulfilment": "pickup",
    "total_fen": 6880,
    "created_at": "2026-11-24T02:30:00Z",
    "matched": "pickup_code",
    "link": "#/orders/261124K7QX3M9P",
}

EXAMPLES = {
    "SearchOrder": _ORDER,
    "SearchResults": {
        "q": "042517",
        "orders": [_ORDER],
        "customers": [],
        "products": [],
        "stores": [],
    },
}
