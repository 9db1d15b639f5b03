"""Coupons sold for money (一元买百元券) through the API: buy, pay (local provider), the
coupon in the wallet with source "sale"; duplicate notices issue one coupon; a refund while
unused voids the coupon and pays the price back; a coupon held by an order is not
refundable; templates not for sale, sold out or limited are refused before paying; a
coupon that sold out between purchase and payment has its payment refunded; other
customers see nothing. The tables are checked, not only the answers."""

from __future__ import annotations

import pytest
from chalicelib.coupons import service as coupon_service
from chalicelib.coupons.models import CouponModel, CouponSaleModel, CouponTemplateModel
from chalicelib.coupons.repo import get_coupon, mark_used_items, redemption_items
from chalicelib.db.transactions import add_all, transact
from chalicelib.orders.models import PaymentModel, RefundModel
from chalicelib.orders.payment_providers import provider

from tests.api.conftest import token_for
from tests.publishing import create_template

PRICE = 100  # 1 yuan


@pytest.fixture(autouse=True)
def no_cache():
    coupon_service.forget_auto_cache()
    yield
    coupon_service.forget_auto_cache()


def template(api, tokens_, **over):
    body = {
        "name": "满300减100",
        "kind": "amount_off",
        "threshold_fen": 30000,
        "amount_off_fen": 10000,
        "days_after_claim": 30,
        "claimable": False,
        "sale_price_fen": PRICE,
        **over,
    }
    status, t = create_template(api, body, token=tokens_["hq"])
    assert status == 201, t
    return t["template_id"]


def buy(api, token, template_id, request_id="r-1"):
    body = {"template_id": template_id, "request_id": request_id}
    return api.call("POST", "/coupon-sales", body, token=token)


def pay(api, token, sale_id):
    return api.call("POST", f"/local/payments/{sale_id}/complete", {}, token)


def bought_and_paid(api, tokens_, **over):
    tid = template(api, tokens_, **over)
    status, sale = buy(api, tokens_["customer"], tid)
    assert status == 201, sale
    status, ack = pay(api, tokens_["customer"], sale["sale_id"])
    assert (status, ack["message"]) == (200, "paid"), ack
    return tid, sale["sale_id"]


def test_buy_pay_and_the_coupon_is_in_the_wallet_with_source_sale(api, tokens_):
    tid = template(api, tokens_)
    status, sale = buy(api, tokens_["customer"], tid)
    assert status == 201
    assert sale["sale_id"].startswith("CS") and len(sale["sale_id"]) == 18
    assert (sale["status"], sale["price_fen"], sale["coupon_id"]) == (
        "awaiting_payment",
        PRICE,
        None,
    )
    assert sale["customer_id"] == "c-1" and sale["name"] == "满300减100"
    again_status, again = buy(api, tokens_["customer"], tid)  # a retried purchase
    assert again_status == 200 and again == sale
    status, start = api.call(
        "POST", f"/coupon-sales/{sale['sale_id']}/payment", {}, tokens_["customer"]
    )
    assert status == 200
    assert (start["sale_id"], start["provider"], start["amount_fen"]) == (
        sale["sale_id"],
        "local",
        PRICE,
    )
    assert start["params"]["simulate_url"] == f"/local/payments/{sale['sale_id']}/complete"
    status, ack = api.call("POST", start["params"]["simulate_url"], {}, tokens_["customer"])
    assert (status, ack) == (200, {"code": "SUCCESS", "message": "paid"})

    status, paid = api.call("GET", f"/coupon-sales/{sale['sale_id']}", token=tokens_["customer"])
    assert status == 200 and paid["status"] == "paid" and paid["paid_at"]
    assert paid["coupon_id"] == f"{tid}:sale:{sale['sale_id']}"
    status, wallet = api.call("GET", "/me/coupons", token=tokens_["customer"])
    [coupon] = wallet["items"]
    assert coupon["coupon_id"] == paid["coupon_id"]
    assert (coupon["source"], coupon["state"], coupon["amount_off_fen"]) == (
        "sale",
        "available",
        10000,
    )
    assert int(CouponTemplateModel.get(tid).issued_count) == 1
    [payment] = [p for p in PaymentModel.scan() if p.order_id == sale["sale_id"]]
    assert (int(payment.amount_fen), payment.outcome) == (PRICE, "captured")
    # paying again: the sale is paid
    status, err = api.call(
        "POST", f"/coupon-sales/{sale['sale_id']}/payment", {}, tokens_["customer"]
    )
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    history = CouponSaleModel.get(sale["sale_id"]).history
    assert [(h.action, h.from_state, h.to_state) for h in history] == [
        ("buy", "", "awaiting_payment"),
        ("pay", "awaiting_payment", "paid"),
    ]


def test_twenty_copies_of_one_notification_issue_one_coupon(api, tokens_):
    tid = template(api, tokens_)
    _, sale = buy(api, tokens_["customer"], tid)
    headers, body = provider("local").make_notification(sale["sale_id"], PRICE)
    acks = [
        api.call("POST", "/payments/notify/local", headers=headers, raw=body.decode())
        for _ in range(20)
    ]
    assert [a[0] for a in acks] == [200] * 20
    assert [a[1]["message"] for a in acks] == ["paid"] + ["already recorded"] * 19
    assert len(list(CouponModel.by_customer.query("c-1"))) == 1
    assert int(CouponTemplateModel.get(tid).issued_count) == 1
    assert len([p for p in PaymentModel.scan() if p.order_id == sale["sale_id"]]) == 1
    assert [r for r in RefundModel.scan() if r.order_id == sale["sale_id"]] == []


def test_a_wrong_amount_is_refunded_and_changes_nothing_else(api, tokens_):
    tid = template(api, tokens_)
    _, sale = buy(api, tokens_["customer"], tid)
    headers, body = provider("local").make_notification(sale["sale_id"], PRICE + 1)
    status, ack = api.call("POST", "/payments/notify/local", headers=headers, raw=body.decode())
    # Answered SUCCESS so the provider stops retrying; the money is recorded and paid back.
    assert status == 200 and ack["code"] == "SUCCESS", ack
    (refund,) = RefundModel.by_order.query(sale["sale_id"])
    assert (refund.reason, refund.amount_fen, refund.status) == (
        "amount_mismatch",
        PRICE + 1,
        "succeeded",
    )
    assert CouponSaleModel.get(sale["sale_id"]).status == "awaiting_payment"
    assert list(CouponModel.by_customer.query("c-1")) == []


def test_refund_while_unused_voids_the_coupon_and_pays_the_price_back(api, tokens_):
    tid, sale_id = bought_and_paid(api, tokens_)
    status, refunded = api.call("POST", f"/coupon-sales/{sale_id}/refund", {}, tokens_["customer"])
    assert status == 200
    assert (refunded["status"], refunded["refund_reason"]) == ("refunded", "requested")
    assert refunded["refund_id"] == f"{sale_id}:refund" and refunded["refunded_at"]
    coupon = get_coupon(f"{tid}:sale:{sale_id}")
    assert coupon.state == "voided" and coupon.remind is None
    refund = RefundModel.get(f"{sale_id}:refund")
    assert (int(refund.amount_fen), refund.status, refund.order_id) == (
        PRICE,
        "succeeded",
        sale_id,
    )
    assert provider("local").refunds[f"{sale_id}:refund"] == PRICE
    # the quantity and the customer's count go back: it can be sold again
    assert int(CouponTemplateModel.get(tid).issued_count) == 0
    status, wallet = api.call("GET", "/me/coupons?state=voided", token=tokens_["customer"])
    assert [c["coupon_id"] for c in wallet["items"]] == [coupon.coupon_id]
    # asking again answers the refunded sale and refunds nothing more
    status, again = api.call("POST", f"/coupon-sales/{sale_id}/refund", {}, tokens_["customer"])
    assert status == 200 and again == refunded
    assert len([r for r in RefundModel.scan() if r.order_id == sale_id]) == 1
    # money arriving for the refunded sale goes straight back
    status, ack = pay(api, tokens_["customer"], sale_id)
    assert status == 200 and ack["message"] == "sale not payable; refunded"
    late = [r for r in RefundModel.scan() if r.order_id == sale_id and r.reason == "late_payment"]
    assert len(late) == 1 and late[0].status == "succeeded"
    assert get_coupon(coupon.coupon_id).state == "voided"
    history = CouponSaleModel.get(sale_id).history
    assert [h.action for h in history] == ["buy", "pay", "refund"]
    assert history[-1].actor == "c-1"


@pytest.mark.parametrize("used", [False, True])
def test_a_coupon_locked_or_used_by_an_order_is_not_refundable(api, tokens_, used):
    tid, sale_id = bought_and_paid(api, tokens_)
    coupon_id = f"{tid}:sale:{sale_id}"
    transact(
        lambda tx: add_all(tx, redemption_items(coupon_id, "c-1", "261124ABCDEFGH", 10000, tid))
    )
    if used:
        coupon = get_coupon(coupon_id)
        transact(lambda tx: add_all(tx, mark_used_items(coupon, "261124ABCDEFGH")))
    status, err = api.call("POST", f"/coupon-sales/{sale_id}/refund", {}, tokens_["customer"])
    assert status == 409 and err["error"]["code"] == "coupon_in_use"
    assert err["error"]["details"]["order_id"] == "261124ABCDEFGH"
    assert CouponSaleModel.get(sale_id).status == "paid"
    assert get_coupon(coupon_id).state == ("used" if used else "locked")
    assert [r for r in RefundModel.scan() if r.order_id == sale_id] == []


def test_refusals_before_paying(api, tokens_):
    not_for_sale = template(api, tokens_, sale_price_fen=None)
    status, err = buy(api, tokens_["customer"], not_for_sale)
    assert status == 409 and err["error"]["code"] == "template_not_for_sale"
    status, err = buy(api, tokens_["customer"], "no-such-template")
    assert status == 404 and err["error"]["code"] == "coupon_template_not_found"

    paused = template(api, tokens_)
    api.call("PATCH", f"/admin/coupon-templates/{paused}", {"status": "paused"}, tokens_["hq"])
    status, err = buy(api, tokens_["customer"], paused)
    assert status == 409 and err["error"]["code"] == "template_not_active"

    one = template(api, tokens_, total_quantity=1)
    _, sale = buy(api, tokens_["customer"], one)
    pay(api, tokens_["customer"], sale["sale_id"])
    status, err = buy(api, token_for("c-2", "customer"), one, "r-2")
    assert status == 409 and err["error"]["code"] == "sold_out"

    limited = template(api, tokens_)  # per_customer_limit 1
    _, sale = buy(api, tokens_["customer"], limited, "r-3")
    pay(api, tokens_["customer"], sale["sale_id"])
    status, err = buy(api, tokens_["customer"], limited, "r-4")
    assert status == 409 and err["error"]["code"] == "limit_reached"
    # a retried purchase is still answered with its sale
    status, replay = buy(api, tokens_["customer"], limited, "r-3")
    assert status == 200 and replay["sale_id"] == sale["sale_id"]
    # the same request_id for another template is a mistake, not a replay
    status, err = buy(api, tokens_["customer"], one, "r-3")
    assert status == 409 and err["error"]["code"] == "request_id_reused"

    status, err = api.call(
        "POST", "/coupon-sales", {"template_id": limited}, token=tokens_["customer"]
    )
    assert status == 422


def test_only_the_buyer_sees_pays_and_refunds_the_sale(api, tokens_):
    tid = template(api, tokens_)
    _, sale = buy(api, tokens_["customer"], tid)
    sale_id = sale["sale_id"]
    other = token_for("c-2", "customer")
    for method, path in [
        ("GET", f"/coupon-sales/{sale_id}"),
        ("POST", f"/coupon-sales/{sale_id}/payment"),
        ("POST", f"/coupon-sales/{sale_id}/refund"),
        ("POST", f"/local/payments/{sale_id}/complete"),
        ("GET", "/coupon-sales/CS0000000000000000"),
        ("GET", "/coupon-sales/261124ABCDEFGH"),
    ]:
        status, err = api.call(method, path, {} if method == "POST" else None, other)
        assert status == 404 and err["error"]["code"] == "coupon_sale_not_found", path
    assert CouponSaleModel.get(sale_id).status == "awaiting_payment"
    for who in ("staff_a", "manager_a", "hq"):
        status, err = api.call("GET", f"/coupon-sales/{sale_id}", token=tokens_[who])
        assert status == 403


def test_sold_out_between_purchase_and_payment_refunds_the_payment(api, tokens_):
    tid = template(api, tokens_, total_quantity=1)
    c2 = token_for("c-2", "customer")
    _, first = buy(api, tokens_["customer"], tid)
    status, second = buy(api, c2, tid)  # both bought before either paid
    assert status == 201
    assert pay(api, tokens_["customer"], first["sale_id"])[1]["message"] == "paid"
    status, ack = pay(api, c2, second["sale_id"])
    assert status == 200 and ack["code"] == "SUCCESS"
    assert ack["message"] == "coupon not issued (sold_out); refunded"
    status, view = api.call("GET", f"/coupon-sales/{second['sale_id']}", token=c2)
    assert (view["status"], view["refund_reason"], view["coupon_id"]) == (
        "refunded",
        "sold_out",
        None,
    )
    refund = RefundModel.get(view["refund_id"])
    assert (int(refund.amount_fen), refund.status) == (PRICE, "succeeded")
    assert list(CouponModel.by_customer.query("c-2")) == []
    assert int(CouponTemplateModel.get(tid).issued_count) == 1
    [payment] = [p for p in PaymentModel.scan() if p.order_id == second["sale_id"]]
    assert payment.outcome == "refunded_unissued"
    # a duplicate of that notification changes nothing
    headers, body = provider("local").make_notification(second["sale_id"], PRICE)
    # (a new transaction: this one is a late payment of an already refunded sale)
    status, ack = api.call("POST", "/payments/notify/local", headers=headers, raw=body.decode())
    assert ack["message"] == "sale not payable; refunded"


def test_an_expired_sale_cannot_be_paid_and_late_money_goes_back(api, tokens_):
    tid = template(api, tokens_)
    _, sale = buy(api, tokens_["customer"], tid)
    sale_id = sale["sale_id"]
    CouponSaleModel(sale_id).update(
        actions=[CouponSaleModel.expires_at.set("2020-01-01T00:00:00Z")]
    )
    status, view = api.call("GET", f"/coupon-sales/{sale_id}", token=tokens_["customer"])
    assert view["status"] == "expired"
    status, err = api.call("POST", f"/coupon-sales/{sale_id}/payment", {}, tokens_["customer"])
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    status, err = api.call("POST", f"/coupon-sales/{sale_id}/refund", {}, tokens_["customer"])
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    status, ack = pay(api, tokens_["customer"], sale_id)
    assert status == 200 and ack["message"] == "sale not payable; refunded"
    [refund] = [r for r in RefundModel.scan() if r.order_id == sale_id]
    assert (refund.reason, int(refund.amount_fen), refund.status) == (
        "late_payment",
        PRICE,
        "succeeded",
    )
    assert list(CouponModel.by_customer.query("c-1")) == []


def test_orders_are_still_paid_as_before(api, tokens_, catalogue):
    """The sale dispatch looks at the id's prefix only: an order's notification still
    pays the order."""
    status, order = api.call(
        "POST",
        "/orders",
        {
            "store_id": "sh-a",
            "items": [{"sku": "100", "qty": 3}],
            "fulfilment": "pickup",
        },
        tokens_["customer"],
        headers={"Idempotency-Key": "key-00000001"},
    )
    assert status == 201, order
    status, ack = pay(api, tokens_["customer"], order["order_id"])
    assert (status, ack["message"]) == (200, "paid")
