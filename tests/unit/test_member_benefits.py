"""The member's level and paid card combined at checkout (checkout/member_benefits.py)
and how the promotion engine explains them: per SKU the better price, never both; the
member's free delivery before any free-delivery coupon, after every goods discount."""

from __future__ import annotations

from chalicelib.checkout import member_benefits as mb
from chalicelib.checkout import promotion_engine as p
from chalicelib.loyalty.paid_rules import CardBenefits
from chalicelib.loyalty.programme_schemas import Level

from tests.unit.test_promotions import check_consistent, coupon, flash, line, run, tiered

V3 = Level(code="V3", name="黄金", threshold=2000, discount_permille=980)
V3_FREE = Level(
    code="V3", name="黄金", threshold=2000, discount_permille=980, free_delivery_min_fen=5000
)


def card(**kw) -> CardBenefits:
    return CardBenefits(plan_id="P1", **kw)


def test_the_lower_of_level_and_card_per_sku_and_the_level_on_a_tie():
    m = mb.combine(
        {"A": 1000, "B": 1000, "C": 1000},
        V3,
        card(member_prices={"A": 950, "C": 980}),
    )
    assert m.unit_price("A") == 950 and m.source_of("A")[0] == "member_price:card:P1"
    assert m.unit_price("B") == 980 and m.source_of("B") == ("member_price:level:V3", "V3 会员价")
    assert m.unit_price("C") == 980 and m.source_of("C")[0] == "member_price:level:V3"


def test_a_level_without_a_discount_and_no_card_give_nothing():
    v1 = Level(code="V1", name="V1", threshold=0)
    m = mb.combine({"A": 1000}, v1, None)
    assert m.unit_price("A") is None and m.delivery == ()
    assert mb.combine({"A": 1000}, None, None).prices == {}


def test_the_engine_explains_each_source_apart_and_never_stacks_them():
    m = mb.combine({"A": 1000, "B": 2000}, V3, card(discount_permille=50, member_prices={}))
    co = run([line("A", 1000, 2), line("B", 2000, 1)], member_prices=m)
    check_consistent(co)
    # The card's 5 % beats V3's 2 % on both: one card discount, no level one.
    assert [(a.code, a.amount_fen) for a in co.applied] == [("member_price:card:P1", 200)]
    assert mb.MemberBenefits.card_used(co.applied)
    co = run(
        [line("A", 1000, 2), line("B", 2000, 1)],
        member_prices=mb.combine({"A": 1000, "B": 2000}, V3, card(member_prices={"A": 900})),
    )
    check_consistent(co)
    assert [(a.code, a.label, a.allocation) for a in co.applied] == [
        ("member_price:card:P1", "付费会员价", (200, 0)),
        ("member_price:level:V3", "V3 会员价", (0, 40)),
    ]


def test_a_plain_hook_is_still_one_member_price():
    class Plain:
        def unit_price(self, sku):
            return 900

    co = run([line("A", 1000, 1)], member_prices=Plain())
    assert [(a.code, a.label) for a in co.applied] == [("member_price", "Member price")]


def test_member_free_delivery_counts_the_goods_after_every_discount():
    m = mb.combine({"A": 1000}, V3_FREE, None)
    lines = [line("A", 1000, 6)]  # 6 000 list, 5 880 at V3
    co = run(lines, member_prices=m, member_delivery=m.delivery)
    check_consistent(co)
    assert (co.priced.delivery_fee_fen, co.delivery_fee_waived_fen) == (0, 600)
    waiver = co.applied[-1]
    assert (waiver.code, waiver.kind, waiver.label) == (
        "member_free_delivery:level:V3",
        "free_delivery",
        "会员免配送费",
    )
    # A 满减 taking the goods below the threshold: the fee is due again.
    co = run(
        lines,
        member_prices=m,
        member_delivery=m.delivery,
        promotions=[tiered(tiers=((5000, 1000),))],
    )
    check_consistent(co)
    assert (co.priced.delivery_fee_fen, co.delivery_fee_waived_fen) == (600, 0)
    assert all(a.kind != "free_delivery" for a in co.applied)


def test_member_free_delivery_spends_no_free_delivery_coupon():
    m = mb.combine({"A": 1000}, V3_FREE, None)
    fd = coupon("FD", "free_delivery")
    co = run([line("A", 1000, 6)], member_prices=m, member_delivery=m.delivery, coupons=[fd])
    assert co.suggested_coupon_ids == () and co.applied_coupon_ids == ()
    assert co.verdict("FD").reason == p.NO_DELIVERY_FEE
    # Below the threshold the coupon is what waives it.
    co = run([line("A", 1000, 3)], member_prices=m, member_delivery=m.delivery, coupons=[fd])
    assert co.applied_coupon_ids == ("FD",) and co.delivery_fee_waived_fen == 600


def test_the_level_waives_before_the_card_and_the_card_below_the_threshold():
    m = mb.combine({"A": 1000}, V3_FREE, card(free_delivery=True))
    co = run([line("A", 1000, 6)], member_prices=m, member_delivery=m.delivery)
    assert co.applied[-1].code == "member_free_delivery:level:V3"
    assert not mb.MemberBenefits.card_used(co.applied)
    co = run([line("A", 1000, 1)], member_prices=m, member_delivery=m.delivery)
    assert co.applied[-1].code == "member_free_delivery:card:P1"
    assert mb.MemberBenefits.card_used(co.applied)


def test_flash_beats_the_member_price_when_lower():
    m = mb.combine({"A": 1000}, V3, None)
    co = run([line("A", 1000, 1)], member_prices=m, promotions=[flash("A", 500, 5)])
    assert [a.kind for a in co.applied] == ["flash"]
