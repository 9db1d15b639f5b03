"""Orders across stores for head office (issue 13 item 1): per chosen store and business
day, newest first, from the ``by_store_day`` index, merged newest first.

Each day, every store's bucket is queried from its position (a page of keys with the
projected amounts); entries are merged by ``created_at`` and walked until a store whose
fetched page is used up may have more (then that store is fetched again), so the merge
is exact. Amount and refund filters use the projection; status, fulfilment and missed
print need the orders (read with ``load_many``, as the day list does). The cursor holds
the day and each store's position on it; it is validated like kernel/cursors.py."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, timedelta
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.orders import schemas as s
from chalicelib.orders.models import OrderModel
from chalicelib.orders.service import load_many, view
from chalicelib.stores.models import StoreModel

MAX_DAYS = 92
MAX_ROUNDS = 30  # index queries per request at most: a sparse filter returns a short page
_KEY = ("order_id", "store_day", "created_at")


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{name} is not a date.", details=[field_error(name, "a date YYYY-MM-DD")]
        ) from None


def _range(query: s.AllOrdersQuery) -> tuple[date, date]:
    to = _day(query.to, "to") if query.to else clock.now().date()
    start = _day(query.from_, "from") if query.from_ else to
    if start > to or (to - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            f"The date range must run forwards and span at most {MAX_DAYS} days.",
            details=[field_error("from", f"at most {MAX_DAYS} days before 'to'")],
        )
    return start, to


def _stores(query: s.AllOrdersQuery) -> list[str]:
    known = sorted(m.store_id for m in StoreModel.by_listing.query("stores"))
    if not query.store_ids:
        return known
    chosen = sorted(set(query.store_ids.split(",")))
    unknown = [x for x in chosen if x not in known]
    if unknown:
        raise ValidationFailed(
            "Unknown stores.", details=[field_error("store_ids", f"no store {unknown[0]!r}")]
        )
    return chosen


def _decode(cursor: str | None, stores: list[str], start: date, to: date):
    if not cursor:
        return to, dict.fromkeys(stores)
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


def _encode(day: date, at: dict[str, Any]) -> str:
    raw = {"day": day.isoformat(), "at": {k: cursors.encode(v) for k, v in at.items()}}
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


def _order_ok(o: OrderModel, q: s.AllOrdersQuery) -> bool:
    return (
        (q.status is None or o.status == q.status)
        and (q.fulfilment is None or o.fulfilment == q.fulfilment)
        and (q.missed_print is None or bool(o.missed_print) == q.missed_print)
    )


def list_all(principal: Principal, query: s.AllOrdersQuery) -> s.OrderPage:
    start, to = _range(query)
    stores = _stores(query)
    day, at = _decode(query.cursor, stores, start, to)
    limit = query.limit
    found: list[OrderModel] = []
    rounds = 0
    while True:
        if not at:  # this day is done in every store: the day before
            day -= timedelta(days=1)
            if day < start:
                return s.OrderPage(items=[view(o, principal) for o in found], next_cursor=None)
            at = dict.fromkeys(stores)
        if rounds >= MAX_ROUNDS:
            return s.OrderPage(
                items=[view(o, principal) for o in found], next_cursor=_encode(day, at)
            )
        fetched: dict[str, list[Any]] = {}
        for store, position in at.items():
            rounds += 1
            fetched[store] = list(
                OrderModel.by_store_day.query(
                    f"{store}#{day.isoformat()}",
                    scan_index_forward=False,
                    limit=limit,
                    page_size=limit,
                    last_evaluated_key=position,
                )
            )
        merged = sorted(
            (e for entries in fetched.values() for e in entries),
            key=lambda e: (e.created_at, e.store_day),
            reverse=True,
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
            more = bool(at) or day > start
            return s.OrderPage(
                items=[view(o, principal) for o in found],
                next_cursor=_encode(day, at) if more else None,
            )
