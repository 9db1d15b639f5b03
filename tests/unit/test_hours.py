from datetime import UTC, datetime

import pytest
from chalicelib.kernel.hours import Opening, is_open, next_opening, valid_hhmm

TZ = "Asia/Shanghai"
DAILY = [Opening(d, "08:00", "22:00") for d in range(7)]


def sh(local_iso: str) -> datetime:
    return datetime.fromisoformat(local_iso + "+08:00").astimezone(UTC)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-11-24T07:59", False),
        ("2026-11-24T08:00", True),
        ("2026-11-24T21:59", True),
        ("2026-11-24T22:00", False),
    ],
)
def test_open_within_the_days_hours_in_store_time(when, expected):
    assert is_open(DAILY, TZ, sh(when)) is expected


def test_hours_past_midnight_belong_to_the_day_they_started():
    late = [Opening(4, "18:00", "02:00")]  # Friday 18:00 to Saturday 02:00
    assert is_open(late, TZ, sh("2026-11-27T23:00"))  # Friday
    assert is_open(late, TZ, sh("2026-11-28T01:30"))  # early Saturday
    assert not is_open(late, TZ, sh("2026-11-28T02:00"))
    assert not is_open(late, TZ, sh("2026-11-26T01:00"))  # early Thursday: nothing from Wednesday


def test_open_24_hours():
    always = [Opening(d, "00:00", "24:00") for d in range(7)]
    assert is_open(always, TZ, sh("2026-11-24T03:00"))
    assert is_open(always, TZ, sh("2026-11-24T23:59"))


def test_next_opening_is_tomorrow_morning_after_closing():
    nxt = next_opening(DAILY, TZ, sh("2026-11-24T22:30"))
    assert nxt == sh("2026-11-25T08:00")


def test_next_opening_skips_closed_days():
    weekdays = [Opening(d, "09:00", "17:00") for d in range(5)]
    assert next_opening(weekdays, TZ, sh("2026-11-28T10:00")) == sh(
        "2026-11-30T09:00"
    )  # Sat -> Mon
    assert next_opening([], TZ, sh("2026-11-28T10:00")) is None


def test_hhmm_validation():
    assert valid_hhmm("08:30")
    assert not valid_hhmm("24:00")
    assert valid_hhmm("24:00", allow_24=True)
    assert not valid_hhmm("8:30")
    assert not valid_hhmm("12:60")
