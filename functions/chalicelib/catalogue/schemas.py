"""Catalogue: products, a store's prices and stock, browsing, ERP imports."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from chalicelib.kernel.schema import Out, Schema, Timestamp

Category = Annotated[str, Meta(min_length=1, max_length=20, pattern=r"^[^#]+$", examples=["水果"])]
Limit = Annotated[int, Meta(ge=1, le=100)]


class Product(Out, kw_only=True):
    sku: str
    name: str
    category1: str
    category2: str
    unit: str
    barcode: str | None = None
    fresh: bool = False
    zone: str | None = None
    shelf: str | None = None
    image_url: str | None = None
    active: bool = True


class StoreProduct(Product, kw_only=True):
    """A product as one store sells it."""

    store_id: str
    price_fen: int
    stock: int
    on_sale: bool = True
    available: bool = True  # on sale, active and in stock


class AdminStoreItem(StoreProduct, kw_only=True):
    """A product as one store sells it, for the back office: also items not on sale, out
    of stock or of inactive products."""

    updated_at: Timestamp  # last change of this store's price, stock or on-sale flag
    cost_fen: int | None = None  # the product's unit cost, where known (margin floor)


class AdminStoreItemPage(Out, kw_only=True):
    items: list[AdminStoreItem]
    next_cursor: str | None = None  # pass as ?cursor= to go on; absent when nothing is left


class AdminItemQuery(Schema, kw_only=True):
    category1: Category | None = None
    q: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=60,
                description="SKU prefix, whole barcode, or part of the name; any case.",
                examples=["牛奶"],
            ),
        ]
        | None
    ) = None
    cursor: Annotated[str, Meta(max_length=2000)] | None = None
    limit: Limit = 50


class ProductPage(Out, kw_only=True):
    items: list[StoreProduct]
    next_cursor: str | None = None  # pass as ?cursor= for the next page; absent on the last


class CatalogueQuery(Schema, kw_only=True):
    category1: Category | None = None
    category2: Category | None = None
    cursor: Annotated[str, Meta(max_length=2000)] | None = None
    limit: Limit = 20


class CategoryNode(Out, kw_only=True):
    category1: str
    children: list[str]


class CategoryTree(Out, kw_only=True):
    items: list[CategoryNode]


class ProductUpsert(Schema, kw_only=True):
    """Create or replace one product (the ERP import does the same in bulk)."""

    name: Annotated[str, Meta(min_length=1, max_length=60)]
    category1: Category
    category2: Category
    unit: Annotated[str, Meta(min_length=1, max_length=10)]
    barcode: Annotated[str, Meta(pattern=r"^\d{8}$|^\d{12,14}$")] | None = None
    fresh: bool = False
    zone: Annotated[str, Meta(max_length=20)] | None = None
    shelf: Annotated[str, Meta(max_length=20)] | None = None
    image_url: Annotated[str, Meta(pattern=r"^https?://\S{1,500}$")] | None = None
    active: bool = True
    cost_fen: (
        Annotated[
            int,
            Meta(
                ge=0,
                le=10_000_000,
                description="Unit cost in fen, if known: discounts never sell below it. "
                "Shown only in the back office.",
            ),
        ]
        | None
    ) = None


class AdminProduct(Product, kw_only=True):
    """A product for head office: with its unit cost and the version to edit it at."""

    cost_fen: int | None = None
    updated_at: Timestamp
    version: int  # + 1 on every edit here: send it back as expected_version


Text20 = Annotated[str, Meta(max_length=20)]


class ProductEdit(Schema, kw_only=True):
    """Change some details of a product; absent fields stay as they are, ``null`` clears
    an optional one (barcode, zone, shelf, image_url, cost_fen)."""

    name: Annotated[str, Meta(min_length=1, max_length=60)] | UnsetType = UNSET
    category1: Category | UnsetType = UNSET
    category2: Category | UnsetType = UNSET
    unit: Annotated[str, Meta(min_length=1, max_length=10)] | UnsetType = UNSET
    barcode: Annotated[str, Meta(pattern=r"^\d{8}$|^\d{12,14}$")] | UnsetType | None = UNSET
    zone: Text20 | UnsetType | None = UNSET
    shelf: Text20 | UnsetType | None = UNSET
    image_url: Annotated[str, Meta(pattern=r"^https?://\S{1,500}$")] | UnsetType | None = UNSET
    cost_fen: Annotated[int, Meta(ge=0, le=10000000)] | UnsetType | None = UNSET
    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | UnsetType = UNSET


class StoreItemUpdate(Schema, kw_only=True):
    """Change a product's price, stock or on-sale flag in one store."""

    price_fen: Annotated[int, Meta(ge=1, le=10_000_000)] | UnsetType = UNSET
    stock: Annotated[int, Meta(ge=0, le=1_000_000)] | UnsetType = UNSET
    on_sale: bool | UnsetType = UNSET


class ImportQuery(Schema, kw_only=True):
    kind: Literal["products", "store_items"]


class RejectedRow(Out, kw_only=True):
    line: int
    field: str
    reason: str


class ImportJob(Out, kw_only=True):
    job_id: str
    kind: str
    file_format: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created_by: str
    created_at: Timestamp
    finished_at: Timestamp | None = None
    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_rows: list[RejectedRow] = []  # noqa: RUF012 - msgspec copies defaults
    error: str | None = None


class ImportList(Out, kw_only=True):
    items: list[ImportJob]


_ADMIN_ITEM = {
    "sku": "300012",
    "name": "光明 优倍鲜牛奶 950ml",
    "category1": "乳品烘焙",
    "category2": "牛奶",
    "unit": "瓶",
    "barcode": "6901234567892",
    "fresh": True,
    "zone": "B 冷藏区",
    "shelf": "B-03",
    "image_url": None,
    "active": True,
    "store_id": "sh-jingan",
    "price_fen": 1690,
    "stock": 0,
    "on_sale": True,
    "available": False,
    "updated_at": "2026-11-24T02:30:00Z",
}

_ADMIN_PRODUCT = {
    **{k: v for k, v in _ADMIN_ITEM.items() if k in Product.__struct_fields__},
    "cost_fen": 1200,
    "updated_at": "2026-11-24T02:30:00Z",
    "version": 2,
}

EXAMPLES: dict[str, Any] = {
    "AdminProduct": _ADMIN_PRODUCT,
    "AdminStoreItem": _ADMIN_ITEM,
    "AdminStoreItemPage": {"items": [_ADMIN_ITEM], "next_cursor": "eyJzdG9yZV9pZCI6..."},
}


# --- bulk changes ---------------------------------------------------------------------

StoreIdField = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$", examples=["sh-jingan"])]
SkuField = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$", examples=["300012"])]


class CopyPrices(Schema, kw_only=True):
    """Copy the prices of ``skus`` from one store to others (head office)."""

    from_store: StoreIdField
    to_stores: Annotated[list[StoreIdField], Meta(min_length=1, max_length=50)]
    skus: Annotated[list[SkuField], Meta(min_length=1, max_length=1000)]


class BulkJobCreate(Schema, kw_only=True):
    """Either ``rows`` or ``copy_prices``."""

    rows: (
        Annotated[
            list[dict[str, Any]],
            Meta(
                max_length=1000,
                description="Each row: store_id, sku and at least one of price_fen "
                "(integer fen), stock, on_sale; optionally expected_price_fen / "
                "expected_stock (the values you saw: the row is refused as a conflict if "
                "the item holds something else). Bad rows are reported one by one.",
            ),
        ]
        | None
    ) = None
    copy_prices: CopyPrices | None = None


class BulkRowResult(Out, kw_only=True):
    row: int  # index in ``rows`` (copy_prices: in to_stores x skus order)
    store_id: str | None = None
    sku: str | None = None
    status: Literal["pending", "applied", "unchanged", "rejected", "conflict"]
    field: str | None = None
    reason: str | None = None


class BulkJob(Out, kw_only=True):
    job_id: str
    kind: Literal["store_items", "copy_prices"]
    status: Literal["queued", "running", "succeeded", "failed"]
    created_by: str
    created_at: Timestamp
    finished_at: Timestamp | None = None
    total_rows: int = 0
    processed_rows: int = 0
    applied: int = 0
    unchanged: int = 0
    rejected: int = 0
    conflicts: int = 0
    results: list[BulkRowResult] = []  # noqa: RUF012 - msgspec copies defaults
    error: str | None = None


_BULK_JOB = {
    "job_id": "blk-3f1c0a9e2b7d4c5a6e8f9012",
    "kind": "store_items",
    "status": "succeeded",
    "created_by": "hq-admin",
    "created_at": "2026-11-24T02:30:00.123Z",
    "finished_at": "2026-11-24T02:30:00.456Z",
    "total_rows": 2,
    "processed_rows": 2,
    "applied": 1,
    "unchanged": 0,
    "rejected": 1,
    "conflicts": 0,
    "results": [
        {
            "row": 0,
            "store_id": "sh-jingan",
            "sku": "300012",
            "status": "applied",
            "field": None,
            "reason": None,
        },
        {
            "row": 1,
            "store_id": "sh-jingan",
            "sku": "999999",
            "status": "rejected",
            "field": "sku",
            "reason": "store sh-jingan does not sell 999999",
        },
    ],
    "error": None,
}
EXAMPLES["BulkJob"] = _BULK_JOB
