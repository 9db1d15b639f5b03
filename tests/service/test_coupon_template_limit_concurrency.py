"""Coupon templates' redemption limits raced against a moto server (issue 18 item 3): the
template's counters are added to under their limit in each order's own transaction, so
concurrent orders never redeem coupons of a limited template more often than allowed,
and nothing of a refused order is written."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.orders.schemas import PlaceOrder
from chalicelib.promotions.models import LimitCounterModel

from tests.publishing import publish_template
from tests.service.test_order_concurrency import (
    PRICE_FEN,
    SKU,
    STORE,
    customer,
    errors_of,
    race,
    stock,
)
from tests.service.test_order_concurrency import shop as shop  # the fixture
from tests.service.test_promotion_limit_concurrency import OFF_FEN
from tests.service.test_promotion_limit_concurrency import _counter as counter_of

pytestmark = pytest.mark.usefixtures("shop")


def _template(limits: dict) -> CouponTemplateModel:
    from chalicelib.auth.principal import Principal
    from chalicelib.coupons import schemas as s
    from chalicelib.coupons import service

    body = {
        "name": "满20减5 限用",
        "kind": "amount_off",
        "threshold_fen": 2000,
        "amount_off_fen": OFF_FEN,
        "days_after_claim": 7,
        "per_customer_limit": 20,
        "limits": limits,
    }
    view = service.create_template(
        Principal("hq-admin", "hq_admin"), msgspec.convert(body, s.TemplateCreate)
    )
    return CouponTemplateModel.get(publish_template(view).template_id, consistent_read=True)


def _issue(t: CouponTemplateModel, customer_id: str, n: int) -> list[str]:
    from chalicelib.coupons import service

    ids = [f"{t.template_id}:test:{customer_id}:{k}" for k in range(n)]
    for cid in ids:
        service.issue(t, customer_id, cid, "bulk")
    return ids


def _cart(coupon_id: str) -> PlaceOrder:
    body = {
        "store_id": STORE,
        "fulfilment": "pickup",
        "items": [{"sku": SKU, "qty": 1}],
        "coupon_ids": [coupon_id],
    }
    return msgspec.convert(body, PlaceOrder)


def test_one_customer_placing_20_orders_with_20_coupons_redeems_a_per_day_limit_once(shop):
    from chalicelib.orders import service as orders

    shop(100)
    t = _template({"per_customer_per_day": 1})
    me = customer(1)
    coupons = _issue(t, me.subject, 20)
    results = race(20, lambda i: orders.place(me, f"tlimit-day-{i:04d}", _cart(coupons[i])))
    placed = [r[0] for r in results if not isinstance(r, ApiError)]
    assert len(placed) == 1, errors_of(results)
    assert placed[0].total_fen == PRICE_FEN - OFF_FEN
    # refused in the transaction (409) or, read after the winner's commit, before it (422)
    assert set(errors_of(results)) <= {"coupon_limit_reached", "coupon_not_applicable"}
    assert counter_of(f"t#{t.template_id}#c#{me.subject}#d") == 1
    assert stock() == 99  # nothing half written: stock only for the order made
    states = [CouponModel.get(c, consistent_read=True).state for c in coupons]
    assert states.count("locked") == 1 and states.count("available") == 19
    assert order_flow.get(placed[0].order_id).limit_uses == [
        r.limit_key for r in LimitCounterModel.scan()
    ]


def test_twenty_customers_at_once_redeem_a_per_store_per_day_limit_of_5_exactly_5_times(shop):
    from chalicelib.orders import service as orders

    shop(100)
    t = _template({"per_store_per_day": 5})
    coupons = [_issue(t, customer(i).subject, 1)[0] for i in range(20)]
    results = race(
        20, lambda i: orders.place(customer(i), f"tlimit-store-{i:04d}", _cart(coupons[i]))
    )
    placed = [r[0] for r in results if not isinstance(r, ApiError)]
    assert len(placed) == 5, errors_of(results)
    assert all(o.total_fen == PRICE_FEN - OFF_FEN for o in placed)
    assert set(errors_of(results)) <= {"coupon_limit_reached", "coupon_not_applicable"}
    assert counter_of(f"t#{t.template_id}#s#{STORE}#d") == 5
    assert stock() == 95
    locked = [CouponModel.get(c, consistent_read=True).state for c in coupons].count("locked")
    assert locked == 5
