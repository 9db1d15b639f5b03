"""The arithmetic of effect reports (reports/rules.py net_discount, reports/effect_rules.py):
the discount net of refunds never exceeds what was given nor goes below zero, and a
store-day's figures add up whatever the grouping."""

from __future__ import annotations

from chalicelib.reports import effect_rules as er
from chalicelib.reports import rules as r
from hypothesis import given
from hypothesis import strategies as st


@given(
    fen=st.integers(0, 100_000),
    paid=st.integers(0, 1_000_000),
    share=st.floats(0, 1),
)
def test_the_net_discount_is_between_zero_and_the_discount(fen, paid, share):
    refunded = int(paid * share)
    net = r.net_discount(fen, paid, refunded)
    assert 0 <= net <= fen
    if refunded == paid and paid > 0:
        assert net == 0
    if refunded == 0:
        assert net == fen


def test_the_net_discount_is_the_kept_share_rounded_down():
    assert r.net_discount(1000, 8000, 2000) == 750
    assert r.net_discount(1000, 3000, 1000) == 666  # 666.67 rounded down
    assert r.net_discount(500, 0, 0) == 500  # an order wholly discounted keeps it


def _day(disc, eff, orders, paid, refunded=0):
    return r.DayFigures(orders=orders, paid_fen=paid, refunded_fen=refunded, disc=disc, eff=eff)


def test_a_day_rolled_up_before_eff_counts_its_discount_whole_without_gmv():
    t = er.of_day(_day({"p:P": [2, 3000]}, {}, 5, 50000), "p:P")
    assert (t.orders, t.discount_fen, t.net_fen, t.gmv_fen) == (2, 3000, 3000, 0)


def test_days_add_up_and_the_others_are_the_days_other_sales():
    a = _day({"t:T": [1, 1000]}, {"t:T": [20000, 1000, 1]}, 3, 35000, 5000)
    b = _day({"t:T": [2, 2000]}, {"t:T": [21000, 1750, 1]}, 3, 26000, 2000)
    both = r.DayFigures()
    both.add(a)
    both.add(b)
    t = er.total([er.of_day(a, "t:T"), er.of_day(b, "t:T")])
    assert er.of_day(both, "t:T") == t
    assert (t.others_orders, t.others_gmv_fen) == (3, 13000)
    assert er.aov(t.others_gmv_fen, t.others_orders) == 4333
    assert er.aov(0, 0) is None
    s = er.settle({("sh-a", "d1"): a, ("sh-b", "d2"): b}, {"t:T": "蒙牛"})
    assert s["蒙牛"].total.net_fen == 2750 and s["蒙牛"].total.refunded_fen == 250
