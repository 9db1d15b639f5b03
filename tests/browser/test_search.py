"""Global search in a real browser (issue 13 item 1), at desktop width and at 768 px:
the shell's search box finds an order by its number and a member by phone, and the
result opens the order."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import STORE, expect, paid_order, skus_in_stock

WIDTHS = [1440, 768]
PHONE = "13900000077"  # the demo customer paid_order signs in as (tests/e2e/test_print_e2e.py)


def search_for(site: Site, q: str) -> None:
    box = site.page.get_by_role("searchbox", name=re.compile("搜索|Search"))
    box.fill(q)
    box.press("Enter")
    site.page.locator("main h1", has_text=re.compile("^(搜索|Search)$")).wait_for()
    site.page.locator("main[aria-busy]").wait_for(state="detached")


def fits(site: Site) -> None:
    overflow = site.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


@pytest.mark.parametrize("width", WIDTHS)
def test_search_an_order_number_and_a_phone_and_open_the_order(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    first, second = skus_in_stock(STORE, 2)
    order_id = paid_order(site.stack, [(first, 2), (second, 1)])["order_id"]
    for username in ("hq-admin", f"{STORE}-manager"):
        site.sign_in(username)
        search_for(site, order_id.lower())
        orders = page.locator("section[aria-labelledby=search-orders]")
        expect(orders).to_contain_text(order_id)
        fits(site)
        site.shot(f"search-order-{username}")
        orders.get_by_role("link", name=re.compile(order_id)).click()
        expect(page.locator("main h1")).to_contain_text(order_id)

        search_for(site, PHONE)
        masked = f"{PHONE[:3]}****{PHONE[-4:]}"
        expect(page.locator("section[aria-labelledby=search-customers]")).to_contain_text(masked)
        found = page.locator("section[aria-labelledby=search-orders]")
        expect(found).to_contain_text(order_id)
        fits(site)
        site.shot(f"search-phone-{username}")
        found.get_by_role("link", name=re.compile(order_id)).click()
        expect(page.locator("main h1")).to_contain_text(order_id)
        page.get_by_role("button", name=re.compile("^(退出登录|Sign out)$")).click()
        page.locator("form input[name=username]").wait_for()
