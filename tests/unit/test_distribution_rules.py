"""Staff distribution's plain rules (customers/distribution_rules.py): the binding
rules at their boundaries, and reversals that never reverse more than was accrued and
reverse all of it once the order is refunded in full, whatever the refunds' steps."""

from __future__ import annotations

from chalicelib.customers import distribution_rules as r
from hypothesis import given
from hypothesis import strategies as st

AT = "2026-11-10T02:00:00Z"


def test_protection_and_expiry_boundaries():
    days = r.Terms(binding="days", binding_days=30, protection_days=7)
    b = r.new_binding("li", "sh-a", AT, days)
    assert r.may_bind(b, "wang", "2026-11-17T01:59:59Z") == (False, "protected")
    assert r.may_bind(b, "wang", "2026-11-17T02:00:00Z") == (True, "unprotected")
    assert r.may_bind(b, "li", "2026-11-20T00:00:00Z") == (False, "same")
    assert r.is_valid(b, "2026-12-10T01:59:59Z") and not r.is_valid(b, "2026-12-10T02:00:00Z")
    assert r.may_bind(b, "wang", "2026-12-10T02:00:00Z") == (True, "expired")
    assert r.may_bind(b, "wang", "2026-11-09T00:00:00Z") == (False, "bound")  # a late claim
    forever = r.new_binding("li", "sh-a", AT, r.Terms(binding="permanent", protection_days=0))
    assert r.may_bind(forever, "wang", "2036-01-01T00:00:00Z") == (False, "permanent")
    assert r.may_bind(None, "wang", AT) == (True, "new")


def test_amounts_first_second_then_nothing():
    fixed = r.Terms(first_order_fen=500, second_order_fen=200, level2_first_order_fen=100)
    assert [r.amounts(fixed, n, 9999) for n in (1, 2, 3)] == [(500, 100), (200, 0), (0, 0)]
    rate = r.Terms(mode="rate", rate_bp=300, level2_rate_bp=50)
    assert r.amounts(rate, 2, 12345) == (370, 61)
    assert r.amounts(rate, 3, 12345) == (0, 0)


@given(
    kept=st.integers(min_value=1, max_value=100_000),
    amounts=st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=2),
    steps=st.lists(st.integers(min_value=0, max_value=100_000), max_size=6),
    redeliver=st.booleans(),
)
def test_reversals_never_exceed_the_accrual_and_a_full_refund_reverses_it_all(
    kept, amounts, steps, redeliver
):
    levels = [(f"s{i}", "sh-a", a) for i, a in enumerate(amounts)]
    record = r.accrual("O1", 1, AT, kept, 0, levels, AT)
    total = 0
    for step in [*steps, kept]:  # refunded totals only grow; the last: all of it
        total = min(kept, max(total, step))
        r.reverse(record, total, AT)
        if redeliver:
            assert not r.reverse(record, total, AT)  # the same total again: nothing
    reversed_ = [sum(x[3][i] for x in record["rev"]) for i in range(len(amounts))]
    assert reversed_ == amounts
    assert all(d >= 0 for x in record["rev"] for d in x[3])
