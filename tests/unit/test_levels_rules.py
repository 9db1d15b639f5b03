"""Growth and level rules (loyalty/levels.py), property-tested: refunds take back
exactly the order's growth, never more; levels follow thresholds; earning never lowers
a level; the month window counts only its months."""

from __future__ import annotations

from chalicelib.loyalty import levels as rules
from chalicelib.loyalty.programme_schemas import Downgrade, LevelsSettings
from hypothesis import given
from hypothesis import strategies as st

SETTINGS = LevelsSettings()


@given(
    growth=st.integers(0, 100_000),
    base=st.integers(1, 10_000_000),
    cuts=st.lists(st.integers(1, 10_000), min_size=1, max_size=8),
)
def test_refund_reversal_is_cumulative_and_exact(growth, base, cuts):
    taken, refunded = 0, 0
    for c in cuts:
        refunded = min(base, refunded + c)
        want = rules.refund_share(growth, refunded, base) - taken
        assert want >= 0
        taken += want
    assert taken <= growth
    assert taken == growth * refunded // base
    if refunded == base:
        assert taken == growth


@given(st.integers(0, 50_000))
def test_level_for_is_the_highest_threshold_reached(g):
    lv = rules.level_for(g, SETTINGS)
    assert lv.threshold <= g
    nxt = rules.next_level(lv.code, SETTINGS)
    assert nxt is None or nxt.threshold > g


@given(
    st.sampled_from(["V1", "V2", "V3", "V4", "V5"]), st.integers(0, 20_000), st.integers(0, 5_000)
)
def test_earning_never_lowers_a_level(current, total, delta):
    s = LevelsSettings(downgrade=Downgrade(mode="recent_growth", months=3))
    after = rules.level_after_change(current, delta, total + delta, {}, "2026-11", s)
    assert rules.rank(after.code, s) >= rules.rank(current, s)


def test_a_reversal_lowers_to_what_the_total_reaches():
    assert rules.level_after_change("V3", -100, 1_900, {}, "2026-11", SETTINGS).code == "V2"
    assert rules.level_after_change("V2", -100, 1_900, {}, "2026-11", SETTINGS).code == "V2"


def test_month_window():
    months = {"2026-09": 100, "2026-10": 200, "2026-11": 300, "2025-11": 999}
    assert rules.recent_growth(months, "2026-11", 2) == 500
    assert rules.recent_growth(months, "2026-11", 3) == 600
    assert rules.month_add("2026-11", 3) == "2027-02"
    pruned = rules.add_to_months({"2023-01": 5}, "2026-11", 10)
    assert pruned == {"2026-11": 10}


def test_level_prices():
    p = rules.LevelPrices(955, {"a": 1999})
    assert p.unit_price("a") == 1909 and p.unit_price("b") is None
    assert rules.LevelPrices(1000, {"a": 1999}).unit_price("a") is None
