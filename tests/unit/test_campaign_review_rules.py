"""The campaign review's arithmetic (campaigns/review_rules.py): figures, funnel, goal,
cost, ROI, baselines and the LMDI decomposition of the change in sales."""

from __future__ import annotations

import math
from datetime import date

from chalicelib.campaigns import review_rules as rr
from hypothesis import given
from hypothesis import strategies as st


def fig(**kw: int) -> rr.DayFigures:
    return rr.DayFigures(**kw)


def test_kpis_net_of_refunds_and_none_for_empty_denominators() -> None:
    k = rr.kpis(fig(orders=4, paid_fen=10_000, refunded_fen=1_000, visitors=40, new_members=3))
    assert k.gmv_fen == 9_000
    assert k.aov_fen == 2_250
    assert k.conversion == 0.1
    assert k.refund_rate == 0.1
    empty = rr.kpis(rr.DayFigures())
    assert (empty.aov_fen, empty.conversion, empty.refund_rate) == (None, None, None)


def test_add_sums_counters_and_discount_sources() -> None:
    a = fig(orders=1, visitors=5)
    a.disc = {"p:P1": [1, 300]}
    b = fig(orders=2, visitors=7)
    b.disc = {"p:P1": [2, 500], "t:T1": [1, 1000]}
    t = rr.total([a, b])
    assert (t.orders, t.visitors) == (3, 12)
    assert t.disc == {"p:P1": [3, 800], "t:T1": [1, 1000]}
    assert a.disc == {"p:P1": [1, 300]}  # the inputs are not changed


def test_funnel_steps_and_rates() -> None:
    steps = rr.funnel(fig(visitors=100, cart_visitors=40, placed=20, paid_orders=15))
    assert [(s.step, s.count) for s in steps] == [
        ("visit", 100),
        ("cart", 40),
        ("order", 20),
        ("pay", 15),
    ]
    assert [s.rate for s in steps] == [None, 0.4, 0.5, 0.75]
    assert rr.funnel(rr.DayFigures())[1].rate is None


def test_goal_attainment_per_number() -> None:
    k = rr.kpis(fig(orders=10, paid_fen=50_000, new_members=4, visitors=1))
    lines = {g.key: g for g in rr.goal_attainment({"gmv_fen": 100_000, "orders": 8}, k)}
    assert lines["gmv_fen"].attained == 0.5
    assert lines["orders"].attained == 1.25
    assert lines["new_members"].goal is None and lines["new_members"].attained is None
    assert lines["aov_fen"].actual == 5_000


def test_redemptions_list_the_campaigns_sources_only() -> None:
    disc = {"p:P1": [3, 900], "t:T1": [2, 2000], "p:OTHER": [9, 9]}
    got = rr.redemptions(disc, ["P1", "P2"], ["T1"])
    assert [(r.kind, r.source_id, r.orders, r.fen) for r in got] == [
        ("promotion", "P1", 3, 900),
        ("promotion", "P2", 0, 0),
        ("coupon_template", "T1", 2, 2000),
    ]


def test_cost_by_funder_alert_at_80_percent_and_roi() -> None:
    c = rr.cost(
        {"hq": 8_000, "store": 2_000},
        {"hq": 6_000, "store": 2_000},
        {"discounts": 7_000, "points": 1_000},
    )
    assert (c.budget_fen, c.spent_fen, c.used, c.alert) == (10_000, 8_000, 0.8, True)
    assert c.by_funder["supplier"] == [0, 0]
    assert c.by_kind == {"discounts": 7_000, "points": 1_000, "commission": 0, "prizes": 0}
    assert not rr.cost({"hq": 10_000}, {"hq": 7_999}, {}).alert
    assert rr.roi(100_000, 60_000, 10_000) == 3.0
    assert rr.roi(100_000, 60_000, 0) is None


def test_baselines() -> None:
    first, last = date(2026, 6, 1), date(2026, 6, 18)
    assert rr.baseline_period(first, last, "before") == (date(2026, 5, 14), date(2026, 5, 31))
    assert rr.baseline_period(first, last, "last_year") == (date(2025, 6, 1), date(2025, 6, 18))
    assert rr.shift_year(date(2028, 2, 29)) == date(2027, 2, 28)


def test_decomposition_worked_example() -> None:
    # the example of docs/campaigns.md: visitors 1000 -> 1200, conversion 10 % -> 12 %,
    # AOV 50.00 -> 55.00 yuan: GMV 5,000.00 -> 7,920.00 yuan
    base = fig(visitors=1000, orders=100, paid_fen=500_000)
    cur = fig(visitors=1200, orders=144, paid_fen=792_000)
    d = rr.decompose(cur, base, "before", date(2026, 5, 1), date(2026, 5, 18))
    assert d.available and d.change_fen == 292_000
    assert sum(d.contributions_fen.values()) == 292_000
    # visitors and conversion both grew 20 %: the same share (a tie goes to visitors)
    # L = 292,000 ÷ ln 1.584 = 634,838; × ln 1.2 = 115,745.6 twice, × ln 1.1 = 60,507.9
    assert d.contributions_fen == {"visitors": 115_746, "conversion": 115_746, "aov": 60_508}
    assert d.moved_most == "visitors"
    assert d.factors["conversion"] == [0.1, 0.12]


def test_decomposition_not_available_without_visitors_orders_or_sales() -> None:
    some = fig(visitors=10, orders=2, paid_fen=1_000)
    day = date(2026, 1, 1)
    assert rr.decompose(some, fig(), "before", day, day).reason == "no_visitors"
    no_orders = fig(visitors=10)
    got = rr.decompose(some, no_orders, "before", day, day)
    assert (got.available, got.reason, got.change_fen) == (False, "no_orders", 1_000)
    assert got.contributions_fen == {} and got.moved_most is None
    refunded = fig(visitors=10, orders=2, paid_fen=1_000, refunded_fen=1_000)
    assert rr.decompose(refunded, some, "before", day, day).reason == "no_sales"


def test_unchanged_period_contributes_nothing() -> None:
    f = fig(visitors=10, orders=2, paid_fen=1_000)
    d = rr.decompose(f, f, "last_year", date(2025, 1, 1), date(2025, 1, 1))
    assert d.contributions_fen == {"visitors": 0, "conversion": 0, "aov": 0}


positive = st.integers(min_value=1, max_value=10_000_000)


@given(
    v0=positive, v1=positive, o0=positive, o1=positive, g0=positive, g1=positive
)  # fmt: skip
def test_contributions_sum_exactly_and_follow_each_factor(
    v0: int, v1: int, o0: int, o1: int, g0: int, g1: int
) -> None:
    base = fig(visitors=v0, orders=o0, paid_fen=g0)
    cur = fig(visitors=v1, orders=o1, paid_fen=g1)
    d = rr.decompose(cur, base, "before", date(2026, 1, 1), date(2026, 1, 2))
    assert d.available
    assert sum(d.contributions_fen.values()) == g1 - g0
    # each contribution has the sign of its factor's change (or is within a fen of 0)
    for name, (old, new) in d.factors.items():
        c = d.contributions_fen[name]
        assert old is not None and new is not None
        if new > old:
            assert c >= -1
        elif new < old:
            assert c <= 1


@given(st.lists(st.floats(min_value=-1e9, max_value=1e9), min_size=1, max_size=5))
def test_largest_remainder_hits_the_rounded_sum(values: list[float]) -> None:
    target = round(math.fsum(values))
    got = rr.largest_remainder(values, target)
    assert sum(got) == target
    assert all(abs(g - v) < 2 for g, v in zip(got, values, strict=True))
