"""The zones page (issue 17 item 4) in a real browser at a 768x1024 tablet: head office
finds the demo's add-on zone and 9.9 zone, creates an add-on zone by searching products,
previews what it suggests for a sample gap, renames it, and creates a 9.9 zone."""

from __future__ import annotations

import re
import secrets

from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_recall_page import PORTRAIT, fits

WATER = "农夫山泉 饮用天然水 550ml"  # 2.00 at sh-jingan (the chain list price)
BISCUIT = "太平 梳打饼干 海苔味 100g"  # 4.50
PEAR = "河北 皇冠梨 约1.5kg"


def add(site: Site, query: str, name: str) -> None:
    page = site.page
    page.get_by_label("查找商品", exact=True).fill(query)
    page.get_by_role("button", name="搜索", exact=True).click()
    page.get_by_role("button", name=f"添加 {name}", exact=True).click()
    expect(page.get_by_test_id("zone-products")).to_contain_text(name)


def test_head_office_curates_zones_and_previews_suggestions(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2)
    site.sign_in("hq-admin")
    page.locator('#nav .nav-group[data-group="marketing"]').click()
    expect(page.locator("#nav a", has_text=re.compile("^专区$"))).to_be_visible()
    site.go("/zones")
    expect(page.locator("main h1")).to_have_text("专区（凑单、9.9）")
    table = page.get_by_test_id("zone-table")
    expect(table).to_contain_text("凑单专区")
    expect(table).to_contain_text("9.9元专区")
    fits(site)
    site.shot("list")

    # a new add-on zone at sh-jingan: products found by name, in the order added
    page.get_by_label("名称", exact=True).fill(f"凑单 {tag}")
    page.get_by_label("门店", exact=True).fill("sh-jingan")
    add(site, "农夫山泉", WATER)
    add(site, "梳打饼干", BISCUIT)
    page.get_by_role("button", name="创建专区").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已保存专区“凑单 {tag}”")
    expect(table).to_contain_text(f"凑单 {tag}")

    # the preview: 5.00 more is closed by the biscuits and a water (6.50) or three waters
    preview = page.locator("form[aria-labelledby=zone-preview-h]")
    preview.get_by_label("差额（元）", exact=True).fill("5.00")
    preview.get_by_role("button", name="预览").click()
    rows = page.get_by_test_id("zone-preview").locator("tbody tr")
    expect(rows.first).to_be_visible()
    expect(rows.first).to_contain_text("6.00")  # three waters: the cheapest
    expect(rows.first).to_contain_text(f"{WATER} × 3")
    fits(site)
    site.shot("preview")

    # rename it
    page.get_by_label("名称", exact=True).fill(f"凑单专区 {tag}")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"已保存专区“凑单专区 {tag}”")

    # a 9.9 zone
    page.get_by_role("link", name="再建一个专区").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    page.get_by_label("类型", exact=True).select_option("fixed_price")
    page.get_by_label("名称", exact=True).fill(f"9.9 {tag}")
    add(site, "皇冠梨", PEAR)
    page.get_by_label("价格（元）", exact=True).fill("9.90")
    page.get_by_label("每人每件限购", exact=True).fill("2")
    page.get_by_role("button", name="创建专区").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已保存专区“9.9 {tag}”")
    row = table.locator("tbody tr", has_text=f"9.9 {tag}")
    expect(row).to_contain_text("9.90")
    expect(row).to_contain_text("进行中")
    fits(site)
    site.shot("fixed-price")
