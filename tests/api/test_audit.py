"""The audit log (issue 13 item 6): every admin write records who changed what, the log
is append-only, retried writes record once, and each role sees what it may."""

from __future__ import annotations

from chalicelib.audit.models import AuditEntryModel


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
