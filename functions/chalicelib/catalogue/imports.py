"""ERP sync (商品/库存同步): applying validated product and store-item rows in bulk.

Each batch reads the current items first (BatchGetItem, 100 keys a call) and writes only
rows that differ (BatchWriteItem, 25 a call), so importing the same file twice changes
nothing and reports every row as unchanged. Stock from the ERP is absolute: it replaces
the store's figure at the moment of the sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pynamodb.exceptions import DoesNotExist

from chalicelib.catalogue.models import CategoryTreeModel, ProductModel, StoreItemModel
from chalicelib.catalogue.rules import (
    PRODUCT_COLUMNS,
    ProductRow,
    RowError,
    StoreItemRow,
    category_key,
)
from chalicelib.kernel import clock
from chalicelib.stores.models import StoreModel


@dataclass
class ApplyResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def add(self, other: ApplyResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors.extend(other.errors)


_PRODUCT_FIELDS = tuple(c for c in PRODUCT_COLUMNS if c != "sku")


def _same_product(model: ProductModel, row: ProductRow) -> bool:
    return all(getattr(model, f) == getattr(row, f) for f in _PRODUCT_FIELDS)


def apply_products(rows: Sequence[ProductRow]) -> ApplyResult:
    """Create or update products (unique SKUs). A product whose category changes is
    re-filed in every store that sells it."""
    result = ApplyResult()
    if not rows:
        return result
    existing = {
        p.sku: p for p in ProductModel.batch_get([r.sku for r in rows], consistent_read=True)
    }
    now = clock.now_iso()
    moved: list[ProductRow] = []
    pairs: set[str] = set()
    with ProductModel.batch_write() as batch:
        for row in rows:
            old = existing.get(row.sku)
            if old is not None and _same_product(old, row):
                result.unchanged += 1
                continue
            if old is None:
                result.created += 1
            else:
                result.updated += 1
                if (old.category1, old.category2) != (row.category1, row.category2):
                    moved.append(row)
            pairs.add(f"{row.category1}#{row.category2}")
            batch.save(
                ProductModel(
                    row.sku,
                    **{f: getattr(row, f) for f in _PRODUCT_FIELDS},
                    updated_at=now,
                    # an editor who opened the product before this import gets a 409
                    version=None if old is None else int(old.version or 0) + 1,
                )
            )
    if pairs:
        CategoryTreeModel("all").update(actions=[CategoryTreeModel.pairs.add(pairs)])
    for row in moved:
        refile(row.sku, row.category1, row.category2, now)
    return result


def refile(sku: str, category1: str, category2: str, now: str) -> None:
    """Move a product's store items to its (new) category in every store, and make sure
    the category is in the tree."""
    CategoryTreeModel("all").update(
        actions=[CategoryTreeModel.pairs.add({f"{category1}#{category2}"})]
    )
    for key in StoreItemModel.by_sku.query(sku):
        StoreItemModel(key.store_id, sku).update(
            actions=[
                StoreItemModel.category_key.set(category_key(category1, category2, sku)),
                StoreItemModel.updated_at.set(now),
            ],
            condition=StoreItemModel.sku.exists(),
        )


def apply_store_items(
    rows: Sequence[tuple[int, StoreItemRow]],
    known_stores: dict[str, bool],
    product_categories: dict[str, tuple[str, str] | None] | None = None,
) -> ApplyResult:
    """Set prices and stock per store. Rows naming an unknown store or SKU are refused.

    ``known_stores`` and ``product_categories`` cache lookups across the batches of one
    import: a stock file names each SKU once per store, so each product is read once.
    """
    result = ApplyResult()
    if not rows:
        return result
    cats = product_categories if product_categories is not None else {}
    for store_id in {r.store_id for _, r in rows} - known_stores.keys():
        try:
            StoreModel.get(store_id, attributes_to_get=["store_id"])
            known_stores[store_id] = True
        except DoesNotExist:
            known_stores[store_id] = False
    missing = list({r.sku for _, r in rows} - cats.keys())
    if missing:
        found = ProductModel.batch_get(missing, attributes_to_get=["sku", "category1", "category2"])
        for p in found:
            cats[p.sku] = (p.category1, p.category2)
        for sku in missing:
            cats.setdefault(sku, None)
    valid: list[tuple[int, StoreItemRow]] = []
    for line, row in rows:
        if not known_stores[row.store_id]:
            result.errors.append(RowError(line, "store_id", f"unknown store {row.store_id!r}"))
        elif cats.get(row.sku) is None:
            result.errors.append(
                RowError(line, "sku", f"unknown SKU {row.sku!r}; import the product first")
            )
        else:
            valid.append((line, row))
    existing = {
        (i.store_id, i.sku): i
        for i in StoreItemModel.batch_get(
            [(r.store_id, r.sku) for _, r in valid], consistent_read=True
        )
    }
    now = clock.now_iso()
    with StoreItemModel.batch_write() as batch:
        for _, row in valid:
            pair = cats[row.sku]
            assert pair is not None  # rows of unknown SKUs are not valid
            category1, category2 = pair
            key = category_key(category1, category2, row.sku)
            old = existing.get((row.store_id, row.sku))
            if old is not None and (
                int(old.price_fen),
                int(old.stock),
                bool(old.on_sale),
                old.category_key,
            ) == (row.price_fen, row.stock, row.on_sale, key):
                result.unchanged += 1
                continue
            if old is None:
                result.created += 1
            else:
                result.updated += 1
            batch.save(
                StoreItemModel(
                    row.store_id,
                    row.sku,
                    price_fen=row.price_fen,
                    stock=row.stock,
                    on_sale=row.on_sale,
                    category_key=key,
                    updated_at=now,
                )
            )
    return result
