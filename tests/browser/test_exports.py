"""Export to CSV from the admin site (issue 13, item 2): a store manager filters the
orders list, exports it, follows the progress, downloads the file and opens it: a BOM,
the Chinese header, the order's row with its Chinese product name and amounts in yuan.
At desktop and at a 768 px tablet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import STORE, expect, paid_order, skus_in_stock


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


@pytest.mark.parametrize("width", [1440, 768])
def test_a_filtered_export_is_followed_downloaded_and_opened(site: Site, width: int) -> None:
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    sku = skus_in_stock(STORE, 1)[0]
    order = paid_order(site.stack, [(sku, 2)])
    product = next(p for p in demo_data.products() if p["sku"] == sku)
    site.sign_in(f"{STORE}-manager")
    site.go(f"/orders?store={STORE}&status=paid")
    expect(page.get_by_role("link", name=order["order_id"])).to_be_visible()

    control = page.locator('[data-testid="export-orders"]')
    control.get_by_role("button", name="导出").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    expect(control.get_by_role("status")).to_contain_text("导出完成")
    site.shot("export-ready")
    # the button and the link stay inside the viewport at this width
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + min(box["width"], 50) <= width

    with page.expect_download() as downloaded:
        link.click()
    path = downloaded.value.path()
    assert downloaded.value.suggested_filename.startswith(f"orders_{STORE}_")
    data = Path(path).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    head = rows[0]
    assert head[0] == "订单号" and "下单时间（Asia/Shanghai）" in head
    mine = [r for r in rows[1:] if r[0] == order["order_id"]]
    assert len(mine) == 1
    row = dict(zip(head, mine[0], strict=True))
    line = order["lines"][0]
    assert row["商品名称"] == product["name"]
    assert row["数量"] == "2"
    assert row["单价（元）"] == yuan(line["unit_price_fen"])
    assert row["行实付（元）"] == yuan(line["paid_fen"])
    # the list's filter went with it: paid orders only
    assert {dict(zip(head, r, strict=True))["状态"] for r in rows[1:]} == {"paid"}


def test_head_office_exports_daily_sales_from_the_dashboard_in_english(site: Site) -> None:
    """The dashboard's export takes a date range; the file's header follows the site's
    language, and the store's row carries its Chinese name and its sales in yuan."""
    page = site.page
    page.set_viewport_size({"width": 768, "height": 900})
    sku = skus_in_stock(STORE, 1)[0]
    paid_order(site.stack, [(sku, 1)])
    site.sign_in("hq-admin")
    page.get_by_role("button", name="English").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    control = page.locator('[data-testid="export-daily_sales"]')
    expect(control.get_by_label("From")).to_be_visible()
    control.get_by_role("button", name="Export").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as downloaded:
        link.click()
    data = Path(downloaded.value.path()).read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["Business day", "Store ID", "Store"]
    assert "Sales (CNY)" in rows[0]
    today = [r for r in rows[1:] if r[1] == STORE and int(r[3]) > 0]
    assert today, rows[-5:]
    row = dict(zip(rows[0], today[-1], strict=True))
    assert row["Store"] == next(st["name"] for st in demo_data.stores() if st["store_id"] == STORE)
    whole, _, cents = row["Sales (CNY)"].partition(".")
    assert whole.isdigit() and len(cents) == 2
