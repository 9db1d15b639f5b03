"""Recurring windows of promotions and coupon templates (issue 18 item 4): "every
Wednesday 18:00-21:00" on the chain's local calendar (Asia/Shanghai, no daylight saving).
Plain Python, no I/O.

A window is ISO weekdays (1 = Monday ... 7 = Sunday) and a local start and end time,
end after start on the same day: a window crossing midnight (22:00-02:00) is refused —
give two windows' worth as two promotions, or end it at 24:00. It applies inside the
promotion's or coupon's overall starts_at/ends_at, which the callers check as before.

It lives in the kernel (beside opening hours, whose "HH:MM" helpers it reuses) rather
than in promotions/member_day.py because coupons, promotions and the pure engine all
need it and coupons may not import promotions (sibling layers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.kernel.hours import minutes, valid_hhmm

TZ = ZoneInfo("Asia/Shanghai")
WEEKDAY_EN = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


@dataclass(frozen=True)
class Recurrence:
    weekdays: tuple[int, ...]  # ISO: 1 = Monday ... 7 = Sunday
    start: str  # local "HH:MM", inclusive
    end: str  # local "HH:MM" (or "24:00"), exclusive


def on_at(recurrence: Recurrence | None, now: datetime) -> bool:
    """Whether the window is on at the aware instant ``now`` (no recurrence: always)."""
    if recurrence is None:
        return True
    local = now.astimezone(TZ)
    if local.isoweekday() not in recurrence.weekdays:
        return False
    at = local.hour * 60 + local.minute
    return minutes(recurrence.start) <= at < minutes(recurrence.end)


def next_on(recurrence: Recurrence, now: datetime) -> tuple[datetime, datetime] | None:
    """The window going on at ``now`` or the next one to start (local start, end), or
    None for no weekday (never: validation requires one)."""
    local = now.astimezone(TZ)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for ahead in range(8):
        d = day + timedelta(days=ahead)
        if d.isoweekday() not in recurrence.weekdays:
            continue
        start = d + timedelta(minutes=minutes(recurrence.start))
        end = d + timedelta(minutes=minutes(recurrence.end))
        if end > local:
            return start, end
    return None


def describe(recurrence: Recurrence) -> str:
    """ "Usable Wednesdays 18:00–21:00" style text (English; the admin translates)."""
    days = ", ".join(WEEKDAY_EN[d - 1] for d in sorted(recurrence.weekdays))
    return f"{days} {recurrence.start}–{recurrence.end}"


def errors(weekdays: Sequence[int], start: str, end: str, field: str) -> list[tuple[str, str]]:
    """(field, reason) for each problem of a window."""
    out: list[tuple[str, str]] = []
    if not weekdays:
        out.append((f"{field}.weekdays", "at least one weekday"))
    for i, d in enumerate(weekdays):
        if not 1 <= d <= 7:
            out.append((f"{field}.weekdays[{i}]", "must be a weekday 1 (Monday) to 7 (Sunday)"))
    if len(set(weekdays)) != len(weekdays):
        out.append((f"{field}.weekdays", "listed twice"))
    if not valid_hhmm(start):
        out.append((f"{field}.start", "a local time HH:MM, 00:00 to 23:59"))
    if not valid_hhmm(end, allow_24=True):
        out.append((f"{field}.end", "a local time HH:MM, 00:01 to 24:00"))
    elif valid_hhmm(start) and minutes(end) <= minutes(start):
        out.append(
            (
                f"{field}.end",
                "must be after start on the same day (a window crossing midnight is not "
                "supported: end it at 24:00)",
            )
        )
    return out
