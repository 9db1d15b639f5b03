"""The points mall page (积分商城) in a real browser, at desktop width and at 768 px: head
office sees the demo rewards with their units and redemptions, creates a product reward
for points + cash, adds units to it and edits its points."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_staff_screens import layout_problems

WIDTHS = [1440, 768]


@pytest.mark.parametrize("width", WIDTHS)
def test_create_a_reward_add_units_and_edit_it(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/mall")
    rewards = page.get_by_test_id("mall-rewards")
    expect(rewards).to_contain_text("满30减5券")  # the demo mall
    expect(rewards).to_contain_text("800 积分 + ¥9.90")
    assert layout_problems(site) == []

    name = f"浏览器测试 大米 {width}"
    page.get_by_role("button", name="新建奖品").click()
    editor = page.get_by_test_id("mall-editor")
    editor.get_by_label("类型").select_option("product")
    editor.get_by_label("名称").fill(name)
    editor.get_by_label("商品编码").fill("600002")
    editor.get_by_label("积分").fill("600")
    editor.get_by_label("现金（元）").fill("5.5")
    editor.get_by_label("剩余数量").fill("20")
    editor.get_by_label("每人限兑").fill("2")
    site.shot(f"mall-new-{width}")
    editor.get_by_role("button", name="创建").click()
    expect(page.get_by_test_id("mall-messages")).to_contain_text("奖品已创建")
    row = page.get_by_test_id("mall-rewards").locator("tr", has_text=name)
    expect(row).to_contain_text("600 积分 + ¥5.50")
    expect(row.locator("td").nth(3)).to_have_text("20")

    row.get_by_label(re.compile("追加或撤回的数量")).fill("5")
    row.get_by_role("button", name="确定").click()
    expect(page.get_by_test_id("mall-messages")).to_contain_text("数量已更新")
    row = page.get_by_test_id("mall-rewards").locator("tr", has_text=name)
    expect(row.locator("td").nth(3)).to_have_text("25")

    row.get_by_role("button", name="编辑").click()
    editor = page.get_by_test_id("mall-editor")
    editor.get_by_label("积分").fill("550")
    editor.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("mall-messages")).to_contain_text("奖品已保存")
    row = page.get_by_test_id("mall-rewards").locator("tr", has_text=name)
    expect(row).to_contain_text("550 积分 + ¥5.50")
    page.evaluate("window.scrollTo(0, 0)")
    assert layout_problems(site) == []
    site.shot(f"mall-{width}")

    page.get_by_role("button", name="English").click()
    expect(page.locator("main h1")).to_have_text("Points mall")
    expect(page.get_by_test_id("mall-rewards")).to_contain_text("550 points + ¥5.50")
    page.get_by_role("button", name="中文").click()
    assert site.errors == []
