"""Orders across stores for head office (issue 13 item 1): per chosen store and business
day, newest first (``sort=oldest``: oldest first), from the ``by_store_day`` index, merged
in that order.

Each day, every store's bucket is queried from its position (a page of keys with the
projected amounts); entries are merged by ``created_at`` and walked until a store whose
fetched page is used up may have more (then that store is fetched again), so the merge
is exact. Amount and refund filters use the projection; status, fulfilment and missed
print need the orders (read with ``load_many``, as the day list does). The cursor holds
the day and each store's position on it; it is validated like kernel/cursors.py.

The stores' buckets of a round are queried concurrently (a small thread pool, as
search/service.py does): a round costs one query's latency, not one per store. The
default ``to`` is the chain's business day (the stores' local date, as orders/service.py
dates an order), not the UTC date: at 07:30 in Shanghai it is already today there."""

from __future__ import annotations

import base64
import binascii
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from itertools import repeat
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.kernel import clock, cursors, hours
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.orders import schemas as s
from chalicelib.orders.models import OrderModel
from chalicelib.orders.service import load_many, view
from chalicelib.stores.models import StoreModel

MAX_DAYS = 92
MAX_ROUNDS = 30  # index queries per request at most: a sparse filter returns a short page
_KEY = ("order_id", "store_day", "created_at")
MAX_WORKERS = 8  # concurrent index queries (one per store); as search/service.py
DEFAULT_ZONE = "Asia/Shanghai"


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{name} is not a date.", details=[field_error(name, "a date YYYY-MM-DD")]
        ) from None


def business_day(zones: set[str]) -> date:
    """Today for the chain: the latest local date among the stores' zones (orders are
    dated in their store's zone), so no store's today is left out."""
    now = clock.now()
    return max(now.astimezone(hours.zone(z)).date() for z in zones or {DEFAULT_ZONE})


def _range(query: s.AllOrdersQuery, zones: set[str]) -> tuple[date, date]:
    to = _day(query.to, "to") if query.to else business_day(zones)
    start = _day(query.from_, "from") if query.from_ else to
    if start > to or (to - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            f"The date range must run forwards and span at most {MAX_DAYS} days.",
            details=[field_error("from", f"at most {MAX_DAYS} days before 'to'")],
        )
    return start, to


def _stores(query: s.AllOrdersQuery) -> dict[str, str]:
    """The chosen stores (all by default), id -> time zone, in id order."""
    known = {m.store_id: m.timezone or DEFAULT_ZONE for m in StoreModel.by_listing.query("stores")}
    chosen = sorted(set(query.store_ids.split(","))) if query.store_ids else sorted(known)
    unknown = [x for x in chosen if x not in known]
    if unknown:
        raise ValidationFailed(
            "Unknown stores.", details=[field_error("store_ids", f"no store {unknown[0]!r}")]
        )
    return {x: known[x] for x in chosen}


def _bucket(store: str, day: date, limit: int, position: Any, oldest: bool = False) -> list[Any]:
    return list(
        OrderModel.by_store_day.query(
            f"{store}#{day.isoformat()}",
            scan_index_forward=oldest,
            limit=limit,
            page_size=limit,
            last_evaluated_key=position,
        )
    )


def _decode(cursor: str | None, stores: list[str], start: date, to: date, sort: str):
    if not cursor:
        return (start if sort == "oldest" else to), dict.fromkeys(stores)
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raw = None
    try:
        day = date.fromisoformat(raw["day"]) if isinstance(raw, dict) else None
    except (KeyError, TypeError, ValueError):
        day = None
    if (
        day is None
        or not start <= day <= to
        or raw.get("sort", "newest") != sort  # a cursor goes on in its own order only
        or not isinstance(raw.get("at"), dict)
        or not set(raw["at"]) <= set(stores)
        or not all(v is None or isinstance(v, str) for v in raw["at"].values())
    ):
        raise cursors.foreign()
    at = {
        store: cursors.decode(inner, _KEY, {"store_day": f"{store}#{day.isoformat()}"})
        for store, inner in raw["at"].items()
    }
    return day, at


def _encode(day: date, at: dict[str, Any], sort: str) -> str:
    raw = {
        "day": day.isoformat(),
        "sort": sort,
        "at": {k: cursors.encode(v) for k, v in at.items()},
    }
    data = json.dumps(raw, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _key(e: Any) -> dict[str, Any]:
    return {
        "order_id": {"S": e.order_id},
        "store_day": {"S": e.store_day},
        "created_at": {"S": e.created_at},
    }


def _projected_ok(e: Any, q: s.AllOrdersQuery) -> bool:
    paid = int(e.paid_fen or 0)
    if q.min_paid_fen is not None and paid < q.min_paid_fen:
        return False
    if q.max_paid_fen is not None and paid > q.max_paid_fen:
        return False
    refunded = int(e.refunded_fen or 0) > 0
    return q.has_refund is None or refunded == q.has_refund


def _needs_order(q: s.AllOrdersQuery) -> bool:
    return q.status is not None or q.fulfilment is not None or q.missed_print is not None


# Discount codes (checkout/promotion_engine.py, "<kind>:<id>") naming a coupon, not a
# promotion: a coupon's template is read from the order's coupon uses (as events/records.py).
_COUPON_CODES = ("coupon", "free_delivery")


def _carries(o: OrderModel, q: s.AllOrdersQuery) -> bool:
    """The promotion/coupon filters (issue 18 item 6), on the order's own discounts."""
    if q.promotion_id is not None and not any(
        kind not in _COUPON_CODES and pid == q.promotion_id
        for kind, _, pid in (str(d.code or "").partition(":") for d in o.discounts or [])
    ):
        return False
    return q.coupon_template_id is None or any(
        u.template_id == q.coupon_template_id for u in o.coupon_uses or []
    )


def _order_ok(o: OrderModel, q: s.AllOrdersQuery) -> bool:
    return (
        (q.status is None or o.status == q.status)
        and (q.fulfilment is None or o.fulfilment == q.fulfilment)
        and (q.missed_print is None or bool(o.missed_print) == q.missed_print)
        and _carries(o, q)
    )


def matches(o: OrderModel, q: s.AllOrdersQuery) -> bool:
    """Whether a whole order passes the list's filters (but stores and days): the export
    of the list (exports/sources.py) filters with this, so it holds what the list shows."""
    return _projected_ok(o, q) and _order_ok(o, q)


def list_all(principal: Principal, query: s.AllOrdersQuery) -> s.OrderPage:
    zones = _stores(query)
    stores = list(zones)
    start, to = _range(query, set(zones.values()))
    oldest = query.sort == "oldest"
    step = timedelta(days=1 if oldest else -1)
    day, at = _decode(query.cursor, stores, start, to, query.sort)
    limit = query.limit
    found: list[OrderModel] = []
    rounds = 0
    while True:
        if not at:  # this day is done in every store: the next day in the list's order
            day += step
            if not start <= day <= to:
                return s.OrderPage(items=[view(o, principal) for o in found], next_cursor=None)
            at = dict.fromkeys(stores)
        if rounds >= MAX_ROUNDS:
            return s.OrderPage(
                items=[view(o, principal) for o in found],
                next_cursor=_encode(day, at, query.sort),
            )
        rounds += len(at)
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(at))) as pool:
            pages = pool.map(_bucket, at, repeat(day), repeat(limit), at.values(), repeat(oldest))
            fetched: dict[str, list[Any]] = dict(zip(at, pages, strict=True))
        merged = sorted(
            (e for entries in fetched.values() for e in entries),
            key=lambda e: (e.created_at, e.store_day),
            reverse=not oldest,
        )
        kept = [e for e in merged if _projected_ok(e, query)]
        orders = {o.order_id: o for o in load_many([e.order_id for e in kept])} if kept else {}
        used = dict.fromkeys(fetched, 0)
        after = dict(at)
        for e in merged:
            store = e.store_day.rsplit("#", 1)[0]
            used[store] += 1
            after[store] = _key(e)
            o = orders.get(e.order_id)
            if o is not None and _order_ok(o, query):
                found.append(o)
            # a store whose page is used up may have older entries than the rest: refetch
            if used[store] == len(fetched[store]) == limit or len(found) == limit:
                break
        for store, entries in fetched.items():
            if len(entries) < limit and used[store] == len(entries):
                after.pop(store)  # this store's day is done
        at = after
        if len(found) == limit:
            more = bool(at) or (day < to if oldest else day > start)
            return s.OrderPage(
                items=[view(o, principal) for o in found],
                next_cursor=_encode(day, at, query.sort) if more else None,
            )
