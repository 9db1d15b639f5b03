"""Cursors come back from clients: every list route answers an altered or foreign one
with 400 ``bad_cursor``, never a 500 and never a page of someone else's data."""

import base64
import json

import pytest

from tests.api.test_orders_api import cart, place


def b64(key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


# (path, token, a genuine key of the listing, the partition attribute)
LISTINGS = [
    ("/orders", "customer"),
    ("/admin/stores/sh-a/orders?status=paid", "staff_a"),
    ("/admin/stores/sh-a/orders?status=any&date=2026-12-04", "staff_a"),
    ("/admin/stores/sh-a/orders?status=paid&date=2026-12-04", "staff_a"),
    ("/admin/stores/sh-a/returns?status=awaiting_verification", "staff_a"),
    ("/admin/stores/sh-a/items", "staff_a"),
    ("/admin/stores/sh-a/items?category1=%E8%94%AC%E8%8F%9C", "staff_a"),
    ("/stores/sh-a/products", None),
]

ALTERED = [
    {"order_id": 5},
    {"order_id": {"S": 5}},
    {"order_id": {"X": "a"}},
    {"order_id": {"S": "a", "N": "1"}},
    {"a": {"S": "b"}},
    {"store_id": {"S": "sh-a"}, "sku": {"N": "1e500"}},
    {"store_id": {"S": "sh-a"}, "sku": {"S": ""}},
    ["not", "a", "key"],
    # another customer's / store's partition, well formed
    {"customer_id": {"S": "c-2"}, "created_at": {"S": "2026"}, "order_id": {"S": "X"}},
    {"store_id": {"S": "sh-b"}, "sku": {"S": "100"}},
    {"store_id": {"S": "sh-b"}, "sku": {"S": "100"}, "category_key": {"S": "a#b#100"}},
    {
        "store_queue": {"S": "sh-b#open"},
        "created_at": {"S": "2026"},
        "order_id": {"S": "X"},
        "listing_status": {"S": "paid"},
    },
    {"store_day": {"S": "sh-b#2026-12-04"}, "created_at": {"S": "2026"}, "order_id": {"S": "X"}},
]


@pytest.mark.parametrize("path,who", LISTINGS)
def test_an_altered_cursor_is_400(api, catalogue, tokens_, path, who):
    token = tokens_[who] if who else None
    sep = "&" if "?" in path else "?"
    for key in ALTERED:
        status, body = api.call("GET", f"{path}{sep}cursor={b64(key)}", token=token)
        assert (status, body["error"]["code"]) == (400, "bad_cursor"), (key, body)
    status, body = api.call("GET", f"{path}{sep}cursor=%25%25not-base64", token=token)
    assert (status, body["error"]["code"]) == (400, "bad_cursor")


def test_a_customer_cursor_pages_on_and_cannot_enter_another_customer(api, catalogue, tokens_):
    from tests.api.conftest import token_for

    for i in range(3):
        place(api, tokens_["customer"], cart(("100", 2), ("101", 1)), f"key-cursor-{i:04d}")
    status, page = api.call("GET", "/orders?limit=2", token=tokens_["customer"])
    assert status == 200 and len(page["items"]) == 2 and page["next_cursor"]
    status, rest = api.call(
        "GET", f"/orders?limit=2&cursor={page['next_cursor']}", token=tokens_["customer"]
    )
    assert status == 200 and len(rest["items"]) == 1
    other = token_for("c-2", "customer")
    status, body = api.call("GET", f"/orders?cursor={page['next_cursor']}", token=other)
    assert (status, body["error"]["code"]) == (400, "bad_cursor")
