"""What may change in a coupon template once coupons were issued (coupons/edit_rules)."""

from chalicelib.coupons.edit_rules import Scope, ends_at_problem, scope_problem


def sc(categories=(), skus=(), stores=()):
    return Scope(frozenset(categories), frozenset(skus), frozenset(stores))


def test_any_scope_change_before_a_coupon_is_issued():
    assert scope_problem(sc(["水果"]), sc(skus=["1"], stores=["sh-a"]), issued=0) is None


def test_after_issue_only_widening():
    old = sc(["水果"], ["1"], ["sh-a"])
    assert scope_problem(old, sc(["水果", "蔬菜"], ["1", "2"], ["sh-a", "sh-b"]), 5) is None
    assert scope_problem(old, sc(), 5) is None  # everything, everywhere
    assert scope_problem(old, sc(["水果"], ["1"], []), 5) is None  # every store
    assert scope_problem(old, sc(["蔬菜"], ["1"], ["sh-a"]), 5) is not None  # lost 水果
    assert scope_problem(old, sc(["水果"], [], ["sh-a"]), 5) is not None  # lost SKU 1
    assert scope_problem(old, sc(["水果"], ["1"], ["sh-b"]), 5) is not None  # lost sh-a
    # all products / all stores to a list is a narrowing
    assert scope_problem(sc(), sc(["水果"]), 1) is not None
    assert scope_problem(sc(["水果"]), sc(["水果"], stores=["sh-a"]), 1) is not None


def ends(**kw):
    args = {
        "current": "2026-12-31T00:00:00Z",
        "starts_at": "2026-12-01T00:00:00Z",
        "days_after_claim": None,
        "issued": 0,
        "new": "2027-01-31T00:00:00Z",
        "now": "2026-12-05T00:00:00Z",
    }
    return ends_at_problem(**{**args, **kw})


def test_ends_at_rules():
    assert ends() is None  # extend
    assert ends(issued=3) is None  # extending is always allowed
    assert ends(new="2026-12-20T00:00:00Z") is None  # shorten before any is issued
    assert "only be extended" in ends(new="2026-12-20T00:00:00Z", issued=3)
    assert ends(new="2026-12-04T00:00:00Z") == "must be in the future"
    assert ends(new="2026-11-30T00:00:00Z", now="2026-11-01T00:00:00Z") == "must be after starts_at"
    assert "no end date" in ends(current=None, starts_at=None, days_after_claim=7)
