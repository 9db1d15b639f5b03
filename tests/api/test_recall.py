"""The recall list (召回, issue 15 item 4): who is on it at the 3-month boundary in
Shanghai's months, N from head office's settings, ranking and pages, erased and revoked
members left out and counted, the phone by role, outcomes recorded once per request_id,
and the recall rate's arithmetic."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.customers import aggregates
from chalicelib.events.types import OrderCompleted, OrderLine
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: the list is before 2026-09


@pytest.fixture
def today(monkeypatch):
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


_n = {"order": 0}


def complete_at(customer_id: str, store_id: str, at: str, fen: int) -> None:
    """Count a completed order on the member's aggregates, as the subscriber does."""
    _n["order"] += 1
    order_id = f"O{_n['order']:06d}"
    aggregates.on_completed(
        OrderCompleted(
            event_id=f"order.completed:{order_id}",
            occurred_at=at,
            order_id=order_id,
            customer_id=customer_id,
            store_id=store_id,
            paid_fen=fen,
            refunded_fen=0,
            lines=[OrderLine(sku="100", qty=1, paid_fen=fen, category1="水果")],
        )
    )


def member(phone: str, nickname: str | None = None) -> str:
    from chalicelib.identity.service import register_customer

    m, _ = register_customer(phone, nickname=nickname, home_store_id="sh-b")
    return m.customer_id


@pytest.fixture
def people(aws, stores, today):
    """Members of sh-b (their favourite store) around the boundary, and others."""
    p = {}
    # last order 2026-08-31 23:30 in Shanghai (15:30 UTC): on the list
    p["aug31"] = member("13900000001", "八月底")
    complete_at(p["aug31"], "sh-b", "2026-07-10T02:00:00Z", 4000)
    complete_at(p["aug31"], "sh-b", "2026-08-31T15:30:00Z", 6000)
    # last order 2026-09-01 00:30 in Shanghai (still August in UTC): not on the list
    p["sep1"] = member("13900000002")
    complete_at(p["sep1"], "sh-b", "2026-07-10T02:00:00Z", 4000)
    complete_at(p["sep1"], "sh-b", "2026-08-31T16:30:00Z", 6000)
    # one order only: on the list only when N is 1
    p["once"] = member("13900000003")
    complete_at(p["once"], "sh-b", "2026-06-01T02:00:00Z", 50000)
    # the biggest spender
    p["big"] = member("13900000004")
    for day in (1, 2, 3):
        complete_at(p["big"], "sh-b", f"2026-06-0{day}T02:00:00Z", 9000)
    # as much as aug31: the tie is broken by the member id
    p["tie"] = member("13900000005")
    complete_at(p["tie"], "sh-b", "2026-07-01T02:00:00Z", 5000)
    complete_at(p["tie"], "sh-b", "2026-07-02T02:00:00Z", 5000)
    # another store's
    p["other"] = member("13900000006")
    complete_at(p["other"], "sh-a", "2026-07-01T02:00:00Z", 5000)
    complete_at(p["other"], "sh-a", "2026-07-02T02:00:00Z", 5000)
    # erased, and revoked marketing consent: left out, counted
    p["erased"] = member("13900000007")
    p["revoked"] = member("13900000008")
    for key in ("erased", "revoked"):
        complete_at(p[key], "sh-b", "2026-07-01T02:00:00Z", 7000)
        complete_at(p[key], "sh-b", "2026-07-02T02:00:00Z", 7000)
    CustomerModel(p["erased"]).update(actions=[CustomerModel.erased_at.set("2026-11-01T00:00:00Z")])
    CustomerModel(p["revoked"]).update(actions=[CustomerModel.marketing_consent.set("revoked")])
    return p


def recall_list(api, tokens_, who="manager_b", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.call("GET", f"/stores/sh-b/recall?{query}", token=tokens_[who])


def test_who_is_on_the_list_in_what_order(api, tokens_, people):
    status, body = recall_list(api, tokens_)
    assert status == 200, body
    ids = [row["customer_id"] for row in body["items"]]
    # big 27000; aug31 and tie 10000 each (member id order); sep1's last order is in
    # Shanghai's September, once has one order, other is sh-a's
    expected_tie = sorted([people["aug31"], people["tie"]])
    assert ids == [people["big"], *expected_tie]
    assert (body["day"], body["before_month"], body["min_orders"]) == ("2026-12-05", "2026-09", 2)
    assert (body["total"], body["excluded_erased"], body["excluded_no_consent"]) == (3, 1, 1)
    row = next(r for r in body["items"] if r["customer_id"] == people["aug31"])
    assert row["phone"] == "13900000001"  # the store's manager: in full
    assert (row["orders"], row["spend_fen"], row["last_order_date"]) == (2, 10000, "2026-08-31")
    assert row["months_since_last_order"] == 3 and row["latest_outcome"] is None
    assert body["next_cursor"] is None

    status, hq = recall_list(api, tokens_, "hq")
    assert status == 200 and hq["items"][0]["phone"] == "139****0004"  # head office: masked


def test_n_from_head_offices_settings(api, tokens_, people):
    status, body = api.call(
        "PUT", "/admin/customers/recall-settings", {"min_orders": 1}, tokens_["hq"]
    )
    assert status == 200 and body == {"min_orders": 1}
    assert api.call("GET", "/admin/customers/recall-settings", token=tokens_["hq"])[1] == body
    status, page = recall_list(api, tokens_)
    assert page["min_orders"] == 1 and page["items"][0]["customer_id"] == people["once"]
    assert page["total"] == 4
    status, err = api.call(
        "PUT", "/admin/customers/recall-settings", {"min_orders": 1}, tokens_["manager_b"]
    )
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    from chalicelib.audit.models import AuditEntryModel

    assert [e.action for e in AuditEntryModel.scan()] == ["customers.recall_settings"]


def test_pages_follow_the_ranking_and_a_tampered_cursor_is_refused(api, tokens_, people):
    status, first = recall_list(api, tokens_, limit=2)
    assert status == 200 and len(first["items"]) == 2 and first["next_cursor"]
    status, second = recall_list(api, tokens_, limit=2, cursor=first["next_cursor"])
    assert status == 200 and second["next_cursor"] is None
    _, whole = recall_list(api, tokens_)
    assert [r["customer_id"] for r in first["items"] + second["items"]] == [
        r["customer_id"] for r in whole["items"]
    ]

    raw = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=="))
    changes = ({"store_id": {"S": "sh-a"}}, {"before": {"S": "2026-10"}}, {"after": {"S": "x"}})
    for change in changes:
        forged = base64.urlsafe_b64encode(json.dumps({**raw, **change}).encode()).decode()
        status, err = recall_list(api, tokens_, cursor=forged.rstrip("="))
        assert status == 400 and err["error"]["code"] == "bad_cursor", change
    status, err = recall_list(api, tokens_, cursor="not-a-cursor")
    assert status == 400 and err["error"]["code"] == "bad_cursor"


def test_who_may_read_the_list(api, tokens_, people):
    status, err = recall_list(api, tokens_, "manager_a")  # another store's manager
    assert status == 403 and err["error"]["code"] == "other_store"
    status, err = recall_list(api, tokens_, "staff_a")
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    status, err = recall_list(api, tokens_, "customer")
    assert status == 403 and err["error"]["code"] == "role_not_allowed"
    status, err = api.call("GET", "/stores/sh-b/recall")
    assert status == 401


def outcome(api, tokens_, customer_id, body, who="manager_b"):
    return api.call("POST", f"/stores/sh-b/recall/{customer_id}/outcomes", body, tokens_[who])


def test_an_outcome_is_recorded_once_per_request_id_and_shown_on_the_list(api, tokens_, people):
    from chalicelib.audit.models import AuditEntryModel

    aug31 = people["aug31"]
    body = {"outcome": "no_answer", "note": "下午再打", "request_id": "rq-00000001"}
    status, first = outcome(api, tokens_, aug31, body)
    assert status == 201, first
    assert (first["outcome"], first["outcomes"], first["by"]) == ("no_answer", 1, "sh-b-manager")
    status, again = outcome(api, tokens_, aug31, body)
    assert status == 200 and again == first  # a retry: nothing more written
    status, err = outcome(api, tokens_, aug31, {**body, "outcome": "called"})
    assert status == 409 and err["error"]["code"] == "request_id_reused"
    assert len([e for e in AuditEntryModel.scan() if e.action == "customers.recall_outcome"]) == 1

    status, later = outcome(
        api, tokens_, aug31, {"outcome": "coupon_sent", "request_id": "rq-00000002"}
    )
    assert status == 201 and later["outcomes"] == 2 and later["first_at"] == first["first_at"]
    assert later["note"] is None
    _, page = recall_list(api, tokens_)
    row = next(r for r in page["items"] if r["customer_id"] == aug31)
    assert row["latest_outcome"] == later

    # not on this store's list; the consent revoked; roles
    status, err = outcome(api, tokens_, people["other"], {**body, "request_id": "rq-00000003"})
    assert status == 404 and err["error"]["code"] == "not_on_list"
    status, err = outcome(api, tokens_, people["revoked"], {**body, "request_id": "rq-00000004"})
    assert status == 409 and err["error"]["code"] == "marketing_consent_revoked"
    for who, code in (("hq", "role_not_allowed"), ("manager_a", "other_store")):
        status, err = outcome(api, tokens_, aug31, {**body, "request_id": "rq-00000005"}, who)
        assert status == 403 and err["error"]["code"] == code


def test_the_recall_rate(api, tokens_, people, today):
    """Three recalled on 2026-12-05: aug31 orders 10 days later (back), big 40 days later
    (too late), tie never; once recalled (N=1) on 2026-12-20 has days left."""
    for n, who in enumerate(("aug31", "big", "tie")):
        body = {"outcome": "called", "request_id": f"rq-rate-{n:04d}"}
        assert outcome(api, tokens_, people[who], body)[0] == 201
    # two outcomes for one member: still one member recalled
    body = {"outcome": "coupon_sent", "request_id": "rq-rate-0009"}
    assert outcome(api, tokens_, people["tie"], body)[0] == 201
    complete_at(people["aug31"], "sh-b", clock.iso(NOW + timedelta(days=10)), 3000)
    complete_at(people["big"], "sh-a", clock.iso(NOW + timedelta(days=40)), 3000)

    api.call("PUT", "/admin/customers/recall-settings", {"min_orders": 1}, tokens_["hq"])
    today["now"] = NOW + timedelta(days=15)
    body = {"outcome": "called", "request_id": "rq-rate-once"}
    assert outcome(api, tokens_, people["once"], body)[0] == 201

    today["now"] = NOW + timedelta(days=41)
    december = "/stores/sh-b/recall/report?from=2026-12-01&to=2026-12-31"
    status, report = api.call("GET", december, token=tokens_["manager_b"])
    assert status == 200, report
    assert (report["recalled"], report["came_back"], report["pending"]) == (4, 1, 1)
    assert report["recall_rate"] == 0.25
    status, report = api.call(
        "GET", "/stores/sh-b/recall/report?from=2026-12-06&to=2026-12-31", token=tokens_["hq"]
    )
    assert (report["recalled"], report["came_back"]) == (1, 0)  # only "once"'s round
    status, err = api.call(
        "GET", "/stores/sh-b/recall/report?from=2026-12-31&to=2026-12-01", token=tokens_["hq"]
    )
    assert status == 422
    for who in ("staff_a", "manager_a"):
        status, err = api.call("GET", "/stores/sh-b/recall/report", token=tokens_[who])
        assert status == 403 and err["error"]["code"] in ("role_not_allowed", "other_store")
