"""What the customer and the storefront see is complete and exact (issue 11, item 5):
the quote binds the price, every refund is listed on the order with its status, and
money that arrives for an order that cannot take it is recorded on the order and in the
figures."""

import json

from chalicelib.catalogue.models import StoreItemModel
from chalicelib.orders.models import IdempotencyModel, OrderModel, PaymentModel, RefundModel

from tests.api.test_orders_api import cart, paid_order, place, stock


def notify(api, order_id, amount_fen, times=1):
    """The provider's signed notification of one payment, sent ``times`` times (it
    retries until answered SUCCESS); the last answer and the transaction id."""
    from chalicelib.orders.payment_providers import provider

    headers, body = provider("local").make_notification(order_id, amount_fen)
    for _ in range(times):
        status, ack = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=headers)
    return status, ack, json.loads(body)["transaction_id"]


# --- the quote binds the price ---------------------------------------------------------


def test_a_changed_total_is_refused_and_nothing_is_written(api, catalogue, tokens_):
    t = tokens_["customer"]
    body = cart(("100", 2), ("101", 1))
    _, quote = api.call("POST", "/orders/quote", body, t)
    # The price of one line rises between quote and place.
    StoreItemModel("sh-a", "100").update(actions=[StoreItemModel.price_fen.add(300)])
    status, err = place(api, t, dict(body, expected_total_fen=quote["total_fen"]))
    assert status == 409 and err["error"]["code"] == "total_changed"
    details = err["error"]["details"]
    assert details["expected_total_fen"] == quote["total_fen"]
    assert details["total_fen"] == quote["total_fen"] + 600
    assert OrderModel.count() == 0 and IdempotencyModel.count() == 0
    assert (stock("100"), stock("101")) == (10, 10)
    # The storefront shows the new total and places with it.
    status, order = place(
        api, t, dict(body, expected_total_fen=details["total_fen"]), key="key-00000002"
    )
    assert status == 201 and order["total_fen"] == details["total_fen"]
    # Without expected_total_fen the order is placed at the current price, as before.
    status, _ = place(api, t, body, key="key-00000003")
    assert status == 201


# --- every refund on the order --------------------------------------------------------


def test_the_order_lists_its_refunds_with_their_status(api, catalogue, tokens_, monkeypatch):
    from chalicelib.orders import payment_providers

    order = paid_order(api, tokens_, items=(("100", 3), ("101", 1)))
    assert order["refunds"] == []
    staff = tokens_["staff_a"]
    oid = order["order_id"]
    assert api.call("POST", f"/admin/orders/{oid}/start-picking", {}, staff)[0] == 200
    # The provider is down when the shortage is refunded: the refund stays pending.
    monkeypatch.setattr(
        payment_providers.LocalPaymentProvider,
        "refund",
        lambda *a: (_ for _ in ()).throw(payment_providers.RefundFailed("down")),
    )
    lines = [{"sku": "100", "picked_qty": 2}, {"sku": "101", "picked_qty": 1}]
    status, picked = api.call("POST", f"/admin/orders/{oid}/pick", {"lines": lines}, staff)
    assert status == 200 and picked["refunds"] is None  # actions do not read them
    for who in ("customer", "staff_a", "hq"):
        _, seen = api.call("GET", f"/orders/{oid}", token=tokens_[who])
        (refund,) = seen["refunds"]
        assert refund["refund_id"] == f"{oid}:shortage"
        assert (refund["reason"], refund["status"]) == ("shortage", "pending")
        assert refund["amount_fen"] == picked["refunded_fen"] > 0
        assert refund["lines"] == [{"sku": "100", "units": 1, "amount_fen": refund["amount_fen"]}]
    monkeypatch.undo()
    from chalicelib.orders import refunds

    assert refunds.retry_pending() == 1
    _, seen = api.call("GET", f"/orders/{oid}", token=tokens_["customer"])
    assert [r["status"] for r in seen["refunds"]] == ["succeeded"]
    _, page = api.call("GET", "/orders", token=tokens_["customer"])
    assert page["items"][0]["refunds"] is None  # lists do not read them


# --- payments the order cannot take -----------------------------------------------------


def dashboard_refunded(api, tokens_):
    status, board = api.call("GET", "/admin/dashboard?store_id=sh-a", token=tokens_["hq"])
    assert status == 200, board
    return board["totals"]["refunded_fen"], board["totals"]["orders"]


def test_a_late_payment_is_recorded_on_the_order_and_in_the_figures(api, catalogue, tokens_):
    from chalicelib.orders import service as orders

    _, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    oid = order["order_id"]
    assert orders.expire_due(now_epoch=2**40) == 1
    assert dashboard_refunded(api, tokens_) == (0, 0)
    # The provider repeats its notification: one refund, one note.
    status, ack, tx = notify(api, oid, order["total_fen"], times=2)
    assert status == 200 and ack["code"] == "SUCCESS"
    _, seen = api.call("GET", f"/orders/{oid}", token=tokens_["customer"])
    assert seen["status"] == "expired" and seen["paid_fen"] == 0
    note = seen["history"][-1]
    assert (note["action"], note["from_state"], note["to_state"]) == (
        "late_payment",
        "expired",
        "expired",
    )
    assert note["role"] == "system" and "refunded" in note["reason"]
    assert [h["action"] for h in seen["history"]].count("late_payment") == 1
    (refund,) = seen["refunds"]
    assert refund == {
        "refund_id": f"{oid}:late:{tx}",
        "reason": "late_payment",
        "amount_fen": order["total_fen"],
        "delivery_fee_fen": 0,
        "stored_value_fen": 0,
        "lines": [],
        "status": "succeeded",
        "created_at": refund["created_at"],
        "updated_at": refund["updated_at"],
    }
    # Refunded money the dashboard shows; the expired order is still no sale.
    assert dashboard_refunded(api, tokens_) == (order["total_fen"], 0)


def test_a_second_payment_of_a_paid_order_moves_the_refunded_total(api, catalogue, tokens_):
    order = paid_order(api, tokens_)
    assert dashboard_refunded(api, tokens_) == (0, 1)
    status, ack, _ = notify(api, order["order_id"], order["total_fen"])
    assert status == 200 and ack["message"] == "order not payable; refunded"
    _, seen = api.call("GET", f"/orders/{order['order_id']}", token=tokens_["customer"])
    assert seen["status"] == "paid" and seen["history"][-1]["action"] == "late_payment"
    assert [r["reason"] for r in seen["refunds"]] == ["late_payment"]
    assert dashboard_refunded(api, tokens_) == (order["total_fen"], 1)


def test_a_payment_of_the_wrong_amount_is_refunded_and_the_order_can_still_be_paid(
    api, catalogue, tokens_
):
    from chalicelib.orders.payment_providers import provider

    _, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    oid = order["order_id"]
    status, ack, tx = notify(api, oid, 1, times=2)
    assert status == 200 and ack["code"] == "SUCCESS", ack  # the provider stops retrying
    assert PaymentModel.get(f"local:{tx}").outcome == "mismatch_refunded"
    refund = RefundModel.get(f"{oid}:mismatch:{tx}")
    assert (refund.reason, refund.amount_fen, refund.status) == ("amount_mismatch", 1, "succeeded")
    assert provider("local").refunds[refund.refund_id] == 1
    _, seen = api.call("GET", f"/orders/{oid}", token=tokens_["customer"])
    assert seen["status"] == "awaiting_payment" and seen["history"][-1]["action"] == (
        "amount_mismatch"
    )
    assert [r["reason"] for r in seen["refunds"]] == ["amount_mismatch"]
    status, ack, _ = notify(api, oid, order["total_fen"])
    assert ack["message"] == "paid"
    assert dashboard_refunded(api, tokens_) == (1, 1)


def test_a_payment_for_an_unknown_order_is_refunded(api, catalogue, tokens_):
    from chalicelib.orders.payment_providers import provider

    status, ack, tx = notify(api, "261124NOSUCHID", 990, times=2)
    assert status == 200 and ack["code"] == "SUCCESS", ack
    assert PaymentModel.get(f"local:{tx}").outcome == "unknown_order_refunded"
    (refund,) = RefundModel.by_order.query("261124NOSUCHID")
    assert (refund.reason, refund.amount_fen, refund.status) == ("unknown_order", 990, "succeeded")
    assert provider("local").refunds[refund.refund_id] == 990
    assert RefundModel.count() == 1 and OrderModel.count() == 0


# --- the record names system actors as such ---------------------------------------------


def test_payment_and_expiry_are_recorded_with_the_system_role(api, catalogue, tokens_):
    from chalicelib.orders import service as orders

    paid = paid_order(api, tokens_)
    pay = paid["history"][-1]
    assert (pay["action"], pay["actor"], pay["role"]) == ("pay", "payment-provider", "system")
    _, unpaid = place(api, tokens_["customer"], cart(("102", 2), ("103", 1)), "key-unpaid-01")
    assert orders.expire_due(now_epoch=2**40) == 1
    _, expired = api.call("GET", f"/orders/{unpaid['order_id']}", token=tokens_["hq"])
    entry = expired["history"][-1]
    assert (entry["action"], entry["actor"], entry["role"]) == ("expire", "system", "system")


def test_the_system_role_is_granted_nothing():
    import pytest
    from chalicelib.auth.principal import principal_from_context
    from chalicelib.kernel.errors import Unauthorized
    from chalicelib.orders import order_flow, payments

    for actor in (order_flow.SYSTEM, payments.PAYMENT_ACTOR):
        assert actor.role == "system"
        assert not actor.is_hq and not actor.can_act_for_store("sh-a")
    # No token can carry it: the authorizer's claims with role "system" are refused.
    with pytest.raises(Unauthorized):
        principal_from_context({"authorizer": {"principalId": "system", "role": "system"}})
