"""Head office's orders across stores and the returns queue, with their exports (issue
13 items 1 and 2): All stores filtered by status and dates over two stores, merged newest
first, opened; the filtered list exported and the CSV checked; a return awaiting
verification in the queue and its export. A store manager has no All stores mode. At
desktop and at a 768 px tablet."""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.local import demo_data
from infra.local.stack import LocalStack
from tests.browser.conftest import Site
from tests.browser.test_admin_site import STORE, expect, paid_order, skus_in_stock
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _customer, _login

OTHER = "sh-jingan"  # open 08:00-22:00: opened around the clock while the test orders


def ok(result: tuple[int, Any, Any]) -> Any:
    status, body, _ = result
    assert 200 <= status < 300, body
    return body


def paid_order_at_other_store(stack: LocalStack, sku: str) -> dict[str, Any]:
    """A paid pickup order at OTHER, whatever the hour: head office opens the store round
    the clock for the moment of the order and then puts its hours back."""
    api = stack.api_url
    hq = _login(api, "hq-admin")
    store = next(
        s
        for s in ok(call("GET", f"{api}/admin/stores", token=hq))["items"]
        if s["store_id"] == OTHER
    )
    hours = store["hours"]
    always = [{"day": d, "open": "00:00", "close": "24:00"} for d in range(7)]
    ok(call("PATCH", f"{api}/admin/stores/{OTHER}", {"hours": always}, token=hq))
    try:
        customer = _customer(api)
        order = ok(
            call(
                "POST",
                f"{api}/orders",
                {"store_id": OTHER, "fulfilment": "pickup", "items": [{"sku": sku, "qty": 2}]},
                token=customer,
                headers={"Idempotency-Key": f"browser-{secrets.token_hex(6)}"},
            )
        )
        ok(call("POST", f"{api}/local/payments/{order['order_id']}/complete", {}, token=customer))
    finally:
        ok(call("PATCH", f"{api}/admin/stores/{OTHER}", {"hours": hours}, token=hq))
    return order


def read_csv(path: str) -> tuple[bytes, list[list[str]]]:
    data = Path(path).read_bytes()
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def shown_order_ids(page: Any) -> list[str]:
    links = page.locator('[data-testid="all-stores-list"] tbody tr a')
    return [t.strip() for t in links.all_inner_texts()]


@pytest.mark.parametrize("width", [1440, 768])
def test_head_office_lists_filters_exports_and_opens_orders_of_all_stores(
    site: Site, width: int
) -> None:
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    older = paid_order(site.stack, [(skus_in_stock(STORE, 1)[0], 2)])
    newer = paid_order_at_other_store(site.stack, skus_in_stock(OTHER, 1)[0])
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()

    site.sign_in("hq-admin")
    site.go("/orders")
    page.get_by_test_id("all-stores-mode").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    filters = page.get_by_test_id("all-stores-filters")
    expect(filters).to_be_visible()
    for store in (STORE, OTHER):
        filters.get_by_role("checkbox", name=re.compile(re.escape(f"({store})"))).check()
    filters.get_by_label("状态").select_option("paid")
    filters.get_by_label("开始日期").fill(today)
    filters.get_by_label("结束日期").fill(today)
    # the page shows today's orders of every store already: wait for the filtered answer
    # (the hash changes, then the page renders again), not for the list already there
    asked_paid = lambda r: "/admin/orders?" in r.url and "status=paid" in r.url  # noqa: E731
    with page.expect_response(asked_paid):
        filters.get_by_role("button", name="查询").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    expect(page.get_by_role("link", name=newer["order_id"])).to_be_visible()
    expect(page.get_by_role("link", name=older["order_id"])).to_be_visible()
    site.shot("all-stores")
    shown = shown_order_ids(page)
    # both stores merged, newest first
    assert shown.index(newer["order_id"]) < shown.index(older["order_id"])
    assert f"stores={STORE}%2C{OTHER}" in page.url or f"stores={OTHER}%2C{STORE}" in page.url
    # the filter controls stay inside the viewport at this width
    filters.wait_for(state="visible")  # the page may have re-rendered meanwhile
    box = filters.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width

    # the filtered list, exported: a BOM, the Chinese header, exactly the orders shown
    control = page.get_by_test_id("export-orders")
    control.get_by_role("button", name="导出").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as downloaded:
        link.click()
    assert downloaded.value.suggested_filename == f"orders_all_{today}_{today}.csv"
    data, rows = read_csv(downloaded.value.path())
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    head = rows[0]
    assert head[0] == "订单号" and "下单时间（Asia/Shanghai）" in head
    records = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    # The stack keeps working meanwhile (the demo history, auto-completion), so an order
    # shown may have left "paid" before the export ran: the file's equality with the list
    # is tested at the API (tests/api/test_exports_lists.py); here, what the user checks.
    assert {newer["order_id"], older["order_id"]} <= {r["订单号"] for r in records}
    assert {r["状态"] for r in records} == {"paid"}
    assert {r["门店"] for r in records} <= {STORE, OTHER}

    # oldest first: the same filters, the other order
    filters.get_by_label("排序").select_option("oldest")
    asked_oldest = lambda r: "/admin/orders?" in r.url and "sort=oldest" in r.url  # noqa: E731
    with page.expect_response(asked_oldest):
        filters.get_by_role("button", name="查询").click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    expect(page.get_by_role("link", name=older["order_id"])).to_be_visible()
    assert "sort=oldest" in page.url
    again = shown_order_ids(page)
    assert again.index(older["order_id"]) < again.index(newer["order_id"])

    # one of them opens as it does from a store's list
    page.get_by_role("link", name=newer["order_id"]).click()
    page.locator("main[aria-busy]").wait_for(state="detached")
    assert page.url.endswith(f"#/orders/{newer['order_id']}")
    expect(page.locator("main")).to_contain_text(newer["order_id"])


def test_a_store_manager_has_no_all_stores_mode(site: Site) -> None:
    site.sign_in(f"{STORE}-manager")
    site.go("/orders")
    expect(site.page.locator("main h1")).to_have_text("订单")
    expect(site.page.get_by_test_id("all-stores-mode")).to_have_count(0)
    site.go("/orders?all=1")  # asked for anyway: the store's own list
    expect(site.page.locator("main h1")).to_have_text("订单")
    expect(site.page.get_by_test_id("all-stores")).to_have_count(0)


def return_awaiting_verification(stack: LocalStack) -> dict[str, Any]:
    """A completed pickup order of a non-fresh product at STORE, and the customer's return
    of one unit (awaiting verification)."""
    api = stack.api_url
    fresh = {p["sku"] for p in demo_data.products() if p.get("fresh")}
    # the last non-fresh SKU in stock: fresh goods are refunded at once, not queued
    sku = [s for s in skus_in_stock(STORE, 10_000, rotate=False) if s not in fresh][-1]
    order = paid_order(stack, [(sku, 2)])
    oid = order["order_id"]
    staff = _login(api, f"{STORE}-staff")
    customer = _customer(api)
    ok(call("POST", f"{api}/admin/orders/{oid}/start-picking", {}, token=staff))
    lines = [{"sku": sku, "picked_qty": 2}]
    ok(call("POST", f"{api}/admin/orders/{oid}/pick", {"lines": lines}, token=staff))
    ok(call("POST", f"{api}/admin/stores/{STORE}/checkout", {"order_code": oid}, token=staff))
    code = ok(call("GET", f"{api}/orders/{oid}", token=customer))["pickup_code"]
    done = ok(
        call(
            "POST",
            f"{api}/admin/stores/{STORE}/pickups",
            {"pickup_code": code, "order_code": oid},
            token=staff,
        )
    )
    assert done["status"] == "completed", done
    got = ok(
        call(
            "POST",
            f"{api}/orders/{oid}/returns",
            {"lines": [{"sku": sku, "units": 1}], "reason": "包装破损"},
            token=customer,
            headers={"Idempotency-Key": f"browser-ret-{secrets.token_hex(6)}"},
        )
    )
    ret = got["items"][0]
    assert ret["status"] == "awaiting_verification", ret
    return ret


@pytest.mark.parametrize("width", [1440, 768])
def test_the_returns_queue_lists_a_return_and_exports_it(site: Site, width: int) -> None:
    page = site.page
    page.set_viewport_size({"width": width, "height": 900})
    ret = return_awaiting_verification(site.stack)
    site.sign_in("hq-admin")
    site.go(f"/returns?store_id={STORE}")
    expect(page.get_by_role("link", name=ret["order_id"])).to_be_visible()
    expect(page.locator("main")).to_contain_text("包装破损")

    control = page.get_by_test_id("export-returns")
    control.get_by_role("button", name="导出退货").click()
    link = control.get_by_test_id("export-download")
    expect(link).to_be_visible(timeout=30_000)
    site.shot("returns-exported")
    with page.expect_download() as downloaded:
        link.click()
    assert downloaded.value.suggested_filename == f"returns_{STORE}.csv"
    data, rows = read_csv(downloaded.value.path())
    assert data.startswith(b"\xef\xbb\xbf")
    head = rows[0]
    assert head[:2] == ["退货单号", "订单号"] and "申请时间（Asia/Shanghai）" in head
    mine = [dict(zip(head, r, strict=True)) for r in rows[1:] if r[0] == ret["return_id"]]
    assert len(mine) == 1
    assert mine[0]["订单号"] == ret["order_id"] and mine[0]["门店"] == STORE
    assert mine[0]["状态"] == "awaiting_verification" and mine[0]["原因"] == "包装破损"
    assert {dict(zip(head, r, strict=True))["状态"] for r in rows[1:]} == {"awaiting_verification"}
