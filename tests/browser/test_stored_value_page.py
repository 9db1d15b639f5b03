"""Head office's stored-value page (储值) in a real browser, at desktop and tablet widths:
the liability report, the bonus tiers and cap saved, a member's ledger looked up by phone
and an adjustment that needs a reason (then shows in the ledger and the liability)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser.conftest import Site
from tests.browser.test_staff_screens import layout_problems
from tests.e2e.test_local_stack import call


def member(api: str, phone: str) -> None:
    """A member with this phone (signing in by SMS code registers them)."""
    status, sent, _ = call("POST", api + "/auth/otp", {"phone": phone})
    assert status in (200, 201), sent
    status, session, _ = call(
        "POST", api + "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]}
    )
    assert status == 200, session


@pytest.fixture
def sized(site: Site, request: pytest.FixtureRequest) -> Iterator[Site]:
    site.page.set_viewport_size({"width": request.param, "height": 900})
    yield site


def expect(locator):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.mark.parametrize("sized", (1440, 768), indirect=True)
def test_liability_tiers_and_a_members_adjustment(sized: Site):
    site = sized
    phone = f"1390000{page_width(site):04d}"
    member(site.stack.api_url, phone)
    site.sign_in("hq-admin")
    site.go("/stored-value")
    page = site.page
    expect(page.get_by_test_id("sv-liability")).to_contain_text("储值负债")
    assert layout_problems(site) == []

    # Settings: the default tiers are shown; change the cap and save.
    cap = page.get_by_test_id("sv-cap")
    expect(cap).to_have_value(re.compile(r"^\d+\.\d\d$"))
    cap.fill("4000")
    page.get_by_role("button", name="保存").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    expect(page.get_by_test_id("sv-cap")).to_have_value("4000.00")

    # A member by phone, then an adjustment: without a reason the form does not submit.
    page.get_by_label("会员手机号").fill(phone)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("sv-balance")).to_be_visible()
    page.get_by_test_id("sv-adjust-bonus").fill("12.50")
    page.get_by_role("button", name="调整", exact=True).click()
    expect(page.get_by_test_id("sv-member")).to_contain_text("暂无变动")  # nothing sent
    assert page.get_by_test_id("sv-adjust-reason").evaluate("el => el.validity.valueMissing")
    page.get_by_test_id("sv-adjust-reason").fill("浏览器测试补偿")
    page.get_by_role("button", name="调整", exact=True).click()
    expect(page.get_by_test_id("sv-member")).to_contain_text("浏览器测试补偿")
    expect(page.get_by_test_id("sv-member")).to_contain_text("人工调整")
    page.evaluate("window.scrollTo(0, 0)")  # the nav is checked where it is seen
    assert layout_problems(site) == []
    site.shot("stored-value")


def page_width(site: Site) -> int:
    return int(site.page.viewport_size["width"])
