"""Add-on suggestions (zones/rules.py): the exact cheapest combinations that close a gap,
and the engine's fixed-price zone price and next tier (checkout/promotion_engine.py)."""

from datetime import UTC, datetime, timedelta
from itertools import combinations_with_replacement

from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.zones import rules as r
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=1), NOW + timedelta(days=1)
FEE = DeliveryRule(base_fee_fen=600, free_above_fen=None)


def item(sku: str, price: int, stock: int = 10, pos: int = 0) -> r.ZoneItem:
    return r.ZoneItem(sku, price, stock, pos)


def units(s: r.Suggestion) -> list[tuple[str, int]]:
    return list(s.units)


# --- the search ------------------------------------------------------------------------


def test_cheapest_combination_first_then_fewer_units():
    items = [item("a", 300, pos=0), item("b", 500, pos=1), item("c", 800, pos=2)]
    got = r.suggest(items, 800)
    # a+b = 800 ties c = 800: fewer units first; then a x2 + ... (a+a+a = 900 is not minimal?
    # dropping one a leaves 600 < 800: minimal) and a+c, b+b = 1000
    assert [(units(s), s.total_fen) for s in got] == [
        ([("c", 1)], 800),
        ([("a", 1), ("b", 1)], 800),
        ([("a", 3)], 900),
    ]


def test_out_of_stock_excluded_and_stock_bounds_repeats():
    items = [item("a", 300, stock=1), item("b", 900, stock=0, pos=1), item("c", 1000, pos=2)]
    got = r.suggest(r.eligible(items), 800)
    # b is out of stock; a cannot be taken 3 times with one unit in stock
    assert [(units(s), s.total_fen) for s in got] == [([("c", 1)], 1000)]
    assert "b" not in {sku for s in got for sku, _ in s.units}


def test_nothing_closes_the_gap():
    items = [item("a", 100), item("b", 200, pos=1)]
    assert r.suggest(items, 601) == []
    assert r.suggest(items, 0) == []
    assert r.suggest([], 100) == []


def test_only_minimal_combinations():
    # c alone reaches 500: c with anything else is never suggested
    items = [item("a", 100), item("c", 500, pos=1)]
    got = r.suggest(items, 500, k=10)
    assert all(not (len(s.units) > 1 and "c" in dict(s.units)) for s in got)


def test_scope_respected_by_eligible():
    items = [item("in", 400), item("out", 100, pos=1)]
    got = r.suggest(r.eligible(items, lambda i: i.sku == "in"), 350)
    assert [units(s) for s in got] == [[("in", 1)]]


def test_free_delivery_gap():
    assert r.free_delivery_gap(None, 100) is None
    assert r.free_delivery_gap(3000, 2500) == 500
    assert r.free_delivery_gap(3000, 3500) == 0


def _brute(items: list[r.ZoneItem], gap: int, k: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """Every minimal multiset of 1-3 units within stock, ranked as suggest() ranks them."""
    keys = []
    for n in (1, 2, 3):
        for combo in combinations_with_replacement(range(len(items)), n):
            if any(items[i].stock < combo.count(i) for i in set(combo)):
                continue
            prices = [items[i].price_fen for i in combo]
            total = sum(prices)
            if total < gap or total - min(prices) >= gap:
                continue
            keys.append((total, n, tuple(sorted(items[i].position for i in combo))))
    return sorted(keys)[:k]


@settings(max_examples=500, deadline=None)
@given(
    prices=st.lists(st.integers(1, 60), min_size=0, max_size=9),
    stocks=st.lists(st.integers(0, 3), min_size=9, max_size=9),
    gap=st.integers(1, 200),
    k=st.integers(1, 4),
)
def test_property_every_suggestion_closes_the_gap_and_none_cheaper_exists(prices, stocks, gap, k):
    items = [item(f"s{i}", price, stocks[i], pos=i) for i, price in enumerate(prices)]
    pool = r.eligible(items)
    got = r.suggest(pool, gap, k=k)
    for s in got:
        assert s.total_fen >= gap
        assert 1 <= s.count <= r.MAX_UNITS
        by = {i.sku: i for i in pool}
        assert sum(by[x].price_fen * q for x, q in s.units) == s.total_fen
        assert all(by[x].stock >= q for x, q in s.units)
    # exactly the best k of the whole bounded space, in its order
    expected = _brute(pool, gap, k)
    pos = {i.sku: i.position for i in pool}
    keys = [
        (s.total_fen, s.count, tuple(sorted(pos[x] for x, q in s.units for _ in range(q))))
        for s in got
    ]
    assert keys == expected  # ties: fewer units, then the zone's order


# --- the engine: fixed price and next tier ----------------------------------------------


def line(sku: str, unit_fen: int, qty: int, c1: str = "fruit") -> CartLine:
    return CartLine(sku, sku, "pc", c1, "x", None, None, False, unit_fen, qty)


def run(lines, **kw) -> p.Checkout:
    kw.setdefault("store_id", "s1")
    kw.setdefault("now", NOW)
    kw.setdefault("fulfilment", "delivery")
    kw.setdefault("delivery", FEE)
    kw.setdefault("minimum_order_fen", 0)
    return p.evaluate(lines, **kw)


def fixed(sku: str, price: int, allowed: int = 10**6, **kw) -> p.FixedPrice:
    return p.FixedPrice("Z1", "9.9元专区", sku, price, allowed, START, END, **kw)


def test_fixed_price_is_its_own_discount_within_the_units_allowed():
    co = run([line("a", 2990, 3)], promotions=[fixed("a", 990, allowed=2)])
    a = next(x for x in co.applied if x.kind == "fixed_price")
    assert a.code == "fixed_price:Z1" and a.amount_fen == 2 * 2000
    assert co.total_fen == 2 * 990 + 2990 + 600
    assert [(u.sku, u.units) for u in co.fixed_units] == [("a", 2)]
    assert co.flash_units == ()


def test_fixed_price_outside_window_or_other_store_does_not_apply():
    late = p.FixedPrice("Z1", "z", "a", 990, 5, END, END + timedelta(days=1))
    other = fixed("a", 990, stores=frozenset({"s2"}))
    co = run([line("a", 2990, 1)], promotions=[late, other])
    assert co.applied == () and co.total_fen == 2990 + 600


def test_fixed_price_and_flash_never_combine_the_lower_wins():
    flash = p.FlashPrice("F1", "flash", "a", 890, 5, START, END)
    co = run([line("a", 2990, 1)], promotions=[flash, fixed("a", 990)])
    assert [x.kind for x in co.applied] == ["flash"]
    flash = p.FlashPrice("F1", "flash", "a", 1990, 5, START, END)
    co = run([line("a", 2990, 1)], promotions=[flash, fixed("a", 990)])
    assert [x.kind for x in co.applied] == ["fixed_price"]


def test_fixed_price_respects_the_margin_floor():
    co = run([line("a", 2990, 1)], promotions=[fixed("a", 990)], costs={"a": 1200})
    assert co.applied == ()
    assert any("below cost" in n for n in co.notes)


def test_fixed_price_units_are_left_out_of_the_tiered_base():
    t = p.TieredDiscount("P1", "满50减5", ((5000, 500),), START, END)
    co = run([line("a", 2990, 2), line("b", 3000, 1)], promotions=[t, fixed("a", 990)])
    assert not any(x.kind == "tiered" for x in co.applied)  # base is b only: 3000
    assert co.next_tier is not None and co.next_tier.base_fen == 3000
    assert co.next_tier.gap_fen == 2000


def test_fixed_price_spends_its_campaign():
    co = run(
        [line("a", 2990, 1)],
        promotions=[fixed("a", 990, campaign_id="C1")],
        campaigns={"C1": 10_000},
    )
    assert p.campaign_spend(co.applied) == {"C1": 2000}
    co = run([line("a", 2990, 1)], promotions=[fixed("a", 990, campaign_id="C1")], campaigns={})
    assert co.applied == ()  # the campaign is not spending


def test_next_tier_of_the_applied_and_at_the_top():
    t = p.TieredDiscount("P1", "满", ((5000, 500), (10000, 1500)), START, END)
    co = run([line("a", 6000, 1)], promotions=[t])
    assert co.next_tier is not None
    assert (co.next_tier.threshold_fen, co.next_tier.off_fen, co.next_tier.gap_fen) == (
        10000,
        1500,
        4000,
    )
    assert run([line("a", 12000, 1)], promotions=[t]).next_tier is None


def test_next_tier_without_an_applied_one_is_the_closest_in_scope():
    far = p.TieredDiscount("P1", "far", ((9000, 900),), START, END)
    near = p.TieredDiscount(
        "P2", "near", ((4000, 300),), START, END, scope=p.Scope(categories=frozenset({"veg"}))
    )
    co = run([line("a", 3000, 1, "fruit"), line("b", 1000, 1, "veg")], promotions=[far, near])
    assert co.next_tier is not None and co.next_tier.promotion_id == "P2"
    assert co.next_tier.base_fen == 1000 and co.next_tier.gap_fen == 3000
