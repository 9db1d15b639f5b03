"""The audit log (issue 13 item 6): every admin write records who changed what, the log
is append-only, retried writes record once, and each role sees what it may."""

from __future__ import annotations

import json

import pytest
from chalicelib.audit.models import AuditEntryModel

from tests.publishing import create_promotion, create_template


def log(api, token, query=""):
    status, body = api.call("GET", "/admin/audit" + (f"?{query}" if query else ""), None, token)
    assert status == 200, body
    return body


def entries(**where):
    """Every entry in the table (tests only) matching ``where``."""
    found = [e for e in AuditEntryModel.scan()]
    return [e for e in found if all(getattr(e, k) == v for k, v in where.items())]


def changes(item):
    return {c["field"]: [c["before"], c["after"]] for c in item["changes"]}


def test_a_store_edit_records_actor_target_and_only_the_changed_fields(api, stores, tokens_):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"minimum_order_fen": 2500, "phone": None}, tokens_["hq"]
    )
    assert status == 200, body
    (item,) = log(api, tokens_["hq"])["items"]
    assert item["action"] == "store.update"
    assert (item["actor"], item["role"], item["actor_store_id"]) == ("hq-admin", "hq_admin", None)
    assert (item["target_type"], item["target_id"], item["store_id"]) == ("store", "sh-a", "sh-a")
    assert changes(item) == {"minimum_order_fen": [2000, 2500]}


def test_a_retried_edit_records_one_entry(api, stores, tokens_):
    for _ in range(2):
        status, _body = api.call(
            "PATCH", "/admin/stores/sh-a", {"minimum_order_fen": 2500}, tokens_["manager_a"]
        )
        assert status == 200
    assert len(entries(action="store.update")) == 1


def test_a_refused_edit_records_nothing(api, stores, tokens_):
    status, _ = api.call(
        "PATCH", "/admin/stores/sh-b", {"minimum_order_fen": 1}, tokens_["manager_a"]
    )
    assert status == 403
    assert entries() == []


# --- each feature area records its writes ---------------------------------------------


def test_a_price_edit_records_before_and_after_in_fen(api, catalogue, tokens_):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a/items/100", {"price_fen": 1990, "stock": 7}, tokens_["hq"]
    )
    assert status == 200, body
    (item,) = log(api, tokens_["hq"], "target_type=store_item&target_id=sh-a/100")["items"]
    assert item["action"] == "store_item.update" and item["store_id"] == "sh-a"
    before = changes(item)
    assert before["price_fen"][1] == 1990 and before["stock"][1] == 7
    assert all(isinstance(v, int) for pair in before.values() for v in pair)


def test_an_edit_that_fails_records_nothing(api, catalogue, tokens_):
    status, _ = api.call("PATCH", "/admin/stores/sh-a/items/nope", {"stock": 1}, tokens_["hq"])
    assert status == 404
    assert entries() == []


def test_staff_accounts_record_without_the_password(api, stores, tokens_):
    body = {"username": "sh-a-picker9", "password": "a-long-password-1", "role": "store_staff"}
    body["display_name"] = "拣货员 九"
    status, got = api.call("POST", "/admin/staff", {**body, "store_id": "sh-a"}, tokens_["hq"])
    assert status == 201, got
    status, got = api.call(
        "PATCH", "/admin/staff/sh-a-picker9", {"password": "another-password-2"}, tokens_["hq"]
    )
    assert status == 200, got
    items = log(api, tokens_["hq"], "target_type=staff&target_id=sh-a-picker9")["items"]
    assert [i["action"] for i in items] == ["staff.update", "staff.create"]
    assert changes(items[0]) == {"password": ["***", "***"]}
    assert "a-long-password-1" not in str(items) and "another-password-2" not in str(items)


def test_relay_tokens_issue_and_revoke_once(api, stores, tokens_):
    status, relay = api.call("POST", "/admin/stores/sh-a/relays", {"name": "收银台"}, tokens_["hq"])
    assert status == 201
    for _ in range(2):
        status, _body = api.call(
            "POST", f"/admin/relays/{relay['relay_id']}/revoke", None, tokens_["hq"]
        )
        assert status == 200
    items = log(api, tokens_["hq"], f"target_type=relay&target_id={relay['relay_id']}")["items"]
    assert [i["action"] for i in items] == ["relay_token.revoke", "relay_token.issue"]
    assert relay["token"] not in str(items)


def test_a_retried_coupon_template_creation_records_once(api, stores, tokens_):
    body = {
        "template_id": "T-audit",
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "days_after_claim": 7,
    }
    for _ in range(2):
        status, _got = create_template(api, body, tokens_["hq"])
        assert status in (200, 201)
    status, _got = api.call(
        "PATCH", "/admin/coupon-templates/T-audit", {"status": "paused"}, tokens_["hq"]
    )
    assert status == 200
    items = log(api, tokens_["hq"], "target_type=coupon_template&target_id=T-audit")["items"]
    assert [i["action"] for i in items] == [
        "coupon_template.pause",
        "coupon_template.publish",  # drafts (issue 18): two approvals, no budget
        "coupon_template.approve",
        "coupon_template.create",
    ]
    assert changes(items[0]) == {"status": ["active", "paused"]}


def test_ending_a_promotion_twice_records_one_end(api, catalogue, tokens_):
    from tests.api.test_promotions import tiered

    status, p = create_promotion(api, tiered(), tokens_["hq"])
    assert status == 201, p
    for _ in range(2):
        status, _got = api.call(
            "PATCH", f"/admin/promotions/{p['promotion_id']}", {"status": "ended"}, tokens_["hq"]
        )
        assert status == 200
    items = log(api, tokens_["hq"], "target_type=promotion")["items"]
    assert [i["action"] for i in items] == [
        "promotion.end",
        "promotion.publish",  # drafts (issue 18): two approvals, no budget
        "promotion.approve",
        "promotion.create",
    ]


# --- append-only, visibility, paging -------------------------------------------------


def test_no_route_changes_or_deletes_an_entry():
    from chalicelib.http.openapi import build

    paths = build()["paths"]
    audit_paths = {p: set(ops) for p, ops in paths.items() if "audit" in p}
    assert audit_paths == {"/admin/audit": {"get"}}


def test_the_entry_put_is_conditional(aws, stores):
    """A retried request that reproduces an entry's id cannot overwrite it."""
    from chalicelib.audit import service
    from chalicelib.auth.principal import Principal

    hq = Principal("hq-admin", "hq_admin")
    target = service.Target("order", "o-1", "sh-a")
    first = service.record(hq, "print_job.reprint", target, {}, {"job_id": "j1"}, key="j1")
    again = service.record(hq, "print_job.reprint", target, {}, {"job_id": "jX"}, key="j1")
    assert first.entry_id == again.entry_id
    (stored,) = entries()
    assert '"j1"' in stored.changes


@pytest.fixture
def two_stores_edited(api, stores, tokens_):
    for store, token in (("sh-a", "manager_a"), ("sh-b", "manager_b")):
        status, _ = api.call(
            "PATCH", f"/admin/stores/{store}", {"minimum_order_fen": 2100}, tokens_[token]
        )
        assert status == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [("customer", 403), ("staff_a", 403), ("relay_a", 403), ("manager_a", 200), ("hq", 200)],
)
def test_who_may_read_the_log(api, tokens_, two_stores_edited, who, status):
    got, body = api.call("GET", "/admin/audit", None, tokens_[who])
    assert got == status, body
    if who == "manager_a":
        assert {i["store_id"] for i in body["items"]} == {"sh-a"}
    if who == "hq":
        assert {i["store_id"] for i in body["items"]} == {"sh-a", "sh-b"}


def test_a_manager_cannot_ask_for_another_store(api, tokens_, two_stores_edited):
    status, body = api.call("GET", "/admin/audit?store_id=sh-b", None, tokens_["manager_a"])
    assert status == 403 and body["error"]["code"] == "other_store"
    # by actor or target, still only their store's entries
    body = log(api, tokens_["manager_a"], "actor=sh-b-manager")
    assert body["items"] == []
    body = log(api, tokens_["manager_a"], "target_type=store&target_id=sh-b")
    assert body["items"] == []


def test_filters_by_actor_store_and_dates(api, tokens_, two_stores_edited):
    assert [i["actor"] for i in log(api, tokens_["hq"], "actor=sh-b-manager")["items"]] == [
        "sh-b-manager"
    ]
    assert [i["store_id"] for i in log(api, tokens_["hq"], "store_id=sh-a")["items"]] == ["sh-a"]
    assert log(api, tokens_["hq"], "date_from=2020-01-01&date_to=2020-01-02")["items"] == []
    status, _ = api.call("GET", "/admin/audit?date_from=2020-01-01", None, tokens_["hq"])
    assert status == 422  # more than 92 days


@pytest.mark.parametrize(
    "query", ["", "store_id=sh-a", "actor=hq-admin", "target_type=store&target_id=sh-a"]
)
def test_pages_follow_the_cursor_without_repeats(api, stores, tokens_, query):
    for fen in range(2001, 2008):
        status, _ = api.call(
            "PATCH", "/admin/stores/sh-a", {"minimum_order_fen": fen}, tokens_["hq"]
        )
        assert status == 200
    seen, cursor = [], None
    while True:
        q = "&".join(x for x in (query, "limit=3", f"cursor={cursor}" if cursor else "") if x)
        body = log(api, tokens_["hq"], q)
        seen += [i["entry_id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7
    afters = [changes(i)["minimum_order_fen"][1] for i in log(api, tokens_["hq"], query)["items"]]
    assert afters == list(range(2007, 2000, -1))  # newest first


def test_a_cursor_of_another_listing_is_refused(api, tokens_, two_stores_edited):
    body = log(api, tokens_["hq"], "limit=1")
    status, got = api.call(
        "GET", f"/admin/audit?store_id=sh-a&cursor={body['next_cursor']}", None, tokens_["hq"]
    )
    assert status == 400 and got["error"]["code"] == "bad_cursor"


def test_a_product_edit_is_recorded_once(api, catalogue, tokens_):
    """The edit routes of issue 13 item 5 write their entry in the edit's transaction."""
    body = {"name": "赣南脐橙 5斤", "cost_fen": 2500, "expected_version": 0}
    status, got = api.call("PATCH", "/admin/products/100", body, tokens_["hq"])
    assert status == 200, got
    (item,) = log(api, tokens_["hq"], "target_type=product&target_id=100")["items"]
    assert item["action"] == "product.update"
    assert changes(item)["cost_fen"] == [None, 2500]
    # a stale edit is refused and records nothing more
    status, _ = api.call("PATCH", "/admin/products/100", body, tokens_["hq"])
    assert status == 409
    assert len(log(api, tokens_["hq"], "target_type=product&target_id=100")["items"]) == 1


# --- returns and their refunds ----------------------------------------------------------


def _return(api, token, oid, lines, key, admin=True):
    path = f"/admin/orders/{oid}/returns" if admin else f"/orders/{oid}/returns"
    body = {"lines": [{"sku": s, "units": u} for s, u in lines.items()], "reason": "压坏了"}
    return api.call("POST", path, body, token, headers={"Idempotency-Key": key})


def test_a_staff_recorded_fresh_return_logs_the_return_and_its_refund_once(api, catalogue, tokens_):
    from tests.order_steps import completed_order

    oid = completed_order([("100", 3)])
    status, got = _return(api, tokens_["staff_a"], oid, {"100": 2}, "key-audit-ret-1")
    assert status == 201, got
    (ret,) = got["items"]
    status, again = _return(api, tokens_["staff_a"], oid, {"100": 2}, "key-audit-ret-1")
    assert status == 200 and again == got  # the retry replays: no second entry
    (opened,) = entries(action="return.open")
    (refund,) = entries(action="refund.create")
    assert (opened.actor, opened.target_id, opened.store_id) == (
        "sh-a-staff",
        ret["return_id"],
        "sh-a",
    )
    assert json.loads(opened.changes)["status"] == [None, "refunded"]
    refunded = json.loads(refund.changes)
    assert refund.target_type == "refund" and refund.target_id == ret["refund"]["refund_id"]
    assert refunded["amount_fen"] == [None, ret["refund"]["amount_fen"]]
    assert refunded["return_id"] == [None, ret["return_id"]]
    # the store's manager sees both in the store's log
    items = log(api, tokens_["manager_a"])["items"]
    assert {i["action"] for i in items} == {"return.open", "refund.create"}


def test_a_customers_own_return_is_not_an_admin_change(api, catalogue, tokens_):
    from tests.order_steps import completed_order

    oid = completed_order([("100", 2)])
    status, _ = _return(api, tokens_["customer"], oid, {"100": 1}, "key-audit-ret-2", admin=False)
    assert status == 201
    assert entries() == []


def test_verify_collect_and_reject_each_log_once_with_the_refund(api, catalogue, tokens_):
    from tests.order_steps import completed_order, set_fresh

    set_fresh(["110", "111"], False)
    oid = completed_order([("110", 2), ("111", 1)])
    status, got = _return(api, tokens_["customer"], oid, {"110": 1}, "key-audit-ret-3", False)
    rid = got["items"][0]["return_id"]
    for _ in range(2):  # the second press is 409 and logs nothing
        api.call("POST", f"/admin/returns/{rid}/verify", None, tokens_["staff_a"])
    status, done = api.call("POST", f"/admin/returns/{rid}/collect", None, tokens_["manager_a"])
    assert status == 200 and done["status"] == "refunded"
    status, _ = api.call("POST", f"/admin/returns/{rid}/collect", None, tokens_["manager_a"])
    assert status == 409
    (verified,) = entries(action="return.verify")
    assert json.loads(verified.changes)["status"] == ["awaiting_verification", "verified"]
    (collected,) = entries(action="return.collect")
    assert collected.actor == "sh-a-manager"
    assert json.loads(collected.changes)["status"] == ["verified", "refunded"]
    (refund,) = entries(action="refund.create")
    assert json.loads(refund.changes)["amount_fen"][1] == done["refund"]["amount_fen"]
    # a rejection records its reason
    _, got = _return(api, tokens_["customer"], oid, {"111": 1}, "key-audit-ret-4", False)
    rid2 = got["items"][0]["return_id"]
    status, _ = api.call(
        "POST", f"/admin/returns/{rid2}/reject", {"reason": "已拆封"}, tokens_["staff_a"]
    )
    assert status == 200
    (rejected,) = entries(action="return.reject")
    assert json.loads(rejected.changes)["reason"] == [None, "已拆封"]
    # the history of one return, through its target index
    items = log(api, tokens_["hq"], f"target_type=return&target_id={rid}")["items"]
    assert [i["action"] for i in items] == ["return.collect", "return.verify"]


def test_a_refused_step_logs_nothing(api, catalogue, tokens_):
    from tests.order_steps import completed_order, set_fresh

    set_fresh(["110"], False)
    oid = completed_order([("110", 2)])
    _, got = _return(api, tokens_["customer"], oid, {"110": 1}, "key-audit-ret-5", False)
    rid = got["items"][0]["return_id"]
    status, _ = api.call("POST", f"/admin/returns/{rid}/collect", None, tokens_["staff_a"])
    assert status == 409  # not verified yet
    status, _ = api.call("POST", f"/admin/returns/{rid}/verify", None, tokens_["manager_b"])
    assert status == 404  # another store's
    assert entries() == []


# --- bulk changes: one entry per applied row, in the row's own transaction -------------


def _bulk(api, token, body, key):
    return api.call("POST", "/admin/bulk-jobs", body, token, headers={"Idempotency-Key": key})


def test_a_bulk_price_job_records_each_applied_row_once(api, catalogue, tokens_, monkeypatch):
    """3 SKUs, one of them refused (an expected price no longer there): 2 entries with
    before and after. Run again from the start (a run that died before saving any
    result, taken over by the retry) after someone else re-priced one SKU: still 2
    entries, and that later price is not overwritten."""
    from chalicelib.catalogue import bulk_jobs
    from chalicelib.catalogue.models import BulkJobModel, StoreItemModel

    rows = [
        {"store_id": "sh-a", "sku": "100", "price_fen": 1590},
        {"store_id": "sh-a", "sku": "101", "price_fen": 1690, "expected_price_fen": 1},
        {"store_id": "sh-a", "sku": "102", "price_fen": 1790},
    ]
    monkeypatch.setattr(bulk_jobs, "_finish", lambda job, status, error=None: None)
    status, job = _bulk(api, tokens_["hq"], {"rows": rows}, "bulk-audit-0001")
    assert status == 201, job
    assert [r["status"] for r in job["results"]] == ["applied", "conflict", "applied"]
    items = log(api, tokens_["hq"], "target_type=store_item&target_id=sh-a/100")["items"]
    assert [(i["action"], changes(i)) for i in items] == [
        ("store_item.bulk_update", {"price_fen": [1000, 1590]})
    ]
    (item,) = items
    assert (item["actor"], item["role"], item["store_id"]) == ("hq-admin", "hq_admin", "sh-a")
    (item,) = log(api, tokens_["hq"], "target_type=store_item&target_id=sh-a/102")["items"]
    assert changes(item) == {"price_fen": [1002, 1790]}
    assert len(entries(action="store_item.bulk_update")) == 2

    StoreItemModel("sh-a", "100").update(actions=[StoreItemModel.price_fen.set(1234)])
    saved = BulkJobModel.get(job["job_id"])
    saved.update(
        actions=[
            BulkJobModel.results.set([]),
            BulkJobModel.processed_rows.set(0),
            BulkJobModel.lease_until.set(0),
        ]
    )
    monkeypatch.undo()
    status, again = _bulk(api, tokens_["hq"], {"rows": rows}, "bulk-audit-0001")
    assert status == 200 and again["status"] == "succeeded", again
    assert [r["status"] for r in again["results"]] == ["applied", "conflict", "unchanged"]
    assert len(entries(action="store_item.bulk_update")) == 2
    assert int(StoreItemModel.get("sh-a", "100").price_fen) == 1234


def test_a_bulk_row_whose_write_fails_records_nothing(api, catalogue, tokens_, monkeypatch):
    """Someone else changes the item between the job's read and its write: the row's
    transaction is refused whole, its entry with it."""
    from chalicelib.catalogue import bulk_jobs
    from chalicelib.catalogue.models import StoreItemModel

    real = bulk_jobs._write

    def someone_else_first(by, item_, row, seen):
        if row.sku == "101":
            StoreItemModel("sh-a", "101").update(actions=[StoreItemModel.price_fen.set(77)])
        return real(by, item_, row, seen)

    monkeypatch.setattr(bulk_jobs, "_write", someone_else_first)
    rows = [{"store_id": "sh-a", "sku": sku, "price_fen": 1500} for sku in ("100", "101")]
    status, job = _bulk(api, tokens_["hq"], {"rows": rows}, "bulk-audit-0002")
    assert status == 201, job
    assert [r["status"] for r in job["results"]] == ["applied", "conflict"]
    assert [e.target_id for e in entries()] == ["sh-a/100"]


def test_a_managers_stock_job_run_by_the_worker_records_the_manager(api, catalogue, tokens_):
    """A queued job is applied later by the worker: the entries name who created it."""
    from chalicelib.catalogue import bulk_jobs, bulk_rules

    rows = [{"store_id": "sh-a", "sku": str(100 + i), "stock": 40 + i} for i in range(5)]
    # SKUs the store does not sell: enough valid rows for the job to be queued
    rows += [
        {"store_id": "sh-a", "sku": f"x{i}", "stock": 1} for i in range(bulk_rules.INLINE_ROWS)
    ]
    status, job = _bulk(api, tokens_["manager_a"], {"rows": rows}, "bulk-audit-0003")
    assert status == 201 and job["status"] == "queued", job
    assert entries() == []
    bulk_jobs.handle_message({"bulk_job_id": job["job_id"]})
    found = entries(action="store_item.bulk_update")
    assert len(found) == 5
    assert {(e.actor, e.role, e.actor_store_id) for e in found} == {
        ("sh-a-manager", "store_manager", "sh-a")
    }
    assert {e.target_id for e in found} == {f"sh-a/{100 + i}" for i in range(5)}


def test_copied_prices_record_one_entry_per_store_and_sku(api, catalogue, tokens_):
    body = {"copy_prices": {"from_store": "sh-a", "to_stores": ["sh-b"], "skus": ["101"]}}
    from chalicelib.catalogue.models import StoreItemModel

    StoreItemModel("sh-b", "101").update(actions=[StoreItemModel.price_fen.set(5)])
    status, job = _bulk(api, tokens_["hq"], body, "bulk-audit-0004")
    assert status == 201 and job["applied"] == 1, job
    (entry,) = entries()
    assert (entry.action, entry.target_id, entry.store_id) == (
        "store_item.copy_price",
        "sh-b/101",
        "sh-b",
    )
    assert json.loads(entry.changes) == {"price_fen": [5, 1001]}


def test_a_bulk_dispatch_records_each_order_once(api, catalogue, tokens_):
    from tests.api.test_bulk_dispatch import URL, checked_out

    a = checked_out(api, tokens_, "key-ba-00001")
    b = checked_out(api, tokens_, "key-ba-00002")
    assert entries() == []  # picking and checkout are the order's history only
    body = {"order_ids": [a, b], "courier": "李师傅"}
    for _ in range(2):  # the retry finds both dispatched: nothing more recorded
        status, out = api.call("POST", URL, body, tokens_["staff_a"])
        assert status == 200, out
    found = entries(action="order.dispatch")
    assert sorted(e.target_id for e in found) == sorted([a, b])
    for e in found:
        assert (e.actor, e.role, e.store_id, e.target_type) == (
            "sh-a-staff",
            "store_staff",
            "sh-a",
            "order",
        )
        assert json.loads(e.changes) == {
            "status": ["checked_out", "out_for_delivery"],
            "courier": [None, "李师傅"],
        }


def test_a_single_dispatch_stays_the_orders_history_only(api, catalogue, tokens_):
    from tests.api.test_bulk_dispatch import checked_out

    a = checked_out(api, tokens_, "key-ba-00011")
    status, _ = api.call("POST", f"/admin/orders/{a}/dispatch", {}, tokens_["staff_a"])
    assert status == 200
    assert entries() == []


def test_a_bulk_dispatch_costs_one_read_and_one_write_per_order(api, catalogue, tokens_, aws_calls):
    """The entry rides in the order's write (a transaction instead of an UpdateItem): no
    extra round trip per order."""
    from tests.api.test_bulk_dispatch import URL, checked_out

    ids = [checked_out(api, tokens_, f"key-ba-0002{i}") for i in range(2)]
    aws_calls.clear()
    status, out = api.call("POST", URL, {"order_ids": ids}, tokens_["staff_a"])
    assert status == 200 and out["dispatched"] == 2, out
    # the order's head read, then its transition with the entry (before: an UpdateItem)
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"] * 2
