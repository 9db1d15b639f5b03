"""Catalogue browsing for customers; product, price and stock edits; ERP imports."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import BACK_OFFICE, HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.catalogue import schemas as s
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.catalogue.service")
import_jobs = lazy_module("chalicelib.catalogue.import_jobs")
bulk_jobs = lazy_module("chalicelib.catalogue.bulk_jobs")

area = Area("catalogue", __name__, "Products, per-store prices and stock, ERP imports.")


@area.route(
    "/catalogue/categories", "GET", summary="The two-level category tree", response=s.CategoryTree
)
def categories() -> s.CategoryTree:
    return service.categories()


@area.route(
    "/stores/{store_id}/products",
    "GET",
    summary="Browse a store's catalogue",
    query=s.CatalogueQuery,
    response=s.ProductPage,
    errors=(400, 404, 422),
)
def browse(store_id: str, query: s.CatalogueQuery) -> s.ProductPage:
    """In category order, ``limit`` per page (default 20, at most 100). Filter with
    ``category1`` and optionally ``category2``. Pass ``next_cursor`` back as ``cursor`` for
    the next page; it is absent on the last page. A page can hold fewer than ``limit``
    items when products in it are inactive."""
    return service.browse(store_id, query)


@area.route(
    "/stores/{store_id}/products/{sku}",
    "GET",
    summary="One product in a store",
    response=s.StoreProduct,
    errors=(404,),
)
def store_product(store_id: str, sku: str) -> s.StoreProduct:
    return service.get_store_product(store_id, sku)


@area.route(
    "/admin/products/{sku}",
    "PUT",
    summary="Create or replace a product",
    roles={HQ_ADMIN},
    body=s.ProductUpsert,
    response=s.Product,
    errors=(422,),
    request_example={
        "name": "光明 优倍鲜牛奶 950ml",
        "category1": "乳品烘焙",
        "category2": "牛奶",
        "unit": "瓶",
        "barcode": "6901234567892",
        "fresh": True,
        "zone": "B 冷藏区",
        "shelf": "B-03",
        "active": True,
    },
)
def upsert_product(sku: str, body: s.ProductUpsert, principal: Principal) -> s.Product:
    from chalicelib.catalogue.rules import SKU_RE
    from chalicelib.kernel.errors import ValidationFailed, field_error

    if not SKU_RE.match(sku):
        raise ValidationFailed(
            "Bad SKU.", details=[field_error("sku", "1-32 letters, digits, '_' or '-'")]
        )
    return service.upsert_product(sku, body, principal)


@area.route(
    "/admin/products/{sku}",
    "GET",
    summary="One product for head office, with its cost and version",
    roles={HQ_ADMIN},
    response=s.AdminProduct,
    errors=(403, 404),
    response_example=s.EXAMPLES["AdminProduct"],
)
def admin_product(sku: str, principal: Principal) -> s.AdminProduct:
    return service.get_admin_product(sku)


@area.route(
    "/admin/products/{sku}",
    "PATCH",
    summary="Edit a product's details (name, category, unit, barcode, image, zone, shelf, cost)",
    roles={HQ_ADMIN},
    body=s.ProductEdit,
    response=s.AdminProduct,
    errors=(403, 404, 409, 422),
    request_example={
        "name": "光明 优倍鲜牛奶 950ml",
        "zone": "B 冷藏区",
        "shelf": "B-04",
        "cost_fen": 1200,
        "expected_version": 2,
    },
    response_example=dict(s.EXAMPLES["AdminProduct"], shelf="B-04", version=3),
)
def edit_product(sku: str, body: s.ProductEdit, principal: Principal) -> s.AdminProduct:
    """Head office only. Absent fields stay as they are; ``null`` clears an optional
    one. A new category moves the product in every store's catalogue. Send
    ``expected_version`` (the ``version`` of ``GET /admin/products/{sku}``): if someone
    else (or an ERP import) changed the product since, 409 ``product_changed`` and
    nothing changes. The next ERP import of the product overwrites what it carries."""
    return service.edit_product(principal, sku, body)


@area.route(
    "/admin/stores/{store_id}/items",
    "GET",
    summary="Every item of a store for the back office, with search",
    roles=BACK_OFFICE,
    query=s.AdminItemQuery,
    response=s.AdminStoreItemPage,
    errors=(400, 403, 404, 422),
)
def admin_items(
    store_id: str, query: s.AdminItemQuery, principal: Principal
) -> s.AdminStoreItemPage:
    """Unlike the storefront's ``GET /stores/{store_id}/products``, lists every item the
    store carries: not on sale, out of stock and of inactive products too, each with its
    price, stock, ``on_sale``, the product's ``active`` and when the store's item last
    changed (``updated_at``). In SKU order, or in category order with ``category1``.

    ``q`` searches: a SKU beginning with it, a barcode equal to it, or a product name
    containing it (any case). To bound the cost of one request a search reads at most
    1,000 of the store's items; it then returns what matched so far with a
    ``next_cursor`` — so a search page can hold fewer than ``limit`` items, even none,
    and still go on: follow ``next_cursor`` until it is absent.

    ``limit`` 1 to 100 (default 50). Pass ``next_cursor`` back as ``cursor`` with the same
    ``category1`` and ``q`` (400 ``bad_cursor`` for a cursor of another listing). Staff
    of the store (403 ``other_store`` for another store's) and head office; 404 for an
    unknown store."""
    return service.admin_items(principal, store_id, query)


@area.route(
    "/admin/stores/{store_id}/items/{sku}",
    "PATCH",
    summary="Change a product's price, stock or on-sale flag in one store",
    roles=BACK_OFFICE,
    body=s.StoreItemUpdate,
    response=s.AdminStoreItem,
    errors=(403, 404, 422),
    request_example={"stock": 40, "on_sale": True},
)
def update_store_item(
    store_id: str, sku: str, body: s.StoreItemUpdate, principal: Principal
) -> s.AdminStoreItem:
    """Prices are head office's; store staff may change stock and on-sale for their store.
    Answers the item as ``GET /admin/stores/{store_id}/items`` lists it."""
    return service.update_store_item(store_id, sku, body, principal)


@area.route(
    "/admin/imports",
    "POST",
    summary="Upload an ERP file (products or store prices/stock)",
    roles={HQ_ADMIN},
    query=s.ImportQuery,
    body=bytes,
    response=s.ImportJob,
    status=202,
    errors=(422,),
    content_types=("text/csv", "application/json"),
)
def upload_import(query: s.ImportQuery, body: bytes, principal: Principal) -> s.ImportJob:
    """Body: the file itself, ``Content-Type: text/csv`` (UTF-8, header row) or
    ``application/json`` (an array of row objects), at most 6 MiB.

    ``kind=products`` columns: sku, name, category1, category2, unit, barcode, fresh, zone,
    shelf, image_url, active. ``kind=store_items`` columns: store_id, sku, price_fen, stock,
    on_sale. Returns at once; poll ``GET /admin/imports/{job_id}`` for progress and the
    rejected rows (line, field, reason). Good rows are applied even when others are
    rejected; importing the same file again changes nothing."""
    from chalicelib.http.routing import current_request_of

    request = current_request_of(area)
    return import_jobs.create_job(query.kind, request.headers.get("content-type"), body, principal)


@area.route(
    "/admin/imports",
    "GET",
    summary="Recent ERP imports, newest first",
    roles={HQ_ADMIN},
    response=s.ImportList,
)
def list_imports(principal: Principal) -> s.ImportList:
    return import_jobs.list_jobs()


@area.route(
    "/admin/imports/{job_id}",
    "GET",
    summary="Progress and outcome of an ERP import",
    roles={HQ_ADMIN},
    response=s.ImportJob,
    errors=(404,),
)
def get_import(job_id: str, principal: Principal) -> s.ImportJob:
    return import_jobs.get_job(job_id)


@area.route(
    "/admin/bulk-jobs",
    "POST",
    summary="Change many store items at once (price, stock, on-sale, copied prices)",
    roles={HQ_ADMIN, STORE_MANAGER},
    body=s.BulkJobCreate,
    response=s.BulkJob,
    status=201,
    errors=(403, 422),
    request_example={
        "rows": [
            {
                "store_id": "sh-jingan",
                "sku": "300012",
                "price_fen": 1590,
                "expected_price_fen": 1690,
            },
            {"store_id": "sh-jingan", "sku": "300013", "stock": 40, "on_sale": True},
        ]
    },
    response_example=s.EXAMPLES["BulkJob"],
    idempotency_key=True,
    replays=True,
)
def create_bulk_job(body: s.BulkJobCreate, principal: Principal) -> Response:
    """One bulk change is one job. Header ``Idempotency-Key`` (8-64 characters, e.g. a
    UUID) is required: a retry with the same key and body answers the same job (200,
    ``Idempotent-Replayed: true``) and applies nothing again, even while the first
    request is still running; the same key with another body is 422
    ``idempotency_key_reused``. If the request that made the job failed part-way, the
    retry finishes it (once the 15-minute lease of the failed attempt has run out):
    rows it had applied are not applied again.

    Send ``rows`` (at most 1,000: store_id, sku, and price_fen, stock and/or on_sale) or
    ``copy_prices`` (``from_store``, ``to_stores``, ``skus``: head office only). Rows are
    checked one by one before anything is written: a bad row (wrong type, out of range,
    unknown field, the same store and SKU twice, a SKU the store does not sell) gets
    ``status: rejected`` with its ``field`` and ``reason``, and **the good rows still
    apply**. A row already as asked is ``unchanged``. With ``expected_price_fen`` /
    ``expected_stock`` (what you saw) a row whose item now holds something else is a
    ``conflict`` and is not written; every write is also conditional on the values read
    just before it, so an edit made while the job runs is never overwritten (that row is
    a ``conflict`` too).

    Up to 200 valid rows are applied in the request (the answer is the finished job);
    more are queued (``status: queued``): poll ``GET /admin/bulk-jobs/{job_id}`` for
    progress and results. Head office changes any store; a store manager only their own
    store's stock and on-sale (403 ``other_store`` / ``field_not_allowed``, nothing
    applied). Other roles 403."""

    request = current_request_of(area)
    job, created = bulk_jobs.create_job(principal, request.headers.get("idempotency-key"), body)
    return respond(job, 201 if created else 200)


@area.route(
    "/admin/bulk-jobs/{job_id}",
    "GET",
    summary="Progress and per-row results of a bulk change",
    roles={HQ_ADMIN, STORE_MANAGER},
    response=s.BulkJob,
    errors=(403, 404),
    response_example=s.EXAMPLES["BulkJob"],
)
def get_bulk_job(job_id: str, principal: Principal) -> s.BulkJob:
    """Head office: any job; a store manager: jobs of their store (404 otherwise)."""
    return bulk_jobs.get_job(principal, job_id)
