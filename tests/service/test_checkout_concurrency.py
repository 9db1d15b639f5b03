"""Races at checkout, against a moto server: one single-use coupon chosen by 50
concurrent orders, and a flash sale of 50 units raced by 200 buyers placing real orders
(orders/service.place, the same code the API runs)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel
from chalicelib.promotions.models import FlashBuyerModel, FlashShardModel

from tests.publishing import publish_promotion, publish_template
from tests.service.test_order_concurrency import (
    SKU,
    STORE,
    customer,
    errors_of,
    race,
    set_stock,
    stock,
)
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")


def cart(coupon_ids=None):
    from chalicelib.orders.schemas import PlaceOrder

    body = {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": SKU, "qty": 1}]}
    if coupon_ids is not None:
        body["coupon_ids"] = coupon_ids
    return msgspec.convert(body, PlaceOrder)


def test_one_single_use_coupon_in_fifty_concurrent_orders_makes_one_order():
    from chalicelib.coupons import service as coupons
    from chalicelib.coupons.schemas import TemplateCreate
    from chalicelib.orders import service as orders

    set_stock(100)
    hq = customer(0).__class__("hq-admin", "hq_admin")
    template = publish_template(
        coupons.create_template(
            hq,
            msgspec.convert(
                {
                    "name": "无门槛减5",
                    "kind": "amount_off",
                    "threshold_fen": 0,
                    "amount_off_fen": 500,
                    "days_after_claim": 7,
                    "budget_fen": 100_000,
                },
                TemplateCreate,
            ),
        )
    )
    buyer = customer(1)
    model = CouponTemplateModel.get(template.template_id)
    coupon, _ = coupons.issue(model, buyer.subject, "single-use", "bulk")
    cid = coupon.coupon_id

    results = race(50, lambda i: orders.place(buyer, f"coupon-key-{i:04d}", cart([cid])))

    placed = [r for r in results if not isinstance(r, ApiError)]
    assert len(placed) == 1, errors_of(results)
    # One answer for one situation, whichever side of the winner's commit a loser read.
    assert set(errors_of(results)) == {"coupon_unavailable"}
    [order] = [order_flow.get(o.order_id) for o in OrderModel.scan()]
    assert [u.coupon_id for u in order.coupon_uses] == [cid]
    got = CouponModel.get(cid, consistent_read=True)
    assert (got.state, got.order_id) == ("locked", order.order_id)
    assert int(CouponTemplateModel.get(template.template_id).spent_fen) == 500
    assert stock() == 99  # the losers took no stock


def test_a_flash_sale_of_fifty_units_raced_by_two_hundred_buyers_sells_fifty():
    from chalicelib.orders import service as orders
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions.schemas import PromotionCreate

    set_stock(1000)
    now = clock.now()
    hq = customer(0).__class__("hq-admin", "hq_admin")
    sale = publish_promotion(
        promotions.create(
            hq,
            msgspec.convert(
                {
                    "kind": "flash_sale",
                    "name": "秒杀 阳光玫瑰",
                    "starts_at": clock.iso(now - timedelta(minutes=1)),
                    "ends_at": clock.iso(now + timedelta(hours=1)),
                    "sku": SKU,
                    "flash_price_fen": 990,
                    "quantity": 50,
                    "per_customer_limit": 1,
                    "shards": 5,
                },
                PromotionCreate,
            ),
        )
    )
    promotions.forget_active_cache()
    promotions.active_for(STORE)  # every container has it cached during the rush

    results = race(200, lambda i: orders.place(customer(i + 1), f"flash-key-{i:04d}", cart()))

    placed = [r for r, _ in (x for x in results if not isinstance(x, ApiError))]
    at_flash_price = [o for o in placed if o.discounts and o.discounts[0].kind == "flash"]
    assert len(at_flash_price) == 50, errors_of(results)
    # The rest bought at list price or were told it sold out; nobody got it twice.
    assert set(errors_of(results)) <= {"flash_sale_sold_out", "flash_sale_busy"}
    shards = [int(s.remaining) for s in FlashShardModel.scan()]
    assert sum(shards) == 0 and min(shards) == 0
    buyers = list(FlashBuyerModel.scan())
    assert sum(int(b.units) for b in buyers) == 50 and all(int(b.units) == 1 for b in buyers)
    flash_orders = [
        o for o in (order_flow.get(x.order_id) for x in OrderModel.scan()) if o.flash_uses
    ]
    assert len(flash_orders) == 50
    assert {o.customer_id for o in flash_orders} == {o.customer_id for o in at_flash_price}
    assert all(o.lines[0].paid_fen == 990 for o in flash_orders)
    assert sale.promotion_id
