"""Targeting on the coupons and promotions pages (issue 18 item 4) in a real browser at a
768x1024 tablet: head office creates a coupon template with a shareable code usable on
Wednesday evenings for V3 members and up, and a tiered promotion on Wednesday evenings;
both lists show the targeting in one line; a code already taken is refused in Chinese."""

from __future__ import annotations

import secrets

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_recall_page import PORTRAIT
from tests.browser.test_staff_screens import layout_problems


def fits(site: Site) -> None:
    """No sideways scrolling and nothing off screen; each weekday box is touched through
    its label, which is touch-size (the site's checkboxes are 1.2rem, as elsewhere)."""
    site.page.evaluate("window.scrollTo(0, 0)")
    assert layout_problems(site) == []
    small = site.page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=targeting] label.inline")]
            .filter((el) => el.getBoundingClientRect().width > 0)
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => el.textContent)"""
    )
    assert small == []


def wednesday_evening(scope) -> None:
    scope.get_by_test_id("target-day-3").check()
    scope.get_by_test_id("target-start").fill("18:00")
    scope.get_by_test_id("target-end").fill("21:00")


def test_head_office_targets_a_coupon_code_and_a_wednesday_promotion(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2).upper()
    code = f"WED{tag}"
    name = f"周三晚券 {tag}"
    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    site.go("/coupons")
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    form.get_by_label("名称", exact=True).fill(name)
    form.get_by_label("使用门槛").fill("50")
    form.get_by_label("减免金额").fill("10")
    form.get_by_label("领取后有效天数").fill("7")
    targeting = form.get_by_test_id("targeting")
    expect(targeting.get_by_label("定向等级（及以上）")).to_be_hidden()
    targeting.get_by_label("通用码").fill(code.lower())
    wednesday_evening(targeting)
    targeting.get_by_label("定向人群", exact=True).select_option("level")
    targeting.get_by_label("定向等级（及以上）").fill("V3")
    fits(site)
    site.shot("coupon-targeting-form")
    form.get_by_role("button", name="新建优惠券").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建优惠券“{name}”")
    row = page.get_by_test_id("coupon-templates").locator("tr", has_text=name)
    expect(row).to_contain_text(f"{code} · 周三 18:00–21:00 · V3 及以上")
    fits(site)
    site.shot("coupon-targeting-listed")

    # the same code again (another case): refused, in Chinese
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    form.get_by_label("名称", exact=True).fill(f"{name} 副本")
    form.get_by_label("使用门槛").fill("50")
    form.get_by_label("减免金额").fill("10")
    form.get_by_label("领取后有效天数").fill("7")
    form.get_by_test_id("targeting").get_by_label("通用码").fill(code)
    form.get_by_role("button", name="新建优惠券").click()
    expect(page.get_by_role("alert").first).to_contain_text("另一个优惠券模板已使用此券码")

    # a window without its times is refused before sending
    site.go("/promotions")
    promo = f"周三晚满减 {tag}"
    page.get_by_label("名称", exact=True).fill(promo)
    targeting = page.get_by_test_id("targeting")
    expect(targeting.get_by_label("通用码")).to_have_count(0)  # codes are for coupons
    targeting.get_by_test_id("target-day-3").check()
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("alert").first).to_contain_text("重复时段需要选择星期、开始和结束时间")
    wednesday_evening(targeting)
    fits(site)
    site.shot("promotion-targeting-form")
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{promo}”")
    row = page.locator("main tbody tr", has_text=promo)
    expect(row).to_contain_text("周三 18:00–21:00")
    # a member day has its own recurrence and audience: the fieldset hides
    page.get_by_label("类型").select_option("member_day")
    expect(page.get_by_test_id("targeting")).to_be_hidden()
    fits(site)
    site.shot("promotion-targeting-listed")


def test_the_promotion_form_offers_saved_segments_as_its_audience(site: Site):
    """A promotion for a saved segment (priced from the members' nightly memberships):
    the audience control lists head office's saved segments by name, says when a
    segment's members count from, and refuses to send a segment audience without one."""
    from tests.e2e.test_local_stack import call
    from tests.e2e.test_print_e2e import _login

    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2).upper()
    api = site.stack.api_url
    hq = _login(api, "hq-admin")
    seg_name = f"浦东老客 {tag}"
    status, seg, _ = call(
        "POST",
        f"{api}/admin/segments",
        {"name": seg_name, "filter": {"stores": ["sh-lujiazui"], "orders_min": 2}},
        token=hq,
    )
    assert status == 201, seg
    site.sign_in("hq-admin")
    site.go("/promotions")
    promo = f"老客满减 {tag}"
    page.get_by_label("名称", exact=True).fill(promo)
    page.get_by_label("满减档位").fill("10-3")
    targeting = page.get_by_test_id("targeting")
    expect(targeting.get_by_label("定向人群", exact=True)).to_be_visible()
    targeting.get_by_test_id("target-audience").select_option("segment")
    picker = targeting.get_by_test_id("target-segment")
    expect(picker.locator("option", has_text=seg_name)).to_have_count(1)
    expect(targeting).to_contain_text("按最近一次夜间快照的成员计价")
    # nothing chosen: refused before sending
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("alert").first).to_contain_text("请选择定向人群")
    picker.select_option(label=seg_name)
    fits(site)
    assert picker.bounding_box()["height"] >= 44
    site.shot("promotion-segment-audience")
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{promo}”")
    row = page.locator("main tbody tr", has_text=promo)
    expect(row).to_contain_text(f"人群 {seg['segment_id']}")
    status, listed, _ = call("GET", f"{api}/admin/promotions", token=hq)
    made = next(p for p in listed["items"] if p["name"] == promo)
    assert made["audience"] == {"min_level": None, "segment_id": seg["segment_id"]}
    fits(site)
    site.shot("promotion-segment-listed")


def test_a_drafts_targeting_is_edited_and_fixed_once_approved(site: Site):
    """A draft promotion's window and audience, and a draft template's code, change in
    the edit form (filled with what is set); once approved the form says why not."""
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2).upper()
    promo = f"草稿定向 {tag}"
    site.sign_in("hq-admin")
    site.go("/promotions")
    page.get_by_label("名称", exact=True).fill(promo)
    wednesday_evening(page.get_by_test_id("targeting"))
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{promo}”")

    page.get_by_role("button", name=f"编辑 {promo}").click()
    form = page.get_by_test_id("promotion-edit")
    targeting = form.get_by_test_id("targeting")
    expect(targeting.get_by_test_id("target-day-3")).to_be_checked()
    expect(targeting.get_by_test_id("target-start")).to_have_value("18:00")
    targeting.get_by_test_id("target-day-3").uncheck()
    targeting.get_by_test_id("target-day-5").check()
    targeting.get_by_label("定向人群", exact=True).select_option("level")
    targeting.get_by_label("定向等级（及以上）").fill("V2")
    fits(site)
    site.shot("draft-targeting-edit")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已保存活动：{promo}")
    row = page.locator("main tbody tr", has_text=promo)
    expect(row).to_contain_text("周五 18:00–21:00 · V2 及以上")

    site.publish(promo, "/promotions")
    page.get_by_role("button", name=f"编辑 {promo}").click()
    form = page.get_by_test_id("promotion-edit")
    expect(form.get_by_test_id("targeting")).to_have_count(0)
    expect(form.get_by_test_id("targeting-fixed")).to_contain_text("已随审批发布，不可修改")
    fits(site)
    site.shot("published-targeting-fixed")

    # a draft template without targeting: its 定向 cell says "—"; a code added in the
    # edit form is stored in upper case
    site.go("/coupons")
    name = f"草稿券 {tag}"
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    form.get_by_label("名称", exact=True).fill(name)
    form.get_by_label("使用门槛").fill("50")
    form.get_by_label("减免金额").fill("10")
    form.get_by_label("领取后有效天数").fill("7")
    form.get_by_role("button", name="新建优惠券").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建优惠券“{name}”")
    templates = page.get_by_test_id("coupon-templates")
    expect(targeting_cell(templates, name)).to_have_text("—")
    page.get_by_role("button", name=f"编辑 {name}").click()
    form = page.get_by_test_id("coupon-edit")
    code = form.get_by_test_id("targeting").get_by_label("通用码")
    expect(code).to_have_value("")
    code.fill(f"new{tag.lower()}")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("coupon-editor")).to_contain_text(f"已保存优惠券：{name}")
    expect(targeting_cell(templates, name)).to_have_text(f"NEW{tag}")


def targeting_cell(table, row_text: str):
    """The 定向 cell of the row with ``row_text`` (found by the column's header)."""
    headers = table.locator("thead th").all_inner_texts()
    column = [h.strip() for h in headers].index("定向")
    return table.locator("tbody tr", has_text=row_text).first.locator("td").nth(column)


def test_rows_without_targeting_say_so_with_a_dash(site: Site):
    """The 定向 column of the promotions list: "—" for a promotion without targeting
    (not an empty cell), the window for one with it."""
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2).upper()
    site.sign_in("hq-admin")
    site.go("/promotions")
    for name, window in ((f"不定向 {tag}", False), (f"定时段 {tag}", True)):
        page.get_by_label("名称", exact=True).fill(name)
        if window:
            wednesday_evening(page.get_by_test_id("targeting"))
        page.get_by_role("button", name="新建活动").click()
        expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{name}”")
    listing = page.locator("main table", has=page.locator("th", has_text="定向"))
    expect(targeting_cell(listing, f"不定向 {tag}")).to_have_text("—")
    expect(targeting_cell(listing, f"定时段 {tag}")).to_have_text("周三 18:00–21:00")
