"""GET /admin/stores/{store_id}/items: every item of a store for the back office (not on
sale, out of stock, inactive products too), by SKU or category, with a bounded search."""

from __future__ import annotations

import pytest
from chalicelib.catalogue import service as catalogue
from chalicelib.catalogue.models import ProductModel

URL = "/admin/stores/sh-a/items"
SKUS = [str(100 + i) for i in range(25)]
FIELDS = {
    "sku",
    "name",
    "category1",
    "category2",
    "unit",
    "barcode",
    "fresh",
    "zone",
    "shelf",
    "image_url",
    "active",
    "store_id",
    "price_fen",
    "stock",
    "on_sale",
    "available",
    "updated_at",
    "cost_fen",
}


@pytest.fixture
def shelf(api, catalogue, tokens_):
    """The catalogue fixture (sku 105 inactive) with 103 out of stock, 104 off sale, a
    barcode on 107 and a Latin name on 110."""
    for sku, change in (("103", {"stock": 0}), ("104", {"on_sale": False})):
        status, _ = api.call("PATCH", f"{URL}/{sku}", change, tokens_["staff_a"])
        assert status == 200
    ProductModel("107").update(actions=[ProductModel.barcode.set("6901234567892")])
    ProductModel("110").update(actions=[ProductModel.name.set("Bright Milk 鲜牛奶")])


def page(api, token, query=""):
    status, body = api.call("GET", f"{URL}?{query}", token=token)
    assert status == 200, body
    return [i["sku"] for i in body["items"]], body


def every_page(api, token, query):
    skus, cursor, pages = [], None, 0
    while True:
        got, body = page(api, token, query + (f"&cursor={cursor}" if cursor else ""))
        cursor = body["next_cursor"]
        skus += got
        pages += 1
        if not cursor:
            return skus, pages


def test_every_item_is_listed_with_its_state(api, tokens_, shelf):
    skus, body = page(api, tokens_["staff_a"], "limit=100")
    assert skus == SKUS and body["next_cursor"] is None
    items = {i["sku"]: i for i in body["items"]}
    assert all(set(i) == FIELDS for i in body["items"])
    assert (items["105"]["active"], items["105"]["available"]) == (False, False)
    assert (items["103"]["stock"], items["103"]["available"]) == (0, False)
    assert (items["104"]["on_sale"], items["104"]["available"]) == (False, False)
    assert items["100"]["price_fen"] == 1000 and items["100"]["store_id"] == "sh-a"
    assert items["107"]["barcode"] == "6901234567892"
    assert items["100"]["updated_at"].endswith("Z")
    # The storefront leaves the inactive product out.
    _, public = api.call("GET", "/stores/sh-a/products?limit=100")
    assert "105" not in [i["sku"] for i in public["items"]] and len(public["items"]) == 24


def test_pages_follow_the_cursor_in_sku_or_category_order(api, tokens_, shelf):
    skus, pages = every_page(api, tokens_["hq"], "limit=10")
    assert skus == SKUS and pages == 3
    _, first = page(api, tokens_["hq"], "")
    assert len(first["items"]) == 25  # default limit 50
    vegetables = [s for i, s in enumerate(SKUS) if i % 3 == 2]
    skus, pages = every_page(api, tokens_["manager_a"], "category1=蔬菜&limit=3")
    assert skus == vegetables and "105" in skus and pages == 3
    fruit, _ = page(api, tokens_["hq"], "category1=水果&limit=100")
    assert fruit[:3] == ["100", "103", "106"]  # 水果#柑橘# first, then 水果#苹果梨#
    assert sorted(fruit) == sorted(s for i, s in enumerate(SKUS) if i % 3 != 2)


def test_search_by_sku_prefix_barcode_or_name_in_any_case(api, tokens_, shelf):
    # SKUs beginning with 12, and 112 whose name (商品12) contains it
    assert page(api, tokens_["staff_a"], "q=12")[0] == ["112", "120", "121", "122", "123", "124"]
    assert page(api, tokens_["staff_a"], "q=6901234567892")[0] == ["107"]
    assert page(api, tokens_["staff_a"], "q=690123")[0] == []  # barcodes match whole
    assert page(api, tokens_["staff_a"], "q=商品2")[0] == ["102", "120", "121", "122", "123", "124"]
    assert page(api, tokens_["staff_a"], "q=MILK")[0] == ["110"]
    assert page(api, tokens_["staff_a"], "q=商品2&category1=蔬菜")[0] == ["102", "120", "123"]
    skus, body = page(api, tokens_["staff_a"], "q=商品2&limit=2")
    assert skus == ["102", "120"] and body["next_cursor"]
    skus, _ = every_page(api, tokens_["staff_a"], "q=商品2&limit=2")
    assert skus == ["102", "120", "121", "122", "123", "124"]


def test_a_search_reads_a_bounded_number_of_items_and_says_where_to_go_on(
    api, tokens_, shelf, monkeypatch
):
    monkeypatch.setattr(catalogue, "MAX_SEARCHED", 10)
    monkeypatch.setattr(catalogue, "SEARCH_PAGE", 4)
    skus, body = page(api, tokens_["hq"], "q=商品2")
    assert skus == ["102"] and body["next_cursor"]  # read 100..109 only
    skus, body = page(api, tokens_["hq"], f"q=商品2&cursor={body['next_cursor']}")
    assert skus == [] and body["next_cursor"]  # 110..119: nothing, but not the end
    skus, body = page(api, tokens_["hq"], f"q=商品2&cursor={body['next_cursor']}")
    assert skus == ["120", "121", "122", "123", "124"] and body["next_cursor"] is None


def test_patch_answers_the_item_as_the_list_shows_it(api, tokens_, shelf):
    status, patched = api.call("PATCH", f"{URL}/101", {"stock": 7}, tokens_["staff_a"])
    assert status == 200 and set(patched) == FIELDS and patched["stock"] == 7
    _, body = page(api, tokens_["staff_a"], "q=101")
    assert body["items"] == [patched]


def test_store_accounts_see_their_own_store_only(api, tokens_, shelf):
    status, body = api.call("GET", URL, token=tokens_["manager_b"])
    assert status == 403 and body["error"]["code"] == "other_store"
    status, body = api.call("GET", "/admin/stores/sh-b/items?limit=1", token=tokens_["manager_b"])
    assert status == 200 and body["items"][0]["store_id"] == "sh-b"
    for who in ("customer", "relay_a"):
        status, body = api.call("GET", URL, token=tokens_[who])
        assert status == 403 and body["error"]["code"] == "role_not_allowed"
    assert api.call("GET", URL)[0] == 401
    status, body = api.call("GET", "/admin/stores/sh-nowhere/items", token=tokens_["hq"])
    assert status == 404 and body["error"]["code"] == "store_not_found"


def test_bad_queries_and_foreign_cursors_are_refused(api, tokens_, shelf):
    for query, field in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("q=" + "x" * 61, "q"),
        ("category1=a%23b", "category1"),
        ("colour=red", "colour"),
    ):
        status, body = api.call("GET", f"{URL}?{query}", token=tokens_["hq"])
        assert status == 422 and body["error"]["details"][0]["field"] == field, query
    _, by_sku = page(api, tokens_["hq"], "limit=1")
    _, by_category = page(api, tokens_["hq"], "limit=1&category1=水果")
    _, other_store = api.call("GET", "/admin/stores/sh-b/items?limit=1", token=tokens_["hq"])
    for query in (
        f"cursor={by_category['next_cursor']}",
        f"category1=水果&cursor={by_sku['next_cursor']}",
        f"category1=蔬菜&cursor={by_category['next_cursor']}",
        f"cursor={other_store['next_cursor']}",
        "cursor=not-a-cursor",
    ):
        status, body = api.call("GET", f"{URL}?{query}", token=tokens_["hq"])
        assert status == 400 and body["error"]["code"] == "bad_cursor", query


def test_a_page_costs_a_store_read_a_query_and_a_batch_read(api, tokens_, shelf, monkeypatch):
    import botocore.client

    page(api, tokens_["hq"], "limit=1")  # the authorizer's account read, then cached
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    page(api, tokens_["hq"], "limit=20")
    assert calls == ["GetItem", "Query", "BatchGetItem"]
    calls.clear()
    page(api, tokens_["hq"], "q=商品")
    assert "Scan" not in calls and calls.count("Query") == 1  # 25 items: one index page
