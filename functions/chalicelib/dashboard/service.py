"""The head-office dashboard: reads today's and the trend days' orders of each store from
the ``by_store_day`` index, the first tickets of today's paid orders, the missed-print
counts and relay health, then leaves the arithmetic to dashboard/rules.py.

Round trips: one index query per (store, day) — ``days`` per store — and one COUNT query
per store for missed prints, run concurrently (at most 8 at a time); then one BatchGetItem
per 100 of today's paid orders for their first tickets, and the relay health reads of
GET /admin/print-health. Queries project only the attributes used. Never a scan.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.auth.principal import Principal, require_store_access
from chalicelib.dashboard import rules as d
from chalicelib.dashboard import schemas as s
from chalicelib.kernel import clock, hours
from chalicelib.orders.models import OrderModel
from chalicelib.printing import print_jobs, relays
from chalicelib.printing.models import PrintJobModel
from chalicelib.stores.models import StoreModel
from chalicelib.stores.service import get_store_model

MAX_WORKERS = 8  # concurrent DynamoDB calls; PynamoDB keeps a client per thread
BATCH = 100  # BatchGetItem's limit
DEFAULT_TIMEZONE = "Asia/Shanghai"  # for the date of an empty dashboard
_TREND_ATTRIBUTES = ["paid_at", "paid_fen"]
_TODAY_ATTRIBUTES = [
    "order_id",
    "paid_at",
    "paid_fen",
    "refunded_fen",
    "returned_payments_fen",
    "print_job_ids",
]
_JOB_ATTRIBUTES = ["job_id", "order_id", "kind", "printed_at"]


@dataclass
class _StoreDays:
    store: StoreModel
    dates: list[str]  # oldest first, today last

    @property
    def today(self) -> str:
        return self.dates[-1]


def _stores(principal: Principal, store_id: str | None) -> list[StoreModel]:
    """The stores the caller asked for and may see: head office every store (or one),
    store accounts their own store (403 ``other_store`` for another)."""
    if store_id is None and not principal.is_hq:
        store_id = principal.store_id or ""
    if store_id is not None:
        require_store_access(principal, store_id)
        return [get_store_model(store_id)]
    return sorted(StoreModel.by_listing.query("stores"), key=lambda st: st.store_id)


def _paid_orders(
    store_id: str, day: str, attributes: list[str], with_returned: bool = False
) -> list[OrderModel]:
    """The store's orders created on ``day`` that were paid and are not held (one index
    query, paged); ``with_returned``: also those that only received payments they could
    not take (paid back whole), for the day's refunds."""
    # held orders (paid, waiting for their group buy) are no sale until released
    condition = OrderModel.paid_at.exists() & OrderModel.held.does_not_exist()
    if with_returned:
        condition = condition | (OrderModel.returned_payments_fen > 0)
    return list(
        OrderModel.by_store_day.query(
            f"{store_id}#{day}", filter_condition=condition, attributes_to_get=attributes
        )
    )


def _missed_count(store_id: str) -> int:
    """How many of the store's print jobs are missed right now (Select COUNT)."""
    return PrintJobModel.by_store_status.count(f"{store_id}#missed")


def _first_tickets(orders: list[OrderModel]) -> dict[str, PrintJobModel]:
    """order id -> its first print job of kind ``order`` (BatchGetItem by 100)."""
    ids = [job_id for o in orders if (job_id := print_jobs.first_job_id(o))]
    found: dict[str, PrintJobModel] = {}
    for start in range(0, len(ids), BATCH):
        for job in PrintJobModel.batch_get(
            ids[start : start + BATCH], attributes_to_get=_JOB_ATTRIBUTES
        ):
            if job.kind == "order":
                found[job.order_id] = job
    return found


def _paid_order(order: OrderModel, ticket: PrintJobModel | None) -> d.PaidOrder:
    printed = ticket.printed_at if ticket is not None else None
    return d.PaidOrder(
        paid_fen=int(order.paid_fen or 0),
        refunded_fen=int(order.refunded_fen or 0),
        print_latency_s=d.latency_s(order.paid_at, printed) if printed and order.paid_at else None,
        returned_payments_fen=int(order.returned_payments_fen or 0),
        paid=order.paid_at is not None,
    )


def _figures(f: d.Figures, missed: int) -> dict[str, Any]:
    return {
        "orders": f.orders,
        "gmv_fen": f.gmv_fen,
        "average_order_fen": f.average_order_fen,
        "refunded_fen": f.refunded_fen,
        "printed": f.printed,
        "print_latency_p50_s": f.print_latency_p50_s,
        "print_latency_p95_s": f.print_latency_p95_s,
        "missed_prints": missed,
    }


def _trend(days: list[d.TrendDay]) -> list[s.TrendDay]:
    return [s.TrendDay(date=t.date, orders=t.orders, gmv_fen=t.gmv_fen) for t in days]


def dashboard(principal: Principal, store_id: str | None, days: int) -> s.Dashboard:
    """Today's figures per store and in total, and the trend of the last ``days``."""
    stores = _stores(principal, store_id)
    now = clock.now()
    plan = [
        _StoreDays(st, d.last_days(d.business_day(now, hours.zone(st.timezone)), days))
        for st in stores
    ]
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        day_orders: dict[tuple[str, str], Future[list[OrderModel]]] = {}
        for p in plan:
            for day in p.dates:
                is_today = day == p.today
                attrs = _TODAY_ATTRIBUTES if is_today else _TREND_ATTRIBUTES
                sid = p.store.store_id
                day_orders[sid, day] = pool.submit(_paid_orders, sid, day, attrs, is_today)
        missed = {p.store.store_id: pool.submit(_missed_count, p.store.store_id) for p in plan}
        health = pool.submit(relays.stores_health, stores, now)
        today_orders = {
            p.store.store_id: day_orders[p.store.store_id, p.today].result() for p in plan
        }
        tickets = _first_tickets([o for orders in today_orders.values() for o in orders])
        store_health = {h.store_id: h for h in health.result()}

    every_order: list[d.PaidOrder] = []
    entries: list[s.DashboardStore] = []
    trends: list[list[d.TrendDay]] = []
    for p in plan:
        sid = p.store.store_id
        paid = [_paid_order(o, tickets.get(o.order_id)) for o in today_orders[sid]]
        every_order += paid
        trend = [
            d.TrendDay(
                day,
                *d.day_totals(
                    int(o.paid_fen or 0) for o in day_orders[sid, day].result() if o.paid_at
                ),
            )
            for day in p.dates
        ]
        trends.append(trend)
        h = store_health[sid]
        entries.append(
            s.DashboardStore(
                **_figures(d.figures(paid), missed[sid].result()),
                store_id=sid,
                name=p.store.name,
                date=p.today,
                relay=s.RelaySummary(healthy=h.healthy, problems=list(h.problems)),
                trend=_trend(trend),
            )
        )
    # Stores agree on "today" unless they are in different time zones: show the latest.
    today = (
        max((p.today for p in plan), default=None)
        or d.business_day(now, hours.zone(DEFAULT_TIMEZONE)).isoformat()
    )
    dates = d.last_days(date.fromisoformat(today), days)
    return s.Dashboard(
        date=today,
        days=days,
        generated_at=clock.iso(now),
        totals=s.DashboardFigures(
            **_figures(d.figures(every_order), sum(e.missed_prints for e in entries))
        ),
        stores=entries,
        trend=_trend(d.sum_trends(trends, dates)),
    )
