"""The points pages in a real browser (issue 14 item 2), at desktop width and at 768 px:
head office saves the points rules, looks a member up by phone, adjusts their points
with a required reason and sees the entry in the ledger and the balance."""

from __future__ import annotations

import re

import pytest

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

WIDTHS = [1440, 768]


def fits(site: Site) -> None:
    overflow = site.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the window"


@pytest.mark.parametrize("width", WIDTHS)
def test_adjust_a_members_points_with_a_reason_and_see_the_entry(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    member = demo_data.members()[width % 7]  # a different member per width
    site.sign_in("hq-admin")
    site.go("/loyalty/points")
    pending = page.get_by_label("订单完成后待生效天数")
    pending.fill("7")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("main")).to_contain_text("积分规则已保存")
    fits(site)
    site.shot(f"points-settings-{width}")

    page.get_by_label("会员手机号").fill(member["phone"])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("main h1")).to_contain_text("会员积分")
    page.locator("main[aria-busy]").wait_for(state="detached")
    before = int(page.locator("[data-testid=points-balance] dd[data-field=balance]").inner_text())

    page.get_by_label("积分", exact=True).fill("120")
    reason = page.get_by_label("原因")
    # the reason is required: the browser will not send the form without it
    page.get_by_role("button", name="调整积分").click()
    assert reason.evaluate("el => el.validity.valueMissing")
    reason.fill(f"门店补偿 {width}")
    page.get_by_role("button", name="调整积分").click()
    expect(page.locator("main")).to_contain_text("积分已调整")
    ledger = page.locator("[data-testid=points-ledger]")
    expect(ledger).to_contain_text(f"门店补偿 {width}")
    expect(ledger).to_contain_text("+120")
    expect(ledger).to_contain_text("hq-admin")
    expect(page.locator("[data-testid=points-balance] dd[data-field=balance]")).to_have_text(
        str(before + 120)
    )
    fits(site)
    site.shot(f"points-member-{width}")
    page.get_by_role("button", name="English").click()
    expect(page.locator("main")).to_contain_text(re.compile("Points history|Adjust points"))
    page.get_by_role("button", name="中文").click()
