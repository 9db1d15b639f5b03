"""The customer side of the order flow through the API."""

import json

import pytest
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.orders.models import OrderModel, PaymentModel, RefundModel
from chalicelib.printing.models import CounterModel, PrintJobModel

ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号 1201室",
    "lat": 31.2240,
    "lng": 121.4460,
}


def cart(*items, fulfilment="delivery", **extra):
    body = {
        "store_id": "sh-a",
        "fulfilment": fulfilment,
        "items": [{"sku": s, "qty": q} for s, q in items],
    }
    if fulfilment == "delivery":
        body["address"] = ADDRESS
    body.update(extra)
    return body


def place(api, token, body, key="key-00000001"):
    return api.call("POST", "/orders", body, token, headers={"Idempotency-Key": key})


def stock(sku, store="sh-a"):
    return int(StoreItemModel.get(store, sku).stock)


def test_quote_prices_the_cart_and_reports_the_minimum_order(api, catalogue, tokens_):
    status, q = api.call("POST", "/orders/quote", cart(("100", 1)), tokens_["customer"])
    assert status == 200
    line = q["lines"][0]
    assert (line["unit_price_fen"], line["qty"], line["amount_fen"]) == (
        q["subtotal_fen"],
        1,
        q["subtotal_fen"],
    )
    assert q["delivery_fee_fen"] == 500 and q["total_fen"] == q["subtotal_fen"] + 500
    assert q["shortfall_fen"] == 2000 - q["subtotal_fen"] and q["can_place"] is False
    status, q = api.call(
        "POST", "/orders/quote", cart(("100", 1), fulfilment="pickup"), tokens_["customer"]
    )
    assert (q["delivery_fee_fen"], q["shortfall_fen"], q["can_place"]) == (0, 0, True)


def test_quote_refusals_name_the_problem(api, catalogue, tokens_):
    t = tokens_["customer"]
    status, body = api.call("POST", "/orders/quote", cart(("100", 11)), t)
    assert status == 409 and body["error"]["code"] == "insufficient_stock"
    assert body["error"]["details"][0] == {
        "field": "items[0].qty",
        "sku": "100",
        "name": "商品0",
        "requested": 11,
        "available": 10,
        "reason": "only 10 left",
    }
    status, body = api.call("POST", "/orders/quote", cart(("100", 1), ("nope", 1), ("105", 1)), t)
    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["items[1].sku", "items[2].sku"]
    far = cart(("100", 1), address=dict(ADDRESS, lat=31.30, lng=121.60))
    status, body = api.call("POST", "/orders/quote", far, t)
    assert status == 422 and body["error"]["code"] == "out_of_delivery_range"
    status, body = api.call(
        "POST", "/orders/quote", {"store_id": "sh-a", "items": [{"sku": "100", "qty": 1}]}, t
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "address"
    status, body = api.call("POST", "/orders/quote", cart(("100", 1), ("100", 2)), t)
    assert status == 422


def test_placing_reserves_stock_and_retries_are_idempotent(api, catalogue, tokens_):
    body = cart(("100", 2), ("101", 1))
    status, order = place(api, tokens_["customer"], body)
    assert status == 201 and order["status"] == "awaiting_payment"
    assert (stock("100"), stock("101")) == (8, 9)
    assert (
        order["history"][0]["action"] == "place"
        and order["history"][0]["to_state"] == "awaiting_payment"
    )
    status, again = place(api, tokens_["customer"], body)
    assert status == 200 and again["order_id"] == order["order_id"]
    assert (stock("100"), stock("101")) == (8, 9)
    status, err = place(api, tokens_["customer"], cart(("100", 3)))
    assert status == 422 and err["error"]["code"] == "idempotency_key_reused"
    status, err = api.call("POST", "/orders", body, tokens_["customer"])
    assert status == 400 and err["error"]["code"] == "idempotency_key_required"
    assert OrderModel.count() == 1


def test_placing_answers_with_the_payment_sheet(api, catalogue, tokens_, monkeypatch):
    """POST /orders carries what /pay would give, so the storefront opens the sheet at
    once; replays too; every other view of the order has none."""
    body = cart(("100", 2), ("101", 1))
    status, order = place(api, tokens_["customer"], body)
    assert status == 201
    sheet = order["payment"]
    assert sheet["order_id"] == order["order_id"] and sheet["provider"] == "local"
    assert sheet["amount_fen"] == order["total_fen"]
    _, pay = api.call("POST", f"/orders/{order['order_id']}/pay", {}, tokens_["customer"])
    assert sheet == pay
    status, again = place(api, tokens_["customer"], body)
    assert status == 200 and again["payment"] == sheet
    _, seen = api.call("GET", f"/orders/{order['order_id']}", token=tokens_["customer"])
    assert seen["payment"] is None
    _, page = api.call("GET", "/orders", token=tokens_["customer"])
    assert page["items"][0]["payment"] is None


def test_an_unreachable_provider_does_not_stop_placing(api, catalogue, tokens_, monkeypatch):
    from chalicelib.orders import payment_providers

    def down(self, order_id, amount_fen, description):
        raise ConnectionError("provider down")

    monkeypatch.setattr(payment_providers.LocalPaymentProvider, "create_payment", down)
    status, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    assert status == 201 and order["payment"] is None
    assert order["status"] == "awaiting_payment" and OrderModel.count() == 1


def test_below_minimum_is_refused_and_nothing_is_reserved(api, catalogue, tokens_):
    status, body = place(api, tokens_["customer"], cart(("100", 1)))
    assert status == 422 and body["error"]["code"] == "below_minimum_order"
    assert stock("100") == 10 and OrderModel.count() == 0


def paid_order(api, tokens_, items=(("100", 2), ("101", 1)), key="key-paid-0001", **kw):
    _, order = place(api, tokens_["customer"], cart(*items, **kw), key)
    status, ack = api.call(
        "POST", f"/local/payments/{order['order_id']}/complete", {}, tokens_["customer"]
    )
    assert status == 200 and ack["code"] == "SUCCESS", ack
    return api.call("GET", f"/orders/{order['order_id']}", token=tokens_["customer"])[1]


def test_payment_marks_paid_and_creates_one_print_job_whose_sending_numbers_the_day(
    api, catalogue, tokens_
):
    from chalicelib.printing import dispatch as print_dispatch

    order = paid_order(api, tokens_)
    assert order["status"] == "paid" and order["paid_fen"] == order["total_fen"]
    assert order["daily_seq"] is None  # numbered when its ticket goes to the store
    jobs = list(PrintJobModel.scan())
    assert (
        len(jobs) == 1 and jobs[0].copies == {"picking", "delivery"} and jobs[0].status == "pending"
    )
    assert print_dispatch.dispatch(jobs[0].job_id) is True
    oid = order["order_id"]
    assert api.call("GET", f"/orders/{oid}", token=tokens_["customer"])[1]["daily_seq"] == 1
    second = paid_order(api, tokens_, key="key-paid-0002")
    print_dispatch.dispatch(f"{second['order_id']}-p1")
    # A second send of the same ticket (the watchdog) keeps the number.
    print_dispatch.resend_overdue(f"{second['order_id']}-p1", now=2**40)
    second = api.call("GET", f"/orders/{second['order_id']}", token=tokens_["customer"])[1]
    assert second["daily_seq"] == 2
    assert int(CounterModel.get(OrderModel.get(oid).store_day).value) == 2


def test_the_webhook_checks_signatures_and_ignores_duplicates(api, catalogue, tokens_):
    from chalicelib.orders.payment_providers import provider

    _, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    headers, body = provider("local").make_notification(order["order_id"], order["total_fen"])
    forged = dict(headers, **{"x-daojia-signature": "0" * 64})
    status, err = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=forged)
    assert status == 400 and err["error"]["code"] == "bad_signature"
    for _ in range(3):
        status, ack = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=headers)
        assert status == 200 and ack["code"] == "SUCCESS"
    assert PaymentModel.count() == 1 and PrintJobModel.count() == 1
    paid = OrderModel.get(order["order_id"])
    assert [h.action for h in paid.history] == ["place", "pay"]
    _, wrong = provider("local").make_notification(order["order_id"], 1)
    status, err = api.call(
        "POST",
        "/payments/notify/local",
        raw=wrong.decode(),
        headers={"x-daojia-signature": provider("local").sign(wrong)},
    )
    assert status == 200  # a second, different transaction for a paid order: refunded in full
    assert [r.reason for r in RefundModel.scan()] == ["late_payment"]


@pytest.mark.allow_500
def test_a_webhook_that_failed_after_paying_the_order_is_completed_by_the_retry(
    api, catalogue, tokens_, monkeypatch
):
    """The webhook's second write (ticket and payment record) fails: the provider gets a
    500 and retries; the retry answers SUCCESS with the ticket and the record written, and
    later copies change nothing."""
    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import provider

    _, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    headers, body = provider("local").make_notification(order["order_id"], order["total_fen"])

    def fails(items):  # type: ignore[no-untyped-def]
        raise RuntimeError("DynamoDB unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "batch_put", fails)
        status, _ = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=headers)
        assert status == 500
    assert OrderModel.get(order["order_id"]).status == "paid" and PrintJobModel.count() == 0
    for _ in range(2):
        status, ack = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=headers)
        assert status == 200 and ack["code"] == "SUCCESS", ack
    paid = OrderModel.get(order["order_id"])
    assert [h.action for h in paid.history] == ["place", "pay"]
    assert [j.job_id for j in PrintJobModel.scan()] == sorted(paid.print_job_ids)
    assert PaymentModel.count() == 1 and RefundModel.count() == 0


def test_a_late_payment_for_an_expired_order_is_refunded(api, catalogue, tokens_):
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    _, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    assert orders.expire_due(now_epoch=2**40) == 1
    assert OrderModel.get(order["order_id"]).status == "expired"
    assert (stock("100"), stock("101")) == (10, 10)
    headers, body = provider("local").make_notification(order["order_id"], order["total_fen"])
    status, ack = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=headers)
    assert status == 200 and ack["message"] == "order not payable; refunded"
    refund = RefundModel.get(f"{order['order_id']}:late:{json.loads(body)['transaction_id']}")
    assert refund.status == "succeeded" and refund.amount_fen == order["total_fen"]
    assert OrderModel.get(order["order_id"]).status == "expired"


def test_expiry_leaves_orders_within_their_deadline_alone(api, catalogue, tokens_):
    from chalicelib.orders import service as orders

    place(api, tokens_["customer"], cart(("100", 2), ("101", 1)))
    assert orders.expire_due() == 0
    assert stock("100") == 8


def test_cancelling_a_paid_order_refunds_everything_and_restocks(api, catalogue, tokens_):
    order = paid_order(api, tokens_)
    status, cancelled = api.call(
        "POST", f"/orders/{order['order_id']}/cancel", {"reason": "买错了"}, tokens_["customer"]
    )
    assert status == 200 and cancelled["status"] == "cancelled"
    assert cancelled["refunded_fen"] == order["paid_fen"]
    assert (stock("100"), stock("101")) == (10, 10)
    refund = RefundModel.get(f"{order['order_id']}:cancel")
    assert refund.status == "succeeded" and refund.amount_fen == order["paid_fen"]
    assert cancelled["history"][-1]["reason"] == "买错了"
    slips = [j for j in PrintJobModel.scan() if j.kind == "cancellation"]
    assert len(slips) == 1
    status, err = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 409 and err["error"]["code"] == "illegal_transition"


@pytest.mark.parametrize("who", ["manager_b", "customer_other"])
def test_others_cannot_see_or_cancel_an_order(api, catalogue, tokens_, who):
    from tests.api.conftest import token_for

    order = paid_order(api, tokens_)
    token = tokens_.get(who) or token_for("c-2", "customer")
    assert api.call("GET", f"/orders/{order['order_id']}", token=token)[0] == 404
    assert api.call("POST", f"/orders/{order['order_id']}/cancel", {}, token)[0] == 404
    assert api.call("GET", f"/orders/{order['order_id']}", token=tokens_["manager_a"])[0] == 200


def test_my_orders_newest_first(api, catalogue, tokens_):
    first = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)), "key-list-0001")[1]
    second = place(api, tokens_["customer"], cart(("102", 2), ("103", 1)), "key-list-0002")[1]
    _, page = api.call("GET", "/orders?limit=1", token=tokens_["customer"])
    assert [o["order_id"] for o in page["items"]] == [second["order_id"]]
    _, page2 = api.call(
        "GET", f"/orders?limit=1&cursor={page['next_cursor']}", token=tokens_["customer"]
    )
    assert [o["order_id"] for o in page2["items"]] == [first["order_id"]]


def test_a_quote_reads_eventually_consistent_and_placing_strongly(
    api, catalogue, tokens_, monkeypatch
):
    """A quote only shows prices and stock (half the read units); placing reads again
    strongly consistent what its writes depend on (the store's items: price and stock;
    coupons, accounts, counters), the catalogue's products, the store and the loyalty
    rules eventually consistent (they change rarely)."""
    from chalicelib.db.connection import connection

    client = connection().client
    seen: dict[str, bool] = {}
    real = client.batch_get_item

    def recording(**kwargs):
        for table, spec in kwargs["RequestItems"].items():
            seen[table.rsplit("-", 1)[-1]] = spec.get("ConsistentRead", False)
        return real(**kwargs)

    monkeypatch.setattr(client, "batch_get_item", recording)
    body = cart(("100", 2), ("101", 1))
    assert api.call("POST", "/orders/quote", body, tokens_["customer"])[0] == 200
    assert seen and not any(seen.values())
    seen.clear()
    assert place(api, tokens_["customer"], body)[0] == 201
    loose = {"products", "stores", "loyalty_settings"}
    assert seen["store_items"] and seen["loyalty_accounts"]
    assert all(seen[t] is (t not in loose) for t in seen), seen
