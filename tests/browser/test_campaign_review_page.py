"""The campaign dashboard and review pages (issue 16 item 6) in a real browser at tablet
portrait width (768x1024), with ECharts. The review API's answer is the route's own
example (campaigns/review_schemas.py EXAMPLES, a frozen 18-day review) served through
Playwright's page.route, and the review note's POST (the campaigns CRUD's route) is
intercepted and checked there."""

from __future__ import annotations

import copy
import json
from typing import Any

from chalicelib.campaigns.review_schemas import EXAMPLES

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

REVIEW = EXAMPLES["Review"]


def serve(site: Site, review: dict[str, Any], seen: list[str]) -> list[dict[str, Any]]:
    posted: list[dict[str, Any]] = []

    def answer(route: Any) -> None:
        req = route.request
        seen.append(req.url)
        if req.method == "OPTIONS":
            route.fulfill(status=204, headers=_cors())
        elif req.url.split("?")[0].endswith("/review-note"):
            posted.append(json.loads(req.post_data or "{}"))
            route.fulfill(status=200, headers=_cors(), json={"campaign_id": "cmp-618"})
        elif ".csv" in req.url:
            route.fulfill(
                status=200, headers={**_cors(), "Content-Type": "text/csv"}, body="\ufeffrow\r\n"
            )
        else:
            route.fulfill(status=200, headers=_cors(), json=review)

    site.page.route("**/admin/campaigns/cmp-618/**", answer)
    return posted


def _cors() -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "*",
        "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
    }


def option(site: Site, name: str) -> dict[str, Any]:
    expect(site.page.locator(f"[data-chart={name}] svg")).to_be_visible()
    return site.page.evaluate(
        """(name) => {
        const o = echarts.getInstanceByDom(document.querySelector(`[data-chart=${name}]`))
            .getOption();
        return {series: o.series.map((s) => ({type: s.type, data: s.data, markLine: s.markLine}))};
        }""",
        name,
    )


def test_the_review_shows_the_decomposition_stores_and_records_the_note(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    seen: list[str] = []
    posted = serve(site, REVIEW, seen)
    site.go("/campaigns/cmp-618/review")
    expect(page.locator("main h1")).to_have_text("活动复盘")
    expect(page.locator("[data-kpi=gmv] .value")).to_contain_text("7,920.00")
    expect(page.locator("[data-goal=gmv_fen]")).to_contain_text("113.1%")
    wf = option(site, "decomposition")
    # the waterfall: baseline 5,000.00, then +1,157.46 twice and +605.08, ending at 7,920.00
    assert wf["series"][1]["data"][0]["value"] == 500000
    assert [d["value"] for d in wf["series"][1]["data"][1:4]] == [115746, 115746, 60508]
    assert wf["series"][0]["data"] == [0, 500000, 615746, 731492, 0]
    expect(page.locator("[data-moved=visitors]")).to_contain_text("进店量对销售额影响最大")
    expect(page.locator("main table")).to_contain_text("静安店")
    with page.expect_download() as download:
        page.get_by_role("button", name="下载 CSV").click()
    assert download.value.suggested_filename == "review-cmp-618.csv"
    page.get_by_label("复盘结论").fill("进店量带动为主，客单价提升有限")
    page.get_by_label("下次目标：销售额（元）").fill("8500")
    page.get_by_label("下次目标：订单数").fill("160")
    page.get_by_role("button", name="保存复盘").click()
    expect(page.get_by_role("status").last).to_contain_text("已保存")
    assert posted == [
        {
            "note": "进店量带动为主，客单价提升有限",
            "next_goal": {"gmv_fen": 850000, "orders": 160, "new_members": None, "aov_fen": None},
        }
    ]
    page.get_by_label("对比基期").select_option("last_year")
    page.locator("main[aria-busy]").wait_for(state="detached")
    assert any("baseline=last_year" in u for u in seen)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("campaign-review")


def test_the_live_dashboard_shows_budget_funnel_and_days_and_refreshes(site: Site):
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    page.clock.install()
    site.sign_in("hq-admin")
    live = copy.deepcopy(REVIEW)
    live.update(frozen=False, state="live")
    seen: list[str] = []
    serve(site, live, seen)
    site.go("/campaigns/cmp-618/dashboard")
    expect(page.locator("main h1")).to_have_text("活动实时看板")
    expect(page.locator("main")).to_contain_text("实时")
    budget = option(site, "budget")
    marks = [m["xAxis"] for m in budget["series"][1]["markLine"]["data"]]
    assert marks == [64000, 16000]  # 80 % of the HQ and store budgets
    funnel = option(site, "funnel")
    assert funnel["series"][0]["data"] == [1200, 480, 160, 150]
    daily = option(site, "daily")
    assert daily["series"][0]["data"] == [44000]
    with page.expect_request("**/admin/campaigns/cmp-618/review"):
        page.clock.run_for(61_000)  # the page's own refresh
    expect(page.locator("[data-chart=daily] svg")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("campaign-dashboard")
