"""The store tiers routes: head office reads every store's month and a store's history,
sets the thresholds (audited) and the months' transactions, scores a month; a store
manager reads their own store only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.kernel import clock
from chalicelib.store_tiers.models import StoreMonthModel, StoreTierMonthModel

NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)


@pytest.fixture
def tiers(api, stores, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    StoreMonthModel("sh-a", "2026-10", open_slots=100, up_slots=91).save()
    StoreMonthModel("sh-a", "2026-11", open_slots=10, up_slots=10).save()
    return api


def test_head_office_sees_every_store_and_scores_a_month(tiers, tokens_):
    status, page = tiers.call("GET", "/admin/store-tiers?month=2026-10", token=tokens_["hq"])
    assert status == 200, page
    assert [r["store_id"] for r in page["stores"]] == ["sh-a", "sh-b"]
    a = page["stores"][0]
    assert (a["tier"], a["t_bp"], a["unknown"], a["provisional"]) == ("A", 9100, ["o", "p"], True)
    assert page["distribution"] == {"S": 0, "A": 1, "B": 0, "C": 1}
    status, body = tiers.call(
        "PUT", "/admin/store-tiers/sh-a/transactions/2026-10", {"transactions": 500}, tokens_["hq"]
    )
    assert status == 200 and body["transactions"] == 500, body
    status, body = tiers.call(
        "POST", "/admin/store-tiers/score", {"month": "2026-10"}, tokens_["hq"]
    )
    assert status == 200 and body["scored"] == 2, body
    _, page = tiers.call("GET", "/admin/store-tiers?month=2026-10", token=tokens_["hq"])
    a = page["stores"][0]
    assert (a["provisional"], a["o_bp"], a["inputs"]["transactions"]) == (False, 0, 500)
    assert a["tier"] == "C"  # O known now, and 0 % is under B's 10 %
    assert StoreTierMonthModel.count() == 2
    _, history = tiers.call("GET", "/admin/store-tiers/sh-a", token=tokens_["hq"])
    assert [(m["month"], m["provisional"]) for m in history["months"]] == [
        ("2026-10", False),
        ("2026-11", True),
    ]


def test_a_store_manager_reads_their_own_store_only(tiers, tokens_):
    status, page = tiers.call("GET", "/admin/store-tiers", token=tokens_["manager_a"])
    assert status == 200 and [r["store_id"] for r in page["stores"]] == ["sh-a"]
    assert page["month"] == "2026-11" and page["stores"][0]["t_bp"] == 10000
    assert tiers.call("GET", "/admin/store-tiers/sh-a", token=tokens_["manager_a"])[0] == 200
    status, body = tiers.call("GET", "/admin/store-tiers/sh-b", token=tokens_["manager_a"])
    assert status == 403 and body["error"]["code"] == "other_store"


def test_thresholds_are_audited_and_change_the_tier(tiers, tokens_):
    status, body = tiers.call("GET", "/admin/store-tiers/settings", token=tokens_["hq"])
    assert status == 200 and body["B"] == {"t": 80, "o": 10, "p": 80}
    body["A"]["t"] = 92
    status, got = tiers.call("PUT", "/admin/store-tiers/settings", body, tokens_["hq"])
    assert status == 200 and got["A"]["t"] == 92
    assert [e.action for e in AuditEntryModel.scan()] == ["store_tiers.settings"]
    _, page = tiers.call("GET", "/admin/store-tiers?month=2026-10", token=tokens_["hq"])
    assert page["stores"][0]["tier"] == "B"  # 91 % is under A's 92 % now


def test_bad_months_and_unknown_stores(tiers, tokens_):
    status, body = tiers.call(
        "PUT", "/admin/store-tiers/sh-a/transactions/2026-13", {"transactions": 1}, tokens_["hq"]
    )
    assert status == 400 and body["error"]["code"] == "bad_month"
    status, body = tiers.call(
        "PUT", "/admin/store-tiers/nope/transactions/2026-10", {"transactions": 1}, tokens_["hq"]
    )
    assert status == 404
    assert tiers.call("GET", "/admin/store-tiers?month=26-1", token=tokens_["hq"])[0] in (400, 422)
    status, _ = tiers.call("POST", "/admin/store-tiers/score", {"month": "x"}, tokens_["hq"])
    assert status in (400, 422)
