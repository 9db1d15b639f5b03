"""POST /admin/stores/{store_id}/dispatch: several checked-out orders to one courier,
a result per order; one order that cannot move does not stop the others; a retry
reports what the first attempt did as done."""

from __future__ import annotations

import pytest
from chalicelib.orders.models import OrderModel

from tests.api.test_store_workflow import all_picked, paid, step

URL = "/admin/stores/sh-a/dispatch"


def checked_out(api, tokens_, key):
    order = paid(api, tokens_, key=key)
    staff = tokens_["staff_a"]
    assert step(api, staff, "pick", order["order_id"], all_picked(order))[0] == 200
    assert step(api, staff, "checkout", order["order_id"])[0] == 200
    return order["order_id"]


def test_one_order_that_cannot_move_does_not_stop_the_others(api, catalogue, tokens_):
    a = checked_out(api, tokens_, "key-bd-00001")
    b = checked_out(api, tokens_, "key-bd-00002")
    unpicked = paid(api, tokens_, key="key-bd-00003")["order_id"]
    body = {"order_ids": [a, unpicked, b, "NOSUCHORDER1"], "courier": "李师傅"}
    status, out = api.call("POST", URL, body, tokens_["staff_a"])
    assert status == 200, out
    assert (out["dispatched"], out["already_dispatched"], out["failed"]) == (2, 0, 2)
    results = {r["order_id"]: r for r in out["results"]}
    assert results[a]["result"] == results[b]["result"] == "dispatched"
    assert results[a]["status"] == "out_for_delivery"
    assert (results[unpicked]["result"], results[unpicked]["code"]) == (
        "failed",
        "illegal_transition",
    )
    assert results[unpicked]["status"] == "paid" and results[unpicked]["message"]
    assert results["NOSUCHORDER1"]["code"] == "order_not_found"
    assert OrderModel.get(unpicked).status == "paid"
    last = OrderModel.get(a).history[-1]
    assert (last.action, last.reason) == ("dispatch", "courier: 李师傅")

    # A retry (the answer was lost) fails none of the orders the first attempt moved.
    status, again = api.call("POST", URL, body, tokens_["staff_a"])
    assert status == 200
    assert (again["dispatched"], again["already_dispatched"], again["failed"]) == (0, 2, 2)
    assert len([h for h in OrderModel.get(a).history if h.action == "dispatch"]) == 1


def test_another_stores_orders_are_not_found_and_not_moved(api, catalogue, tokens_):
    a = checked_out(api, tokens_, "key-bd-00011")
    status, out = api.call("POST", "/admin/stores/sh-b/dispatch", {"order_ids": [a]}, tokens_["hq"])
    assert status == 200 and out["results"][0]["code"] == "order_not_found"
    assert OrderModel.get(a).status == "checked_out"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("staff_a", 200),
        ("manager_a", 200),
        ("hq", 200),
        ("manager_b", 403),
        ("customer", 403),
        ("relay_a", 403),
    ],
)
def test_roles(api, catalogue, tokens_, who, status):
    got, body = api.call("POST", URL, {"order_ids": ["NOSUCHORDER1"]}, tokens_[who])
    assert got == status, body


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"order_ids": []},
        {"order_ids": ["x"]},
        {"order_ids": ["ABCDEF123"] * 51},
        {"order_ids": "ABCDEF123"},
        {"order_ids": ["ABCDEF123"], "courier": ""},
        {"order_ids": ["ABCDEF123"], "then": "deliver"},
    ],
)
def test_bad_bodies(api, catalogue, tokens_, body):
    assert api.call("POST", URL, body, tokens_["staff_a"])[0] == 422
