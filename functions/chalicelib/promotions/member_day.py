"""Member day (会员日) and member week: when a recurring member day is on. Plain Python.

A member day is a promotion of kind ``member_day`` (promotions/models.py) with a
recurrence on the chain's local calendar (Asia/Shanghai), inside the promotion's overall
window (``starts_at`` <= now < ``ends_at``, instants):

* ``monthly`` on days of the month (1-31). A day the month does not have falls on the
  month's LAST day (31 -> 30 April, 28/29 February); two listed days that fall on the
  same date are one occurrence.
* ``weekly`` on ISO weekdays (1 = Monday ... 7 = Sunday).
* ``span_days`` (1-7): an occurrence starting on such a day lasts that many local days
  (a member week: monthly on the 18th with span 7 is the 18th to the 24th). Where two
  occurrences overlap, a day belongs to the one that started last.

An occurrence is named by its first local day, ``YYYYMMDD``: the key of the coupon pack
("<template>:md-<promotion>-<day>:<customer>", issued once per member per occurrence).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
MAX_SPAN_DAYS = 7
LOOKAHEAD_DAYS = 800  # far enough for a day 31 monthly rule or a yearly gap


@dataclass(frozen=True)
class Recurrence:
    recurrence: str  # "monthly" | "weekly"
    days: tuple[int, ...]
    span_days: int = 1
    starts_at: str = ""  # UTC ISO instants: the overall window
    ends_at: str = ""


def local_day(at: datetime) -> date:
    """The chain's local date of an aware instant."""
    return at.astimezone(TZ).date()


def day_key(d: date) -> str:
    return d.strftime("%Y%m%d")


def starts_on(r: Recurrence, d: date) -> bool:
    """Whether an occurrence of ``r`` starts on local date ``d`` (the window aside)."""
    if r.recurrence == "weekly":
        return d.isoweekday() in r.days
    last = calendar.monthrange(d.year, d.month)[1]
    return any(min(day, last) == d.day for day in r.days)


def _day_bounds(d: date) -> tuple[datetime, datetime]:
    start = datetime.combine(d, time.min, TZ)
    return start, start + timedelta(days=1)


def _in_window(r: Recurrence, first: date, last: date) -> bool:
    """Whether local days ``first``..``last`` overlap the overall window."""
    lo = _day_bounds(first)[0]
    hi = _day_bounds(last)[1]
    starts = datetime.fromisoformat(r.starts_at.replace("Z", "+00:00"))
    ends = datetime.fromisoformat(r.ends_at.replace("Z", "+00:00"))
    return lo < ends and starts < hi


def occurrence_on(r: Recurrence, d: date) -> date | None:
    """The first day of the occurrence that covers local date ``d`` (the latest started
    one), or None: the window is not checked (see ``occurrence_at``)."""
    for back in range(max(1, r.span_days)):
        start = d - timedelta(days=back)
        if starts_on(r, start):
            return start
    return None


def occurrence_at(r: Recurrence, at: datetime) -> date | None:
    """The occurrence on at instant ``at``: inside the overall window and on a member
    day in Shanghai; None otherwise."""
    at_iso = at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not (r.starts_at <= at_iso < r.ends_at):
        return None
    return occurrence_on(r, local_day(at))


def next_occurrences(r: Recurrence, at: datetime, n: int = 3) -> list[tuple[date, date]]:
    """The next ``n`` occurrences (first day, last day) still to come or going on at
    ``at``, each overlapping the overall window, in order."""
    today = local_day(at)
    span = max(1, r.span_days)
    found: list[tuple[date, date]] = []
    d = today - timedelta(days=span - 1)
    while len(found) < n and d <= today + timedelta(days=LOOKAHEAD_DAYS):
        if starts_on(r, d):
            last = d + timedelta(days=span - 1)
            if last >= today and _in_window(r, d, last):
                found.append((d, last))
        d += timedelta(days=1)
    return found


def recurrence_errors(
    recurrence: str, days: Sequence[int], span_days: int
) -> list[tuple[str, str]]:
    """(field, reason) for each problem of a recurrence."""
    errors: list[tuple[str, str]] = []
    top = 7 if recurrence == "weekly" else 31
    if not days:
        errors.append(("member_day.days", "at least one day"))
    for i, day in enumerate(days):
        if not 1 <= day <= top:
            what = "a weekday 1 (Monday) to 7 (Sunday)" if top == 7 else "a day of month 1 to 31"
            errors.append((f"member_day.days[{i}]", f"must be {what}"))
    if len(set(days)) != len(days):
        errors.append(("member_day.days", "listed twice"))
    if not 1 <= span_days <= MAX_SPAN_DAYS:
        errors.append(("member_day.span_days", f"1 to {MAX_SPAN_DAYS}"))
    return errors
