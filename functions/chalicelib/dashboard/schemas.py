"""The head-office dashboard: today's orders, GMV, refunds and printing per store, with a
trend of the last days."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, StoreId, Timestamp

BusinessDay = Annotated[
    str, Meta(description="Business day in the store's time zone.", examples=["2026-11-24"])
]


class DashboardQuery(Schema, kw_only=True):
    store_id: StoreId | None = None  # head office: absent = every store; staff: their own
    days: Annotated[
        int, Meta(ge=1, le=31, description="Length of the trend in business days, today last.")
    ] = 7


class TrendDay(Out, kw_only=True):
    date: BusinessDay
    orders: int  # orders created that day and paid
    gmv_fen: int  # what they paid


class DashboardFigures(Out, kw_only=True):
    """Today's figures (orders created today and paid)."""

    orders: int
    gmv_fen: int
    average_order_fen: int  # gmv_fen // orders; 0 without orders
    refunded_fen: int  # refunded so far on today's orders, payments they could not take included
    printed: int  # today's paid orders whose first ticket has printed
    print_latency_p50_s: float | None  # payment -> first ticket printed; null: none printed
    print_latency_p95_s: float | None
    missed_prints: int  # the store's print jobs missed (漏单) right now, any day


class RelaySummary(Out, kw_only=True):
    """The store's relay and printer health, as in GET /admin/print-health."""

    healthy: bool
    problems: list[str]  # no_relay, relay_never_seen, relay_stale, printer_offline, ...


class DashboardStore(DashboardFigures, kw_only=True):
    store_id: str
    name: str
    date: BusinessDay  # today in this store's time zone
    relay: RelaySummary
    trend: list[TrendDay]  # oldest first, ``days`` entries ending today


class Dashboard(Out, kw_only=True):
    date: BusinessDay  # today (the latest business day of the stores shown)
    days: int
    generated_at: Timestamp
    totals: DashboardFigures  # the stores added up (latency percentiles over all their orders)
    stores: list[DashboardStore]
    trend: list[TrendDay]  # the stores added up, day by day, oldest first


_TREND = [
    {"date": "2026-11-18", "orders": 97, "gmv_fen": 651200},
    {"date": "2026-11-19", "orders": 102, "gmv_fen": 688950},
    {"date": "2026-11-20", "orders": 88, "gmv_fen": 590100},
    {"date": "2026-11-21", "orders": 131, "gmv_fen": 901230},
    {"date": "2026-11-22", "orders": 144, "gmv_fen": 1010400},
    {"date": "2026-11-23", "orders": 120, "gmv_fen": 830000},
    {"date": "2026-11-24", "orders": 63, "gmv_fen": 428190},
]
_FIGURES = {
    "orders": 63,
    "gmv_fen": 428190,
    "average_order_fen": 6796,
    "refunded_fen": 5980,
    "printed": 62,
    "print_latency_p50_s": 3.0,
    "print_latency_p95_s": 7.4,
    "missed_prints": 1,
}
_STORE = {
    **_FIGURES,
    "store_id": "sh-jingan",
    "name": "鲜到家 静安寺店",
    "date": "2026-11-24",
    "relay": {"healthy": False, "problems": ["printer_paper_out"]},
    "trend": _TREND,
}

EXAMPLES = {
    "DashboardFigures": _FIGURES,
    "DashboardStore": _STORE,
    "Dashboard": {
        "date": "2026-11-24",
        "days": 7,
        "generated_at": "2026-11-24T06:12:30Z",
        "totals": _FIGURES,
        "stores": [_STORE],
        "trend": _TREND,
    },
}
