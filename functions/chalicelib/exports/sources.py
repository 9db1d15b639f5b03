"""Where each export kind's rows come from: orders of each (store, business day) through
the ``by_store_day`` index, a store's items by their partition key. Never a scan.

Each source yields ``Batch`` es: a few hundred rows and how far through its parts (store
days, or a store's items) it is, so the job can write progress after each batch and
estimate the total. Orders are read through ONE helper, ``_load_orders`` (issue 11 splits
the order record into a head and a detail item: only that helper has to follow).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.audit import schemas as audit_schemas
from chalicelib.audit.models import AuditEntryModel
from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.exports.columns import Kind
from chalicelib.exports.csv_writer import Cell, LocalTime, Yuan
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel.privacy import mask_phone
from chalicelib.loyalty import history
from chalicelib.loyalty.models import PointsEntryModel
from chalicelib.members.schemas import MemberQuery
from chalicelib.orders.models import OrderModel, RefundModel, ReturnModel
from chalicelib.orders.schemas import AllOrdersQuery
from chalicelib.stored_value.models import StoredValueEntryModel
from chalicelib.stores.models import StoreModel

ORDERS_PER_READ = 100  # BatchGetItem's limit: one read per 100 orders
ITEMS_PER_PAGE = 500

Row = Sequence[Cell]


@dataclass(frozen=True)
class Batch:
    rows: list[Row]
    done: float  # fraction of the export's parts read so far, 0..1


@dataclass
class Scope:
    """What to export: the stores (already authorised), business days, and the zone the
    file's times are written in."""

    kind: Kind
    stores: list[StoreModel]
    days: list[str] = field(default_factory=list)
    status: str | None = None
    zone: str = "Asia/Shanghai"
    # orders: the filters of head office's list across stores (status included), applied
    # with the list's own predicate so the file holds what the list shows
    where: AllOrdersQuery | None = None
    # audit: the log's filters (its UTC days included) and the one store whose entries
    # it may hold (None: every entry, head office's)
    audit: audit_schemas.AuditQuery | None = None
    audit_store: str | None = None
    # members: the list's filters (the window fixed when asked for), the one home store
    # a store manager's file holds (None: head office, every member) and whether phones
    # are masked (everyone but head office, as the list masks them)
    members: MemberQuery | None = None
    member_store: str | None = None
    mask_phones: bool = True
    # points_entries, stored_value_entries: whose ledger
    customer_id: str | None = None
    # segment: the filter (JSON); the members left out for consent, set by the source
    segment: str | None = None
    excluded_no_consent: int | None = None


def _load_orders(order_ids: list[str]) -> list[OrderModel]:
    """The one place exports read whole orders (see the module docstring)."""
    from chalicelib.orders.service import load_many

    return load_many(order_ids)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _store_days(scope: Scope) -> Iterator[tuple[StoreModel, str, float]]:
    """(store, day, fraction done after this part), store by store, oldest day first."""
    parts = len(scope.stores) * len(scope.days) or 1
    n = 0
    for store in scope.stores:
        for day in scope.days:
            n += 1
            yield store, day, n / parts


def _chunk_progress(ids: list[str], done: float, parts: int) -> Iterator[tuple[list[str], float]]:
    """A day's order ids ORDERS_PER_READ at a time, each with the fraction done after it
    (a busy day is several batches, so progress moves and memory stays bounded)."""
    chunks = list(_chunks(ids, ORDERS_PER_READ)) or [[]]
    before = done - 1 / parts
    for i, chunk in enumerate(chunks):
        yield chunk, before + (done - before) * (i + 1) / len(chunks)


def _day_ids(store: StoreModel, day: str, condition: Any = None) -> list[str]:
    """The ids of the store's orders of ``day``, oldest first (index keys only)."""
    return [
        e.order_id
        for e in OrderModel.by_store_day.query(
            f"{store.store_id}#{day}",
            scan_index_forward=True,
            filter_condition=condition,
            attributes_to_get=["order_id"],
        )
    ]


def _matches(order: OrderModel, where: AllOrdersQuery) -> bool:
    from chalicelib.orders.across_stores import matches

    return matches(order, where)


def _day_of(order: OrderModel) -> str:
    return order.store_day.split("#", 1)[1]


def orders(scope: Scope) -> Iterator[Batch]:
    """One row per order line, the order's columns repeated."""
    z = scope.zone
    parts = len(scope.stores) * len(scope.days) or 1
    for store, day, day_done in _store_days(scope):
        for chunk, done in _chunk_progress(_day_ids(store, day), day_done, parts):
            rows: list[Row] = []
            for o in _load_orders(chunk) if chunk else []:
                if scope.status and o.status != scope.status:
                    continue
                if scope.where is not None and not _matches(o, scope.where):
                    continue
                head: list[Cell] = [
                    o.order_id,
                    o.store_id,
                    store.name,
                    _day_of(o),
                    None if o.daily_seq is None else int(o.daily_seq),
                    o.status,
                    o.fulfilment,
                    LocalTime(o.created_at, z),
                    LocalTime(o.paid_at, z),
                    Yuan(int(o.subtotal_fen)),
                    Yuan(int(o.discount_fen)),
                    Yuan(int(o.delivery_fee_fen)),
                    Yuan(int(o.total_fen)),
                    Yuan(int(o.paid_fen)),
                    Yuan(int(o.refunded_fen)),
                ]
                for x in o.lines:
                    rows.append(
                        [
                            *head,
                            x.sku,
                            x.name,
                            x.category1,
                            x.unit,
                            Yuan(int(x.unit_price_fen)),
                            int(x.qty),
                            Yuan(int(x.amount_fen)),
                            Yuan(int(x.discount_fen)),
                            Yuan(int(x.paid_fen)),
                            None if x.picked_qty is None else int(x.picked_qty),
                            int(x.refunded_units),
                            Yuan(int(x.refunded_fen)),
                        ]
                    )
            yield Batch(rows, done)


def refunds(scope: Scope) -> Iterator[Batch]:
    """The refunds of the orders placed on the days (the index the refunds table has is by
    order: refunds are found through their orders, which the day index marks as refunded
    without reading them)."""
    z = scope.zone
    refunded = (OrderModel.refunded_fen > 0) | (OrderModel.returned_payments_fen > 0)
    for store, day, done in _store_days(scope):
        rows: list[Row] = []
        for order_id in _day_ids(store, day, refunded):
            for r in RefundModel.by_order.query(order_id):
                rows.append(
                    [
                        r.refund_id,
                        r.order_id,
                        store.store_id,
                        store.name,
                        day,
                        r.reason,
                        r.status,
                        Yuan(int(r.amount_fen)),
                        Yuan(int(r.delivery_fee_fen or 0)),
                        " ".join(f"{x.sku}×{int(x.units)}" for x in r.lines or []),
                        LocalTime(r.created_at, z),
                        LocalTime(r.updated_at, z),
                    ]
                )
        yield Batch(rows, done)


def coupon_redemptions(scope: Scope) -> Iterator[Batch]:
    """Coupons used by paid orders: an order records the coupons it used (coupon_uses),
    and the coupons table has no index by order or store, so orders are the source."""
    z = scope.zone
    names: dict[str, str] = {}
    parts = len(scope.stores) * len(scope.days) or 1
    for store, day, day_done in _store_days(scope):
        ids = _day_ids(store, day, OrderModel.paid_at.exists())
        for chunk, done in _chunk_progress(ids, day_done, parts):
            rows: list[Row] = []
            used = [o for o in _load_orders(chunk) if o.coupon_uses] if chunk else []
            _template_names(names, {u.template_id for o in used for u in o.coupon_uses})
            for o in used:
                for u in o.coupon_uses:
                    rows.append(
                        [
                            o.order_id,
                            store.store_id,
                            store.name,
                            day,
                            o.status,
                            LocalTime(o.paid_at, z),
                            u.coupon_id,
                            u.template_id,
                            names.get(u.template_id, ""),
                            u.kind,
                            Yuan(int(u.discount_fen)),
                            Yuan(int(o.paid_fen)),
                        ]
                    )
            yield Batch(rows, done)


def _template_names(names: dict[str, str], template_ids: set[str]) -> None:
    missing = sorted(t for t in template_ids if t not in names)
    for chunk in _chunks(missing, 100):
        for t in CouponTemplateModel.batch_get(chunk, attributes_to_get=["template_id", "name"]):
            names[t.template_id] = t.name


def daily_sales(scope: Scope) -> Iterator[Batch]:
    """Per store and business day, as the dashboard counts them: paid orders, their
    payments, refunds (returned payments included), net, average order."""
    attrs = ["paid_at", "paid_fen", "refunded_fen", "returned_payments_fen"]
    counted = OrderModel.paid_at.exists() | (OrderModel.returned_payments_fen > 0)
    rows: list[Row] = []
    for store, day, done in _store_days(scope):
        entries = list(
            OrderModel.by_store_day.query(
                f"{store.store_id}#{day}", filter_condition=counted, attributes_to_get=attrs
            )
        )
        paid = [int(e.paid_fen or 0) for e in entries if e.paid_at is not None]
        refunded = sum(
            int(e.refunded_fen or 0) + int(e.returned_payments_fen or 0) for e in entries
        )
        gmv = sum(paid)
        rows.append(
            [
                day,
                store.store_id,
                store.name,
                len(paid),
                Yuan(gmv),
                Yuan(refunded),
                Yuan(gmv - refunded),
                Yuan(gmv // len(paid) if paid else 0),
            ]
        )
        if len(rows) >= ITEMS_PER_PAGE or done >= 1:
            yield Batch(rows, done)
            rows = []


def stock(scope: Scope) -> Iterator[Batch]:
    """A store's items in SKU order (its partition of store_items), with the products'
    names (BatchGetItem by 100)."""
    z = scope.zone
    for store in scope.stores:
        total = StoreItemModel.count(store.store_id) or 1
        seen = 0
        results = StoreItemModel.query(store.store_id, page_size=ITEMS_PER_PAGE)
        page: list[StoreItemModel] = []
        for item in results:
            page.append(item)
            if len(page) == ITEMS_PER_PAGE:
                seen += len(page)
                yield Batch(_stock_rows(page, z), min(seen / total, 1.0))
                page = []
        seen += len(page)
        yield Batch(_stock_rows(page, z), 1.0)


def _stock_rows(items: list[StoreItemModel], zone: str) -> list[Row]:
    products: dict[str, ProductModel] = {}
    for chunk in _chunks(sorted({i.sku for i in items}), 100):
        products.update((p.sku, p) for p in ProductModel.batch_get(chunk))
    rows: list[Row] = []
    for i in items:
        p = products.get(i.sku)
        rows.append(
            [
                i.store_id,
                i.sku,
                p.name if p else "",
                p.category1 if p else "",
                p.category2 if p else "",
                p.unit if p else "",
                p.barcode if p else None,
                Yuan(int(i.price_fen)),
                int(i.stock),
                bool(i.on_sale),
                bool(p.active) if p else False,
                LocalTime(i.updated_at, zone),
            ]
        )
    return rows


def returns(scope: Scope) -> Iterator[Batch]:
    """A store's returns in one status (or every status), oldest first, as the returns
    queue lists them (its ``by_store_status`` index), with their refunds (BatchGetItem)."""
    from chalicelib.kernel.states import RETURN

    z = scope.zone
    statuses = [scope.status] if scope.status else sorted(RETURN.states())
    parts = len(scope.stores) * len(statuses) or 1
    n = 0
    for store in scope.stores:
        for status in statuses:
            n += 1
            found = ReturnModel.by_store_status.query(
                f"{store.store_id}#{status}", scan_index_forward=True, page_size=ITEMS_PER_PAGE
            )
            page: list[ReturnModel] = []
            for ret in found:
                page.append(ret)
                if len(page) == ITEMS_PER_PAGE:
                    yield Batch(_return_rows(page, store, z), (n - 1) / parts)
                    page = []
            yield Batch(_return_rows(page, store, z), n / parts)


def _return_rows(page: list[ReturnModel], store: StoreModel, zone: str) -> list[Row]:
    refund_ids = sorted({r.refund_id for r in page if r.refund_id})
    refunds_: dict[str, RefundModel] = {}
    for chunk in _chunks(refund_ids, 100):
        refunds_.update((x.refund_id, x) for x in RefundModel.batch_get(chunk))
    rows: list[Row] = []
    for r in page:
        refund = refunds_.get(r.refund_id or "")
        rows.append(
            [
                r.return_id,
                r.order_id,
                r.store_id,
                store.name,
                r.status,
                r.reason,
                " ".join(f"{x.sku}×{int(x.units)}" for x in r.lines or []),
                LocalTime(r.created_at, zone),
                LocalTime(r.updated_at, zone),
                r.refund_id,
                None if refund is None else Yuan(int(refund.amount_fen)),
                None if refund is None else refund.status,
            ]
        )
    return rows


AUDIT_MAX_DAYS = 366  # UTC days of the log in one file (the page reads 92 at a time)


def audit(scope: Scope) -> Iterator[Batch]:
    """The log's entries the page's filters select, newest first as the page lists them,
    one row per changed field."""
    from chalicelib.audit.service import every_entry

    assert scope.audit is not None
    for entries, done in every_entry(scope.audit, scope.audit_store, AUDIT_MAX_DAYS):
        yield Batch([row for e in entries for row in audit_rows(e, scope.zone)], done)


def audit_value(field_name: str, value: Any) -> Cell:
    """A before/after value as the log page shows it: money (``*_fen``) in yuan, lists
    and objects as JSON, true/false as words, nothing as an empty cell."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and field_name.endswith("_fen"):
        return Yuan(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def audit_rows(entry: AuditEntryModel, zone: str) -> list[Row]:
    head: list[Cell] = [
        LocalTime(entry.at, zone),
        entry.actor,
        entry.role,
        entry.actor_store_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.store_id,
    ]
    diff: dict[str, list[Any]] = json.loads(entry.changes or "{}")
    if not diff:
        return [[*head, None, None, None, entry.entry_id]]
    return [
        [*head, name, audit_value(name, before), audit_value(name, after), entry.entry_id]
        for name, (before, after) in sorted(diff.items())
    ]


def members(scope: Scope) -> Iterator[Batch]:
    """The member list's rows for its filters, newest first through the list's indexes
    (members/admin.py::every_member), phones masked as the list masks them."""
    from chalicelib.members.admin import every_member

    assert scope.members is not None
    for page, done in every_member(scope.members, scope.member_store, ITEMS_PER_PAGE):
        yield Batch([member_row(m, scope.zone, scope.mask_phones) for m in page], done)


def member_row(m: CustomerModel, zone: str, mask: bool) -> Row:
    phone = m.phone or ""
    return [
        m.customer_id,
        mask_phone(phone) if mask and phone else phone,
        m.nickname,
        m.home_store_id,
        m.source_kind,
        m.marketing_consent,
        LocalTime(m.created_at, zone),
    ]


def points_entries(scope: Scope) -> Iterator[Batch]:
    """One member's points entries, newest first (loyalty/history.py)."""
    assert scope.customer_id is not None
    found = history.newest_first(PointsEntryModel, scope.customer_id)
    for page, done in _pages(found):
        yield Batch([points_row(e, scope.zone) for e in page], done)


def points_row(e: PointsEntryModel, zone: str) -> Row:
    return [
        LocalTime(e.at, zone),
        e.kind,
        int(e.delta),
        int(e.debt or 0),
        int(e.balance_after),
        e.reason,
        e.actor,
        e.order_id,
        LocalTime(e.expires_at, zone),
        LocalTime(e.available_at, zone),
        e.entry_key,
    ]


def stored_value_entries(scope: Scope) -> Iterator[Batch]:
    """One member's stored-value entries, newest first (the ledger's ``by_time`` index)."""
    assert scope.customer_id is not None
    found = StoredValueEntryModel.by_time.query(
        scope.customer_id, scan_index_forward=False, page_size=ITEMS_PER_PAGE
    )
    for page, done in _pages(found):
        yield Batch([stored_value_row(e, scope.zone) for e in page], done)


def stored_value_row(e: StoredValueEntryModel, zone: str) -> Row:
    principal, bonus = int(e.principal_fen), int(e.bonus_fen)
    return [
        LocalTime(e.created_at, zone),
        e.kind,
        Yuan(principal),
        Yuan(bonus),
        Yuan(principal + bonus),
        e.reason,
        e.actor,
        e.order_id,
        e.ref,
    ]


def _pages(found: Any) -> Iterator[tuple[list[Any], float]]:
    """A query's items ITEMS_PER_PAGE at a time; the total is unknown until the end."""
    page: list[Any] = []
    for item in found:
        page.append(item)
        if len(page) == ITEMS_PER_PAGE:
            yield page, 0.0
            page = []
    yield page, 1.0


def segment(scope: Scope) -> Iterator[Batch]:
    """A segment's members from the nightly snapshot (customers/segment_export.py): every
    segment export leaves out members who revoked marketing consent; one with phones in
    full (a consented campaign) holds only those who granted it."""
    import msgspec

    from chalicelib.customers import segment_export
    from chalicelib.customers.schemas import SegmentFilter

    assert scope.segment is not None
    f = msgspec.json.decode(scope.segment, type=SegmentFilter)
    chosen = segment_export.select(f, consented_only=not scope.mask_phones)
    scope.excluded_no_consent = chosen.excluded_no_consent
    for page, done in chosen.pages:
        yield Batch([segment_row(m, scope.mask_phones) for m in page], done)


def segment_row(m: Any, mask: bool) -> Row:
    return [
        m.customer_id,
        mask_phone(m.phone) if mask and m.phone else m.phone,
        m.nickname,
        m.level,
        m.source,
        m.store,
        m.orders,
        Yuan(m.spend_fen),
        m.last_order_date,
        m.rfm_group,
        m.lifecycle,
        " ".join(m.tags),
    ]


SOURCES = {
    "orders": orders,
    "refunds": refunds,
    "coupon_redemptions": coupon_redemptions,
    "daily_sales": daily_sales,
    "stock": stock,
    "returns": returns,
    "audit": audit,
    "members": members,
    "points_entries": points_entries,
    "stored_value_entries": stored_value_entries,
    "segment": segment,
}
DATED: frozenset[str] = frozenset(
    {"orders", "refunds", "coupon_redemptions", "daily_sales", "audit"}
)
