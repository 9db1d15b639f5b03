"""Subscription delivery's pure rules: schedule dates by frequency, cutoffs, shares and
the pro-rata refund (property-tested: exact in fen, never more than paid)."""

from __future__ import annotations

from datetime import date

from chalicelib.subscriptions import rules
from hypothesis import given
from hypothesis import strategies as st


def test_daily_dates_are_consecutive():
    assert rules.dates(date(2026, 12, 7), 3, "daily") == [
        date(2026, 12, 7),
        date(2026, 12, 8),
        date(2026, 12, 9),
    ]


def test_weekdays_skip_the_weekend():
    # 2026-12-11 is a Friday
    got = rules.dates(date(2026, 12, 11), 3, "weekdays")
    assert got == [date(2026, 12, 11), date(2026, 12, 14), date(2026, 12, 15)]


def test_weekly_on_its_weekday():
    got = rules.dates(date(2026, 12, 7), 3, "weekly", "wed")
    assert got == [date(2026, 12, 9), date(2026, 12, 16), date(2026, 12, 23)]


def test_taken_dates_are_left_out():
    taken = frozenset({date(2026, 12, 8)})
    assert rules.dates(date(2026, 12, 7), 2, "daily", taken=taken) == [
        date(2026, 12, 7),
        date(2026, 12, 9),
    ]


def test_cutoff_is_local_time_the_day_before():
    c = rules.cutoff_at(date(2026, 12, 7), "20:00")
    assert c.isoformat() == "2026-12-06T20:00:00+08:00"


def test_window():
    assert rules.window_ok("07:00-09:00")
    assert not rules.window_ok("09:00-07:00")
    assert not rules.window_ok("7-9")


@given(st.integers(0, 10_000_000), st.integers(1, 90))
def test_shares_sum_to_what_was_paid(paid, count):
    s = rules.shares(paid, count)
    assert sum(s) == paid and len(s) == count
    assert max(s) - min(s) <= 1


@given(st.data(), st.integers(0, 10_000_000), st.integers(1, 90))
def test_delivered_plus_refunded_is_paid(data, paid, count):
    """Any split of the deliveries into delivered, shortage-refunded and cancelled ones:
    the shares delivered plus every refund add up exactly to what was paid, and no
    refund is more than was paid."""
    kinds = data.draw(st.lists(st.sampled_from("dsu"), min_size=count, max_size=count))
    shares = rules.shares(paid, count)
    delivered = sum(shares[i] for i, k in enumerate(kinds) if k == "d")
    shortage = sum(shares[i] for i, k in enumerate(kinds) if k == "s")
    unused = {i + 1 for i, k in enumerate(kinds) if k == "u"}
    cancel = rules.refund_for(paid, count, unused)
    assert 0 <= cancel <= paid and shortage + cancel <= paid
    assert delivered + shortage + cancel == paid


@given(st.integers(0, 1_000_000), st.integers(1, 90), st.integers(0, 1_000_000))
def test_refund_never_negative_or_above_unused(paid, count, before):
    unused = set(range(1, count + 1))
    got = rules.refund_for(paid, count, unused, before)
    assert 0 <= got <= paid
