"""The member pages' server exports (issue 13 item 2 on issue 14's pages): the member
list with its filters (head office full phones, a store manager their home store's with
phones masked as the list masks them, nobody else) and one member's points and
stored-value ledgers (head office only), newest first through their indexes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.exports import sources
from chalicelib.exports.models import ExportJobModel
from chalicelib.kernel import clock
from chalicelib.kernel.privacy import mask_phone

from tests.api.test_exports import export, run_worker, start
from tests.api.test_members import many, qr, resend, sign_in  # noqa: F401 (fixtures used here)

PHONES = ("13900000001", "13900000002", "13900000003")  # many's members, in order


def _listed(api, token, query=""):
    status, page = api.call("GET", f"/admin/members?limit=100{query}", token=token)
    assert status == 200, page
    return page["items"]


def test_head_office_exports_the_list_with_full_phones(api, tokens_, many, aws_calls):  # noqa: F811
    job, rows, data = export(api, tokens_["hq"], {"kind": "members"})
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    head = rows[0]
    assert head[:2] == ["会员编号", "手机号"] and head[-1] == "注册时间（Asia/Shanghai）"
    # the rows the list shows, in its order (newest first)
    listed = _listed(api, tokens_["hq"])
    assert [(r[0], r[1]) for r in rows[1:]] == [(m["customer_id"], m["phone"]) for m in listed]
    assert {r[1] for r in rows[1:]} == set(PHONES)
    shelf = next(r for r in rows[1:] if r[0] == many[0])
    assert shelf[head.index("归属门店")] == "sh-a" and shelf[head.index("来源")] == "shelf"
    assert "Scan" not in aws_calls
    # the list's default window (the last year), fixed when the export was asked for
    today = clock.now().date()
    since = (today - timedelta(days=365)).isoformat()
    assert job["filters"] == {"registered_from": since, "registered_to": today.isoformat()}
    assert job["file_name"] == f"members_all_{since}_{today}.csv"


def test_a_manager_exports_their_home_stores_members_phones_masked(api, tokens_, many):  # noqa: F811
    _, rows, _ = export(api, tokens_["manager_a"], {"kind": "members", "language": "en"})
    assert rows[0][:2] == ["Member ID", "Phone"]
    assert sorted(r[0] for r in rows[1:]) == sorted(many[:2])
    assert sorted(r[1] for r in rows[1:]) == sorted(mask_phone(p) for p in PHONES[:2])
    # exactly as the list masks them
    listed = _listed(api, tokens_["manager_a"])
    assert [r[1] for r in rows[1:]] == [m["phone"] for m in listed]


@pytest.mark.parametrize(
    ("who", "filters", "expected"),
    [
        ("hq", {"source_kind": "shelf"}, [0]),
        ("hq", {"store_id": "sh-b"}, [2]),
        ("hq", {"phone": "13900000003"}, [2]),
        ("hq", {"phone": "13900000009"}, []),
        ("hq", {"registered_from": "2020-01-01", "registered_to": "2020-01-31"}, []),
        ("manager_a", {"phone": "13900000003"}, []),  # another store's member: not found
        ("manager_a", {"phone": "13900000001"}, [0]),
        ("manager_a", {"source_kind": "store"}, []),
    ],
)
def test_the_lists_filters_select_the_rows(api, tokens_, many, who, filters, expected):  # noqa: F811
    job, rows, _ = export(api, tokens_[who], {"kind": "members", "filters": filters})
    assert sorted(r[0] for r in rows[1:]) == sorted(many[i] for i in expected)
    if "phone" in filters:
        assert "registered_from" not in job["filters"]  # a phone search has no window


@pytest.mark.parametrize("who", ["hq", "manager_a"])
def test_the_level_filter_selects_as_the_list_does(api, tokens_, many, who, aws_calls):  # noqa: F811
    from chalicelib.identity.models import CustomerModel

    for member, level in ((many[0], "V1"), (many[1], "V3"), (many[2], "V3")):
        CustomerModel(member).update(actions=[CustomerModel.level.set(level)])
    job, rows, _ = export(api, tokens_[who], {"kind": "members", "filters": {"level": "V3"}})
    listed = _listed(api, tokens_[who], "&level=V3")
    assert [r[0] for r in rows[1:]] == [m["customer_id"] for m in listed]
    expected = [many[1], many[2]] if who == "hq" else [many[1]]  # a manager: their store's
    assert sorted(r[0] for r in rows[1:]) == sorted(expected)
    assert job["filters"]["level"] == "V3" and "Scan" not in aws_calls


def test_a_long_list_is_read_in_pages_across_months(api, tokens_, many, monkeypatch):  # noqa: F811
    from chalicelib.identity.models import CustomerModel

    # one member registered two months ago: two months' partitions, pages of one member
    earlier = clock.now() - timedelta(days=62)
    at = earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    CustomerModel(many[2]).update(
        actions=[CustomerModel.created_at.set(at), CustomerModel.reg_month.set(at[:7])]
    )
    monkeypatch.setattr(sources, "ITEMS_PER_PAGE", 1)
    job, rows, _ = export(api, tokens_["hq"], {"kind": "members"})
    assert [r[0] for r in rows[1:]] == [m["customer_id"] for m in _listed(api, tokens_["hq"])]
    assert rows[-1][0] == many[2] and job["rows_done"] == 3


@pytest.fixture
def ledgers(api, tokens_, many):  # noqa: F811
    """many[0] has two points adjustments and two stored-value adjustments."""
    member = many[0]
    for n, delta in ((1, 200), (2, -50)):
        status, body = api.call(
            "POST",
            f"/admin/members/{member}/points/adjustments",
            {"delta": delta, "reason": f"=补偿{n}", "request_id": f"adj-0000000{n}"},
            tokens_["hq"],
        )
        assert status == 201, body
    for n, bonus in ((1, 1000), (2, -250)):
        status, body = api.call(
            "POST",
            f"/admin/stored-value/members/{member}/adjustments",
            {
                "principal_fen": 0,
                "bonus_fen": bonus,
                "reason": f"补偿{n}",
                "request_id": f"sv-adj-0{n}",
            },
            tokens_["hq"],
        )
        assert status == 201, body
    return member


def test_head_office_exports_a_members_points_ledger_newest_first(api, tokens_, ledgers):
    body = {"kind": "points_entries", "filters": {"customer_id": ledgers}}
    job, rows, data = export(api, tokens_["hq"], body)
    assert data.startswith(b"\xef\xbb\xbf")
    head = rows[0]
    assert head[:5] == ["时间（Asia/Shanghai）", "类型", "积分变动", "欠分变动", "变动后余额"]
    status, page = api.call(
        "GET", f"/admin/members/{ledgers}/points/entries?limit=50", token=tokens_["hq"]
    )
    assert status == 200
    assert [r[-1] for r in rows[1:]] == [e["entry_key"] for e in page["items"]]
    assert [(r[2], r[4]) for r in rows[1:]] == [("-50", "150"), ("200", "200")]
    assert rows[1][head.index("原因")] == "'=补偿2"  # never run as a formula
    assert rows[1][head.index("操作人")] == "hq-admin"
    assert job["file_name"] == f"points_entries_{ledgers}.csv"
    assert job["filters"] == {"customer_id": ledgers}


def test_head_office_exports_a_members_stored_value_ledger(api, tokens_, ledgers):
    body = {"kind": "stored_value_entries", "filters": {"customer_id": ledgers}, "language": "en"}
    _, rows, _ = export(api, tokens_["hq"], body)
    head = rows[0]
    assert head[2:5] == ["Principal (CNY)", "Bonus (CNY)", "Amount (CNY)"]
    assert [(r[1], r[3], r[4], r[5]) for r in rows[1:]] == [
        ("adjust", "-2.50", "-2.50", "补偿2"),
        ("adjust", "10.00", "10.00", "补偿1"),
    ]


def test_a_ledger_of_many_entries_is_read_in_pages(api, tokens_, ledgers, monkeypatch):
    monkeypatch.setattr(sources, "ITEMS_PER_PAGE", 1)
    job, rows, _ = export(
        api, tokens_["hq"], {"kind": "points_entries", "filters": {"customer_id": ledgers}}
    )
    assert len(rows) == 3 and job["rows_done"] == job["rows_estimated"] == 2


M = {"kind": "members"}
P = {"kind": "points_entries", "filters": {"customer_id": "MEMBER"}}
S = {"kind": "stored_value_entries", "filters": {"customer_id": "MEMBER"}}


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        # the member list: head office and store managers, as GET /admin/members
        ("customer", M, 403, "role_not_allowed"),
        ("relay_a", M, 403, "role_not_allowed"),
        ("staff_a", M, 403, "role_not_allowed"),
        ("staff_a", {**M, "filters": {"store_id": "sh-a"}}, 403, "role_not_allowed"),
        ("manager_a", {**M, "filters": {"store_id": "sh-b"}}, 403, "other_store"),
        ("manager_a", M, 202, None),
        ("manager_a", {**M, "filters": {"store_id": "sh-a"}}, 202, None),
        ("hq", M, 202, None),
        ("hq", {**M, "filters": {"store_id": "sh-b"}}, 202, None),
        ("hq", {**M, "filters": {"store_id": "sh-zz"}}, 404, "store_not_found"),
        # the list's window, checked as the list checks it
        ("hq", {**M, "filters": {"registered_from": "2020-01-01"}}, 422, "validation_failed"),
        ("hq", {**M, "filters": {"phone": "123"}}, 422, "validation_failed"),
        ("hq", {**M, "filters": {"customer_id": "MEMBER"}}, 422, "validation_failed"),
        ("hq", {**M, "filters": {"status": "paid"}}, 422, "validation_failed"),
        # a member's ledgers: head office only, one member that exists
        *[
            row
            for ledger in (P, S)
            for row in (
                ("customer", ledger, 403, "role_not_allowed"),
                ("relay_a", ledger, 403, "role_not_allowed"),
                ("staff_a", ledger, 403, "role_not_allowed"),
                ("manager_a", ledger, 403, "role_not_allowed"),
                ("manager_b", ledger, 403, "role_not_allowed"),
                ("hq", ledger, 202, None),
                ("hq", {"kind": ledger["kind"]}, 422, "validation_failed"),
                ("hq", {**ledger, "filters": {"customer_id": "c-nobody"}}, 404, "member_not_found"),
                (
                    "hq",
                    {**ledger, "filters": {"customer_id": "MEMBER", "store_id": "sh-a"}},
                    422,
                    "validation_failed",
                ),
                (
                    "hq",
                    {**ledger, "filters": {"customer_id": "MEMBER", "source_kind": "shelf"}},
                    422,
                    "validation_failed",
                ),
            )
        ],
    ],
)
def test_who_may_export_members_and_ledgers(api, tokens_, many, who, body, status, code):  # noqa: F811
    body = json_replace(body, "MEMBER", many[0])
    got, answer = start(api, tokens_[who], body)
    assert got == status, answer
    if code:
        assert answer["error"]["code"] == code
        assert ExportJobModel.count() == 0 and run_worker() == 0
        return
    assert run_worker() == 1
    got, job = api.call("GET", f"/admin/exports/{answer['export_id']}", token=tokens_[who])
    assert got == 200 and job["status"] == "succeeded", job
    if body["kind"] == "members":
        expected = "sh-a" if who == "manager_a" else body.get("filters", {}).get("store_id")
        assert job["filters"].get("store_id") == expected


def json_replace(body, old, new):
    import json

    return json.loads(json.dumps(body).replace(old, new))
