"""The campaign rules in pricing (issue 16 item 2): a promotion or coupon of a campaign
that is not spending is not applied, and a campaign's discounts on one cart share its
budget left (the smallest dropped until they fit, then the cart priced again)."""

from __future__ import annotations

from chalicelib.checkout import promotion_engine as p

from tests.unit.test_promotions import (
    check_consistent,
    coupon,
    flash,
    half,
    line,
    run,
    tiered,
)

CART = [line("a", 5000, 2), line("b", 3000, 1)]  # 130.00 of goods


def codes(co: p.Checkout) -> list[str]:
    return sorted(a.code for a in co.applied)


def test_a_promotion_of_a_campaign_not_spending_is_left_out_with_its_reason():
    co = run(CART, promotions=[tiered(campaign_id="C-draft")], campaigns={})
    assert codes(co) == []
    assert any("campaign_not_live" in n for n in co.notes)


def test_a_coupon_of_a_campaign_not_spending_is_refused_with_its_reason():
    c = coupon("K1", amount_off_fen=500, campaign_id="C-ended")
    co = run(CART, coupons=[c], chosen_coupon_ids=["K1"], campaigns={"C-other": 10_000})
    assert co.rejected_coupon_ids == ("K1",)
    assert co.verdict("K1").reason == p.CAMPAIGN_NOT_LIVE
    assert co.refusal_reason == p.CAMPAIGN_NOT_LIVE
    # and the best-combination search never suggests it
    assert run(CART, coupons=[c], campaigns={}).suggested_coupon_ids == ()


def test_discounts_of_a_spending_campaign_that_fit_are_all_applied_and_say_their_campaign():
    promos = [tiered(campaign_id="C1"), half(campaign_id="C1")]
    c = coupon("K1", amount_off_fen=500, campaign_id="C1")
    co = run(CART, promotions=promos, coupons=[c], campaigns={"C1": 100_000})
    assert codes(co) == ["coupon:K1", "second_half:H1", "tiered:P1"]
    assert {a.campaign_id for a in co.applied} == {"C1"}
    assert p.campaign_spend(co.applied) == {"C1": 2500 + 1000 + 500}
    check_consistent(co)


def test_when_they_do_not_fit_the_smallest_are_dropped_until_they_fit_and_the_cart_repriced():
    promos = [tiered(campaign_id="C1"), half(campaign_id="C1")]  # 10.00 and 25.00 off
    c = coupon("K1", amount_off_fen=500, campaign_id="C1")  # 5.00 off
    # 30.00 left: 25 + 10 + 5 = 40 does not fit; drop the coupon (5): 35 still does not;
    # drop the tiered discount (10): 25 fits.
    co = run(CART, promotions=promos, coupons=[c], campaigns={"C1": 3000})
    assert codes(co) == ["second_half:H1"]
    assert p.campaign_spend(co.applied) == {"C1": 2500}
    assert co.priced.total_fen == 13000 - 2500 + 600
    assert any("tiered P1" in n and "campaign_budget_exhausted" in n for n in co.notes)
    assert co.verdict("K1").reason == p.CAMPAIGN_BUDGET_EXHAUSTED
    assert co.suggested_coupon_ids == ()
    check_consistent(co)


def test_a_coupon_alone_larger_than_the_budget_left_is_refused_for_the_campaign():
    c = coupon("K1", amount_off_fen=2000, campaign_id="C1")
    co = run(CART, coupons=[c], chosen_coupon_ids=["K1"], campaigns={"C1": 1999})
    assert co.rejected_coupon_ids == ("K1",)
    assert co.verdict("K1").reason == p.CAMPAIGN_BUDGET_EXHAUSTED
    assert run(CART, coupons=[c], chosen_coupon_ids=["K1"], campaigns={"C1": 2000}).applied


def test_a_spent_campaign_applies_nothing_and_other_campaigns_are_not_touched():
    promos = [tiered(campaign_id="C1"), half(campaign_id="C2"), flash("b", 2000, 5)]
    co = run(CART, promotions=promos, campaigns={"C1": 0, "C2": 5000})
    assert codes(co) == ["flash:F1", "second_half:H1"]
    assert p.campaign_spend(co.applied) == {"C2": 2500}


def test_campaigns_pools_are_separate_and_discounts_without_a_campaign_never_count():
    promos = [tiered(), half(campaign_id="C2")]
    c = coupon("K1", amount_off_fen=500, campaign_id="C1")
    co = run(CART, promotions=promos, coupons=[c], campaigns={"C1": 500, "C2": 2500})
    assert codes(co) == ["coupon:K1", "second_half:H1", "tiered:P1"]
    assert p.campaign_spend(co.applied) == {"C1": 500, "C2": 2500}


def test_over_budget_names_the_smallest_discount_of_the_campaign_over_its_budget():
    promos = [tiered(campaign_id="C1"), half(campaign_id="C1")]
    co = run(CART, promotions=promos, campaigns={"C1": 100_000})
    assert p.over_budget(co.applied, {"C1": 100_000}) is None
    drop = p.over_budget(co.applied, {"C1": 3400})
    assert drop is not None and drop.code == "tiered:P1"


def test_extra_points_are_valued_at_the_points_as_cash_rate_rounded_down():
    from chalicelib.orders.campaign_subscribers import extra_points_fen

    # 2x on 200.00 at 1 point per yuan: 200 extra points; 100 points per yuan: 2.00
    assert extra_points_fen(20_000, "2", 1, 100) == 200
    assert extra_points_fen(20_000, "1.5", 1, 100) == 100
    assert extra_points_fen(999, "3", 1, 300) == 6  # 18 extra points / 300 per yuan
    assert extra_points_fen(0, "2", 1, 100) == 0
