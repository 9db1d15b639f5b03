"""Promotion limits (issue 18 item 3) as plain rules: the engine never gives more
half-price units than ``per_order_units`` and leaves a promotion out with a note when
storage says its limit is used up; the counters' keys, the local day and week, the
new-customer rule and the address normalisation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import msgspec
from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.promotions import limits as lim
from chalicelib.promotions.limits_schemas import LimitsSpec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_promotions_properties import (
    END,
    START,
    carts,
    costs,
    coupon_lists,
    deliveries,
    promotion_lists,
    run,
)


def _half_units(co: p.Checkout, lines, code: str) -> int:
    """Units priced at half by the discount ``code`` (no member prices in these carts:
    each half-price unit takes unit_price // 2 off its line)."""
    a = next((a for a in co.applied if a.code == code), None)
    if a is None:
        return 0
    units = 0
    for line, share in zip(lines, a.allocation, strict=True):
        half = line.unit_price_fen // 2
        if share:
            assert share % half == 0
            units += share // half
    return units


@settings(max_examples=300, deadline=None)
@given(
    carts(),
    coupon_lists(),
    promotion_lists(),
    costs,
    deliveries,
    st.integers(min_value=1, max_value=6),
)
def test_the_engine_never_gives_more_half_price_units_than_per_order_units(
    lines, coupons, promotions, cost, delivery, cap
):
    capped = [p.SecondItemHalfPrice("HC", "hc", START, END, units_limit=cap)]
    capped += [x for x in promotions if not isinstance(x, p.SecondItemHalfPrice)]
    co = run(lines, coupons, capped, cost, delivery)
    assert _half_units(co, lines, "second_half:HC") <= cap
    assert co.priced.total_fen >= 0
    for a in co.applied:
        assert 0 <= a.amount_fen <= a.base_fen or a.kind == "free_delivery"
        # free delivery and gifts belong to the order, not to lines
        off_lines = a.kind in ("free_delivery", "gift")
        assert sum(a.allocation) == (0 if off_lines else a.amount_fen)
    # the cap only ever lowers the half-price discount, and is exact when it binds
    free = run(lines, coupons, [replace(capped[0], units_limit=None), *capped[1:]], cost, delivery)
    uncapped = _half_units(free, lines, "second_half:HC")
    assert _half_units(co, lines, "second_half:HC") == min(cap, uncapped) or any(
        "below cost" in n for n in co.notes
    )


def test_a_promotion_left_out_by_its_limit_is_not_applied_and_a_note_says_why():
    lines = [CartLine("A", "n", "pc", "fruit", "x", None, None, False, 1000, 3)]
    tiered = p.TieredDiscount("T1", "满30减3", ((3000, 300),), START, END)
    delivery = DeliveryRule(0, None)
    assert [a.source_id for a in run(lines, [], [tiered], None, delivery).applied] == ["T1"]
    left = p.evaluate(
        lines,
        store_id="s1",
        now=START + timedelta(hours=1),
        fulfilment="delivery",
        delivery=delivery,
        minimum_order_fen=0,
        promotions=[tiered],
        left_out={"T1": lim.LIMIT_REACHED},
    )
    assert left.applied == () and left.priced.total_fen == 3000
    assert left.notes == ("满30减3 left out: its limit is used up (limit_reached)",)


def test_counter_keys_per_customer_per_store_and_first_order():
    limits = lim.Limits(
        per_customer_per_day=1,
        per_customer_per_week=3,
        per_customer_per_campaign=5,
        per_store_per_day=100,
        first_order_only=True,
    )
    # 2026-12-06 23:30 in Shanghai is still Sunday 6 December: ISO week 49
    now = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
    assert lim.counter_keys("P1", limits, "c-1", "sh-a", now) == {
        "P1#s#sh-a#d20261206": 100,
        "P1#c#c-1#d20261206": 1,
        "P1#c#c-1#w2026W49": 3,
        "P1#c#c-1": 5,
        "first#c-1": 1,
    }
    # half an hour later it is Monday in Shanghai: a new day and a new week
    later = now + timedelta(minutes=31)
    assert lim.local_day(later) == "20261207" and lim.local_week(later) == "2026W50"
    # a guest's quote: only the store's counter
    assert lim.counter_keys("P1", limits, None, "sh-a", now) == {"P1#s#sh-a#d20261206": 100}
    assert lim.used_up({"k": 2}, {"k": 2}) and not lim.used_up({"k": 2}, {"k": 1})


def test_new_customers_are_registered_within_n_days_and_have_no_order():
    now = datetime(2026, 12, 5, tzinfo=UTC)
    new = lim.Limits(new_customers_only=7)
    first = lim.Limits(first_order_only=True)
    six_days = "2026-11-29T00:00:00Z"
    assert lim.is_new_customer(new, six_days, False, now) is None
    assert lim.is_new_customer(new, "2026-11-27T00:00:00Z", False, now) == lim.NEW_CUSTOMERS_ONLY
    assert lim.is_new_customer(new, six_days, True, now) == lim.NEW_CUSTOMERS_ONLY
    assert lim.is_new_customer(new, None, False, now) == lim.NEW_CUSTOMERS_ONLY
    assert lim.is_new_customer(first, None, False, now) is None
    assert lim.is_new_customer(first, None, True, now) == lim.FIRST_ORDER_ONLY
    assert lim.is_new_customer(lim.Limits(per_customer_per_day=1), None, True, now) is None


def test_addresses_written_differently_are_one_address():
    a = lim.normalise_address("上海市 南京西路1618号，2号楼 1201室")
    assert a == lim.normalise_address("上海市南京西路１６１８号2号楼1201室。")
    assert a != lim.normalise_address("上海市南京西路1619号2号楼1201室")
    fp = lim.fingerprints({"device", "address"}, "dev-1", "南京西路 1618号")
    assert set(fp) == {"device", "address"} and "南京" not in fp["address"]
    assert lim.fingerprints({"device"}, None, "x") == {}


def test_a_payment_account_is_a_third_fingerprint_kept_only_as_a_hash():
    fp = lim.fingerprints(
        {"device", "address", "payment"}, "dev-1", "南京西路 1618号", " oUpF8u-1 "
    )
    assert set(fp) == {"device", "address", "payment"}
    assert fp["payment"] == lim.payment_marker("oUpF8u-1") and "oUpF8u" not in fp["payment"]
    assert fp["payment"].startswith("fp#payment#") and fp["payment"] != fp["device"]
    # only where asked, and only when the storefront sent one
    assert "payment" not in lim.fingerprints({"device", "address"}, "d", "a", "oUpF8u-1")
    assert lim.fingerprints({"payment"}, None, None, None) == {}
    assert lim.fingerprints({"payment"}, None, None, "  ") == {}
    spec = msgspec.convert({"new_customers_only": 7, "one_per": ["payment"]}, LimitsSpec)
    assert lim.limits_errors("tiered", spec) == []
    assert lim.limits_of(lim.to_attribute(spec)).one_per == ("payment",)


def test_the_payment_callback_records_a_payer_only_for_a_new_customer_order_paid_by_another():
    """``payer_piece``: nothing for an ordinary order, a notice without a payer, or the
    payer declared at placing (its marker has the order already); otherwise an
    unconditional update of the payer's marker whose use is a set entry (a retried notice
    adds the same entry)."""
    declared = lim.payment_marker("openid-declared").rsplit("#", 1)[1]
    note = lim.NewCustomerUse("P-1", 300, declared).encode()
    assert lim.NewCustomerUse.decode(note) == lim.NewCustomerUse("P-1", 300, declared)
    assert lim.NewCustomerUse.decode(lim.NewCustomerUse("P-1", 300).encode()).declared_payer is None
    args = ("c-1", "O-1", "2026-12-05T02:00:00Z")
    assert lim.payer_piece(None, "openid-other", *args) is None
    assert lim.payer_piece(note, None, *args) is None
    assert lim.payer_piece(note, "openid-declared", *args) is None
    piece = lim.payer_piece(note, "openid-other", *args)
    assert piece is not None and piece.item.marker_key == lim.payment_marker("openid-other")
    assert "condition" not in piece.kwargs  # money captured is never refused
    again = lim.payer_piece(note, "openid-other", *args)
    assert str(piece.kwargs["actions"][3].values) == str(again.kwargs["actions"][3].values)
    assert "O-1|c-1|300|P-1|2026-12-05T02:00:00Z" in str(piece.kwargs["actions"][3].values)


def test_limits_errors_by_kind():
    spec = msgspec.convert({"per_order_units": 2}, LimitsSpec)
    assert lim.limits_errors("second_half_price", spec) == []
    assert [e["field"] for e in lim.limits_errors("tiered", spec)] == ["limits.per_order_units"]
    # add-on units and bundles take a per-order cap; a gift is once per order already
    assert lim.limits_errors("add_on", spec) == lim.limits_errors("bundle", spec) == []
    assert [e["field"] for e in lim.limits_errors("gift", spec)] == ["limits.per_order_units"]
    daily = msgspec.convert({"per_customer_per_day": 1}, LimitsSpec)
    assert all(lim.limits_errors(k, daily) == [] for k in ("add_on", "gift", "bundle"))
    assert [e["field"] for e in lim.limits_errors("flash_sale", spec)] == ["limits"]
    abuse = msgspec.convert({"one_per": ["device"]}, LimitsSpec)
    assert [e["field"] for e in lim.limits_errors("tiered", abuse)] == ["limits.one_per"]
    assert lim.to_attribute(LimitsSpec()) is None


@settings(max_examples=300, deadline=None)
@given(
    carts(),
    coupon_lists(),
    promotion_lists(),
    costs,
    deliveries,
    st.integers(min_value=2, max_value=3),
    st.integers(min_value=0, max_value=3),
)
def test_a_bundle_cap_never_makes_more_bundles_than_per_order_units(
    lines, coupons, promotions, cost, delivery, size, cap
):
    """``per_order_units`` on a bundle (``max_bundles``): the capped bundle discount is
    never above the uncapped one and never above ``cap`` bundles' worth; a cap of 0
    makes none. (Capped, a bundle may apply where the uncapped ones would sell a line
    below cost: fewer bundles, less off.)"""
    others = [x for x in promotions if not isinstance(x, p.BundlePrice)]
    bundle = p.BundlePrice("BC", "bc", size, 1500, START, END)
    capped = run(lines, coupons, [replace(bundle, max_bundles=cap), *others], cost, delivery)
    free = run(lines, coupons, [bundle, *others], cost, delivery)
    off = {a.code: a for a in capped.applied}.get("bundle:BC")
    uncapped = {a.code: a for a in free.applied}.get("bundle:BC")
    assert capped.priced.total_fen >= 0
    if off is None:
        return
    assert cap > 0
    if uncapped is None:
        assert any("below cost" in n for n in free.notes)
    else:
        assert 0 < off.amount_fen <= uncapped.amount_fen
    assert sum(off.allocation) == off.amount_fen <= off.base_fen
    # a bundle's base is its units' worth: at most ``cap`` bundles of ``size`` units
    assert off.base_fen <= cap * size * max(ln.unit_price_fen for ln in lines)
