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


def water_sku() -> str:
    return next(p["sku"] for p in demo_data.products() if p["name"] == WATER)


def create_draft(site: Site, path: str, body: dict) -> str:
    """POST a draft as hq-admin through the API, at tablet width: its name (``body``'s
    with a random suffix, so reruns on the same stack find their own row)."""
    site.page.set_viewport_size(PORTRAIT)
    api = site.stack.api_url
    name = f"{body['name']} {secrets.token_hex(2)}"
    status, draft, _ = call(
        "POST", f"{api}{path}", dict(body, name=name), token=_login(api, "hq-admin")
    )
    assert status == 201 and draft["status"] == "draft", draft
    return name


def test_a_draft_is_simulated_approved_and_published_by_two_people(site: Site):
    page = site.page
    sku = water_sku()
    body = {
        "kind": "tiered",
        "name": "满5减1",
        "stores": ["sh-jingan"],
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z",
        "tiers": [{"threshold_fen": 500, "off_fen": 100}],
        "scope": {"categories": [], "skus": [sku]},
    }
    name = create_draft(site, "/admin/promotions", body)

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


def test_a_draft_coupon_template_is_simulated_on_the_coupons_page(site: Site):
    """Head office simulates a draft template (满5减1 on water) on a sample cart from the
    coupons page at tablet width: carts changed and the discount cost show; the template
    stays a draft."""
    page = site.page
    sku = water_sku()
    body = {
        "kind": "amount_off",
        "name": "水满5减1",
        "threshold_fen": 500,
        "amount_off_fen": 100,
        "scope": {"skus": [sku], "stores": ["sh-jingan"]},
        "days_after_claim": 7,
    }
    name = create_draft(site, "/admin/coupon-templates", body)

    site.sign_in("hq-admin")
    site.go("/coupons")
    templates = page.get_by_test_id("coupon-templates")
    row = templates.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("草稿 0/2")
    # 3 waters (6.00) + 1 water alone (2.00, below the threshold)
    row.get_by_role("button", name="模拟").click()
    dialog = page.get_by_test_id("simulate-dialog")
    expect(dialog).to_be_in_viewport()
    dialog.get_by_role("textbox").fill(f"sh-jingan {sku} 3\n\nsh-jingan {sku} 1")
    dialog.get_by_test_id("simulate-run").click()
    result = page.get_by_test_id("simulation")
    # the first simulation imports the pricing modules: slow on a loaded machine
    expect(result).to_contain_text("1 / 2", timeout=30_000)
    expect(result).to_contain_text("1.00")
    fits(site)
    site.shot("template-simulated")
    site.go("/coupons")
    expect(templates.locator("tbody tr", has_text=name)).to_contain_text("草稿 0/2")
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
