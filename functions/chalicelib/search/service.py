"""Global search (GET /admin/search): one string looked up as every kind of thing it can
be, each by key or index (never a Scan):

* an order number (the code on the ticket): GetItem of the order's head;
* a pickup code (6 digits): the open work-queue bucket of by_store_queue, which projects
  pickup_code, filtered on it: the user's store, or every store for head office;
* a member's phone: the phone -> customer link (GetItem), then the customer's recent
  orders through by_customer (keys) and one BatchGetItem of their heads;
* a SKU: GetItem of the product;
* a barcode (8 or 12-14 digits): the products' sparse keys-only ``by_barcode`` index
  (Query), then one BatchGetItem of those products;
* a store: by id or part of its name, from the stores listing (head office) or the
  user's own store.

Store roles see only their store's orders (a phone finds the member only through their
orders at the store: staff cannot test which phones are members elsewhere)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Principal
from chalicelib.catalogue.models import ProductModel
from chalicelib.catalogue.rules import BARCODE_RE
from chalicelib.db.transactions import batch_get
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel
from chalicelib.kernel.privacy import mask_phone
from chalicelib.kernel.states import OPEN_QUEUE
from chalicelib.orders.models import OrderModel
from chalicelib.search import schemas as s
from chalicelib.stores.models import StoreModel

ORDER_ID = re.compile(r"^\d{6}[A-Z0-9]{8}$")
PICKUP_CODE = re.compile(r"^\d{6}$")
PHONE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
SKU = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
RECENT_ORDERS = 10  # a member's most recent orders shown
MAX_PER_GROUP = 20
MAX_WORKERS = 8  # concurrent queries (pickup codes over stores); as dashboard/service.py


def _order_row(order: OrderModel, matched: str) -> s.SearchOrder:
    return s.SearchOrder(
        order_id=order.order_id,
        store_id=order.store_id,
        status=order.status,
        fulfilment=order.fulfilment,
        total_fen=int(order.total_fen),
        created_at=order.created_at,
        matched=matched,
        link=f"#/orders/{quote(order.order_id)}",
    )


def _heads(order_ids: list[str]) -> list[OrderModel]:
    """Order heads (no details: a result row needs none), in the order given."""
    if not order_ids:
        return []
    got = batch_get({OrderModel: [{"order_id": o} for o in order_ids]}, consistent=False)
    found = {o.order_id: o for o in got[OrderModel]}
    return [found[o] for o in order_ids if o in found]


def _visible(principal: Principal, store_id: str) -> bool:
    return principal.is_hq or principal.store_id == store_id


def _by_order_id(principal: Principal, q: str) -> list[s.SearchOrder]:
    order_id = q.upper()
    if not ORDER_ID.match(order_id):
        return []
    try:
        order = OrderModel.get(order_id, consistent_read=False)
    except DoesNotExist:
        return []
    return [_order_row(order, "order_id")] if _visible(principal, order.store_id) else []


def _pickup_ids(store_id: str, code: str) -> list[str]:
    entries = OrderModel.by_store_queue.query(
        f"{store_id}#{OPEN_QUEUE}", filter_condition=OrderModel.pickup_code == code
    )
    return [e.order_id for e in entries]


def _by_pickup_code(principal: Principal, q: str, stores: list[StoreModel]) -> list[s.SearchOrder]:
    if not PICKUP_CODE.match(q):
        return []
    store_ids = [m.store_id for m in stores] if principal.is_hq else [principal.store_id or ""]
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        found = [i for ids in pool.map(lambda sid: _pickup_ids(sid, q), store_ids) for i in ids]
    return [_order_row(o, "pickup_code") for o in _heads(found[:MAX_PER_GROUP])]


def _by_phone(principal: Principal, q: str) -> tuple[list[s.SearchCustomer], list[s.SearchOrder]]:
    m = PHONE.match(q.replace(" ", "").replace("-", ""))
    if not m:
        return [], []
    phone = m.group(1)
    try:
        customer = CustomerModel.get(CustomerPhoneModel.get(phone).customer_id)
    except DoesNotExist:
        return [], []
    keys = OrderModel.by_customer.query(
        customer.customer_id, scan_index_forward=False, limit=RECENT_ORDERS
    )
    orders = [
        _order_row(o, "phone")
        for o in _heads([k.order_id for k in keys])
        if _visible(principal, o.store_id)
    ]
    if not principal.is_hq and not orders:
        return [], []  # not this store's customer (as far as its recent orders go)
    person = s.SearchCustomer(
        customer_id=customer.customer_id,
        phone_masked=mask_phone(customer.phone),
        nickname=customer.nickname,
        link=f"#/wallet?phone={phone}" if principal.is_hq else None,
    )
    return [person], orders


def _product_row(p: ProductModel) -> s.SearchProduct:
    return s.SearchProduct(
        sku=p.sku, name=p.name, barcode=p.barcode, link=f"#/catalogue?q={quote(p.sku)}"
    )


def _by_sku(q: str) -> list[s.SearchProduct]:
    if not SKU.match(q):
        return []
    try:
        p = ProductModel.get(q, consistent_read=False)
    except DoesNotExist:
        return []
    return [_product_row(p)]


def _by_barcode(q: str) -> list[s.SearchProduct]:
    """Products with barcode ``q`` (usually one; a barcode is not unique in the catalogue)."""
    if not BARCODE_RE.match(q):  # what imports and edits accept
        return []
    keys = ProductModel.by_barcode.query(q, limit=MAX_PER_GROUP)
    skus = [k.sku for k in keys]
    if not skus:
        return []
    got = batch_get({ProductModel: [{"sku": sku} for sku in skus]}, consistent=False)
    found = {p.sku: p for p in got[ProductModel]}
    return [_product_row(found[sku]) for sku in sorted(found)]


def _stores(principal: Principal) -> list[StoreModel]:
    """The stores the user may search in: every store (one Query of the listing) for head
    office, their own (GetItem) for store roles."""
    if principal.is_hq:
        return list(StoreModel.by_listing.query("stores"))
    try:
        return [StoreModel.get(principal.store_id or "")]
    except DoesNotExist:
        return []


def _matching_stores(q: str, stores: list[StoreModel]) -> list[s.SearchStore]:
    needle = q.casefold()
    return [
        s.SearchStore(store_id=m.store_id, name=m.name, link=f"#/stores/{quote(m.store_id)}")
        for m in stores
        if needle == m.store_id or needle in m.name.casefold()
    ][:MAX_PER_GROUP]


def search(principal: Principal, q: str) -> s.SearchResults:
    q = q.strip()
    stores = _stores(principal)
    customers, phone_orders = _by_phone(principal, q)
    orders: dict[str, s.SearchOrder] = {}
    for row in [*_by_order_id(principal, q), *_by_pickup_code(principal, q, stores), *phone_orders]:
        orders.setdefault(row.order_id, row)
    return s.SearchResults(
        q=q,
        orders=list(orders.values()),
        customers=customers,
        products=list({p.sku: p for p in [*_by_sku(q), *_by_barcode(q)]}.values()),
        stores=_matching_stores(q, stores),
    )
