"""Checkout with coupons and promotions through the API: the quote judges every coupon
in the wallet and suggests the best; placing locks the coupon (and spends budgets,
reserves flash units) with the order; payment uses it; cancellation and expiry give it
back; a partial refund keeps it used (docs/promotions.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.catalogue.models import ProductModel
from chalicelib.coupons import service as coupon_service
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.kernel import clock
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderModel
from chalicelib.promotions import service as promotion_service
from chalicelib.promotions.models import FlashBuyerModel, PromotionModel
from chalicelib.promotions.repo import remaining

from tests.api.conftest import token_for
from tests.api.test_orders_api import cart, place
from tests.event_steps import deliver_events
from tests.publishing import create_promotion, create_template


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
    status, t = create_template(api, body, token=tokens_["hq"])
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
    status, p = create_promotion(api, body, token=tokens_["hq"])
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
    # The payment is one write on the order; its coupons become used by order.paid.
    assert coupon_state(cid) == "locked"
    assert deliver_events() >= 1
    assert coupon_state(cid) == "used"
    assert int(CouponTemplateModel.get(t["template_id"]).used_count) == 1
    # A redelivery (mark_used is idempotent: no done marker, it runs again), or the
    # subscriber called directly, uses nothing twice.
    from chalicelib.coupons.repo import mark_used

    assert deliver_events() >= 1 and mark_used(order["order_id"], [cid]) == 0
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
    assert coupon_state(second) == "locked"  # order.paid not delivered yet
    deliver_events()
    assert coupon_state(second) == "used"


def test_a_paid_order_given_back_before_order_paid_ran_neither_keeps_nor_reuses_its_coupon(
    api, catalogue, tokens_
):
    """The payment leaves the order's coupons locked for the order.paid subscriber. A
    full refund that comes first (a cancel, nothing picked) must still give them back,
    once, and the subscriber coming later must not use them."""
    t = template(api, tokens_, budget_fen=10_000)
    first, second = claim(api, tokens_, t, "r-1"), claim(api, tokens_, t, "r-2")
    _, cancelled = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[first]))
    pay(api, tokens_, cancelled["order_id"])
    status, _ = api.call("POST", f"/orders/{cancelled['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200 and coupon_state(first) == "available"
    _, empty = place(
        api, tokens_["customer"], cart(("100", 3), coupon_ids=[second]), key="key-00000002"
    )
    pay(api, tokens_, empty["order_id"])
    body = {"lines": [{"sku": "100", "picked_qty": 0}]}
    staff = tokens_["staff_a"]
    status, picked = api.call("POST", f"/admin/orders/{empty['order_id']}/pick", body, staff)
    assert status == 200 and picked["status"] == "cancelled", picked
    assert coupon_state(second) == "available"

    assert deliver_events() >= 2  # both orders' order.paid, late
    template_now = CouponTemplateModel.get(t["template_id"])
    assert coupon_state(first) == coupon_state(second) == "available"
    assert int(template_now.used_count) == 0 and int(template_now.spent_fen) == 0
    # Usable again, by a new order that pays and gets order.paid delivered.
    _, again = place(
        api, tokens_["customer"], cart(("100", 3), coupon_ids=[first]), key="key-00000003"
    )
    pay(api, tokens_, again["order_id"])
    deliver_events()
    assert coupon_state(first) == "used"
    assert int(CouponTemplateModel.get(t["template_id"]).used_count) == 1


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


def test_a_coupon_whose_budget_is_spent_is_judged_so_and_not_suggested(
    api, catalogue, tokens_, monkeypatch
):
    # A ¥5 budget: the first order spends it; the customer's second coupon of the template
    # must then read budget_exhausted in the quote, never be suggested (the checkout loop
    # of quote -> 409 coupon_budget_exhausted -> the same quote).
    t = template(api, tokens_, budget_fen=500)
    first, second = claim(api, tokens_, t, "r-1"), claim(api, tokens_, t, "r-2")
    status, spent = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[first]))
    assert status == 201, spent
    assert int(CouponTemplateModel.get(t["template_id"]).budget_left_fen) == 0
    q = quote(api, tokens_, cart(("101", 3)))
    [v] = [v for v in q["coupons"] if v["coupon_id"] == second]
    assert (v["applies"], v["reason"]) == (False, "budget_exhausted")
    assert q["suggested_coupon_ids"] == q["applied_coupon_ids"] == []
    assert q["can_place"] is True
    # Chosen explicitly, it is refused by the quote's own verdict, before any write.
    q = quote(api, tokens_, cart(("101", 3), coupon_ids=[second]))
    assert q["rejected_coupon_ids"] == [second] and q["can_place"] is False
    status, err = place(
        api, tokens_["customer"], cart(("101", 3), coupon_ids=[second]), "key-budget-2"
    )
    assert status == 422 and err["error"]["details"][0]["reason"] == "budget_exhausted"
    # Placing without coupon_ids takes the quote's suggestion: no coupon, no 409.
    status, order = place(api, tokens_["customer"], cart(("101", 3)), "key-budget-3")
    assert status == 201 and order["coupons"] == []
    # The first order cancelled gives the budget back: a coupon applies again.
    status, _ = api.call("POST", f"/orders/{spent['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200
    q = quote(api, tokens_, cart(("101", 3)))
    assert len(q["suggested_coupon_ids"]) == 1 and q["discount_fen"] == 500


def test_a_free_delivery_coupon_applies_alone_and_on_flash_priced_goods(api, catalogue, tokens_):
    free = template(
        api, tokens_, name="免配送费", kind="free_delivery", threshold_fen=0, amount_off_fen=None
    )
    fd = claim(api, tokens_, free, "r-fd")
    q = quote(api, tokens_, cart(("100", 3)))  # ¥30 of goods, ¥5 fee (free above ¥59)
    [v] = q["coupons"]
    assert (v["applies"], v["discount_fen"]) == (True, 500)
    assert q["applied_coupon_ids"] == [fd] and q["delivery_fee_fen"] == 0
    promotion(
        api,
        tokens_,
        kind="flash_sale",
        name="秒杀",
        sku="102",
        flash_price_fen=1000,
        quantity=10,
        per_customer_limit=3,
    )
    body = cart(("102", 3))  # every unit at the flash price
    q = quote(api, tokens_, body)
    assert q["flash"] and q["lines"][0]["paid_fen"] == 3000
    [v] = q["coupons"]
    assert (v["applies"], v["reason"], v["discount_fen"]) == (True, None, 500)
    assert q["applied_coupon_ids"] == [fd] and q["total_fen"] == 3000
    status, order = place(
        api, tokens_["customer"], dict(body, coupon_ids=[fd], expected_total_fen=3000)
    )
    assert status == 201, order
    assert order["delivery_fee_fen"] == 0 and order["delivery_fee_waived_fen"] == 500


def after_payment_gift(api, tokens_):
    """支付有礼: ¥20 off for every paid order of at least ¥20."""
    return template(
        api,
        tokens_,
        name="支付有礼 满30减20",
        amount_off_fen=2000,
        auto_issue="after_payment",
        after_payment_min_fen=2000,
        claimable=False,
        per_customer_limit=10,
    )


def gift_of(t, order_id):
    return f"{t['template_id']}:order:{order_id}"


def test_a_gift_is_voided_when_the_order_that_earned_it_is_refunded_in_full(
    api, catalogue, tokens_
):
    t = after_payment_gift(api, tokens_)
    status, order = place(api, tokens_["customer"], cart(("100", 3)), "key-gift-0001")
    pay(api, tokens_, order["order_id"])
    deliver_events()  # 支付有礼 arrives through order.paid
    gift = gift_of(t, order["order_id"])
    assert coupon_state(gift) == "available"
    status, _ = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200
    assert coupon_state(gift) == "voided"
    q = quote(api, tokens_, cart(("101", 3)))
    assert gift not in [v["coupon_id"] for v in q["coupons"]]
    # Idempotent: again changes nothing.
    assert coupon_service.void_after_payment_gifts(order["order_id"]) == []
    assert coupon_state(gift) == "voided"


def test_a_partial_refund_keeps_the_gift(api, catalogue, tokens_):
    from tests.order_steps import STAFF_A
    from tests.order_steps import pick as pick_order

    t = after_payment_gift(api, tokens_)
    _, order = place(api, tokens_["customer"], cart(("100", 3), ("101", 1)), "key-gift-0002")
    pay(api, tokens_, order["order_id"])
    deliver_events()  # 支付有礼 arrives through order.paid
    pick_order(order["order_id"], {"100": 2}, staff=STAFF_A)  # one unit short
    assert coupon_state(gift_of(t, order["order_id"])) == "available"


def test_a_gift_used_when_its_order_is_refunded_is_kept_but_never_comes_back(
    api, catalogue, tokens_
):
    t = after_payment_gift(api, tokens_)
    _, first = place(api, tokens_["customer"], cart(("100", 3)), "key-gift-0003")
    pay(api, tokens_, first["order_id"])
    deliver_events()  # 支付有礼 arrives through order.paid
    gift = gift_of(t, first["order_id"])
    # The gift pays part of a second order (paid), then the first order is cancelled.
    _, second = place(
        api, tokens_["customer"], cart(("101", 4), coupon_ids=[gift]), "key-gift-0004"
    )
    assert second["coupons"][0]["coupon_id"] == gift
    pay(api, tokens_, second["order_id"])
    deliver_events()  # 支付有礼 arrives through order.paid
    api.call("POST", f"/orders/{first['order_id']}/cancel", {}, tokens_["customer"])
    assert coupon_state(gift) == "used"  # kept: the second order was paid
    # Cancelling the second order would give the coupon back: it comes back voided.
    status, _ = api.call("POST", f"/orders/{second['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200
    assert coupon_state(gift) == "voided"


def test_a_gift_locked_when_its_order_is_refunded_is_voided_when_released(api, catalogue, tokens_):
    t = after_payment_gift(api, tokens_)
    _, first = place(api, tokens_["customer"], cart(("100", 3)), "key-gift-0005")
    pay(api, tokens_, first["order_id"])
    deliver_events()  # 支付有礼 arrives through order.paid
    gift = gift_of(t, first["order_id"])
    _, unpaid = place(
        api, tokens_["customer"], cart(("101", 4), coupon_ids=[gift]), "key-gift-0006"
    )
    api.call("POST", f"/orders/{first['order_id']}/cancel", {}, tokens_["customer"])
    assert coupon_state(gift) == "locked"
    assert orders.expire_due(now_epoch=2**40) == 1
    assert coupon_state(gift) == "voided"
    assert OrderModel.get(unpaid["order_id"]).status == "expired"
