"""Promotion limits in a real browser at a 768x1024 tablet (issue 18 item 3): head office
creates a tiered promotion with the "限制" fieldset (per customer per day, per store per
day, new customers only, one per device), sees its limits in the list, and opens the
suspected-abuse report from the marketing group."""

from __future__ import annotations

import re
import secrets

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_recall_page import PORTRAIT, fits


def test_head_office_sets_limits_on_a_promotion_and_opens_the_abuse_report(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2)
    site.sign_in("hq-admin")
    site.go("/promotions")
    expect(page.locator("main h1")).to_have_text("促销活动")
    limits = page.get_by_test_id("promotion-limits")
    expect(limits).to_be_visible()  # the form opens on a tiered promotion
    expect(page.get_by_test_id("limit-per_order_units")).to_be_hidden()  # half price only

    page.get_by_label("名称", exact=True).first.fill(f"新人满减 {tag}")
    page.get_by_test_id("limit-per_customer_per_day").fill("1")
    page.get_by_test_id("limit-per_store_per_day").fill("200")
    page.get_by_test_id("limit-new_customers_only").fill("30")
    page.get_by_test_id("limit-one_per").select_option("device")
    page.get_by_role("button", name="新建活动").click()
    row = page.locator("tr", has_text=f"新人满减 {tag}")
    expect(row).to_contain_text("每人每天 1 次")
    expect(row).to_contain_text("每店每天 200 单")
    expect(row).to_contain_text("新客（30 天内）")
    expect(row).to_contain_text("同一设备算一人")
    fits(site)
    site.shot("limits")

    page.locator('#nav .nav-group[data-group="marketing"]').click()
    link = page.locator("#nav a", has_text=re.compile("^新人优惠风控$"))
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("main h1")).to_have_text("新人优惠疑似薅羊毛")
    expect(page.get_by_test_id("abuse-report")).to_contain_text("没有多个账号共用的设备或地址")
    fits(site)
    site.shot("abuse")
