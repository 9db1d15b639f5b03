"""The store's work queue (GET /admin/stores/{store_id}/orders?status=...) from the
by_store_queue index: an order enters it when paid and keeps its index key until it is
delivered, so a step rewrites one small entry instead of moving it; it leaves the index
when final. Lists filter on the projected status and answer every status the store works
on, oldest first, page after page; unpaid and final orders are listed by business day."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from chalicelib.kernel import clock, config, cursors
from chalicelib.orders import order_flow
from chalicelib.orders import service as order_service
from chalicelib.orders.models import OrderDetailModel, OrderModel
from pynamodb.expressions.update import RemoveAction

from tests.api.test_orders_api import cart, place
from tests.api.test_store_workflow import all_picked, step
from tests.order_steps import STAFF_A

T0 = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
URL = "/admin/stores/sh-a/orders"


@pytest.fixture
def at(monkeypatch):
    def move(seconds: float = 0) -> None:
        moment = T0 + timedelta(seconds=seconds)
        monkeypatch.setattr(clock, "now", lambda: moment)

    move()
    return move


def new_order(api, tokens_, n, fulfilment="delivery", pay=True):
    skus = ("100", "101") if n % 2 else ("102", "103")
    _, body = place(
        api,
        tokens_["customer"],
        cart(*((s, 1) for s in skus), fulfilment=fulfilment),
        f"key-sq-{n:04}",
    )
    assert "order_id" in body, body
    if pay:
        status, ack = api.call(
            "POST", f"/local/payments/{body['order_id']}/complete", {}, tokens_["customer"]
        )
        assert status == 200 and ack["code"] == "SUCCESS", ack
    return body["order_id"]


def queue_key(order_id):
    return OrderModel.get(order_id, consistent_read=True).store_queue


def walk(api, tokens_, order_id, until):
    """Take a paid order step by step until it is in state ``until``."""
    order = api.call("GET", f"/orders/{order_id}", token=tokens_["customer"])[1]
    staff, manager = tokens_["staff_a"], tokens_["manager_a"]
    pickup = order["fulfilment"] == "pickup"
    path = [
        ("start_picking", staff, None, "picking"),
        ("pick", staff, all_picked(order), "picked"),
        ("checkout", manager, None, "ready_for_pickup" if pickup else "checked_out"),
        ("dispatch", staff, None, "out_for_delivery"),
        ("deliver", staff, None, "delivered"),
        ("confirm", tokens_["customer"], None, "completed"),
    ]
    reached = [to for *_, to in path]
    for name, token, body, to in path:
        if order["status"] == until:
            return
        if order["status"] in reached[reached.index(to) :]:
            continue  # taken before
        status, order = step(api, token, name, order_id, body)
        assert status == 200 and order["status"] == to, (name, order)
    assert order["status"] == until


def test_an_order_enters_the_queue_when_paid_and_keeps_its_key_until_it_is_delivered(
    api, catalogue, tokens_
):
    oid = new_order(api, tokens_, 1, pay=False)
    assert queue_key(oid) is None  # unpaid: the store cannot act on it
    assert OrderModel.get(oid).due_kind == "expire"
    api.call("POST", f"/local/payments/{oid}/complete", {}, tokens_["customer"])
    keys = [queue_key(oid)]
    for state in ("picking", "picked", "checked_out", "out_for_delivery"):
        walk(api, tokens_, oid, state)
        keys.append(queue_key(oid))
    assert keys == ["sh-a#open"] * 5
    walk(api, tokens_, oid, "delivered")
    assert queue_key(oid) == "sh-a#delivered"
    walk(api, tokens_, oid, "completed")
    assert queue_key(oid) is None  # final: out of the work queue
    assert [o.order_id for o in OrderModel.by_store_queue.query("sh-a#open")] == []
    assert [o.order_id for o in OrderModel.by_store_queue.query("sh-a#delivered")] == []


def test_an_unpaid_order_is_not_in_the_store_queue_until_paid(api, catalogue, tokens_):
    staff = tokens_["staff_a"]
    oid = new_order(api, tokens_, 1, pay=False)
    for status in ("paid", "picking"):
        _, page = api.call("GET", f"{URL}?status={status}", token=staff)
        assert page["items"] == []
    api.call("POST", f"/local/payments/{oid}/complete", {}, tokens_["customer"])
    _, page = api.call("GET", f"{URL}?status=paid", token=staff)
    assert [o["order_id"] for o in page["items"]] == [oid]


def _key_actions(actions):
    return [
        f"REMOVE {a}" if isinstance(a, RemoveAction) else str(a)
        for a in actions
        if a.values[0].path[0] in ("store_queue", "store_status")
    ]


def test_a_step_inside_the_bucket_writes_no_queue_key():
    """The update of a step that stays in the bucket leaves the index key alone; one that
    changes it sets it once; payment sets it, a final state removes it."""
    order = OrderModel("O-SQ-1", store_id="sh-a", status="paid", store_queue="sh-a#open")
    for action, status in (
        ("start_picking", "paid"),
        ("finish_picking", "picking"),
        ("dispatch", "checked_out"),
        ("ready_for_pickup", "checked_out"),
    ):
        order.status = status
        _, actions, _ = order_flow.transition_actions(order, action, STAFF_A, None)
        assert _key_actions(actions) == [], action
    order.status = "out_for_delivery"
    _, actions, _ = order_flow.transition_actions(order, "deliver", STAFF_A, None)
    assert _key_actions(actions) == ["store_queue = {'S': 'sh-a#delivered'}"]
    for action, status, queue in (
        ("confirm_receipt", "delivered", "sh-a#delivered"),
        ("collect", "ready_for_pickup", "sh-a#open"),
        ("cancel", "paid", "sh-a#open"),
        ("cancel_out_of_stock", "picking", "sh-a#open"),
        ("expire", "awaiting_payment", "sh-a#open"),  # keyed by the release before
    ):
        order.status, order.store_queue = status, queue
        _, actions, _ = order_flow.transition_actions(order, action, STAFF_A, None)
        assert _key_actions(actions) == ["REMOVE store_queue"], action
    unpaid = OrderModel("O-SQ-2", store_id="sh-a", status="awaiting_payment")
    _, actions, _ = order_flow.transition_actions(unpaid, "pay", STAFF_A, None)
    assert _key_actions(actions) == ["store_queue = {'S': 'sh-a#open'}"]
    for action in ("expire", "cancel"):
        _, actions, _ = order_flow.transition_actions(unpaid, action, STAFF_A, None)
        assert _key_actions(actions) == [], action


@pytest.fixture
def mixed(api, catalogue, tokens_, at):
    """Orders one second apart in every state a store lists (two or three in some)."""
    plan = [
        ("paid", "delivery"),
        ("picking", "delivery"),
        ("paid", "pickup"),
        ("awaiting_payment", "delivery"),
        ("picked", "delivery"),
        ("paid", "delivery"),
        ("checked_out", "delivery"),
        ("out_for_delivery", "delivery"),
        ("ready_for_pickup", "pickup"),
        ("delivered", "delivery"),
        ("completed", "delivery"),
        ("cancelled", "delivery"),
        ("picking", "pickup"),
        ("completed", "pickup"),
        ("awaiting_payment", "pickup"),
    ]
    by_status: dict[str, list[str]] = {}
    for n, (state, fulfilment) in enumerate(plan):
        at(seconds=n)
        oid = new_order(api, tokens_, n, fulfilment, pay=state != "awaiting_payment")
        by_status.setdefault(state, []).append(oid)
    at(seconds=len(plan))
    for state, ids in by_status.items():
        for oid in ids:
            if state == "cancelled":
                status, _ = api.call("POST", f"/orders/{oid}/cancel", {}, tokens_["customer"])
                assert status == 200
            elif state == "completed" and oid in by_status["completed"][1:]:
                walk(api, tokens_, oid, "ready_for_pickup")
                status, _ = api.call(
                    "POST",
                    "/admin/stores/sh-a/pickups",
                    {"pickup_code": OrderModel.get(oid).pickup_code},
                    tokens_["staff_a"],
                )
                assert status == 200
            elif state not in ("paid", "awaiting_payment"):
                walk(api, tokens_, oid, state)
    return by_status


def pages(api, token, query):
    out, cursor = [], None
    while True:
        status, page = api.call(
            "GET", f"{URL}?{query}" + (f"&cursor={cursor}" if cursor else ""), token=token
        )
        assert status == 200, page
        out.append([(o["order_id"], o["status"]) for o in page["items"]])
        cursor = page["next_cursor"]
        if not cursor:
            return out


# Statuses the store works on (the work queue), and those listed by business day only.
QUEUED = ("paid", "picking", "picked", "checked_out", "out_for_delivery", "delivered")
BY_DAY = ("awaiting_payment", "completed", "cancelled", "expired")


@pytest.mark.parametrize("index_page", [1, 3, 100])
def test_every_status_lists_its_orders_oldest_first_page_by_page(
    api, tokens_, mixed, monkeypatch, index_page
):
    """Whatever the index page size (1: most DynamoDB pages hold no match), each page
    holds ``limit`` orders in the status asked for, the last one the rest."""
    monkeypatch.setattr(order_service, "QUEUE_PAGE", index_page)
    for state, ids in mixed.items():
        if state in BY_DAY:
            continue
        for limit in (1, 2, 20):
            got = pages(api, tokens_["hq"], f"status={state}&limit={limit}")
            flat = [entry for page in got for entry in page]
            assert flat == [(oid, state) for oid in ids], (state, limit, got)
            assert all(len(page) == limit for page in got[:-1]), (state, limit, got)
            assert len(got) <= len(ids) // limit + 1, (state, limit, got)
    assert set(QUEUED) | {"ready_for_pickup"} <= set(mixed)


def test_unpaid_and_final_orders_are_listed_by_day(api, tokens_, mixed):
    """Not in the work queue: without a day the status is refused (422 on status, like
    status=any), with one the day's orders in that status come newest first."""
    for state in BY_DAY:
        status, err = api.call("GET", f"{URL}?status={state}", token=tokens_["staff_a"])
        assert status == 422, (state, err)
        assert [d["field"] for d in err["error"]["details"]] == ["status"]
        got = pages(api, tokens_["staff_a"], f"status={state}&date=2026-11-24&limit=1")
        flat = [entry for page in got for entry in page]
        assert flat == [(oid, state) for oid in reversed(mixed.get(state, []))], state
    # Out of the index: the buckets hold only orders the store still works on.
    listed = {
        o.order_id
        for bucket in ("open", "delivered")
        for o in OrderModel.by_store_queue.query(f"sh-a#{bucket}")
    }
    assert listed == {oid for state in mixed if state not in BY_DAY for oid in mixed[state]}


def test_a_cursor_from_another_listing_is_refused(api, tokens_, mixed):
    staff = tokens_["staff_a"]
    _, paid_page = api.call("GET", f"{URL}?status=paid&limit=1", token=staff)
    cursor = paid_page["next_cursor"]
    status, page = api.call("GET", f"{URL}?status=paid&limit=1&cursor={cursor}", token=staff)
    assert status == 200 and [o["order_id"] for o in page["items"]] == [mixed["paid"][1]]
    _, day_page = api.call("GET", f"{URL}?date=2026-11-24&limit=1", token=staff)
    _, mine = api.call("GET", "/orders?limit=1", token=tokens_["customer"])
    forged = order_service.encode_cursor(
        {
            "order_id": {"S": mixed["picking"][0]},
            "store_queue": {"S": "sh-a#open"},
            "created_at": {"S": "2026-11-24T04:00:00Z"},
        }
    )
    altered = [
        cursors.encode({**json.loads(base64.urlsafe_b64decode(cursor + "==")), **change})
        for change in (
            {"store_queue": {"S": "sh-b#open"}},  # another store's queue
            {"order_id": 5},
            {"created_at": {"N": "1"}},
            {"extra": {"S": "x"}},
        )
    ]
    for query in (
        *(f"status=paid&cursor={c}" for c in altered),
        f"status=picking&cursor={cursor}",  # the same bucket, another status
        f"status=delivered&cursor={cursor}",  # another bucket
        f"status=paid&cursor={day_page['next_cursor']}",
        f"status=paid&cursor={mine['next_cursor']}",
        f"status=picking&cursor={forged}",  # a key without the status it lists
        "status=paid&cursor=%%%",
    ):
        status, body = api.call("GET", f"{URL}?{query}", token=staff)
        assert status == 400 and body["error"]["code"] == "bad_cursor", (query, body)


def test_the_pickup_counter_finds_only_orders_ready_for_pickup(api, catalogue, tokens_):
    """Orders still being worked on share the bucket: one with the same code is not a
    match (no 409 ambiguous)."""
    early = new_order(api, tokens_, 1, "pickup")
    ready = new_order(api, tokens_, 2, "pickup")
    walk(api, tokens_, ready, "ready_for_pickup")
    for oid in (early, ready):
        OrderModel(oid).update(
            actions=[OrderModel.pickup_code.set("424242")], add_version_condition=False
        )
    status, done = api.call(
        "POST", "/admin/stores/sh-a/pickups", {"pickup_code": "424242"}, tokens_["staff_a"]
    )
    assert status == 200 and done["order_id"] == ready and done["status"] == "completed"
    assert OrderModel.get(early).status == "paid"


def test_auto_completion_completes_due_delivered_orders_of_every_store(api, catalogue, tokens_, at):
    """The hourly job reads each store's delivered bucket: an order completes when its
    due time (delivery + AUTO_COMPLETE_DAYS) has passed, not before, even one placed long
    before it was delivered."""
    from chalicelib.orders.store_workflow import auto_complete_due

    day = 86400
    days = config.AUTO_COMPLETE_DAYS * day
    early = new_order(api, tokens_, 1)
    walk(api, tokens_, early, "delivered")  # at T0: due at T0 + days
    late = new_order(api, tokens_, 2)  # placed at T0, delivered 3 days later
    at(seconds=3 * day)
    walk(api, tokens_, late, "delivered")
    at(seconds=5 * day)
    recent = new_order(api, tokens_, 3)
    walk(api, tokens_, recent, "delivered")
    # A delivered order of another store (sh-b takes pickups only in these tests), as the
    # order flow writes it.
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = OrderModel.Meta.table_name
    item = ddb.get_item(TableName=table, Key={"order_id": {"S": early}})["Item"]
    other = "O-SHB-1"
    item.update(order_id={"S": other}, store_id={"S": "sh-b"}, store_queue={"S": "sh-b#delivered"})
    ddb.put_item(TableName=table, Item=item)
    details = OrderDetailModel.Meta.table_name
    detail = ddb.get_item(TableName=details, Key={"order_id": {"S": early}})["Item"]
    ddb.put_item(TableName=details, Item={**detail, "order_id": {"S": other}})
    t0 = int(T0.timestamp())

    def status(oid):
        return OrderModel.get(oid).status

    assert auto_complete_due(now_epoch=t0 + days - 1) == 0
    assert auto_complete_due(now_epoch=t0 + days) == 2
    assert [status(o) for o in (early, other, late, recent)] == [
        "completed",
        "completed",
        "delivered",
        "delivered",
    ]
    assert auto_complete_due(now_epoch=t0 + 3 * day + days) == 1
    assert (status(late), status(recent)) == ("completed", "delivered")
    assert auto_complete_due(now_epoch=t0 + 5 * day + days) == 1
    assert status(recent) == "completed"
    done = OrderModel.get(recent)
    assert done.store_queue is None and done.due_at is None
    assert done.history[-1].action == "auto_complete"
    assert list(OrderModel.by_store_queue.query("sh-a#delivered")) == []
