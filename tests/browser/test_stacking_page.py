"""The stacking policy (叠加规则, issue 18 item 1) on the promotion and coupon template
forms, in a real browser at a 768x1024 tablet: head office creates an exclusive 满减 with
a priority that excludes thin-margin SKUs and sees the policy in the list; the fieldset
hides for a flash sale (which takes no policy); a coupon template gets a stack group."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect


def test_head_office_sets_a_stacking_policy(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    tag = secrets.token_hex(2)
    site.sign_in("hq-admin")
    site.go("/promotions")
    box = page.get_by_test_id("stacking-fieldset")
    expect(box).to_be_visible()
    expect(box.locator("legend")).to_have_text("叠加规则")
    page.get_by_label("类型", exact=True).select_option("flash_sale")
    expect(box).to_be_hidden()
    page.get_by_label("类型", exact=True).select_option("tiered")
    expect(box).to_be_visible()

    name = f"满99减10 独享 {tag}"
    page.get_by_label("名称", exact=True).fill(name)
    later = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)
    page.get_by_label("结束时间").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_test_id("stacking-exclusive").check()
    page.get_by_test_id("stacking-priority").fill("3")
    page.get_by_test_id("stacking-margin").select_option("exclude")
    site.shot("stacking-form")
    page.get_by_role("button", name="新建活动").click()

    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{name}”")
    row = page.locator("main tbody tr", has_text=name)
    policy = row.get_by_test_id("stacking-text")
    expect(policy).to_contain_text("互斥")
    expect(policy).to_contain_text("优先级 3")
    expect(policy).to_contain_text("排除低毛利商品")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("stacking-listed")
    site.publish(name, "/promotions")  # a draft until approved (issue 18)
    row = page.locator("main tbody tr", has_text=name)
    row.get_by_role("button", name="结束活动").click()
    expect(row).to_contain_text("已结束")

    # a coupon template: the stack group, hidden for free delivery
    site.go("/coupons")
    box = page.get_by_test_id("stacking-fieldset")
    group = page.get_by_test_id("stacking-group")
    expect(group).to_be_visible()
    page.get_by_label("类型", exact=True).select_option("free_delivery")
    expect(group).to_be_hidden()
    page.get_by_label("类型", exact=True).select_option("amount_off")
    coupon = f"供应商券 {tag}"
    page.get_by_label("名称", exact=True).fill(coupon)
    group.fill("supplier")
    page.get_by_test_id("stacking-not-with-tiered").check()
    page.locator("form", has=box).locator("button[type=submit]").click()
    row = page.locator("main tbody tr", has_text=coupon)
    expect(row.get_by_test_id("stacking-text")).to_contain_text("分组 supplier")
    expect(row.get_by_test_id("stacking-text")).to_contain_text("不与满减同享")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("stacking-coupon")
