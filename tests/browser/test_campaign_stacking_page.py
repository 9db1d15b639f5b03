"""A campaign's default stacking policy (issue 18 item 1) on the campaign page, in a real
browser at tablet portrait width (768x1024): head office sets the default with the same
switches as the promotion form, saves it, applies it to the campaign's draft that follows
it; the promotion list says "跟随活动"; the promotion form shows "跟随活动" once a
campaign is chosen, until a switch is touched."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

PORTRAIT = {"width": 768, "height": 1024}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_head_office_sets_and_applies_a_campaign_default(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    tag = secrets.token_hex(2)
    first = datetime.now(SHANGHAI) + timedelta(days=2)
    starts, ends = first.isoformat(), (first + timedelta(days=4)).isoformat()
    campaign = {"name": f"会员周 {tag}", "grade": "B", "starts_at": starts, "ends_at": ends}
    status, c, _ = call("POST", api + "/admin/campaigns", campaign, token=token)
    assert status == 201, c
    cid = c["campaign_id"]
    promo = {
        "kind": "tiered",
        "name": f"满99减10 {tag}",
        "starts_at": starts,
        "ends_at": ends,
        "tiers": [{"threshold_fen": 9900, "off_fen": 1000}],
        "campaign_id": cid,
    }
    status, p, _ = call("POST", api + "/admin/promotions", promo, token=token)
    assert status == 201 and p["stacking_source"] == "campaign", p

    site.sign_in("hq-admin")
    site.go(f"/campaigns/{cid}")
    box = page.get_by_test_id("campaign-stacking")
    expect(box).to_be_visible()
    expect(box.locator("legend")).to_have_text("活动默认叠加规则")
    box.get_by_test_id("stacking-exclusive").check()
    box.get_by_test_id("stacking-priority").fill("5")
    box.get_by_test_id("stacking-group").fill("store")
    # not saved yet: applying is refused with the reason
    box.get_by_test_id("apply-stacking").click()
    expect(page.get_by_role("alert").first).to_contain_text("请先保存活动")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"已保存活动“会员周 {tag}”")
    box = page.get_by_test_id("campaign-stacking")
    expect(box.get_by_test_id("stacking-exclusive")).to_be_checked()  # read back
    expect(box.get_by_test_id("stacking-priority")).to_have_value("5")
    status, saved, _ = call("GET", api + f"/admin/campaigns/{cid}", token=token)
    assert saved["default_stacking"]["exclusive"] is True
    assert saved["default_stacking"]["stack_group"] == "store"

    apply = box.get_by_test_id("apply-stacking")
    assert apply.bounding_box()["height"] >= 44  # a finger's touch target
    apply.click()
    result = box.get_by_test_id("apply-stacking-result")
    expect(result).to_contain_text("已更新 1 项，保留 0 项", timeout=15_000)  # a loaded machine
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("campaign-default-stacking")

    site.go("/promotions")
    row = page.locator("main tbody tr", has_text=promo["name"])
    expect(row.get_by_test_id("stacking-text")).to_have_text("跟随活动 · 互斥 · 优先级 5")

    # the create form: choosing the campaign says the new promotion follows it
    choice = page.get_by_test_id("campaign-choice")
    expect(choice.locator(f"option[value='{cid}']")).to_have_count(1)
    choice.select_option(cid)
    follows = page.get_by_test_id("stacking-follows")
    expect(follows).to_have_text("跟随活动：互斥 · 优先级 5")
    page.get_by_test_id("stacking-fieldset").get_by_test_id("stacking-not-with-tiered").check()
    expect(follows).to_be_hidden()  # its own policy now
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("promotion-follows-campaign")
