"""The member list's Export (issue 13 item 2 on issue 14's pages) in a real browser, at
desktop width and at 768 px: the list filtered by source is exported on the server and
the file opened: the BOM, the header, the rows the list shows (head office full phones,
a store manager their store's members with phones masked as the list masks them)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_list_exports import opened, yuan
from tests.browser.test_members import fits
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

# demo members c-demo-26 and c-demo-27 registered through 静安寺店's staff QR code
STAFF_QR = {"c-demo-26": "13900000026", "c-demo-27": "13900000027"}


@pytest.mark.parametrize(("width", "username"), [(1440, "hq-admin"), (768, "sh-jingan-manager")])
def test_the_member_list_filtered_by_source_is_exported(site: Site, width: int, username: str):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in(username)
    site.go("/members?source_kind=staff")
    results = page.get_by_test_id("members")
    expect(results.locator("tbody tr").first).to_contain_text(re.compile("员工码|Staff QR"))
    shown = [
        cells[0].strip()
        for cells in results.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
    ]
    control = page.get_by_test_id("export-members")
    control.get_by_role("button", name="导出").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    fits(site)
    site.shot(f"members-export-{username}-{width}")
    with page.expect_download() as downloaded:
        link.click()
    assert downloaded.value.suggested_filename.startswith(
        "members_all_" if username == "hq-admin" else "members_sh-jingan_"
    )
    _, rows = opened(downloaded.value)
    head = rows[0]
    assert head == [
        "会员编号", "手机号", "昵称", "归属门店", "来源", "营销授权", "注册时间（Asia/Shanghai）",
    ]  # fmt: skip
    members = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    # the rows the list shows, in its order, all through a staff QR code
    assert [m["手机号"] for m in members] == shown
    assert {m["来源"] for m in members} == {"staff"}
    by_id = {m["会员编号"]: m for m in members}
    assert set(STAFF_QR) <= set(by_id)
    member = by_id["c-demo-26"]
    assert (member["昵称"], member["归属门店"]) == ("韩先生", "sh-jingan")
    if username == "hq-admin":
        assert member["手机号"] == STAFF_QR["c-demo-26"]
    else:
        assert member["手机号"] == "139****0026"
        assert {m["归属门店"] for m in members} == {"sh-jingan"}
        assert all("****" in m["手机号"] for m in members)


def _download(page, button) -> list[list[str]]:
    expect(button).to_be_visible()
    with page.expect_download() as downloaded:
        button.click()
    return opened(downloaded.value)[1]


def test_head_office_exports_the_programme_plans_liability_and_a_members_ledgers(site: Site):
    """The small lists are written in the page, from what it loaded; a member's points
    and stored-value ledgers go through the server kinds."""
    page = site.page
    page.set_viewport_size({"width": 1440, "height": 900})
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    site.sign_in("hq-admin")

    site.go("/programme")
    _, levels, _ = call("GET", f"{api}/admin/loyalty/levels", token=token)
    rows = _download(page, page.locator('[data-table-export="levels"]'))
    assert rows[0][:3] == ["等级", "名称", "门槛（成长值）"]
    assert [r[:3] for r in rows[1:]] == [
        [lv["code"], lv["name"], str(lv["threshold"])] for lv in levels["levels"]
    ]
    _, tasks, _ = call("GET", f"{api}/admin/loyalty/tasks", token=token)
    rows = _download(page, page.locator('[data-table-export="tasks"]'))
    assert [r[0] for r in rows[1:]] == [x["task_id"] for x in tasks["tasks"]]
    _, checkin, _ = call("GET", f"{api}/admin/loyalty/checkin-settings", token=token)
    rows = _download(page, page.locator('[data-table-export="checkin"]'))
    assert rows[0] == ["奖励", "天数", "积分"]
    assert rows[1] == ["每日积分", "", str(checkin["daily_points"])]
    assert len(rows) == 2 + len(checkin["streak_rewards"]) + len(checkin["cumulative_rewards"])

    site.go("/paid-plans")
    _, plans, _ = call("GET", f"{api}/admin/loyalty/paid-plans", token=token)
    rows = _download(page, page.locator('[data-table-export="pc-plans"]'))
    assert sorted(r[0] for r in rows[1:]) == sorted(p["name"] for p in plans["items"])

    site.go("/stored-value")
    _, li, _ = call("GET", f"{api}/admin/stored-value/liability", token=token)
    rows = _download(page, page.locator('[data-table-export="sv-liability"]'))
    assert [r[3] for r in rows[1:]] == [yuan(s["total_fen"]) for s in li["stores"]]

    # a member's ledgers, whole, on the server
    member = "c-demo-26"
    for path, kind in (
        (f"/loyalty/members/{member}", "points_entries"),
        (f"/stored-value?phone={STAFF_QR[member]}", "stored_value_entries"),
    ):
        site.go(path)
        control = page.get_by_test_id(f"export-{kind}")
        control.get_by_role("button", name="导出").click()
        link = control.get_by_test_id("export-download")
        expect(link).to_be_visible(timeout=30_000)
        with page.expect_download() as downloaded:
            link.click()
        assert downloaded.value.suggested_filename == f"{kind}_{member}.csv"
        rows = opened(downloaded.value)[1]
        assert rows[0][0] == "时间（Asia/Shanghai）" and rows[0][-1] == "记录编号"
