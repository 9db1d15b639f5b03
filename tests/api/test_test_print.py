"""Test prints (打印测试, issue 13 item 7): a slip queued through the normal print path
(job -> stream -> dispatch -> the store's queue -> its relay), once per click, audited,
for head office and the store's manager; a store without a relay is told so."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.printing import dispatch as print_dispatch
from chalicelib.printing import print_queues
from chalicelib.printing import watchdog as print_watchdog
from chalicelib.printing.models import PrintJobModel

from tests.api.test_print_jobs import drain, later

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "print-job.v1.json"
KEY = {"Idempotency-Key": "test-print-0001"}


@pytest.fixture(autouse=True)
def fresh_queue_cache():
    print_queues.forget()
    yield
    print_queues.forget()


def test_print(api, token, store_id="sh-a", headers=KEY, body=None):
    return api.call("POST", f"/admin/stores/{store_id}/test-print", body or {}, token, headers)


test_print.__test__ = False  # a helper, not a test


def inserted(job_id):
    """The stream record the print_jobs table gives a new job (as Lambda receives it)."""
    return [{"eventName": "INSERT", "dynamodb": {"Keys": {"job_id": {"S": job_id}}}}]


def audit_entries(action):
    return [e for e in AuditEntryModel.scan() if e.action == action]


def test_a_test_print_goes_through_the_store_queue_and_is_printed_on_the_relays_ack(
    api, stores, tokens_
):
    status, job = test_print(api, tokens_["hq"])
    assert status == 201, job
    assert (job["kind"], job["copies"], job["status"], job["order_id"]) == (
        "test",
        ["test"],
        "pending",
        "",
    )
    assert print_dispatch.handle_stream_records(inserted(job["job_id"])) == 1
    (message,) = drain("sh-a")
    body = json.loads(message["Body"])
    jsonschema.validate(body, json.loads(SCHEMA.read_text()))
    assert message["MessageAttributes"]["kind"]["StringValue"] == "test"
    assert body["kind"] == "test" and body["copies"] == ["test"]
    assert body["store_name"] and body["test"]["relay_name"] == "test relay"
    assert body["test"] == {
        "requested_by": "hq-admin",
        "relay_id": "relay-sh-a",
        "relay_name": "test relay",
    }
    status, polled = api.call("GET", f"/admin/print-jobs/{job['job_id']}", None, tokens_["hq"])
    assert (status, polled["status"]) == (200, "sent")
    status, acked = api.call(
        "POST", f"/relay/print-jobs/{job['job_id']}/ack", {"copy": "test"}, tokens_["relay_a"]
    )
    assert status == 200, acked
    status, polled = api.call(
        "GET", f"/admin/print-jobs/{job['job_id']}", None, tokens_["manager_a"]
    )
    assert (status, polled["status"], polled["acked_copies"]) == (200, "printed", ["test"])


def test_the_same_idempotency_key_returns_the_same_job_and_queues_one_slip(api, stores, tokens_):
    status, first = test_print(api, tokens_["hq"])
    assert status == 201
    status, again = test_print(api, tokens_["hq"])
    assert status == 200 and again["job_id"] == first["job_id"]
    status, other = test_print(api, tokens_["hq"], headers={"Idempotency-Key": "test-print-0002"})
    assert status == 201 and other["job_id"] != first["job_id"]
    for job_id in (first["job_id"], first["job_id"], other["job_id"]):
        print_dispatch.dispatch(job_id)
    assert len(drain("sh-a")) == 2
    assert len(audit_entries("print_job.test")) == 2


def test_the_click_is_in_the_audit_log(api, stores, tokens_):
    status, job = test_print(api, tokens_["manager_a"])
    assert status == 201
    status, log = api.call(
        "GET",
        f"/admin/audit?target_type=print_job&target_id={job['job_id']}",
        None,
        tokens_["hq"],
    )
    (entry,) = log["items"]
    assert (entry["action"], entry["actor"], entry["store_id"]) == (
        "print_job.test",
        "sh-a-manager",
        "sh-a",
    )
    assert {c["field"]: c["after"] for c in entry["changes"]}["relay_id"] == "relay-sh-a"


@pytest.mark.parametrize(
    ("who", "store_id", "expected"),
    [
        ("hq", "sh-a", 201),
        ("manager_a", "sh-a", 201),
        ("manager_b", "sh-a", 403),  # another store's manager
        ("staff_a", "sh-a", 403),  # a picker cannot
        ("customer", "sh-a", 403),
        ("relay_a", "sh-a", 403),
    ],
)
def test_only_head_office_and_the_stores_manager_may_print_a_test_slip(
    api, stores, tokens_, who, store_id, expected
):
    status, body = test_print(api, tokens_[who], store_id)
    assert status == expected, body
    if expected != 201:
        assert PrintJobModel.count() == 0 and audit_entries("print_job.test") == []


def test_no_token_is_401(api, stores, tokens_):
    status, _ = test_print(api, None)
    assert status == 401


def test_a_store_without_a_relay_is_told_so_and_nothing_is_queued(api, stores, tokens_):
    status, body = test_print(api, tokens_["hq"], "sh-b")
    assert status == 409, body
    assert body["error"]["code"] == "no_relay"
    assert "no active relay token" in body["error"]["message"]
    assert "Nothing was queued" in body["error"]["message"]
    assert PrintJobModel.count() == 0 and audit_entries("print_job.test") == []


def test_a_revoked_relay_counts_as_none(api, stores, tokens_):
    status, _ = api.call("POST", "/admin/relays/relay-sh-a/revoke", None, tokens_["hq"])
    assert status == 200
    status, body = test_print(api, tokens_["hq"])
    assert (status, body["error"]["code"]) == (409, "no_relay")
    status, body = test_print(api, tokens_["hq"], body={"relay_id": "relay-sh-a"})
    assert (status, body["error"]["code"]) == (409, "relay_revoked")


def test_a_relay_of_another_store_or_an_unknown_store_is_404(api, stores, tokens_):
    status, body = test_print(api, tokens_["hq"], "sh-a", body={"relay_id": "relay-sh-b"})
    assert (status, body["error"]["code"]) == (404, "relay_not_found")
    status, body = test_print(api, tokens_["hq"], "sh-nowhere")
    assert (status, body["error"]["code"]) == (404, "store_not_found")


def test_an_idempotency_key_is_required(api, stores, tokens_):
    status, body = test_print(api, tokens_["hq"], headers={})
    assert (status, body["error"]["code"]) == (400, "idempotency_key_required")
    assert PrintJobModel.count() == 0


def test_a_test_job_is_never_resent_nor_listed_as_a_missed_print(api, stores, tokens_, monkeypatch):
    status, job = test_print(api, tokens_["hq"])
    print_dispatch.dispatch(job["job_id"])
    drain("sh-a")
    stored = PrintJobModel.get(job["job_id"])
    assert stored.watch is None and stored.watch_at is None
    later(monkeypatch, 900)  # long past any acknowledgement deadline (tokens last 1 h)
    assert print_watchdog.run() == 0
    assert PrintJobModel.get(job["job_id"]).status == "sent" and drain("sh-a") == []
    status, missed = api.call("GET", "/admin/print-jobs?store_id=sh-a", None, tokens_["hq"])
    assert status == 200 and missed["items"] == []


def test_a_relay_that_cannot_print_it_shows_on_the_job_not_as_a_missed_order(api, stores, tokens_):
    status, job = test_print(api, tokens_["hq"])
    print_dispatch.dispatch(job["job_id"])
    drain("sh-a")
    status, failed = api.call(
        "POST",
        f"/relay/print-jobs/{job['job_id']}/failure",
        {"reason": "render_failed", "message": "no such template"},
        tokens_["relay_a"],
    )
    assert status == 200, failed
    assert failed["status"] == "missed"
    assert "no such template" in failed["history"][-1]["reason"]
    status, missed = api.call("GET", "/admin/print-jobs?store_id=sh-a", None, tokens_["hq"])
    assert missed["items"] == []
    # a relay that prints it after all is still heard
    status, acked = api.call(
        "POST", f"/relay/print-jobs/{job['job_id']}/ack", {"copy": "test"}, tokens_["relay_a"]
    )
    assert (status, acked["status"]) == (200, "printed")


def test_another_stores_staff_cannot_read_the_job(api, stores, tokens_):
    status, job = test_print(api, tokens_["hq"])
    status, body = api.call("GET", f"/admin/print-jobs/{job['job_id']}", None, tokens_["manager_b"])
    assert (status, body["error"]["code"]) == (404, "print_job_not_found")
    status, _ = api.call("GET", f"/admin/print-jobs/{job['job_id']}", None, tokens_["staff_a"])
    assert status == 200
