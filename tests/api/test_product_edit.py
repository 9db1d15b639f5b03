"""GET/PATCH /admin/products/{sku}: head office edits a product's details; a category
change re-files it in every store; a stale version is a 409."""

from __future__ import annotations

import pytest
from chalicelib.catalogue.imports import apply_products
from chalicelib.catalogue.models import CategoryTreeModel, ProductModel, StoreItemModel
from chalicelib.catalogue.rules import parse_product

URL = "/admin/products/100"


def test_edit_details_and_read_them_back(api, tokens_, catalogue):
    status, p = api.call("GET", URL, token=tokens_["hq"])
    assert status == 200 and p["version"] == 0 and p["cost_fen"] is None
    body = {
        "name": "赣南脐橙 5斤",
        "unit": "箱",
        "barcode": "6901234567892",
        "image_url": "https://img.example.com/orange.jpg",
        "zone": "A 生鲜区",
        "shelf": "A-03",
        "cost_fen": 2500,
        "expected_version": 0,
    }
    status, got = api.call("PATCH", URL, body, tokens_["hq"])
    assert status == 200, got
    assert {k: got[k] for k in body if k != "expected_version"} == {
        k: v for k, v in body.items() if k != "expected_version"
    }
    assert got["version"] == 1 and got["category1"] == "水果"
    status, got = api.call("PATCH", URL, {"barcode": None, "expected_version": 1}, tokens_["hq"])
    assert status == 200 and got["barcode"] is None and got["unit"] == "箱"


def test_a_new_category_refiles_the_product_in_every_store(api, tokens_, catalogue):
    status, got = api.call(
        "PATCH", URL, {"category1": "礼盒", "category2": "水果礼盒"}, tokens_["hq"]
    )
    assert status == 200 and (got["category1"], got["category2"]) == ("礼盒", "水果礼盒")
    for store in ("sh-a", "sh-b"):
        assert StoreItemModel.get(store, "100").category_key == "礼盒#水果礼盒#100"
    assert "礼盒#水果礼盒" in CategoryTreeModel.get("all").pairs
    _, page = api.call("GET", "/stores/sh-a/products?category1=礼盒")
    assert [i["sku"] for i in page["items"]] == ["100"]


def test_a_stale_version_is_a_409_even_after_an_import(api, tokens_, catalogue):
    assert api.call("PATCH", URL, {"name": "甲", "expected_version": 0}, tokens_["hq"])[0] == 200
    status, err = api.call("PATCH", URL, {"name": "乙", "expected_version": 0}, tokens_["hq"])
    assert (status, err["error"]["code"]) == (409, "product_changed")
    assert err["error"]["details"] == {"version": 1}
    row = parse_product(
        {"sku": "100", "name": "ERP 名", "category1": "水果", "category2": "柑橘", "unit": "份"}, 1
    )
    apply_products([row])
    status, err = api.call("PATCH", URL, {"name": "乙", "expected_version": 1}, tokens_["hq"])
    assert status == 409 and ProductModel.get("100").name == "ERP 名"


@pytest.mark.parametrize("who", ["manager_a", "staff_a", "customer", "relay_a"])
def test_only_head_office(api, tokens_, catalogue, who):
    assert api.call("PATCH", URL, {"name": "x"}, tokens_[who])[0] == 403
    assert api.call("GET", URL, token=tokens_[who])[0] == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"expected_version": 0},
        {"name": None},
        {"name": ""},
        {"category1": "a#b"},
        {"barcode": "123"},
        {"image_url": "javascript:alert(1)"},
        {"cost_fen": -1},
        {"cost_fen": "12"},
        {"fresh": True},
        {"name": "x" * 61},
    ],
)
def test_bad_bodies_change_nothing(api, tokens_, catalogue, body):
    assert api.call("PATCH", URL, body, tokens_["hq"])[0] == 422
    assert ProductModel.get("100").version is None


def test_unknown_product(api, tokens_, catalogue):
    assert api.call("PATCH", "/admin/products/nope", {"name": "x"}, tokens_["hq"])[0] == 404
    assert api.call("GET", "/admin/products/nope", token=tokens_["hq"])[0] == 404
