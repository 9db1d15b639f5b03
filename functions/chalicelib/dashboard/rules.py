"""The head-office dashboard's arithmetic: business days, sums, average order value and
print-latency percentiles. Plain Python: the service reads the orders and print jobs and
hands their figures here.

Definitions (the route's documentation repeats them):

* an order counts on the business day it was created (store time zone) once it was paid
  (``paid_at`` set), whatever happened to it since (cancelled and refunded included);
* ``gmv_fen`` is the sum of what those orders paid; ``refunded_fen`` the sum of what has
  been refunded on them so far, plus the payments that orders of the day could not take
  (late, a second payment, the wrong amount: each paid back whole, paid or not);
  ``average_order_fen`` = gmv // orders (0 without orders);
* an order is ``printed`` when its first ticket (the job made at payment) was printed, and
  its print latency is the seconds from payment to that ticket's ``printed_at``;
* percentiles interpolate linearly between the two nearest ranks (numpy's default, also
  ``statistics.quantiles(method="inclusive")``), rounded to 0.1 s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.kernel import clock


@dataclass(frozen=True)
class PaidOrder:
    """What the dashboard needs of one order of the day: paid, or never paid but with a
    payment it could not take (``paid`` False: counted in the refunds only)."""

    paid_fen: int
    refunded_fen: int
    print_latency_s: float | None  # None: its first ticket has not printed (yet)
    returned_payments_fen: int = 0  # payments it could not take, paid back whole
    paid: bool = True


@dataclass(frozen=True)
class Figures:
    """One day's figures of a store, or of several stores together."""

    orders: int
    gmv_fen: int
    average_order_fen: int
    refunded_fen: int
    printed: int
    print_latency_p50_s: float | None
    print_latency_p95_s: float | None


@dataclass(frozen=True)
class TrendDay:
    date: str  # YYYY-MM-DD
    orders: int
    gmv_fen: int


def business_day(now_utc: datetime, tz: ZoneInfo) -> date:
    """The business day (calendar date in the store's time zone) at ``now_utc``."""
    return now_utc.astimezone(tz).date()


def last_days(today: date, days: int) -> list[str]:
    """The ``days`` business days ending with ``today``, oldest first, as YYYY-MM-DD."""
    return [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]


def parse_iso(value: str) -> datetime:
    """A stored UTC ISO-8601 time ('...Z', with or without milliseconds)."""
    return clock.parse(value)


def latency_s(paid_at: str, printed_at: str) -> float:
    """Seconds from payment to print; never negative (clocks of two machines)."""
    return max((parse_iso(printed_at) - parse_iso(paid_at)).total_seconds(), 0.0)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The ``p``-th percentile (0..100) by linear interpolation between the nearest
    ranks, rounded to 0.1; None for no values."""
    if not values:
        return None
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is not between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    value = ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)
    return round(value, 1)


def figures(orders: Iterable[PaidOrder]) -> Figures:
    """Sums, average order value and print latency of paid orders; refunds of every
    order given (returned payments included)."""
    every = list(orders)
    orders = [o for o in every if o.paid]
    gmv = sum(o.paid_fen for o in orders)
    latencies = [o.print_latency_s for o in orders if o.print_latency_s is not None]
    return Figures(
        orders=len(orders),
        gmv_fen=gmv,
        average_order_fen=gmv // len(orders) if orders else 0,
        refunded_fen=sum(o.refunded_fen + o.returned_payments_fen for o in every),
        printed=len(latencies),
        print_latency_p50_s=percentile(latencies, 50),
        print_latency_p95_s=percentile(latencies, 95),
    )


def day_totals(paid_fen: Iterable[int]) -> tuple[int, int]:
    """(orders, gmv_fen) of one day's paid orders."""
    amounts = list(paid_fen)
    return len(amounts), sum(amounts)


def sum_trends(trends: Sequence[Sequence[TrendDay]], dates: Sequence[str]) -> list[TrendDay]:
    """Several stores' trends added day by day. Entries are matched by position (days
    ago), so stores in different time zones each contribute their own "today" to the last
    entry; the result carries ``dates``."""
    out = []
    for i, day in enumerate(dates):
        entries = [t[i] for t in trends if i < len(t)]
        out.append(
            TrendDay(
                date=day,
                orders=sum(e.orders for e in entries),
                gmv_fen=sum(e.gmv_fen for e in entries),
            )
        )
    return out
