"""Property tests on money: allocations are exact, refunds never exceed what was paid."""

import pytest
from chalicelib.checkout.pricing import CartLine, DeliveryRule, Discount, price
from chalicelib.kernel.money import allocate, percent_off, refund_for_units, yuan
from hypothesis import given
from hypothesis import strategies as st

amounts = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=40)


@given(amounts, st.data())
def test_allocation_sums_exactly_and_stays_within_each_line(weights, data):
    if sum(weights) == 0:
        return
    total = data.draw(st.integers(min_value=0, max_value=sum(weights)))
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))
    # Proportional to within one fen of the exact share.
    for s, w in zip(shares, weights, strict=True):
        assert abs(s * sum(weights) - total * w) < sum(weights)


def test_allocation_is_deterministic_and_ties_go_to_earlier_lines():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(2000, [5000, 3000, 2000]) == [1000, 600, 400]
    assert allocate(0, [1, 2]) == [0, 0]
    with pytest.raises(ValueError):
        allocate(-1, [1])


@given(
    st.integers(min_value=0, max_value=1_000_000), st.integers(min_value=1, max_value=60), st.data()
)
def test_refunding_units_piecewise_returns_exactly_what_was_paid(paid, units, data):
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=units), max_size=5)))
    done, refunded = 0, 0
    for cut in [*cuts, units]:
        step = refund_for_units(paid, units, done, cut - done)
        assert step >= 0
        refunded += step
        done = cut
        assert refunded <= paid
    assert refunded == paid


def test_cannot_refund_more_units_than_bought():
    with pytest.raises(ValueError):
        refund_for_units(1000, 3, 2, 2)


def test_percent_off_rounds_down_to_the_fen():
    assert percent_off(999, 1250) == 124  # 12.5 % of ¥9.99 is 124.875 fen
    assert yuan(1290) == "¥12.90" and yuan(5) == "¥0.05" and yuan(-150) == "-¥1.50"


def line(sku, price_fen, qty):
    return CartLine(sku, f"商品{sku}", "个", "水果", "柑橘", None, None, True, price_fen, qty)


class FixedDiscount:
    def __init__(self, amount):
        self.amount = amount

    def discounts(self, lines, subtotal_fen):
        return [Discount("TEST", "测试优惠", self.amount)]


@given(
    st.lists(st.tuples(st.integers(1, 100_000), st.integers(1, 50)), min_size=1, max_size=20),
    st.integers(min_value=0, max_value=10_000_000),
    st.sampled_from(["delivery", "pickup"]),
)
def test_priced_totals_are_never_negative_and_add_up(specs, discount, fulfilment):
    lines = [line(str(i), p, q) for i, (p, q) in enumerate(specs)]
    priced = price(
        lines,
        fulfilment=fulfilment,
        delivery=DeliveryRule(500, 5900),
        minimum_order_fen=2000,
        rules=[FixedDiscount(discount)],
    )
    assert priced.discount_fen <= priced.subtotal_fen  # no discount above its base
    assert sum(pl.discount_fen for pl in priced.lines) == priced.discount_fen
    assert all(pl.paid_fen >= 0 for pl in priced.lines)
    assert priced.total_fen == sum(pl.paid_fen for pl in priced.lines) + priced.delivery_fee_fen
    assert priced.total_fen >= 0
    if fulfilment == "pickup":
        assert priced.delivery_fee_fen == 0 and priced.shortfall_fen == 0


def test_delivery_fee_and_minimum_order():
    rule = DeliveryRule(base_fee_fen=500, free_above_fen=5900)
    small = price(
        [line("1", 1000, 1)], fulfilment="delivery", delivery=rule, minimum_order_fen=2000
    )
    assert (small.delivery_fee_fen, small.total_fen, small.shortfall_fen) == (500, 1500, 1000)
    big = price([line("1", 3000, 2)], fulfilment="delivery", delivery=rule, minimum_order_fen=2000)
    assert (big.delivery_fee_fen, big.total_fen, big.shortfall_fen) == (0, 6000, 0)
