"""The customer overview (#/customers) and the segment builder (#/segments), issue 15 item
7, in a real browser at a 768x1024 tablet, over a snapshot the real nightly job built from
seeded member aggregates (tests/browser/segments_seed.py): the overview's charts show the
snapshot's counts; a segment of three conditions counts what the API counts; it is saved,
reopened and deleted; a coupon issued to it reaches the consenting members, and the page
follows the action to the end; store managers get neither link nor API."""

from __future__ import annotations

import csv
import io
import json
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_staff_screens import layout_problems
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login
from tests.publishing import publish_http

PORTRAIT = {"width": 768, "height": 1024}
TAG = f"页测{secrets.token_hex(2)}"


def run_seed(stack: Any, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.browser.segments_seed", *args],
        env=stack.env,
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def seeded(stack: Any) -> dict[str, Any]:
    return run_seed(stack, "seed", TAG)


def fits(site: Site) -> None:
    """No sideways scrolling, nothing off screen; buttons, fields and checkbox labels
    touch-sized (a checkbox is tapped through its label)."""
    site.page.evaluate("window.scrollTo(0, 0)")
    assert layout_problems(site) == []
    small = site.page.evaluate(
        """() => [...document.querySelectorAll(
                "main :is(button, input:not([type=checkbox]), select, label.check)")]
            .filter((el) => el.getBoundingClientRect().width > 0)
            .filter((el) => el.getBoundingClientRect().height < 44)
            .map((el) => `${el.tagName} ${el.textContent || el.name || el.type}`)"""
    )
    assert small == []


def chart_data(site: Site, name: str) -> list[Any]:
    """The ECharts series data of the chart ``name`` once it is drawn."""
    box = site.page.locator(f'[data-chart="{name}"]')
    expect(box.locator("svg")).to_have_count(1)
    return site.page.evaluate(
        """(name) => {
            const el = document.querySelector(`[data-chart="${name}"]`);
            return echarts.getInstanceByDom(el).getOption().series.map((s) => s.data);
        }""",
        name,
    )


def test_the_overview_shows_the_snapshot_and_refreshes_it(site: Site, seeded):
    api = site.stack.api_url
    hq = _login(api, "hq-admin")
    status, overview, _ = call("GET", f"{api}/admin/customers/overview", token=hq)
    assert status == 200, overview
    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in("hq-admin")
    labels = site.nav_labels()
    at = labels.index("会员")
    assert labels[at + 2 : at + 4] == ["客户洞察", "客户分群"]
    site.go("/customers")
    expect(page.locator("main h1")).to_have_text("客户洞察")
    facts = page.get_by_test_id("customers-facts")
    expect(facts.locator('[data-fact="as_of"] dd')).to_have_text(overview["as_of"])
    expect(facts.locator('[data-fact="members"] dd')).to_have_text(str(overview["members"]))
    expect(facts.locator('[data-fact="with_orders"] dd')).to_have_text(str(overview["with_orders"]))

    # the bars are the API's counts, in the issue's order, labelled in Chinese
    stages = ["joining", "awakening", "churn_recall", "dormant", "lost"]
    (lifecycle,) = chart_data(site, "lifecycle")
    assert lifecycle == [overview["by_lifecycle"].get(s, 0) for s in reversed(stages)]
    assert sum(lifecycle) > 0 and all(n > 0 for n in lifecycle)  # the seed covers each
    groups = ["important_value", "important_recall", "important_develop", "important_retain"]
    groups += ["potential", "new", "maintain", "lost", "no_orders"]
    (rfm,) = chart_data(site, "rfm")
    assert rfm == [overview["by_rfm"].get(g, 0) for g in reversed(groups)]
    assert sum(rfm) == overview["members"]
    expect(page.locator('[data-chart="rfm"]')).to_contain_text("重要价值")
    expect(page.locator('[data-chart="lifecycle"]')).to_contain_text("沉睡期")
    share = f"{overview['pareto']['top20_share'] * 100:.1f}%"
    expect(page.locator(".chart-card", has=page.locator('[data-chart="pareto"]'))).to_contain_text(
        share
    )
    (curve,) = chart_data(site, "pareto")
    assert curve == overview["pareto"]["curve"]
    new = chart_data(site, "new_members")
    assert sum(sum(s) for s in new) == sum(r["members"] for r in overview["new_members"]) > 0
    fits(site)
    site.shot("overview")

    # refresh now: queued, built by the worker, then the page shows the new snapshot
    page.get_by_role("button", name="立即刷新").click()
    expect(page.get_by_test_id("segments-refresh-state")).to_contain_text("已刷新", timeout=60000)
    status, state, _ = call("GET", f"{api}/admin/segments/refresh", token=hq)
    assert status == 200 and state["state"] == "succeeded", state
    expect(facts.locator('[data-fact="members"] dd')).to_have_text(str(state["members"]))

    # in English too, still fitting the tablet
    page.get_by_role("button", name="English").click()
    expect(page.locator("main h1")).to_have_text("Customer overview")
    expect(page.locator('[data-chart="rfm"]')).to_contain_text("Important value")
    expect(page.locator('[data-chart="lifecycle"]')).to_contain_text("Dormant")
    fits(site)
    site.shot("overview-en")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("main h1")).to_have_text("客户洞察")
    assert site.errors == []


def test_build_save_reopen_and_issue_a_coupon_to_a_segment(site: Site, seeded):
    api = site.stack.api_url
    hq = _login(api, "hq-admin")
    now = datetime.now(UTC)
    coupon = f"分群券 {secrets.token_hex(2)}"
    status, template, _ = call(
        "POST",
        f"{api}/admin/coupon-templates",
        {
            "name": coupon,
            "kind": "amount_off",
            "threshold_fen": 5000,
            "amount_off_fen": 500,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total_quantity": 100,
        },
        token=hq,
    )
    assert status == 201, template
    template = publish_http(
        call, api, f"/admin/coupon-templates/{template['template_id']}", template
    )
    wanted = {"tags_any": [TAG], "lifecycle": ["joining"], "orders_min": 2}
    status, expected, _ = call("POST", f"{api}/admin/segments/count", {"filter": wanted}, token=hq)
    assert status == 200, expected
    tagged = seeded["tagged"]
    assert expected["members"] == tagged and expected["excluded_no_consent"] == 1

    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in("hq-admin")
    site.go("/segments")
    counts = page.get_by_test_id("segment-count-facts")
    expect(counts.locator('[data-count="members"] dd')).not_to_have_text("")
    sent: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data)["filter"])
            if r.method == "POST" and r.url.endswith("/admin/segments/count")
            else None
        ),
    )
    form = page.get_by_test_id("segment-filter")
    form.get_by_label("标签", exact=True).fill(TAG)
    form.get_by_label("导入期（1–3个月）").check()
    form.get_by_label("订单数 ≥").fill("2")
    expect(counts.locator('[data-count="members"] dd')).to_have_text(str(expected["members"]))
    expect(counts.locator('[data-count="marketable"] dd')).to_have_text(str(expected["marketable"]))
    expect(counts.locator('[data-count="excluded"] dd')).to_have_text("1")
    assert sent[-1] == wanted
    fits(site)
    site.shot("built")

    # a spend range in yuan goes to the API in fen
    form.get_by_label("消费金额 ≥（元）").fill("12.5")
    expect(counts.locator('[data-count="members"] dd')).not_to_have_text("")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=segment-count][aria-busy]')"
    )
    assert sent[-1] == {**wanted, "spend_min_fen": 1250}
    form.get_by_label("消费金额 ≥（元）").fill("")
    expect(counts.locator('[data-count="members"] dd')).to_have_text(str(expected["members"]))

    # save, then open it again from a fresh page
    name = f"页测分群 {secrets.token_hex(2)}"
    page.get_by_label("分群名称").fill(name)
    page.get_by_role("button", name="另存为新分群").click()
    expect(page.locator("main h1")).to_have_text(f"客户分群：{name}")
    site.go("/segments")
    page.get_by_role("button", name=f"打开 {name}").click()
    expect(page.locator("main h1")).to_have_text(f"客户分群：{name}")
    form = page.get_by_test_id("segment-filter")
    expect(form.get_by_label("标签", exact=True)).to_have_value(TAG)
    expect(form.get_by_label("导入期（1–3个月）")).to_be_checked()
    expect(form.get_by_label("订单数 ≥")).to_have_value("2")
    expect(counts.locator('[data-count="members"] dd')).to_have_text(str(expected["members"]))

    # issue the coupon: confirmed with the counts, one request, followed to the end
    actions: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: (
            actions.append(json.loads(r.post_data))
            if r.method == "POST" and r.url.endswith("/admin/segments/actions")
            else None
        ),
    )
    page.get_by_label("优惠券", exact=True).select_option(label=coupon)
    page.get_by_role("button", name="执行…").click()
    confirm = page.get_by_test_id("segment-action-confirm")
    expect(confirm).to_contain_text(f"向 {expected['marketable']} 位会员发放“{coupon}”")
    expect(confirm).to_contain_text("另有 1 位")
    confirm.get_by_role("button", name="确认执行").click()
    progress = page.get_by_test_id("segment-action-progress")
    expect(progress).to_have_attribute("data-state", "succeeded", timeout=60000)
    marketable = expected["marketable"]
    expect(progress).to_contain_text(f"完成 {marketable} / {marketable}，失败 0，未授权营销排除 1")
    assert len(actions) == 1 and actions[0]["filter"] == wanted
    assert actions[0]["template_id"] == template["template_id"]
    status, after, _ = call(
        "GET", f"{api}/admin/coupon-templates/{template['template_id']}", token=hq
    )
    assert status == 200 and after["issued_count"] == marketable, after
    fits(site)
    site.shot("issued")

    # add a tag, the first answer lost: the retry sends the same request_id, the API
    # answers the same action, and every member is tagged (revoked consent included)
    lost = {"n": 0}

    def lose_first_answer(route: Any) -> None:
        if route.request.method == "POST" and lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # it reaches the API...
            route.abort()  # ...but the answer never reaches the page
        else:
            route.continue_()

    page.route("**/admin/segments/actions", lose_first_answer)
    actions.clear()
    tag = f"已发券{secrets.token_hex(2)}"
    page.get_by_label("操作", exact=True).select_option("add_tag")
    page.get_by_label("标签", exact=True).last.fill(tag)
    page.get_by_role("button", name="执行…").click()
    expect(confirm).to_contain_text(f"给 {tagged} 位会员打上标签“{tag}”")
    confirm.get_by_role("button", name="确认执行").click()
    expect(confirm.locator(".msg.error")).to_be_visible()
    confirm.get_by_role("button", name="确认执行").click()
    expect(progress).to_have_attribute("data-state", "succeeded", timeout=60000)
    expect(progress).to_contain_text(f"完成 {tagged} / {tagged}，失败 0，未授权营销排除 0")
    page.unroute("**/admin/segments/actions")
    assert len(actions) == 2 and actions[0]["request_id"] == actions[1]["request_id"]
    assert actions[0]["tag"] == tag
    # the snapshot does not know the new tag before it is rebuilt: read the members' tags
    for m in seeded["members"][:tagged]:
        status, got, _ = call("GET", f"{api}/admin/members/{m['customer_id']}/tags", token=hq)
        assert status == 200 and tag in {x["tag"] for x in got["manual"]}, got

    # delete it: gone from the list
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name=f"删除 {name}").click()
    expect(page.get_by_role("button", name=f"打开 {name}")).to_have_count(0)
    assert site.errors == []


def test_store_managers_get_neither_page(site: Site):
    api = site.stack.api_url
    site.sign_in("sh-jingan-manager")
    labels = site.nav_labels()
    assert "客户洞察" not in labels and "客户分群" not in labels
    site.open("/segments")  # not theirs: back to the dashboard
    expect(site.page.get_by_role("heading", name="今日概览")).to_be_visible()
    manager = _login(api, "sh-jingan-manager")
    status, _, _ = call("GET", f"{api}/admin/customers/overview", token=manager)
    assert status == 403
    status, _, _ = call("POST", f"{api}/admin/segments/count", {"filter": {}}, token=manager)
    assert status == 403


def test_a_late_count_answer_is_dropped_and_the_export_masks_phones(site: Site, seeded):
    api = site.stack.api_url
    hq = _login(api, "hq-admin")
    wanted = {"tags_any": [TAG]}
    status, expected, _ = call("POST", f"{api}/admin/segments/count", {"filter": wanted}, token=hq)
    assert status == 200 and expected["members"] == seeded["tagged"], expected
    page = site.page
    page.set_viewport_size(PORTRAIT)
    site.sign_in("hq-admin")
    site.go("/segments")
    counts = page.get_by_test_id("segment-count-facts")
    members = counts.locator('[data-count="members"] dd')
    form = page.get_by_test_id("segment-filter")
    form.get_by_label("标签", exact=True).fill(TAG)
    expect(members).to_have_text(str(expected["members"]))

    # the answer to an older filter (+ 重要价值) arrives after the newer one's: dropped
    held: list[Any] = []

    def hold_first(route: Any) -> None:
        if not held:
            held.append(route)  # answered below, after the next filter's answer
        else:
            route.continue_()

    page.route("**/admin/segments/count", hold_first)
    form.get_by_label("重要价值").check()
    page.wait_for_function("() => document.querySelector('[data-testid=segment-count][aria-busy]')")
    while not held:  # the debounced request reaches the route
        page.wait_for_timeout(20)
    form.get_by_label("重要价值").uncheck()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=segment-count][aria-busy]')"
    )
    expect(members).to_have_text(str(expected["members"]))
    old = json.loads(held[0].request.post_data)["filter"]
    assert old == {**wanted, "rfm_groups": ["important_value"]}
    status, stale, _ = call("POST", f"{api}/admin/segments/count", {"filter": old}, token=hq)
    assert stale["members"] != expected["members"]  # else the test could not tell
    held[0].continue_()
    expect(page.get_by_test_id("segment-count")).to_have_attribute("data-dropped", "1")
    expect(members).to_have_text(str(expected["members"]))
    page.unroute("**/admin/segments/count")

    # the export: masked, revoked consent left out and counted
    control = page.get_by_test_id("export-segment")
    control.get_by_role("button", name="导出 CSV").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    expect(control.get_by_test_id("export-excluded")).to_contain_text("未包含 1 位")
    rows = download_rows(page, link)
    assert len(rows) == expected["marketable"]
    phones = {m["customer_id"]: m["phone"] for m in seeded["members"]}
    for r in rows:
        assert r["手机号"] != phones[r["会员编号"]] and "*" in r["手机号"]

    # unmasked: only with the box, a campaign, and then only members who granted consent
    page.get_by_label("用于已授权的营销活动，导出完整手机号").check()
    expect(page.get_by_test_id("export-segment").locator("..")).to_contain_text(
        "仅包含已授权营销的会员"
    )
    page.get_by_label("活动名称").fill("双十二回访")
    control.get_by_role("button", name="导出 CSV").click()
    expect(control.get_by_test_id("export-excluded")).to_contain_text(
        f"未包含 {seeded['tagged'] - seeded['granted']} 位", timeout=30_000
    )
    rows = download_rows(page, control.get_by_test_id("export-download"))
    granted = {m["customer_id"] for m in seeded["members"][: seeded["granted"]]}
    assert {r["会员编号"] for r in rows} == granted
    assert all(r["手机号"] == phones[r["会员编号"]] for r in rows)
    fits(site)
    assert site.errors == []


def download_rows(page: Any, link: Any) -> list[dict[str, str]]:
    with page.expect_download() as downloaded:
        link.click()
    data = Path(downloaded.value.path()).read_bytes().decode("utf-8-sig")
    head, *rows = list(csv.reader(io.StringIO(data, newline="")))
    return [dict(zip(head, r, strict=True)) for r in rows]


def test_before_the_first_snapshot_both_pages_say_so(site: Site):
    """A new installation has no snapshot until the first night (or a refresh): the API
    answers 404 no_snapshot, and the pages say what to do instead of breaking."""
    page = site.page
    page.set_viewport_size(PORTRAIT)
    none = {"error": {"code": "no_snapshot", "message": "No segments snapshot yet."}}
    for path in ("**/admin/customers/overview", "**/admin/segments/count"):
        page.route(path, lambda route: route.fulfill(status=404, json=none))
    site.sign_in("hq-admin")
    site.go("/customers")
    expect(page.get_by_role("alert")).to_contain_text("尚无分群快照")
    expect(page.get_by_role("button", name="立即刷新")).to_be_visible()
    site.go("/segments")
    expect(page.get_by_role("alert")).to_contain_text("尚无分群快照")
    expect(page.get_by_role("link", name="去客户洞察生成快照")).to_be_visible()
    fits(site)
