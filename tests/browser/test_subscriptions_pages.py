"""Subscription delivery's admin pages (issue 17 item 5) in a real browser at tablet
portrait width (768x1024): head office finds 周期购 under marketing, sees the demo's month
of milk and its paid subscriber, creates a weekly plan, and opens the pick list of a day
the demo subscriber has a delivery (units per SKU at sh-jingan)."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

PORTRAIT = {"width": 768, "height": 1024}


def test_plans_subscribers_and_the_pick_list(site: Site):
    from chalicelib.subscriptions.service import subscription_id_for

    from infra.local.seed import DEMO_MILK_KEY, DEMO_MILK_PLAN

    page = site.page
    page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    page.get_by_role("link", name="周期购", exact=True).click()
    table = page.get_by_test_id("plan-table")
    expect(table).to_contain_text("每日鲜奶 一个月（周期购）")

    # the demo plan's subscriber
    site.go(f"/subscriptions?plan={DEMO_MILK_PLAN}")
    expect(page.get_by_test_id("plan-subscribers")).to_contain_text("c-demo-01")
    expect(page.get_by_test_id("plan-subscribers")).to_contain_text("进行中")

    # a new weekly plan
    tag = secrets.token_hex(2)
    form = page.get_by_test_id("plan-create")
    form.get_by_label("名称", exact=True).fill(f"每周水果 {tag}")
    form.get_by_label("每次配送的商品", exact=True).fill("500002x2")
    form.get_by_label("频率", exact=True).select_option("weekly")
    form.get_by_label("星期（每周）", exact=True).select_option("sat")
    form.get_by_label("配送次数", exact=True).fill("4")
    form.get_by_label("价格（元）", exact=True).fill("99")
    form.get_by_label("门店", exact=True).fill("sh-xuhui")
    site.shot("new-plan")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("plan-table")).to_contain_text(f"每周水果 {tag}")
    expect(page.get_by_test_id("plan-subscribers")).to_contain_text("还没有订阅")

    # the pick list of the demo subscriber's next delivery
    sub_id = subscription_id_for("c-demo-01", DEMO_MILK_KEY)
    status, sub, _ = call("GET", f"{api}/subscriptions/{sub_id}", token=token)
    assert status == 200, sub
    day = next(d["date"] for d in sub["schedule"] if d["state"] == "scheduled")
    site.go(f"/subscription-deliveries?date={quote(day)}")
    store = page.locator('[data-testid="pick-store"][data-store="sh-jingan"]')
    expect(store).to_contain_text("500001")
    expect(store).to_contain_text(sub_id)
    site.shot("pick-list")
