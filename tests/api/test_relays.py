"""Relay tokens, heartbeats, health, revocation, failure reports and the token vending
machine: a relay reaches its own store and nothing else."""

from __future__ import annotations

import fnmatch
import json
from datetime import timedelta

import pytest
from chalicelib.kernel import clock
from chalicelib.orders.models import OrderModel
from chalicelib.printing import dispatch as print_dispatch
from chalicelib.printing import print_queues, relays
from chalicelib.printing.models import PrintJobModel

from tests.api.conftest import token_for
from tests.api.test_print_jobs import ack, paid, pickup_at_b

HEARTBEAT = {
    "relay_version": "0.1.0",
    "hostname": "store-pc",
    "printers": [{"name": "front", "state": "online", "detail": "", "paper_mm": 80}],
    "ledger": {"pending_copies": 0, "unacked_copies": 0, "oldest_pending_s": 0},
}


@pytest.fixture(autouse=True)
def fresh_queue_cache():
    print_queues.forget()
    yield
    print_queues.forget()


@pytest.fixture(autouse=True)
def only_issued_relays(tokens_):
    """These tests issue their relays through the API: drop the fixture's ready-made one."""
    from chalicelib.printing.relay_models import RelayModel

    RelayModel("relay-sh-a").delete()


def issue(api, tokens_, store_id="sh-a", name="收银台电脑"):
    status, body = api.call(
        "POST", f"/admin/stores/{store_id}/relays", {"name": name}, tokens_["hq"]
    )
    assert status == 201, body
    return body


def health(api, token, store_id=None):
    path = "/admin/print-health" + (f"?store_id={store_id}" if store_id else "")
    return api.call("GET", path, None, token)


def store_entry(body, store_id):
    (entry,) = [s for s in body["stores"] if s["store_id"] == store_id]
    return entry


# --- issuing ---------------------------------------------------------------------------------


def test_head_office_issues_a_relay_token_for_one_store(api, tokens_, stores):
    relay = issue(api, tokens_)
    assert relay["store_id"] == "sh-a" and relay["status"] == "active"
    assert relay["health"] == "never_seen" and relay["token"]
    from chalicelib.auth import tokens

    claims = tokens.verify(relay["token"])
    assert claims["role"] == "relay" and claims["store_id"] == "sh-a"
    assert claims["sub"] == relay["relay_id"]
    # The token is shown once: the list never repeats it.
    status, listed = api.call("GET", "/admin/stores/sh-a/relays", None, tokens_["manager_a"])
    assert status == 200 and [r["relay_id"] for r in listed["items"]] == [relay["relay_id"]]
    assert "token" not in listed["items"][0]


def test_only_head_office_issues_and_revokes(api, tokens_, stores):
    status, body = api.call("POST", "/admin/stores/sh-a/relays", {}, tokens_["manager_a"])
    assert status == 403 and body["error"]["code"] == "role_not_allowed"
    relay = issue(api, tokens_)
    status, body = api.call(
        "POST", f"/admin/relays/{relay['relay_id']}/revoke", None, tokens_["manager_a"]
    )
    assert status == 403 and body["error"]["code"] == "role_not_allowed"


def test_a_relay_for_an_unknown_store_is_404(api, tokens_, stores):
    status, body = api.call("POST", "/admin/stores/sh-zz/relays", {}, tokens_["hq"])
    assert status == 404 and body["error"]["code"] == "store_not_found"


# --- heartbeat and health ------------------------------------------------------------------


def test_heartbeats_show_in_the_health_view(api, tokens_, stores):
    relay = issue(api, tokens_)
    status, body = api.call("POST", "/relay/heartbeat", HEARTBEAT, relay["token"])
    assert status == 200, body
    assert body["relay_id"] == relay["relay_id"] and body["heartbeat_interval_s"] == 15

    status, view = health(api, tokens_["hq"])
    assert status == 200 and view["stale_after_s"] == 60
    a = store_entry(view, "sh-a")
    assert a["healthy"] is True and a["problems"] == []
    (seen,) = a["relays"]
    assert seen["health"] == "ok" and seen["relay_version"] == "0.1.0"
    assert seen["printers"] == [
        {"name": "front", "state": "online", "detail": "", "paper_mm": 80, "problem": None}
    ]
    # A store without a relay is flagged.
    assert store_entry(view, "sh-b")["problems"] == ["no_relay"]


def test_a_missing_heartbeat_is_flagged_after_60_seconds(api, tokens_, stores, monkeypatch):
    relay = issue(api, tokens_)
    api.call("POST", "/relay/heartbeat", HEARTBEAT, relay["token"])
    start = clock.now()
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=59))
    assert store_entry(health(api, tokens_["hq"])[1], "sh-a")["healthy"] is True
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=62))
    a = store_entry(health(api, tokens_["hq"])[1], "sh-a")
    assert a["healthy"] is False and a["problems"] == ["relay_stale"]
    assert a["relays"][0]["health"] == "stale" and a["relays"][0]["heartbeat_age_s"] >= 61


class MovingClock:
    """clock.now for the API, moved by the test."""

    def __init__(self, monkeypatch):
        self.at = clock.now()
        monkeypatch.setattr(clock, "now", lambda: self.at)

    def advance(self, seconds):
        self.at += timedelta(seconds=seconds)


def beat_from(api, token, host, started_at):
    status, body = api.call(
        "POST", "/relay/heartbeat", dict(HEARTBEAT, hostname=host, started_at=started_at), token
    )
    assert status == 200, body
    return body


def test_two_relays_sharing_one_token_are_flagged(api, tokens_, stores, monkeypatch):
    """A cloned store PC: both relays consume the store's queue and split its tickets."""
    now = MovingClock(monkeypatch)
    token = issue(api, tokens_)["token"]
    front = ("收银台", "2026-11-24T01:00:00Z")
    back = ("back-office-pc", "2026-11-24T01:05:00Z")
    assert beat_from(api, token, *front)["other_relay_host"] is None
    now.advance(5)
    assert beat_from(api, token, *back)["other_relay_host"] is None  # could be a restart
    now.advance(5)
    assert beat_from(api, token, *front)["other_relay_host"] == "back-office-pc"  # came back
    now.advance(5)
    assert beat_from(api, token, *back)["other_relay_host"] == "收银台"

    a = store_entry(health(api, tokens_["hq"])[1], "sh-a")
    assert a["healthy"] is False and a["problems"] == ["relay_shared_token"]
    (relay,) = a["relays"]
    assert relay["health"] == "shared_token" and relay["other_relay_host"] == "收银台"

    # One of them is stopped: two minutes later the flag is gone.
    for _ in range(9):
        now.advance(15)
        beat_from(api, token, *back)
    a = store_entry(health(api, tokens_["hq"])[1], "sh-a")
    assert a["healthy"] is True and a["relays"][0]["health"] == "ok"
    assert a["relays"][0]["other_relay_host"] is None


def test_a_restarted_relay_is_not_taken_for_a_second_one(api, tokens_, stores, monkeypatch):
    now = MovingClock(monkeypatch)
    token = issue(api, tokens_)["token"]
    for restart in range(4):  # restarts in quick succession: a new instance each time
        started = f"2026-11-24T01:0{restart}:00Z"
        for _ in range(2):
            assert beat_from(api, token, "收银台", started)["other_relay_host"] is None
            now.advance(5)
    (relay,) = store_entry(health(api, tokens_["hq"])[1], "sh-a")["relays"]
    assert relay["health"] == "ok"


def test_a_relay_that_comes_back_after_a_minute_is_a_handover(api, tokens_, stores, monkeypatch):
    """PC swapped for a spare, then back: not two relays at once."""
    now = MovingClock(monkeypatch)
    token = issue(api, tokens_)["token"]
    beat_from(api, token, "收银台", "2026-11-24T01:00:00Z")
    now.advance(5)
    beat_from(api, token, "spare-pc", "2026-11-24T01:00:05Z")
    now.advance(61)
    assert beat_from(api, token, "收银台", "2026-11-24T01:00:00Z")["other_relay_host"] is None


def test_a_revoked_token_is_refused_even_from_a_new_instance(api, tokens_, stores):
    relay = issue(api, tokens_)
    beat_from(api, relay["token"], "收银台", "2026-11-24T01:00:00Z")
    api.call("POST", f"/admin/relays/{relay['relay_id']}/revoke", None, tokens_["hq"])
    status, body = api.call(
        "POST", "/relay/heartbeat", dict(HEARTBEAT, hostname="other"), relay["token"]
    )
    assert status == 401, body


def test_a_printer_fault_shows_with_the_next_heartbeat(api, tokens_, stores):
    relay = issue(api, tokens_)
    beat = dict(
        HEARTBEAT,
        printers=[
            {"name": "front", "state": "online"},
            {"name": "kitchen", "state": "paper_out", "detail": "paper end"},
        ],
    )
    assert api.call("POST", "/relay/heartbeat", beat, relay["token"])[0] == 200
    a = store_entry(health(api, tokens_["hq"])[1], "sh-a")
    assert a["problems"] == ["printer_paper_out"]
    assert a["relays"][0]["health"] == "printer_fault"


def test_a_printer_that_never_answers_status_is_a_problem_with_its_fix(api, tokens_, stores):
    relay = issue(api, tokens_)
    beat = dict(
        HEARTBEAT,
        printers=[
            {"name": "front", "state": "online"},
            {"name": "kitchen", "state": "unknown", "problem": "no_status"},
        ],
    )
    assert api.call("POST", "/relay/heartbeat", beat, relay["token"])[0] == 200
    a = store_entry(health(api, tokens_["hq"])[1], "sh-a")
    # the relay's diagnosis replaces the bare "unknown": it says what to do (ack = "close")
    assert a["problems"] == ["printer_no_status"] and a["healthy"] is False
    assert a["relays"][0]["health"] == "printer_fault"
    assert [p.get("problem") for p in a["relays"][0]["printers"]] == [None, "no_status"]
    bad = dict(HEARTBEAT, printers=[{"name": "front", "state": "online", "problem": "smoke"}])
    assert api.call("POST", "/relay/heartbeat", bad, relay["token"])[0] == 422


def test_a_never_seen_relay_is_a_problem(api, tokens_, stores):
    issue(api, tokens_)
    a = store_entry(health(api, tokens_["hq"])[1], "sh-a")
    assert a["healthy"] is False and a["problems"] == ["relay_never_seen"]


def test_store_accounts_see_their_own_store_only(api, tokens_, stores):
    issue(api, tokens_, "sh-a")
    issue(api, tokens_, "sh-b")
    status, view = health(api, tokens_["manager_a"])
    assert status == 200 and [s["store_id"] for s in view["stores"]] == ["sh-a"]
    status, view = health(api, tokens_["manager_b"], "sh-a")
    assert status == 403 and view["error"]["code"] == "other_store"
    status, _ = api.call("GET", "/admin/stores/sh-a/relays", None, tokens_["manager_b"])
    assert status == 403


def test_a_bad_heartbeat_is_422_and_names_the_field(api, tokens_, stores):
    relay = issue(api, tokens_)
    bad = dict(HEARTBEAT, printers=[{"name": "front", "state": "smoking"}])
    status, body = api.call("POST", "/relay/heartbeat", bad, relay["token"])
    assert status == 422
    assert any("printers" in d["field"] for d in body["error"]["details"])


# --- revocation ----------------------------------------------------------------------------


def test_a_revoked_relay_is_refused_everywhere(api, tokens_, catalogue):
    relay = issue(api, tokens_)
    _, job_id = paid(api, tokens_)
    status, body = api.call(
        "POST", f"/admin/relays/{relay['relay_id']}/revoke", None, tokens_["hq"]
    )
    assert status == 200 and body["status"] == "revoked" and body["health"] == "revoked"
    token = relay["token"]
    for method, path, payload in (
        ("POST", "/relay/heartbeat", HEARTBEAT),
        ("POST", "/relay/credentials", None),
        ("POST", f"/relay/print-jobs/{job_id}/ack", {"copy": "picking"}),
        ("POST", f"/relay/print-jobs/{job_id}/failure", {"reason": "render_failed"}),
    ):
        status, body = api.call(method, path, payload, token)
        assert status == 401 and body["error"]["code"] == "token_revoked", (path, body)
    # Revoking again changes nothing; the store now shows no relay.
    status, again = api.call(
        "POST", f"/admin/relays/{relay['relay_id']}/revoke", None, tokens_["hq"]
    )
    assert status == 200 and again["revoked_at"] == body_revoked_at(api, tokens_, relay)
    assert store_entry(health(api, tokens_["hq"])[1], "sh-a")["problems"] == ["no_relay"]
    # A new relay for the store works.
    fresh = issue(api, tokens_)
    assert ack(api, fresh["token"], job_id, "picking")[0] == 200


def body_revoked_at(api, tokens_, relay):
    _, listed = api.call("GET", "/admin/stores/sh-a/relays", None, tokens_["hq"])
    (found,) = [r for r in listed["items"] if r["relay_id"] == relay["relay_id"]]
    return found["revoked_at"]


def test_a_relay_token_without_a_relay_record_is_refused(api, tokens_, catalogue):
    """A validly signed relay-role token is not enough: head office must have issued it."""
    _, job_id = paid(api, tokens_)
    stray = token_for("relay-ghost", "relay", "sh-a")
    assert api.call("POST", "/relay/heartbeat", HEARTBEAT, stray)[0] == 401
    assert ack(api, stray, job_id, "picking")[0] == 401


# --- least privilege -----------------------------------------------------------------------


def test_store_ones_relay_cannot_acknowledge_or_read_store_twos_jobs(api, tokens_, catalogue):
    relay_a = issue(api, tokens_, "sh-a")
    _, job_b = pickup_at_b(api, tokens_)
    status, body = ack(api, relay_a["token"], job_b, "picking")
    assert status == 403 and body["error"]["code"] == "other_store"
    status, body = api.call(
        "POST", f"/relay/print-jobs/{job_b}/failure", {"reason": "bad_message"}, relay_a["token"]
    )
    assert status == 403 and body["error"]["code"] == "other_store"
    assert PrintJobModel.get(job_b).acked_copies in (None, set())
    for path in (
        "/admin/print-jobs?store_id=sh-b",
        f"/admin/orders/{job_b.rsplit('-p', 1)[0]}/print-jobs",
        "/admin/print-health?store_id=sh-b",
        "/admin/stores/sh-b/relays",
    ):
        status, body = api.call("GET", path, None, relay_a["token"])
        assert status == 403, path


class StsSpy:
    """Records assume_role calls and answers them with moto."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def assume_role(self, **kwargs):
        self.calls.append(kwargs)
        return self.real.assume_role(**kwargs)


def allows(policy: dict, action: str, resource: str) -> bool:
    """IAM's evaluation for Allow-only policies: some statement matches action and resource."""
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if (
            st["Effect"] == "Allow"
            and any(fnmatch.fnmatchcase(action, a) for a in actions)
            and any(fnmatch.fnmatchcase(resource, r) for r in resources)
        ):
            return True
    return False


def test_vended_credentials_name_exactly_the_relays_own_queue(api, tokens_, stores, monkeypatch):
    spy = StsSpy(relays._sts())
    monkeypatch.setattr(relays, "_sts", lambda: spy)
    relay = issue(api, tokens_, "sh-a")
    status, creds = api.call("POST", "/relay/credentials", None, relay["token"])
    assert status == 200, creds
    assert creds["queue_url"] == print_queues.url("sh-a")
    assert creds["access_key_id"] and creds["session_token"] and creds["expires_at"]

    (call,) = spy.calls
    assert call["RoleArn"].endswith("relay-queue")
    policy = json.loads(call["Policy"])
    named = {r for st in policy["Statement"] for r in st["Resource"]}
    queue_a = relays.queue_arn(print_queues.url("sh-a"))
    queue_b = relays.queue_arn(print_queues.url("sh-b"))
    assert named == {queue_a} and "*" not in queue_a
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert allows(policy, action, queue_a)
        assert not allows(policy, action, queue_b)
    assert not allows(policy, "sqs:SendMessage", queue_a)
    assert not allows(policy, "sqs:ReceiveMessage", queue_a.replace(".fifo", "-dlq.fifo"))


def test_the_vended_credentials_receive_from_the_own_queue(api, tokens_, catalogue):
    """With the vended credentials and URL the relay receives its store's ticket."""
    import boto3

    relay = issue(api, tokens_, "sh-a")
    _, job_id = paid(api, tokens_)
    assert print_dispatch.dispatch(job_id) is True
    _, creds = api.call("POST", "/relay/credentials", None, relay["token"])
    sqs = boto3.client(
        "sqs",
        region_name=creds["region"] or "us-east-1",
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds["session_token"],
    )
    got = sqs.receive_message(QueueUrl=creds["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["job_id"] for m in got] == [job_id]


# --- acknowledgement details and failures --------------------------------------------------


def test_an_ack_records_the_printer_and_a_reprint(api, tokens_, catalogue):
    relay = issue(api, tokens_)
    _, job_id = paid(api, tokens_)
    status, body = api.call(
        "POST",
        f"/relay/print-jobs/{job_id}/ack",
        {"copy": "picking", "printer": "kitchen", "reprinted": True},
        relay["token"],
    )
    assert status == 200
    assert body["history"][-1]["reason"] == "picking on kitchen (补打)"


def test_a_failure_report_shows_the_job_as_missed_at_once(api, tokens_, catalogue):
    relay = issue(api, tokens_)
    order_id, job_id = paid(api, tokens_)
    report = {"reason": "render_failed", "message": "template error", "receive_count": 5}
    status, job = api.call("POST", f"/relay/print-jobs/{job_id}/failure", report, relay["token"])
    assert status == 200 and job["status"] == "missed"
    assert job["history"][-1]["action"] == "relay_failure"
    assert "render_failed after 5 receives: template error" in job["history"][-1]["reason"]
    assert OrderModel.get(order_id).missed_print is True
    status, missed = api.call("GET", "/admin/print-jobs?status=missed", None, tokens_["hq"])
    assert [j["job_id"] for j in missed["items"]] == [job_id]
    # Reported twice (a retry): one more history line, still missed.
    status, again = api.call("POST", f"/relay/print-jobs/{job_id}/failure", report, relay["token"])
    assert status == 200 and again["status"] == "missed"
    # Printed after all (e.g. after a reprint from a fixed relay): the flag clears.
    for copy in ("picking", "delivery"):
        assert ack(api, relay["token"], job_id, copy)[0] == 200
    assert OrderModel.get(order_id).missed_print is False


def test_a_failure_report_on_a_printed_job_only_adds_history(api, tokens_, catalogue):
    relay = issue(api, tokens_)
    order_id, job_id = paid(api, tokens_)
    for copy in ("picking", "delivery"):
        ack(api, relay["token"], job_id, copy)
    report = {"reason": "dead_letter", "receive_count": 5}
    status, job = api.call("POST", f"/relay/print-jobs/{job_id}/failure", report, relay["token"])
    assert status == 200 and job["status"] == "printed"
    assert OrderModel.get(order_id).missed_print is False


def test_a_failure_report_with_an_unknown_reason_is_422(api, tokens_, catalogue):
    relay = issue(api, tokens_)
    _, job_id = paid(api, tokens_)
    status, body = api.call(
        "POST", f"/relay/print-jobs/{job_id}/failure", {"reason": "gremlins"}, relay["token"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "reason"
