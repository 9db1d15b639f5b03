"""The campaign calendar page (issue 16 items 1 and 6) in a real browser at tablet portrait
width (768x1024): the year in 12 month blocks with each node's grade and dates, the year
switcher, adding a node, moving one, hiding a seed and bringing it back, the
create-campaign link, a demo store's anniversary, and a store manager who only reads.
Edits use years no other test reads (the local stack is shared by the session)."""

from __future__ import annotations

import re

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect


def tablet(site: Site) -> None:
    site.page.set_viewport_size({"width": 768, "height": 1024})


def chip(site: Site, node_id: str):
    return site.page.locator(f'[data-testid="calendar-chip"][data-node="{node_id}"]')


def test_the_year_in_month_blocks_with_lunar_nodes_and_the_create_link(site: Site):
    page = site.page
    tablet(site)
    site.sign_in("hq-admin")
    site.go("/calendar?year=2026")
    expect(page.get_by_test_id("calendar-year")).to_have_text("2026")
    expect(page.get_by_test_id("calendar-month")).to_have_count(12)
    # 中秋 2026 is 25 September: its chip is in September, graded A, with its dates.
    september = page.locator('[data-testid="calendar-month"][data-month="9"]')
    mid = september.locator('[data-node="2026:mid_autumn"]')
    expect(mid).to_contain_text("中秋")
    expect(mid).to_contain_text("09-21–09-25")
    expect(mid).to_have_class(re.compile("grade-A"))
    # 年货节 runs to 除夕 (16 February 2026) and shows in January and February.
    expect(chip(site, "2026:new_year_goods")).to_have_count(2)
    # The demo store 静安寺店 opened on 2016-09-28: its 10th anniversary.
    expect(chip(site, "2026:anniversary:sh-jingan")).to_contain_text("10周年店庆")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("year-2026")

    mid.click()
    node = page.get_by_test_id("calendar-node")
    expect(node.get_by_test_id("node-dates")).to_have_text("2026-09-21 – 2026-09-25")
    link = node.get_by_test_id("node-create-campaign")
    expect(link).to_have_attribute("href", "#/campaigns/new?node=2026%3Amid_autumn")
    site.shot("node-open")

    page.get_by_test_id("year-next").click()
    expect(page.get_by_test_id("calendar-year")).to_have_text("2027")
    expect(chip(site, "2027:mid_autumn")).to_contain_text("09-11–09-15")  # 中秋 2027-09-15
    page.get_by_role("button", name="English").click()
    expect(chip(site, "2027:mid_autumn")).to_contain_text("Mid-Autumn Festival")
    expect(page.get_by_role("heading", name="Campaign calendar")).to_be_visible()


def test_head_office_adds_moves_hides_and_brings_back_nodes(site: Site):
    page = site.page
    tablet(site)
    site.sign_in("hq-admin")
    site.go("/calendar?year=2031")

    # Add a new-product week in April.
    add = page.get_by_test_id("node-add")
    add.locator("summary").click()
    add.get_by_label("名称（中文）").fill("新品尝鲜周")
    add.get_by_label("类型").select_option("new_product")
    add.get_by_label("开始日期").fill("2031-04-14")
    add.get_by_label("结束日期").fill("2031-04-20")
    add.get_by_role("button", name="新增").click()
    expect(page.get_by_test_id("calendar-notice")).to_contain_text("节点已新增")
    april = page.locator('[data-testid="calendar-month"][data-month="4"]')
    added = april.get_by_role("button", name=re.compile("新品尝鲜周"))
    expect(added).to_contain_text("04-14–04-20")
    expect(added).to_have_class(re.compile("grade-C"))

    # A bad window is refused with the field named.
    add = page.get_by_test_id("node-add")
    add.locator("summary").click()
    add.get_by_label("名称（中文）").fill("错")
    add.get_by_label("开始日期").fill("2031-05-10")
    add.get_by_label("结束日期").fill("2031-05-01")
    add.get_by_role("button", name="新增").click()
    expect(add.get_by_role("alert")).to_contain_text("结束日期")

    # Move 618 to start on 25 May and make it grade A.
    chip(site, "2031:618").first.click()
    node = page.get_by_test_id("calendar-node")
    node.locator("summary").click()
    edit = node.get_by_test_id("node-edit")
    edit.get_by_label("开始日期").fill("2031-05-25")
    edit.get_by_label("等级").select_option("A")
    edit.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("calendar-notice")).to_contain_text("节点已保存")
    may = page.locator('[data-testid="calendar-month"][data-month="5"]')
    moved = may.locator('[data-node="2031:618"]')
    expect(moved).to_contain_text("05-25–06-18")
    expect(moved).to_have_class(re.compile("grade-A"))
    site.shot("moved")

    # Hide 情人节, then bring it back from the hidden list.
    chip(site, "2031:valentines_day").click()
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("calendar-node").get_by_test_id("node-remove").click()
    expect(page.get_by_test_id("calendar-notice")).to_contain_text("节点已隐藏")
    expect(chip(site, "2031:valentines_day")).to_have_count(0)
    hidden = page.get_by_test_id("calendar-hidden")
    expect(hidden).to_contain_text("情人节")
    hidden.get_by_role("button", name="恢复").click()
    expect(page.get_by_test_id("calendar-notice")).to_contain_text("节点已恢复")
    expect(chip(site, "2031:valentines_day")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768


def test_a_store_manager_reads_the_calendar(site: Site):
    page = site.page
    tablet(site)
    site.sign_in("sh-jingan-manager")
    site.go("/calendar?year=2026")
    expect(chip(site, "2026:double_11")).to_contain_text("双11")
    chip(site, "2026:double_11").click()
    node = page.get_by_test_id("calendar-node")
    expect(node.get_by_test_id("node-dates")).to_have_text("2026-11-01 – 2026-11-11")
    expect(node.get_by_test_id("node-remove")).to_have_count(0)
    expect(page.get_by_test_id("node-add")).to_have_count(0)


def test_the_opening_day_on_the_store_form_makes_the_anniversary(site: Site):
    page = site.page
    tablet(site)
    site.sign_in("hq-admin")
    site.go("/stores/sh-wujiaochang")  # the demo store without an opening day
    page.get_by_label("开业日期").fill("2020-07-18")
    page.locator("main form").get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").first).to_contain_text("已保存")
    site.go("/calendar?year=2032")
    july = page.locator('[data-testid="calendar-month"][data-month="7"]')
    expect(july.locator('[data-node="2032:anniversary:sh-wujiaochang"]')).to_contain_text(
        "12周年店庆"
    )
