"""Property tests on the pricing domain: whatever the cart, promotions and coupons,
totals are never negative, no discount exceeds its base, allocations add up, the
suggestion is at least as good as any single coupon and never breaks the margin floor."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 5, 1, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)
SKUS = ["A", "B", "C", "D"]
CATS = ["fruit", "dairy"]

scopes = st.builds(
    p.Scope,
    categories=st.frozensets(st.sampled_from(["fruit", "dairy", "fruit/x"]), max_size=2),
    skus=st.frozensets(st.sampled_from(SKUS), max_size=2),
)


@st.composite
def carts(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    return [
        CartLine(
            draw(st.sampled_from(SKUS)),
            "n",
            "pc",
            draw(st.sampled_from(CATS)),
            "x",
            None,
            None,
            False,
            draw(st.integers(min_value=0, max_value=20_000)),
            draw(st.integers(min_value=1, max_value=5)),
        )
        for _ in range(n)
    ]


@st.composite
def coupon_lists(draw):
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        kind = draw(st.sampled_from(["amount_off", "percent_off", "free_delivery", "product"]))
        out.append(
            p.CouponOffer(
                f"C{i}",
                "T",
                f"c{i}",
                kind,
                START,
                draw(st.sampled_from([END, END + timedelta(days=1)])),
                threshold_fen=draw(st.integers(min_value=0, max_value=30_000)),
                amount_off_fen=draw(st.integers(min_value=1, max_value=20_000)),
                percent_off=draw(st.integers(min_value=1, max_value=99)),
                cap_fen=draw(st.none() | st.integers(min_value=0, max_value=5_000)),
                scope=draw(scopes),
                budget_left_fen=draw(st.none() | st.integers(min_value=0, max_value=5_000)),
                sku=draw(st.sampled_from(SKUS)),
                price_fen=draw(st.integers(min_value=0, max_value=3_000)),
            )
        )
    return out


@st.composite
def promotion_lists(draw):
    out: list[p.Promotion] = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        a = draw(st.integers(min_value=100, max_value=10_000))
        b = draw(st.integers(min_value=a, max_value=30_000))
        out.append(
            p.TieredDiscount(
                f"T{i}",
                "t",
                ((a, a // 10), (b, b // 5)),
                START,
                END,
                draw(scopes),
                draw(st.none() | st.integers(min_value=0, max_value=3_000)),
            )
        )
    if draw(st.booleans()):
        out.append(p.SecondItemHalfPrice("H", "h", START, END, draw(scopes)))
    out += draw(new_mechanics())
    for sku in draw(st.frozensets(st.sampled_from(SKUS), max_size=2)):
        out.append(
            p.FlashPrice(
                f"F{sku}",
                "f",
                sku,
                draw(st.integers(min_value=0, max_value=5_000)),
                draw(st.integers(min_value=0, max_value=4)),
                START,
                END,
            )
        )
    return out


@st.composite
def new_mechanics(draw):
    """Issue 18's mechanics: 满件减 / 满N件M折 / 每满减 tiers, 一口价, 加价购, 满赠."""
    out: list[p.Promotion] = []
    if draw(st.booleans()):
        units = draw(st.booleans())
        every = draw(st.booleans())
        percent = draw(st.booleans())
        t1 = (
            draw(st.integers(min_value=1, max_value=6))
            if units
            else draw(st.integers(min_value=100, max_value=10_000))
        )
        off1 = (
            draw(st.integers(min_value=1, max_value=50))
            if percent
            else draw(st.integers(min_value=1, max_value=5_000))
        )
        tiers = ((t1, off1),) if every else ((t1, off1), (t1 * 2, off1 + 1))
        out.append(
            p.TieredDiscount(
                "TM",
                "tm",
                tiers,
                START,
                END,
                draw(scopes),
                draw(st.none() | st.integers(min_value=0, max_value=3_000)),
                basis="units" if units else "amount",
                every=every,
                cap_fen=draw(st.none() | st.integers(min_value=0, max_value=5_000)),
                percent=percent,
            )
        )
    if draw(st.booleans()):
        out.append(
            p.BundlePrice(
                "B",
                "b",
                draw(st.integers(min_value=1, max_value=4)),
                draw(st.integers(min_value=0, max_value=30_000)),
                START,
                END,
                draw(scopes),
            )
        )
    if draw(st.booleans()):
        out.append(
            p.AddOnPrice(
                "A",
                "a",
                draw(st.sampled_from(SKUS)),
                draw(st.integers(min_value=0, max_value=5_000)),
                draw(st.integers(min_value=0, max_value=3)),
                draw(st.integers(min_value=0, max_value=30_000)),
                START,
                END,
                draw(scopes),
            )
        )
    if draw(st.booleans()):
        out.append(
            p.GiftWithPurchase(
                "G",
                "g",
                draw(st.sampled_from(SKUS)),
                "gift",
                draw(st.integers(min_value=0, max_value=30_000)),
                draw(st.integers(min_value=1, max_value=3_000)),
                START,
                END,
                units=draw(st.integers(min_value=1, max_value=2)),
                in_stock=draw(st.booleans()),
                scope=draw(scopes),
            )
        )
    return out


# Discounts on the order, not on lines: their allocation is all zeros.
OFF_LINE = ("free_delivery", "gift")

costs = st.none() | st.dictionaries(
    st.sampled_from(SKUS), st.integers(min_value=0, max_value=15_000), max_size=4
)
deliveries = st.builds(
    DeliveryRule,
    st.integers(min_value=0, max_value=1_000),
    st.none() | st.integers(min_value=0, max_value=30_000),
)


def run(lines, coupons, promotions, cost, delivery, chosen=None):
    return p.evaluate(
        lines,
        store_id="s1",
        now=NOW,
        fulfilment="delivery",
        delivery=delivery,
        minimum_order_fen=0,
        coupons=coupons,
        promotions=promotions,
        chosen_coupon_ids=chosen,
        costs=cost,
    )


@settings(max_examples=300, deadline=None)
@given(carts(), coupon_lists(), promotion_lists(), costs, deliveries)
def test_totals_discounts_and_allocations_are_sound(lines, coupons, promotions, cost, delivery):
    co = run(lines, coupons, promotions, cost, delivery)
    priced = co.priced
    assert priced.total_fen >= 0
    assert priced.delivery_fee_fen >= 0
    goods = priced.subtotal_fen - priced.discount_fen
    assert goods >= 0
    assert sum(pl.paid_fen for pl in priced.lines) == goods
    assert priced.total_fen == goods + priced.delivery_fee_fen
    assert all(0 <= pl.discount_fen <= pl.line.amount_fen for pl in priced.lines)
    for a in co.applied:
        assert 0 < a.amount_fen <= a.base_fen
        assert all(share >= 0 for share in a.allocation)
        assert sum(a.allocation) == (0 if a.kind in OFF_LINE else a.amount_fen)
    goods_discounts = [a for a in co.applied if a.kind not in OFF_LINE]
    for i, pl in enumerate(priced.lines):
        assert pl.discount_fen == sum(a.allocation[i] for a in goods_discounts)
    assert sum(a.amount_fen for a in goods_discounts) == priced.discount_fen
    for v in co.coupon_verdicts:
        assert v.discount_fen >= 0
        assert v.applies == (v.reason is None)


@settings(max_examples=300, deadline=None)
@given(carts(), coupon_lists(), promotion_lists(), costs, deliveries)
def test_the_suggestion_is_never_worse_than_any_single_coupon(
    lines, coupons, promotions, cost, delivery
):
    best = run(lines, coupons, promotions, cost, delivery)
    for c in coupons:
        alone = run(lines, coupons, promotions, cost, delivery, chosen=[c.coupon_id])
        if not alone.rejected_coupon_ids:
            assert best.total_fen <= alone.total_fen
    none = run(lines, coupons, promotions, cost, delivery, chosen=[])
    assert best.total_fen <= none.total_fen


@settings(max_examples=300, deadline=None)
@given(carts(), coupon_lists(), promotion_lists(), costs, deliveries)
def test_the_suggestion_never_sells_below_cost_beyond_item_promotions(
    lines, coupons, promotions, cost, delivery
):
    co = run(lines, coupons, promotions, cost, delivery)
    for i, pl in enumerate(co.priced.lines):
        unit_cost = (cost or {}).get(pl.line.sku)
        order_level = sum(
            a.allocation[i] for a in co.applied if a.kind in ("tiered", "coupon", "bundle")
        )
        if unit_cost is not None and order_level:
            # an order-level discount on a line with a known cost keeps it at or above cost
            assert pl.paid_fen >= unit_cost * pl.line.qty


# --- random stacking policies (issue 18 item 1) --------------------------------------------

policies = st.builds(
    p.StackingPolicy,
    exclusive=st.booleans(),
    priority=st.sampled_from([0, 0, 1, 2]),
    not_with_tiered=st.booleans(),
    not_with_member_price=st.booleans(),
    stack_group=st.sampled_from([None, "store", "supplier"]),
    margin_floor=st.sampled_from(["refuse", "exclude"]),
)


@st.composite
def with_policies(draw, offers):
    """The offers, each with a random stacking policy (some keep the default)."""
    out = []
    for o in offers:
        # per-SKU prices and the new mechanics (add-on, bundle, gift) carry no policy
        if not hasattr(o, "stacking") or draw(st.booleans()):
            out.append(o)
        else:
            out.append(replace(o, stacking=draw(policies)))
    return out


class _Member:
    def __init__(self, prices):
        self.prices = prices

    def unit_price(self, sku):
        return self.prices.get(sku)


member_prices = st.none() | st.builds(
    _Member, st.dictionaries(st.sampled_from(SKUS), st.integers(0, 20_000), max_size=3)
)


def _policy(co, a, coupons, promotions):
    for x in (*coupons, *promotions):
        ident = x.coupon_id if isinstance(x, p.CouponOffer) else x.promotion_id
        if ident == a.source_id:
            return getattr(x, "stacking", p.DEFAULT_POLICY)
    return p.DEFAULT_POLICY


@settings(max_examples=300, deadline=None)
@given(
    carts(),
    coupon_lists().flatmap(with_policies),
    promotion_lists().flatmap(with_policies),
    costs,
    deliveries,
    member_prices,
)
def test_random_stacking_policies_keep_every_rule(
    lines, coupons, promotions, cost, delivery, members
):
    co = p.evaluate(
        lines,
        store_id="s1",
        now=NOW,
        fulfilment="delivery",
        delivery=delivery,
        minimum_order_fen=0,
        coupons=coupons,
        promotions=promotions,
        costs=cost,
        member_prices=members,
    )
    priced = co.priced
    goods = priced.subtotal_fen - priced.discount_fen
    assert priced.total_fen >= 0 and goods >= 0
    assert sum(pl.paid_fen for pl in priced.lines) == goods
    assert all(0 <= pl.discount_fen <= pl.line.amount_fen for pl in priced.lines)
    off_lines = ("free_delivery", "gift")  # on the order, not on lines
    goods_discounts = [a for a in co.applied if a.kind not in off_lines]
    for a in co.applied:
        assert 0 < a.amount_fen <= a.base_fen
        assert sum(a.allocation) == (0 if a.kind in off_lines else a.amount_fen)
    for i, pl in enumerate(priced.lines):
        assert pl.discount_fen == sum(a.allocation[i] for a in goods_discounts)
    for v in co.coupon_verdicts:
        assert v.applies == (v.reason is None)
    # an exclusive discount is alone but for per-SKU prices (flash, fixed, add-on, bundle),
    # member prices, gifts and free delivery: those carry no stacking policy
    passes = {"flash", "fixed_price", "member_price", "free_delivery", "add_on", "bundle", "gift"}
    stacking = [a for a in co.applied if a.kind not in passes]
    if any(_policy(co, a, coupons, promotions).exclusive for a in stacking):
        assert len(stacking) == 1
    # two goods coupons only in different stack groups
    goods_coupons = [a for a in co.applied if a.kind == "coupon"]
    assert len(goods_coupons) <= 2
    if len(goods_coupons) == 2:
        g1, g2 = (_policy(co, a, coupons, promotions).stack_group for a in goods_coupons)
        assert g1 is not None and g2 is not None and g1 != g2
    # a coupon not with 满减 is never beside one
    if any(a.kind == "tiered" for a in co.applied):
        assert not any(_policy(co, a, coupons, promotions).not_with_tiered for a in goods_coupons)
    # order-level discounts never take a line with a known cost below it (either mode)
    for i, pl in enumerate(priced.lines):
        unit_cost = (cost or {}).get(pl.line.sku)
        order_level = sum(a.allocation[i] for a in co.applied if a.kind in ("tiered", "coupon"))
        if unit_cost is not None and order_level:
            assert pl.paid_fen >= unit_cost * pl.line.qty
