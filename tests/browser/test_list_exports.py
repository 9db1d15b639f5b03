"""Every list has Export (issue 13 item 2), in a real browser at desktop and tablet
width: the audit log filtered by one target through the server's background export, the
stores list and a report chart's figures as files built in the page. Each file is opened
and checked: the BOM, the translated header, the rows the page showed."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect, skus_in_stock
from tests.browser.test_reports_charts import history  # noqa: F401 - a fixture, used below
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login

WIDTHS = [1440, 768]


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def opened(download: Any) -> tuple[bytes, list[list[str]]]:
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_audit_log_filtered_by_target_is_exported_with_the_edit(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    api = site.stack.api_url
    sku = skus_in_stock("sh-jingan", 1)[0]
    token = _login(api, "hq-admin")
    _, item, _ = call("GET", f"{api}/stores/sh-jingan/products/{sku}")
    before, after = item["price_fen"], item["price_fen"] + 10
    status, body, _ = call(
        "PATCH", f"{api}/admin/stores/sh-jingan/items/{sku}", {"price_fen": after}, token=token
    )
    assert status == 200, body

    site.sign_in("hq-admin")
    site.go(f"/audit?target_type=store_item&target_id=sh-jingan/{sku}")
    expect(page.locator("main tbody tr").first).to_contain_text("store_item.update")
    control = page.locator('[data-testid="export-audit"]')
    control.get_by_role("button", name="导出").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    site.shot("audit-export-ready")
    with page.expect_download() as downloaded:
        link.click()
    assert downloaded.value.suggested_filename.startswith("audit_all_")
    _, rows = opened(downloaded.value)
    head = rows[0]
    assert head[0] == "时间（Asia/Shanghai）"
    assert head[1:] == [
        "操作人", "角色", "操作人门店", "操作", "对象类型", "对象", "所属门店",
        "字段", "修改前", "修改后", "记录编号",
    ]  # fmt: skip
    entries = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    # only the filtered target's history, newest first: this edit on top
    assert entries and {e["对象"] for e in entries} == {f"sh-jingan/{sku}"}
    price = entries[0]
    assert price["字段"] == "price_fen"
    assert (price["操作人"], price["操作"]) == ("hq-admin", "store_item.update")
    assert (price["修改前"], price["修改后"]) == (yuan(before), yuan(after))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_stores_list_is_exported_from_the_page(site: Site, width: int):
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/stores")
    button = page.locator('[data-table-export="stores"]')
    expect(button).to_be_visible()
    with page.expect_download() as downloaded:
        button.click()
    assert downloaded.value.suggested_filename.startswith("stores_")
    _, rows = opened(downloaded.value)
    head = rows[0]
    assert head[:3] == ["门店编号", "门店名称", "地址"]
    by_id = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    # the page's rows: every demo store (other tests may have added more)
    shown = page.locator("main tbody tr").count()
    assert len(rows) - 1 == shown
    for store in demo_data.stores():
        row = by_id[store["store_id"]]
        assert row["门店名称"] == store["name"]
        assert row["起送金额"] == yuan(store["minimum_order_fen"])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.usefixtures("history")
def test_a_report_charts_figures_are_exported_as_a_table(site: Site, width: int):
    """The sales chart's figures: one row per day with the paid amount in yuan, and the
    previous period's day and amount beside it, as the reports API gives them."""
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/?days=30")
    chart = page.locator("figure.chart-card", has=page.locator('[data-chart="sales"]'))
    button = chart.locator('[data-table-export="chart-sales"]')
    expect(button).to_be_visible()
    with page.expect_download() as downloaded:
        button.click()
    _, rows = opened(downloaded.value)
    head = rows[0]
    assert head == ["日期", "实付金额（元）", "上期日期", "上期实付金额（元）"]
    days = rows[1:]
    assert len(days) == 30
    token = _login(site.stack.api_url, "hq-admin")
    query = f"from={days[0][0]}&to={days[-1][0]}&compare=previous"
    status, report, _ = call(
        "GET", f"{site.stack.api_url}/admin/reports/sales?{query}", token=token
    )
    assert status == 200, report
    assert days == [
        [d["date"], yuan(d["paid_fen"]), p["date"], yuan(p["paid_fen"])]
        for d, p in zip(report["days"], report["previous"]["days"], strict=True)
    ]
    assert any(r[1] != "0.00" for r in days)  # the seeded history: real figures


def test_the_page_writes_csv_as_the_server_does(site: Site):
    """The browser's writer (export.js csvText) and the server's (exports/csv_writer.py)
    give the same bytes for hostile text, quotes, line breaks, numbers and money."""
    from chalicelib.exports.csv_writer import CsvEncoder, Yuan

    header = ["名称", "=公式", "金额"]
    texts = ['苹果, "红富士"', "two\nlines", "=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx"]
    site.open("/signin")
    got = site.page.evaluate(
        """async ([header, texts]) => {
        const { csvText, yuanCell } = await import(new URL("app/export.js", location.href));
        const rows = texts.map((x) => [x, "ok=1", yuanCell(-500)]);
        rows.push([null, -5, yuanCell(7970)], [true, 0, yuanCell(5)]);
        return csvText(header, rows);
    }""",
        [header, texts],
    )
    rows: list[list[Any]] = [[x, "ok=1", Yuan(-500)] for x in texts]
    rows += [[None, -5, Yuan(7970)], [True, 0, Yuan(5)]]
    encoder = CsvEncoder()
    assert got.encode("utf-8") == encoder.header(header) + encoder.rows(rows)
