"""The launch checklist's rules (campaigns/checklist_rules.py): conflicts between
campaigns need an overlapping window, overlapping stores and overlapping scope; the
loss check prices their combination as the stacking matrix would; each discount alone
keeps the margin floor; and the campaign states' catch-up with the window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.campaigns import checklist_rules as cr
from chalicelib.campaigns import rules
from chalicelib.checkout import promotion_engine as engine

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 12, tzinfo=UTC)
NOW = datetime(2026, 11, 2, tzinfo=UTC)
FRUIT = [
    cr.Product("100", "苹果", "水果", "苹果梨", 1000, 800),
    cr.Product("101", "橙子", "水果", "柑橘", 2000, 1500),
]
VEG = [cr.Product("200", "青菜", "蔬菜", "叶菜", 500, 300)]


def tiered(pid, tiers, skus=(), cats=()):
    offer = engine.TieredDiscount(
        pid, pid, tuple(tiers), T0, T1, engine.Scope(frozenset(cats), frozenset(skus))
    )
    return cr.Content("?", "promotion", pid, pid, offer)


def coupon(tid, percent, skus=(), cats=()):
    offer = engine.CouponOffer(
        f"sample-{tid}",
        tid,
        tid,
        "percent_off",
        T0,
        T1,
        percent_off=percent,
        scope=engine.Scope(frozenset(cats), frozenset(skus)),
    )
    return cr.Content("?", "coupon_template", tid, tid, offer)


def plan(cid, *contents, stores=None, starts="2026-11-01T00:00:00Z", ends="2026-11-12T00:00:00Z"):
    return cr.Plan(
        cid, cid, "scheduled", starts, ends, None if stores is None else frozenset(stores), contents
    )


def run(a, others, products=FRUIT + VEG):
    checks = cr.conflicts(a, others, products, "sh-a", NOW)
    return {c["id"]: c for c in checks}


def test_two_tiered_promotions_on_the_same_skus_conflict_without_loss():
    """At most one tiered discount applies (the stacking matrix): a warning, no loss."""
    a = plan("a", tiered("pa", [(5000, 500)], cats=["水果"]))
    b = plan("b", tiered("pb", [(5000, 800)], skus=["100"]))
    got = run(a, [b])
    assert got["conflicts"]["ok"] is False and got["conflicts"]["blocking"] is False
    assert got["conflicts"]["details"] == [{"campaign_id": "b", "name": "b", "skus": ["100"]}]
    assert got["stacking_loss"]["ok"] is True


def test_a_coupon_on_top_of_a_tiered_discount_sells_below_cost():
    """Each alone keeps the 20 % margin of SKU 100; combined (tiered then the coupon on
    what is left) they take 10 + 15 % and sell it below cost: the check fails."""
    a = plan("a", tiered("pa", [(10000, 1000)], skus=["100"]))
    b = plan("b", coupon("tb", 15, skus=["100"]))
    got = run(a, [b])
    loss = got["stacking_loss"]
    assert loss["ok"] is False and loss["blocking"] is True
    cart = loss["details"][0]
    assert cart["campaign_id"] == "b" and cart["lines"] == [
        {"sku": "100", "qty": 10, "price_fen": 1000}
    ]
    # 10000 - 1000 (tiered) - 15 % of 9000 (1350) = 7650 paid for goods costing 8000
    assert cart["discount_fen"] == 2350 and cart["margin_fen"] == 2000
    assert cart["below_cost"] == [{"sku": "100", "qty": 10, "paid_fen": 7650, "cost_fen": 8000}]
    assert cart["applied"] == ["tiered:pa", "coupon:sample-tb"]
    # alone, each keeps the floor
    assert cr.margin_floor(a, FRUIT, "sh-a", NOW)["ok"] is True
    assert cr.margin_floor(b, FRUIT, "sh-a", NOW)["ok"] is True


def test_disjoint_skus_do_not_conflict():
    a = plan("a", tiered("pa", [(10000, 1000)], cats=["水果"]))
    b = plan("b", coupon("tb", 15, cats=["蔬菜"]))
    got = run(a, [b])
    assert got["conflicts"]["ok"] and got["stacking_loss"]["ok"]


def test_disjoint_stores_do_not_conflict():
    a = plan("a", tiered("pa", [(10000, 1000)], skus=["100"]), stores=["sh-a"])
    b = plan("b", coupon("tb", 15, skus=["100"]), stores=["sh-b"])
    got = run(a, [b])
    assert got["conflicts"]["ok"] and got["stacking_loss"]["ok"]
    # every store overlaps any list
    b_all = plan("b", coupon("tb", 15, skus=["100"]))
    assert not run(a, [b_all])["stacking_loss"]["ok"]


def test_windows_that_do_not_overlap_do_not_conflict():
    a = plan("a", tiered("pa", [(10000, 1000)], skus=["100"]), ends="2026-11-05T00:00:00Z")
    b = plan("b", coupon("tb", 15, skus=["100"]), starts="2026-11-05T00:00:00Z")
    got = run(a, [b])
    assert got["conflicts"]["ok"] and got["stacking_loss"]["ok"]


def test_a_discount_below_the_margin_floor_alone_fails_naming_the_skus():
    a = plan("a", coupon("deep", 30, cats=["水果"]), tiered("ok", [(10000, 500)], skus=["101"]))
    got = cr.margin_floor(a, FRUIT + VEG, "sh-a", NOW)
    assert got["ok"] is False and got["blocking"] is True
    assert got["details"] == [
        {"type": "coupon_template", "id": "deep", "name": "deep", "skus": ["100", "101"]}
    ]
    assert engine.BELOW_MARGIN_FLOOR in got["message"]


def test_unknown_costs_never_lose():
    """A SKU without a cost has no floor: neither a deep discount alone nor a stack
    that gives more than the known lines' margin fails on it."""
    unknown = [cr.Product("100", "苹果", "水果", "苹果梨", 1000, None)]
    deep = coupon("deep", 60, skus=["100"])
    assert cr.margin_floor(plan("a", deep), unknown, "sh-a", NOW)["ok"] is True
    a = plan("a", tiered("pa", [(10000, 3000)], skus=["100"]))
    b = plan("b", deep)
    assert run(a, [b], unknown)["stacking_loss"]["ok"] is True
    assert run(a, [b], FRUIT)["stacking_loss"]["ok"] is False


def test_basics():
    got = {c["id"]: c["ok"] for c in cr.basics(0, {"orders": None}, "b", "a", "c")}
    assert got == {"budget": False, "goal": False, "window": False}
    got = {c["id"]: c["ok"] for c in cr.basics(1, {"orders": 5}, "a", "z", "b")}
    assert got == {"budget": True, "goal": True, "window": True}


@pytest.mark.parametrize(
    ("stored", "now", "steps", "state"),
    [
        ("scheduled", "2026-10-31T00:00:00Z", [], "scheduled"),
        ("scheduled", "2026-11-01T00:00:00Z", ["start"], "live"),
        ("scheduled", "2026-11-12T00:00:00Z", ["start", "end"], "ended"),
        ("live", "2026-11-11T23:59:59Z", [], "live"),
        ("live", "2026-11-12T00:00:00Z", ["end"], "ended"),
        ("draft", "2026-11-13T00:00:00Z", [], "draft"),
        ("ended", "2026-11-13T00:00:00Z", [], "ended"),
    ],
)
def test_the_window_moves_the_state_on(stored, now, steps, state):
    starts, ends = "2026-11-01T00:00:00Z", "2026-11-12T00:00:00Z"
    assert rules.catch_up(stored, starts, ends, now) == steps
    assert rules.effective_state(stored, starts, ends, now) == state


def test_fields_frozen_by_state():
    assert rules.frozen_fields("draft", {"starts_at", "budget"}) == []
    assert rules.frozen_fields("live", {"budget", "name"}) == []
    assert rules.frozen_fields("live", {"stores"}) == [
        ("stores", "fixed once the campaign is live")
    ]
    assert rules.frozen_fields("ended", {"goal"}) == [("goal", "fixed once the campaign is ended")]


def test_a_local_year_in_utc():
    assert rules.year_bounds(2026) == ("2025-12-31T16:00:00Z", "2026-12-31T16:00:00Z")
