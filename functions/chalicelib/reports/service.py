"""Daily rollups and the sales report.

Writes per order (issue 11's budget): the order.paid subscriber's one small UpdateItem
(``record_paid``) and its delivery marker. Nothing is incremented per event: a day's
rollup is computed whole from its sources and written as one item (``rollup_day``), so a
redelivered event or a rerun of the job cannot count anything twice. Sources of one
(store, day): the ``by_store_day`` index (paid amount, refunds, first ticket ids; one
Query), the ``report_orders`` items of those orders (lines, cancelled; BatchGetItem by
100), their first tickets (printed_at, missed; BatchGetItem by 100) and the categories of
the day's skus (BatchGetItem); for punctuality (store TOP tiers), in the daily settle
pass and the backfill only, the orders' histories (BatchGetItem by 100). Never a scan.

When: the ``report_rollups`` job rolls up today and yesterday of every store (every 10
minutes in AWS, every minute locally) and the last ``SETTLE_DAYS`` once a day (late
refunds, returns); ``backfill`` rolls up any range (operators after an upgrade, the demo
seeding). The report reads only ``report_days`` items: one Query per store over the range.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

from pynamodb.expressions.update import Action

from chalicelib.auth.principal import Principal, require_store_access
from chalicelib.catalogue.models import ProductModel
from chalicelib.customers.models import MemberStatsModel
from chalicelib.events.types import OrderPaid
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock, hours
from chalicelib.kernel.errors import BadRequest
from chalicelib.orders.models import OrderModel
from chalicelib.printing import print_jobs
from chalicelib.printing.models import PrintJobModel
from chalicelib.reports import rules as r
from chalicelib.reports import schemas as s
from chalicelib.reports.models import KEEP_DAYS, ReportDayModel, ReportOrderModel
from chalicelib.stores.models import StoreModel
from chalicelib.stores.service import get_store_model

log = logging.getLogger("daojia.reports")

BATCH = 100
MAX_WORKERS = 8
SETTLE_DAYS = 14
CHAIN_TZ = "Asia/Shanghai"  # a store's business day (backfill does not read the stores)
TOP_SHOWN = 10
_ORDER_ATTRIBUTES = ["order_id", "paid_at", "paid_fen", "refunded_fen", "print_job_ids", "hold"]
_JOB_ATTRIBUTES = ["job_id", "order_id", "kind", "printed_at", "store_status"]
_TIMING_ATTRIBUTES = ["order_id", "fulfilment", "history"]
_PICKED, _DONE = {"picked"}, {"delivered", "ready_for_pickup"}


# --- subscribers' writes -----------------------------------------------------------------


def record_paid(event: OrderPaid) -> None:
    """The paid order's lines, SET (not added): a redelivery writes the same value."""
    lines = r.encode_lines(r.Line(ln.sku, ln.qty, ln.paid_fen) for ln in event.lines)
    actions: list[Action] = [
        ReportOrderModel.lines.set(lines),
        ReportOrderModel.expires_at.set(clock.now() + timedelta(days=KEEP_DAYS)),
    ]
    if disc := r.encode_disc(event.discounts):  # the same write: no cost per order
        actions.append(ReportOrderModel.disc.set(disc))
        actions.append(ReportOrderModel.cust.set(event.customer_id))  # effect reports
    ReportOrderModel(event.order_id).update(actions=actions)


def record_cancelled(order_id: str) -> None:
    ReportOrderModel(order_id).update(
        actions=[
            ReportOrderModel.cancelled.set(True),
            ReportOrderModel.expires_at.set(clock.now() + timedelta(days=KEEP_DAYS)),
        ]
    )


# --- rolling a day up ------------------------------------------------------------------


def _batches(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _first_at(history: Iterable[Any], states: set[str]) -> float | None:
    for h in history:
        if h.to_state in states:
            return clock.parse(h.at).timestamp()
    return None


def _timings(orders: list[OrderModel]) -> dict[str, bool | None]:
    """order id -> punctuality (rules.on_time), from the order heads' histories (the
    index does not hold them): BatchGetItem by 100 of three attributes."""
    now_s = clock.now().timestamp()
    paid = {o.order_id: clock.parse(o.paid_at).timestamp() for o in orders if o.paid_at}
    out: dict[str, bool | None] = {}
    for chunk in _batches(list(paid)):
        for head in OrderModel.batch_get(chunk, attributes_to_get=_TIMING_ATTRIBUTES):
            history = head.history or []
            if not history:  # written without its steps (imported, demo): not known
                continue
            out[head.order_id] = r.on_time(
                head.fulfilment,
                paid[head.order_id],
                _first_at(history, _PICKED),
                _first_at(history, _DONE),
                now_s,
            )
    return out


def _day_orders(store_id: str, day: str, timing: bool = True) -> list[r.DayOrder]:
    every = list(
        OrderModel.by_store_day.query(f"{store_id}#{day}", attributes_to_get=_ORDER_ATTRIBUTES)
    )
    # the unpaid (awaiting payment, expired, cancelled unpaid) count as placed only, and
    # so do held orders (paid, waiting for their group: a sale only once the group
    # succeeds and releases them; a failed group's stay held, refunded, never a sale)
    orders = [o for o in every if o.paid_at and not o.held]
    # held and paid, not refunded in full: waiting for the group (a failed group's and a
    # member who left are refunded in full)
    waiting = [
        o for o in every if o.paid_at and o.held and int(o.refunded_fen or 0) < int(o.paid_fen or 0)
    ]
    unpaid = [r.DayOrder(paid=False, paid_fen=0, refunded_fen=0, cancelled=False)] * (
        len(every) - len(orders) - len(waiting)
    ) + [
        r.DayOrder(
            paid=False,
            paid_fen=int(o.paid_fen or 0),
            refunded_fen=int(o.refunded_fen or 0),
            cancelled=False,
            waiting=True,
        )
        for o in waiting
    ]
    ids = [o.order_id for o in orders]
    rows: dict[str, ReportOrderModel] = {}
    for chunk in _batches(ids):
        rows.update({row.order_id: row for row in ReportOrderModel.batch_get(chunk)})
    ticket_ids = [j for o in orders if (j := print_jobs.first_job_id(o))]
    tickets: dict[str, PrintJobModel] = {}
    for chunk in _batches(ticket_ids):
        for job in PrintJobModel.batch_get(chunk, attributes_to_get=_JOB_ATTRIBUTES):
            if job.kind == "order":
                tickets[job.order_id] = job
    timings = _timings(orders) if timing else {}
    new = _new_customers(day, [row for row in rows.values() if row.disc and row.cust])
    out = []
    for o in orders:
        row = rows.get(o.order_id)
        ticket = tickets.get(o.order_id)
        printed = ticket.printed_at if ticket is not None else None
        out.append(
            r.DayOrder(
                paid=True,
                paid_fen=int(o.paid_fen or 0),
                refunded_fen=int(o.refunded_fen or 0),
                cancelled=bool(row is not None and row.cancelled),
                lines=r.decode_lines(row.lines if row is not None else None),
                latency_s=latency_s(o.paid_at, printed) if printed and o.paid_at else None,
                missed=ticket is not None and ticket.store_status is not None,
                on_time=timings.get(o.order_id),
                disc=r.decode_disc(row.disc if row is not None else None),
                new_customer=new.get(row.cust or "") if row is not None else None,
            )
        )
    return out + unpaid


def _new_customers(day: str, rows: list[ReportOrderModel]) -> dict[str, bool]:
    """customer -> new on ``day`` (no completed order before it: their aggregates'
    first completed order is that day or later, or none yet), for the customers of the
    day's orders with a discount only: BatchGetItem by 100 of two attributes."""
    wanted = sorted({row.cust for row in rows if row.cust})
    first: dict[str, str | None] = {}
    for chunk in _batches(wanted):
        for m in MemberStatsModel.batch_get(chunk, attributes_to_get=["customer_id", "fd"]):
            first[m.customer_id] = m.first_date
    return {c: (first.get(c) or day) >= day for c in wanted}


def new_members(store_id: str, day: str, tz: str = CHAIN_TZ) -> int:
    """Members registered that local day with the store as home store: a COUNT Query of
    identity's by_home_store index over the day's UTC bounds."""
    start = datetime.combine(date.fromisoformat(day), time(), hours.zone(tz))
    # bounds without the "Z": "...T16:00:00" sorts before "...T16:00:00Z" and
    # "...T16:00:00.123Z", so the range is exactly [start, next start)
    first = clock.iso(start)[:-1]
    last = clock.iso(start + timedelta(days=1))[:-1]
    return CustomerModel.by_home_store.count(
        store_id, CustomerModel.created_at.between(first, last)
    )


def latency_s(paid_at: str, printed_at: str) -> float:
    """Seconds from payment to print; never negative (clocks of two machines)."""
    return max((clock.parse(printed_at) - clock.parse(paid_at)).total_seconds(), 0.0)


def categories_of(skus: Iterable[str]) -> dict[str, str]:
    """sku -> category1 from the catalogue (BatchGetItem by 100)."""
    wanted = sorted(set(skus))
    found: dict[str, str] = {}
    for chunk in _batches(wanted):
        for p in ProductModel.batch_get(chunk, attributes_to_get=["sku", "category1"]):
            found[p.sku] = p.category1
    return found


def to_item(store_id: str, day: str, f: r.DayFigures) -> ReportDayModel:
    return ReportDayModel(
        store_id,
        day,
        orders=f.orders,
        paid_fen=f.paid_fen,
        refunded_fen=f.refunded_fen,
        refund_orders=f.refund_orders,
        cancelled=f.cancelled,
        printed=f.printed,
        missed=f.missed,
        hist=r.dump_json(f.hist),
        cats=r.dump_json(f.categories),
        top=r.dump_json(f.products),
        updated_at=clock.now_iso(),
        on_time=f.on_time,
        timed=f.timed,
        placed=f.placed,
        new_members=f.new_members,
        disc=r.dump_json(f.disc) if f.disc else None,
        eff=r.dump_json(f.eff) if f.eff else None,
        waiting=f.waiting,
        waiting_fen=f.waiting_fen,
    )


def from_item(item: ReportDayModel) -> r.DayFigures:
    return r.DayFigures(
        orders=int(item.orders),
        paid_fen=int(item.paid_fen),
        refunded_fen=int(item.refunded_fen),
        refund_orders=int(item.refund_orders),
        cancelled=int(item.cancelled),
        printed=int(item.printed),
        missed=int(item.missed),
        hist=list(r.load_json(item.hist, [0] * (len(r.LATENCY_BOUNDS_S) + 1))),  # type: ignore[call-overload]
        categories=dict(r.load_json(item.cats, {})),  # type: ignore[call-overload]
        products=dict(r.load_json(item.top, {})),  # type: ignore[call-overload]
        on_time=int(item.on_time or 0),
        timed=int(item.timed or 0),
        placed=int(item.placed or 0),
        waiting=int(item.waiting or 0),
        waiting_fen=int(item.waiting_fen or 0),
        new_members=int(item.new_members or 0),
        disc=dict(r.load_json(item.disc, {})),  # type: ignore[call-overload]
        eff=dict(r.load_json(item.eff, {})),  # type: ignore[call-overload]
    )


# Written by every rollup; on_time and timed only by one that read the orders' histories.
_UNTIMED = [
    name
    for name in ReportDayModel.get_attributes()
    if name not in ("store_id", "day", "on_time", "timed")
]


def rollup_day(store_id: str, day: str, timing: bool = True, tz: str = CHAIN_TZ) -> r.DayFigures:
    """Compute one (store, day) rollup from its sources and write it (one write).
    ``timing`` False (the frequent pass) leaves the orders' histories unread and the
    item's punctuality counts as the last timed pass wrote them (an UpdateItem of the
    other attributes instead of a PutItem)."""
    orders = _day_orders(store_id, day, timing)
    skus = {ln.sku for o in orders for ln in o.lines}
    figures = r.day_figures(orders, categories_of(skus))
    figures.new_members = new_members(store_id, day, tz)
    item = to_item(store_id, day, figures)
    if timing:
        item.save()
    else:
        m = ReportDayModel
        item.update(actions=[getattr(m, name).set(getattr(item, name)) for name in _UNTIMED])
    return figures


def backfill(store_ids: list[str] | None, first: date, last: date, timing: bool = True) -> int:
    """Roll up every day from ``first`` to ``last`` of the stores (all without
    ``store_ids``). Returns how many (store, day) items were written."""
    ids = store_ids or [st.store_id for st in StoreModel.by_listing.query("stores")]
    jobs = [(sid, day) for sid in ids for day in r.days_between(first, last)]
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        list(pool.map(lambda job: rollup_day(job[0], job[1], timing), jobs))
    return len(jobs)


def rollup_recent(days: int = 2, timing: bool = True) -> int:
    """The last ``days`` business days (today included) of every store; ``timing``
    False: without punctuality (rollup_day)."""
    written = 0
    now = clock.now()
    for st in StoreModel.by_listing.query("stores"):
        today = now.astimezone(hours.zone(st.timezone)).date()
        written += backfill([st.store_id], today - timedelta(days=days - 1), today, timing)
    return written


# --- the sales report ------------------------------------------------------------------


def _stores(principal: Principal, store_ids: list[str] | None) -> list[StoreModel]:
    """Head office: the chosen stores, or every store; a store manager: their own store
    (403 for another); other roles never get here (the route's roles)."""
    if not principal.is_hq:
        own = principal.store_id or ""
        for sid in store_ids or [own]:
            require_store_access(principal, sid)
        return [get_store_model(own)]
    if store_ids:
        return [get_store_model(sid) for sid in sorted(set(store_ids))]
    return sorted(StoreModel.by_listing.query("stores"), key=lambda st: st.store_id)


def _range(query: s.SalesQuery, tz: str) -> tuple[date, date]:
    today = clock.now().astimezone(hours.zone(tz)).date()
    try:
        last = date.fromisoformat(query.to) if query.to else today
        first = date.fromisoformat(query.from_) if query.from_ else last - timedelta(days=29)
    except ValueError as exc:
        raise BadRequest(
            "from and to are dates (YYYY-MM-DD).", code="bad_date", details={"error": str(exc)}
        ) from exc
    if first > last:
        raise BadRequest(
            "from is after to.", code="bad_range", details={"from": str(first), "to": str(last)}
        )
    length = (last - first).days + 1
    if length > r.MAX_RANGE_DAYS:
        raise BadRequest(
            f"A report covers at most {r.MAX_RANGE_DAYS} days; this range has {length}.",
            code="range_too_long",
            details={"days": length, "max_days": r.MAX_RANGE_DAYS},
        )
    return first, last


def _read_days(store_ids: list[str], first: date, last: date) -> dict[tuple[str, str], Any]:
    """(store, day) -> rollup, one Query per store over the range (concurrently)."""

    def one(sid: str) -> list[ReportDayModel]:
        return list(
            ReportDayModel.query(
                sid, ReportDayModel.day.between(first.isoformat(), last.isoformat())
            )
        )

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        found = [item for items in pool.map(one, store_ids) for item in items]
    return {(i.store_id, i.day): from_item(i) for i in found}


def _point(day: str, f: r.DayFigures) -> s.DayPoint:
    return s.DayPoint(
        date=day,
        orders=f.orders,
        paid_fen=f.paid_fen,
        refunded_fen=f.refunded_fen,
        refund_orders=f.refund_orders,
        aov_fen=r.aov_fen(f.paid_fen, f.orders),
        refund_rate=r.refund_rate(f.refunded_fen, f.paid_fen),
        printed=f.printed,
        print_latency_p50_s=r.hist_percentile(f.hist, 50),
        print_latency_p90_s=r.hist_percentile(f.hist, 90),
        missed_prints=f.missed,
        group_waiting=f.waiting,
        group_waiting_fen=f.waiting_fen,
    )


def _series(
    rollups: dict[tuple[str, str], r.DayFigures], store_ids: list[str], days: list[str]
) -> tuple[list[s.DayPoint], r.DayFigures]:
    points, total = [], r.DayFigures()
    for day in days:
        f = r.DayFigures()
        for sid in store_ids:
            if (got := rollups.get((sid, day))) is not None:
                f.add(got)
        total.add(f)
        points.append(_point(day, f))
    return points, total


def _product_names(skus: list[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for chunk in _batches(skus):
        for p in ProductModel.batch_get(chunk, attributes_to_get=["sku", "name"]):
            names[p.sku] = p.name
    return names


def sales_report(principal: Principal, query: s.SalesQuery) -> s.SalesReport:
    """The sales report of the chosen stores over a range (see the route, which admits
    head office and store managers only)."""
    stores = _stores(principal, query.store_ids())
    first, last = _range(query, stores[0].timezone if stores else "Asia/Shanghai")
    ids = [st.store_id for st in stores]
    days = r.days_between(first, last)
    read_first = first
    if query.compare == "previous":
        read_first, prev_last = r.previous_period(first, last)
    rollups = _read_days(ids, read_first, last)
    series, total = _series(rollups, ids, days)
    previous = None
    if query.compare == "previous":
        prev_days = r.days_between(read_first, prev_last)
        prev_series, prev_total = _series(rollups, ids, prev_days)
        previous = s.Period(
            from_=prev_days[0],
            to=prev_days[-1],
            days=prev_series,
            totals=_point(f"{prev_days[0]}..{prev_days[-1]}", prev_total),
        )
    by_store = []
    for st in stores:
        st_series, st_total = _series(rollups, [st.store_id], days)
        by_store.append(
            s.StoreSeries(
                store_id=st.store_id,
                name=st.name,
                totals=_point(f"{days[0]}..{days[-1]}", st_total),
                days=[
                    s.StoreDay(date=p.date, orders=p.orders, paid_fen=p.paid_fen) for p in st_series
                ],
            )
        )
    top = r.top_products(total.products, TOP_SHOWN)
    names = _product_names([sku for sku, _ in top])
    return s.SalesReport(
        from_=days[0],
        to=days[-1],
        store_ids=ids,
        totals=_point(f"{days[0]}..{days[-1]}", total),
        days=series,
        previous=previous,
        by_store=by_store,
        by_category=[
            s.CategoryFigures(category1=name or "(unknown)", paid_fen=fen, units=units)
            for name, (fen, units) in sorted(total.categories.items(), key=lambda kv: -kv[1][0])
        ],
        top_products=[
            s.ProductFigures(sku=sku, name=names.get(sku, sku), units=units, paid_fen=fen)
            for sku, (units, fen) in top
        ],
        latency_bounds_s=list(r.LATENCY_BOUNDS_S),
    )
