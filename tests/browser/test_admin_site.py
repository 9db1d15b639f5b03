"""The admin site in a real browser against the local stack: what head office and a store
see, creating a store, an ERP import with a bad row, picking with a shortage, a missed
print appearing and clearing, the language switch, and head office's coupons (create with a
budget, bulk issue, wallet, expiry reminders) and flash sales."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.local import demo_data
from infra.local.stack import LocalStack
from tests.browser.conftest import Site
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _customer, _login

ROOT = Path(__file__).resolve().parents[2]
STORE = "sh-xuhui"  # open around the clock: orders can be placed at any hour


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def wait_until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


_handed_out: dict[str, int] = {}


def skus_in_stock(store: str, n: int, rotate: bool = True) -> list[str]:
    """``n`` SKUs the store had at least 20 of when seeded; each call hands out the next
    ones (round robin), so the orders of a whole browser session do not all drain the
    same few items of the one local stack they share. ``rotate=False``: the first ``n``
    (for a test that needs known items, e.g. cheap enough to pay a delivery fee)."""
    active = {p["sku"] for p in demo_data.products() if p.get("active", True)}
    skus = [
        i["sku"]
        for i in demo_data.store_items()
        if i["store_id"] == store and i["on_sale"] and i["stock"] >= 20 and i["sku"] in active
    ]
    if not rotate:
        return skus[:n]
    start = _handed_out.get(store, 0)
    _handed_out[store] = start + n
    return [skus[(start + k) % len(skus)] for k in range(n)]


def paid_order(stack: LocalStack, lines: list[tuple[str, int]]) -> dict[str, Any]:
    """A pickup order at STORE, placed and paid by a demo customer through the API."""
    api = stack.api_url
    customer = _customer(api)
    status, order, _ = call(
        "POST",
        f"{api}/orders",
        {
            "store_id": STORE,
            "fulfilment": "pickup",
            "items": [{"sku": sku, "qty": qty} for sku, qty in lines],
        },
        token=customer,
        headers={"Idempotency-Key": f"browser-{secrets.token_hex(6)}"},
    )
    assert status == 201, order
    status, paid, _ = call(
        "POST", f"{api}/local/payments/{order['order_id']}/complete", {}, token=customer
    )
    assert status == 200, paid
    return order


# --- roles -------------------------------------------------------------------------------


def test_head_office_sees_every_store_and_a_manager_only_their_own(site: Site):
    site.sign_in("hq-admin")
    assert site.nav_groups() == ["运营", "门店", "商品", "营销", "客户", "会员权益", "系统"]
    assert site.nav_labels() == [
        *("概览", "订单", "退货待办", "打印监控", "周期购配送"),
        *("门店", "门店分级", "员工账号", "商品与库存"),
        *("活动日历", "活动运营", "促销活动", "优惠券", "专区", "拼团", "免单抽奖", "周期购"),
        *("新人优惠风控", "供应商结算"),
        *("会员", "会员券包", "客户洞察", "客户分群", "标签规则", "召回名单", "员工分销"),
        *("积分", "会员计划", "付费会员卡", "积分商城", "储值"),
        "审计日志",
    ]
    site.go("/stores")
    rows = site.page.locator("main tbody tr")
    assert rows.count() >= len(demo_data.stores())
    expect(site.page.get_by_role("button", name="新建门店")).to_be_visible()
    site.go("/catalogue")
    expect(site.page.get_by_role("heading", name="ERP 导入")).to_be_visible()
    site.shot("hq-catalogue")

    site.page.get_by_role("button", name="退出登录").click()
    site.sign_in("sh-jingan-manager")
    assert site.nav_labels() == [
        *("概览", "订单", "退货待办", "打印监控", "周期购配送"),
        *("门店", "门店分级", "员工账号", "商品与库存"),
        *("活动日历", "活动运营", "专区", "周期购"),
        *("会员", "召回名单", "员工分销", "审计日志"),
    ]
    site.go("/stores")
    expect(site.page.locator("main tbody tr")).to_have_count(1)
    expect(site.page.locator("main tbody")).to_contain_text("静安寺店")
    expect(site.page.get_by_role("button", name="新建门店")).to_have_count(0)
    site.go("/catalogue")
    expect(site.page.get_by_role("heading", name="ERP 导入")).to_have_count(0)
    expect(site.page.get_by_label("门店", exact=True)).to_be_disabled()
    site.go("/staff")
    expect(site.page.locator("main tbody")).to_contain_text("sh-jingan-staff")
    expect(site.page.get_by_role("button", name="新建账号")).to_have_count(0)
    site.shot("manager-staff")
    # The site hides other stores, and the API refuses them anyway.
    status = site.page.evaluate(
        """async (api) => {
            const token = JSON.parse(localStorage.getItem("daojia.session")).token;
            const r = await fetch(api + "/admin/stores/sh-xuhui/orders",
                                  {headers: {Authorization: "Bearer " + token}});
            return r.status;
        }""",
        site.stack.api_url,
    )
    assert status == 403

    site.page.get_by_role("button", name="退出登录").click()
    site.sign_in("sh-jingan-staff")
    assert site.nav_labels() == ["概览", "订单", "打印监控", "周期购配送", "门店", "商品与库存"]
    assert site.nav_groups() == ["运营", "门店", "商品"]
    site.open("/staff")  # not for staff: back to the dashboard
    expect(site.page.get_by_role("heading", name="今日概览")).to_be_visible()


# --- stores ------------------------------------------------------------------------------


def test_head_office_creates_a_store(site: Site):
    store_id = f"sh-test-{secrets.token_hex(3)}"
    site.sign_in("hq-admin")
    site.go("/stores")
    site.page.get_by_role("button", name="新建门店").click()
    page = site.page
    page.get_by_label("门店编号").fill(store_id)
    page.get_by_label("门店名称").fill("鲜到家 测试店")
    page.get_by_label("地址").fill("上海市长宁区测试路1号")
    page.get_by_label("纬度").fill("31.2200")
    page.get_by_label("经度").fill("121.4200")
    page.get_by_label("配送半径（米）").fill("2800")
    page.get_by_label("起送金额").fill("19.90")
    page.get_by_label("配送费", exact=True).fill("4")
    page.get_by_role("button", name="添加打印机").click()
    page.get_by_label("打印机名称").fill("前台打印机")
    page.get_by_label("连接（IP:端口 或 USB）").fill("192.168.1.50:9100")
    site.shot("new-store-form")
    page.get_by_role("button", name="新建门店").click()

    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(page.get_by_role("heading", name="编辑门店 鲜到家 测试店")).to_be_visible()
    hq = _login(site.stack.api_url, "hq-admin")
    _, stores, _ = call("GET", f"{site.stack.api_url}/admin/stores", token=hq)
    created = next(s for s in stores["items"] if s["store_id"] == store_id)
    assert created["minimum_order_fen"] == 1990
    assert created["delivery_fee"]["base_fee_fen"] == 400
    assert created["radius_m"] == 2800
    assert created["printers"][0]["name"] == "前台打印机"
    assert len(created["hours"]) == 7

    # The same id again: the API refuses, and the site says why in its own words.
    site.go("/stores/new")
    page.get_by_label("门店编号").fill(store_id)
    page.get_by_label("门店名称").fill("重复的店")
    page.get_by_label("地址").fill("上海市")
    page.get_by_role("button", name="新建门店").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("操作未成功")
    expect(alert).to_contain_text("这个门店编号已被使用")
    expect(alert.get_by_test_id("error-code")).to_contain_text("store_exists")
    site.shot("duplicate-store")


# --- catalogue ---------------------------------------------------------------------------


def test_erp_import_reports_the_bad_row_and_applies_the_rest(site: Site, tmp_path):
    store = "sh-lujiazui"
    items = [i for i in demo_data.store_items() if i["store_id"] == store][:3]
    good, bad, good2 = items
    csv_text = (
        "store_id,sku,price_fen,stock,on_sale\n"
        f"{store},{good['sku']},{good['price_fen'] + 100},77,true\n"
        f"{store},{bad['sku']},12.5 yuan,5,true\n"
        f"{store},{good2['sku']},{good2['price_fen']},78,true\n"
    )
    upload = tmp_path / "stock.csv"
    upload.write_text(csv_text, encoding="utf-8")

    site.sign_in("hq-admin")
    site.go(f"/catalogue?store={store}")
    page = site.page
    page.get_by_label("导入内容").select_option("store_items")
    page.get_by_label("文件").set_input_files(str(upload))
    page.get_by_role("button", name="上传并导入").click()
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("拒绝 1", timeout=30_000)
    expect(summary).to_contain_text("更新 2")
    rejected = page.locator("[data-testid=import-progress] tbody tr")
    expect(rejected).to_have_count(1)
    expect(rejected.first.locator("td").first).to_have_text("3")
    expect(rejected.first).to_contain_text("price_fen")
    site.shot("import-rejected-row")

    # The good rows are in the catalogue.
    site.go(f"/catalogue?store={store}&q={good['sku']}")
    expect(page.get_by_label(re.compile(r"库存$")).first).to_have_value("77")


def test_a_store_sets_stock_and_head_office_sets_prices(site: Site):
    sku = skus_in_stock("sh-jingan", 1)[0]
    api = site.stack.api_url
    site.sign_in("sh-jingan-manager")
    site.go(f"/catalogue?q={sku}")
    page = site.page
    row = page.locator("main tbody tr").first
    expect(row.get_by_label(re.compile("价格"))).to_be_disabled()  # head office's to set
    row.get_by_label(re.compile("库存")).fill("42")
    row.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("库存 42")
    status, product, _ = call("GET", f"{api}/stores/sh-jingan/products/{sku}")
    assert status == 200 and product["stock"] == 42

    page.get_by_role("button", name="退出登录").click()
    site.sign_in("hq-admin")
    site.go(f"/catalogue?store=sh-jingan&q={sku}")
    row = page.locator("main tbody tr").first
    row.get_by_label(re.compile("价格")).fill("8.80")
    row.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("¥8.80")
    status, product, _ = call("GET", f"{api}/stores/sh-jingan/products/{sku}")
    assert status == 200 and product["price_fen"] == 880 and product["stock"] == 42


# --- orders ------------------------------------------------------------------------------


def test_picking_with_a_shortage_shows_the_partial_refund(site: Site):
    first, second = skus_in_stock(STORE, 2)
    order = paid_order(site.stack, [(first, 2), (second, 1)])
    oid = order["order_id"]

    site.sign_in(f"{STORE}-staff")
    site.go("/orders")
    expect(site.page.get_by_role("link", name=oid)).to_be_visible()
    site.page.get_by_role("link", name=oid).click()
    page = site.page
    page.get_by_role("button", name="开始拣货").click()  # claimed on screen (optional)
    # The pick form is on the paid order too: wait for the page as it is after the claim.
    expect(page.locator(".timeline")).to_contain_text("开始拣货")
    expect(page.get_by_role("heading", name="记录拣货结果")).to_be_visible()
    line = next(x for x in order["lines"] if x["sku"] == first)
    page.get_by_label(f"{line['name']} 实拣数量").fill("1")  # one of two units missing
    expected_refund = line["paid_fen"] // 2 + line["paid_fen"] % 2  # the first unit's share
    preview = f"¥{expected_refund // 100}.{expected_refund % 100:02d}"
    expect(page.get_by_test_id("refund-preview")).to_have_text(preview)
    site.shot("pick-form")
    page.get_by_role("button", name="拣货完成").click()

    expect(page.get_by_role("status")).to_contain_text(f"缺货部分已退款 {preview}")
    expect(page.get_by_test_id("refunded")).to_have_text(preview)
    hq = _login(site.stack.api_url, "hq-admin")
    _, after, _ = call("GET", f"{site.stack.api_url}/orders/{oid}", token=hq)
    assert after["status"] == "picked"
    assert after["refunded_fen"] == expected_refund
    expect(page.locator(".timeline")).to_contain_text("拣货完成")
    site.shot("picked-with-refund")

    page.get_by_role("button", name="收银并待自提").click()  # a pickup order
    expect(page.locator("main")).to_contain_text("待自提")


# --- print monitor -----------------------------------------------------------------------


def test_a_stopped_relay_shows_missed_prints_that_clear_when_it_returns(site: Site):
    sku = skus_in_stock(STORE, 1)[0]
    site.sign_in("hq-admin")
    site.stack.stop_relay(STORE, signal.SIGKILL)
    try:
        kept = paid_order(site.stack, [(sku, 1)])["order_id"]
        resolved = paid_order(site.stack, [(sku, 1)])["order_id"]
        site.go(f"/print?store={STORE}")
        page = site.page
        missed = page.get_by_test_id("missed")
        # The page refreshes on its own: no reload here.
        expect(missed.get_by_role("link", name=kept)).to_be_visible(timeout=40_000)
        expect(missed.get_by_role("link", name=resolved)).to_be_visible(timeout=20_000)
        expect(page.get_by_test_id("health")).to_contain_text("中继失联", timeout=20_000)
        site.shot("missed-prints")

        # Head office phoned the store about one of them and marks it resolved.
        page.once("dialog", lambda dialog: dialog.accept("已电话通知门店"))
        row = missed.locator("tr", has=page.get_by_role("link", name=resolved))
        row.get_by_role("button", name="标记已处理").click()
        expect(missed.get_by_role("link", name=resolved)).to_have_count(0)
        expect(missed.get_by_role("link", name=kept)).to_be_visible()
        # Resolving prints nothing, and the page does not pretend it did.
        expect(page.get_by_role("status").first).to_contain_text("小票没有打印")
    finally:
        site.stack.start_relay(STORE)
    # Back up: the relay prints the waiting tickets and the list empties by itself.
    expect(missed).to_contain_text("没有待处理的漏单", timeout=60_000)
    expect(page.get_by_test_id("health")).not_to_contain_text("失联", timeout=30_000)
    site.shot("missed-cleared")
    hq = _login(site.stack.api_url, "hq-admin")
    _, jobs, _ = call("GET", f"{site.stack.api_url}/admin/orders/{kept}/print-jobs", token=hq)
    assert [j["status"] for j in jobs["items"]] == ["printed"]


def test_a_second_relay_on_the_same_token_is_flagged_with_its_host(site: Site):
    """A cloned PC heartbeats with the store's relay token, between the real relay's own
    heartbeats: the print monitor flags the store and names the other PC (for whichever
    relay sent the latest heartbeat, the other one)."""
    store = "sh-wujiaochang"  # no other browser test looks at this store's print health
    token_file = site.stack.relay_configs[store].with_name(f"{store}.token")
    token = token_file.read_text(encoding="utf-8").strip()
    clone = {
        "relay_version": "0.1.0",
        "hostname": "cloned-pc",
        "started_at": "2026-11-24T01:00:00Z",
    }
    problem = "两台电脑共用一个中继令牌"
    named = (f"令牌被共用 {socket.gethostname()}", "令牌被共用 cloned-pc")
    site.sign_in("hq-admin")
    site.go(f"/print?store={store}")
    health = site.page.get_by_test_id("health")
    shown = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body, _ = call("POST", f"{site.stack.api_url}/relay/heartbeat", clone, token=token)
        assert status == 200, body
        shown = health.inner_text()
        if problem in shown and any(n in shown for n in named):
            break
        time.sleep(2)
    assert problem in shown and any(n in shown for n in named), shown
    site.shot("relay-shared-token")


# --- language ----------------------------------------------------------------------------


def test_switching_to_english_and_back(site: Site):
    site.sign_in("hq-admin")
    page = site.page
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.get_by_role("button", name="English").click()
    expect(page.locator("#nav")).to_contain_text("Orders")
    assert site.nav_groups() == [
        *("Operations", "Stores", "Catalogue", "Marketing", "Customers", "Loyalty", "System")
    ]
    assert site.nav_labels() == [
        *("Dashboard", "Orders", "Returns queue", "Print monitor", "Subscription deliveries"),
        *("Stores", "Store tiers", "Staff", "Catalogue & stock"),
        *("Calendar", "Campaigns", "Promotions", "Coupons", "Zones", "Group buys", "Lotteries"),
        *("Subscriptions", "Offer abuse", "Supplier settlement"),
        *("Members", "Customer wallets", "Customers", "Segments", "Tag rules", "Recall list"),
        "Distribution",
        *("Points", "Loyalty programme", "Paid membership", "Points mall", "Stored value"),
        "Audit log",
    ]
    assert page.evaluate("document.documentElement.lang") == "en"
    site.go("/print")
    expect(page.get_by_role("heading", name="Relays and printers")).to_be_visible()
    page.reload()  # the choice is remembered
    expect(page.get_by_role("heading", name="Print monitor")).to_be_visible()
    site.shot("english")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="打印监控")).to_be_visible()


def test_dashboard_counts_todays_paid_orders(site: Site):
    hq = _login(site.stack.api_url, "hq-admin")
    _, before, _ = call("GET", f"{site.stack.api_url}/admin/dashboard?store_id={STORE}", token=hq)
    paid_order(site.stack, [(skus_in_stock(STORE, 1)[0], 1)])
    site.sign_in("hq-admin")
    site.go(f"/?store={STORE}")
    orders = site.page.locator("[data-kpi=orders] .value")
    expect(orders).to_have_text(str(before["totals"]["orders"] + 1))
    expect(site.page.locator("[data-chart=sales] svg")).to_be_visible()
    site.shot("dashboard")


def test_tablet_portrait_and_keyboard(site: Site):
    site.page.set_viewport_size({"width": 768, "height": 1024})
    site.open("/signin")
    page = site.page
    page.get_by_label("账号").focus()
    page.keyboard.type("sh-xuhui-staff")
    page.keyboard.press("Tab")
    password = next(a["password"] for a in demo_data.staff() if a["username"] == "sh-xuhui-staff")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    # Nothing wider than the screen: no sideways scrolling at the counter.
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    orders_link = page.get_by_role("link", name="订单")
    orders_link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="订单")).to_be_visible()
    site.shot("tablet-portrait")


# --- coupons and promotions --------------------------------------------------------------


def run_coupon_reminders(stack: LocalStack) -> None:
    """The daily reminder job, run now with the API's environment (the worker runs it
    only every few minutes)."""
    env = dict(stack.env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), env.get("PYTHONPATH", "")])
    subprocess.run(
        [sys.executable, "-c", "from chalicelib import jobs; jobs.coupon_reminders()"],
        env=env,
        check=True,
        timeout=60,
    )


def test_head_office_creates_issues_and_finds_a_coupon_in_a_wallet(site: Site):
    name = f"满50减10 {secrets.token_hex(2)}"
    member = next(m for m in demo_data.members() if m["customer_id"] == "c-demo-05")
    batch = f"browser-{secrets.token_hex(4)}"
    site.sign_in("hq-admin")
    site.go("/coupons")
    page = site.page
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    form.get_by_label("名称", exact=True).fill(name)
    form.get_by_label("使用门槛").fill("50")
    form.get_by_label("减免金额").fill("10")
    expect(form.get_by_label("最高优惠")).to_be_hidden()  # percent-off only
    form.get_by_label("领取后有效天数").fill("2")  # lapses within 3 days: reminded
    form.get_by_label("预算").fill("500")
    form.get_by_label("售价").fill("1")
    site.shot("new-coupon-form")
    form.get_by_role("button", name="新建优惠券").click()

    expect(page.get_by_role("status").first).to_contain_text(f"已创建优惠券“{name}”")
    row = page.get_by_test_id("coupon-templates").locator("tr", has_text=name)
    expect(row).to_contain_text("满¥50.00 减¥10.00")
    expect(row).to_contain_text("领取后 2 天内有效")
    expect(row).to_contain_text("售价 ¥1.00")
    expect(row).to_contain_text("¥0.00 / ¥500.00")
    expect(row).to_contain_text("草稿")  # a draft until approved (issue 18)
    site.publish(name, "/coupons")
    budget = page.get_by_test_id("coupon-budgets").locator("tr", has_text=name)
    expect(budget).to_contain_text("¥500.00")
    expect(budget).to_contain_text("发放中")

    # Bulk issue to a demo member; the same batch again issues nothing new.
    issue = page.locator("form", has=page.get_by_role("heading", name="批量发券"))
    issue.get_by_label("优惠券", exact=True).select_option(label=name)
    issue.get_by_label("批次号").fill(batch)
    issue.get_by_label("会员编号").fill(f"{member['customer_id']} c-nobody")
    issue.get_by_role("button", name="发券").click()
    result = page.get_by_test_id("issue-result")
    expect(result).to_contain_text("已发放 1 张，之前已发 0 张，未发放 1 位")
    expect(result.locator("tr", has_text="c-nobody")).to_contain_text("没有这位会员")
    expect(row).to_contain_text("1 · 0")  # the list reloads with the new count
    site.shot("coupon-issued")
    issue.get_by_role("button", name="发券").click()
    expect(result).to_contain_text("已发放 0 张，之前已发 1 张")
    site.shot("coupon-already-issued")

    # The member's wallet, found by phone.
    site.go("/wallet")
    page.get_by_label("会员手机号").fill(member["phone"])
    page.get_by_role("button", name="查询").click()
    wallet = page.get_by_test_id("wallet")
    masked = f"{member['phone'][:3]}****{member['phone'][-4:]}"
    expect(wallet).to_contain_text(f"会员 {member['nickname']}（c-demo-05，{masked}")
    coupon = wallet.locator("tr", has_text=name)
    expect(coupon).to_contain_text("可用")
    expect(coupon).to_contain_text("总部发放")
    site.shot("wallet")

    # Two days of validity: the reminder job records an expiry reminder, listed for HQ.
    run_coupon_reminders(site.stack)
    site.go("/coupons")
    reminder = page.get_by_test_id("coupon-reminders").locator("tr", has_text=name)
    expect(reminder).to_contain_text(masked)
    expect(reminder).to_contain_text("log")
    site.shot("coupon-reminders")


def test_a_supplier_funded_coupon_needs_the_suppliers_name(site: Site):
    site.sign_in("hq-admin")
    site.go("/coupons")
    page = site.page
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    form.get_by_label("名称", exact=True).fill("免配送费 供应商")
    form.get_by_label("类型").select_option("free_delivery")
    form.get_by_label("有效期").select_option("window")
    expect(form.get_by_label("领取后有效天数")).to_be_hidden()
    form.get_by_label("出资方", exact=True).select_option("supplier")
    expect(form.get_by_label("出资方名称")).to_have_attribute("required", "")
    form.get_by_label("出资方名称").fill("佳沛奇异果")
    form.get_by_role("button", name="新建优惠券").click()
    row = page.get_by_test_id("coupon-templates").locator("tr", has_text="免配送费 供应商")
    expect(row).to_contain_text("供应商 · 佳沛奇异果")
    expect(row).to_contain_text("免配送费")


def test_head_office_runs_a_flash_sale_and_ends_it(site: Site):
    sku = skus_in_stock(STORE, 1)[0]
    name = f"秒杀 {secrets.token_hex(2)}"
    site.sign_in("hq-admin")
    site.go("/promotions")
    page = site.page
    page.get_by_label("类型").select_option("flash_sale")
    expect(page.get_by_label("满减档位")).to_be_hidden()
    page.get_by_label("名称", exact=True).fill(name)
    page.get_by_label("适用门店").fill(STORE)
    page.get_by_label("秒杀商品编码").fill(sku)
    page.get_by_label("秒杀价").fill("9.90")
    page.get_by_label("秒杀数量").fill("50")
    page.get_by_label("每人限领").fill("2")
    site.shot("new-flash-sale")
    page.get_by_role("button", name="新建活动").click()

    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{name}”")
    row = page.locator("main tbody tr", has_text=name)
    expect(row).to_contain_text(f"{sku} 秒杀价 ¥9.90，每人限 2 件")
    expect(row).to_contain_text("0 / 50")
    # its budget is what it can give away, (list − flash price) × 50: below the threshold
    expect(row).to_contain_text("草稿 0/1")
    site.publish(name, "/promotions")
    row = page.locator("main tbody tr", has_text=name)
    expect(row).to_contain_text("进行中")
    site.shot("flash-sale-listed")
    row.get_by_role("button", name="结束活动").click()
    expect(row).to_contain_text("已结束")
    expect(row.get_by_role("button", name="结束活动")).to_have_count(0)
    site.shot("flash-sale-ended")


# --- navigation --------------------------------------------------------------------------


def test_the_nav_groups_pages_under_tabs_at_tablet_width(site: Site):
    """Thirty pages do not fit a tablet's header: the nav shows the groups as tabs and
    the current group's pages below them, and a tab opens its group's first page."""
    page = site.page
    page.set_viewport_size({"width": 768, "height": 1024})
    site.sign_in("hq-admin")
    visible = page.locator("#nav .nav-pages:not([hidden]) a")
    expect(visible).to_have_text(["概览", "订单", "退货待办", "打印监控", "周期购配送"])
    expect(page.locator('#nav .nav-group[aria-current="true"]')).to_have_text("运营")
    page.locator('#nav .nav-group[data-group="members"]').click()
    expect(page.locator("main h1")).to_have_text("会员")
    expect(page.locator('#nav .nav-group[aria-current="true"]')).to_have_text("客户")
    expect(visible).to_have_text(
        ["会员", "会员券包", "客户洞察", "客户分群", "标签规则", "召回名单", "员工分销"]
    )
    page.locator("#nav .nav-pages:not([hidden]) a", has_text="客户分群").click()
    expect(page.locator("main h1")).to_have_text("客户分群")
    expect(page.locator('#nav .nav-pages:not([hidden]) a[aria-current="page"]')).to_have_text(
        "客户分群"
    )
    # a group of one page is its tab alone
    page.locator('#nav .nav-group[data-group="catalogue"]').click()
    expect(page.locator("main h1").first).to_contain_text("商品")
    expect(visible).to_have_count(0)
    # the two rows fit the header: nothing wraps off screen at tablet width
    boxes = page.locator("#nav .nav-group").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert max(boxes) <= 768
