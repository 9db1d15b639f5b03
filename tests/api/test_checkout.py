"""Checkout with coupons and promotions through the API: the quote judges every coupon
in the wallet and suggests the best; placing locks the coupon (and spends budgets,
reserves flash units) with the order; payment uses it; cancellation and expiry give it
back; a partial refund keeps it used (docs/promotions.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib import clock
from chalicelib.db.coupon_models import CouponModel, CouponTemplateModel
from chalicelib.db.models import ProductModel
from chalicelib.db.order_models import OrderModel
from chalicelib.db.promotion_models import FlashBuyerModel, PromotionModel
from chalicelib.db.promotion_repo import remaining
from chalicelib.services import coupons as coupon_service
from chalicelib.services import orders
from chalicelib.services import promotions as promotion_service

from tests.api.conftest import token_for
from tests.api.test_orders_api import cart, place


@pytest.fixture(autouse=True)
def fresh_caches():
    promotion_service.forget_active_cache()
    coupon_service.forget_auto_cache()
    yield
    promotion_service.forget_active_cache()


def template(api, tokens_, **over):
    body = {
        "name": "满30减5",
        "kind": "amount_off",
        "threshold_fen": 3000,
        "amount_off_fen": 500,
        "days_after_claim": 7,
        "per_customer_limit": 5,
        **over,
    }
    status, t = api.call("POST", "/admin/coupon-templates", body, token=tokens_["hq"])
    assert status == 201, t
    return t


def claim(api, tokens_, t, request_id="r-1"):
    body = {"template_id": t["template_id"], "request_id": request_id}
    status, c = api.call("POST", "/coupons/claim", body, token=tokens_["customer"])
    assert status == 201, c
    return c["coupon_id"]


def quote(api, tokens_, body):
    status, q = api.call("POST", "/orders/quote", body, tokens_["customer"])
    assert status == 200, q
    return q


def coupon_state(coupon_id):
    return CouponModel.get(coupon_id, consistent_read=True).state


def pay(api, tokens_, order_id):
    status, ack = api.call("POST", f"/local/payments/{order_id}/complete", {}, tokens_["customer"])
    assert status == 200 and ack["code"] == "SUCCESS", ack


def promotion(api, tokens_, **body):
    now = clock.now()
    body = {
        "starts_at": clock.iso(now - timedelta(minutes=1)),
        "ends_at": clock.iso(now + timedelta(hours=2)),
        **body,
    }
    status, p = api.call("POST", "/admin/promotions", body, token=tokens_["hq"])
    assert status == 201, p
    promotion_service.forget_active_cache()
    return p


def test_the_quote_judges_each_coupon_and_applies_the_best(api, catalogue, tokens_):
    small = claim(api, tokens_, template(api, tokens_), "r-small")
    big = claim(
        api,
        tokens_,
        template(api, tokens_, name="满50减12", threshold_fen=5000, amount_off_fen=1200),
        "r-big",
    )
    q = quote(api, tokens_, cart(("100", 3)))  # 3 x ¥10.00
    verdicts = {v["coupon_id"]: v for v in q["coupons"]}
    assert verdicts[small]["applies"] is True and verdicts[small]["discount_fen"] == 500
    assert verdicts[big]["applies"] is False
    assert verdicts[big]["reason"] == "threshold_not_reached"
    assert verdicts[big]["shortfall_fen"] == 2000 and "20.00" in verdicts[big]["message"]
    assert q["suggested_coupon_ids"] == q["applied_coupon_ids"] == [small]
    assert q["discount_fen"] == 500 and q["total_fen"] == 3000 - 500 + 500
    [d] = q["discounts"]
    assert (d["kind"], d["amount_fen"], d["base_fen"]) == ("coupon", 500, 3000)
    assert sum(line["discount_fen"] for line in q["lines"]) == 500
    # With more in the cart the bigger coupon wins; [] asks for none.
    q = quote(api, tokens_, cart(("100", 3), ("101", 3)))
    assert q["applied_coupon_ids"] == [big] and q["discount_fen"] == 1200
    q = quote(api, tokens_, cart(("100", 3), coupon_ids=[]))
    assert q["applied_coupon_ids"] == [] and q["discount_fen"] == 0
    # Another customer's quote neither sees nor can use them.
    other = token_for("c-2", "customer")
    status, q = api.call("POST", "/orders/quote", cart(("100", 3)), other)
    assert status == 200 and q["coupons"] == [] and q["discount_fen"] == 0
    status, q = api.call("POST", "/orders/quote", cart(("100", 3), coupon_ids=[small]), other)
    assert q["rejected_coupon_ids"] == [small] and q["can_place"] is False


def test_placing_locks_the_coupon_payment_uses_it_and_it_cannot_be_used_twice(
    api, catalogue, tokens_
):
    t = template(api, tokens_, budget_fen=10_000)
    cid = claim(api, tokens_, t)
    status, order = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]))
    assert status == 201, order
    assert order["coupons"] == [{"coupon_id": cid, "kind": "amount_off", "discount_fen": 500}]
    assert order["total_fen"] == 3000
    assert coupon_state(cid) == "locked"
    assert int(CouponTemplateModel.get(t["template_id"]).spent_fen) == 500
    status, err = place(
        api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]), key="key-00000002"
    )
    # Taken by the first order (committed before this one read it): the same 409 a
    # racing order gets from the transaction, not a 422.
    assert status == 409 and err["error"] == {
        "code": "coupon_unavailable",
        "message": err["error"]["message"],
        "details": {"id": cid},
    }
    # The same key replays the first order rather than locking anything again.
    status, again = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]))
    assert status == 200 and again["order_id"] == order["order_id"]
    pay(api, tokens_, order["order_id"])
    assert coupon_state(cid) == "used"
    assert int(CouponTemplateModel.get(t["template_id"]).used_count) == 1


def test_cancel_and_expiry_give_the_coupon_and_its_budget_back(api, catalogue, tokens_):
    t = template(api, tokens_, budget_fen=10_000)
    cid = claim(api, tokens_, t)
    _, order = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]))
    status, _ = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200 and coupon_state(cid) == "available"
    assert int(CouponTemplateModel.get(t["template_id"]).spent_fen) == 0
    _, order = place(
        api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]), key="key-00000002"
    )
    assert coupon_state(cid) == "locked"
    assert orders.expire_due(now_epoch=2**40) == 1
    assert coupon_state(cid) == "available"
    assert OrderModel.get(order["order_id"]).status == "expired"


def test_a_full_refund_returns_the_coupon_a_partial_one_keeps_it_used(api, catalogue, tokens_):
    t = template(api, tokens_)
    first, second = claim(api, tokens_, t, "r-1"), claim(api, tokens_, t, "r-2")
    _, order = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[first]))
    pay(api, tokens_, order["order_id"])
    status, cancelled = api.call(
        "POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"]
    )
    assert status == 200 and cancelled["refunded_fen"] == cancelled["paid_fen"]
    assert coupon_state(first) == "available"  # full refund, still valid: back
    # A shortage refunds part of the order: the coupon stays used.
    _, order = place(
        api, tokens_["customer"], cart(("100", 3), coupon_ids=[second]), key="key-00000002"
    )
    pay(api, tokens_, order["order_id"])
    staff = tokens_["staff_a"]
    oid = order["order_id"]
    assert api.call("POST", f"/admin/orders/{oid}/start-picking", {}, staff)[0] == 200
    body = {"lines": [{"sku": "100", "picked_qty": 2}]}
    status, picked = api.call("POST", f"/admin/orders/{oid}/pick", body, staff)
    assert status == 200, picked
    line = picked["lines"][0]
    assert line["paid_fen"] == 2500 and line["refunded_fen"] in (833, 834)
    assert coupon_state(second) == "used"


def test_a_tiered_promotion_applies_and_its_budget_is_spent_and_given_back(api, catalogue, tokens_):
    p = promotion(
        api,
        tokens_,
        kind="tiered",
        name="满30减3",
        tiers=[{"threshold_fen": 3000, "off_fen": 300}],
        budget_fen=300,
    )
    q = quote(api, tokens_, cart(("100", 3)))
    assert [d["code"] for d in q["discounts"]] == [f"tiered:{p['promotion_id']}"]
    status, order = place(api, tokens_["customer"], cart(("100", 3)))
    assert status == 201 and order["discount_fen"] == 300
    assert int(PromotionModel.get(p["promotion_id"]).budget_left_fen) == 0
    # The budget is spent: the next cart does not get it (capped to what is left).
    promotion_service.forget_active_cache()
    q = quote(api, tokens_, cart(("100", 3)))
    assert q["discount_fen"] == 0
    api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert int(PromotionModel.get(p["promotion_id"]).budget_left_fen) == 300


def test_a_flash_sale_prices_the_allowed_units_and_reserves_them_with_the_order(
    api, catalogue, tokens_
):
    p = promotion(
        api,
        tokens_,
        kind="flash_sale",
        name="秒杀",
        sku="100",
        flash_price_fen=100,
        quantity=3,
        per_customer_limit=2,
        shards=2,
    )
    q = quote(api, tokens_, cart(("100", 3)))
    assert q["flash"] == [
        {"promotion_id": p["promotion_id"], "sku": "100", "units": 2, "price_fen": 100}
    ]
    assert q["lines"][0]["paid_fen"] == 2 * 100 + 1000
    status, order = place(api, tokens_["customer"], cart(("100", 3), fulfilment="pickup"))
    assert status == 201 and order["total_fen"] == 1200
    assert remaining(p["promotion_id"]) == 1
    assert int(FlashBuyerModel.get(f"{p['promotion_id']}#c-1").units) == 2
    # The customer's limit is reached: the next quote is at list price.
    q = quote(api, tokens_, cart(("100", 1)))
    assert q["flash"] == [] and q["lines"][0]["paid_fen"] == 1000
    api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert remaining(p["promotion_id"]) == 3
    assert int(FlashBuyerModel.get(f"{p['promotion_id']}#c-1").units) == 0


def test_the_margin_floor_refuses_a_coupon_that_sells_below_cost(api, catalogue, tokens_):
    ProductModel("100").update(actions=[ProductModel.cost_fen.set(900)])
    cid = claim(api, tokens_, template(api, tokens_))
    q = quote(api, tokens_, cart(("100", 3)))
    [v] = q["coupons"]
    assert v["applies"] is False and v["reason"] == "below_margin_floor"
    assert q["applied_coupon_ids"] == [] and q["discount_fen"] == 0
    status, err = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]))
    assert status == 422 and err["error"]["details"][0]["reason"] == "below_margin_floor"
    assert coupon_state(cid) == "available"


def test_placing_with_a_chosen_coupon_costs_two_aws_calls(api, catalogue, tokens_, monkeypatch):
    import botocore.client

    cid = claim(api, tokens_, template(api, tokens_))
    promotion_service.active_for("sh-a")  # warm, as any container within 5 s
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, op, params):
        calls.append(op)
        return original(self, op, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    status, order = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[cid]))
    assert status == 201, order
    assert calls == ["BatchGetItem", "TransactWriteItems"]


def test_an_ended_flash_sale_still_in_the_cache_sells_at_list_price(api, catalogue, tokens_):
    p = promotion(
        api,
        tokens_,
        kind="flash_sale",
        name="秒杀",
        sku="100",
        flash_price_fen=100,
        quantity=5,
        per_customer_limit=2,
    )
    assert "100" in promotion_service.active_for("sh-a").flash
    stale = promotion_service._active_cache  # another container's, from before the end
    status, _ = api.call(
        "PATCH", f"/admin/promotions/{p['promotion_id']}", {"status": "ended"}, tokens_["hq"]
    )
    assert status == 200
    promotion_service._active_cache = stale
    assert "100" in promotion_service.active_for("sh-a").flash
    q = quote(api, tokens_, cart(("100", 3)))
    assert q["flash"] == [] and q["lines"][0]["paid_fen"] == 3000
    status, order = place(api, tokens_["customer"], cart(("100", 3), fulfilment="pickup"))
    assert status == 201 and order["total_fen"] == 3000
