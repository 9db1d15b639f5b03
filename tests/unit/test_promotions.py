"""The pricing domain's stacking matrix, coupon verdicts, best combination and margin floor."""

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule

NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
START = NOW - timedelta(days=10)
END = NOW + timedelta(days=10)
FEE = DeliveryRule(base_fee_fen=600, free_above_fen=None)


def line(sku: str, unit_fen: int, qty: int, c1: str = "fruit", c2: str = "apple") -> CartLine:
    return CartLine(sku, sku, "pc", c1, c2, None, None, False, unit_fen, qty)


def coupon(cid: str, kind: str = "amount_off", **kw) -> p.CouponOffer:
    kw.setdefault("valid_from", START)
    kw.setdefault("valid_until", END)
    return p.CouponOffer(cid, "T1", f"coupon {cid}", kind, **kw)


def tiered(pid: str = "P1", tiers=((9900, 1000), (19900, 3000)), **kw) -> p.TieredDiscount:
    return p.TieredDiscount(pid, f"tiered {pid}", tiers, START, END, **kw)


def flash(sku: str, price_fen: int, units: int, pid: str = "F1", **kw) -> p.FlashPrice:
    return p.FlashPrice(pid, f"flash {pid}", sku, price_fen, units, START, END, **kw)


def half(pid: str = "H1", **kw) -> p.SecondItemHalfPrice:
    return p.SecondItemHalfPrice(pid, f"half {pid}", START, END, **kw)


def run(lines, **kw) -> p.Checkout:
    kw.setdefault("store_id", "s1")
    kw.setdefault("now", NOW)
    kw.setdefault("fulfilment", "delivery")
    kw.setdefault("delivery", FEE)
    kw.setdefault("minimum_order_fen", 0)
    return p.evaluate(lines, **kw)


def applied(co: p.Checkout, code: str) -> p.AppliedDiscount:
    return next(a for a in co.applied if a.code == code)


def check_consistent(co: p.Checkout) -> None:
    """Every discount's allocation sums to it; lines' discounts are the sum of their shares."""
    for a in co.applied:
        assert len(a.allocation) == len(co.priced.lines)
        assert sum(a.allocation) == (0 if a.kind == "free_delivery" else a.amount_fen)
        assert a.amount_fen <= a.base_fen
    goods = [a for a in co.applied if a.kind != "free_delivery"]
    for i, pl in enumerate(co.priced.lines):
        assert pl.discount_fen == sum(a.allocation[i] for a in goods)
    assert sum(pl.paid_fen for pl in co.priced.lines) + co.priced.delivery_fee_fen == co.total_fen


# --- no promotions: the same result as pricing.price() -------------------------------------


def test_without_promotions_or_coupons_it_is_the_plain_price():
    co = run([line("A", 1250, 2)], minimum_order_fen=3000)
    assert co.priced.subtotal_fen == 2500
    assert co.priced.discount_fen == 0
    assert co.priced.delivery_fee_fen == 600
    assert co.total_fen == 3100
    assert co.priced.shortfall_fen == 500
    assert co.applied == ()
    assert co.suggested_coupon_ids == ()


def test_pickup_pays_no_delivery_fee_and_has_no_minimum():
    co = run([line("A", 1250, 2)], fulfilment="pickup", minimum_order_fen=3000)
    assert co.priced.delivery_fee_fen == 0
    assert co.priced.shortfall_fen == 0
    assert co.total_fen == 2500


# --- item level ----------------------------------------------------------------------------


def test_flash_price_for_the_units_allowed_other_units_at_list_price():
    co = run([line("A", 1000, 3)], promotions=[flash("A", 100, 2)])
    a = applied(co, "flash:F1")
    assert a.amount_fen == 2 * 900
    assert a.base_fen == 2000 and a.base == "list price"
    assert co.flash_units == (p.FlashUnits("F1", "A", 2, 100),)
    assert co.priced.lines[0].paid_fen == 2 * 100 + 1000
    check_consistent(co)


def test_flash_units_are_shared_across_lines_of_the_same_sku():
    co = run([line("A", 1000, 2), line("A", 1000, 2)], promotions=[flash("A", 100, 3)])
    assert co.flash_units[0].units == 3
    assert [pl.paid_fen for pl in co.priced.lines] == [200, 100 + 1000]


def test_flash_out_of_window_at_another_store_or_none_left_is_ignored():
    later = p.FlashPrice("F2", "later", "A", 100, 5, END, END + timedelta(days=1))
    elsewhere = flash("A", 100, 5, pid="F3", stores=frozenset({"s9"}))
    none_left = flash("A", 100, 0, pid="F4")
    co = run([line("A", 1000, 1)], promotions=[later, elsewhere, none_left])
    assert co.flash_units == ()
    assert co.priced.discount_fen == 0


def test_the_lowest_flash_price_wins_when_two_overlap():
    co = run([line("A", 1000, 1)], promotions=[flash("A", 300, 5, "F1"), flash("A", 200, 5, "F2")])
    assert co.flash_units == (p.FlashUnits("F2", "A", 1, 200),)


class Members:
    def __init__(self, prices):
        self.prices = prices

    def unit_price(self, sku):
        return self.prices.get(sku)


def test_member_price_is_used_when_lower_than_the_flash_price_never_both():
    co = run(
        [line("A", 1000, 2)], promotions=[flash("A", 800, 5)], member_prices=Members({"A": 700})
    )
    assert co.flash_units == ()
    assert applied(co, "member_price").amount_fen == 600
    assert co.priced.lines[0].paid_fen == 1400


def test_flash_wins_when_lower_and_member_price_covers_the_other_units():
    co = run(
        [line("A", 1000, 3)], promotions=[flash("A", 500, 1)], member_prices=Members({"A": 900})
    )
    assert applied(co, "flash:F1").amount_fen == 500
    assert applied(co, "member_price").amount_fen == 200
    assert co.priced.lines[0].paid_fen == 500 + 2 * 900
    check_consistent(co)


def test_second_item_half_price_rounds_the_half_down_in_the_stores_favour():
    co = run([line("A", 999, 5)], promotions=[half()])
    # two second units, each 499 off (half of 9.99 is 4.995: the odd fen stays paid)
    assert applied(co, "second_half:H1").amount_fen == 2 * 499
    assert co.priced.lines[0].paid_fen == 5 * 999 - 998


def test_second_half_price_skips_flash_lines_single_units_and_out_of_scope_lines():
    promo = half(scope=p.Scope(categories=frozenset({"fruit"})))
    co = run(
        [line("A", 1000, 2), line("B", 1000, 1), line("C", 1000, 2, "dairy"), line("D", 1000, 2)],
        promotions=[promo, flash("D", 500, 1)],
    )
    assert applied(co, "second_half:H1").allocation == (500, 0, 0, 0)


def test_second_half_price_is_computed_on_the_member_price():
    co = run([line("A", 1000, 2)], promotions=[half()], member_prices=Members({"A": 800}))
    assert applied(co, "second_half:H1").amount_fen == 400
    assert co.priced.lines[0].paid_fen == 800 + 400


# --- tiered --------------------------------------------------------------------------------


def test_tiered_gives_the_highest_tier_reached():
    assert applied(run([line("A", 9900, 1)], promotions=[tiered()]), "tiered:P1").amount_fen == 1000
    assert (
        applied(run([line("A", 20000, 1)], promotions=[tiered()]), "tiered:P1").amount_fen == 3000
    )
    assert run([line("A", 9899, 1)], promotions=[tiered()]).applied == ()


def test_only_the_tiered_discount_saving_most_applies():
    small = tiered("P1", ((5000, 500),))
    big = tiered("P2", ((5000, 800),))
    co = run([line("A", 6000, 1)], promotions=[small, big])
    assert [a.code for a in co.applied] == ["tiered:P2"]


def test_tiered_base_excludes_flash_units_and_out_of_scope_lines():
    promo = tiered(scope=p.Scope(categories=frozenset({"fruit/apple"})))
    lines = [line("A", 9000, 1), line("B", 5000, 1, "dairy", "milk"), line("C", 1000, 2)]
    co = run(lines, promotions=[promo, flash("C", 500, 1)])
    # in scope: A 9000 + C's one unit not at the flash price 1000 = 10000
    a = applied(co, "tiered:P1")
    assert a.base_fen == 10000
    assert a.amount_fen == 1000
    assert a.allocation == (900, 0, 100)
    assert a.base.startswith("after item promotions")
    check_consistent(co)


def test_tiered_is_capped_at_the_campaign_budget_left_and_says_so():
    co = run([line("A", 20000, 1)], promotions=[tiered(budget_left_fen=1200)])
    a = applied(co, "tiered:P1")
    assert a.amount_fen == 1200
    assert "budget" in a.note


def test_tiered_with_its_budget_spent_does_not_apply():
    co = run([line("A", 20000, 1)], promotions=[tiered(budget_left_fen=0)])
    assert co.applied == ()
    assert any("budget" in note for note in co.notes)


def test_tiered_at_another_store_or_out_of_window_does_not_apply():
    other = tiered(scope=p.Scope(stores=frozenset({"s9"})))
    ended = p.TieredDiscount("P2", "ended", ((100, 50),), START, NOW)
    assert run([line("A", 20000, 1)], promotions=[other, ended]).applied == ()


# --- coupons: amounts ----------------------------------------------------------------------


def test_amount_off_coupon_on_goods_after_the_tiered_share():
    co = run(
        [line("A", 6000, 1), line("B", 4000, 1)],
        promotions=[tiered()],
        coupons=[coupon("C1", threshold_fen=9000, amount_off_fen=500)],
    )
    c = applied(co, "coupon:C1")
    assert c.base_fen == 10000 - 1000
    assert c.base == "after tiered discount, flash-sale units excluded"
    assert co.priced.discount_fen == 1500
    assert co.total_fen == 10000 - 1500 + 600
    check_consistent(co)


def test_coupon_threshold_is_checked_after_the_tiered_discount():
    co = run(
        [line("A", 10000, 1)],
        promotions=[tiered()],
        coupons=[coupon("C1", threshold_fen=9500, amount_off_fen=500)],
    )
    v = co.verdict("C1")
    assert not v.applies
    assert v.reason == p.THRESHOLD_NOT_REACHED
    assert v.shortfall_fen == 500
    assert v.message == "Spend ¥5.00 more on eligible items"


def test_percent_off_rounds_down_and_respects_its_cap():
    co = run([line("A", 999, 1)], coupons=[coupon("C1", "percent_off", percent_off=15)])
    assert co.verdict("C1").discount_fen == 149  # 149.85 rounds down
    capped = run(
        [line("A", 100000, 1)], coupons=[coupon("C1", "percent_off", percent_off=15, cap_fen=2000)]
    )
    assert capped.verdict("C1").discount_fen == 2000


def test_a_coupon_never_gives_more_than_its_base():
    co = run([line("A", 300, 1)], coupons=[coupon("C1", amount_off_fen=1000)])
    assert co.verdict("C1").discount_fen == 300
    assert co.priced.lines[0].paid_fen == 0
    assert co.total_fen == 600


def test_coupon_scope_by_sku_and_category_allocates_only_to_its_lines():
    c = coupon("C1", amount_off_fen=300, scope=p.Scope(skus=frozenset({"B"})))
    co = run([line("A", 1000, 1), line("B", 1000, 1)], coupons=[c])
    assert applied(co, "coupon:C1").allocation == (0, 300)


def test_coupon_excludes_flash_priced_units():
    c = coupon("C1", threshold_fen=1500, amount_off_fen=300)
    co = run([line("A", 1000, 2)], promotions=[flash("A", 100, 1)], coupons=[c])
    assert co.verdict("C1").reason == p.THRESHOLD_NOT_REACHED
    assert co.verdict("C1").shortfall_fen == 500


# --- coupons: every verdict reason ---------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "reason"),
    [
        (coupon("X", amount_off_fen=100, state="locked"), p.NOT_AVAILABLE),
        (coupon("X", amount_off_fen=100, state="used"), p.NOT_AVAILABLE),
        (coupon("X", amount_off_fen=100, state="voided"), p.NOT_AVAILABLE),
        (coupon("X", amount_off_fen=100, state="expired"), p.EXPIRED),
        (coupon("X", amount_off_fen=100, valid_until=NOW), p.EXPIRED),
        (coupon("X", amount_off_fen=100, valid_from=NOW + timedelta(seconds=1)), p.NOT_YET_VALID),
        (coupon("X", amount_off_fen=100, scope=p.Scope(stores=frozenset({"s9"}))), p.OTHER_STORE),
        (
            coupon("X", amount_off_fen=100, scope=p.Scope(categories=frozenset({"dairy"}))),
            p.OUT_OF_SCOPE,
        ),
        (coupon("X", amount_off_fen=100, threshold_fen=5000), p.THRESHOLD_NOT_REACHED),
        (coupon("X", amount_off_fen=100, budget_left_fen=99), p.BUDGET_EXHAUSTED),
        (coupon("X", "free_delivery", budget_left_fen=599), p.BUDGET_EXHAUSTED),
    ],
)
def test_each_reason_a_coupon_does_not_apply(offer, reason):
    co = run([line("A", 1000, 1)], coupons=[offer])
    v = co.verdict("X")
    assert (v.applies, v.reason, v.discount_fen) == (False, reason, 0)
    assert v.message
    assert co.applied_coupon_ids == ()
    assert co.total_fen == 1600


def test_valid_from_is_inclusive():
    co = run([line("A", 1000, 1)], coupons=[coupon("X", amount_off_fen=100, valid_from=NOW)])
    assert co.verdict("X").applies


def test_free_delivery_with_no_fee_to_waive_does_not_apply():
    co = run([line("A", 1000, 1)], fulfilment="pickup", coupons=[coupon("X", "free_delivery")])
    assert co.verdict("X").reason == p.NO_DELIVERY_FEE
    free_above = DeliveryRule(600, 500)
    co = run([line("A", 1000, 1)], delivery=free_above, coupons=[coupon("X", "free_delivery")])
    assert co.verdict("X").reason == p.NO_DELIVERY_FEE


def test_free_delivery_applies_on_its_own_with_its_fee_as_the_verdict():
    co = run([line("A", 1000, 1)], coupons=[coupon("D", "free_delivery")])
    assert co.verdict("D") == p.CouponVerdict("D", True, 600)
    assert co.suggested_coupon_ids == co.applied_coupon_ids == ("D",)
    assert co.total_fen == 1000
    # With a goods coupon that also applies alone, both verdicts stay true on their own.
    co = run(
        [line("A", 1000, 1)],
        coupons=[coupon("D", "free_delivery"), coupon("X", amount_off_fen=100)],
    )
    assert co.verdict("D") == p.CouponVerdict("D", True, 600)
    assert co.verdict("X") == p.CouponVerdict("X", True, 100)
    assert co.suggested_coupon_ids == ("X", "D")


def test_free_delivery_combines_with_flash_prices_on_a_flash_only_cart():
    # The stacking matrix: flash price x free-delivery coupon = yes.
    d = coupon("D", "free_delivery")
    co = run([line("A", 1000, 2)], promotions=[flash("A", 500, 2)], coupons=[d])
    assert co.verdict("D") == p.CouponVerdict("D", True, 600)
    assert co.suggested_coupon_ids == ("D",) and co.total_fen == 1000
    check_consistent(co)
    chosen = run(
        [line("A", 1000, 2)], promotions=[flash("A", 500, 2)], coupons=[d], chosen_coupon_ids=["D"]
    )
    assert chosen.rejected_coupon_ids == () and chosen.total_fen == 1000
    # Its threshold counts the flash-priced goods (¥10 here); a goods coupon's does not.
    high = coupon("D", "free_delivery", threshold_fen=1001)
    co = run([line("A", 1000, 2)], promotions=[flash("A", 500, 2)], coupons=[high])
    assert (co.verdict("D").reason, co.verdict("D").shortfall_fen) == (
        p.THRESHOLD_NOT_REACHED,
        1,
    )
    goods = coupon("X", amount_off_fen=100)
    co = run([line("A", 1000, 2)], promotions=[flash("A", 500, 2)], coupons=[goods])
    assert co.verdict("X").reason == p.OUT_OF_SCOPE


def test_a_coupon_whose_budget_is_spent_is_judged_so_and_never_suggested():
    spent = coupon("X", amount_off_fen=300, budget_left_fen=0)
    other = coupon("Y", amount_off_fen=100)
    co = run([line("A", 1000, 1)], coupons=[spent, other])
    v = co.verdict("X")
    assert (v.applies, v.reason) == (False, p.BUDGET_EXHAUSTED)
    assert co.suggested_coupon_ids == ("Y",)
    chosen = run([line("A", 1000, 1)], coupons=[spent], chosen_coupon_ids=["X"])
    assert chosen.rejected_coupon_ids == ("X",) and chosen.refusal_reason == p.BUDGET_EXHAUSTED


def test_margin_floor_refuses_a_coupon_that_sells_below_cost():
    co = run(
        [line("A", 1000, 2), line("B", 1000, 1)],
        coupons=[coupon("X", amount_off_fen=900)],
        costs={"A": 800},
    )
    v = co.verdict("X")
    assert v.reason == p.BELOW_MARGIN_FLOOR and "A" in v.message
    assert co.suggested_coupon_ids == ()


def test_margin_floor_is_kept_at_exactly_cost():
    co = run([line("A", 1000, 1)], coupons=[coupon("X", amount_off_fen=200)], costs={"A": 800})
    assert co.verdict("X").applies
    assert co.priced.lines[0].paid_fen == 800


def test_chosen_coupon_below_the_margin_floor_is_refused_with_the_reason():
    co = run(
        [line("A", 1000, 1)],
        coupons=[coupon("X", amount_off_fen=300)],
        costs={"A": 800},
        chosen_coupon_ids=["X"],
    )
    assert co.applied_coupon_ids == ()
    assert co.rejected_coupon_ids == ("X",)
    assert co.refusal_reason == p.BELOW_MARGIN_FLOOR
    assert co.refusal and "below cost" in co.refusal
    assert co.total_fen == 1600


def test_tiered_discount_that_breaks_the_floor_is_left_out_and_said():
    co = run([line("A", 10000, 1)], promotions=[tiered()], costs={"A": 9500})
    assert co.applied == ()
    assert any("left out" in note and "A" in note for note in co.notes)


def test_a_smaller_tiered_discount_that_keeps_the_floor_is_used_instead():
    big = tiered("P1", ((5000, 800),))
    small = tiered("P2", ((5000, 300),))
    co = run([line("A", 10000, 1)], promotions=[big, small], costs={"A": 9600})
    assert [a.code for a in co.applied] == ["tiered:P2"]


def test_item_promotions_apply_as_configured_even_below_cost():
    co = run([line("A", 1000, 1)], promotions=[flash("A", 100, 1)], costs={"A": 800})
    assert co.priced.lines[0].paid_fen == 100


def test_two_chosen_goods_coupons_the_second_is_not_combinable():
    co = run(
        [line("A", 10000, 1)],
        coupons=[coupon("X", amount_off_fen=300), coupon("Y", amount_off_fen=500)],
        chosen_coupon_ids=["X", "Y"],
    )
    assert co.applied_coupon_ids == ("X",)
    assert co.rejected_coupon_ids == ("Y",)
    assert co.verdict("Y").reason == p.NOT_COMBINABLE
    assert co.refusal_reason == p.NOT_COMBINABLE
    assert co.priced.discount_fen == 300
    # the suggestion still points at the better one
    assert co.suggested_coupon_ids == ("Y",)


def test_chosen_coupon_not_in_the_wallet_is_rejected():
    co = run([line("A", 1000, 1)], chosen_coupon_ids=["nope"])
    assert co.rejected_coupon_ids == ("nope",)
    assert co.refusal_reason == p.NOT_IN_WALLET


def test_chosen_combination_is_applied_exactly():
    co = run(
        [line("A", 10000, 1)],
        coupons=[
            coupon("X", amount_off_fen=300),
            coupon("Y", amount_off_fen=500),
            coupon("D", "free_delivery"),
        ],
        chosen_coupon_ids=["X", "D"],
    )
    assert co.applied_coupon_ids == ("X", "D")
    assert co.rejected_coupon_ids == ()
    assert co.total_fen == 9700
    assert co.delivery_fee_waived_fen == 600
    assert applied(co, "free_delivery:D").base == "delivery fee"


def test_chosen_empty_list_applies_no_coupon():
    co = run([line("A", 10000, 1)], coupons=[coupon("X", amount_off_fen=300)], chosen_coupon_ids=[])
    assert co.applied_coupon_ids == ()
    assert co.suggested_coupon_ids == ("X",)
    assert co.total_fen == 10600


# --- best combination ----------------------------------------------------------------------


def test_best_combination_is_the_biggest_goods_coupon_plus_free_delivery():
    co = run(
        [line("A", 10000, 1)],
        coupons=[
            coupon("X", amount_off_fen=300),
            coupon("Y", "percent_off", percent_off=10),
            coupon("Z", amount_off_fen=2000, threshold_fen=20000),
            coupon("D", "free_delivery"),
        ],
    )
    assert co.suggested_coupon_ids == ("Y", "D")
    assert co.applied_coupon_ids == ("Y", "D")
    assert co.total_fen == 9000


def test_ties_go_to_the_coupon_expiring_first_then_the_smaller_id():
    soon = coupon("B", amount_off_fen=300, valid_until=NOW + timedelta(days=1))
    late = coupon("A", amount_off_fen=300)
    assert run([line("A", 1000, 1)], coupons=[late, soon]).suggested_coupon_ids == ("B",)
    same = [coupon("B", amount_off_fen=300), coupon("A", amount_off_fen=300)]
    assert run([line("A", 1000, 1)], coupons=same).suggested_coupon_ids == ("A",)


def test_best_combination_counts_a_delivery_fee_the_coupon_brings_back():
    # Free delivery above ¥100: a ¥3 coupon takes the goods to ¥99 and the ¥6 fee returns,
    # so the customer is better off without it (unless a free-delivery coupon covers it).
    rule = DeliveryRule(600, 10000)
    co = run([line("A", 10200, 1)], delivery=rule, coupons=[coupon("X", amount_off_fen=300)])
    assert co.suggested_coupon_ids == ()
    assert co.total_fen == 10200
    co = run(
        [line("A", 10200, 1)],
        delivery=rule,
        coupons=[coupon("X", amount_off_fen=300), coupon("D", "free_delivery")],
    )
    assert co.suggested_coupon_ids == ("X", "D")
    assert co.total_fen == 9900
    # Alone D has nothing to waive, and its verdict says so (the customer may not pick X):
    # only in the suggested combination does it waive the fee.
    d = co.verdict("D")
    assert (d.applies, d.reason, d.discount_fen) == (False, p.NO_DELIVERY_FEE, 0)
    assert "with coupon X" in d.message
    assert applied(co, "free_delivery:D").amount_fen == 600
    check_consistent(co)
    both = run(
        [line("A", 10200, 1)],
        delivery=rule,
        coupons=[coupon("X", amount_off_fen=300), coupon("D", "free_delivery")],
        chosen_coupon_ids=["X", "D"],
    )
    assert both.rejected_coupon_ids == () and both.total_fen == 9900
    chosen = run(
        [line("A", 10200, 1)],
        delivery=rule,
        coupons=[coupon("X", amount_off_fen=300), coupon("D", "free_delivery")],
        chosen_coupon_ids=["D"],
    )
    assert chosen.rejected_coupon_ids == ("D",)
    assert chosen.verdict("D").reason == p.NO_DELIVERY_FEE


def test_suggestion_with_twenty_coupons_matches_a_brute_force():
    coupons = [
        coupon(f"C{i:02d}", amount_off_fen=100 * i, threshold_fen=1000 * i) for i in range(20)
    ]
    co = run([line("A", 9000, 1), line("B", 2500, 1)], coupons=coupons, costs={"B": 2400})
    totals = {}
    for c in coupons:
        one = run(
            [line("A", 9000, 1), line("B", 2500, 1)],
            coupons=[c],
            chosen_coupon_ids=[c.coupon_id],
            costs={"B": 2400},
        )
        if not one.rejected_coupon_ids:
            totals[c.coupon_id] = one.total_fen
    assert co.total_fen == min(totals.values())
