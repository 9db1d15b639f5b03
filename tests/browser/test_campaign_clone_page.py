"""Cloning an old campaign from its page (issue 18 item 5), in a real browser at tablet
portrait width (768x1024): head office copies a campaign with a new window; the copy
opens as a draft campaign holding a draft copy of the promotion, to approve again."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_campaigns_page import tiered
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

PORTRAIT = {"width": 768, "height": 1024}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_head_office_copies_a_campaign_with_a_new_window(site: Site):
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    tag = secrets.token_hex(2)
    now = datetime.now(SHANGHAI)
    starts = (now + timedelta(days=2)).isoformat(timespec="seconds")
    ends = (now + timedelta(days=5)).isoformat(timespec="seconds")
    promo = tiered(api, token, f"复制源满减 {tag}", 1000, starts, ends)
    status, campaign, _ = call(
        "POST",
        api + "/admin/campaigns",
        {
            "campaign_id": f"clone-src-{tag}",
            "name": f"旧活动 {tag}",
            "grade": "B",
            "starts_at": starts,
            "ends_at": ends,
            "budget": {"hq_fen": 100_000, "store_fen": 0, "supplier_fen": 0},
            "promotion_ids": [promo],
        },
        token=token,
    )
    assert status == 201, campaign

    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in("hq-admin")
    site.go(f"/campaigns/{quote(campaign['campaign_id'])}")
    form = page.get_by_test_id("campaign-clone")
    expect(form).to_be_visible()
    form.get_by_label("新活动名称").fill(f"新活动 {tag}")
    site.shot("campaign-clone-form")
    form.get_by_role("button", name="复制活动").click()

    expect(page.locator("main h1")).to_contain_text(f"新活动 {tag}")
    expect(page.get_by_role("status").first).to_contain_text(f"已复制为“新活动 {tag}”")
    copy_id = page.url.split("#/campaigns/")[1]
    assert copy_id != campaign["campaign_id"]
    status, copy, _ = call("GET", api + f"/admin/campaigns/{copy_id}", token=token)
    assert status == 200 and copy["state"] == "draft", copy
    assert len(copy["promotion_ids"]) == 1 and copy["promotion_ids"] != [promo]
    status, copied, _ = call(
        "GET", api + f"/admin/promotions/{copy['promotion_ids'][0]}", token=token
    )
    assert status == 200 and copied["status"] == "draft", copied  # approve it again
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("campaign-cloned")
    assert not site.errors, site.errors
