"""Stacking policy per promotion and coupon (issue 18 item 1): each switch with worked
numbers (docs/promotions.md "Stacking policy"). The default policy is the fixed matrix:
tests/unit/test_promotions.py runs unchanged."""

from datetime import UTC, datetime, timedelta

from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule

NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=10), NOW + timedelta(days=10)
PICKUP = DeliveryRule(base_fee_fen=600, free_above_fen=None)


def line(sku: str, unit_fen: int, qty: int, c1: str = "fruit") -> CartLine:
    return CartLine(sku, sku, "pc", c1, "x", None, None, False, unit_fen, qty)


def coupon(cid: str, kind: str = "amount_off", **kw) -> p.CouponOffer:
    return p.CouponOffer(cid, "T1", f"coupon {cid}", kind, START, END, **kw)  # type: ignore[arg-type]


def tiered(pid: str = "P1", tiers=((9900, 1000), (19900, 3000)), **kw) -> p.TieredDiscount:
    return p.TieredDiscount(pid, f"tiered {pid}", tiers, START, END, **kw)


def half(pid: str = "H1", **kw) -> p.SecondItemHalfPrice:
    return p.SecondItemHalfPrice(pid, f"half {pid}", START, END, **kw)


def run(lines, **kw) -> p.Checkout:
    kw.setdefault("store_id", "s1")
    kw.setdefault("now", NOW)
    kw.setdefault("fulfilment", "pickup")
    kw.setdefault("delivery", PICKUP)
    kw.setdefault("minimum_order_fen", 0)
    return p.evaluate(lines, **kw)


def codes(co: p.Checkout) -> list[str]:
    return [a.code for a in co.applied]


class Member:
    def __init__(self, prices: dict[str, int]) -> None:
        self.prices = prices

    def unit_price(self, sku: str) -> int | None:
        return self.prices.get(sku)


EXCLUSIVE = p.StackingPolicy(exclusive=True)


# --- exclusive ---------------------------------------------------------------------------


def test_an_exclusive_coupon_wins_alone_when_it_costs_less():
    # ¥200 of goods: 满199减30 + coupon ¥10 = ¥40 off; the exclusive coupon gives ¥50 alone.
    cart = [line("A", 10000, 2)]
    co = run(
        cart,
        promotions=[tiered()],
        coupons=[
            coupon("C1", amount_off_fen=1000),
            coupon("X", amount_off_fen=5000, stacking=EXCLUSIVE),
        ],
    )
    assert co.total_fen == 15000
    assert codes(co) == ["coupon:X"]
    assert co.suggested_coupon_ids == ("X",)
    assert any("tiered P1 left out: coupon X is exclusive (not_stackable)" in n for n in co.notes)
    assert co.verdict("C1").applies  # on its own it still applies
    assert any("coupon C1 not used" in n for n in co.notes)


def test_an_exclusive_coupon_loses_to_the_stackable_combination_when_it_costs_more():
    cart = [line("A", 10000, 2)]
    co = run(
        cart,
        promotions=[tiered()],
        coupons=[
            coupon("C1", amount_off_fen=1000),
            coupon("X", amount_off_fen=3500, stacking=EXCLUSIVE),
        ],
    )
    assert co.total_fen == 16000  # 20000 - 3000 - 1000
    assert codes(co) == ["tiered:P1", "coupon:C1"]
    assert co.verdict("X").applies and co.verdict("X").discount_fen == 3500


def test_priority_makes_an_exclusive_discount_win_even_when_it_costs_more():
    cart = [line("A", 10000, 2)]
    co = run(
        cart,
        promotions=[tiered()],
        coupons=[
            coupon("C1", amount_off_fen=1000),
            coupon("X", amount_off_fen=3500, stacking=p.StackingPolicy(exclusive=True, priority=5)),
        ],
    )
    assert co.total_fen == 16500
    assert codes(co) == ["coupon:X"]


def test_an_exclusive_tiered_discount_leaves_out_the_half_price_and_goods_coupons():
    # 2 × ¥100: half price takes ¥50; exclusive 满199减60 takes ¥60 alone (more).
    cart = [line("A", 10000, 2)]
    co = run(
        cart,
        promotions=[half(), tiered(tiers=((19900, 6000),), stacking=EXCLUSIVE)],
        coupons=[coupon("C1", amount_off_fen=500)],
    )
    assert codes(co) == ["tiered:P1"]
    assert co.total_fen == 14000
    assert co.verdict("C1").applies


def test_a_chosen_exclusive_coupon_is_priced_alone_and_a_second_one_refused():
    cart = [line("A", 10000, 2)]
    co = run(
        cart,
        promotions=[tiered()],
        coupons=[
            coupon("C1", amount_off_fen=1000),
            coupon("X", amount_off_fen=2000, stacking=EXCLUSIVE),
        ],
        chosen_coupon_ids=["X"],
    )
    assert codes(co) == ["coupon:X"]
    assert co.total_fen == 18000
    both = run(
        cart,
        promotions=[tiered()],
        coupons=[
            coupon("C1", amount_off_fen=1000),
            coupon("X", amount_off_fen=2000, stacking=EXCLUSIVE),
        ],
        chosen_coupon_ids=["X", "C1"],
    )
    # one of the two is refused (the order is refused): the pricing kept is the cheaper
    assert both.rejected_coupon_ids == ("X",)
    assert both.verdict("X").reason == p.NOT_STACKABLE
    assert both.verdict("X").message == "exclusive: it applies only alone"


def test_member_price_and_free_delivery_pass_an_exclusive_discount():
    fee = DeliveryRule(base_fee_fen=600, free_above_fen=None)
    cart = [line("A", 10000, 2), line("B", 1000, 1)]
    co = run(
        cart,
        fulfilment="delivery",
        delivery=fee,
        member_prices=Member({"B": 800}),
        coupons=[
            coupon("X", amount_off_fen=5000, stacking=EXCLUSIVE),
            coupon("FD", "free_delivery"),
        ],
    )
    assert codes(co) == ["member_price", "coupon:X", "free_delivery:FD"]
    assert co.total_fen == 20000 + 800 - 5000


# --- priority within a slot --------------------------------------------------------------


def test_priority_picks_the_tiered_discount_over_the_one_saving_more():
    cart = [line("A", 10000, 2)]
    co = run(
        cart,
        promotions=[
            tiered("P1"),
            tiered("P2", tiers=((9900, 500),), stacking=p.StackingPolicy(priority=1)),
        ],
    )
    assert codes(co) == ["tiered:P2"]
    assert co.total_fen == 19500


def test_priority_picks_the_goods_coupon():
    cart = [line("A", 10000, 1)]
    co = run(
        cart,
        coupons=[
            coupon("C1", amount_off_fen=3000),
            coupon("C2", amount_off_fen=1000, stacking=p.StackingPolicy(priority=2)),
        ],
    )
    assert co.suggested_coupon_ids == ("C2",)


# --- not with 满减 / not with member price ------------------------------------------------


def test_a_coupon_not_with_tiered_is_refused_beside_a_tiered_discount_or_wins_without_it():
    cart = [line("A", 10000, 2)]
    nt = p.StackingPolicy(not_with_tiered=True)
    small = run(
        cart, promotions=[tiered()], coupons=[coupon("N", amount_off_fen=2000, stacking=nt)]
    )
    assert codes(small) == ["tiered:P1"]  # ¥30 off beats ¥20 off
    assert small.total_fen == 17000
    # the verdict: on its own (without the 满减) it applies
    assert small.verdict("N").applies
    assert any("Not combinable with tiered P1" in n for n in small.notes)
    big = run(cart, promotions=[tiered()], coupons=[coupon("N", amount_off_fen=4000, stacking=nt)])
    assert codes(big) == ["coupon:N"]
    assert big.total_fen == 16000
    assert any("tiered P1 left out: not combinable with coupon N" in n for n in big.notes)


def test_not_with_member_price_leaves_member_priced_lines_out_of_the_base():
    # A: ¥100 × 1 at member price ¥90; B: ¥120 × 1 without. 满199减30 not with member price
    # counts only B (¥120): tier 满99减10.
    cart = [line("A", 10000, 1), line("B", 12000, 1)]
    promo = tiered(stacking=p.StackingPolicy(not_with_member_price=True))
    co = run(cart, promotions=[promo], member_prices=Member({"A": 9000}))
    t = next(a for a in co.applied if a.kind == "tiered")
    assert (t.amount_fen, t.base_fen, t.allocation) == (1000, 12000, (0, 1000))
    assert "member-priced lines excluded" in t.base
    c = coupon(
        "C", "percent_off", percent_off=10, stacking=p.StackingPolicy(not_with_member_price=True)
    )
    co2 = run(cart, coupons=[c], member_prices=Member({"A": 9000}))
    assert co2.verdict("C").discount_fen == 1200


def test_half_price_not_with_tiered_keeps_its_lines_out_of_the_tiered_base():
    cart = [line("A", 5000, 2), line("B", 15000, 1)]
    promo = half(stacking=p.StackingPolicy(not_with_tiered=True))
    co = run(cart, promotions=[promo, tiered()])
    t = next(a for a in co.applied if a.kind == "tiered")
    assert (t.base_fen, t.amount_fen, t.allocation) == (15000, 1000, (0, 1000))


# --- two goods coupons in different stack groups ------------------------------------------


def test_two_goods_coupons_of_different_stack_groups_stack():
    cart = [line("A", 10000, 2)]
    store = p.StackingPolicy(stack_group="store")
    supplier = p.StackingPolicy(stack_group="supplier")
    co = run(
        cart,
        coupons=[
            coupon("S", "percent_off", percent_off=10, stacking=store),
            coupon("U", amount_off_fen=2000, stacking=supplier),
        ],
    )
    # amount off first (¥20), then 10 % of the ¥180 left: ¥18
    assert co.suggested_coupon_ids == ("U", "S")
    assert [a.amount_fen for a in co.applied] == [2000, 1800]
    assert co.total_fen == 16200
    assert "after coupon U" in co.applied[1].base


def test_two_goods_coupons_of_the_same_group_do_not_stack():
    cart = [line("A", 10000, 2)]
    g = p.StackingPolicy(stack_group="store")
    offers = [
        coupon("S1", amount_off_fen=1000, stacking=g),
        coupon("S2", amount_off_fen=2000, stacking=g),
    ]
    co = run(cart, coupons=offers)
    assert co.suggested_coupon_ids == ("S2",)
    chosen = run(cart, coupons=offers, chosen_coupon_ids=["S2", "S1"])
    assert chosen.rejected_coupon_ids == ("S1",)
    v = chosen.verdict("S1")
    assert v.reason == p.NOT_STACKABLE and "Same stack group (store)" in v.message


def test_no_group_means_one_goods_coupon_as_today():
    cart = [line("A", 10000, 2)]
    offers = [
        coupon("A1", amount_off_fen=1000, stacking=p.StackingPolicy(stack_group="store")),
        coupon("A2", amount_off_fen=2000),
    ]
    co = run(cart, coupons=offers, chosen_coupon_ids=["A2", "A1"])
    assert co.rejected_coupon_ids == ("A1",)
    assert co.verdict("A1").reason == p.NOT_COMBINABLE


# --- the margin floor: exclude instead of refuse -------------------------------------------


def test_exclude_mode_keeps_the_tiered_discount_on_the_other_lines():
    # Rice ¥50 × 2 at cost ¥49; fruit ¥150. 满199减30 on ¥250 would take rice to
    # ¥88 (< ¥98 cost): "refuse" drops it; "exclude" keeps 满99减10 on the fruit (¥150).
    cart = [line("RICE", 5000, 2), line("FRUIT", 15000, 1)]
    costs = {"RICE": 4900}
    refused = run(cart, promotions=[tiered()], costs=costs)
    assert codes(refused) == []
    assert any("would sell RICE below cost" in n for n in refused.notes)
    kept = run(
        cart, promotions=[tiered(stacking=p.StackingPolicy(margin_floor="exclude"))], costs=costs
    )
    t = kept.applied[0]
    assert (t.amount_fen, t.base_fen, t.allocation) == (1000, 15000, (0, 1000))
    assert "RICE excluded (margin floor)" in t.base
    assert any("RICE left out of its base (margin floor)" in n for n in kept.notes)
    assert kept.total_fen == 24000


def test_exclude_mode_on_a_coupon_and_its_threshold_on_what_is_left():
    cart = [line("RICE", 5000, 2), line("FRUIT", 15000, 1)]
    costs = {"RICE": 4900}
    ex = p.StackingPolicy(margin_floor="exclude")
    ok = run(
        cart,
        coupons=[coupon("C", amount_off_fen=2000, threshold_fen=10000, stacking=ex)],
        costs=costs,
    )
    assert ok.verdict("C").applies
    assert ok.applied[0].allocation == (0, 2000)
    short = run(
        cart,
        coupons=[coupon("C", amount_off_fen=2000, threshold_fen=20000, stacking=ex)],
        costs=costs,
    )
    assert short.verdict("C").reason == p.BELOW_MARGIN_FLOOR
    assert "RICE" in short.verdict("C").message


def test_defaults_are_the_fixed_matrix():
    assert p.StackingPolicy() == p.DEFAULT_POLICY
    assert p.DEFAULT_POLICY.margin_floor == "refuse" and not p.DEFAULT_POLICY.exclusive


def test_a_chosen_coupon_not_with_tiered_is_applied_and_the_tiered_left_out():
    # Chosen, the customer asked for it: the pricing without the 满减 applies it.
    cart = [line("A", 10000, 2)]
    nt = p.StackingPolicy(not_with_tiered=True)
    co = run(
        cart,
        promotions=[tiered()],
        coupons=[coupon("N", amount_off_fen=2000, stacking=nt)],
        chosen_coupon_ids=["N"],
    )
    assert co.rejected_coupon_ids == ()
    assert codes(co) == ["coupon:N"]
    assert co.total_fen == 18000
    assert any("tiered P1 left out: not combinable with coupon N" in n for n in co.notes)


def test_an_exclusive_promotion_that_cannot_win_is_left_out_with_a_note():
    # 满99减1 exclusive next to 满99减10: it can save ¥1 at most, the stack saves ¥10.
    cart = [line("A", 10000, 1)]
    co = run(
        cart,
        promotions=[
            tiered("P1", tiers=((9900, 1000),)),
            tiered("P2", tiers=((9900, 100),), stacking=EXCLUSIVE),
        ],
    )
    assert codes(co) == ["tiered:P1"] and co.total_fen == 9000
    assert any("tiered P2 left out: it is exclusive" in n for n in co.notes)
