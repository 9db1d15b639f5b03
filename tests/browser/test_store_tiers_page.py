"""The store tiers page (门店 TOP 分级, issue 16 items 5 and 6) in a real browser at a
768x1024 tablet: head office reads last month's tiers with T, O, P and why, a store's
history chart (the demo's six scored months and this month), enters a month's total
transactions and saves the thresholds; a store manager sees their own store only, and the
dashboard shows the tier card."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_recall_page import PORTRAIT, fits


def months() -> tuple[str, str]:
    """(this month, last month) in Shanghai, as the stack sees them."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    last = f"{now.year - 1}-12" if now.month == 1 else f"{now.year}-{now.month - 1:02d}"
    return f"{now.year}-{now.month:02d}", last


def chart(site: Site, name: str) -> dict[str, Any]:
    expect(site.page.locator(f"[data-chart={name}] svg")).to_be_visible()
    return site.page.evaluate(
        """(name) => {
        const o = echarts.getInstanceByDom(document.querySelector(`[data-chart=${name}]`))
            .getOption();
        return {x: o.xAxis[0].data, series: o.series.map((s) => ({name: s.name, data: s.data}))};
        }""",
        name,
    )


def test_head_office_reads_tiers_history_and_sets_inputs(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    this, last = months()
    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="stores"]').click()  # the stores tab
    expect(page.locator("#nav a", has_text=re.compile("^(门店分级|Store tiers)$"))).to_be_visible()
    site.go(f"/store-tiers?month={last}&store=sh-jingan")
    expect(page.locator("main h1")).to_have_text(re.compile("^(门店 TOP 分级|Store TOP tiers)$"))
    rows = page.get_by_test_id("tier-table").locator("tbody tr")
    # the four demo stores (and any a test added to the shared stack)
    for name in ("静安寺店", "徐家汇店", "陆家嘴店", "五角场店"):
        expect(rows.filter(has_text=name)).to_have_count(1)
    tiers = [b.get_attribute("data-tier") for b in page.locator("tbody .tier-badge").all()]
    assert len(set(tiers)) >= 3, tiers  # the demo's stores sit in different tiers
    expect(rows.first).to_contain_text(re.compile(r"\d+\.\d%"))
    expect(rows.first).to_contain_text(re.compile("个 5 分钟时段|open 5-min slots"))
    history = chart(site, "tier-history")
    assert history["x"][-1] == this and len(history["x"]) == 7  # six scored + this month
    assert [s["name"] for s in history["series"]][:3] == ["T", "O", "P"]
    assert all(v in (1, 2, 3, 4) for v in history["series"][3]["data"])
    fits(site)
    site.shot("hq-last-month")

    # This month: enter a store's total transactions; its O follows.
    site.go(f"/store-tiers?month={this}")
    row = page.get_by_test_id("tier-table").locator("tbody tr", has_text="五角场")
    row.locator("input[type=number]").fill("123456")
    row.get_by_role("button").click()
    row = page.get_by_test_id("tier-table").locator("tbody tr", has_text="五角场")
    expect(row).to_contain_text("123456")

    # The thresholds: saved, audited by the API.
    form = page.locator("form[aria-labelledby=tier-settings-h]")
    form.locator("input[name=A-t]").fill("91")
    form.get_by_role("button").click()
    expect(page.get_by_test_id("tier-settings-messages")).to_be_visible()
    site.go("/store-tiers")
    expect(page.locator("input[name=A-t]")).to_have_value("91")
    fits(site)
    site.shot("hq-this-month")

    # The dashboard's card: the chain's distribution of last month.
    site.go("/")
    card = page.get_by_test_id("dashboard-tiers")
    expect(card).to_be_visible()
    dist = chart(site, "dashboard-tier-distribution")
    # every store scored (the four demo stores, and any a test added to the shared stack)
    assert dist["x"] == ["S", "A", "B", "C"] and sum(dist["series"][0]["data"]) >= 4


def test_a_manager_sees_their_own_store_and_its_card(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in("sh-xuhui-manager")
    site.go("/store-tiers")
    rows = page.get_by_test_id("tier-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("徐家汇")
    expect(page.locator("form[aria-labelledby=tier-settings-h]")).to_have_count(0)
    expect(rows.first.locator("input")).to_have_count(0)  # no transactions entry
    assert len(chart(site, "tier-history")["x"]) == 7
    fits(site)
    site.shot("manager")
    site.go("/")
    card = page.get_by_test_id("dashboard-tiers")
    expect(card.locator(".tier-badge").first).to_be_visible()
    chart(site, "dashboard-tier-history")
