"""kernel/recurrence.py: a weekly window on Shanghai time (UTC+8 all year, no daylight
saving), e.g. Wednesdays 18:00-21:00 — the start is in, the end is out, the weekday is
Shanghai's (a Wednesday evening there is a Wednesday morning/afternoon in UTC, and the
small hours of a Shanghai Thursday are still Wednesday in UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.kernel.recurrence import Recurrence, describe, errors, next_on, on_at

WED_EVENING = Recurrence((3,), "18:00", "21:00")
TZ8 = timedelta(hours=8)


def sh(y, mo, d, h, mi=0, s=0):
    """An instant given in Shanghai wall time."""
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC) - TZ8


@pytest.mark.parametrize(
    ("at", "on"),
    [
        (sh(2026, 12, 16, 18, 0), True),  # Wednesday 18:00: the start is in
        (sh(2026, 12, 16, 18, 30), True),
        (sh(2026, 12, 16, 20, 59, 59), True),
        (sh(2026, 12, 16, 21, 0), False),  # the end is out
        (sh(2026, 12, 16, 17, 59, 59), False),
        (sh(2026, 12, 17, 18, 30), False),  # Thursday
        (sh(2026, 12, 9, 18, 30), True),  # every Wednesday
        (sh(2027, 7, 14, 18, 30), True),  # summer: no daylight saving in Shanghai
    ],
)
def test_on_at_over_the_week(at, on):
    assert on_at(WED_EVENING, at) is on


def test_the_weekday_is_shanghais_not_utcs():
    late = Recurrence((3,), "00:00", "02:00")  # the small hours of a Shanghai Wednesday
    tuesday_utc = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # Wed 01:00 in Shanghai
    assert on_at(late, tuesday_utc)
    assert not on_at(WED_EVENING, datetime(2026, 12, 16, 18, 30, tzinfo=UTC))  # 02:30 Thu


def test_no_recurrence_is_always_on_and_24_00_ends_the_day():
    assert on_at(None, datetime(2026, 12, 16, tzinfo=UTC))
    evening = Recurrence((7,), "20:00", "24:00")
    assert on_at(evening, sh(2026, 12, 20, 23, 59, 59))
    assert not on_at(evening, sh(2026, 12, 21, 0, 0))


def test_next_on_is_the_window_on_now_or_the_next_one():
    assert next_on(WED_EVENING, sh(2026, 12, 16, 18, 30)) == (
        sh(2026, 12, 16, 18),
        sh(2026, 12, 16, 21),
    )
    start, end = next_on(WED_EVENING, sh(2026, 12, 16, 21, 0))  # just ended: next week
    assert (start, end) == (sh(2026, 12, 23, 18), sh(2026, 12, 23, 21))
    start, _ = next_on(Recurrence((1, 5), "09:00", "10:00"), sh(2026, 12, 16, 12))
    assert start == sh(2026, 12, 18, 9)  # Friday before Monday


def test_describe():
    assert describe(WED_EVENING) == "Wednesdays 18:00–21:00"
    assert describe(Recurrence((6, 1), "09:00", "12:00")) == "Mondays, Saturdays 09:00–12:00"


@pytest.mark.parametrize(
    ("days", "start", "end", "fields"),
    [
        ((3,), "18:00", "21:00", []),
        ((3,), "00:00", "24:00", []),
        ((), "18:00", "21:00", ["r.weekdays"]),
        ((0, 8), "18:00", "21:00", ["r.weekdays[0]", "r.weekdays[1]"]),
        ((3, 3), "18:00", "21:00", ["r.weekdays"]),
        ((3,), "22:00", "02:00", ["r.end"]),  # crossing midnight: refused
        ((3,), "18:00", "18:00", ["r.end"]),
        ((3,), "24:00", "24:00", ["r.start"]),
        ((3,), "1800", "21:60", ["r.start", "r.end"]),
    ],
)
def test_window_errors(days, start, end, fields):
    assert [f for f, _ in errors(days, start, end, "r")] == fields
