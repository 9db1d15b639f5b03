"""Zones in the API: head office curates add-on zones (凑单专区) and fixed-price zones
(9.9元专区); the storefront reads the zones live at a store with their products."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from chalicelib.kernel.schema import Out, PositiveFen, Schema, Sku, StoreId, Timestamp

Kind = Literal["add_on", "fixed_price"]
Status = Literal["active", "ended"]
Name = Annotated[
    str,
    Meta(min_length=1, max_length=60, description="Shown to customers.", examples=["9.9元专区"]),
]
ZoneId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
CampaignId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Skus = Annotated[
    list[Sku],
    Meta(
        min_length=1,
        max_length=50,
        description="The zone's products, in the order the storefront shows them (at most 50).",
    ),
]


class ZoneFields(Schema, kw_only=True):
    """``add_on``: a curated list of products whose prices close a cart's gap (the
    quote's ``add_on_suggestions``); window optional (none: always). ``fixed_price``:
    those products at ``price_fen`` from ``starts_at`` to ``ends_at`` (both required),
    up to ``per_customer_limit`` units per product and customer (none: no limit);
    with a ``campaign_id`` the discount against the list price spends that campaign's
    budget, and the zone prices only while the campaign is spending. ``stores`` empty:
    every store."""

    kind: Kind
    name: Name
    skus: Skus
    stores: Annotated[list[StoreId], Meta(max_length=200)] = field(default_factory=list)
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    price_fen: PositiveFen | None = None
    per_customer_limit: Annotated[int, Meta(ge=1, le=99)] | None = None
    campaign_id: CampaignId | None = None
    funded_by: Literal["hq", "store", "supplier"] = "hq"


class ZoneCreate(ZoneFields, kw_only=True):
    zone_id: Annotated[
        ZoneId | None,
        Meta(
            description="Your own id makes retries safe: the same body again answers the "
            "zone made, a different one 409 zone_exists. Omit it for a generated one."
        ),
    ] = None


class ZoneUpdate(ZoneFields, kw_only=True):
    """The whole zone again, at the ``version`` read; ``status`` ``ended`` takes it off
    the storefront and out of pricing."""

    version: Annotated[int, Meta(ge=0)]
    status: Status = "active"


class Zone(Out, kw_only=True):
    zone_id: str
    kind: Kind
    name: str
    status: Status
    live: Annotated[bool, Meta(description="Active and in its window now.")]
    skus: list[str]
    stores: list[str]
    starts_at: str | None
    ends_at: str | None
    price_fen: int | None
    per_customer_limit: int | None
    campaign_id: str | None
    funded_by: str
    created_by: str
    created_at: str
    updated_at: str
    version: int


class ZoneList(Out, kw_only=True):
    items: list[Zone]


class ZoneListQuery(Schema, kw_only=True):
    status: Status | None = None


class ZoneProduct(Out, kw_only=True):
    sku: str
    name: str
    unit: str
    image_url: str | None
    list_price_fen: Annotated[int, Meta(description="The store's price.")]
    price_fen: Annotated[
        int, Meta(description="What a unit costs in this zone: the fixed price, or the list price.")
    ]
    stock: int
    in_stock: bool


class StoreZone(Out, kw_only=True):
    zone_id: str
    kind: Kind
    name: str
    starts_at: str | None
    ends_at: str | None
    price_fen: int | None
    per_customer_limit: int | None
    products: Annotated[
        list[ZoneProduct],
        Meta(description="In the zone's order; products the store does not sell are left out."),
    ]


class StoreZones(Out, kw_only=True):
    store_id: str
    now: str
    zones: list[StoreZone]


class SuggestionQuery(Schema, kw_only=True):
    store_id: StoreId
    gap_fen: PositiveFen


class SuggestedUnit(Out, kw_only=True):
    sku: str
    name: str
    qty: int
    price_fen: Annotated[int, Meta(description="What one unit adds toward the gap.")]


class Suggestion(Out, kw_only=True):
    items: list[SuggestedUnit]
    total_fen: Annotated[int, Meta(description="What the units add together (at least the gap).")]


class SuggestionPreview(Out, kw_only=True):
    zone_id: str
    store_id: str
    gap_fen: int
    suggestions: list[Suggestion]
