"""The audit log and the session across tabs in a real browser (issue 13 items 6, 8 and
9), at desktop width and at 768 px: a price edit and an edited coupon template show in
the audit log with their before and after; an order opened in a new tab stays signed in;
an expired session says so."""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect, skus_in_stock
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login
from tests.publishing import publish_http

WIDTHS = [1440, 768]


@pytest.mark.parametrize("width", WIDTHS)
def test_a_price_edit_shows_in_the_audit_log_with_before_and_after(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    sku = skus_in_stock("sh-jingan", 1)[0]
    api = site.stack.api_url
    _, before, _ = call("GET", f"{api}/stores/sh-jingan/products/{sku}")
    new_fen = before["price_fen"] + 10
    site.sign_in("hq-admin")
    site.go(f"/catalogue?store=sh-jingan&q={sku}")
    row = page.locator("main tbody tr").first
    row.get_by_label(re.compile("价格")).fill(f"{new_fen / 100:.2f}")
    row.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text(f"¥{new_fen / 100:.2f}")

    site.go(f"/audit?target_type=store_item&target_id=sh-jingan/{sku}")
    entry = page.locator("main tbody tr").first
    expect(entry).to_contain_text("store_item.update")
    expect(entry.locator("del")).to_contain_text(f"{before['price_fen'] / 100:.2f}")
    expect(entry.locator("ins")).to_contain_text(f"{new_fen / 100:.2f}")
    site.shot("audit-log")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_edited_coupon_template_shows_in_the_audit_log(site: Site, width: int):
    """Head office edits a template's name and total quantity on the coupons page, then
    filters the audit log by that template and reads the edit's before and after."""
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    api = site.stack.api_url
    name = f"满50减5 {secrets.token_hex(2)}"
    now = datetime.now(UTC)
    status, made, _ = call(
        "POST",
        f"{api}/admin/coupon-templates",
        {
            "name": name,
            "kind": "amount_off",
            "threshold_fen": 5000,
            "amount_off_fen": 500,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total_quantity": 100,
        },
        token=_login(api, "hq-admin"),
    )
    assert status == 201, made
    made = publish_http(call, api, f"/admin/coupon-templates/{made['template_id']}", made)
    tid = made["template_id"]
    new_name = f"{name} 加量"

    site.sign_in("hq-admin")
    site.go("/coupons")
    page.get_by_role("button", name=f"编辑 {name}").click()
    form = page.get_by_test_id("coupon-edit")
    form.get_by_label("名称", exact=True).fill(new_name)
    form.get_by_label("发放总量").fill("150")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("coupon-editor")).to_contain_text(f"已保存优惠券：{new_name}")

    site.go("/audit")
    filters = page.locator("main form")
    filters.get_by_label("对象类型").fill("coupon_template")
    filters.get_by_label("对象编号").fill(tid)
    filters.get_by_role("button", name="筛选").click()
    entries = page.locator("main tbody tr")
    # newest first: the edit, its publication (one approval: drafts, issue 18), the creation
    expect(entries).to_have_count(3)
    entry = entries.first
    expect(entry).to_contain_text("coupon_template.update")
    expect(entry).to_contain_text(f"coupon_template {tid}")
    expect(entry).to_contain_text("hq-admin")
    name_change = entry.locator("li", has=page.locator("code", has_text=re.compile("^name$")))
    expect(name_change.locator("del")).to_have_text(name)
    expect(name_change.locator("ins")).to_have_text(new_name)
    quantity = entry.locator("li", has=page.locator("code", has_text="total_quantity"))
    expect(quantity.locator("del")).to_have_text("100")
    expect(quantity.locator("ins")).to_have_text("150")
    expect(entries.nth(1)).to_contain_text("coupon_template.publish")
    expect(entries.nth(2)).to_contain_text("coupon_template.create")
    site.shot("audit-coupon-template")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_order_opened_in_a_new_tab_stays_signed_in(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    other = page.context.new_page()
    other.goto(f"{site.stack.admin_url}/#/orders")
    other.get_by_role("button", name=re.compile("^(退出登录|Sign out)$")).wait_for()
    assert "/signin" not in other.url
    # Signing out in one tab signs out the other.
    other.get_by_role("button", name=re.compile("^(退出登录|Sign out)$")).click()
    page.locator("form input[name=username]").wait_for()
    other.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_expired_session_says_so(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    token = _login(site.stack.api_url, "hq-admin")
    site.open("/signin")
    expired = {
        "token": token,
        "expires_at": "2020-01-01T00:00:00Z",
        "staff": {"username": "hq-admin", "role": "hq_admin", "store_id": None},
    }
    page.evaluate("(s) => localStorage.setItem('daojia.session', s)", json.dumps(expired))
    page.reload()  # the site opened again with the expired session saved
    expect(page.get_by_role("alert")).to_contain_text("登录已过期")
    site.shot("expired")
