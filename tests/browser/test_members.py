"""The member pages in a real browser (issue 14 item 9), at desktop width and at 768 px:
search the list by phone, open the profile (source, orders, coupons, and the marked
places for the points and stored-value ledgers); a store manager sees phones masked."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

WIDTHS = [1440, 768]
PHONE = "13900000026"  # demo member c-demo-26, registered through 静安寺店's staff QR code


def fits(site: Site) -> None:
    overflow = site.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("username", "shown"), [("hq-admin", PHONE), ("sh-jingan-manager", "139****0026")]
)
def test_search_a_member_by_phone_and_open_the_profile(
    site: Site, width: int, username: str, shown: str
):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in(username)
    site.go("/members")
    expect(page.locator("main h1")).to_have_text(re.compile("^(会员|Members)$"))
    page.get_by_label(re.compile("^(手机号|Phone)$")).fill(PHONE)
    page.get_by_role("button", name=re.compile("^(查询|Search)$")).click()
    results = page.get_by_test_id("members")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text(shown)
    expect(results).to_contain_text(re.compile("员工码|Staff QR"))
    fits(site)
    site.shot(f"members-list-{username}")
    results.locator("tbody tr").first.click()
    expect(page.locator("main h1")).to_contain_text("韩先生")
    facts = page.get_by_test_id("member-facts")
    expect(facts).to_contain_text(shown)
    expect(facts).to_contain_text("sh-jingan-staff")
    expect(facts).to_contain_text("11-08")
    if username == "hq-admin":  # head office sees the member's loyalty, with links
        expect(page.get_by_test_id("member-level-facts")).to_contain_text("V")
        expect(page.get_by_test_id("member-level-history")).to_be_visible()
        expect(page.get_by_test_id("member-points-facts")).to_be_visible()
        expect(page.get_by_test_id("member-stored-value-facts")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile("积分明细|Points ledger"))).to_be_visible()
    else:  # ledgers are head office's
        expect(page.get_by_test_id("member-points")).to_have_count(0)
    fits(site)
    site.shot(f"members-profile-{username}")


def test_a_manager_does_not_find_another_stores_member(site: Site):
    site.sign_in("sh-xuhui-manager")
    site.go("/members?phone=" + PHONE)
    expect(site.page.get_by_test_id("members")).to_contain_text(
        re.compile("没有符合条件的会员|No member matches")
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_filter_members_by_level(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/members")
    page.get_by_label(re.compile("^(会员等级|Level)$")).select_option("V5")
    page.get_by_role("button", name=re.compile("^(查询|Search)$")).click()
    results = page.get_by_test_id("members")
    expect(results.locator("tbody tr")).to_have_count(1)  # c-demo-01: 12,600 growth
    expect(results).to_contain_text("13800000001")
    expect(results).to_contain_text("V5")
    fits(site)
    site.shot("members-by-level")


@pytest.mark.parametrize("width", WIDTHS)
def test_qr_codes_show_their_counts_and_can_be_switched_off(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/members/qr-codes")
    expect(page.locator("main h1")).to_have_text(re.compile("^(会员注册码|Member QR codes)$"))
    codes = page.get_by_test_id("qr-codes")
    row = codes.locator("tbody tr", has_text="DEMO-sh-jingan").first
    expect(row).to_contain_text(re.compile(r"join\?source=DEMO-sh-jingan"))
    expect(row.get_by_role("button", name=re.compile("^(复制|Copy)$"))).to_be_visible()
    fits(site)
    site.shot("qr-codes")
    row.get_by_role("button", name=re.compile("^(停用|Switch off)$")).click()
    row = codes.locator("tbody tr", has_text="DEMO-sh-jingan").first
    expect(row).to_contain_text(re.compile("已停用|Switched off"))
    row.get_by_role("button", name=re.compile("^(启用|Switch on)$")).click()  # as it was
    row = codes.locator("tbody tr", has_text="DEMO-sh-jingan").first
    expect(row).to_contain_text(re.compile("启用中|Active"))
