"""Drafts on the promotions page (issue 18 item 5) in a real browser at a 768x1024 tablet:
head office creates a draft without a budget (two approvers), simulates it on a sample
cart, approves it; the same person cannot approve twice; a second person publishes it."""

from __future__ import annotations

import secrets

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_recall_page import PORTRAIT, fits
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

WATER = "农夫山泉 饮用天然水 550ml"  # 2.00 at sh-jingan (the chain list price)


def test_a_draft_is_simulated_approved_and_published_by_two_people(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    sku = next(p["sku"] for p in demo_data.products() if p["name"] == WATER)
    name = f"满5减1 {secrets.token_hex(2)}"
    status, draft, _ = call(
        "POST",
        f"{api}/admin/promotions",
        {
            "kind": "tiered",
            "name": name,
            "stores": ["sh-jingan"],
            "starts_at": "2026-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
            "tiers": [{"threshold_fen": 500, "off_fen": 100}],
            "scope": {"categories": [], "skus": [sku]},
        },
        token=_login(api, "hq-admin"),
    )
    assert status == 201 and draft["status"] == "draft", draft

    site.sign_in("hq-admin")
    site.go("/promotions")
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("草稿 0/2")

    # simulate: 3 waters (6.00) reach 满5减1
    row.get_by_role("button", name="模拟").click()
    dialog = page.get_by_test_id("simulate-dialog")
    dialog.get_by_role("textbox").fill(f"sh-jingan {sku} 3")
    dialog.get_by_test_id("simulate-run").click()
    result = page.get_by_test_id("simulation")
    expect(result).to_contain_text("1 / 1")
    expect(result).to_contain_text("1.00")
    fits(site)
    site.shot("simulated")

    row.get_by_role("button", name="审批通过").click()
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("待审批 1/2")
    expect(row.get_by_role("button", name="审批通过")).to_be_disabled()  # not twice
    site.shot("pending")

    page.get_by_role("button", name="退出登录").click()
    site.sign_in("hq-ops")
    site.go("/promotions")
    row = page.locator("tbody tr", has_text=name)
    row.get_by_role("button", name="审批通过").click()
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("进行中")
    expect(row.get_by_role("button", name="审批通过")).to_have_count(0)
    fits(site)
    site.shot("published")
    assert not site.errors, site.errors


def test_head_office_sets_the_two_approver_threshold(site: Site):
    """The 审批设置 card of the promotions page reads and saves the threshold
    (PUT /admin/approval-settings); the stack's value is put back afterwards, as other
    tests' drafts are judged by it."""
    page = site.page
    page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    token = _login(api, "hq-admin")
    _, before, _ = call("GET", f"{api}/admin/approval-settings", token=token)
    try:
        site.sign_in("hq-admin")
        site.go("/promotions")
        card = page.get_by_test_id("approval-settings")
        expect(card).to_contain_text("审批设置")
        amount = card.get_by_label("双人审批预算门槛（元）")
        fen = before["two_approvers_above_fen"]
        expect(amount).to_have_value(f"{fen // 100}.{fen % 100:02d}")
        amount.fill("3000")
        fits(site)
        site.shot("approval-threshold")
        card.get_by_role("button", name="保存").click()
        expect(card).to_contain_text("已保存：预算超过 ¥3,000.00 需两人审批")
        _, now, _ = call("GET", f"{api}/admin/approval-settings", token=token)
        assert now["two_approvers_above_fen"] == 300_000 and now["updated_by"] == "hq-admin"
    finally:
        body = {"two_approvers_above_fen": before["two_approvers_above_fen"]}
        call("PUT", f"{api}/admin/approval-settings", body, token=token)
