"""The campaign editor (issue 16 item 6), in a real browser at tablet portrait width
(768x1024): head office starts a campaign from a calendar node it added, picks a
promotion, saves, edits it, runs the checklist and sees the conflict with another
scheduled campaign on the same store and fruit, then launches it; the list shows it scheduled."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login
from tests.publishing import publish_http

PORTRAIT = {"width": 768, "height": 1024}
SHANGHAI = ZoneInfo("Asia/Shanghai")
STORE = "sh-xuhui"  # open 24 h: the checklist's test order is quoted at the start


def tiered(api: str, token: str, name: str, off_fen: int, starts: str, ends: str) -> str:
    status, p, _ = call(
        "POST",
        api + "/admin/promotions",
        {
            "kind": "tiered",
            "name": name,
            "stores": [STORE],
            "starts_at": starts,
            "ends_at": ends,
            "tiers": [{"threshold_fen": 9900, "off_fen": off_fen}],
            "scope": {"categories": ["水果"], "skus": []},
        },
        token=token,
    )
    assert status == 201, p
    p = publish_http(call, api, f"/admin/promotions/{p['promotion_id']}", p)
    return p["promotion_id"]


def test_head_office_plans_checks_and_launches_a_campaign(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    tag = secrets.token_hex(2)
    first = (datetime.now(SHANGHAI) + timedelta(days=2)).date()
    last = first + timedelta(days=4)
    starts = f"{first.isoformat()}T00:00:00+08:00"
    ends = f"{last.isoformat()}T23:59:00+08:00"
    # Another campaign, scheduled, with 满99减50 on fruit at the same store (more than the
    # demo's chain-wide tiered discount: the test order must get the campaign's own)
    theirs = tiered(api, token, f"满99减50 {tag}", 5000, starts, ends)
    other = {
        "name": f"水果节 {tag}",
        "grade": "B",
        "starts_at": starts,
        "ends_at": ends,
        "stores_mode": "list",
        "stores": [STORE],
        "goal": {"orders": 100},
        "budget": {"hq_fen": 100000},
        "promotion_ids": [theirs],
    }
    status, made, _ = call("POST", api + "/admin/campaigns", other, token=token)
    assert status == 201, made
    status, launched, _ = call(
        "POST", api + f"/admin/campaigns/{made['campaign_id']}/launch", token=token
    )
    assert status == 200 and launched["state"] == "scheduled", json.dumps(
        launched, ensure_ascii=False, indent=1
    )
    mine = tiered(api, token, f"满99减60 {tag}", 6000, starts, ends)

    # the calendar node the campaign is created from: an added (ad hoc) node
    status, node, _ = call(
        "POST",
        api + f"/admin/calendar/{first.year}/nodes",
        {
            "grade": "A",
            "name_zh": f"店庆 {tag}",
            "starts_on": first.isoformat(),
            "ends_on": last.isoformat(),
        },
        token=token,
    )
    assert status == 201, node
    node_path = quote(node["node_id"], safe="")
    site.sign_in("hq-admin")
    site.go(f"/campaigns/new?node={node_path}")
    expect(page.get_by_label("活动名称", exact=True)).to_have_value(f"店庆 {tag}")
    expect(page.get_by_label("等级", exact=True)).to_have_value("A")
    expect(page.get_by_label("开始时间", exact=True)).to_have_value(f"{first.isoformat()}T00:00")
    expect(page.get_by_label("结束时间", exact=True)).to_have_value(f"{last.isoformat()}T23:59")
    expect(page.get_by_label("参与门店", exact=True)).to_have_value("all")  # a chain-wide node
    page.get_by_label("参与门店", exact=True).select_option("list")
    page.get_by_label("门店列表", exact=True).fill(STORE)
    page.get_by_label("目标订单数", exact=True).fill("500")
    page.get_by_label("总部出资（元）", exact=True).fill("2000")
    page.get_by_label("促销", exact=True).select_option([mine])
    site.shot("new-from-node")
    page.get_by_role("button", name="创建活动").click()

    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“店庆 {tag}”")
    expect(page.get_by_role("heading", level=1)).to_contain_text("草稿")
    campaign_id = page.url.rsplit("/", 1)[1]
    for label, path in (("实时看板", "dashboard"), ("复盘报告", "review")):
        link = page.get_by_role("link", name=label)
        expect(link).to_have_attribute("href", f"#/campaigns/{campaign_id}/{path}")
    status, saved, _ = call("GET", api + f"/admin/campaigns/{campaign_id}", token=token)
    assert saved["node_id"] == node["node_id"] and saved["promotion_ids"] == [mine]
    assert saved["budget_fen"] == 200000 and saved["stores"] == [STORE]

    # edit: the name and the budget
    page.get_by_label("活动名称", exact=True).fill(f"店庆加码 {tag}")
    page.get_by_label("门店出资（元）", exact=True).fill("500")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"已保存活动“店庆加码 {tag}”")
    expect(page.get_by_text("剩余 ¥2,500.00")).to_be_visible()

    # the checklist: the other campaign's overlap is a warning, nothing blocks
    page.get_by_role("button", name="运行检查").click()
    conflict = page.get_by_test_id("check-conflicts")
    expect(conflict).to_have_attribute("data-ok", "false")
    expect(conflict).to_contain_text("提醒")
    conflict.get_by_text("详情").click()
    expect(conflict).to_contain_text(f"水果节 {tag}")
    expect(page.get_by_test_id("check-test_order")).to_have_attribute("data-ok", "true")
    expect(page.get_by_test_id("checklist-result")).to_contain_text("检查通过")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("checklist")

    page.get_by_role("button", name="上线", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("已上线排期")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已排期")
    expect(page.get_by_label("开始时间", exact=True)).to_be_disabled()

    site.go(f"/campaigns?year={first.year}")
    row = page.locator("main tbody tr", has_text=f"店庆加码 {tag}")
    expect(row).to_contain_text("已排期")
    expect(row).to_contain_text("A 级")
    expect(row).to_contain_text("0%")
    site.shot("listed")
