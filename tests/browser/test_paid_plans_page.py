"""Head office's paid membership page (付费会员卡, issue 14 item 6) in a real browser, at
desktop width and at 768 px: the demo plans with the members holding a card, a new plan
added, a member looked up by phone and given the free trial with a required reason
(once: afterwards the page says it was used)."""

from __future__ import annotations

import re

import pytest

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_loyalty_points import fits

WIDTHS = [1440, 768]
MEMBER_OF_WIDTH = {1440: 6, 768: 7}  # a member without a card, different per width


@pytest.mark.parametrize("width", WIDTHS)
def test_plans_a_new_plan_and_a_members_trial(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/paid-plans")
    plans = page.get_by_test_id("pc-plans")
    for name in ("月卡", "季卡", "年卡"):
        expect(plans).to_contain_text(name)
    expect(plans).to_contain_text("免配送费")
    fits(site)

    # A new plan: name, period, price; it shows in the list with no members yet.
    new = page.get_by_test_id("pc-new")
    new.get_by_test_id("pc-name").fill(f"周末卡{width}")
    new.get_by_test_id("pc-period").select_option("quarter")
    new.get_by_test_id("pc-price").fill("29.90")
    new.get_by_role("button", name="添加方案").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    row = page.get_by_test_id("pc-plans").locator("tr", has_text=f"周末卡{width}")
    expect(row).to_contain_text("¥29.90")
    expect(row).to_contain_text("季卡")

    # A member by phone; the trial needs a reason, then it is granted once.
    member = demo_data.members()[MEMBER_OF_WIDTH[width]]
    page.get_by_label("会员手机号").fill(member["phone"])
    page.get_by_role("button", name="查询").click()
    card = page.get_by_test_id("pc-card")
    expect(card).to_contain_text("没有有效的会员卡")
    page.get_by_role("button", name="赠送试用").click()
    assert page.get_by_test_id("pc-trial-reason").evaluate("el => el.validity.valueMissing")
    page.get_by_test_id("pc-trial-reason").fill(f"浏览器测试 {width}")
    page.get_by_role("button", name="赠送试用").click()
    expect(page.locator("main")).to_contain_text("已赠送免费试用")
    expect(card).to_contain_text("免费试用")
    expect(page.get_by_test_id("pc-member")).to_contain_text(f"浏览器测试 {width}")
    expect(page.get_by_test_id("pc-member")).to_contain_text("该会员已用过免费试用")
    fits(site)
    site.shot(f"paid-plans-{width}")
    page.get_by_role("button", name="English").click()
    expect(page.locator("main h1")).to_contain_text(re.compile("Paid membership"))
    page.get_by_role("button", name="中文").click()
