"""A store's catalogue: browse by category with cursor pagination, edit one item."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pynamodb.exceptions import DoesNotExist, QueryError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal, require_store_access
from chalicelib.catalogue import schemas as s
from chalicelib.catalogue.models import CategoryTreeModel, ProductModel, StoreItemModel
from chalicelib.catalogue.rules import category_key, matches_search
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    field_error,
)
from chalicelib.stores.service import get_store_model

_encode_cursor = cursors.encode


def product_view(p: ProductModel) -> s.Product:
    return s.Product(
        sku=p.sku,
        name=p.name,
        category1=p.category1,
        category2=p.category2,
        unit=p.unit,
        barcode=p.barcode,
        fresh=bool(p.fresh),
        zone=p.zone,
        shelf=p.shelf,
        image_url=p.image_url,
        active=bool(p.active),
    )


def store_product_view(item: StoreItemModel, p: ProductModel) -> s.StoreProduct:
    base = product_view(p)
    stock = int(item.stock)
    return s.StoreProduct(
        **{f: getattr(base, f) for f in base.__struct_fields__},
        store_id=item.store_id,
        price_fen=int(item.price_fen),
        stock=stock,
        on_sale=bool(item.on_sale),
        available=bool(item.on_sale) and bool(p.active) and stock > 0,
    )


def admin_item_view(item: StoreItemModel, p: ProductModel) -> s.AdminStoreItem:
    base = store_product_view(item, p)
    return s.AdminStoreItem(
        **{f: getattr(base, f) for f in base.__struct_fields__},
        updated_at=item.updated_at,
        cost_fen=None if p.cost_fen is None else int(p.cost_fen),
    )


def products_by_sku(skus: Iterable[str]) -> dict[str, ProductModel]:
    """Batch-read products (100 keys per request)."""
    return {p.sku: p for p in ProductModel.batch_get(list(dict.fromkeys(skus)))}


def browse(store_id: str, query: s.CatalogueQuery) -> s.ProductPage:
    """One page of a store's catalogue in category order: one index query plus one batch
    read of the page's products. Inactive products are left out of the page."""
    get_store_model(store_id)
    if query.category2 and not query.category1:
        raise ValidationFailed(
            "category2 needs category1.", details=[field_error("category2", "give category1 too")]
        )
    condition = None
    if query.category1:
        prefix = (
            f"{query.category1}#{query.category2}#" if query.category2 else f"{query.category1}#"
        )
        condition = StoreItemModel.category_key.startswith(prefix)
    results = StoreItemModel.by_category.query(
        store_id,
        range_key_condition=condition,
        limit=query.limit,
        page_size=query.limit,
        last_evaluated_key=cursors.decode(
            query.cursor, ("store_id", "sku", "category_key"), {"store_id": store_id}
        ),
    )
    try:
        items = list(results)
    except QueryError as exc:
        if "ValidationException" in str(exc.cause_response_code):
            raise BadRequest(
                "The cursor does not belong to this listing.", code="bad_cursor"
            ) from None
        raise
    products = products_by_sku(i.sku for i in items)
    page = [
        store_product_view(i, products[i.sku])
        for i in items
        if i.sku in products and products[i.sku].active
    ]
    more = len(items) == query.limit and results.last_evaluated_key
    return s.ProductPage(
        items=page, next_cursor=_encode_cursor(results.last_evaluated_key) if more else None
    )


# A search reads at most this many store items per request, then hands back a cursor.
MAX_SEARCHED = 1000
SEARCH_PAGE = 250  # store items per index page while searching
BATCH = 100  # BatchGetItem's limit


def _item_key(item: StoreItemModel, by_category: bool) -> dict[str, dict[str, str]]:
    """The DynamoDB key to resume a listing right after ``item``."""
    key = {"store_id": {"S": item.store_id}, "sku": {"S": item.sku}}
    if by_category:
        key["category_key"] = {"S": item.category_key}
    return key


def _admin_cursor(cursor: str | None, store_id: str, prefix: str | None) -> dict | None:
    """The decoded cursor, if it belongs to this store's listing (400 otherwise)."""
    names = ("store_id", "sku", "category_key") if prefix else ("store_id", "sku")
    key = cursors.decode(cursor, names, {"store_id": store_id})
    if key is not None and prefix and not key["category_key"]["S"].startswith(prefix):
        raise cursors.foreign()
    return key


def admin_items(
    principal: Principal, store_id: str, query: s.AdminItemQuery
) -> s.AdminStoreItemPage:
    """Every item of the store for the back office (not on sale, out of stock and
    inactive products included), in SKU order, or in category order with ``category1``.

    Without ``q``: one page of ``limit`` items (one query, one batch read of products).
    With ``q``: store items are read in pages, their products batch-read, and the matches
    kept until ``limit`` match or ``MAX_SEARCHED`` items were read; the cursor then
    resumes right after the last item read, so a page can hold fewer than ``limit``
    items (even none) and still have a ``next_cursor``."""
    require_store_access(principal, store_id)
    get_store_model(store_id)
    prefix = f"{query.category1}#" if query.category1 else None
    start = _admin_cursor(query.cursor, store_id, prefix)
    # Without q exactly one page is read; with q up to MAX_SEARCHED items.
    budget = MAX_SEARCHED if query.q is not None else query.limit
    page_size = SEARCH_PAGE if query.q is not None else query.limit
    if prefix:
        results = StoreItemModel.by_category.query(
            store_id,
            range_key_condition=StoreItemModel.category_key.startswith(prefix),
            limit=budget,
            page_size=page_size,
            last_evaluated_key=start,
        )
    else:
        results = StoreItemModel.query(
            store_id, limit=budget, page_size=page_size, last_evaluated_key=start
        )
    found: list[s.AdminStoreItem] = []
    last: StoreItemModel | None = None  # the last item read (matching or not)
    read = 0
    try:
        for chunk in _chunks(results, BATCH):
            products = products_by_sku(i.sku for i in chunk)
            for item in chunk:
                read, last = read + 1, item
                product = products.get(item.sku)
                if product is None:
                    continue  # a store item without its product: nothing to show
                if query.q is None or matches_search(
                    query.q, item.sku, product.barcode, product.name
                ):
                    found.append(admin_item_view(item, product))
                    if len(found) == query.limit:
                        break
            if len(found) == query.limit:
                break
    except QueryError as exc:
        if "ValidationException" in str(exc.cause_response_code):
            raise BadRequest(
                "The cursor does not belong to this listing.", code="bad_cursor"
            ) from None
        raise
    # Stopped at `limit` matches or at the read budget: go on after the last item read.
    # Otherwise the listing ended.
    stopped = len(found) == query.limit or read == budget
    return s.AdminStoreItemPage(
        items=found,
        next_cursor=_encode_cursor(_item_key(last, prefix is not None))
        if stopped and last is not None
        else None,
    )


def _chunks(items: Iterable[StoreItemModel], size: int) -> Iterator[list[StoreItemModel]]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily."""
    chunk: list[StoreItemModel] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def get_store_product(store_id: str, sku: str) -> s.StoreProduct:
    """One product as a store sells it; 404 if the store does not carry it."""
    try:
        item = StoreItemModel.get(store_id, sku)
        product = ProductModel.get(sku)
    except DoesNotExist:
        raise NotFound(
            f"Store {store_id!r} does not sell {sku!r}.", code="product_not_found"
        ) from None
    return store_product_view(item, product)


def categories() -> s.CategoryTree:
    """The two-level category tree: one GetItem."""
    tree: dict[str, list[str]] = {}
    try:
        pairs = CategoryTreeModel.get("all").pairs or set()
    except DoesNotExist:
        pairs = set()
    for pair in pairs:
        c1, _, c2 = pair.partition("#")
        tree.setdefault(c1, []).append(c2)
    return s.CategoryTree(
        items=[s.CategoryNode(category1=k, children=sorted(v)) for k, v in sorted(tree.items())]
    )


def _plain(value: Any) -> Any:
    """A stored number as an int (money in fen, stock), other values as they are."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def update_store_item(
    store_id: str, sku: str, body: s.StoreItemUpdate, principal: Principal
) -> s.AdminStoreItem:
    """Head office changes price, stock and on-sale; store staff change stock and on-sale."""
    if not principal.can_act_for_store(store_id):
        raise Forbidden("Your account belongs to another store.", code="other_store")
    fields = {
        f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not s.UNSET
    }
    if "price_fen" in fields and not principal.is_hq:
        raise Forbidden(
            "Prices are set by head office.",
            code="field_not_allowed",
            details={"fields": ["price_fen"]},
        )
    if not fields:
        raise ValidationFailed(
            "Nothing to change.", details=[field_error("(body)", "give at least one field")]
        )
    # Read, then write on the condition that the fields are still as read, with the audit
    # entry in the same transaction: its "before" is what the write replaced. Orders
    # decrement stock meanwhile: a changed field is read again (a few attempts).
    for attempt in range(4):
        try:
            item = StoreItemModel.get(store_id, sku, consistent_read=True)
        except DoesNotExist:
            raise NotFound(
                f"Store {store_id!r} does not sell {sku!r}.", code="product_not_found"
            ) from None
        before = {f: _plain(getattr(item, f)) for f in fields}
        entry = audit.new_entry(
            principal,
            "store_item.update",
            audit.Target("store_item", f"{store_id}/{sku}", store_id),
            before,
            fields,
        )
        actions = [getattr(StoreItemModel, f).set(v) for f, v in fields.items()]
        actions.append(StoreItemModel.updated_at.set(clock.now_iso()))
        condition = StoreItemModel.sku.exists()
        for f, v in before.items():
            condition &= getattr(StoreItemModel, f) == v

        def write(
            tx: Tx,
            item: StoreItemModel = item,
            actions: list = actions,
            condition: Any = condition,
            entry: Any = entry,
        ) -> None:
            tx.update(item, actions=actions, condition=condition, label="item")
            if entry is not None:
                audit.piece_of(entry).add_to(tx)

        try:
            transact(write)
            break
        except TransactionCancelled as exc:
            if "item" not in exc.failed or attempt == 3:
                raise
    item = StoreItemModel.get(store_id, sku, consistent_read=True)
    return admin_item_view(item, ProductModel.get(sku))


def upsert_product(
    sku: str, body: s.ProductUpsert, principal: Principal | None = None
) -> s.Product:
    """Create or replace one product; a category change re-files it in every store. The
    product and its store items are several writes (imports' path): the audit entry is
    written after them (docs/audit.md says so)."""
    import msgspec

    from chalicelib.catalogue.imports import apply_products
    from chalicelib.catalogue.rules import ProductRow

    try:
        before = msgspec.to_builtins(product_view(ProductModel.get(sku, consistent_read=True)))
    except DoesNotExist:
        before = {}
    row = ProductRow(sku=sku, **{f: getattr(body, f) for f in body.__struct_fields__})
    apply_products([row])
    after = product_view(ProductModel.get(sku, consistent_read=True))
    if principal is not None:
        action = "product.update" if before else "product.create"
        audit.record(
            principal, action, audit.Target("product", sku), before, msgspec.to_builtins(after)
        )
    return after


def admin_product_view(p: ProductModel) -> s.AdminProduct:
    base = product_view(p)
    return s.AdminProduct(
        **{f: getattr(base, f) for f in base.__struct_fields__},
        cost_fen=None if p.cost_fen is None else int(p.cost_fen),
        updated_at=p.updated_at,
        version=int(p.version or 0),
    )


def _product(sku: str) -> ProductModel:
    try:
        return ProductModel.get(sku, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No product {sku!r}.", code="product_not_found") from None


def get_admin_product(sku: str) -> s.AdminProduct:
    return admin_product_view(_product(sku))


EDITABLE = (
    "name",
    "category1",
    "category2",
    "unit",
    "barcode",
    "zone",
    "shelf",
    "image_url",
    "cost_fen",
)


def _product_changed(latest: ProductModel) -> Conflict:
    return Conflict(
        "Someone else changed this product since you opened it; reload it and make your "
        "change again.",
        code="product_changed",
        details={"version": int(latest.version or 0)},
    )


def edit_product(principal: Principal, sku: str, body: s.ProductEdit) -> s.AdminProduct:
    """Change some details of a product in one conditional update: the product is still
    as read (its ``updated_at``) and, with ``expected_version``, at the version the
    editor saw (409 ``product_changed`` otherwise). A new category re-files the
    product's store items and joins the category tree, as an import does."""
    changes = {f: getattr(body, f) for f in EDITABLE if getattr(body, f) is not s.UNSET}
    if not changes:
        raise ValidationFailed(
            "Nothing to change.",
            details=[field_error("(body)", f"send one of {', '.join(EDITABLE)}")],
        )
    current = _product(sku)
    m = ProductModel
    now = clock.now_iso()
    if body.expected_version is not s.UNSET and body.expected_version != int(current.version or 0):
        raise _product_changed(current)
    # Nothing (another editor, an ERP import) wrote since the read: the version the
    # editor saw is then still there.
    condition = m.updated_at == current.updated_at
    condition &= m.version == current.version if current.version else m.version.does_not_exist()
    actions: list[Any] = [m.updated_at.set(now), m.version.add(1)]
    for f, v in changes.items():
        attr = getattr(m, f)
        actions.append(attr.remove() if v is None else attr.set(v))
    before = {f: _plain(getattr(current, f)) for f in changes}
    entry = audit.new_entry(
        principal, "product.update", audit.Target("product", sku), before, changes
    )
    try:
        transact(
            lambda tx: audit.with_entry(
                tx,
                entry,
                tx.update(current, actions=actions, condition=condition, label="product"),
            )
        )
    except TransactionCancelled as exc:
        if "product" not in exc.failed:
            raise
        raise _product_changed(_product(sku)) from None
    current = _product(sku)
    if "category1" in changes or "category2" in changes:
        from chalicelib.catalogue.imports import refile

        refile(current.sku, current.category1, current.category2, now)
    return admin_product_view(current)


__all__ = [
    "admin_items",
    "browse",
    "categories",
    "category_key",
    "get_store_product",
    "update_store_item",
    "upsert_product",
]
