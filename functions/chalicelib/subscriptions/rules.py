"""Plain rules of subscription delivery: the dates of a schedule, cutoffs, each
delivery's share of the price and the pro-rata refund. No I/O."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.kernel.money import allocate

ZONE = ZoneInfo("Asia/Shanghai")
MAX_DELIVERIES = 90  # a cancellation moves them all in one transaction (100 items)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_delivery_day(day: date, frequency: str, weekday: str | None = None) -> bool:
    """daily: every day; weekdays: Monday to Friday; weekly: the plan's weekday."""
    if frequency == "daily":
        return True
    if frequency == "weekdays":
        return day.weekday() < 5
    if frequency == "weekly":
        return WEEKDAYS[day.weekday()] == weekday
    raise ValueError(f"unknown frequency {frequency!r}")


def dates(
    first: date,
    count: int,
    frequency: str,
    weekday: str | None = None,
    taken: frozenset[date] = frozenset(),
) -> list[date]:
    """``count`` delivery dates from ``first`` (included when it is a delivery day) by
    frequency, leaving out ``taken`` (dates the subscription already has)."""
    out: list[date] = []
    day = first
    while len(out) < count:
        if is_delivery_day(day, frequency, weekday) and day not in taken:
            out.append(day)
        day += timedelta(days=1)
    return out


def cutoff_at(delivery: date, cutoff: str, days_before: int = 1) -> datetime:
    """The moment (aware, local) after which a delivery can no longer be skipped and
    its order is made: ``cutoff`` ("HH:MM") ``days_before`` days before the date."""
    hh, mm = (int(x) for x in cutoff.split(":"))
    return datetime.combine(delivery - timedelta(days=days_before), time(hh, mm), ZONE)


def shares(paid_fen: int, count: int) -> list[int]:
    """Each delivery's share of what was paid (largest remainder: they sum to it)."""
    return allocate(paid_fen, [1] * count)


def refund_for(paid_fen: int, count: int, unused: set[int], refunded_before: int = 0) -> int:
    """What cancelling gives back: the shares of the ``unused`` deliveries (1-based
    sequence numbers), less what was already refunded for them (``refunded_before``:
    e.g. shortage refunds of those very deliveries). Never negative, never more than
    the unused shares."""
    s = shares(paid_fen, count)
    return max(sum(s[i - 1] for i in unused) - refunded_before, 0)


def window_ok(window: str) -> bool:
    """ "HH:MM-HH:MM", start before end."""
    try:
        a, b = window.split("-")
        ta, tb = time.fromisoformat(a), time.fromisoformat(b)
    except ValueError:
        return False
    return ta < tb
