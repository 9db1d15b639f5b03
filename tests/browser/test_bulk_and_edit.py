"""Head office's bulk price change with one failing row (the row's error shown in the
site's language, the other rows applied), an edited coupon template (saved, then a
stale second edit refused with a message the user can act on) and a store's bulk
dispatch with one order that could not go, at desktop and tablet portrait width."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local import demo_data
from infra.local.stack import LocalStack
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect
from tests.browser.test_staff_screens import placed_and_paid
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login
from tests.publishing import publish_http

STORE = "sh-wujiaochang"
WIDTHS = {1440: 0, 768: 1}  # each width changes its own items


@pytest.fixture(params=list(WIDTHS), ids=lambda w: f"{w}px")
def width(request: pytest.FixtureRequest, site: Site) -> int:
    site.page.set_viewport_size({"width": request.param, "height": 900})
    return int(request.param)


def store_item(api: str, sku: str) -> dict[str, Any]:
    status, item, _ = call("GET", f"{api}/stores/{STORE}/products/{sku}")
    assert status == 200, item
    return item


def test_bulk_price_change_with_one_failing_row(site: Site, width: int):
    api = site.stack.api_url
    skus = sorted(i["sku"] for i in demo_data.store_items() if i["store_id"] == STORE)
    first, stale, third = skus[10 + 3 * WIDTHS[width] : 13 + 3 * WIDTHS[width]]
    site.sign_in("hq-admin")
    site.go(f"/catalogue?store={STORE}")
    page = site.page
    rows = page.locator("main tbody tr")
    for sku in (first, stale, third):
        rows.filter(has=page.get_by_text(sku, exact=True)).get_by_role(
            "checkbox", name=re.compile("^选择")
        ).check()
    panel = page.get_by_test_id("bulk-panel")
    expect(panel.get_by_test_id("bulk-count")).to_have_text("已选 3 项")

    # Someone else changes one of the prices after the page showed it.
    hq = _login(api, "hq-admin")
    changed = store_item(api, stale)["price_fen"] + 11
    status, body, _ = call(
        "PATCH", f"{api}/admin/stores/{STORE}/items/{stale}", {"price_fen": changed}, token=hq
    )
    assert status == 200, body

    panel.get_by_label("操作").select_option("price")
    panel.get_by_label(re.compile("^新值")).fill("6.60")
    site.shot("bulk-form")
    panel.get_by_role("button", name="应用到所选").click()
    result = page.get_by_test_id("bulk-result")
    expect(result).to_contain_text("已完成")
    expect(result).to_contain_text("已应用 2")
    expect(result).to_contain_text("冲突 1")
    failed = result.locator("tbody tr")
    expect(failed).to_have_count(1)
    expect(failed.first).to_contain_text(stale)
    expect(failed.first).to_contain_text(f"已被其他人修改（现为 ¥{changed / 100:.2f}）")
    site.shot("bulk-result")

    # The others were applied, and their rows show it; the stale one kept the new price.
    assert store_item(api, first)["price_fen"] == 660
    assert store_item(api, third)["price_fen"] == 660
    assert store_item(api, stale)["price_fen"] == changed
    first_row = rows.filter(has=page.get_by_text(first, exact=True))
    expect(first_row.get_by_label(re.compile("价格"))).to_have_value("6.60")


def test_head_office_edits_a_coupon_template(site: Site, width: int):
    api = site.stack.api_url
    hq = _login(api, "hq-admin")
    name = f"满80减8 {secrets.token_hex(2)}"
    now = datetime.now(UTC)
    status, made, _ = call(
        "POST",
        f"{api}/admin/coupon-templates",
        {
            "name": name,
            "kind": "amount_off",
            "threshold_fen": 8000,
            "amount_off_fen": 800,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "total_quantity": 100,
            "scope": {"categories": ["水果"]},
        },
        token=hq,
    )
    assert status == 201, made
    made = publish_http(call, api, f"/admin/coupon-templates/{made['template_id']}", made)
    tid = made["template_id"]
    new_name = f"{name} 加量"

    site.sign_in("hq-admin")
    site.go("/coupons")
    page = site.page
    page.get_by_role("button", name=f"编辑 {name}").click()
    form = page.get_by_test_id("coupon-edit")
    expect(form).to_contain_text("尚未发出")
    form.get_by_label("名称", exact=True).fill(new_name)
    form.get_by_label("发放总量").fill("200")
    form.get_by_label("适用品类").fill("水果 乳品烘焙")
    site.shot("coupon-edit-form")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("coupon-editor")).to_contain_text(f"已保存优惠券：{new_name}")
    row = page.get_by_test_id("coupon-templates").locator("tr", has_text=new_name)
    expect(row).to_contain_text("/ 200")
    status, saved, _ = call("GET", f"{api}/admin/coupon-templates/{tid}", token=hq)
    assert (saved["name"], saved["total_quantity"], saved["version"]) == (new_name, 200, 1)
    assert saved["scope"]["categories"] == ["乳品烘焙", "水果"]

    # A second editor's form was opened before someone else saved: refused, in Chinese.
    page.get_by_role("button", name=f"编辑 {new_name}").click()
    form = page.get_by_test_id("coupon-edit")
    status, _, _ = call(
        "PATCH", f"{api}/admin/coupon-templates/{tid}", {"budget_fen": 50000}, token=hq
    )
    assert status == 200
    form.get_by_label("发放总量").fill("300")
    form.get_by_role("button", name="保存").click()
    expect(form.get_by_role("alert")).to_contain_text("优惠券刚被其他人修改，请刷新后重试。")
    site.shot("coupon-edit-conflict")
    status, latest, _ = call("GET", f"{api}/admin/coupon-templates/{tid}", token=hq)
    assert (latest["total_quantity"], latest["budget_fen"]) == (200, 50000)


def checked_out_delivery(stack: LocalStack, staff: str) -> str:
    """A delivery order at sh-xuhui, paid, picked and checked out through the API."""
    api = stack.api_url
    order = placed_and_paid(stack, "delivery")
    oid = order["order_id"]
    lines = [{"sku": line["sku"], "picked_qty": line["qty"]} for line in order["lines"]]
    status, body, _ = call("POST", f"{api}/admin/orders/{oid}/pick", {"lines": lines}, token=staff)
    assert status == 200, body
    status, body, _ = call(
        "POST", f"{api}/admin/stores/sh-xuhui/checkout", {"order_code": oid}, token=staff
    )
    assert status == 200 and body["status"] == "checked_out", body
    return oid


def test_a_store_dispatches_orders_in_bulk_and_sees_the_one_that_could_not_go(
    site: Site, width: int
):
    api = site.stack.api_url
    staff = _login(api, "sh-xuhui-staff")
    go, moved = checked_out_delivery(site.stack, staff), checked_out_delivery(site.stack, staff)
    site.sign_in("sh-xuhui-manager")
    site.go("/orders?status=checked_out")
    page = site.page
    for oid in (go, moved):
        page.get_by_role("checkbox", name=f"选择订单 {oid}").check()
    panel = page.get_by_test_id("dispatch-panel")
    expect(panel.get_by_test_id("dispatch-count")).to_have_text("已选 2 项")
    # Meanwhile a colleague hands one of them over and it is delivered.
    for step in ("dispatch", "deliver"):
        status, body, _ = call("POST", f"{api}/admin/orders/{moved}/{step}", token=staff)
        assert status == 200, body
    panel.get_by_label("骑手").fill("李师傅")
    panel.get_by_role("button", name="派送所选订单").click()
    result = page.get_by_test_id("dispatch-result")
    expect(result).to_contain_text("已派送 1 · 之前已派送 0 · 失败 1")
    failed = result.locator("tbody tr")
    expect(failed).to_have_count(1)
    expect(failed.first).to_contain_text(moved)
    expect(failed.first).to_contain_text("订单当前的状态不允许这样操作")
    site.shot("bulk-dispatch")
    hq = _login(api, "hq-admin")
    status, order, _ = call("GET", f"{api}/orders/{go}", token=hq)
    assert order["status"] == "out_for_delivery"
    assert order["history"][-1]["reason"] == "courier: 李师傅"
