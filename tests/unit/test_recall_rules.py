"""The recall list's rules (customers/rules.py): the cut-off month, the 30-day return
window, and a recall round noted on the member's aggregates noticing the order that
brings the member back, whichever of the two is written first."""

from __future__ import annotations

from datetime import date

import pytest
from chalicelib.customers import aggregates, rules
from chalicelib.customers.models import MemberStatsModel

FIRST = "2026-12-05T02:00:00Z"


@pytest.mark.parametrize(
    ("today", "before"),
    [
        (date(2026, 12, 5), "2026-09"),
        (date(2026, 12, 31), "2026-09"),
        (date(2027, 1, 1), "2026-10"),
        (date(2026, 3, 15), "2025-12"),
        (date(2026, 1, 1), "2025-10"),
    ],
)
def test_the_cut_off_month(today, before):
    assert rules.recall_cutoff(today) == before


def test_everyone_listed_has_gone_three_whole_months_without_an_order():
    for today in (date(2026, 12, 1), date(2026, 12, 31), date(2027, 2, 28)):
        before = rules.recall_cutoff(today)
        y, m = int(before[:4]), int(before[5:])
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        last_day_listed = date(y, m, 31 if m in (1, 3, 5, 7, 8, 10, 12) else 30)
        if m == 2:
            last_day_listed = date(y, 2, 28)
        assert rules.months_between(last_day_listed.isoformat(), today) >= 3


@pytest.mark.parametrize(
    ("completed_at", "back"),
    [
        ("2026-12-05T02:00:00Z", False),  # at the outcome itself: not after it
        ("2026-12-04T23:00:00Z", False),
        ("2026-12-05T02:00:01Z", True),
        ("2027-01-04T02:00:00Z", True),  # 30 days to the second
        ("2027-01-04T02:00:01Z", False),
    ],
)
def test_the_30_day_window(completed_at, back):
    assert rules.came_back_within(FIRST, completed_at) is back


def complete(stats: rules.Stats, order_id: str, at: str) -> bool:
    return rules.apply_completion(stats, order_id, "sh-b", at, 1000, 0, [])


def test_an_order_counted_after_the_round_marks_the_member_back_once():
    stats = rules.Stats()
    complete(stats, "o1", "2026-07-01T02:00:00Z")
    assert rules.mark_recalled(stats, "sh-b#2026-07", FIRST)
    assert not rules.mark_recalled(stats, "sh-b#2026-07", "2026-12-06T00:00:00Z")
    assert stats.recalls == {"sh-b#2026-07": [FIRST, ""]}
    complete(stats, "o3", "2026-12-20T00:00:00Z")
    complete(stats, "o2", "2026-12-10T00:00:00Z")  # arrives later, completed earlier
    assert stats.recalls["sh-b#2026-07"] == [FIRST, "2026-12-10T00:00:00Z"]
    assert not complete(stats, "o2", "2026-12-10T00:00:00Z")  # a redelivery: nothing


def test_an_order_counted_before_the_round_was_noted_is_seen_too():
    """The member ordered while the outcome was being written: the round, noted after
    the order was counted, finds it among the orders counted."""
    stats = rules.Stats()
    complete(stats, "o1", "2026-07-01T02:00:00Z")
    complete(stats, "o2", "2026-12-05T02:00:05Z")
    rules.mark_recalled(stats, "sh-b#2026-07", FIRST)
    assert stats.recalls["sh-b#2026-07"] == [FIRST, "2026-12-05T02:00:05Z"]


def test_an_order_too_late_does_not_count_and_old_rounds_are_bounded():
    stats = rules.Stats()
    rules.mark_recalled(stats, "sh-b#2026-07", FIRST)
    complete(stats, "o1", "2027-01-10T00:00:00Z")
    assert stats.recalls["sh-b#2026-07"] == [FIRST, ""]
    for month in range(1, 10):
        rules.mark_recalled(stats, f"sh-b#2027-0{month}", f"2027-0{month}-01T00:00:00Z")
    assert len(stats.recalls) == rules.KEEP_RECALLS
    assert "sh-b#2027-09" in stats.recalls and "sh-b#2026-07" not in stats.recalls


def test_the_rounds_survive_the_items_encoding():
    stats = rules.Stats()
    complete(stats, "o1", "2026-07-01T02:00:00Z")
    rules.mark_recalled(stats, "sh-b#2026-07", FIRST)
    item = MemberStatsModel("c-1", maps=aggregates.maps_of(stats), orders=1, spend_fen=1000)
    assert aggregates.decode(item).recalls == stats.recalls
    assert "r" not in aggregates.maps_of(rules.Stats())  # nothing added for most members
