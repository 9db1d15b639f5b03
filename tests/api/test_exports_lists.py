"""Exports of head office's order list across stores (its filters, several stores) and
of the returns queue: the rows, and who may export what."""

from __future__ import annotations

import pytest
from chalicelib.auth.principal import Principal
from chalicelib.exports.models import ExportJobModel
from chalicelib.orders import order_flow

from tests.api.test_exports import export, run_worker, start
from tests.api.test_returns import NON_FRESH, _other_return_in
from tests.order_steps import STAFF_A, pick, place_paid, set_fresh


def _day(order_id):
    return order_flow.get(order_id).store_day.split("#")[1]


def _listed(api, token, query):
    status, page = api.call("GET", f"/admin/orders?{query}&limit=100", token=token)
    assert status == 200, page
    return {x["order_id"] for x in page["items"]}


def test_the_all_stores_list_exports_exactly_the_orders_it_shows(api, tokens_, catalogue):
    a_pickup = place_paid([("100", 2), ("101", 1)], "pickup")
    a_short = place_paid([("102", 3)], "pickup")
    pick(a_short, {"102": 1})  # picked short: refunded
    b_pickup = place_paid([("103", 1)], "pickup", store_id="sh-b")
    place_paid([("104", 9)], "delivery")  # not pickup
    day = _day(a_pickup)
    filters = {"store_ids": "sh-b,sh-a", "fulfilment": "pickup", "has_refund": False}
    query = f"store_ids=sh-b,sh-a&fulfilment=pickup&has_refund=false&from={day}&to={day}"
    shown = _listed(api, tokens_["hq"], query)
    assert shown == {a_pickup, b_pickup}
    body = {"kind": "orders", "filters": {**filters, "date_from": day, "date_to": day}}
    job, rows, data = export(api, tokens_["hq"], body)
    assert data.startswith(b"\xef\xbb\xbf")
    assert {r[0] for r in rows[1:]} == shown and len(rows) == 1 + 3  # a_pickup has 2 lines
    assert job["filters"] == {
        "store_ids": "sh-a,sh-b",
        "fulfilment": "pickup",
        "has_refund": "false",
        "date_from": day,
        "date_to": day,
    }
    # a paid range and the refunded ones, as the list filters them
    paid = int(order_flow.get(a_short).paid_fen)
    body["filters"] = {
        "store_ids": "sh-a",
        "has_refund": True,
        "min_paid_fen": paid,
        "max_paid_fen": paid,
        "date_from": day,
        "date_to": day,
    }
    _, rows, _ = export(api, tokens_["hq"], body)
    query = f"store_ids=sh-a&has_refund=true&min_paid_fen={paid}&max_paid_fen={paid}&to={day}"
    assert {r[0] for r in rows[1:]} == _listed(api, tokens_["hq"], query) == {a_short}


def test_the_returns_queue_exports_its_returns(api, tokens_, catalogue):
    set_fresh(NON_FRESH, False)
    ra = _other_return_in("sh-a", STAFF_A)
    rb = _other_return_in("sh-b", Principal("sh-b-staff", "store_staff", "sh-b"))
    body = {"kind": "returns", "filters": {"status": "awaiting_verification"}, "language": "en"}
    _, rows, data = export(api, tokens_["hq"], body)
    assert data.startswith(b"\xef\xbb\xbf")
    head = rows[0]
    assert head[:5] == ["Return ID", "Order ID", "Store ID", "Store", "Status"]
    assert "Requested at (Asia/Shanghai)" in head and "Refund amount (CNY)" in head
    assert {r[0] for r in rows[1:]} == {ra, rb}
    row = next(r for r in rows[1:] if r[0] == ra)
    assert row[1] == ra.split("-R")[0] and row[2] == "sh-a" and row[4] == "awaiting_verification"
    assert row[head.index("Lines (SKU × units)")] == "110×1"
    assert row[head.index("Refund amount (CNY)")] == ""  # not refunded yet
    # a manager: their store's only; the refunded status holds none of these
    _, rows, _ = export(api, tokens_["manager_b"], {"kind": "returns", "filters": {}})
    assert [r[0] for r in rows[1:]] == [rb]
    body = {"kind": "returns", "filters": {"status": "refunded"}}
    _, rows, _ = export(api, tokens_["hq"], body)
    assert rows[1:] == []


DAYS = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.mark.parametrize(
    ("who", "kind", "filters", "status", "code"),
    [
        # several stores: head office only
        ("hq", "orders", {**DAYS, "store_ids": "sh-a,sh-b", "missed_print": True}, 202, None),
        ("manager_a", "orders", {**DAYS, "store_ids": "sh-a,sh-b"}, 403, "role_not_allowed"),
        ("manager_a", "orders", {**DAYS, "store_ids": "sh-a"}, 403, "role_not_allowed"),
        ("staff_a", "orders", {**DAYS, "store_ids": "sh-a,sh-b"}, 403, "role_not_allowed"),
        ("customer", "orders", {**DAYS, "store_ids": "sh-a"}, 403, "role_not_allowed"),
        ("relay_a", "orders", {**DAYS, "store_ids": "sh-a"}, 403, "role_not_allowed"),
        # the list's other filters: any back-office role, on the stores it may export
        ("manager_a", "orders", {**DAYS, "fulfilment": "pickup"}, 202, None),
        ("staff_a", "orders", {**DAYS, "store_id": "sh-b", "has_refund": True}, 403, "other_store"),
        # returns: as GET /admin/returns (store roles their store, head office any)
        ("hq", "returns", {}, 202, None),
        ("hq", "returns", {"store_id": "sh-b", "status": "verified"}, 202, None),
        ("manager_a", "returns", {}, 202, None),
        ("manager_a", "returns", {"store_id": "sh-a"}, 202, None),
        ("manager_a", "returns", {"store_id": "sh-b"}, 403, "other_store"),
        ("staff_a", "returns", {}, 202, None),
        ("staff_a", "returns", {"store_id": "sh-b"}, 403, "other_store"),
        ("customer", "returns", {}, 403, "role_not_allowed"),
        ("relay_a", "returns", {}, 403, "role_not_allowed"),
    ],
)
def test_who_exports_the_lists(api, tokens_, stores, who, kind, filters, status, code):
    got, body = start(api, tokens_[who], {"kind": kind, "filters": filters})
    assert got == status, body
    if code:
        assert body["error"]["code"] == code
        assert ExportJobModel.count() == 0
    elif who != "hq":
        assert body["filters"]["store_id"] == "sh-a"


@pytest.mark.parametrize(
    "filters",
    [
        {**DAYS, "store_ids": "sh-a,sh-zz"},  # 404 below
        {"status": "paid"},  # returns: not a return status
        {"fulfilment": "pickup"},  # returns: an orders filter
        {**DAYS, "store_ids": "sh-a", "store_id": "sh-a", "kind": "orders"},
        {**DAYS, "min_paid_fen": 500, "max_paid_fen": 100, "kind": "orders"},
        {**DAYS, "min_paid_fen": -1, "kind": "orders"},
        {**DAYS, "store_ids": "sh-a;drop", "kind": "orders"},
    ],
)
def test_bad_list_filters_are_refused_and_queue_nothing(api, tokens_, stores, filters):
    filters = dict(filters)
    kind = filters.pop("kind", "returns" if "date_from" not in filters else "orders")
    status, body = start(api, tokens_["hq"], {"kind": kind, "filters": filters})
    if "sh-zz" in filters.get("store_ids", ""):
        assert status == 404 and body["error"]["code"] == "store_not_found", body
    else:
        assert status == 422 and body["error"]["code"] == "validation_failed", body
    assert ExportJobModel.count() == 0 and run_worker() == 0
