"""The campaign calendar API (issue 16 item 1): a year pre-filled with no write, head
office's changes stored as overrides (move, regrade, hide, add), version-checked,
audited, each node with the campaigns created from it; store managers read."""

from __future__ import annotations

import threading

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.campaigns import calendar
from chalicelib.campaigns import calendar_schemas as s
from chalicelib.campaigns.models import CalendarNodeModel


def year(api, tokens_, y=2026, who="hq"):
    status, body = api.call("GET", f"/admin/calendar/{y}", token=tokens_[who])
    assert status == 200, body
    return body


def node_of(body, node_id):
    return next(n for n in body["nodes"] if n["node_id"] == node_id)


def test_a_year_is_pre_filled_with_no_write(api, tokens_, stores):
    body = year(api, tokens_)
    assert body["year"] == 2026 and body["hidden"] == []
    mid = node_of(body, "2026:mid_autumn")
    assert (mid["grade"], mid["ends_on"], mid["version"], mid["kind"]) == (
        "A",
        "2026-09-25",
        0,
        "seed",
    )
    starts = [n["starts_on"] for n in body["nodes"]]
    assert starts == sorted(starts)
    assert list(CalendarNodeModel.scan()) == []
    # Another year, the same rules: 2025's 年货节 ends on its 除夕.
    assert node_of(year(api, tokens_, 2025), "2025:new_year_goods")["ends_on"] == "2025-01-28"


def test_store_managers_read_and_only_head_office_writes(api, tokens_, stores):
    assert year(api, tokens_, who="manager_a")["nodes"]
    status, body = api.call(
        "PUT", "/admin/calendar/2026/nodes/2026:618", {"version": 0}, tokens_["manager_a"]
    )
    assert status == 403 and body["error"]["code"] == "role_not_allowed"


@pytest.mark.parametrize("bad", ["1999", "2100", "20x6", "nodes"])
def test_years_outside_the_calendar_are_400(api, tokens_, stores, bad):
    status, body = api.call("GET", f"/admin/calendar/{bad}", token=tokens_["hq"])
    assert status == 400 and body["error"]["code"] == "calendar_year_invalid"


def test_anniversaries_come_from_the_stores_opening_date(api, tokens_, stores):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"opened_on": "2019-09-28"}, tokens_["hq"]
    )
    assert status == 200 and body["opened_on"] == "2019-09-28"
    node = node_of(year(api, tokens_), "2026:anniversary:sh-a")
    assert (node["grade"], node["starts_on"], node["store_id"]) == ("A", "2026-09-28", "sh-a")
    assert not [n for n in year(api, tokens_)["nodes"] if n["node_id"].endswith(":sh-b")]
    # A store manager cannot move their store's opening day; a bad day is 422.
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"opened_on": "2020-01-01"}, tokens_["manager_a"]
    )
    assert status == 403 and body["error"]["code"] == "field_not_allowed"
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"opened_on": "2019-02-30"}, tokens_["hq"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "opened_on"
    # The anniversary is moved and hidden like any seed.
    status, got = api.call(
        "GET", "/admin/calendar/nodes/2026%3Aanniversary%3Ash-a", token=tokens_["hq"]
    )
    assert status == 200 and got["kind"] == "anniversary"
    status, _ = api.call(
        "DELETE", "/admin/calendar/2026/nodes/2026:anniversary:sh-a", token=tokens_["hq"]
    )
    assert status == 204
    assert [n["node_id"] for n in year(api, tokens_)["hidden"]] == ["2026:anniversary:sh-a"]


def test_move_regrade_and_bring_back_a_seed(api, tokens_, stores):
    path = "/admin/calendar/2026/nodes/2026:618"
    status, body = api.call(
        "PUT", path, {"version": 0, "starts_on": "2026-05-25", "grade": "A"}, tokens_["hq"]
    )
    assert status == 200, body
    assert (body["starts_on"], body["ends_on"], body["grade"]) == ("2026-05-25", "2026-06-18", "A")
    assert (body["version"], body["moved"]) == (1, True)
    assert node_of(year(api, tokens_), "2026:618")["starts_on"] == "2026-05-25"
    # The same version again is a stale edit.
    status, body = api.call("PUT", path, {"version": 0, "grade": "S"}, tokens_["hq"])
    assert status == 409 and body["error"]["code"] == "edit_conflict"
    # Hide, then bring back with the version read.
    assert api.call("DELETE", path, token=tokens_["hq"])[0] == 204
    assert api.call("DELETE", path, token=tokens_["hq"])[0] == 204  # again: nothing to do
    cal = year(api, tokens_)
    assert "2026:618" not in [n["node_id"] for n in cal["nodes"]]
    hidden = cal["hidden"][0]
    assert (hidden["node_id"], hidden["hidden"], hidden["version"]) == ("2026:618", True, 2)
    status, body = api.call("PUT", path, {"version": 2, "hidden": False}, tokens_["hq"])
    assert status == 200 and body["starts_on"] == "2026-05-25"
    assert node_of(year(api, tokens_), "2026:618")["version"] == 3
    actions = sorted(e.action for e in AuditEntryModel.scan() if e.target_id == "2026:618")
    assert actions == ["calendar_node.hide", "calendar_node.update", "calendar_node.update"]


def test_add_and_delete_an_ad_hoc_node(api, tokens_, stores):
    new = {
        "key": "new_product",
        "name_zh": "新品尝鲜周",
        "starts_on": "2026-04-13",
        "ends_on": "2026-04-19",
    }
    status, body = api.call("POST", "/admin/calendar/2026/nodes", new, tokens_["hq"])
    assert status == 201, body
    node_id = body["node_id"]
    assert node_id.startswith("2026:adhoc:")
    assert (body["grade"], body["kind"], body["name_en"], body["version"]) == (
        "C", "adhoc", "新品尝鲜周", 1,
    )  # fmt: skip
    assert node_of(year(api, tokens_), node_id)["key"] == "new_product"
    status, got = api.call("GET", f"/admin/calendar/nodes/{node_id}", token=tokens_["manager_a"])
    assert status == 200 and got["starts_on"] == "2026-04-13"
    status, _ = api.call("DELETE", f"/admin/calendar/2026/nodes/{node_id}", token=tokens_["hq"])
    assert status == 204
    assert node_id not in [
        n["node_id"] for n in year(api, tokens_)["nodes"] + year(api, tokens_)["hidden"]
    ]
    status, body = api.call("GET", f"/admin/calendar/nodes/{node_id}", token=tokens_["hq"])
    assert status == 404 and body["error"]["code"] == "calendar_node_not_found"
    status, _ = api.call("DELETE", f"/admin/calendar/2026/nodes/{node_id}", token=tokens_["hq"])
    assert status == 404
    actions = sorted(e.action for e in AuditEntryModel.scan() if e.target_id == node_id)
    assert actions == ["calendar_node.create", "calendar_node.delete"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_on": "2026-03-10", "ends_on": "2026-03-01"}, "ends_on"),
        ({"starts_on": "2026-02-30", "ends_on": "2026-03-01"}, "starts_on"),
        ({"starts_on": "2025-03-01", "ends_on": "2025-03-03"}, "starts_on"),
        ({"starts_on": "2026-01-01", "ends_on": "2026-12-31"}, "ends_on"),
    ],
)
def test_bad_windows_are_422_and_write_nothing(api, tokens_, stores, change, field):
    new = {"name_zh": "x", "starts_on": "2026-03-01", "ends_on": "2026-03-02"} | change
    status, body = api.call("POST", "/admin/calendar/2026/nodes", new, tokens_["hq"])
    assert status == 422 and body["error"]["details"][0]["field"] == field, body
    status, body = api.call(
        "PUT", "/admin/calendar/2026/nodes/2026:womens_day", {"version": 0} | change, tokens_["hq"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == field, body
    assert list(CalendarNodeModel.scan()) == []


def test_unknown_nodes_are_404(api, tokens_, stores):
    for node_id in ("2026:nope", "2027:618", "x", "2026:anniversary:sh-b"):
        status, body = api.call(
            "PUT", f"/admin/calendar/2026/nodes/{node_id}", {"version": 0}, tokens_["hq"]
        )
        assert status == 404 and body["error"]["code"] == "calendar_node_not_found", node_id
    status, _ = api.call("GET", "/admin/calendar/nodes/1999:618", token=tokens_["hq"])
    assert status == 404


def campaign(campaign_id, node_id, starts_at="2026-09-14T16:00:00Z"):
    CampaignModel(
        campaign_id,
        name=f"campaign {campaign_id}",
        grade="A",
        starts_at=starts_at,
        ends_at="2026-09-25T16:00:00Z",
        node_id=node_id,
        starts_key=starts_key(starts_at, campaign_id),
        created_by="hq-admin",
        created_at="2026-09-01T00:00:00Z",
        updated_at="2026-09-01T00:00:00Z",
    ).save()


def test_each_node_lists_its_campaigns_and_keeps_them(api, tokens_, stores):
    campaign("cmp-1", "2026:mid_autumn")
    campaign("cmp-2", "2026:mid_autumn", "2026-09-20T16:00:00Z")
    campaign("cmp-3", None)
    campaign("cmp-4", "2025:mid_autumn", "2025-09-30T16:00:00Z")
    cal = year(api, tokens_)
    assert [c["campaign_id"] for c in node_of(cal, "2026:mid_autumn")["campaigns"]] == [
        "cmp-1",
        "cmp-2",
    ]
    assert sum(len(n["campaigns"]) for n in cal["nodes"]) == 2
    status, got = api.call("GET", "/admin/calendar/nodes/2026:mid_autumn", token=tokens_["hq"])
    assert [c["campaign_id"] for c in got["campaigns"]] == ["cmp-1", "cmp-2"]
    status, body = api.call(
        "DELETE", "/admin/calendar/2026/nodes/2026:mid_autumn", token=tokens_["hq"]
    )
    assert status == 409 and body["error"]["code"] == "calendar_node_has_campaigns"


def test_two_edits_of_the_same_version_one_wins(aws, stores):
    """Two head office users move the same seed at once from version 0: one is saved,
    the other gets 409 (the condition on the stored version, not a read-then-write)."""
    hq = Principal("hq-admin", "hq_admin", None)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def move(day: str) -> None:
        body = s.CalendarNodeUpdate(version=0, starts_on=day)
        barrier.wait()
        try:
            calendar.update_node(hq, 2026, "2026:double_11", body)
            results.append("ok")
        except Exception as exc:
            results.append(getattr(exc, "code", repr(exc)))

    threads = [threading.Thread(target=move, args=(d,)) for d in ("2026-10-20", "2026-10-25")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["edit_conflict", "ok"]
    item = CalendarNodeModel.get(2026, "2026:double_11")
    assert item.version == 1
