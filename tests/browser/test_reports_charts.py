"""The dashboard's charts (ECharts, vendored) show the sales report's figures, which come
from the daily rollups: checked on the chart instances (getOption) against the rollup
items themselves, at head office's desktop and at a 768 px tablet."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import boto3
import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_staff_screens import layout_problems
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

HISTORY_DAYS = 3


@pytest.fixture(scope="module")
def history(stack: Any) -> None:
    """A few days of demo order history, rolled up (infra/local/history.py)."""
    subprocess.run(
        [sys.executable, "-m", "infra.local.history", "--days", str(HISTORY_DAYS)],
        env=stack.env,
        check=True,
        timeout=300,
    )


def rollups(stack: Any, first: str, last: str) -> dict[str, int]:
    """day -> paid_fen of every store's rollup items, read from the local AWS."""
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    (table,) = [t for t in ddb.list_tables()["TableNames"] if t.endswith("-report_days")]
    out: dict[str, int] = {}
    for item in ddb.scan(TableName=table)["Items"]:
        day = item["day"]["S"]
        if first <= day <= last:
            out[day] = out.get(day, 0) + int(item["paid_fen"]["N"])
    return out


def chart_option(site: Site, name: str) -> dict[str, Any]:
    """The option of the chart ``name`` (a data-chart attribute), once it is drawn."""
    box = site.page.locator(f"[data-chart={name}] svg")
    expect(box).to_be_visible()
    return site.page.evaluate(
        """(name) => {
        const o = echarts.getInstanceByDom(document.querySelector(`[data-chart=${name}]`))
            .getOption();
        return {x: o.xAxis[0].data, series: o.series.map((s) => ({name: s.name, data: s.data}))};
        }""",
        name,
    )


@pytest.mark.parametrize("width", [1440, 768])
def test_sales_chart_shows_the_rollups_with_the_previous_period(site: Site, history, width):
    site.page.set_viewport_size({"width": width, "height": 900})
    hq = _login(site.stack.api_url, "hq-admin")
    _, base, _ = call("GET", f"{site.stack.api_url}/admin/reports/sales", token=hq)
    last = date.fromisoformat(base["to"])  # today
    first = last - timedelta(days=6)
    site.sign_in("hq-admin")
    site.page.get_by_role("button", name="近 7 天").click()
    # The page is replaced once its requests answered: then this button is the pressed one.
    expect(site.page.locator("button[aria-pressed=true]")).to_have_text("近 7 天")
    option = chart_option(site, "sales")
    _, report, _ = call(
        "GET",
        f"{site.stack.api_url}/admin/reports/sales?compare=previous&from={first}&to={last}",
        token=hq,
    )
    days = [d["date"] for d in report["days"]]
    assert len(days) == 7 and option["x"] == [d[5:] for d in days]
    stored = rollups(site.stack, days[0], days[-1])
    paid, previous = option["series"]
    assert paid["data"] == [stored.get(d, 0) for d in days]
    assert sum(paid["data"][-1 - HISTORY_DAYS : -1]) > 0  # the seeded days have sales
    assert previous["data"] == [d["paid_fen"] for d in report["previous"]["days"]]
    # Exact money on the chart: every category bar's label reads to the fen.
    labels = site.page.locator("[data-chart=by_category] svg text").all_text_contents()
    for c in report["by_category"]:
        fen = c["paid_fen"]
        assert f"¥{fen // 100:,}.{fen % 100:02d}" in labels
    site.page.evaluate("window.scrollTo(0, 0)")  # the nav is checked in the viewport
    assert layout_problems(site) == []
    site.shot(f"reports-{width}")


def test_a_store_manager_sees_their_store_and_store_staff_no_report(site: Site, history):
    site.sign_in("sh-jingan-manager")
    option = chart_option(site, "by_store")
    assert [s["name"] for s in option["series"]] == ["鲜到家 静安寺店"]
    site.sign_in("sh-jingan-staff")
    expect(site.page.locator("[data-chart=trend] svg")).to_be_visible()
    expect(site.page.locator("[data-chart=sales]")).to_have_count(0)
