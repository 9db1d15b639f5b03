"""Catalogue tables: products, the category tree, each store's price and stock of
a product, ERP import jobs. Money is integer fen; times are UTC ISO-8601."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta


class ProductsByBarcode(GlobalSecondaryIndex):
    """Which products carry a barcode: the global search finds a scanned or typed barcode
    without a scan. Sparse: a product without a barcode (the attribute absent; a barcode
    is never stored empty, rules.BARCODE_RE) is not in it. Keys only: the SKU."""

    class Meta:
        index_name = "by_barcode"
        projection = KeysOnlyProjection()

    barcode = UnicodeAttribute(hash_key=True)


class ProductModel(Model):
    """A product of the chain's catalogue, the same in every store."""

    Meta = _meta("products")

    sku = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    category1 = UnicodeAttribute()
    category2 = UnicodeAttribute()
    unit = UnicodeAttribute()
    barcode = UnicodeAttribute(null=True)
    fresh = BooleanAttribute(default=False)
    zone = UnicodeAttribute(null=True)  # picking zone, e.g. "A 生鲜区"
    shelf = UnicodeAttribute(null=True)  # shelf within the zone, e.g. "A-03"
    image_url = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    # Unit cost (fen) where the ERP knows it: checkout's margin floor refuses discount
    # stacks that would sell below it. Never shown to customers.
    cost_fen = NumberAttribute(null=True)
    updated_at = UnicodeAttribute()
    # + 1 on every change (PATCH /admin/products/{sku}, an import that changes it), so an
    # editor's expected_version catches both; see service.edit_product
    version = NumberAttribute(null=True)

    by_barcode = ProductsByBarcode()


class CategoryTreeModel(Model):
    """The two-level category tree as one item ("category1#category2" pairs), grown by
    product imports with an atomic ADD, read with one GetItem."""

    Meta = _meta("categories")

    tree_id = UnicodeAttribute(hash_key=True)  # always "all"
    pairs = UnicodeSetAttribute(default=set)


class StoreItemsByCategory(GlobalSecondaryIndex):
    """A store's catalogue in category order: ``category_key = category1#category2#sku``."""

    class Meta:
        index_name = "by_category"
        projection = AllProjection()

    store_id = UnicodeAttribute(hash_key=True)
    category_key = UnicodeAttribute(range_key=True)


class StoreItemsBySku(GlobalSecondaryIndex):
    """Which stores carry a SKU: used to re-file store items when a product changes category."""

    class Meta:
        index_name = "by_sku"
        projection = KeysOnlyProjection()

    sku = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute(range_key=True)


class StoreItemModel(Model):
    """A product's price and stock in one store."""

    Meta = _meta("store_items")

    store_id = UnicodeAttribute(hash_key=True)
    sku = UnicodeAttribute(range_key=True)
    price_fen = NumberAttribute()
    stock = NumberAttribute()
    on_sale = BooleanAttribute(default=True)
    category_key = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_category = StoreItemsByCategory()
    by_sku = StoreItemsBySku()


class ImportsByCreation(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "imports": few jobs a day
    created_at = UnicodeAttribute(range_key=True)


class ImportJobModel(Model):
    """One ERP import (products or store prices/stock) and its outcome."""

    Meta = _meta("import_jobs")

    job_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(default="imports")
    kind = UnicodeAttribute()  # "products" | "store_items"
    file_format = UnicodeAttribute()  # "csv" | "json"
    status = UnicodeAttribute()  # queued | running | succeeded | failed
    lease_until = NumberAttribute(default=0)  # epoch s; a running job's worker holds it until then
    object_key = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    total_rows = NumberAttribute(default=0)
    processed_rows = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)
    rejected_rows = ListAttribute[dict[str, Any]](
        default=list
    )  # first 1,000 of {line, field, reason}
    error = UnicodeAttribute(null=True)

    by_created = ImportsByCreation()


class BulkJobModel(Model):
    """One bulk change of store items (prices, stock, on-sale; copied prices): a job
    record with progress and a lease like an ERP import's. The id is derived from the
    caller and their Idempotency-Key, so a retried request finds the job it created."""

    Meta = _meta("bulk_jobs")

    job_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "store_items" | "copy_prices"
    status = UnicodeAttribute()  # queued | running | succeeded | failed
    lease_until = NumberAttribute(default=0)
    request_hash = UnicodeAttribute()  # the same key with another body is refused
    scope_store = UnicodeAttribute(null=True)  # a store manager's job: their store
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    total_rows = NumberAttribute(default=0)
    processed_rows = NumberAttribute(default=0)
    rows = ListAttribute[dict[str, Any]](default=list)  # the valid rows still to apply
    results = ListAttribute[dict[str, Any]](default=list)  # {row, store_id, sku, status, ...}
    error = UnicodeAttribute(null=True)


CATALOGUE_MODELS: tuple[type[Model], ...] = (
    ProductModel,
    CategoryTreeModel,
    StoreItemModel,
    ImportJobModel,
    BulkJobModel,
)
