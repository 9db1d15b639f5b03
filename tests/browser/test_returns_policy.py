"""The returns policy (退货规则, issue 18 item 2) on the promotion and coupon template
forms, in a real browser at a 768x1024 tablet: head office creates a 满减 and a coupon
template that re-evaluate on returns; the select shows only for kinds that take it."""

from __future__ import annotations

import secrets

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

PORTRAIT = {"width": 768, "height": 1024}


def test_head_office_sets_the_returns_policy_of_a_promotion_and_a_coupon(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2)
    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    site.go("/promotions")
    policy = page.get_by_label("退货规则", exact=True)
    page.get_by_label("类型", exact=True).select_option("flash_sale")
    expect(policy).to_be_hidden()  # a flash price has no threshold to re-evaluate
    page.get_by_label("类型", exact=True).select_option("tiered")
    expect(policy).to_be_visible()
    page.get_by_label("名称", exact=True).fill(f"满199减30 {tag}")
    page.get_by_label("满减档位").fill("199-30")
    policy.select_option("reevaluate")
    site.shot("promotion-form")
    with page.expect_response(
        lambda r: r.url.endswith("/admin/promotions") and r.request.method == "POST"
    ) as made:
        page.get_by_role("button", name="新建活动").click()
    assert made.value.request.post_data_json["returns_policy"] == "reevaluate"
    assert made.value.json()["returns_policy"] == "reevaluate"
    expect(page.get_by_role("status").first).to_contain_text(f"满199减30 {tag}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768

    site.go("/coupons")
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    form.get_by_label("名称", exact=True).fill(f"满100减20 {tag}")
    form.get_by_label("使用门槛").fill("100")
    form.get_by_label("减免金额").fill("20")
    form.get_by_label("领取后有效天数").fill("7")
    form.get_by_label("退货规则", exact=True).select_option("reevaluate")
    site.shot("coupon-form")
    with page.expect_response(
        lambda r: r.url.endswith("/admin/coupon-templates") and r.request.method == "POST"
    ) as made:
        form.get_by_role("button", name="新建优惠券").click()
    assert made.value.json()["returns_policy"] == "reevaluate"
    expect(page.get_by_role("status").first).to_contain_text(f"满100减20 {tag}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
