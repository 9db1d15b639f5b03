"""Issue 18's mechanics in the engine, with worked numbers (docs/promotions.md, "More
mechanics"): 满件减 and 满N件M折, 每满减 with a cap, 加价购, 满赠, 一口价, 商品券."""

from datetime import UTC, datetime, timedelta

from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule

NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
START = NOW - timedelta(days=10)
END = NOW + timedelta(days=10)
FEE = DeliveryRule(base_fee_fen=600, free_above_fen=None)
YOGURT = p.Scope(skus=frozenset({"Y1", "Y2", "Y3"}))


def line(sku: str, unit_fen: int, qty: int, c1: str = "fruit") -> CartLine:
    return CartLine(sku, sku, "pc", c1, "x", None, None, False, unit_fen, qty)


def run(lines, **kw) -> p.Checkout:
    kw.setdefault("store_id", "s1")
    kw.setdefault("now", NOW)
    kw.setdefault("fulfilment", "delivery")
    kw.setdefault("delivery", FEE)
    kw.setdefault("minimum_order_fen", 0)
    co = p.evaluate(lines, **kw)
    check_consistent(co)
    return co


def check_consistent(co: p.Checkout) -> None:
    off_line = ("free_delivery", "gift")
    for a in co.applied:
        assert sum(a.allocation) == (0 if a.kind in off_line else a.amount_fen)
        assert 0 < a.amount_fen <= a.base_fen
    goods = [a for a in co.applied if a.kind not in off_line]
    for i, pl in enumerate(co.priced.lines):
        assert pl.discount_fen == sum(a.allocation[i] for a in goods)


def applied(co: p.Checkout, code: str) -> p.AppliedDiscount:
    return next(a for a in co.applied if a.code == code)


def tiered(tiers, **kw) -> p.TieredDiscount:
    return p.TieredDiscount("T", "tiered", tiers, START, END, **kw)


# --- 满件减 / 满N件M折 ---------------------------------------------------------------------


def test_units_tiers_count_units_not_fen():
    # 满3件减10元 / 满5件减25元: 4 units (3 x ¥5 + 1 x ¥8 = ¥23) reach the first tier
    promo = tiered(((3, 1000), (5, 2500)), basis="units")
    co = run([line("A", 500, 3), line("B", 800, 1)], promotions=[promo])
    t = applied(co, "tiered:T")
    assert t.amount_fen == 1000
    assert t.allocation == (652, 348)  # 1000 x 1500/2300, 1000 x 800/2300, largest remainder
    assert co.total_fen == 2300 - 1000 + 600
    assert co.next_tier == p.NextTier("T", "tiered", 5, 2500, 4, 1, p.ALL, "units")


def test_units_tiers_at_the_top_and_below_the_first():
    promo = tiered(((3, 1000), (5, 2500)), basis="units")
    top = run([line("A", 1000, 6)], promotions=[promo])
    assert applied(top, "tiered:T").amount_fen == 2500
    assert top.next_tier is None
    below = run([line("A", 1000, 2)], promotions=[promo])
    assert below.priced.discount_fen == 0
    assert below.next_tier is not None and below.next_tier.gap_fen == 1  # one unit more


def test_units_off_never_above_the_goods():
    co = run([line("A", 200, 3)], promotions=[tiered(((3, 1000),), basis="units")])
    assert applied(co, "tiered:T").amount_fen == 600  # ¥10 off ¥6 of goods: ¥6


def test_n_units_percent_off():
    # 满2件8折 (20 % off): 2 x ¥12.50 = ¥25 -> ¥5 off
    co = run([line("A", 1250, 2)], promotions=[tiered(((2, 20),), basis="units", percent=True)])
    assert applied(co, "tiered:T").amount_fen == 500


# --- 每满减 -----------------------------------------------------------------------------


def test_every_100_off_10_with_a_cap_of_50():
    promo = tiered(((10000, 1000),), every=True, cap_fen=5000)
    co = run([line("A", 35000, 1)], promotions=[promo])  # ¥350: 3 x ¥10
    assert applied(co, "tiered:T").amount_fen == 3000
    assert co.next_tier is not None
    assert (co.next_tier.threshold_fen, co.next_tier.off_fen, co.next_tier.gap_fen) == (
        40000,
        4000,
        5000,
    )
    capped = run([line("A", 72000, 1)], promotions=[promo])  # ¥720: 7 x ¥10, capped at ¥50
    assert applied(capped, "tiered:T").amount_fen == 5000
    assert capped.next_tier is None  # the cap is reached: nothing more to work toward


def test_tier_off_is_the_one_rule():
    plain = tiered(((9900, 1000), (19900, 3000)))
    assert [p.tier_off(plain, b, 1) for b in (9899, 9900, 19900, 50000)] == [0, 1000, 3000, 3000]
    every = tiered(((10000, 1000),), every=True)
    assert p.tier_off(every, 99999, 1) == 9000
    assert p.next_tier_of(plain, 12000, 1) == (19900, 3000)
    assert p.next_tier_of(every, 12000, 1) == (20000, 2000)


# --- 加价购 -----------------------------------------------------------------------------


def addon(**kw) -> p.AddOnPrice:
    kw.setdefault("max_units", 1)
    return p.AddOnPrice(
        "AO", "加1元换购", "CUP", 100, threshold_fen=5000, starts_at=START, ends_at=END, **kw
    )


def test_add_on_price_once_the_threshold_is_reached():
    # ¥60 of goods reach ¥50: one CUP (¥15) costs ¥1, the second its list price
    co = run([line("A", 6000, 1), line("CUP", 1500, 2)], promotions=[addon()])
    a = applied(co, "add_on:AO")
    assert a.amount_fen == 1400 and a.allocation == (0, 1400)
    assert co.total_fen == 6000 + 100 + 1500 + 600
    assert co.add_ons[0].reached and co.add_ons[0].units == 1
    assert "CUP" in co.per_sku_priced


def test_add_on_not_reached_says_how_much_more():
    co = run([line("A", 3000, 1), line("CUP", 1500, 1)], promotions=[addon()])
    assert co.priced.discount_fen == 0
    offer = co.add_ons[0]
    assert (offer.reached, offer.base_fen, offer.gap_fen) == (False, 3000, 2000)


def test_add_on_units_stay_out_of_the_tiered_base():
    promo = tiered(((6000, 1000),))
    co = run([line("A", 5000, 1), line("CUP", 1500, 1)], promotions=[addon(), promo])
    assert applied(co, "add_on:AO").amount_fen == 1400
    assert co.priced.discount_fen == 1400  # ¥50 of A does not reach 满60


def test_add_on_not_below_cost():
    co = run([line("A", 6000, 1), line("CUP", 1500, 1)], promotions=[addon()], costs={"CUP": 300})
    assert co.priced.discount_fen == 0
    assert any("below cost" in n for n in co.notes)


# --- 满赠 -------------------------------------------------------------------------------


def gift(**kw) -> p.GiftWithPurchase:
    return p.GiftWithPurchase("G", "满88赠酸奶", "Y1", "酸奶", 8800, 450, START, END, **kw)


def test_gift_is_earned_at_the_threshold_and_costs_its_campaign():
    co = run([line("A", 9000, 1)], promotions=[gift(campaign_id="C1")], campaigns={"C1": 10000})
    assert co.gifts == (p.Gift("G", "满88赠酸奶", "Y1", "酸奶", 1, 450, True),)
    g = applied(co, "gift:G")
    assert (g.amount_fen, g.allocation, g.campaign_id) == (450, (0,), "C1")
    assert co.total_fen == 9000 + 600  # the gift is free; the customer pays the goods
    assert p.campaign_spend(co.applied) == {"C1": 450}


def test_gift_out_of_stock_the_order_goes_without_it():
    co = run([line("A", 9000, 1)], promotions=[gift(in_stock=False)])
    assert co.gifts[0].in_stock is False
    assert not [a for a in co.applied if a.kind == "gift"]
    assert any("out of stock" in n for n in co.notes)


def test_gift_threshold_counts_goods_after_the_tiered_discount():
    co = run([line("A", 9000, 1)], promotions=[gift(), tiered(((9000, 500),))])
    assert co.gifts == ()  # ¥90 - ¥5 = ¥85 < ¥88


# --- 一口价 -----------------------------------------------------------------------------


def bundle(units=3, price=1000) -> p.BundlePrice:
    return p.BundlePrice("B", "酸奶任选3件10元", units, price, START, END, YOGURT)


def test_bundle_takes_the_most_expensive_units_first():
    # 7 yogurts: 2 x ¥6, 3 x ¥4, 2 x ¥3. Bundles: (6,6,4) -> ¥16 for ¥10, (4,4,3) -> ¥11
    # for ¥10; one ¥3 unit is left over at its price.
    lines = [line("Y1", 600, 2), line("Y2", 400, 3), line("Y3", 300, 2), line("A", 999, 1)]
    co = run(lines, promotions=[bundle()])
    b = applied(co, "bundle:B")
    assert b.amount_fen == 600 + 100
    assert b.base_fen == 1600 + 1100
    # bundle 1: 600 over (600, 600, 400) -> 225, 225, 150; bundle 2: 100 over (400, 400, 300)
    # -> 37, 36, 27 (largest remainder, earlier unit first)
    assert b.allocation == (450, 150 + 37 + 36, 27, 0)
    assert co.total_fen == 1200 + 1200 + 600 + 999 - 700 + 600


def test_bundle_never_costs_more_than_the_units():
    co = run([line("Y1", 300, 3)], promotions=[bundle()])  # ¥9 < ¥10: no bundle
    assert co.priced.discount_fen == 0


def test_bundled_units_count_at_their_bundle_price_toward_tiered():
    co = run([line("Y1", 600, 3)], promotions=[bundle(), tiered(((1500, 500),))])
    assert applied(co, "bundle:B").amount_fen == 800
    assert co.priced.discount_fen == 800  # ¥10 left, below 满15


# --- 商品券 -----------------------------------------------------------------------------


def product(cid="PC", sku="Y1", price=0, **kw) -> p.CouponOffer:
    return p.CouponOffer(
        cid, "TP", "免费酸奶", "product", START, END, sku=sku, price_fen=price, **kw
    )


def test_product_coupon_makes_one_unit_free():
    co = run([line("A", 2000, 1), line("Y1", 450, 3)], coupons=[product()])
    assert co.applied_coupon_ids == ("PC",)
    c = applied(co, "coupon:PC")
    assert (c.amount_fen, c.allocation, c.base_fen) == (450, (0, 450), 450)


def test_product_coupon_at_a_fixed_price_never_negative():
    co = run([line("Y1", 450, 1)], coupons=[product(price=100)])
    assert applied(co, "coupon:PC").amount_fen == 350
    dearer = run([line("Y1", 450, 1)], coupons=[product(price=500)], chosen_coupon_ids=["PC"])
    assert dearer.rejected_coupon_ids == ("PC",)
    assert dearer.priced.discount_fen == 0


def test_product_coupon_needs_its_sku_in_the_cart():
    co = run([line("A", 2000, 1)], coupons=[product()], chosen_coupon_ids=["PC"])
    v = co.verdict("PC")
    assert not v.applies and v.reason == p.OUT_OF_SCOPE


def test_product_coupon_is_the_goods_coupon_of_the_order():
    amount = p.CouponOffer("AM", "TA", "减3", "amount_off", START, END, amount_off_fen=300)
    co = run([line("A", 2000, 1), line("Y1", 450, 1)], coupons=[product(), amount])
    assert co.applied_coupon_ids == ("PC",)  # ¥4.50 beats ¥3: only one goods coupon
