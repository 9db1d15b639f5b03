"""Promotion limits and anti-abuse through the API (issue 18 item 3): head office sets
``limits`` on a tiered or half-price promotion; the quote leaves a promotion whose limit
is used up out with a note; the order adds one to its counters and cancelling or expiry
gives it back; new-customer benefits are refused to a customer who ordered before or
whose device, address or payment account another account used (the payment records who
actually paid); an ordinary cart reads nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.loyalty import tasks
from chalicelib.loyalty.models import LoyaltyAccountModel
from chalicelib.orders import service as orders
from chalicelib.promotions import service as promotion_service
from chalicelib.promotions.models import LimitCounterModel, NewCustomerMarkerModel, PromotionModel

from tests import publishing
from tests.api.conftest import token_for
from tests.api.test_orders_api import cart, place


@pytest.fixture(autouse=True)
def fresh_caches():
    promotion_service.forget_active_cache()
    yield
    promotion_service.forget_active_cache()


def _create_promotion(api, tokens_, body):
    """The one place this file creates a promotion (drafts may add an approval here)."""
    now = clock.now()
    body = {
        "starts_at": clock.iso(now - timedelta(minutes=1)),
        "ends_at": clock.iso(now + timedelta(hours=2)),
        **body,
    }
    status, p = publishing.create_promotion(api, body, tokens_["hq"])
    assert status == 201, p
    promotion_service.forget_active_cache()
    return p


def tiered(limits, **over):
    return {
        "kind": "tiered",
        "name": "满30减3",
        "tiers": [{"threshold_fen": 3000, "off_fen": 300}],
        "limits": limits,
        **over,
    }


def quote(api, token, body):
    status, q = api.call("POST", "/orders/quote", body, token)
    assert status == 200, q
    return q


def counter(key):
    return int(LimitCounterModel.get(key, consistent_read=True).used)


def test_limits_are_stored_and_shown_and_a_promotion_without_them_stores_none(
    api, tokens_, catalogue
):
    p = _create_promotion(api, tokens_, tiered({"per_customer_per_day": 1, "per_store_per_day": 9}))
    assert p["limits"] == {
        "per_customer_per_day": 1,
        "per_customer_per_week": None,
        "per_customer_per_campaign": None,
        "per_order_units": None,
        "per_store_per_day": 9,
        "first_order_only": False,
        "new_customers_only": None,
        "one_per": [],
    }
    plain = _create_promotion(api, tokens_, tiered(None, name="不限"))
    assert plain["limits"] is None
    assert PromotionModel.get(plain["promotion_id"]).limits is None
    # an edit replaces them; {} removes them
    status, edited = api.call(
        "PATCH", f"/admin/promotions/{p['promotion_id']}", {"limits": {}}, tokens_["hq"]
    )
    assert status == 200 and edited["limits"] is None, edited
    status, edited = api.call(
        "PATCH",
        f"/admin/promotions/{p['promotion_id']}",
        {"limits": {"per_customer_per_week": 2}},
        tokens_["hq"],
    )
    assert status == 200 and edited["limits"]["per_customer_per_week"] == 2


@pytest.mark.parametrize(
    "body, field",
    [
        (tiered({"per_order_units": 2}), "limits.per_order_units"),
        (tiered({"one_per": ["device"]}), "limits.one_per"),
        (tiered({"per_customer_per_day": 0}), None),
        (
            {
                "kind": "flash_sale",
                "name": "秒杀",
                "sku": "100",
                "flash_price_fen": 100,
                "quantity": 5,
                "per_customer_limit": 1,
                "limits": {"per_customer_per_day": 1},
            },
            "limits",
        ),
    ],
)
def test_limits_a_kind_cannot_take_are_422_and_nothing_is_written(
    api, tokens_, catalogue, body, field
):
    now = clock.now()
    body = {
        "starts_at": clock.iso(now),
        "ends_at": clock.iso(now + timedelta(hours=1)),
        **body,
    }
    status, err = api.call("POST", "/admin/promotions", body, token=tokens_["hq"])
    assert status == 422, err
    if field:
        assert field in [d["field"] for d in err["error"]["details"]], err
    assert list(PromotionModel.scan()) == []


def test_a_per_customer_day_limit_leaves_the_promotion_out_of_the_next_quote_with_a_note(
    api, tokens_, catalogue
):
    p = _create_promotion(api, tokens_, tiered({"per_customer_per_day": 1}))
    pid = p["promotion_id"]
    body = cart(("100", 3))
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 300
    status, order = place(api, tokens_["customer"], body)
    assert status == 201 and order["discount_fen"] == 300
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 0
    assert any("limit_reached" in n and "满30减3" in n for n in q["notes"]), q["notes"]
    # another customer still gets it
    other = token_for("c-2", "customer")
    assert quote(api, other, body)["discount_fen"] == 300
    # cancelling gives the use back: the promotion applies again
    status, _ = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200
    keys = [r.limit_key for r in LimitCounterModel.scan()]
    assert len(keys) == 1 and keys[0].startswith(f"{pid}#c#c-1#d")
    assert counter(keys[0]) == 0
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 300


def test_expiry_gives_a_per_campaign_use_back(api, tokens_, catalogue):
    p = _create_promotion(api, tokens_, tiered({"per_customer_per_campaign": 1}))
    key = f"{p['promotion_id']}#c#c-1"
    _, order = place(api, tokens_["customer"], cart(("100", 3)))
    assert order["discount_fen"] == 300 and counter(key) == 1
    assert orders.expire_due(now_epoch=2**40) == 1
    assert counter(key) == 0


def test_placing_on_a_stale_quote_past_the_limit_is_409_and_writes_nothing(api, tokens_, catalogue):
    from chalicelib.orders.models import OrderModel

    _create_promotion(api, tokens_, tiered({"per_store_per_day": 1}))
    _, first = place(api, tokens_["customer"], cart(("100", 3)))
    assert first["discount_fen"] == 300
    # a racing order read the counter before the first one's commit: simulate by
    # pricing against an out-of-date read (the counter set back to 0 for the read only)
    from chalicelib.checkout import service as checkout

    real = checkout.promo_limits.counts_of
    checkout.promo_limits.counts_of = lambda rows: {}
    try:
        status, err = place(api, token_for("c-2", "customer"), cart(("100", 3)), key="key-00000002")
    finally:
        checkout.promo_limits.counts_of = real
    assert status == 409 and err["error"]["code"] == "promotion_limit_reached", err
    assert len(list(OrderModel.scan())) == 1


def test_per_order_units_caps_the_half_price_units(api, tokens_, catalogue):
    _create_promotion(
        api,
        tokens_,
        {
            "kind": "second_half_price",
            "name": "第二件半价 限2件",
            "scope": {"skus": ["100"], "categories": []},
            "limits": {"per_order_units": 1},
        },
    )
    q = quote(api, tokens_["customer"], cart(("100", 4)))
    # 4 units: two pairs, but one unit at half price only
    unit = q["lines"][0]["unit_price_fen"]
    assert q["discount_fen"] == unit // 2
    # an ordinary half-price cart reads no counter: per_order_units needs none
    assert list(LimitCounterModel.scan()) == []


def _new_customer(customer_id, days_ago=1):
    CustomerModel(
        customer_id,
        phone=f"1380000{customer_id[-4:].rjust(4, '0')}",
        created_at=clock.iso(clock.now() - timedelta(days=days_ago)),
    ).save()


def test_first_order_only_is_refused_to_a_customer_who_completed_an_order(api, tokens_, catalogue):
    _create_promotion(api, tokens_, tiered({"first_order_only": True}, name="首单减3"))
    body = cart(("100", 3))
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 300
    # an earlier order completes (the loyalty account counts it, as its subscriber does)
    tasks.on_order_completed("c-1", "O-earlier", 3000, 0, clock.now_iso())
    assert LoyaltyAccountModel.get("c-1").orders_month is not None
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 0 and any("first_order_only" in n for n in q["notes"])


def test_a_first_order_benefit_is_held_by_one_order_at_a_time(api, tokens_, catalogue):
    _create_promotion(api, tokens_, tiered({"first_order_only": True}, name="首单减3"))
    body = cart(("100", 3))
    _, first = place(api, tokens_["customer"], body)
    assert first["discount_fen"] == 300 and counter("first#c-1") == 1
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 0 and any("limit_reached" in n for n in q["notes"])
    api.call("POST", f"/orders/{first['order_id']}/cancel", {}, tokens_["customer"])
    assert counter("first#c-1") == 0
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 300


def test_new_customers_only_counts_the_days_since_registration(api, tokens_, catalogue):
    _create_promotion(api, tokens_, tiered({"new_customers_only": 7}, name="新人减3"))
    body = cart(("100", 3))
    _new_customer("c-1", days_ago=8)
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 0 and any("new_customers_only" in n for n in q["notes"])
    _new_customer("c-1", days_ago=6)
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 300


def test_a_device_or_address_another_account_used_refuses_the_new_customer_benefit(
    api, tokens_, catalogue
):
    p = _create_promotion(
        api,
        tokens_,
        tiered({"new_customers_only": 30, "one_per": ["device", "address"]}, name="新人减3"),
    )
    for c in ("c-1", "c-2", "c-3"):
        _new_customer(c)
    device = {"device_id": "device-0000-aaaa"}
    _, first = place(api, tokens_["customer"], cart(("100", 3), **device))
    assert first["discount_fen"] == 300
    markers = list(NewCustomerMarkerModel.scan())
    assert {m.owner for m in markers} == {"c-1"} and len(markers) == 2
    # same device, another account: the quote leaves it out, a stale order is refused
    c2 = token_for("c-2", "customer")
    q = quote(api, c2, cart(("100", 3), **device))
    assert q["discount_fen"] == 0
    assert any("new_customer_already_used" in n for n in q["notes"]), q["notes"]
    # the same address written differently is the same address
    c3 = token_for("c-3", "customer")
    address = dict(cart(("100", 3))["address"])
    address["line"] = " " + address["line"].replace(" ", "  ") + "。"
    q = quote(api, c3, cart(("100", 3), address=address))
    assert q["discount_fen"] == 0
    # a fresh device and address: fine
    address["line"] = "淮海中路 1号"
    q = quote(api, c3, cart(("100", 3), address=address, device_id="device-0000-bbbb"))
    assert q["discount_fen"] == 300
    assert p["limits"]["one_per"] == ["device", "address"]


def test_a_racing_order_on_a_device_already_used_is_409_new_customer_already_used(
    api, tokens_, catalogue
):
    from chalicelib.checkout import service as checkout

    _create_promotion(
        api, tokens_, tiered({"new_customers_only": 30, "one_per": ["device"]}, name="新人减3")
    )
    for c in ("c-1", "c-2"):
        _new_customer(c)
    device = {"device_id": "device-0000-aaaa"}
    place(api, tokens_["customer"], cart(("100", 3), **device))
    real = checkout.NewCustomerMarkerModel
    orig = checkout._limits_keys
    try:  # c-2's read misses the marker (placed between its read and its write)

        def blind(*a, **k):
            read, keys = orig(*a, **k)
            keys.pop(real, None)
            return read, keys

        checkout._limits_keys = blind
        status, err = place(
            api, token_for("c-2", "customer"), cart(("100", 3), **device), key="key-00000002"
        )
    finally:
        checkout._limits_keys = orig
    assert status == 409 and err["error"]["code"] == "new_customer_already_used", err


def test_an_ordinary_cart_reads_and_writes_nothing_for_limits(api, tokens_, catalogue, monkeypatch):
    """A live promotion without limits beside a limited one at another store: placing
    is still one BatchGetItem and one TransactWriteItems, with no limit table in them."""
    import botocore.client

    _create_promotion(api, tokens_, tiered(None))
    _create_promotion(api, tokens_, tiered({"per_customer_per_day": 1}, stores=["sh-b"]))
    promotion_service.active_for("sh-a")  # warm, as any container within 5 s
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, op, params):
        calls.append((op, str(params)))
        return original(self, op, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    status, order = place(api, tokens_["customer"], cart(("100", 3)))
    assert status == 201 and order["discount_fen"] == 300, order
    ops = [op for op, _ in calls]  # (the session check's GetItem and the wallet's Query aside)
    assert ops.count("BatchGetItem") == 1 and ops.count("TransactWriteItems") == 1, ops
    assert not any("promotion_limits" in p or "new_customer_markers" in p for _, p in calls)
    assert order_detail_limit_uses(order["order_id"]) is None


def order_detail_limit_uses(order_id):
    from chalicelib.orders.models import OrderDetailModel

    return OrderDetailModel.get(order_id).limit_uses


def test_the_abuse_report_lists_a_device_two_accounts_used_for_new_customer_offers(
    api, tokens_, catalogue
):
    # one_per off: the second account gets through, and the report shows both
    p = _create_promotion(api, tokens_, tiered({"new_customers_only": 30}, name="新人减3"))
    for c in ("c-1", "c-2", "c-3"):
        _new_customer(c)
    device = {"device_id": "device-0000-aaaa"}
    _, a = place(api, tokens_["customer"], cart(("100", 3), **device))
    _, b = place(api, token_for("c-2", "customer"), cart(("100", 3), **device), key="key-00000002")
    address = dict(cart(("100", 3))["address"], line="淮海中路 99号")
    place(
        api,
        token_for("c-3", "customer"),
        cart(("100", 3), address=address, device_id="device-0000-cccc"),
        key="key-00000003",
    )
    assert a["discount_fen"] == b["discount_fen"] == 300
    status, report = api.call("GET", "/admin/promotions/abuse?days=7", None, tokens_["hq"])
    assert status == 200, report
    # the device and the shop's default address were shared by c-1 and c-2; c-3 alone
    kinds = sorted(item["kind"] for item in report["items"])
    assert kinds == ["address", "device"], report
    device_row = next(i for i in report["items"] if i["kind"] == "device")
    assert device_row["customers"] == ["c-1", "c-2"] and device_row["first_customer_id"] == "c-1"
    assert device_row["discount_fen"] == 600
    assert {o["order_id"] for o in device_row["orders"]} == {a["order_id"], b["order_id"]}
    assert all(o["promotion_id"] == p["promotion_id"] for o in device_row["orders"])
    assert "device-0000" not in str(report)  # only hashes are kept
    for role in ("customer", "manager_a", "staff_a"):
        assert api.call("GET", "/admin/promotions/abuse", None, tokens_[role])[0] == 403
    assert api.call("GET", "/admin/promotions/abuse?days=0", None, tokens_["hq"])[0] == 422


# --- the payment account (declared at placing, confirmed by the payment) ----------------

OPENID = "oUpF8uMuAJO-payer-0001"


def test_a_payment_account_another_account_used_leaves_the_offer_out_and_a_race_is_409(
    api, tokens_, catalogue
):
    from chalicelib.checkout import service as checkout

    _create_promotion(
        api, tokens_, tiered({"new_customers_only": 30, "one_per": ["payment"]}, name="新人减3")
    )
    for c in ("c-1", "c-2", "c-3"):
        _new_customer(c)
    paying = {"payment_account": OPENID, "fulfilment": "pickup"}
    _, first = place(api, tokens_["customer"], cart(("100", 3), **paying))
    assert first["discount_fen"] == 300
    (marker,) = NewCustomerMarkerModel.scan()
    assert marker.marker_key.startswith("fp#payment#") and marker.owner == "c-1"
    assert OPENID not in marker.marker_key  # only its hash
    # another account paying with the same openid: left out, with the reason
    q = quote(api, token_for("c-2", "customer"), cart(("100", 3), **paying))
    assert q["discount_fen"] == 0
    assert any("new_customer_already_used" in n for n in q["notes"]), q["notes"]
    # another openid: fine
    other = dict(paying, payment_account="oUpF8uMuAJO-payer-0002")
    assert (
        quote(api, token_for("c-2", "customer"), cart(("100", 3), **other))["discount_fen"] == 300
    )
    # an order whose read missed the marker (placed between its read and its write)
    real, orig = checkout.NewCustomerMarkerModel, checkout._limits_keys

    def blind(*a, **k):
        read, keys = orig(*a, **k)
        keys.pop(real, None)
        return read, keys

    checkout._limits_keys = blind
    try:
        status, err = place(
            api, token_for("c-3", "customer"), cart(("100", 3), **paying), key="key-00000003"
        )
    finally:
        checkout._limits_keys = orig
    assert status == 409 and err["error"]["code"] == "new_customer_already_used", err
    assert (
        api.call(
            "POST", "/orders/quote", cart(("100", 3), payment_account="x y"), tokens_["customer"]
        )[0]
        == 422
    )


def _pay(api, token, order, payer=None):
    path = f"/local/payments/{order['order_id']}/complete"
    if payer:
        path += f"?payer={payer}"
    status, ack = api.call("POST", path, {}, token)
    assert status == 200 and ack["message"] == "paid", ack


def test_the_payment_records_who_paid_and_the_report_lists_a_payer_two_accounts_used(
    api, tokens_, catalogue, monkeypatch
):
    """c-1 declares no account, c-2 declares another one; both pay with the same openid.
    Each payment records the payer on its marker (in the callback's second write: still
    two AWS calls), and the report lists the payer with both customers and orders. Then
    an offer with one_per payment leaves c-3's cart out when she declares that openid."""
    import botocore.client

    _create_promotion(api, tokens_, tiered({"new_customers_only": 30}, name="新人减3"))
    for c in ("c-1", "c-2", "c-3"):
        _new_customer(c)
    c2 = token_for("c-2", "customer")
    _, a = place(api, tokens_["customer"], cart(("100", 3), fulfilment="pickup"))
    _, b = place(
        api,
        c2,
        cart(("100", 3), fulfilment="pickup", payment_account="oUpF8uMuAJO-declared"),
        key="key-00000002",
    )
    assert a["discount_fen"] == b["discount_fen"] == 300
    head = orders.OrderModel.get(a["order_id"])
    assert head.new_customer is not None and OPENID not in head.new_customer
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(self, op, params):
        calls.append(op)
        return original(self, op, params)

    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import provider

    # the provider's webhook for a: the order's update and one write, as every payment
    headers, body = provider("local").make_notification(a["order_id"], a["total_fen"], OPENID)
    with monkeypatch.context() as patched:
        patched.setattr(botocore.client.BaseClient, "_make_api_call", counted)
        assert payments.notify("local", headers, body).message == "paid"
    assert calls == ["UpdateItem", "TransactWriteItems"], calls
    # b through the local stage's simulated payment, naming the payer
    _pay(api, c2, b, payer=OPENID)
    # a repeated notice of the same payment adds nothing
    payment_id = orders.OrderModel.get(b["order_id"]).payment_id
    repeat = json_notice(b["order_id"], b["total_fen"], payment_id, OPENID)
    assert payments.notify("local", *repeat).message == "already recorded"
    marker = NewCustomerMarkerModel.get(f"fp#payment#{_payer_hash(OPENID)}")
    assert marker.owner == "c-1" and marker.takers == {"c-1", "c-2"}
    assert len(marker.paid_uses) == 2
    status, report = api.call("GET", "/admin/promotions/abuse?days=7", None, tokens_["hq"])
    assert status == 200, report
    (row,) = [i for i in report["items"] if i["kind"] == "payment"]
    assert row["customers"] == ["c-1", "c-2"] and row["first_customer_id"] == "c-1"
    assert [o["order_id"] for o in row["orders"]] == [a["order_id"], b["order_id"]]
    assert row["discount_fen"] == 600 and OPENID not in str(report)
    # the declared account is its own marker, c-2's alone: not reported
    assert len(report["items"]) == 1
    # with one_per payment, the openid the payments confirmed is c-1's
    (p,) = PromotionModel.scan()
    status, edited = api.call(
        "PATCH",
        f"/admin/promotions/{p.promotion_id}",
        {"limits": {"new_customers_only": 30, "one_per": ["payment"]}},
        tokens_["hq"],
    )
    assert status == 200 and edited["limits"]["one_per"] == ["payment"], edited
    promotion_service.forget_active_cache()
    q = quote(
        api,
        token_for("c-3", "customer"),
        cart(("100", 3), fulfilment="pickup", payment_account=OPENID),
    )
    assert q["discount_fen"] == 0 and any("new_customer_already_used" in n for n in q["notes"])


def _payer_hash(payer):
    from chalicelib.promotions import limits

    return limits.payment_marker(payer).rsplit("#", 1)[1]


def json_notice(order_id, amount_fen, payment_id, payer):
    """The provider's retry of a notice: the same transaction id, signed again."""
    import json

    from chalicelib.orders.payment_providers import provider

    p = provider("local")
    body = json.dumps(
        {
            "transaction_id": payment_id.split(":", 1)[1],
            "order_id": order_id,
            "amount_fen": amount_fen,
            "paid_at": orders.OrderModel.get(order_id).paid_at,
            "payer": payer,
        }
    ).encode()
    return {"x-daojia-signature": p.sign(body)}, body


def test_a_payment_whose_second_write_failed_records_the_payer_once_on_the_providers_retry(
    api, tokens_, catalogue, monkeypatch
):
    """The function dies after the order's update, before the transaction of the ticket,
    the payment record and the payer: the provider's retry writes all three, and a
    further retry adds no second use of the payer."""
    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import provider

    _create_promotion(api, tokens_, tiered({"first_order_only": True}, name="首单减3"))
    _new_customer("c-1")
    _, order = place(api, tokens_["customer"], cart(("100", 3), fulfilment="pickup"))
    headers, body = provider("local").make_notification(
        order["order_id"], order["total_fen"], OPENID
    )

    def dies(items, payer):
        raise RuntimeError("the function died here")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "_write_records", dies)
        with pytest.raises(RuntimeError):
            payments.notify("local", headers, body)
    key = f"fp#payment#{_payer_hash(OPENID)}"
    assert NewCustomerMarkerModel.count(key) == 0
    assert payments.notify("local", headers, body).message == "already recorded"
    assert payments.notify("local", headers, body).message == "already recorded"
    marker = NewCustomerMarkerModel.get(key)
    assert marker.owner == "c-1" and len(marker.paid_uses) == 1
    (use,) = marker.paid_uses
    assert use.startswith(f"{order['order_id']}|c-1|300|")
    assert orders.OrderModel.get(order["order_id"]).status == "paid"


# --- add-on, gift and bundle promotions are counted as tiered ones ----------------------


def add_on(limits):
    # 加价购: ¥20.00 of other goods, then SKU 103 (¥10.03) at ¥1.00, up to 3 units
    return {
        "kind": "add_on",
        "name": "满20加1元换购",
        "sku": "103",
        "price_fen": 100,
        "max_units": 3,
        "threshold_fen": 2000,
        "limits": limits,
    }


def test_an_add_on_per_customer_day_limit_is_counted_noted_and_given_back_on_cancel(
    api, tokens_, catalogue
):
    p = _create_promotion(api, tokens_, add_on({"per_customer_per_day": 1}))
    body = cart(("100", 2), ("103", 1))
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 1003 - 100
    status, order = place(api, tokens_["customer"], body)
    assert status == 201 and order["discount_fen"] == 903, order
    (key,) = [r.limit_key for r in LimitCounterModel.scan()]
    assert key.startswith(f"{p['promotion_id']}#c#c-1#d") and counter(key) == 1
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 0
    assert any("limit_reached" in n and "满20加1元换购" in n for n in q["notes"]), q["notes"]
    status, _ = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200 and counter(key) == 0
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 903


def test_an_add_on_per_order_cap_lowers_its_max_units(api, tokens_, catalogue):
    _create_promotion(api, tokens_, add_on({"per_order_units": 1}))
    q = quote(api, tokens_["customer"], cart(("100", 2), ("103", 3)))
    # max_units 3, per_order_units 1: the lower wins, one unit at ¥1.00
    assert q["discount_fen"] == 903
    assert LimitCounterModel.count() == 0  # a unit cap alone counts nothing


def test_a_bundle_per_order_cap_makes_at_most_that_many_bundles(api, tokens_, catalogue):
    _create_promotion(
        api,
        tokens_,
        {
            "kind": "bundle",
            "name": "任选2件15元",
            "bundle_units": 2,
            "price_fen": 1500,
            "scope": {"skus": ["100", "101"], "categories": []},
            "limits": {"per_order_units": 1, "per_customer_per_campaign": 1},
        },
    )
    # 2 × ¥10.01 + 2 × ¥10.00: two bundles possible, one allowed (the dearer pair)
    body = cart(("100", 2), ("101", 2))
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 2002 - 1500
    status, order = place(api, tokens_["customer"], body)
    assert status == 201 and order["discount_fen"] == 502, order
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 0


def test_a_gift_past_its_store_limit_on_a_stale_quote_is_409_and_writes_nothing(
    api, tokens_, catalogue
):
    from chalicelib.checkout import service as checkout
    from chalicelib.orders.models import OrderModel

    gift = {
        "kind": "gift",
        "name": "满20赠商品10",
        "sku": "110",
        "threshold_fen": 2000,
        "limits": {"per_store_per_day": 1},
    }
    _create_promotion(api, tokens_, gift)
    status, first = place(api, tokens_["customer"], cart(("100", 2)))
    assert status == 201 and [ln["sku"] for ln in first["lines"] if ln["gift"]] == ["110"]
    # the next cart quotes without the gift, and says why
    q = quote(api, token_for("c-2", "customer"), cart(("100", 2)))
    assert q["gifts"] == [] and any("limit_reached" in n for n in q["notes"]), q
    # a racing order that read the counter before the first one's commit is refused
    real = checkout.promo_limits.counts_of
    checkout.promo_limits.counts_of = lambda rows: {}
    try:
        status, err = place(api, token_for("c-2", "customer"), cart(("100", 2)), key="key-00000002")
    finally:
        checkout.promo_limits.counts_of = real
    assert status == 409 and err["error"]["code"] == "promotion_limit_reached", err
    assert len(list(OrderModel.scan())) == 1
