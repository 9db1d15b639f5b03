"""Weekly opening hours in the store's time zone: open now, and the next opening."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Opening:
    """One opening on a weekday. ``close`` "24:00" means midnight; a close before the
    open means the store closes after midnight (e.g. 08:00-02:00)."""

    day: int  # 0 = Monday
    open: str
    close: str


def minutes(hhmm: str) -> int:
    """ "08:30" -> 510. "24:00" is allowed as the end of the day."""
    hh, mm = hhmm.split(":")
    return int(hh) * 60 + int(mm)


def valid_hhmm(value: str, allow_24: bool = False) -> bool:
    """True for "HH:MM" between 00:00 and 23:59 (or 24:00 when allowed)."""
    if len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        return False
    hh, mm = int(value[:2]), int(value[3:])
    if allow_24 and hh == 24 and mm == 0:
        return True
    return 0 <= hh <= 23 and 0 <= mm <= 59


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _intervals(openings: Sequence[Opening], day_start: datetime) -> list[tuple[datetime, datetime]]:
    """Open intervals (local datetimes) of the openings that start on ``day_start``'s weekday."""
    out = []
    for o in openings:
        if o.day != day_start.weekday():
            continue
        start = day_start + timedelta(minutes=minutes(o.open))
        end_min = minutes(o.close)
        end = day_start + timedelta(minutes=end_min)
        if end_min <= minutes(o.open):  # closes after midnight (or open 24 h as 00:00-00:00)
            end += timedelta(days=1)
        out.append((start, end))
    return out


def is_open(openings: Sequence[Opening], tz: str, now_utc: datetime) -> bool:
    """Whether the store is open at ``now_utc``."""
    local = now_utc.astimezone(zone(tz))
    today = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    naive = local.replace(tzinfo=None)
    for day_start in (today - timedelta(days=1), today):
        for start, end in _intervals(openings, day_start):
            if start <= naive < end:
                return True
    return False


def next_opening(openings: Sequence[Opening], tz: str, now_utc: datetime) -> datetime | None:
    """The next time (UTC) the store opens after ``now_utc``; None if it never opens."""
    zi = zone(tz)
    local = now_utc.astimezone(zi)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    naive = local.replace(tzinfo=None)
    for offset in range(0, 8):
        for start, _ in sorted(_intervals(openings, today + timedelta(days=offset))):
            if start > naive:
                return start.replace(tzinfo=zi).astimezone(now_utc.tzinfo)
    return None
