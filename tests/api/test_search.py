"""GET /admin/search: one string found as an order number, a pickup code, a member's
phone, a SKU or a store, by key and index only; store roles within their store."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel

from tests.api.test_orders_api import cart, place

PHONE = "13812345678"


def pay(api, tokens_, order_id):
    status, ack = api.call("POST", f"/local/payments/{order_id}/complete", {}, tokens_["customer"])
    assert status == 200 and ack["code"] == "SUCCESS"


@pytest.fixture
def found(api, catalogue, tokens_):
    """Member c-1 (the customer token's) with a paid delivery order and a paid pickup
    order at sh-a."""
    CustomerModel(customer_id="c-1", phone=PHONE, created_at="2026-11-01T00:00:00Z").save()
    CustomerPhoneModel(phone=PHONE, customer_id="c-1").save()
    ids = {}
    for name, fulfilment in (("delivery", "delivery"), ("pickup", "pickup")):
        status, body = place(
            api,
            tokens_["customer"],
            cart(("100", 2), ("101", 1), fulfilment=fulfilment),
            f"search-{name}1",
        )
        assert status == 201, body
        pay(api, tokens_, body["order_id"])
        ids[name] = body["order_id"]
    status, order = api.call("GET", f"/orders/{ids['pickup']}", token=tokens_["customer"])
    assert status == 200
    ids["code"] = order["pickup_code"]
    return ids


def search(api, token, q):
    status, body = api.call("GET", f"/admin/search?{urlencode({'q': q})}", token=token)
    assert status == 200, body
    return body


def order_ids(body, matched=None):
    return [o["order_id"] for o in body["orders"] if matched in (None, o["matched"])]


def test_an_order_number_finds_the_order_in_any_case(api, tokens_, found):
    for who in ("hq", "staff_a", "manager_a"):
        body = search(api, tokens_[who], found["delivery"].lower())
        assert order_ids(body, "order_id") == [found["delivery"]]
        assert body["orders"][0]["link"] == f"#/orders/{found['delivery']}"
        assert body["orders"][0]["store_id"] == "sh-a"


def test_another_stores_order_is_not_found(api, tokens_, found):
    assert search(api, tokens_["manager_b"], found["delivery"])["orders"] == []


def test_a_pickup_code_finds_the_order_waiting_at_the_store(api, tokens_, found):
    for who in ("hq", "staff_a"):
        body = search(api, tokens_[who], found["code"])
        assert order_ids(body, "pickup_code") == [found["pickup"]]
    assert search(api, tokens_["manager_b"], found["code"])["orders"] == []


def test_a_phone_finds_the_member_masked_and_their_recent_orders(api, tokens_, found):
    body = search(api, tokens_["hq"], f"+86{PHONE}")
    assert [(c["customer_id"], c["phone_masked"]) for c in body["customers"]] == [
        ("c-1", "138****5678")
    ]
    assert body["customers"][0]["link"] == f"#/wallet?phone={PHONE}"  # head office's page
    assert sorted(order_ids(body, "phone")) == sorted([found["delivery"], found["pickup"]])
    staff = search(api, tokens_["staff_a"], PHONE)
    assert len(staff["customers"]) == 1 and staff["customers"][0]["link"] is None
    assert sorted(order_ids(staff)) == sorted([found["delivery"], found["pickup"]])


def test_a_phone_without_orders_at_the_store_finds_nobody_for_its_staff(api, tokens_, found):
    body = search(api, tokens_["manager_b"], PHONE)
    assert body["customers"] == [] and body["orders"] == []
    assert search(api, tokens_["hq"], "13900000000")["customers"] == []


def test_a_sku_finds_the_product(api, tokens_, found):
    body = search(api, tokens_["staff_a"], "100")
    assert [p["sku"] for p in body["products"]] == ["100"]
    assert search(api, tokens_["hq"], "no-such-sku")["products"] == []


def test_stores_by_id_or_name_within_what_the_role_sees(api, tokens_, stores):
    assert [x["store_id"] for x in search(api, tokens_["hq"], "陆家嘴")["stores"]] == ["sh-b"]
    assert [x["store_id"] for x in search(api, tokens_["hq"], "鲜到家")["stores"]] == [
        "sh-a",
        "sh-b",
    ]
    assert search(api, tokens_["staff_a"], "陆家嘴")["stores"] == []
    mine = search(api, tokens_["staff_a"], "sh-a")["stores"]
    assert [(x["store_id"], x["link"]) for x in mine] == [("sh-a", "#/stores/sh-a")]


BARCODE = "6901234567892"


def test_a_barcode_finds_the_products_carrying_it(api, tokens_, found):
    status, body = api.call("PATCH", "/admin/products/101", {"barcode": BARCODE}, tokens_["hq"])
    assert status == 200, body
    for who in ("hq", "staff_a"):
        products = search(api, tokens_[who], BARCODE)["products"]
        assert [(p["sku"], p["barcode"]) for p in products] == [("101", BARCODE)]
        assert products[0]["name"] == "商品1" and products[0]["link"] == "#/catalogue?q=101"
    assert search(api, tokens_["hq"], "6900000000000")["products"] == []
    # The barcode removed: the product leaves the (sparse) index.
    status, _ = api.call("PATCH", "/admin/products/101", {"barcode": None}, tokens_["hq"])
    assert status == 200
    assert search(api, tokens_["hq"], BARCODE)["products"] == []


def test_only_products_with_a_barcode_are_in_its_index(api, tokens_, catalogue):
    from chalicelib.catalogue.models import ProductModel

    assert list(ProductModel.by_barcode.scan()) == []  # the fixture's products have none
    ProductModel("102").update(actions=[ProductModel.barcode.set(BARCODE)])
    assert [p.sku for p in ProductModel.by_barcode.scan()] == ["102"]
    # created as tables.py / infra/resources.py define it: keys only
    (index,) = ProductModel.describe_table()["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["Projection"]["ProjectionType"]) == (
        "by_barcode",
        "KEYS_ONLY",
    )


@pytest.mark.parametrize("q", [None, "", "   ", "x" * 65])
def test_a_missing_blank_or_long_query_is_refused(api, tokens_, stores, q):
    path = "/admin/search" if q is None else f"/admin/search?{urlencode({'q': q})}"
    status, body = api.call("GET", path, token=tokens_["hq"])
    assert status == 422, body


def test_customers_cannot_search(api, tokens_, stores):
    status, body = api.call("GET", "/admin/search?q=x", token=tokens_["customer"])
    assert status == 403 and body["error"]["code"] == "role_not_allowed"


@pytest.mark.parametrize("who", ["hq", "staff_a"])
def test_search_reads_by_key_and_index_only(api, tokens_, found, aws_calls, who):
    from chalicelib.catalogue.models import ProductModel

    ProductModel("101").update(actions=[ProductModel.barcode.set(BARCODE)])
    aws_calls.clear()
    for q in (found["delivery"], found["code"], PHONE, "100", "静安", BARCODE, "69000000"):
        search(api, tokens_[who], q)
    assert "Query" in aws_calls and "GetItem" in aws_calls and "BatchGetItem" in aws_calls
    assert set(aws_calls) <= {"GetItem", "Query", "BatchGetItem"}
