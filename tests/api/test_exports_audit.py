"""The audit log as a CSV export (issue 13 item 2): the log page's filters, its
visibility (head office every entry, a store manager their store's, nobody else) and
one row per changed field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.exports.models import ExportJobModel
from chalicelib.kernel import clock

from tests.api.test_exports import export, run_worker, start


@pytest.fixture
def edited(api, stores, catalogue, tokens_):
    """Each manager edits their store; head office changes a price at sh-a and renames
    sh-b with a name a spreadsheet would run as a formula."""
    for store, token in (("sh-a", "manager_a"), ("sh-b", "manager_b")):
        status, _ = api.call(
            "PATCH", f"/admin/stores/{store}", {"minimum_order_fen": 2100}, tokens_[token]
        )
        assert status == 200
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a/items/100", {"price_fen": 1990}, tokens_["hq"]
    )
    assert status == 200, body
    status, body = api.call("PATCH", "/admin/stores/sh-b", {"name": "=1+1 店"}, tokens_["hq"])
    assert status == 200, body


def test_head_office_exports_one_targets_history_with_the_changed_fields(api, tokens_, edited):
    filters = {"target_type": "store_item", "target_id": "sh-a/100"}
    job, rows, data = export(api, tokens_["hq"], {"kind": "audit", "filters": filters})
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    head = rows[0]
    assert head[:2] == ["时间（Asia/Shanghai）", "操作人"]
    assert head[-4:] == ["字段", "修改前", "修改后", "记录编号"]
    (row,) = rows[1:]
    assert row[1:8] == [
        "hq-admin",
        "hq_admin",
        "",
        "store_item.update",
        "store_item",
        "sh-a/100",
        "sh-a",
    ]
    assert row[head.index("字段")] == "price_fen"
    assert row[head.index("修改后")] == "19.90"  # money in yuan, as the page shows it
    # the default range is the last 7 UTC days, fixed when the export was asked for
    today = clock.now().date()
    assert job["filters"] == {
        **filters,
        "date_from": (today - timedelta(days=6)).isoformat(),
        "date_to": today.isoformat(),
    }
    assert job["file_name"] == f"audit_all_{job['filters']['date_from']}_{today}.csv"


def test_english_headers_every_entry_and_formulas_neutralised(api, tokens_, edited):
    _, rows, _ = export(api, tokens_["hq"], {"kind": "audit", "language": "en"})
    head = rows[0]
    assert head[0] == "Time (Asia/Shanghai)" and "Before" in head and "After" in head
    by_target = {(r[head.index("Target ID")], r[head.index("Field")]): r for r in rows[1:]}
    assert set(by_target) == {
        ("sh-a", "minimum_order_fen"),
        ("sh-b", "minimum_order_fen"),
        ("sh-a/100", "price_fen"),
        ("sh-b", "name"),
    }
    renamed = by_target[("sh-b", "name")]
    assert renamed[head.index("After")] == "'=1+1 店"
    assert renamed[head.index("Before")] == "鲜到家 陆家嘴店"


def test_a_manager_exports_their_stores_entries_only(api, tokens_, edited):
    _, rows, _ = export(api, tokens_["manager_a"], {"kind": "audit"})
    assert {r[7] for r in rows[1:]} == {"sh-a"} and len(rows) == 3
    # filtering by another store's actor or target finds nothing of theirs
    for filters in ({"actor": "sh-b-manager"}, {"target_type": "store", "target_id": "sh-b"}):
        _, rows, _ = export(api, tokens_["manager_a"], {"kind": "audit", "filters": filters})
        assert rows[1:] == []


def test_head_office_filters_by_actor_and_store(api, tokens_, edited):
    _, rows, _ = export(api, tokens_["hq"], {"kind": "audit", "filters": {"actor": "sh-b-manager"}})
    assert [(r[1], r[6]) for r in rows[1:]] == [("sh-b-manager", "sh-b")]
    _, rows, _ = export(api, tokens_["hq"], {"kind": "audit", "filters": {"store_id": "sh-b"}})
    assert {r[7] for r in rows[1:]} == {"sh-b"} and len(rows) == 3


@pytest.mark.parametrize(
    ("who", "filters", "status", "code"),
    [
        ("customer", {}, 403, "role_not_allowed"),
        ("relay_a", {}, 403, "role_not_allowed"),
        ("staff_a", {}, 403, "role_not_allowed"),  # store staff read no log
        ("staff_a", {"store_id": "sh-a"}, 403, "role_not_allowed"),
        ("manager_a", {"store_id": "sh-b"}, 403, "other_store"),
        ("manager_a", {}, 202, None),  # their own store, always
        ("manager_a", {"store_id": "sh-a"}, 202, None),
        ("hq", {}, 202, None),  # every entry
        ("hq", {"store_id": "sh-b"}, 202, None),
    ],
)
def test_who_may_export_the_log(api, tokens_, stores, who, filters, status, code):
    got, body = start(api, tokens_[who], {"kind": "audit", "filters": filters})
    assert got == status, body
    if code:
        assert body["error"]["code"] == code
        assert ExportJobModel.count() == 0 and run_worker() == 0
    else:
        expected = "sh-a" if who == "manager_a" else filters.get("store_id")
        assert body["filters"].get("store_id") == expected


def test_a_manager_without_a_store_is_refused_not_given_the_chain(aws, stores):
    from chalicelib.auth.principal import Principal
    from chalicelib.exports import jobs
    from chalicelib.exports import schemas as s
    from chalicelib.kernel.errors import Forbidden

    nowhere = Principal("m-x", "store_manager", None)
    for kind in ("audit", "daily_sales"):
        body = s.ExportRequest(
            kind=kind, filters=s.ExportFilters(date_from="2026-11-01", date_to="2026-11-01")
        )
        with pytest.raises(Forbidden):
            jobs.create_job(nowhere, body, f"no-store-{kind}")
    assert ExportJobModel.count() == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "audit", "filters": {"target_id": "sh-a"}}, "validation_failed"),
        ({"kind": "audit", "filters": {"target_type": "Store!"}}, "validation_failed"),
        ({"kind": "audit", "filters": {"actor": "x" * 65}}, "validation_failed"),
        (
            {"kind": "audit", "filters": {"date_from": "2025-01-01", "date_to": "2026-11-01"}},
            "range_too_long",
        ),
        (
            {"kind": "audit", "filters": {"date_from": "2026-11-02", "date_to": "2026-11-01"}},
            "validation_failed",
        ),
        (
            {
                "kind": "orders",
                "filters": {"date_from": "2026-11-01", "date_to": "2026-11-01", "actor": "hq"},
            },
            "validation_failed",
        ),
        (
            {"kind": "stock", "filters": {"store_id": "sh-a", "target_type": "store"}},
            "validation_failed",
        ),
    ],
)
def test_bad_audit_filters_are_422_and_queue_nothing(api, tokens_, stores, body, code):
    status, resp = start(api, tokens_["hq"], body)
    assert status == 422 and resp["error"]["code"] == code, resp
    assert ExportJobModel.count() == 0 and run_worker() == 0


def test_a_year_of_the_log_reads_indexes_never_a_scan(api, tokens_, edited, monkeypatch):
    import botocore.client

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    today = clock.now().date()
    year = {"date_from": (today - timedelta(days=365)).isoformat(), "date_to": today.isoformat()}
    _, rows, _ = export(api, tokens_["hq"], {"kind": "audit", "filters": year})
    assert len(rows) == 5
    _, rows, _ = export(api, tokens_["manager_b"], {"kind": "audit", "filters": year})
    assert {r[7] for r in rows[1:]} == {"sh-b"} and len(rows) == 3
    assert calls and "Scan" not in calls
