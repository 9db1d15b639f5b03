"""The audit log and the session across tabs in a real browser (issue 13 items 6 and 8),
at desktop width and at 768 px: a price edit shows in the audit log with its before and
after; an order opened in a new tab stays signed in; an expired session says so."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect, skus_in_stock
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

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
