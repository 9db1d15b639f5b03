"""Staff screens a cashier can trust (issue 11, item 7): every page usable at desktop and
counter-tablet widths, the order's amounts beside their own labels, errors in the site's
language, an orders list that refreshes itself and rings for a new paid order, honest
print messages, one store status, chart labels to the fen, a store-id pattern Chromium
accepts, date inputs in store time, and the order's refunds (reason, amount, units,
status) on its screen."""

from __future__ import annotations

import re
import secrets
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra.local import demo_data
from infra.local.stack import LocalStack
from tests.browser.conftest import WIDTHS, Site
from tests.browser.test_admin_site import STORE, expect, paid_order, skus_in_stock, wait_until
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _customer, _login

DELIVERY_ADDRESS = {  # within sh-xuhui's delivery radius
    "name": "陈先生",
    "phone": "13700001234",
    "line": "漕溪北路100号 3号楼 502室",
    "lat": 31.1960,
    "lng": 121.4380,
}
STORE_PAGES = ["/", "/orders", "/print", "/stores", "/catalogue"]
ROLES = {
    "hq-admin": [*STORE_PAGES, "/staff", "/coupons", "/wallet", "/promotions", "/stores/new"],
    "sh-jingan-manager": [*STORE_PAGES, "/staff", "/stores/sh-jingan"],
    f"{STORE}-staff": STORE_PAGES,
}


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


@pytest.fixture
def wide_or_tablet(site: Site, request: pytest.FixtureRequest) -> Iterator[Site]:
    site.page.set_viewport_size({"width": request.param, "height": 900})
    yield site


def layout_problems(site: Site) -> list[str]:
    """What on the page is not usable at this width: the page scrolling sideways, a nav
    entry outside the viewport or broken over lines, a table wider than its container
    (columns hidden to the side), a control outside the viewport."""
    return site.page.evaluate(
        """() => {
        const problems = [];
        const width = window.innerWidth;
        if (document.documentElement.scrollWidth > width)
            problems.push(`page ${document.documentElement.scrollWidth} px wide in ${width}`);
        for (const a of document.querySelectorAll("#nav a")) {
            const r = a.getBoundingClientRect();
            if (!r.width && !r.height) continue;  // another nav group's page: hidden
            const line = parseFloat(getComputedStyle(a).lineHeight) || 24;
            if (r.left < 0 || r.right > width || r.top < 0 || r.bottom > window.innerHeight)
                problems.push(`nav ${a.textContent} outside the viewport`);
            if (r.height > 44 + line) problems.push(`nav ${a.textContent} broken over lines`);
        }
        for (const wrap of document.querySelectorAll("main .table-wrap")) {
            const table = wrap.querySelector("table");
            if (table.scrollWidth > wrap.clientWidth + 1)
                problems.push(`table ${table.caption.textContent}: ${table.scrollWidth} px`);
        }
        const controls = document.querySelectorAll("main :is(button, input, select, a)");
        for (const el of controls) {
            const r = el.getBoundingClientRect();
            if (r.width && (r.left < 0 || r.right > width + 0.5))
                problems.push(`${el.tagName} ${el.textContent || el.name} off screen`);
        }
        return problems;
    }"""
    )


# --- layout ------------------------------------------------------------------------------


@pytest.mark.parametrize("wide_or_tablet", WIDTHS, indirect=True)
def test_every_page_is_usable_at_desktop_and_tablet_widths(wide_or_tablet: Site):
    site = wide_or_tablet
    width = site.page.viewport_size["width"]
    for username, paths in ROLES.items():
        site.sign_in(username)
        assert site.nav_labels(), username
        for path in paths:
            site.go(path)
            expect(site.page.locator("main h1").first).to_be_visible()
            assert layout_problems(site) == [], (width, username, path)
        site.shot(f"{username}-{width}")
        site.page.get_by_role("button", name="退出登录").click()
        site.page.get_by_role("button", name="登录").wait_for()


@pytest.mark.parametrize("width", [820, 768])
def test_the_coupon_table_reads_as_cards_on_a_tablet(site: Site, width: int):
    site.page.set_viewport_size({"width": width, "height": 900})
    site.sign_in("hq-admin")
    site.go("/coupons")
    templates = site.page.get_by_test_id("coupon-templates")
    expect(templates.locator(".table-wrap.stacked")).to_have_count(1)
    first = templates.locator("tbody tr").first
    # Every cell is on screen under its column's name, the actions too.
    action = first.get_by_role("button", name=re.compile("^(暂停|恢复)$"))
    box = action.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    label = first.locator("td").last.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"操作"'
    site.shot(f"coupons-{width}")


# --- the order's amounts -----------------------------------------------------------------


def delivery_order_with_a_refund(stack: LocalStack) -> dict[str, Any]:
    """A delivery order at STORE (a delivery fee), paid, picked one unit short (a refund):
    every amount of the summary differs from the one beside it in the old grid."""
    api = stack.api_url
    customer = _customer(api)
    skus = skus_in_stock(STORE, 3)
    status, order, _ = call(
        "POST",
        f"{api}/orders",
        {
            "store_id": STORE,
            "fulfilment": "delivery",
            "address": DELIVERY_ADDRESS,
            "items": [{"sku": sku, "qty": 2} for sku in skus],
        },
        token=customer,
        headers={"Idempotency-Key": f"browser-{secrets.token_hex(6)}"},
    )
    assert status == 201, order
    oid = order["order_id"]
    status, body, _ = call("POST", f"{api}/local/payments/{oid}/complete", {}, token=customer)
    assert status == 200, body
    staff = _login(api, f"{STORE}-staff")
    status, body, _ = call("POST", f"{api}/admin/orders/{oid}/start-picking", {}, token=staff)
    assert status == 200, body
    lines = [{"sku": line["sku"], "picked_qty": line["qty"]} for line in order["lines"]]
    lines[0]["picked_qty"] -= 1
    status, picked, _ = call(
        "POST", f"{api}/admin/orders/{oid}/pick", {"lines": lines}, token=staff
    )
    assert status == 200, picked
    assert picked["refunded_fen"] > 0
    # The daily number comes when the ticket is sent (the stack's worker, asynchronously).
    deadline = time.monotonic() + 30
    while picked["daily_seq"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
        status, picked, _ = call("GET", f"{api}/orders/{oid}", token=staff)
        assert status == 200, picked
    assert picked["daily_seq"] is not None
    return picked


@pytest.mark.parametrize("wide_or_tablet", WIDTHS, indirect=True)
def test_each_amount_sits_beside_its_own_label(wide_or_tablet: Site):
    site = wide_or_tablet
    order = delivery_order_with_a_refund(site.stack)
    expected = {
        "商品金额": yuan(order["subtotal_fen"]),
        "优惠": yuan(order["discount_fen"]),
        "配送费": yuan(order["delivery_fee_fen"]),
        "应付": yuan(order["total_fen"]),
        "实付": yuan(order["paid_fen"]),
        "已退款": yuan(order["refunded_fen"]),
        "今日单号": f"#{order['daily_seq']}",
        "配送方式": "配送到家",
    }
    site.sign_in(f"{STORE}-staff")
    site.go(f"/orders/{order['order_id']}")
    # What a reader sees: for each label, the value on its line (vertically overlapping,
    # to its right, the nearest one), whatever the DOM says.
    seen = site.page.evaluate(
        """() => {
        const dts = [...document.querySelectorAll("main dt")];
        const dds = [...document.querySelectorAll("main dd")];
        const box = (el) => el.getBoundingClientRect();
        const out = {};
        for (const dt of dts) {
            const a = box(dt);
            const mid = (a.top + a.bottom) / 2;
            const onLine = dds
                .map((dd) => [dd, box(dd)])
                .filter(([, b]) => b.top <= mid && mid <= b.bottom && b.left >= a.right - 1)
                .sort((x, y) => x[1].left - y[1].left);
            out[dt.textContent.trim()] = onLine.length ? onLine[0][0].textContent.trim() : null;
        }
        return out;
    }"""
    )
    assert {k: seen.get(k) for k in expected} == expected, seen
    if order["delivery_fee_fen"]:
        assert expected["配送费"] != expected["应付"]
    assert layout_problems(site) == []
    site.shot("order-amounts")


# --- errors in the site's language -------------------------------------------------------


def test_a_wrong_password_is_told_in_chinese_with_the_code_for_support(site: Site):
    site.open("/signin")
    site.page.get_by_label("账号").fill("hq-admin")
    site.page.get_by_label("密码").fill("not-the-password")
    site.page.get_by_role("button", name="登录").click()
    alert = site.page.get_by_role("alert")
    expect(alert).to_contain_text("操作未成功")
    expect(alert).to_contain_text("账号或密码不正确")
    expect(alert.get_by_test_id("error-code")).to_have_text("错误代码：bad_credentials")
    assert "Wrong" not in alert.inner_text()


def test_an_invalid_stock_is_told_in_chinese_with_the_field_name(site: Site):
    sku = skus_in_stock("sh-jingan", 1)[0]
    site.sign_in("sh-jingan-manager")
    site.go(f"/catalogue?q={sku}")
    row = site.page.locator("main tbody tr").first
    row.get_by_label(re.compile("库存")).fill("-3")
    row.get_by_role("button", name="保存").click()
    alert = site.page.get_by_role("alert")
    expect(alert).to_contain_text("有内容填写不正确")
    expect(alert).to_contain_text("库存: 须为不小于 0 的整数")
    expect(alert.get_by_test_id("error-code")).to_contain_text("validation_failed")
    assert "Expected" not in alert.inner_text()
    site.shot("stock-error")


def test_errors_follow_the_language_switch(site: Site):
    site.open("/signin")
    site.page.get_by_label("账号").wait_for()  # booted: the saved choice is written
    site.page.evaluate("localStorage.setItem('daojia.lang', 'en')")
    site.page.reload()
    site.page.get_by_label("Account").fill("hq-admin")
    site.page.get_by_label("Password").fill("not-the-password")
    site.page.get_by_role("button", name="Sign in").click()
    alert = site.page.get_by_role("alert")
    expect(alert).to_contain_text("Wrong account or password.")
    expect(alert.get_by_test_id("error-code")).to_have_text("Error code: bad_credentials")
    site.page.evaluate("localStorage.setItem('daojia.lang', 'zh-CN')")


# --- the orders list refreshes itself ----------------------------------------------------


def test_a_new_paid_order_appears_without_reload_and_rings(site: Site):
    site.sign_in(f"{STORE}-staff")
    site.go("/orders")
    page = site.page
    expect(page).to_have_title("订单 · 鲜到家 后台")
    chimes = page.evaluate("Number(document.body.dataset.chimes || 0)")
    order = paid_order(site.stack, [(skus_in_stock(STORE, 1)[0], 1)])
    link = page.get_by_role("link", name=order["order_id"])
    expect(link).to_be_visible(timeout=30_000)  # no reload: the list refreshed itself
    expect(page).to_have_title("(1) 订单 · 鲜到家 后台")
    row = page.locator("main tbody tr", has=link)
    expect(row).to_contain_text("新订单")
    assert page.evaluate("Number(document.body.dataset.chimes || 0)") == chimes + 1
    site.shot("new-order")
    # Someone at the counter touches the page: the news is taken.
    page.locator("main h1").click()
    expect(page).to_have_title("订单 · 鲜到家 后台")
    expect(row).not_to_contain_text("新订单")


# --- printing, said honestly -------------------------------------------------------------


def test_a_reprint_at_a_store_whose_relay_is_down_says_nothing_will_print(site: Site):
    order = paid_order(site.stack, [(skus_in_stock(STORE, 1)[0], 1)])
    hq = _login(site.stack.api_url, "hq-admin")

    def store_health() -> dict[str, Any]:
        _, body, _ = call(
            "GET", f"{site.stack.api_url}/admin/print-health?store_id={STORE}", token=hq
        )
        return body["stores"][0]

    site.sign_in(f"{STORE}-staff")
    wait_until("the relay is healthy", lambda: store_health()["healthy"], timeout=60)
    site.go(f"/orders/{order['order_id']}")
    site.page.get_by_role("button", name="补打小票").click()
    expect(site.page.get_by_role("status")).to_contain_text("门店打印机将打印")

    site.stack.stop_relay(STORE, signal.SIGKILL)
    try:
        wait_until("the relay is seen down", lambda: "relay_stale" in store_health()["problems"])
        site.page.get_by_role("button", name="补打小票").click()
        status = site.page.get_by_role("status")
        expect(status).to_contain_text("中继恢复在线之前什么都不会打印")
        expect(status).to_contain_text("中继失联")
        expect(status).not_to_contain_text("将打印")
        site.shot("reprint-relay-down")
    finally:
        site.stack.start_relay(STORE)


# --- small things a cashier would misread ------------------------------------------------


def test_each_store_shows_one_status(site: Site):
    hq = _login(site.stack.api_url, "hq-admin")
    _, stores, _ = call("GET", f"{site.stack.api_url}/admin/stores", token=hq)
    site.sign_in("hq-admin")
    site.go("/stores")
    for store in stores["items"]:
        row = site.page.locator("main tbody tr", has_text=store["store_id"])
        badges = row.locator(".badge")
        expect(badges).to_have_count(1)
        want = "营业中" if store["open_now"] else "休息中" if store["active"] else "已停用"
        expect(badges).to_contain_text(want)


def test_chart_labels_show_every_fen(site: Site):
    # Today's sales must end in fen for the check to mean something: earlier tests' orders
    # add up to any amount, so pay for items priced with fen until it does.
    priced = {i["sku"]: i["price_fen"] for i in demo_data.store_items() if i["store_id"] == STORE}
    sku = next(s for s in skus_in_stock(STORE, 50) if priced[s] % 100)
    hq = _login(site.stack.api_url, "hq-admin")
    for _ in range(3):
        paid_order(site.stack, [(sku, 1)])
        _, board, _ = call(
            "GET", f"{site.stack.api_url}/admin/dashboard?store_id={STORE}&days=7", token=hq
        )
        wanted = [yuan(p["gmv_fen"]).removesuffix(".00") for p in board["trend"]]
        if any("." in w for w in wanted):
            break
    assert any("." in w for w in wanted), board  # a figure with fen is on the chart
    # Store staff see the 7-day trend (head office and managers get the sales report).
    site.sign_in(f"{STORE}-staff")
    trend = site.page.locator("[data-chart=trend] svg")
    expect(trend).to_be_visible()
    texts = trend.locator("text").all_text_contents()
    assert [w for w in wanted if w not in texts] == [], texts


def test_the_english_print_health_table_names_each_column_once(site: Site):
    site.sign_in("hq-admin")
    site.page.get_by_role("button", name="English").click()
    expect(site.page.locator("#nav")).to_contain_text("Orders")
    site.go("/print")
    headers = site.page.get_by_test_id("health").locator("th").all_text_contents()
    assert len(headers) == len(set(headers)), headers
    site.page.get_by_role("button", name="中文").click()


def test_the_store_id_pattern_is_valid_in_chromium(site: Site):
    """Chromium compiles ``pattern`` with the ``v`` flag, where an unescaped "-" in a class
    is an error (logged to the console, which the fixture fails on)."""
    site.sign_in("hq-admin")
    site.go("/stores/new")
    store_id = site.page.get_by_label("门店编号")
    store_id.fill("sh-new-store")
    assert store_id.evaluate("el => el.checkValidity()") is True
    store_id.fill("SH_NEW")
    assert store_id.evaluate("el => el.checkValidity()") is False


def test_date_inputs_are_read_in_store_time_whatever_the_browsers_zone(
    browser: Any, stack: LocalStack
):
    """A head-office laptop set to New York time: the coupon's window typed as 10:00 is
    10:00 in Shanghai (02:00 UTC), and the table shows 10:00."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="America/New_York"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    site = Site(page, stack, "date-inputs-new-york")
    try:
        name = f"时区 {secrets.token_hex(2)}"
        site.sign_in("hq-admin")
        site.go("/coupons")
        form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
        form.get_by_label("名称", exact=True).fill(name)
        form.get_by_label("使用门槛").fill("50")
        form.get_by_label("有效期").select_option("window")
        form.get_by_label("生效时间").fill("2027-03-01T10:00")
        form.get_by_label("失效时间").fill("2027-03-02T10:00")
        expect(form).to_contain_text("按门店时间（Asia/Shanghai）")
        form.get_by_role("button", name="新建优惠券").click()
        row = page.get_by_test_id("coupon-templates").locator("tr", has_text=name)
        expect(row).to_contain_text("2027/03/01 10:00:00 – 2027/03/02 10:00:00")
        hq = _login(stack.api_url, "hq-admin")
        _, templates, _ = call("GET", f"{stack.api_url}/admin/coupon-templates", token=hq)
        made = next(t for t in templates["items"] if t["name"] == name)
        assert made["starts_at"] == "2027-03-01T02:00:00Z"
        assert made["ends_at"] == "2027-03-02T02:00:00Z"
    finally:
        context.close()
    assert not site.errors, site.errors


def test_demo_accounts_used_here_exist():
    names = {a["username"] for a in demo_data.staff()}
    assert set(ROLES) <= names


# --- fewer taps per order ------------------------------------------------------------------


def placed_and_paid(
    stack: LocalStack, fulfilment: str, skus: list[str] | None = None
) -> dict[str, Any]:
    """An order at STORE, placed and paid through the API, not yet picked."""
    api = stack.api_url
    customer = _customer(api)
    body: dict[str, Any] = {
        "store_id": STORE,
        "fulfilment": fulfilment,
        "items": [{"sku": sku, "qty": 3} for sku in skus or skus_in_stock(STORE, 3)],
    }
    if fulfilment == "delivery":
        body["address"] = DELIVERY_ADDRESS
    status, order, _ = call(
        "POST",
        f"{api}/orders",
        body,
        token=customer,
        headers={"Idempotency-Key": f"browser-{secrets.token_hex(6)}"},
    )
    assert status == 201, order
    status, paid, _ = call(
        "POST", f"{api}/local/payments/{order['order_id']}/complete", {}, token=customer
    )
    assert status == 200, paid
    return order


def history_of(stack: LocalStack, order_id: str) -> list[tuple[str, str]]:
    hq = _login(stack.api_url, "hq-admin")
    status, order, _ = call("GET", f"{stack.api_url}/orders/{order_id}", token=hq)
    assert status == 200, order
    return [(h["action"], h["to_state"]) for h in order["history"]]


@pytest.mark.parametrize("wide_or_tablet", (1440, 820), indirect=True)
def test_a_delivery_order_is_picked_from_its_ticket_and_handed_over_at_checkout(
    wide_or_tablet: Site,
):
    site = wide_or_tablet
    width = site.page.viewport_size["width"]
    order = placed_and_paid(site.stack, "delivery")
    oid = order["order_id"]
    site.sign_in(f"{STORE}-staff")
    site.go(f"/orders/{oid}")
    page = site.page
    # Paid: the pick form is there at once; claiming the order on screen stays possible.
    expect(page.get_by_role("button", name="开始拣货")).to_be_visible()
    expect(page.get_by_role("heading", name="记录拣货结果")).to_be_visible()
    expect(page.locator("main")).to_contain_text("可以直接按打印的拣货单拣货")
    assert layout_problems(site) == [], width
    page.get_by_role("button", name="拣货完成").click()
    expect(page.get_by_role("status")).to_contain_text("拣货完成，没有缺货")
    # Picked: checkout alone (the courier comes later) or checkout and hand-over at once.
    expect(page.get_by_role("button", name="收银出库", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="收银并交骑手")).to_be_visible()
    assert layout_problems(site) == [], width
    site.shot(f"checkout-buttons-{width}")
    page.get_by_role("button", name="收银并交骑手").click()
    expect(page.get_by_test_id("order-summary")).to_contain_text("配送中")
    expect(page.get_by_role("button", name="标记送达")).to_be_visible()
    timeline = page.locator(".timeline")
    for label in ("开始拣货", "拣货完成", "收银出库", "交给骑手"):
        expect(timeline).to_contain_text(label)
    assert history_of(site.stack, oid)[-4:] == [
        ("start_picking", "picking"),
        ("finish_picking", "picked"),
        ("checkout", "checked_out"),
        ("dispatch", "out_for_delivery"),
    ]


@pytest.mark.parametrize("wide_or_tablet", (1440, 820), indirect=True)
def test_a_pickup_order_is_checked_out_ready_for_pickup_in_one_tap(wide_or_tablet: Site):
    site = wide_or_tablet
    width = site.page.viewport_size["width"]
    order = placed_and_paid(site.stack, "pickup")
    oid = order["order_id"]
    site.sign_in(f"{STORE}-staff")
    site.page.get_by_role("button", name="English").click()  # this tab only (own context)
    site.go(f"/orders/{oid}")
    page = site.page
    page.get_by_role("button", name="Finish picking").click()
    button = page.get_by_role("button", name="Check out, ready for pickup")
    expect(button).to_be_visible()
    # A pickup order is never handed to a courier: no such button.
    expect(page.get_by_role("button", name="Check out and hand to courier")).to_have_count(0)
    assert layout_problems(site) == [], width
    button.click()
    expect(page.get_by_test_id("order-summary")).to_contain_text("Ready for pickup")
    expect(page.get_by_label("Customer's pickup code")).to_be_visible()
    assert history_of(site.stack, oid)[-2:] == [
        ("checkout", "checked_out"),
        ("ready_for_pickup", "ready_for_pickup"),
    ]


# --- the order's refunds -----------------------------------------------------------------


def store_time(iso: str) -> str:
    """A UTC time as the site shows it at STORE (Asia/Shanghai): "2026/11/24 10:30:00"."""
    utc = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return utc.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y/%m/%d %H:%M:%S")


def order_for_refunds(stack: LocalStack) -> dict[str, Any]:
    """A paid delivery order of SKUs the other tests leave alone, topped up first: the
    stack is shared by the session, and shortages use stock up."""
    skus = skus_in_stock(STORE, 9, rotate=False)[-3:]
    hq = _login(stack.api_url, "hq-admin")
    for sku in skus:
        status, body, _ = call(
            "PATCH", f"{stack.api_url}/admin/stores/{STORE}/items/{sku}", {"stock": 50}, token=hq
        )
        assert status == 200, body
    return placed_and_paid(stack, "delivery", skus)


def refund_rows(site: Site) -> Any:
    return site.page.get_by_test_id("order-refunds").locator("tbody tr")


def refunds_of(stack: LocalStack, order_id: str) -> list[dict[str, Any]]:
    hq = _login(stack.api_url, "hq-admin")
    status, order, _ = call("GET", f"{stack.api_url}/orders/{order_id}", token=hq)
    assert status == 200, order
    return order["refunds"]


@pytest.mark.parametrize("wide_or_tablet", (1440, 820), indirect=True)
def test_a_shortage_pick_shows_its_refund_on_the_order_screen(wide_or_tablet: Site):
    """A clerk asked "did my money come back?" reads it on the order: the page re-reads
    the order after the pick, and the shortage's refund is there with its reason, amount,
    units and status."""
    site = wide_or_tablet
    width = site.page.viewport_size["width"]
    order = order_for_refunds(site.stack)
    oid = order["order_id"]
    site.sign_in(f"{STORE}-staff")
    site.go(f"/orders/{oid}")
    page = site.page
    section = page.get_by_test_id("order-refunds")
    expect(section).to_contain_text("这个订单没有退款")
    line = order["lines"][0]
    page.get_by_label(f"{line['name']} 实拣数量").fill(str(line["qty"] - 1))
    page.get_by_role("button", name="拣货完成").click()
    expect(page.get_by_role("status")).to_contain_text("缺货部分已退款")

    [refund] = refunds_of(site.stack, oid)
    assert refund["reason"] == "shortage" and refund["delivery_fee_fen"] == 0
    rows = refund_rows(site)
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("缺货")
    expect(row).to_contain_text(yuan(refund["amount_fen"]))
    expect(row).to_contain_text(f"{line['sku']} {line['name']} × 1")
    expect(row).not_to_contain_text("含配送费")
    status_label = {"succeeded": "已退回", "pending": "退款中"}[refund["status"]]
    expect(row.locator(".badge")).to_have_text(status_label)
    expect(section).not_to_contain_text("这个订单没有退款")
    # The time in the store's zone (China time), formatted as the timeline's.
    expect(row.locator("td").first).to_have_text(store_time(refund["created_at"]))
    assert layout_problems(site) == [], width
    site.shot(f"shortage-refund-{width}")


@pytest.mark.parametrize("wide_or_tablet", (820, 768), indirect=True)
def test_a_cancelled_paid_order_shows_its_whole_refund_at_tablet_widths(wide_or_tablet: Site):
    """Cancelling a paid delivery order refunds it whole, the delivery fee included: the
    row says how much of it is the fee, and the page fits a counter tablet."""
    site = wide_or_tablet
    width = site.page.viewport_size["width"]
    order = order_for_refunds(site.stack)
    oid = order["order_id"]
    site.sign_in(f"{STORE}-staff")
    site.go(f"/orders/{oid}")
    page = site.page
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取消订单").click()
    expect(page.get_by_test_id("order-summary")).to_contain_text("已取消")

    [refund] = refunds_of(site.stack, oid)
    assert refund["reason"] == "cancel" and refund["delivery_fee_fen"] > 0
    row = refund_rows(site).first
    expect(refund_rows(site)).to_have_count(1)
    expect(row).to_contain_text("订单取消")
    expect(row).to_contain_text(yuan(refund["amount_fen"]))
    expect(row).to_contain_text(f"含配送费 {yuan(refund['delivery_fee_fen'])}")
    for line in order["lines"]:
        expect(row).to_contain_text(f"{line['sku']} {line['name']} × {line['qty']}")
    expect(row.locator(".badge")).to_have_text(
        {"succeeded": "已退回", "pending": "退款中"}[refund["status"]]
    )
    assert layout_problems(site) == [], width
    site.shot(f"cancel-refund-{width}")


def test_a_failed_refund_stands_out_for_head_office(site: Site):
    """The local provider does not fail refunds; the order as the API would report a
    failed one (status failed, the rest as it is) is given to the page instead."""
    oid = order_for_refunds(site.stack)["order_id"]
    staff = _login(site.stack.api_url, f"{STORE}-staff")
    status, body, _ = call(
        "POST", f"{site.stack.api_url}/orders/{oid}/cancel", {"reason": "测试"}, token=staff
    )
    assert status == 200, body
    site.page.set_viewport_size({"width": 768, "height": 900})

    def failed(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        for refund in body["refunds"]:
            refund["status"] = "failed"
        route.fulfill(response=response, json=body)

    site.page.route(re.compile(rf"/orders/{oid}$"), failed)
    site.sign_in("hq-admin")
    site.go(f"/orders/{oid}")
    section = site.page.get_by_test_id("order-refunds")
    expect(section).to_contain_text("有退款失败")
    row = refund_rows(site).first
    expect(row.locator(".badge.bad")).to_have_text("退款失败")
    background = row.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), background
    assert layout_problems(site) == []
    site.shot("failed-refund")
