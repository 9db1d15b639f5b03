"""The member day setup on the promotions page (issue 15 item 6), in a real browser at
tablet portrait width (768x1024): head office creates a member day on the 18th with 2x
points and 5 % off fresh (生鲜: the demo's fruit category), and sees it listed with its
next date."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect


def next_18th(today):
    d = today
    while d.day != 18:
        d += timedelta(days=1)
    return d


def test_head_office_sets_up_a_member_day_on_the_18th(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    name = f"会员日 {secrets.token_hex(2)}"
    site.sign_in("hq-admin")
    site.go("/promotions")
    page.get_by_label("类型").select_option("member_day")
    expect(page.get_by_label("秒杀商品编码")).to_be_hidden()
    page.get_by_label("名称", exact=True).fill(name)
    later = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=400)
    page.get_by_label("结束时间").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_test_id("md-days").fill("18")
    page.get_by_test_id("md-percent").fill("5")
    page.get_by_test_id("md-multiplier").fill("2")
    page.get_by_label("适用品类").fill("水果")
    expect(page.get_by_label("最低等级")).to_be_hidden()
    site.shot("new-member-day")
    page.get_by_role("button", name="新建活动").click()

    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{name}”")
    row = page.locator("main tbody tr", has_text=name)
    expect(row).to_contain_text("会员日")
    rule = row.get_by_test_id("member-day-rule")
    expect(rule).to_contain_text("每月 18 日")
    expect(rule).to_contain_text("2 倍积分")
    expect(rule).to_contain_text("会员价 5% off")
    site.publish(name, "/promotions")  # a draft until approved (issue 18)
    row = page.locator("main tbody tr", has_text=name)
    rule = row.get_by_test_id("member-day-rule")
    first = next_18th(datetime.now(ZoneInfo("Asia/Shanghai")).date())
    expect(rule).to_contain_text(f"下次：{first.isoformat()}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("member-day-listed")
    row.get_by_role("button", name="结束活动").click()
    expect(row).to_contain_text("已结束")
