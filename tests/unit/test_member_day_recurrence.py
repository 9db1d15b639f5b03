"""Member day recurrence (promotions/member_day.py): month ends, weekly days, member
weeks, and the Shanghai midnight boundaries of the overall window and of each day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from chalicelib.promotions import member_day as md

WINDOW = ("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z")


def monthly(*days, span=1, window=WINDOW):
    return md.Recurrence("monthly", tuple(days), span, *window)


def weekly(*days, span=1, window=WINDOW):
    return md.Recurrence("weekly", tuple(days), span, *window)


@pytest.mark.parametrize(
    ("day", "month", "expected"),
    [
        (31, date(2027, 2, 1), date(2027, 2, 28)),  # February: the last day
        (30, date(2027, 2, 1), date(2027, 2, 28)),
        (29, date(2027, 2, 1), date(2027, 2, 28)),
        (31, date(2027, 4, 1), date(2027, 4, 30)),
        (31, date(2027, 5, 1), date(2027, 5, 31)),
        (18, date(2027, 2, 1), date(2027, 2, 18)),
    ],
)
def test_a_day_the_month_lacks_falls_on_its_last_day(day, month, expected):
    r = monthly(day)
    assert [d for d in _month(month) if md.starts_on(r, d)] == [expected]


def test_leap_february_has_its_29th():
    r = monthly(31)
    assert [d for d in _month(date(2028, 2, 1)) if md.starts_on(r, d)] == [date(2028, 2, 29)]


def test_two_days_that_fall_on_one_date_are_one_occurrence():
    r = monthly(30, 31)
    assert [d for d in _month(date(2027, 2, 1)) if md.starts_on(r, d)] == [date(2027, 2, 28)]
    at = datetime(2027, 2, 1, tzinfo=UTC)
    firsts = [first for first, _ in md.next_occurrences(r, at, 3)]
    assert firsts == [date(2027, 2, 28), date(2027, 3, 30), date(2027, 3, 31)]


def test_weekly_on_iso_weekdays():
    r = weekly(6, 7)  # Saturday and Sunday
    week = [date(2027, 3, 1 + i) for i in range(7)]  # 1 March 2027 is a Monday
    assert [d for d in week if md.starts_on(r, d)] == [date(2027, 3, 6), date(2027, 3, 7)]


def test_a_member_week_spans_its_days_across_a_month_end():
    r = monthly(28, span=7)  # 28 January to 3 February 2027
    assert md.occurrence_on(r, date(2027, 1, 27)) is None
    for d in (date(2027, 1, 28), date(2027, 1, 31), date(2027, 2, 3)):
        assert md.occurrence_on(r, d) == date(2027, 1, 28)
    assert md.occurrence_on(r, date(2027, 2, 4)) is None
    # on a day of the week, the occurrence going on is the next one listed
    at = datetime(2027, 2, 1, 4, tzinfo=UTC)
    assert md.next_occurrences(r, at, 2) == [
        (date(2027, 1, 28), date(2027, 2, 3)),
        (date(2027, 2, 28), date(2027, 3, 6)),
    ]


def test_overlapping_weeks_belong_to_the_latest_start():
    r = weekly(1, 4, span=5)  # Monday..Friday and Thursday..Monday overlap
    assert md.occurrence_on(r, date(2027, 3, 5)) == date(2027, 3, 4)  # Friday
    assert md.occurrence_on(r, date(2027, 3, 3)) == date(2027, 3, 1)  # Wednesday


def test_shanghai_midnight_is_the_boundary_of_a_day():
    r = monthly(18)
    # 18 December 00:00 in Shanghai is 17 December 16:00 UTC
    assert md.occurrence_at(r, datetime(2026, 12, 17, 15, 59, 59, tzinfo=UTC)) is None
    assert md.occurrence_at(r, datetime(2026, 12, 17, 16, 0, 0, tzinfo=UTC)) == date(2026, 12, 18)
    assert md.occurrence_at(r, datetime(2026, 12, 18, 15, 59, 59, tzinfo=UTC)) == date(2026, 12, 18)
    assert md.occurrence_at(r, datetime(2026, 12, 18, 16, 0, 0, tzinfo=UTC)) is None


def test_the_overall_window_bounds_the_occurrences():
    # window: 18 December 12:00 Shanghai to 18 February 00:00 Shanghai
    r = monthly(18, window=("2026-12-18T04:00:00Z", "2027-02-17T16:00:00Z"))
    assert md.occurrence_at(r, datetime(2026, 12, 18, 3, 59, 59, tzinfo=UTC)) is None
    assert md.occurrence_at(r, datetime(2026, 12, 18, 4, tzinfo=UTC)) == date(2026, 12, 18)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    # the 18 December occurrence overlaps the window; 18 February starts at its end
    assert [f for f, _ in md.next_occurrences(r, at, 5)] == [date(2026, 12, 18), date(2027, 1, 18)]
    assert md.occurrence_at(r, datetime(2027, 2, 17, 16, tzinfo=UTC)) is None


def test_next_occurrences_from_the_day_itself_lists_it_first():
    r = monthly(18)
    at = datetime(2026, 12, 18, 15, tzinfo=UTC)  # 23:00 on the 18th in Shanghai
    assert [f for f, _ in md.next_occurrences(r, at, 2)] == [date(2026, 12, 18), date(2027, 1, 18)]
    assert md.day_key(date(2026, 12, 18)) == "20261218"


@pytest.mark.parametrize(
    ("recurrence", "days", "span", "fields"),
    [
        ("weekly", [8], 1, ["member_day.days[0]"]),
        ("monthly", [0, 32], 1, ["member_day.days[0]", "member_day.days[1]"]),
        ("monthly", [18, 18], 1, ["member_day.days"]),
        ("monthly", [], 1, ["member_day.days"]),
        ("monthly", [18], 8, ["member_day.span_days"]),
        ("weekly", [7], 7, []),
    ],
)
def test_recurrence_errors(recurrence, days, span, fields):
    assert [f for f, _ in md.recurrence_errors(recurrence, days, span)] == fields


def _month(first: date) -> list[date]:
    out = []
    d = first
    while d.month == first.month:
        out.append(d)
        d = date.fromordinal(d.toordinal() + 1)
    return out
