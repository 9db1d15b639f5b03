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


def test_head_office_sets_redemption_limits_on_a_coupon_template(site: Site):
    """The coupon form's "用券限制" fieldset (per customer per day / week, per store per
    day): sent with the template, shown in the list, and editable while none is issued."""
    page = site.page
    page.set_viewport_size(PORTRAIT)
    name = f"满30减5 限用 {secrets.token_hex(2)}"
    site.sign_in("hq-admin")
    site.go("/coupons")
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    limits = form.get_by_test_id("template-limits")
    expect(limits).to_be_visible()
    expect(limits.locator("legend")).to_have_text("用券限制")
    form.get_by_label("名称", exact=True).fill(name)
    form.get_by_label("使用门槛").fill("30")
    form.get_by_label("减免金额").fill("5")
    limits.get_by_label("每人每天").fill("1")
    limits.get_by_label("每店每天").fill("200")
    fits(site)
    form.get_by_role("button", name="新建优惠券").click()
    row = page.get_by_test_id("coupon-templates").locator("tr", has_text=name)
    expect(row).to_contain_text("每人每天 1 次")
    expect(row).to_contain_text("每店每天 200 单")
    site.shot("template-limits")

    # published, nothing issued yet: the edit form offers the limits, with what is set
    site.publish(name, "/coupons")
    row.get_by_role("button", name=re.compile("^编辑")).click()
    edit = page.get_by_test_id("coupon-edit")
    expect(edit.get_by_test_id("template-limit-per_customer_per_day")).to_have_value("1")
    edit.get_by_test_id("template-limit-per_customer_per_week").fill("3")
    edit.get_by_role("button", name="保存").click()
    expect(row).to_contain_text("每人每周 3 次")
    fits(site)
