"""The store's side of the order flow through the API: queue, picking with shortages,
POS checkout, delivery, pickup at the counter, confirmation and auto-completion."""

from __future__ import annotations

import time

import pytest
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import config
from chalicelib.kernel.money import refund_for_units
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel, RefundModel

from tests.api.test_orders_api import cart, place
from tests.order_steps import with_discount

# (route template, action name) of every staff step, to try each one in every state.
STEPS = {
    "start_picking": ("POST", "/admin/orders/{id}/start-picking"),
    "dispatch": ("POST", "/admin/orders/{id}/dispatch"),
    "deliver": ("POST", "/admin/orders/{id}/deliver"),
}


def paid(api, tokens_, items=(("100", 2), ("101", 1)), key="key-wf-00001", **kw):
    _, order = place(api, tokens_["customer"], cart(*items, **kw), key)
    status, ack = api.call(
        "POST", f"/local/payments/{order['order_id']}/complete", {}, tokens_["customer"]
    )
    assert status == 200 and ack["code"] == "SUCCESS", ack
    return api.call("GET", f"/orders/{order['order_id']}", token=tokens_["customer"])[1]


def all_picked(order, **short):
    return {
        "lines": [
            {"sku": line["sku"], "picked_qty": line["qty"] - short.get(f"s{line['sku']}", 0)}
            for line in order["lines"]
        ]
    }


def step(api, token, name, order_id, body=None):
    if name == "pick":
        return api.call("POST", f"/admin/orders/{order_id}/pick", body, token)
    if name == "checkout":
        return api.call("POST", "/admin/stores/sh-a/checkout", {"order_code": order_id}, token)
    if name == "confirm":
        return api.call("POST", f"/orders/{order_id}/confirm", None, token)
    method, path = STEPS[name]
    return api.call(method, path.format(id=order_id), None, token)


def stock(sku, store="sh-a"):
    return int(StoreItemModel.get(store, sku).stock)


def test_the_store_queue_lists_paid_orders_oldest_first(api, catalogue, tokens_):
    first = paid(api, tokens_, key="key-q-000001")
    second = paid(api, tokens_, key="key-q-000002")
    status, page = api.call(
        "GET", "/admin/stores/sh-a/orders?status=paid", token=tokens_["staff_a"]
    )
    assert status == 200
    assert [o["order_id"] for o in page["items"]] == [first["order_id"], second["order_id"]]
    assert all(o["pickup_code"] is None for o in page["items"])
    _, p1 = api.call("GET", "/admin/stores/sh-a/orders?limit=1", token=tokens_["manager_a"])
    assert [o["order_id"] for o in p1["items"]] == [first["order_id"]]
    _, p2 = api.call(
        "GET", f"/admin/stores/sh-a/orders?limit=1&cursor={p1['next_cursor']}", token=tokens_["hq"]
    )
    assert [o["order_id"] for o in p2["items"]] == [second["order_id"]]
    status, err = api.call("GET", "/admin/stores/sh-a/orders", token=tokens_["manager_b"])
    assert status == 403 and err["error"]["code"] == "other_store"
    status, err = api.call("GET", "/admin/stores/sh-a/orders?status=lost", token=tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "status"
    status, page = api.call("GET", "/admin/stores/sh-b/orders", token=tokens_["manager_b"])
    assert status == 200 and page["items"] == []


def test_a_delivery_order_walks_every_step_and_refuses_every_other(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid, staff, customer = order["order_id"], tokens_["staff_a"], tokens_["customer"]
    path = [
        ("start_picking", staff, None, "picking"),
        ("pick", staff, all_picked(order), "picked"),
        ("checkout", tokens_["manager_a"], None, "checked_out"),
        ("dispatch", staff, None, "out_for_delivery"),
        ("deliver", staff, None, "delivered"),
        ("confirm", customer, None, "completed"),
    ]
    for name, token, body, to in path:
        for other, other_token, other_body, _ in path:
            # every other step is illegal from here, except a pick straight from paid and
            # the manager's own checkout repeated right after it (a retry, answered as it
            # is): test_a_pick_straight_from_paid_records_both_steps,
            # test_a_retried_checkout_changes_nothing
            allowed = {("start_picking", "pick"), ("dispatch", "checkout")}
            if other != name and (name, other) not in allowed:
                status, err = step(api, other_token, other, oid, other_body)
                assert status == 409, (name, other, status, err)
                assert err["error"]["code"] == "illegal_transition"
        status, got = step(api, token, name, oid, body)
        assert status == 200, (name, got)
        assert got["status"] == to and got["history"][-1]["to_state"] == to
    assert [h["action"] for h in got["history"]] == [
        "place",
        "pay",
        "start_picking",
        "finish_picking",
        "checkout",
        "dispatch",
        "deliver",
        "confirm_receipt",
    ]
    by_action = {h["action"]: h for h in got["history"]}  # as the customer sees it
    assert by_action["checkout"]["actor"] == "store"  # no staff login names for customers
    assert by_action["checkout"]["role"] == "store_manager"
    assert by_action["confirm_receipt"]["actor"] == "c-1"
    _, for_staff = api.call("GET", f"/orders/{oid}", token=staff)
    assert {h["action"]: h for h in for_staff["history"]}["checkout"]["actor"] == "sh-a-manager"
    saved = order_flow.get(oid)
    assert saved.due_kind is None and saved.due_at is None
    assert RefundModel.count() == 0 and saved.refunded_fen == 0
    assert saved.short_picked is not None and not saved.short_picked.as_dict()
    for line in saved.lines:
        assert line.picked_qty == line.qty


def test_delivering_schedules_auto_completion(api, catalogue, tokens_):
    from chalicelib import jobs
    from chalicelib.orders.store_workflow import auto_complete_due

    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    for name, body in [
        ("start_picking", None),
        ("pick", all_picked(order)),
        ("checkout", None),
        ("dispatch", None),
        ("deliver", None),
    ]:
        assert step(api, staff, name, oid, body)[0] == 200
    saved = OrderModel.get(oid)
    expected = time.time() + config.AUTO_COMPLETE_DAYS * 86400
    assert abs(saved.due_at - expected) < 60
    # Not in by_due: the job reads the store's delivered bucket.
    assert saved.due_kind is None and saved.store_queue == "sh-a#delivered"
    assert auto_complete_due() == 0
    jobs.auto_complete()  # the scheduled job: not due yet
    assert OrderModel.get(oid).status == "delivered"
    assert auto_complete_due(now_epoch=int(saved.due_at)) == 1
    done = OrderModel.get(oid)
    assert done.status == "completed" and done.due_kind is None and done.due_at is None
    last = done.history[-1]
    assert (last.action, last.actor, last.from_state) == ("auto_complete", "system", "delivered")
    assert auto_complete_due(now_epoch=2**40) == 0  # nothing left to do
    status, err = step(api, tokens_["customer"], "confirm", oid)
    assert status == 409 and err["error"]["code"] == "illegal_transition"


def test_a_pickup_order_is_ready_at_checkout_and_completed_with_its_code(api, catalogue, tokens_):
    order = paid(api, tokens_, fulfilment="pickup")
    oid, staff = order["order_id"], tokens_["staff_a"]
    code = order["pickup_code"]
    assert code and len(code) == 6
    assert step(api, staff, "start_picking", oid)[0] == 200
    assert step(api, staff, "pick", oid, all_picked(order))[0] == 200
    status, err = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": code}, staff)
    assert status == 404 and err["error"]["code"] == "pickup_code_not_found"  # not ready yet
    status, ready = api.call(
        "POST", "/admin/stores/sh-a/checkout", {"order_code": oid.lower()}, staff
    )
    assert status == 200 and ready["status"] == "ready_for_pickup"
    assert ready["pickup_code"] is None  # staff never see the code
    assert [(h["action"], h["from_state"], h["to_state"]) for h in ready["history"][-2:]] == [
        ("checkout", "picked", "checked_out"),
        ("ready_for_pickup", "checked_out", "ready_for_pickup"),
    ]
    assert step(api, staff, "dispatch", oid)[0] == 409
    wrong = "000000" if code != "000000" else "111111"
    status, err = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": wrong}, staff)
    assert status == 404 and err["error"]["code"] == "pickup_code_not_found"
    assert "check the code" in err["error"]["message"]
    status, err = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": "12ab"}, staff)
    assert status == 422
    status, err = api.call(
        "POST", "/admin/stores/sh-b/pickups", {"pickup_code": code}, tokens_["manager_b"]
    )
    assert status == 404  # another store's counter does not find it
    status, done = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": code}, staff)
    assert status == 200 and done["status"] == "completed"
    assert done["history"][-1]["action"] == "collect"
    status, err = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": code}, staff)
    assert status == 404


def test_two_ready_orders_with_one_code_need_the_order_code(api, catalogue, tokens_):
    orders = [paid(api, tokens_, key=f"key-amb-0000{i}", fulfilment="pickup") for i in range(2)]
    for o in orders:
        OrderModel(o["order_id"]).update(
            actions=[OrderModel.pickup_code.set("424242")], add_version_condition=False
        )
        step(api, tokens_["staff_a"], "start_picking", o["order_id"])
        step(api, tokens_["staff_a"], "pick", o["order_id"], all_picked(o))
        step(api, tokens_["staff_a"], "checkout", o["order_id"])
    status, err = api.call(
        "POST", "/admin/stores/sh-a/pickups", {"pickup_code": "424242"}, tokens_["staff_a"]
    )
    assert status == 409 and err["error"]["code"] == "pickup_code_ambiguous"
    assert {o["order_id"] for o in err["error"]["details"]["orders"]} == {
        o["order_id"] for o in orders
    }
    status, done = api.call(
        "POST",
        "/admin/stores/sh-a/pickups",
        {"pickup_code": "424242", "order_code": orders[1]["order_id"]},
        tokens_["staff_a"],
    )
    assert status == 200 and done["order_id"] == orders[1]["order_id"]


def test_a_shortage_refunds_exactly_what_the_missing_units_cost(
    api, catalogue, tokens_, monkeypatch
):
    with_discount(monkeypatch, 777)  # an order-level discount shared over the lines
    order = paid(api, tokens_, items=(("100", 3), ("101", 2), ("102", 1)))
    oid, staff = order["order_id"], tokens_["staff_a"]
    assert order["discount_fen"] == 777 and sum(x["discount_fen"] for x in order["lines"]) == 777
    step(api, staff, "start_picking", oid)
    status, picked = step(api, staff, "pick", oid, all_picked(order, s100=2, s102=1))
    assert status == 200 and picked["status"] == "picked"
    lines = {x["sku"]: x for x in order["lines"]}
    expected = refund_for_units(lines["100"]["paid_fen"], 3, 0, 2) + lines["102"]["paid_fen"]
    assert picked["refunded_fen"] == expected
    got = {x["sku"]: x for x in picked["lines"]}
    assert (got["100"]["picked_qty"], got["100"]["refunded_units"]) == (1, 2)
    assert got["101"]["refunded_units"] == 0 and got["101"]["refunded_fen"] == 0
    assert got["102"]["refunded_fen"] == lines["102"]["paid_fen"]
    refund = RefundModel.get(f"{oid}:shortage")
    assert refund.status == "succeeded" and refund.amount_fen == expected
    assert refund.reason == "shortage" and refund.delivery_fee_fen == 0
    assert sorted((x.sku, x.units) for x in refund.lines) == [("100", 2), ("102", 1)]
    assert (stock("100"), stock("102")) == (7, 9)  # no restock: the goods are not there
    assert picked["history"][-1]["reason"] == "3 units short"
    # The answer is computed, not read back (db/applied.py): it is what was stored.
    stored = api.call("GET", f"/orders/{oid}", token=staff)[1]
    picked.pop("refunds")  # null on an action's answer, listed by GET
    assert picked == {k: stored[k] for k in picked}
    status, _ = step(api, staff, "pick", oid, all_picked(order))
    assert status == 409 and RefundModel.count() == 1  # a repeat refunds nothing twice


def test_a_shortage_prints_an_amendment_slip_citing_the_ticket(api, catalogue, tokens_):
    import json
    from pathlib import Path

    import jsonschema
    from chalicelib.orders.models import OrderModel
    from chalicelib.printing import dispatch as print_dispatch
    from chalicelib.printing import print_queues
    from chalicelib.printing.models import PrintJobModel

    order = paid(api, tokens_, items=(("100", 3), ("101", 2)))
    oid, staff = order["order_id"], tokens_["staff_a"]
    step(api, staff, "start_picking", oid)
    status, picked = step(api, staff, "pick", oid, all_picked(order, s100=2))
    assert status == 200
    first, slip_id = sorted(OrderModel.get(oid).print_job_ids)
    slip = PrintJobModel.get(slip_id)
    assert (slip.kind, slip.copies, slip.original_job_id) == ("amendment", {"slip"}, first)

    print_queues.forget()
    assert print_dispatch.dispatch(slip_id) is True
    from chalicelib.kernel.queues import sqs_client

    got = sqs_client().receive_message(QueueUrl=print_queues.url("sh-a"), MaxNumberOfMessages=10)
    (body,) = [json.loads(m["Body"]) for m in got["Messages"] if slip_id in m["Body"]]
    schema = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "print-job.v1.json"
    jsonschema.Draft202012Validator(json.loads(schema.read_text(encoding="utf-8"))).validate(body)
    assert body["kind"] == "amendment" and body["copies"] == ["slip"]
    amendment = body["amendment"]
    assert amendment["short_lines"] == [
        {
            "sku": "100",
            "name": amendment["short_lines"][0]["name"],
            "unit": "份",
            "qty": 3,
            "picked_qty": 1,
        }
    ]
    assert amendment["refund_fen"] == picked["refunded_fen"]
    assert amendment["total_fen"] == picked["total_fen"] - picked["refunded_fen"]
    # No shortage, no slip.
    other = paid(api, tokens_, key="key-noslip-01", items=(("100", 1), ("101", 1)))
    step(api, staff, "start_picking", other["order_id"])
    assert step(api, staff, "pick", other["order_id"], all_picked(other))[0] == 200
    assert len(OrderModel.get(other["order_id"]).print_job_ids) == 1


def test_nothing_left_cancels_and_refunds_everything_with_the_delivery_fee(api, catalogue, tokens_):
    order = paid(api, tokens_)
    assert order["delivery_fee_fen"] == 500
    oid = order["order_id"]
    step(api, tokens_["hq"], "start_picking", oid)
    nothing = {"lines": [{"sku": x["sku"], "picked_qty": 0} for x in order["lines"]]}
    status, cancelled = step(api, tokens_["hq"], "pick", oid, nothing)
    assert status == 200 and cancelled["status"] == "cancelled"
    assert cancelled["refunded_fen"] == order["paid_fen"] == order["total_fen"]
    assert cancelled["history"][-1]["action"] == "cancel_out_of_stock"
    stored = api.call("GET", f"/orders/{oid}", token=tokens_["hq"])[1]
    cancelled.pop("refunds")
    assert cancelled == {k: stored[k] for k in cancelled}
    refund = RefundModel.get(f"{oid}:shortage")
    assert refund.amount_fen == order["paid_fen"] and refund.delivery_fee_fen == 500
    assert stock("100") == 8  # not restocked either
    assert step(api, tokens_["staff_a"], "checkout", oid)[0] == 409


def test_the_picking_result_must_match_the_order(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    step(api, staff, "start_picking", oid)
    bad = {
        "lines": [
            {"sku": "100", "picked_qty": 3},
            {"sku": "100", "picked_qty": 1},
            {"sku": "123", "picked_qty": 1},
        ]
    }
    status, err = step(api, staff, "pick", oid, bad)
    assert status == 422
    fields = [(d["field"], d["reason"]) for d in err["error"]["details"]]
    assert fields[0][0] == "lines[0].picked_qty" and "2 ordered" in fields[0][1]
    assert fields[1][0] == "lines[1].sku" and fields[2][0] == "lines[2].sku"
    assert fields[3][0] == "lines" and "101" in fields[3][1]
    status, err = step(api, staff, "pick", oid, {"lines": [{"sku": "100", "picked_qty": -1}]})
    assert status == 422
    assert OrderModel.get(oid).status == "picking" and RefundModel.count() == 0


def test_a_failed_shortage_refund_is_retried_until_the_provider_takes_it(
    api, catalogue, tokens_, monkeypatch
):
    from chalicelib.orders import refunds
    from chalicelib.orders.payment_providers import LocalPaymentProvider, RefundFailed

    order = paid(api, tokens_)
    oid = order["order_id"]
    step(api, tokens_["staff_a"], "start_picking", oid)
    original = LocalPaymentProvider.refund
    calls = []

    def failing(self, *args):
        calls.append(args)
        raise RefundFailed("provider down")

    monkeypatch.setattr(LocalPaymentProvider, "refund", failing)
    status, picked = step(api, tokens_["staff_a"], "pick", oid, all_picked(order, s101=1))
    assert status == 200 and picked["status"] == "picked"  # the store's work goes on
    refund = RefundModel.get(f"{oid}:shortage")
    assert (
        refund.status == "pending" and refund.attempts == 1 and "provider down" in refund.last_error
    )
    monkeypatch.setattr(LocalPaymentProvider, "refund", original)
    assert refunds.retry_pending() == 1
    assert RefundModel.get(f"{oid}:shortage").status == "succeeded"
    assert refunds.retry_pending() == 0
    assert OrderModel.get(oid).refunded_fen == refund.amount_fen


@pytest.mark.parametrize("name", ["start_picking", "pick", "dispatch", "deliver"], ids=lambda n: n)
def test_another_store_cannot_act_on_the_order(api, catalogue, tokens_, name):
    order = paid(api, tokens_)
    status, err = step(api, tokens_["manager_b"], name, order["order_id"], all_picked(order))
    assert status == 404 and err["error"]["code"] == "order_not_found"
    assert OrderModel.get(order["order_id"]).status == "paid"


def test_checkout_and_pickup_belong_to_the_store_in_the_path(api, catalogue, tokens_):
    order = paid(api, tokens_)
    oid = order["order_id"]
    step(api, tokens_["staff_a"], "start_picking", oid)
    step(api, tokens_["staff_a"], "pick", oid, all_picked(order))
    status, err = api.call(
        "POST", "/admin/stores/sh-a/checkout", {"order_code": oid}, tokens_["manager_b"]
    )
    assert status == 403 and err["error"]["code"] == "other_store"
    status, err = api.call(
        "POST", "/admin/stores/sh-b/checkout", {"order_code": oid}, tokens_["manager_b"]
    )
    assert status == 404 and "this store" in err["error"]["message"]
    status, err = api.call(
        "POST", "/admin/stores/sh-b/checkout", {"order_code": oid}, tokens_["hq"]
    )
    assert status == 404  # head office too: the ticket must be scanned at its own store
    status, err = api.call(
        "POST", "/admin/stores/sh-a/pickups", {"pickup_code": "123456"}, tokens_["manager_b"]
    )
    assert status == 403 and err["error"]["code"] == "other_store"
    assert OrderModel.get(oid).status == "picked"


def test_only_the_customer_confirms_their_own_order(api, catalogue, tokens_):
    from tests.api.conftest import token_for

    order = paid(api, tokens_)
    oid = order["order_id"]
    for name, body in [
        ("start_picking", None),
        ("pick", all_picked(order)),
        ("checkout", None),
        ("dispatch", None),
        ("deliver", None),
    ]:
        step(api, tokens_["staff_a"], name, oid, body)
    status, err = step(api, token_for("c-2", "customer"), "confirm", oid)
    assert status == 404
    status, err = step(api, tokens_["staff_a"], "confirm", oid)
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    assert step(api, tokens_["customer"], "confirm", "261124NOPE0000")[0] == 404
    assert OrderModel.get(oid).status == "delivered"


def test_store_queues_and_the_counter_read_by_key_and_index_only(
    api, catalogue, tokens_, monkeypatch
):
    import botocore.client

    order = paid(api, tokens_, fulfilment="pickup")
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    staff = tokens_["staff_a"]
    assert api.call("GET", "/admin/stores/sh-a/orders", token=staff)[0] == 200
    assert api.call("GET", "/admin/stores/sh-a/returns", token=staff)[0] == 200
    assert api.call("GET", f"/orders/{order['order_id']}/returns", token=staff)[0] == 200
    status, _ = api.call("POST", "/admin/stores/sh-a/pickups", {"pickup_code": "000001"}, staff)
    assert status == 404
    assert calls and "Scan" not in calls


def _writes(monkeypatch):
    """(operation, tables) of every AWS call from now on."""
    import botocore.client

    calls: list[tuple[str, set[str]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, op, params):
        tables = {params["TableName"]} if "TableName" in params else set()
        for item in params.get("TransactItems", []):
            tables |= {x["TableName"] for x in item.values()}
        calls.append((op, tables))
        return original(self, op, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls


def test_picking_everything_writes_the_head_alone_one_small_update(
    api, catalogue, tokens_, monkeypatch
):
    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    detail = config.table_name("order_details")
    before = order_flow.get(oid).detail.serialize()
    calls = _writes(monkeypatch)
    status, got = step(api, staff, "pick", oid, all_picked(order))
    assert status == 200 and got["status"] == "picked"
    assert [line["picked_qty"] for line in got["lines"]] == [2, 1]
    writes = [(op, tables) for op, tables in calls if op not in ("BatchGetItem", "GetItem")]
    assert writes == [("UpdateItem", {config.table_name("orders")})]
    saved = order_flow.get(oid)
    assert saved.detail.serialize() == before and not any(detail in t for _, t in writes)
    assert saved.short_picked is not None and saved.short_picked.as_dict() == {}
    assert [line.picked_qty for line in saved.lines] == [2, 1]


def test_a_short_pick_records_the_short_line_on_the_head_and_its_refund_on_the_detail(
    api, catalogue, tokens_, monkeypatch
):
    order = paid(api, tokens_)
    oid, staff = order["order_id"], tokens_["staff_a"]
    status, got = step(api, staff, "pick", oid, all_picked(order, s100=1))
    assert status == 200, got
    assert [(x["sku"], x["picked_qty"], x["refunded_units"]) for x in got["lines"]] == [
        ("100", 1, 1),
        ("101", 1, 0),
    ]
    saved = order_flow.get(oid)
    assert saved.short_picked.as_dict() == {"100": 1}
    assert [int(x.refunded_units) for x in saved.detail.lines] == [1, 0]
    assert int(saved.detail.lines[0].refunded_fen) == int(saved.refunded_fen) > 0
    # What the API answered is what a read gives.
    assert api.call("GET", f"/orders/{oid}", token=staff)[1]["lines"] == got["lines"]
