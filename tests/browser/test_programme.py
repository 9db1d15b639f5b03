"""The loyalty programme page (issue 14 items 4, 5, 9) in a real browser, at desktop
width and at 768 px: head office changes a level's threshold, saves, and finds it saved
after a reload; the check-in and task cards save too."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

WIDTHS = [1440, 768]


def reload(site: Site) -> None:
    """Read the page again from the API (the same hash does not re-render)."""
    site.page.reload()
    site.page.locator("main[aria-busy]").wait_for(state="detached")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_level_threshold_change_is_saved(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/programme")
    expect(page.get_by_role("heading", name="会员等级与权益")).to_be_visible()
    threshold = page.get_by_label("V2 门槛", exact=True)
    # between V1's and V3's (thresholds must rise), and different from what it was
    v3 = int(page.get_by_label("V3 门槛", exact=True).input_value())
    new = str(v3 - width // 10)
    if threshold.input_value() == new:
        new = str(int(new) - 1)
    threshold.fill(new)
    levels = page.get_by_test_id("levels")
    levels.get_by_role("button", name="保存").click()
    expect(levels.get_by_role("status")).to_contain_text("已保存")
    site.shot("levels-saved")
    reload(site)
    expect(page.get_by_label("V2 门槛", exact=True)).to_have_value(new)
    # a threshold below V1's is refused with the API's explanation, nothing saved
    page.get_by_label("V2 门槛", exact=True).fill("0")
    levels = page.get_by_test_id("levels")
    levels.get_by_role("button", name="保存").click()
    expect(levels.get_by_role("alert")).to_be_visible()
    reload(site)
    expect(page.get_by_label("V2 门槛", exact=True)).to_have_value(new)
    # check-in rewards
    checkin = page.get_by_test_id("checkin")
    checkin.get_by_label("每日积分").fill("6")
    checkin.get_by_role("button", name="保存").click()
    expect(checkin.get_by_role("status")).to_contain_text("已保存")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
