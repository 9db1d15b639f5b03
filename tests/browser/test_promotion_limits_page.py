"""Promotion limits in a real browser at a 768x1024 tablet (issue 18 item 3): head office
creates a tiered promotion with the "限制" fieldset (per customer per day, per store per
day, new customers only, one per device or payment account), sees its limits in the list,
and opens the suspected-abuse report from the marketing group, where a payment account two
new customers paid with is listed as 支付账号."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from tests.browser.conftest import Site
from tests.browser.test_admin_site import STORE, expect, skus_in_stock, wait_until
from tests.browser.test_recall_page import PORTRAIT, fits
from tests.e2e.test_local_stack import call
from tests.e2e.test_print_e2e import _login


def test_head_office_sets_limits_on_a_promotion_and_opens_the_abuse_report(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2)
    site.sign_in("hq-admin")
    site.go("/promotions")
    expect(page.locator("main h1")).to_have_text("促销活动")
    limits = page.get_by_test_id("promotion-limits")
    expect(limits).to_be_visible()  # the form opens on a tiered promotion
    expect(page.get_by_test_id("limit-per_order_units")).to_be_hidden()  # half price only

    page.get_by_label("名称", exact=True).first.fill(f"新人满减 {tag}")
    page.get_by_test_id("limit-per_customer_per_day").fill("1")
    page.get_by_test_id("limit-per_store_per_day").fill("200")
    page.get_by_test_id("limit-new_customers_only").fill("30")
    # every combination is offered; the payment account among them
    options = page.get_by_test_id("limit-one_per").locator("option")
    expect(options).to_have_count(8)
    expect(options.filter(has_text="设备 / 地址 / 支付账号")).to_have_count(1)
    page.get_by_test_id("limit-one_per").select_option(label="设备 / 支付账号")
    page.get_by_role("button", name="新建活动").click()
    row = page.locator("tr", has_text=f"新人满减 {tag}")
    expect(row).to_contain_text("每人每天 1 次")
    expect(row).to_contain_text("每店每天 200 单")
    expect(row).to_contain_text("新客（30 天内）")
    expect(row).to_contain_text("同一设备 / 支付账号算一人")
    fits(site)
    site.shot("limits")

    orders = _two_accounts_pay_with_one_openid(site, tag)

    page.locator('#nav .nav-group[data-group="marketing"]').click()
    link = page.locator("#nav a", has_text=re.compile("^新人优惠风控$"))
    expect(link).to_be_visible()
    link.click()
    expect(page.locator("main h1")).to_have_text("新人优惠疑似薅羊毛")
    report = page.get_by_test_id("abuse-report")
    for order_id in orders:
        paid_with = report.locator("tr", has_text=order_id)
        expect(paid_with).to_contain_text("支付账号")
    expect(report).not_to_contain_text(f"openid-{tag}")  # only its hash is kept
    fits(site)
    site.shot("abuse")


def _two_accounts_pay_with_one_openid(site: Site, tag: str) -> list[str]:
    """Through the API: a published first-order offer on one SKU at STORE, two new
    customers who each take it and pay with the same WeChat openid (the local provider's
    ``payer``); the offer is ended afterwards, so it touches no other test's order."""
    api = site.stack.api_url
    hq, second = _login(api, "hq-admin"), _login(api, "hq-ops")
    (sku,) = skus_in_stock(STORE, 1)
    now = datetime.now(UTC)
    status, promo, _ = call(
        "POST",
        f"{api}/admin/promotions",
        {
            "kind": "tiered",
            "name": f"首单立减 {tag}",
            "tiers": [{"threshold_fen": 2, "off_fen": 1}],
            "scope": {"skus": [sku]},
            "stores": [STORE],
            "starts_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "limits": {"first_order_only": True},
        },
        token=hq,
    )
    assert status == 201, promo
    path = f"{api}/admin/promotions/{promo['promotion_id']}"
    for who in (hq, second):
        if promo["status"] in ("draft", "pending"):
            status, promo, _ = call("POST", f"{path}/approve", {}, token=who)
            assert status == 200, promo
    orders = []
    try:
        for k in range(2):
            phone = f"139{secrets.randbelow(10**8):08d}"
            status, sent, _ = call("POST", f"{api}/auth/otp", {"phone": phone})
            assert status in (200, 201), sent
            status, session, _ = call(
                "POST", f"{api}/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]}
            )
            assert status == 200, session
            body = {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": sku, "qty": 1}]}
            token = session["token"]

            ours = f"tiered:{promo['promotion_id']}"

            def offered(body=body, token=token, ours=ours):
                quote = call("POST", f"{api}/orders/quote", body, token=token)[1]
                return any(d["code"] == ours for d in quote["discounts"])

            # the API's promotions cache picks the new offer up within seconds
            wait_until("the first-order offer in the quote", offered)
            key = {"Idempotency-Key": f"browser-{tag}-{k}-{secrets.token_hex(4)}"}
            status, order, _ = call("POST", f"{api}/orders", body, token=token, headers=key)
            assert status == 201, order
            status, paid, _ = call(
                "POST",
                f"{api}/local/payments/{order['order_id']}/complete?payer=openid-{tag}-0001",
                {},
                token=token,
            )
            assert status == 200, paid
            orders.append(order)
    finally:
        call("PATCH", path, {"status": "ended"}, token=hq)
    ours = f"tiered:{promo['promotion_id']}"
    assert all(any(d["code"] == ours for d in o["discounts"]) for o in orders), orders
    return [o["order_id"] for o in orders]


def test_head_office_sets_redemption_limits_on_a_coupon_template(site: Site):
    """The coupon form's "用券限制" fieldset (per customer per day / week, per store per
    day): sent with the template, shown in the list, and editable while none is issued."""
    page = site.page
    page.set_viewport_size(PORTRAIT)
    name = f"满30减5 限用 {secrets.token_hex(2)}"
    site.sign_in("hq-admin")
    site.go("/coupons")
    form = page.locator("form", has=page.get_by_role("heading", name="新建优惠券"))
    limits = form.get_by_test_id("template-limits")
    expect(limits).to_be_visible()
    expect(limits.locator("legend")).to_have_text("用券限制")
    form.get_by_label("名称", exact=True).fill(name)
    form.get_by_label("使用门槛").fill("30")
    form.get_by_label("减免金额").fill("5")
    limits.get_by_label("每人每天").fill("1")
    limits.get_by_label("每店每天").fill("200")
    fits(site)
    form.get_by_role("button", name="新建优惠券").click()
    row = page.get_by_test_id("coupon-templates").locator("tr", has_text=name)
    expect(row).to_contain_text("每人每天 1 次")
    expect(row).to_contain_text("每店每天 200 单")
    site.shot("template-limits")

    # published, nothing issued yet: the edit form offers the limits, with what is set
    site.publish(name, "/coupons")
    row.get_by_role("button", name=re.compile("^编辑")).click()
    edit = page.get_by_test_id("coupon-edit")
    expect(edit.get_by_test_id("template-limit-per_customer_per_day")).to_have_value("1")
    edit.get_by_test_id("template-limit-per_customer_per_week").fill("3")
    edit.get_by_role("button", name="保存").click()
    expect(row).to_contain_text("每人每周 3 次")
    fits(site)
