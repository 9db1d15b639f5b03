"""The effect report, supplier settlement and orders filter pages (issue 18 item 6) in a
real browser at 768x1024 with ECharts. The report and statement answers are the routes'
own examples (reports/schemas.py EXAMPLES) served through Playwright's page.route; the
orders filter goes to the local stack's API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from chalicelib.reports.schemas import EXAMPLES

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_campaign_review_page import _cors, option

REPORT = EXAMPLES["EffectReport"]
SETTLEMENT = EXAMPLES["SupplierSettlement"]


def serve(site: Site, pattern: str, body: dict[str, Any], seen: list[str]) -> None:
    def answer(route: Any) -> None:
        req = route.request
        seen.append(req.url)
        if req.method == "OPTIONS":
            route.fulfill(status=204, headers=_cors())
        elif ".csv" in req.url:
            route.fulfill(
                status=200,
                headers={**_cors(), "Content-Type": "text/csv"},
                body="\ufeff行,供应商\r\n",
            )
        else:
            route.fulfill(status=200, headers=_cors(), json=body)

    site.page.route(pattern, answer)


def test_a_promotions_effect_report_shows_figures_trend_stores_and_csv(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    seen: list[str] = []
    serve(site, "**/admin/promotions/promo-autumn/report*", REPORT, seen)
    site.go("/promotions/promo-autumn/report")
    expect(page.locator("main h1")).to_have_text("促销效果")
    expect(page.locator("[data-kpi=redeemed] .value")).to_have_text("3")
    expect(page.locator("[data-kpi=net] .value")).to_contain_text("80.00")
    expect(page.locator("[data-kpi=aov_with] .value")).to_contain_text("200.00")
    expect(page.locator("[data-kpi=aov_without] .value")).to_contain_text("60.00")
    trend = option(site, "effect-trend")
    assert trend["series"][0]["data"] == [3]
    assert trend["series"][1]["data"] == [8000]
    expect(page.locator("[data-effect-stores] table")).to_contain_text("鲜到家 静安寺店")
    with page.expect_download() as download:
        page.locator("[data-effect-csv]").click()
    assert download.value.suggested_filename == "effect-promo-autumn.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeffstore_id,store,orders,discount,net,gmv")
    assert "sh-jingan" in text
    page.get_by_label("开始", exact=True).fill("2026-11-20")
    # the range is asked of the API (waited for: the click returns before the request)
    with page.expect_request(lambda r: "from=2026-11-20" in r.url):
        page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("link", name="查看相关订单")).to_have_attribute(
        "href", re.compile("promotion_id=promo-autumn")
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("promotion-effect")


def test_the_supplier_settlement_page_lists_what_each_supplier_owes(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    seen: list[str] = []
    serve(site, "**/admin/supplier-settlements*", SETTLEMENT, seen)
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    page.locator("#nav a", has_text=re.compile("^供应商结算$")).click()
    expect(page.locator("main h1")).to_have_text("供应商结算")
    card = page.locator('[data-supplier="蒙牛"]')
    expect(card).to_contain_text("蒙牛 应结 ¥25.00")
    expect(card).to_contain_text("蒙牛 满50减10")
    expect(card).to_contain_text("退款冲回")
    expect(page.locator("[data-settlement-total]")).to_contain_text("25.00")
    with page.expect_download() as download:
        page.locator("[data-settlement-csv]").click()
    assert download.value.suggested_filename.startswith("supplier-settlement-")
    assert any("lang=zh-CN" in u for u in seen if ".csv" in u)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("supplier-settlement")


def test_the_orders_list_filters_by_promotion(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    site.go("/orders?all=1")
    page.get_by_label("促销 ID", exact=True).fill("no-such-promotion")
    with page.expect_request(re.compile(r".*/admin/orders\?.*promotion_id=no-such-promotion.*")):
        page.get_by_role("button", name="查询", exact=True).click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    expect(page.get_by_label("促销 ID", exact=True)).to_have_value("no-such-promotion")
