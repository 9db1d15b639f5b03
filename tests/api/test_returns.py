"""Returns (退货) through the API: fresh goods refunded at once, other goods verified then
collected or received, idempotent refunds, access by role and store."""

from __future__ import annotations

from chalicelib.auth.principal import Principal
from chalicelib.kernel import cursors
from chalicelib.kernel.money import refund_for_units
from chalicelib.orders import order_flow
from chalicelib.orders.models import RefundModel, ReturnModel

from tests.api.conftest import token_for
from tests.order_steps import (
    STAFF_A,
    complete,
    completed_order,
    open_return,
    pick,
    place_paid,
    set_fresh,
    with_discount,
)

NON_FRESH = ["110", "111", "112"]


def ret(api, token, oid, lines, key="key-ret-00001", reason="坏了", admin=False):
    path = f"/admin/orders/{oid}/returns" if admin else f"/orders/{oid}/returns"
    body = {"lines": [{"sku": s, "units": u} for s, u in lines.items()], "reason": reason}
    return api.call("POST", path, body, token, headers={"Idempotency-Key": key})


def act(api, token, return_id, action, body=None):
    return api.call("POST", f"/admin/returns/{return_id}/{action}", body, token)


def paid_for(oid, sku):
    return next(int(x.paid_fen) for x in order_flow.get(oid).lines if x.sku == sku)


def test_fresh_goods_are_refunded_at_once_and_a_retry_never_refunds_twice(
    api, catalogue, tokens_, monkeypatch
):
    from chalicelib.orders.payment_providers import provider

    with_discount(monkeypatch, 300)
    oid = completed_order([("100", 3), ("101", 2)])
    status, got = ret(api, tokens_["customer"], oid, {"100": 2})
    assert status == 201 and len(got["items"]) == 1
    r1 = got["items"][0]
    assert r1["return_id"] == f"{oid}-R1" and r1["status"] == "refunded"
    assert [(h["action"], h["from_state"], h["to_state"]) for h in r1["history"]] == [
        ("request", None, "refund_at_once"),
        ("refund", "refund_at_once", "refunded"),
    ]
    expected = refund_for_units(paid_for(oid, "100"), 3, 0, 2)
    assert r1["refund"] == {
        "refund_id": f"{oid}:return:{oid}-R1",
        "amount_fen": expected,
        "status": "succeeded",
    }
    assert r1["lines"] == [
        {"sku": "100", "name": "商品0", "units": 2, "fresh": True, "refund_fen": expected}
    ]
    status, again = ret(api, tokens_["customer"], oid, {"100": 2})
    assert status == 200 and again["items"] == got["items"]
    assert ReturnModel.count() == 1 and RefundModel.count() == 1
    assert provider("local").refunds[f"{oid}:return:{oid}-R1"] == expected
    status, err = ret(api, tokens_["customer"], oid, {"100": 1})
    assert status == 422 and err["error"]["code"] == "idempotency_key_reused"
    status, err = api.call(
        "POST",
        f"/orders/{oid}/returns",
        {"lines": [{"sku": "100", "units": 1}], "reason": "x"},
        tokens_["customer"],
    )
    assert status == 400 and err["error"]["code"] == "idempotency_key_required"
    order = order_flow.get(oid)
    assert order.refunded_fen == expected and order.lines[0].refunded_units == 2
    assert order.status == "completed"


def test_asking_for_more_than_was_delivered_is_422_naming_the_line(api, catalogue, tokens_):
    oid = completed_order([("100", 3), ("101", 2)], picked={"100": 1})  # 2 units were short
    t = tokens_["customer"]
    status, err = ret(api, t, oid, {"101": 1, "100": 2}, key="key-over-0001")
    assert status == 422
    assert err["error"]["details"] == [
        {
            "field": "lines[1].units",
            "reason": "100 (商品0): 1 of the 1 units delivered can still be returned, not 2",
        }
    ]
    status, err = ret(api, t, oid, {"124": 1}, key="key-over-0002")
    assert status == 422 and err["error"]["details"][0]["field"] == "lines[0].sku"
    assert ret(api, t, oid, {"100": 1}, key="key-over-0003")[0] == 201
    status, err = ret(api, t, oid, {"100": 1}, key="key-over-0004")
    assert status == 422 and "0 of the 1 units" in err["error"]["details"][0]["reason"]
    assert ret(api, t, oid, {"101": 2}, key="key-over-0005")[0] == 201
    order = order_flow.get(oid)
    assert order.refunded_fen == sum(int(x.paid_fen) for x in order.lines)  # all of it back


def test_other_goods_are_verified_then_collected_and_refunded(api, catalogue, tokens_):
    set_fresh(NON_FRESH, False)
    oid = completed_order([("110", 2), ("111", 1)])
    staff = tokens_["staff_a"]
    status, got = ret(api, tokens_["customer"], oid, {"110": 1})
    rid = got["items"][0]["return_id"]
    assert status == 201 and got["items"][0]["status"] == "awaiting_verification"
    assert got["items"][0]["refund"] is None and RefundModel.count() == 0
    _, queue = api.call("GET", "/admin/stores/sh-a/returns", token=staff)
    assert [x["return_id"] for x in queue["items"]] == [rid]
    for illegal in ["collect", "receive"]:
        status, err = act(api, staff, rid, illegal)
        assert status == 409 and err["error"]["code"] == "illegal_transition"
    status, verified = act(api, staff, rid, "verify")
    assert status == 200 and verified["status"] == "verified"
    assert act(api, staff, rid, "verify")[0] == 409
    status, done = act(api, tokens_["manager_a"], rid, "collect")
    assert status == 200 and done["status"] == "refunded"
    assert [h["action"] for h in done["history"]] == ["request", "verify", "collect", "refund"]
    expected = refund_for_units(paid_for(oid, "110"), 2, 0, 1)
    assert done["refund"]["amount_fen"] == expected and done["refund"]["status"] == "succeeded"
    for illegal in ["collect", "receive", "verify"]:
        assert act(api, staff, rid, illegal)[0] == 409
    assert act(api, staff, rid, "reject", {"reason": "晚了"})[0] == 409
    assert RefundModel.count() == 1
    # the service desk: same path, other action
    _, got = ret(api, tokens_["staff_a"], oid, {"111": 1}, key="key-desk-0001", admin=True)
    r2 = got["items"][0]
    assert r2["requested_by"] == "sh-a-staff" and r2["return_id"] == f"{oid}-R2"
    act(api, staff, r2["return_id"], "verify")
    status, done2 = act(api, staff, r2["return_id"], "receive")
    assert status == 200 and done2["history"][-2]["action"] == "receive_at_counter"
    assert done2["refund"]["amount_fen"] == paid_for(oid, "111")
    status, mine = api.call("GET", f"/returns/{r2['return_id']}", token=tokens_["customer"])
    assert status == 200 and mine["status"] == "refunded"
    _, listed = api.call("GET", "/admin/stores/sh-a/returns?status=refunded", token=tokens_["hq"])
    assert [x["return_id"] for x in listed["items"]] == [rid, r2["return_id"]]


def test_a_rejected_return_frees_its_units(api, catalogue, tokens_):
    set_fresh(NON_FRESH, False)
    oid = completed_order([("110", 2)])
    t, staff = tokens_["customer"], tokens_["staff_a"]
    _, got = ret(api, t, oid, {"110": 2}, key="key-rej-0001")
    rid = got["items"][0]["return_id"]
    assert ret(api, t, oid, {"110": 1}, key="key-rej-0002")[0] == 422  # all claimed
    status, err = act(api, staff, rid, "reject", {})
    assert status == 422 and err["error"]["details"][0]["field"] == "reason"
    act(api, staff, rid, "verify")  # verified, then the goods at the door do not match
    status, rejected = act(api, staff, rid, "reject", {"reason": "商品已使用"})
    assert status == 200 and rejected["status"] == "rejected"
    assert rejected["history"][-1]["reason"] == "商品已使用"
    assert act(api, staff, rid, "collect")[0] == 409
    status, again = ret(api, t, oid, {"110": 2}, key="key-rej-0003")
    assert status == 201 and again["items"][0]["return_id"] == f"{oid}-R2"
    assert RefundModel.count() == 0


def test_a_mixed_request_opens_a_fresh_and_an_other_return(api, catalogue, tokens_):
    set_fresh(NON_FRESH, False)
    oid = completed_order([("100", 1), ("110", 1), ("101", 2)])
    status, got = ret(api, tokens_["customer"], oid, {"110": 1, "100": 1, "101": 1})
    assert status == 201
    fresh, other = got["items"]
    assert (fresh["status"], other["status"]) == ("refunded", "awaiting_verification")
    assert [x["sku"] for x in fresh["lines"]] == ["100", "101"]
    assert [x["sku"] for x in other["lines"]] == ["110"]
    assert fresh["refund"]["amount_fen"] == paid_for(oid, "100") + refund_for_units(
        paid_for(oid, "101"), 2, 0, 1
    )
    status, listed = api.call("GET", f"/orders/{oid}/returns", token=tokens_["customer"])
    assert status == 200 and listed["items"] == [fresh, other]
    status, again = ret(api, tokens_["customer"], oid, {"110": 1, "100": 1, "101": 1})
    assert status == 200 and again["items"] == [fresh, other]


def test_returns_need_a_completed_order(api, catalogue, tokens_):
    from chalicelib.orders import store_workflow

    from tests.order_steps import STAFF_A

    oid = place_paid([("100", 2), ("101", 1)])
    status, err = ret(api, tokens_["customer"], oid, {"100": 1})
    assert status == 409 and err["error"]["code"] == "order_not_completed"
    pick(oid)
    from chalicelib.orders.store_workflow_schemas import Checkout

    store_workflow.checkout(STAFF_A, "sh-a", Checkout(order_code=oid))
    store_workflow.dispatch(STAFF_A, oid)
    store_workflow.deliver(STAFF_A, oid)
    status, err = ret(api, tokens_["customer"], oid, {"100": 1}, key="key-dlv-0001")
    assert status == 409 and "Confirm receipt first" in err["error"]["message"]
    assert ReturnModel.count() == 0


def test_returns_are_seen_and_handled_only_by_their_store_and_customer(api, catalogue, tokens_):
    set_fresh(NON_FRESH, False)
    oid = completed_order([("110", 2)])
    other_customer = token_for("c-2", "customer")
    assert ret(api, other_customer, oid, {"110": 1})[0] == 404
    assert ret(api, tokens_["manager_b"], oid, {"110": 1}, admin=True)[0] == 404
    status, got = ret(api, tokens_["customer"], oid, {"110": 1})
    rid = got["items"][0]["return_id"]
    for token in [other_customer, tokens_["manager_b"]]:
        assert api.call("GET", f"/returns/{rid}", token=token)[0] == 404
        assert api.call("GET", f"/orders/{oid}/returns", token=token)[0] == 404
    for action in ["verify", "collect", "receive"]:
        status, err = act(api, tokens_["manager_b"], rid, action)
        assert status == 404 and err["error"]["code"] == "return_not_found"
    status, err = act(api, tokens_["customer"], rid, "verify")
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    status, err = api.call("GET", "/admin/stores/sh-a/returns", token=tokens_["manager_b"])
    assert status == 403 and err["error"]["code"] == "other_store"
    status, err = api.call("GET", "/admin/stores/sh-a/returns?status=lost", token=tokens_["hq"])
    assert status == 422
    assert api.call("GET", f"/returns/{rid}", token=tokens_["hq"])[0] == 200
    assert api.call("GET", "/returns/nope-R1", token=tokens_["hq"])[0] == 404
    assert ReturnModel.get(rid).status == "awaiting_verification"


def test_a_failed_return_refund_is_retried_until_the_provider_takes_it(
    api, catalogue, tokens_, monkeypatch
):
    from chalicelib.orders import refunds
    from chalicelib.orders.payment_providers import LocalPaymentProvider, RefundFailed

    set_fresh(NON_FRESH, False)
    oid = completed_order([("110", 2), ("100", 1)])
    original = LocalPaymentProvider.refund

    def failing(self, *args):
        raise RefundFailed("provider down")

    monkeypatch.setattr(LocalPaymentProvider, "refund", failing)
    _, got = ret(api, tokens_["customer"], oid, {"110": 2, "100": 1})
    fresh, other = got["items"]
    assert fresh["status"] == "refunded" and fresh["refund"]["status"] == "pending"
    act(api, tokens_["staff_a"], other["return_id"], "verify")
    status, done = act(api, tokens_["staff_a"], other["return_id"], "collect")
    assert status == 200 and done["status"] == "refunded"
    assert done["refund"]["status"] == "pending"
    assert refunds.retry_pending() == 0  # still down
    monkeypatch.setattr(LocalPaymentProvider, "refund", original)
    assert refunds.retry_pending() == 2
    for r in [fresh, other]:
        _, now = api.call("GET", f"/returns/{r['return_id']}", token=tokens_["customer"])
        assert now["refund"]["status"] == "succeeded"
        assert RefundModel.get(now["refund"]["refund_id"]).attempts == 3  # fail, fail, ok
    assert refunds.retry_pending() == 0
    order = order_flow.get(oid)
    assert order.refunded_fen == sum(int(x.paid_fen) for x in order.lines)


def test_returning_everything_refunds_the_goods_but_not_the_delivery_fee(
    api, catalogue, tokens_, monkeypatch
):
    set_fresh(NON_FRESH, False)
    with_discount(monkeypatch, 999)
    oid = completed_order([("100", 3), ("110", 2), ("101", 1)], picked={"100": 2})
    order = order_flow.get(oid)
    assert order.delivery_fee_fen == 500 and order.refunded_fen > 0  # one unit short
    _, got = ret(api, tokens_["customer"], oid, {"100": 1, "110": 2, "101": 1})
    act(api, tokens_["staff_a"], got["items"][1]["return_id"], "verify")
    act(api, tokens_["staff_a"], got["items"][1]["return_id"], "receive")
    assert ret(api, tokens_["customer"], oid, {"100": 1}, key="key-last-0001")[0] == 201
    order = order_flow.get(oid)
    for line in order.lines:
        assert (line.refunded_units, line.refunded_fen) == (line.qty, line.paid_fen)
    assert order.refunded_fen == order.paid_fen - 500 and order.delivery_fee_refunded_fen == 0
    assert sum(int(r.amount_fen) for r in RefundModel.scan()) == order.paid_fen - 500


def _other_return_in(store_id, staff):
    """A completed non-fresh order of ``store_id`` with one return awaiting verification."""
    oid = place_paid([("110", 3)], "pickup", store_id=store_id)
    pick(oid, staff=staff)
    complete(oid, staff=staff)
    got, _ = open_return(oid, {"110": 1}, key=f"q-{oid}")
    return got.items[0].return_id


def test_the_returns_queue_merges_the_stores_oldest_first_and_pages_by_cursor(
    api, catalogue, tokens_, aws_calls
):
    set_fresh(NON_FRESH, False)
    staff_b = Principal("sh-b-staff", "store_staff", "sh-b")

    made = [
        _other_return_in("sh-a", STAFF_A),
        _other_return_in("sh-b", staff_b),
        _other_return_in("sh-a", STAFF_A),
        _other_return_in("sh-b", staff_b),
        _other_return_in("sh-a", STAFF_A),
    ]
    by_age = [x.return_id for x in sorted(ReturnModel.batch_get(made), key=lambda x: x.created_at)]
    assert sorted(by_age) == sorted(made)
    seen, cursor, pages = [], None, 0
    aws_calls.clear()
    while True:
        path = "/admin/returns?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.call("GET", path, token=tokens_["hq"])
        assert status == 200, page
        seen += [x["return_id"] for x in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == by_age and pages == 3
    assert "Scan" not in aws_calls
    # store roles: their store only, whatever they ask for
    _, mine = api.call("GET", "/admin/returns?limit=50", token=tokens_["manager_b"])
    assert {x["store_id"] for x in mine["items"]} == {"sh-b"} and len(mine["items"]) == 2
    status, err = api.call("GET", "/admin/returns?store_id=sh-a", token=tokens_["manager_b"])
    assert status == 403 and err["error"]["code"] == "other_store"
    _, one = api.call("GET", "/admin/returns?store_id=sh-a&limit=50", token=tokens_["hq"])
    assert [x["return_id"] for x in one["items"]] == [x for x in by_age if x in made[::2]]


def test_a_tampered_returns_queue_cursor_is_bad_cursor(api, catalogue, tokens_):
    import base64
    import json

    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    key = {"return_id": {"S": "x-R1"}, "store_status": {"S": "sh-a#verified"}}
    key["created_at"] = {"S": "2026"}

    hostile = [
        "not-base64!!",
        enc([1, 2]),
        enc({"status": "verified", "at": {"sh-zz": None}}),  # a store not visible
        enc({"status": "refunded", "at": {"sh-a": None}}),  # another status's cursor
        enc({"status": "awaiting_verification", "at": {"sh-a": 5}}),
        enc({"status": "awaiting_verification", "at": {"sh-a": cursors.encode(key)}}),
    ]
    for cursor in hostile:
        status, err = api.call("GET", f"/admin/returns?cursor={cursor}", token=tokens_["hq"])
        assert status == 400 and err["error"]["code"] == "bad_cursor", (cursor, err)
    own = enc({"status": "awaiting_verification", "at": {"sh-b": None}})
    status, err = api.call("GET", f"/admin/returns?cursor={own}", token=tokens_["manager_a"])
    assert status == 400 and err["error"]["code"] == "bad_cursor"


def test_the_returns_queue_queries_the_stores_concurrently(api, catalogue, tokens_, monkeypatch):
    from tests.api.test_orders_across_stores import _BothStoresAtOnce

    set_fresh(NON_FRESH, False)
    made = [
        _other_return_in("sh-a", STAFF_A),
        _other_return_in("sh-b", Principal("sh-b-staff", "store_staff", "sh-b")),
    ]
    by_age = [x.return_id for x in sorted(ReturnModel.batch_get(made), key=lambda x: x.created_at)]
    both = _BothStoresAtOnce(ReturnModel.by_store_status.query)
    monkeypatch.setattr(ReturnModel.by_store_status, "query", both)
    status, page = api.call("GET", "/admin/returns?limit=50", token=tokens_["hq"])
    assert status == 200, page
    assert [x["return_id"] for x in page["items"]] == by_age
