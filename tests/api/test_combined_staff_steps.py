"""Fewer staff requests per order (issue 11, item 9): a pick straight from paid (the
picker works from the printed ticket), and a POS checkout that hands the order over in
the same write. Each combined request records every step in history, as if it were
separate requests, and leaves the order exactly where those requests would."""

from __future__ import annotations

import pytest
from chalicelib.orders.models import OrderModel, RefundModel

from tests.api.test_store_workflow import all_picked, paid, step, stock


def checkout(api, token, order_id, then=None):
    body = {"order_code": order_id} if then is None else {"order_code": order_id, "then": then}
    return api.call("POST", "/admin/stores/sh-a/checkout", body, token)


def actions(order, n):
    return [(h["action"], h["from_state"], h["to_state"]) for h in order["history"][-n:]]


def picked_order(api, tokens_, fulfilment="delivery", key="key-comb-0001"):
    order = paid(api, tokens_, key=key, fulfilment=fulfilment)
    status, got = step(api, tokens_["staff_a"], "pick", order["order_id"], all_picked(order))
    assert status == 200 and got["status"] == "picked", got
    return got


def test_a_pick_straight_from_paid_records_both_steps(api, catalogue, tokens_):
    order = paid(api, tokens_, items=(("100", 3), ("101", 2)))
    oid, staff = order["order_id"], tokens_["staff_a"]
    status, got = step(api, staff, "pick", oid, all_picked(order, s100=1))
    assert status == 200 and got["status"] == "picked"
    assert actions(got, 2) == [
        ("start_picking", "paid", "picking"),
        ("finish_picking", "picking", "picked"),
    ]
    start, finish = got["history"][-2:]
    assert start["reason"] is None and finish["reason"] == "1 units short"
    assert start["at"] == finish["at"] and start["role"] == finish["role"] == "store_staff"
    refund = RefundModel.get(f"{oid}:shortage")
    assert refund.amount_fen == got["refunded_fen"] > 0 and refund.status == "succeeded"
    # What was answered is what was stored, and the customer can no longer cancel.
    stored = api.call("GET", f"/orders/{oid}", token=staff)[1]
    got.pop("refunds")
    assert got == {k: stored[k] for k in got}
    status, err = api.call("POST", f"/orders/{oid}/cancel", {}, tokens_["customer"])
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    # The amendment slip is printed as after a pick in two requests.
    assert len(OrderModel.get(oid).print_job_ids) == 2


def test_nothing_found_straight_from_paid_cancels_and_refunds_everything(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid = order["order_id"]
    nothing = {"lines": [{"sku": x["sku"], "picked_qty": 0} for x in order["lines"]]}
    status, got = step(api, tokens_["staff_a"], "pick", oid, nothing)
    assert status == 200 and got["status"] == "cancelled"
    assert actions(got, 2) == [
        ("start_picking", "paid", "picking"),
        ("cancel_out_of_stock", "picking", "cancelled"),
    ]
    assert got["refunded_fen"] == order["paid_fen"]
    assert RefundModel.get(f"{oid}:shortage").delivery_fee_fen == order["delivery_fee_fen"]
    assert stock("100") == 8  # not restocked, as from picking


def test_a_pick_is_refused_where_neither_step_fits(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    status, _ = api.call("POST", f"/orders/{oid}/cancel", {}, tokens_["customer"])
    assert status == 200
    status, err = step(api, staff, "pick", oid, all_picked(order))
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    assert err["error"]["details"]["allowed_from"] == ["paid", "picking"]
    assert err["error"]["details"]["from"] == "cancelled"
    assert RefundModel.get(f"{oid}:cancel") and RefundModel.count() == 1


def test_start_picking_stays_for_stores_that_claim_orders_on_screen(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    assert step(api, staff, "start_picking", oid)[0] == 200
    status, got = step(api, staff, "pick", oid, all_picked(order))
    assert status == 200
    assert [h["action"] for h in got["history"]].count("start_picking") == 1
    assert actions(got, 1) == [("finish_picking", "picking", "picked")]


def test_checkout_with_dispatch_is_two_steps_in_one_request(api, catalogue, tokens_):
    order = picked_order(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    status, got = checkout(api, staff, oid, then="dispatch")
    assert status == 200 and got["status"] == "out_for_delivery"
    assert actions(got, 2) == [
        ("checkout", "picked", "checked_out"),
        ("dispatch", "checked_out", "out_for_delivery"),
    ]
    assert [h["actor"] for h in got["history"][-2:]] == ["sh-a-staff"] * 2
    saved = OrderModel.get(oid)
    assert saved.store_queue == "sh-a#open" and saved.status == "out_for_delivery"
    assert saved.due_kind is None and saved.due_at is None  # as after dispatch
    status, page = api.call("GET", "/admin/stores/sh-a/orders?status=out_for_delivery", token=staff)
    assert [o["order_id"] for o in page["items"]] == [oid]
    stored = api.call("GET", f"/orders/{oid}", token=staff)[1]
    got.pop("refunds")
    assert got == {k: stored[k] for k in got}
    # Then on as after two requests: delivered (auto-completion due) and confirmed.
    assert step(api, staff, "deliver", oid)[0] == 200
    delivered = OrderModel.get(oid)
    assert delivered.store_queue == "sh-a#delivered" and delivered.due_at is not None
    status, done = step(api, tokens_["customer"], "confirm", oid)
    assert status == 200 and done["status"] == "completed"


def test_checkout_of_a_pickup_order_with_ready_for_pickup_waits_for_its_code(
    api, catalogue, tokens_
):
    order = picked_order(api, tokens_, fulfilment="pickup")
    oid, staff = order["order_id"], tokens_["staff_a"]
    code = OrderModel.get(oid).pickup_code
    status, got = checkout(api, staff, oid, then="ready_for_pickup")
    assert status == 200 and got["status"] == "ready_for_pickup"
    assert got["pickup_code"] is None  # staff never see the code
    assert actions(got, 2) == [
        ("checkout", "picked", "checked_out"),
        ("ready_for_pickup", "checked_out", "ready_for_pickup"),
    ]
    saved = OrderModel.get(oid)
    assert saved.pickup_code == code and saved.due_kind is None
    customer_view = api.call("GET", f"/orders/{oid}", token=tokens_["customer"])[1]
    assert customer_view["pickup_code"] == code
    status, done = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": code}, staff)
    assert status == 200 and done["status"] == "completed"


@pytest.mark.parametrize(
    ("fulfilment", "then", "allowed"),
    [("delivery", "ready_for_pickup", "dispatch"), ("pickup", "dispatch", "ready_for_pickup")],
)
def test_a_hand_over_of_the_other_fulfilment_is_refused(
    api, catalogue, tokens_, fulfilment, then, allowed
):
    order = picked_order(api, tokens_, fulfilment=fulfilment)
    oid = order["order_id"]
    status, err = checkout(api, tokens_["staff_a"], oid, then=then)
    assert status == 409 and err["error"]["code"] == "fulfilment_mismatch"
    assert err["error"]["details"] == {"fulfilment": fulfilment, "then": then, "allowed": [allowed]}
    saved = OrderModel.get(oid)
    assert saved.status == "picked" and len(saved.history) == len(order["history"])


def test_checkout_with_dispatch_needs_a_picked_order(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    status, err = checkout(api, staff, oid, then="dispatch")
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    assert err["error"]["details"]["action"] == "checkout"
    status, err = checkout(api, staff, oid, then="deliver")
    assert status == 422
    assert OrderModel.get(oid).status == "paid"


def test_a_retried_checkout_changes_nothing(api, catalogue, tokens_):
    order = picked_order(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    status, first = checkout(api, staff, oid, then="dispatch")
    assert status == 200
    # The answer was lost and the POS sends the same request again: the same order back.
    status, again = checkout(api, staff, oid, then="dispatch")
    assert status == 200 and again == first
    history = OrderModel.get(oid).history
    assert [h.action for h in history].count("checkout") == 1
    assert [h.action for h in history].count("dispatch") == 1
    # Not a retry: another account, another request, or after the order moved on.
    status, err = checkout(api, tokens_["manager_a"], oid, then="dispatch")
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    status, err = checkout(api, staff, oid)
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    assert step(api, staff, "deliver", oid)[0] == 200
    status, err = checkout(api, staff, oid, then="dispatch")
    assert status == 409 and err["error"]["code"] == "illegal_transition"
    assert len(OrderModel.get(oid).history) == len(history) + 1
