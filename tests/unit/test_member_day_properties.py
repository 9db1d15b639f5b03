"""Property tests of member-day prices in the pricing engine (issue 15 item 6), the
engine's own properties extended: whatever the cart, promotions, coupons, level price and
member days, totals are never negative, no discount exceeds its base, allocations add up,
and per line the member saving is exactly the best single member price (level or member
day), never two stacked; the order's multiplier is the highest of the day's."""

from dataclasses import replace
from fractions import Fraction

from chalicelib.checkout import member_benefits
from chalicelib.checkout import promotion_engine as p
from chalicelib.loyalty.programme_schemas import Level, LevelsSettings
from chalicelib.promotions import member_day as md
from chalicelib.promotions.service import MemberDay
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_promotions_properties import (
    NOW,
    OFF_LINE,
    SKUS,
    carts,
    costs,
    coupon_lists,
    deliveries,
    promotion_lists,
)

ON = md.Recurrence(
    "monthly",
    (md.local_day(NOW).day,),
    1,
    "2026-01-01T00:00:00Z",
    "2027-01-01T00:00:00Z",
)
OFF = md.Recurrence("monthly", ((md.local_day(NOW).day % 28) + 1,), 1, ON.starts_at, ON.ends_at)


@st.composite
def member_days(draw):
    out = []
    for i in range(draw(st.integers(min_value=0, max_value=3))):
        out.append(
            MemberDay(
                f"md{i}",
                f"会员日{i}",
                draw(st.sampled_from([ON, ON, OFF])),
                draw(st.sampled_from(["members", "level", "segment"])),
                draw(st.sampled_from(["V1", "V2"])),
                draw(st.none() | st.integers(min_value=1, max_value=90)),
                draw(st.frozensets(st.sampled_from(["fruit", "dairy"]), max_size=2)),
                draw(st.frozensets(st.sampled_from(SKUS), max_size=2)),
                tuple(
                    draw(
                        st.dictionaries(
                            st.sampled_from(SKUS),
                            st.integers(min_value=1, max_value=25_000),
                            max_size=3,
                        )
                    ).items()
                ),
                draw(st.none() | st.sampled_from(["1.5", "2", "3"])),
                (),
            )
        )
    return out


levels = st.builds(
    lambda code, permille: Level(
        code=code, name="x", threshold=0 if code == "V1" else 100, discount_permille=permille
    ),
    st.sampled_from(["V1", "V2"]),
    st.integers(min_value=500, max_value=1000),
)
SETTINGS = LevelsSettings(
    levels=[Level(code="V1", name="a", threshold=0), Level(code="V2", name="b", threshold=100)]
)


@settings(max_examples=300, deadline=None)
@given(carts(), coupon_lists(), promotion_lists(), costs, deliveries, levels, member_days())
def test_member_day_prices_are_sound_and_never_stack(
    lines, coupons, promotions, cost, delivery, level, days
):
    # one price per SKU in a cart, as the store item gives it
    first = {}
    lines = [replace(x, unit_price_fen=first.setdefault(x.sku, x.unit_price_fen)) for x in lines]
    on = member_benefits.member_days_for(days, level, SETTINGS, NOW)
    assert all(d.recurrence == ON and d.audience != "segment" for d in on)
    prices = member_benefits.member_day_prices(lines, on)
    benefits = member_benefits.combine(
        {line.sku: line.unit_price_fen for line in lines}, level, None, prices
    )
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
        member_prices=benefits,
        points_multipliers=member_benefits.points_multipliers(on),
    )
    priced = co.priced
    assert priced.total_fen >= 0
    goods = priced.subtotal_fen - priced.discount_fen
    assert goods >= 0 and sum(pl.paid_fen for pl in priced.lines) == goods
    assert all(0 <= pl.discount_fen <= pl.line.amount_fen for pl in priced.lines)
    for a in co.applied:
        assert 0 < a.amount_fen <= a.base_fen
        assert sum(a.allocation) == (0 if a.kind in OFF_LINE else a.amount_fen)
    for price, code, _ in prices.values():
        assert price > 0 and code.startswith("member_day:")
    member = [a for a in co.applied if a.kind == "member_price"]
    flash_units = {f.sku: f.units for f in co.flash_units}
    for i, pl in enumerate(priced.lines):
        unit = pl.line.unit_price_fen
        best = min(
            [unit, level_price(level, unit)]
            + ([prices[pl.line.sku][0]] if pl.line.sku in prices else [])
        )
        saved = sum(a.allocation[i] for a in member)
        if not flash_units.get(pl.line.sku):
            assert saved == (unit - best) * pl.line.qty  # the best single option, not a sum
    want = max((Fraction(d.points_multiplier) for d in on if d.points_multiplier), default=None)
    got = co.points_multiplier
    assert (None if got is None else Fraction(got.multiplier)) == want


def level_price(level, unit):
    from chalicelib.loyalty.levels import LevelPrices

    got = LevelPrices(level.discount_permille, {"x": unit}).unit_price("x")
    return unit if got is None else got


def test_a_day_off_the_recurrence_or_a_non_member_gets_nothing():
    d = MemberDay("m", "m", OFF, "members", None, 10, frozenset(), frozenset(), (), "2", ())
    assert (
        member_benefits.member_days_for([d], Level(code="V1", name="a", threshold=0), SETTINGS, NOW)
        == []
    )
    on = MemberDay("m", "m", ON, "members", None, 10, frozenset(), frozenset(), (), "2", ())
    assert member_benefits.member_days_for([on], None, None, NOW) == []
