"""Coupon templates' redemption limits (issue 18 item 3) as plain rules: the stored form
and view of ``limits``, the template counters' keys (the promotions' key scheme, local
days and ISO weeks, under "t#<template>"), and the engine refusing a coupon whose
template's limit is used up (``limit_reached``) and suggesting another instead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from chalicelib.checkout import promotion_engine as p
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.kernel import period_limits as kperiod
from chalicelib.promotions import limits as lim

from tests.unit.test_promotions_properties import END, START


def test_stored_limits_keep_only_those_set_and_read_back_as_limits():
    spec = msgspec.convert(
        {"per_customer_per_day": 1, "per_store_per_day": 50}, kperiod.PeriodLimits
    )
    raw = kperiod.stored(spec)
    assert raw == {"per_customer_per_day": 1, "per_store_per_day": 50}
    assert kperiod.stored(kperiod.PeriodLimits()) is None and kperiod.stored(None) is None
    assert kperiod.view(raw) == kperiod.PeriodLimitsOut(
        per_customer_per_day=1, per_customer_per_week=None, per_store_per_day=50
    )
    assert kperiod.view(None) is None
    assert lim.period_limits(raw) == lim.Limits(per_customer_per_day=1, per_store_per_day=50)
    assert lim.period_limits(None) is None  # a coupon issued before limits existed


def test_template_counter_keys_use_the_promotions_scheme_under_a_template_prefix():
    limits = lim.Limits(per_customer_per_day=1, per_customer_per_week=3, per_store_per_day=100)
    # 2026-12-06 23:30 in Shanghai is still Sunday 6 December: ISO week 49
    now = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)
    assert lim.template_counter_keys("T1", limits, "c-1", "sh-a", now) == {
        "t#T1#s#sh-a#d20261206": 100,
        "t#T1#c#c-1#d20261206": 1,
        "t#T1#c#c-1#w2026W49": 3,
    }
    # half an hour later it is Monday in Shanghai: new day and week counters
    later = lim.template_counter_keys("T1", limits, "c-1", "sh-a", now + timedelta(minutes=31))
    assert "t#T1#c#c-1#d20261207" in later and "t#T1#c#c-1#w2026W50" in later
    # never the same key as a promotion with the same id
    promotion = lim.counter_keys("T1", limits, "c-1", "sh-a", now)
    assert not set(promotion) & set(lim.template_counter_keys("T1", limits, "c-1", "sh-a", now))
    # every counter a template may have (read for a chosen coupon before its limits)
    assert len(lim.template_counter_keys("T1", lim.ANY_PERIOD, "c-1", "sh-a", now)) == 3


def _coupon(cid: str, off: int) -> p.CouponOffer:
    return p.CouponOffer(
        coupon_id=cid,
        template_id=cid.split(":")[0],
        name=f"满30减{off // 100}",
        kind="amount_off",
        valid_from=START,
        valid_until=END,
        threshold_fen=3000,
        amount_off_fen=off,
    )


def _evaluate(coupons, **kw) -> p.Checkout:
    lines = [CartLine("A", "n", "pc", "fruit", "x", None, None, False, 1000, 3)]
    return p.evaluate(
        lines,
        store_id="s1",
        now=START + timedelta(hours=1),
        fulfilment="delivery",
        delivery=DeliveryRule(0, None),
        minimum_order_fen=0,
        coupons=coupons,
        **kw,
    )


def test_a_coupon_whose_template_limit_is_used_up_is_refused_and_the_next_best_suggested():
    big, small = _coupon("TB:1", 800), _coupon("TS:1", 500)
    assert _evaluate([big, small]).suggested_coupon_ids == ("TB:1",)
    co = _evaluate([big, small], coupons_left_out={"TB:1": lim.LIMIT_REACHED})
    assert co.suggested_coupon_ids == ("TS:1",) and co.priced.total_fen == 2500
    v = next(v for v in co.coupon_verdicts if v.coupon_id == "TB:1")
    assert (v.applies, v.reason, v.message) == (False, "limit_reached", "Its limit is used up")
    # chosen anyway: rejected with that reason, the order is refused by the caller
    chosen = _evaluate(
        [big], chosen_coupon_ids=["TB:1"], coupons_left_out={"TB:1": "limit_reached"}
    )
    assert chosen.rejected_coupon_ids == ("TB:1",) and chosen.priced.total_fen == 3000
