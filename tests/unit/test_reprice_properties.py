"""Returns re-price honestly (issue 18 item 2): the worked cases of docs/promotions.md,
and properties over random carts, promotions, policies and return sequences: a refund is
never negative, refunds never add up to more than was paid, a proportional discount
refunds each unit's paid share unchanged, and a re-evaluated one refunds exactly what
was paid less what the units still held would cost priced afresh (when that is less
than their paid share), the customer never asked to pay back."""

from datetime import UTC, datetime, timedelta

from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout import reprice
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.kernel.money import refund_for_units
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 5, 1, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)
FREE = DeliveryRule(0, None)


def line(sku: str, unit: int, qty: int) -> CartLine:
    return CartLine(sku, sku, "pc", "fruit", "x", None, None, False, unit, qty)


def price(lines, promotions=(), coupons=(), chosen=None):
    return p.evaluate(
        lines,
        store_id="s1",
        now=NOW,
        fulfilment="delivery",
        delivery=FREE,
        minimum_order_fen=0,
        promotions=promotions,
        coupons=coupons,
        chosen_coupon_ids=chosen,
    )


def sources_of(co, promotions, coupons, lines):
    """Every applied discount re-evaluated, with its rule (as checkout/service does)."""
    out = {}
    for promo in promotions:
        covers = tuple(promo.scope.covers(x) for x in lines)
        if isinstance(promo, p.TieredDiscount):
            out[f"tiered:{promo.promotion_id}"] = reprice.Source(tiers=promo.tiers, covers=covers)
        else:
            out[f"second_half:{promo.promotion_id}"] = reprice.Source(covers=covers)
    for c in coupons:
        out[f"coupon:{c.coupon_id}"] = reprice.Source(
            threshold_fen=c.threshold_fen,
            amount_off_fen=c.amount_off_fen if c.kind == "amount_off" else 0,
            percent_off=c.percent_off if c.kind == "percent_off" else 0,
            cap_fen=c.cap_fen,
            covers=tuple(c.scope.covers(x) for x in lines),
        )
    return out


class Order:
    """An order's refund accounting as orders/refunds.py keeps it."""

    def __init__(self, lines, promotions=(), coupons=(), policy=reprice.REEVALUATE):
        self.lines = lines
        self.co = price(lines, promotions, coupons, [c.coupon_id for c in coupons] or None)
        self.paid = [pl.paid_fen for pl in self.co.priced.lines]
        self.rules = []
        if policy == reprice.REEVALUATE:
            self.rules = reprice.snapshot(
                self.co.applied,
                [x.qty for x in lines],
                [x.amount_fen for x in lines],
                [0] * len(lines),
                sources_of(self.co, promotions, coupons, lines),
            )
        self.refunded = [0] * len(lines)
        self.clawed = 0
        self.total_refunded = 0

    def ret(self, units: dict[int, int]) -> tuple[int, int]:
        """(refund, paid share of the units) of returning ``units``."""
        share = 0
        for i, n in units.items():
            share += refund_for_units(self.paid[i], self.lines[i].qty, self.refunded[i], n)
            self.refunded[i] += n
        held = {i: reprice.Held(x.qty, 0, self.refunded[i]) for i, x in enumerate(self.lines)}
        refund, self.clawed = reprice.step(share, reprice.target(self.rules, held), self.clawed)
        self.total_refunded += refund
        return refund, share


def test_tiered_199_minus_30_four_units_return_three():
    # 4 x ¥50 = ¥200 reaches 满199减30: paid ¥170, ¥42.50 a unit
    promo = p.TieredDiscount("T", "满199减30", ((19900, 3000),), START, END)
    order = Order([line("A", 5000, 4)], [promo])
    assert order.paid == [17000]
    refund, share = order.ret({0: 3})
    # the kept unit (¥50) no longer reaches 199: it carried ¥7.50 of the ¥30
    assert share == 12750
    assert refund == 12750 - (3000 - 0 - 2250) == 12000
    assert order.clawed == 750
    # returning the last unit gives the deduction back: everything paid is refunded
    refund, share = order.ret({0: 1})
    assert (refund, share) == (5000, 4250)
    assert order.total_refunded == 17000 and order.clawed == 0


def test_tiered_proportional_keeps_todays_refunds():
    promo = p.TieredDiscount("T", "满199减30", ((19900, 3000),), START, END)
    order = Order([line("A", 5000, 4)], [promo], policy=reprice.PROPORTIONAL)
    assert order.rules == []
    assert order.ret({0: 3}) == (12750, 12750)


def test_second_item_half_price_return_one_of_the_pair():
    # ¥10 + ¥5: the pair paid ¥15, ¥7.50 a unit
    promo = p.SecondItemHalfPrice("H", "第二件半价", START, END)
    order = Order([line("A", 1000, 2)], [promo])
    refund, share = order.ret({0: 1})
    # the unit kept is at full price: ¥10 kept paid, ¥5 back
    assert (refund, share) == (500, 750)
    assert order.total_refunded == 500


def test_successive_partial_returns_deduct_the_loss_once():
    # 满199减30 over 5 units of ¥50 (¥250 - ¥30 = ¥220, ¥44 a unit)
    promo = p.TieredDiscount("T", "满199减30", ((19900, 3000),), START, END)
    order = Order([line("A", 5000, 5)], [promo])
    assert order.ret({0: 1}) == (4400, 4400)  # 4 x ¥50 still reach 199: nothing lost
    refund, _ = order.ret({0: 1})  # 3 x ¥50 = 150: ¥30 lost, the 3 units carried ¥18
    assert refund == 4400 - 1800
    refund, _ = order.ret({0: 1})  # nothing more lost: 2 units carry ¥12, owed ¥12
    assert refund == 4400 + 600  # the third unit's ¥6 share of the deduction comes back
    assert order.clawed == 1200
    assert order.total_refunded == 22000 - 2 * 5000  # kept 2 units at full price


def test_never_below_zero_the_rest_owed_to_the_next_return():
    # ¥190 + ¥10 = ¥200 - ¥30: returning the ¥10 item leaves ¥190, below 199: the ¥30
    # is lost but the ¥10 item's paid share (¥8.50) is all that can be deducted
    promo = p.TieredDiscount("T", "满199减30", ((19900, 3000),), START, END)
    order = Order([line("A", 19000, 1), line("B", 1000, 1)], [promo])
    assert order.paid == [16150, 850]
    assert order.ret({1: 1}) == (0, 850)
    assert order.clawed == 850
    assert order.ret({0: 1}) == (17000, 16150)  # and the ¥8.50 comes back: ¥170 in all
    assert order.total_refunded == 17000


def test_coupon_with_a_threshold_reevaluated():
    c = p.CouponOffer("C1", "T1", "满100减20", "amount_off", START, END, 10000, 2000)
    order = Order([line("A", 3000, 4)], coupons=[c])  # ¥120 - ¥20 = ¥100
    refund, share = order.ret({0: 2})  # ¥60 kept: below 100
    assert share == 5000 and refund == 5000 - 1000
    assert order.total_refunded == 10000 - 6000


# --- properties ---------------------------------------------------------------------


@st.composite
def cases(draw):
    n = draw(st.integers(min_value=1, max_value=3))
    lines = [
        line(
            "ABC"[i],
            draw(st.integers(min_value=1, max_value=20_000)),
            draw(st.integers(min_value=1, max_value=5)),
        )
        for i in range(n)
    ]
    scope = p.Scope(skus=draw(st.frozensets(st.sampled_from("ABC"), max_size=2)))
    kind = draw(st.sampled_from(["tiered", "half", "amount_off", "percent_off"]))
    promotions, coupons = [], []
    if kind == "tiered":
        a = draw(st.integers(min_value=100, max_value=40_000))
        b = draw(st.integers(min_value=a + 1, max_value=80_000))
        tiers = ((a, draw(st.integers(1, a))), (b, draw(st.integers(1, b))))
        promotions.append(p.TieredDiscount("T", "t", tiers, START, END, scope))
    elif kind == "half":
        promotions.append(p.SecondItemHalfPrice("H", "h", START, END, scope))
    else:
        coupons.append(
            p.CouponOffer(
                "C",
                "TT",
                "c",
                kind,
                START,
                END,
                threshold_fen=draw(st.integers(min_value=0, max_value=60_000)),
                amount_off_fen=draw(st.integers(min_value=1, max_value=20_000)),
                percent_off=draw(st.integers(min_value=1, max_value=99)),
                cap_fen=draw(st.none() | st.integers(min_value=1, max_value=5_000)),
                scope=scope,
            )
        )
    policy = draw(st.sampled_from(reprice.POLICIES))
    # a sequence of returns, each of some units of some lines
    left = [x.qty for x in lines]
    steps = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        units = {}
        for i in range(n):
            k = draw(st.integers(min_value=0, max_value=left[i]))
            if k:
                units[i] = k
                left[i] -= k
        if units:
            steps.append(units)
    return lines, promotions, coupons, policy, steps


def fresh_cost(order: Order, promotions, coupons) -> int:
    """What the units still held would cost priced afresh with the same promotions."""
    kept = [
        line(x.sku, x.unit_price_fen, x.qty - r)
        for x, r in zip(order.lines, order.refunded, strict=True)
        if x.qty - r > 0
    ]
    if not kept:
        return 0
    co = price(kept, promotions, coupons, [c.coupon_id for c in coupons] or None)
    return sum(pl.paid_fen for pl in co.priced.lines)


@settings(max_examples=400, deadline=None)
@given(cases())
def test_refunds_never_above_paid_and_reevaluated_refunds_exact(case):
    lines, promotions, coupons, policy, steps = case
    order = Order(lines, promotions, coupons, policy)
    paid = sum(order.paid)
    returned_share = 0
    for units in steps:
        before = order.total_refunded
        refund, share = order.ret(units)
        returned_share += share
        assert refund >= 0
        assert order.total_refunded <= paid
        if policy == reprice.PROPORTIONAL:
            assert refund == share  # today's rule, unchanged
        else:
            fair = min(returned_share, paid - fresh_cost(order, promotions, coupons))
            assert order.total_refunded == max(before, fair)
    if all(r == x.qty for r, x in zip(order.refunded, lines, strict=True)):
        assert order.total_refunded == paid  # everything back: everything paid


def test_a_shortage_never_reevaluates_and_counts_as_held_for_a_later_return():
    # 满199减30 on 4 x ¥50; the store finds only 2: the two missing units are refunded
    # at their paid share (¥42.50 each) and still count toward the threshold
    promo = p.TieredDiscount("T", "满199减30", ((19900, 3000),), START, END)
    order = Order([line("A", 5000, 4)], [promo])
    short = {0: reprice.Held(4, 2, 2)}
    assert reprice.target(order.rules, short) == 0
    # a return of one delivered unit: 3 units held for the rule (¥150 < 199): the ¥30 is
    # lost; the unit kept carries ¥7.50 of it, deducted: it costs its ¥50
    after = {0: reprice.Held(4, 2, 3)}
    assert reprice.target(order.rules, after) == 750
    # 5 units, 1 short, 1 returned: 4 held for the rule (¥200) still reach 199
    order = Order([line("A", 5000, 5)], [promo])
    assert reprice.target(order.rules, {0: reprice.Held(5, 1, 2)}) == 0
