"""Staff identities are not shown to customers (issue 11, item 4): a customer's order and
return views name staff by role, never by login name; staff and head office see the
usernames as recorded."""

from __future__ import annotations

import json

from tests.order_steps import STAFF_A, completed_order, pick, place_paid


def _texts(body) -> str:
    return json.dumps(body, ensure_ascii=False)


def test_a_customers_order_view_shows_no_staff_username(api, catalogue, tokens_):
    order_id = place_paid([("100", 2), ("101", 1)])
    pick(order_id)  # by sh-a-staff
    status, order = api.call("GET", f"/orders/{order_id}", token=tokens_["customer"])
    assert status == 200
    assert STAFF_A.subject not in _texts(order)
    staff_entries = [h for h in order["history"] if h["role"] == "store_staff"]
    assert staff_entries and {h["actor"] for h in staff_entries} == {"store"}
    by_action = {h["action"]: h for h in order["history"]}
    assert by_action["place"]["actor"] == "c-1"  # the customer's own entries stay theirs
    assert by_action["pay"]["actor"] == "payment-provider"  # not a person
    _, listed = api.call("GET", "/orders", token=tokens_["customer"])
    assert STAFF_A.subject not in _texts(listed)

    for who in ("staff_a", "hq"):  # the store and head office see who it was
        status, seen = api.call("GET", f"/orders/{order_id}", token=tokens_[who])
        assert status == 200
        assert STAFF_A.subject in {h["actor"] for h in seen["history"]}


def test_staff_keep_seeing_usernames(catalogue):
    from chalicelib.orders import order_flow
    from chalicelib.orders import service as orders

    order_id = place_paid([("100", 2), ("101", 1)])
    pick(order_id)
    seen = orders.view(order_flow.get(order_id), STAFF_A)
    assert STAFF_A.subject in {h.actor for h in seen.history}


def test_a_return_recorded_by_staff_shows_no_username_to_the_customer(api, catalogue, tokens_):
    order_id = completed_order([("100", 2), ("101", 1)])
    body = {"lines": [{"sku": "100", "units": 1}], "reason": "坏了"}
    status, opened = api.call(
        "POST",
        f"/admin/orders/{order_id}/returns",
        body,
        tokens_["staff_a"],
        headers={"Idempotency-Key": "key-ret-staff-1"},
    )
    assert status == 201, opened
    assert opened["items"][0]["requested_by"] == "sh-a-staff"  # staff see who it was
    return_id = opened["items"][0]["return_id"]
    for path in (f"/orders/{order_id}/returns", f"/returns/{return_id}"):
        status, seen = api.call("GET", path, token=tokens_["customer"])
        assert status == 200, seen
        assert "sh-a-staff" not in _texts(seen), path
    _, one = api.call("GET", f"/returns/{return_id}", token=tokens_["customer"])
    assert one["requested_by"] == "store"
    _, for_staff = api.call("GET", f"/returns/{return_id}", token=tokens_["staff_a"])
    assert for_staff["requested_by"] == "sh-a-staff"
