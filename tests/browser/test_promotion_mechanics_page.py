"""Issue 18's mechanics on the admin pages, in a real browser at a 768x1024 tablet: head
office creates one of each new kind on the promotions page (满件减, 每满减, 加价购, 满赠,
一口价) and a product coupon (商品券) template on the coupons page, and sees each rule
in its list."""

from __future__ import annotations

import secrets

from infra.local import demo_data
from tests.browser.conftest import Site
from tests.browser.test_admin_site import expect

PORTRAIT = {"width": 768, "height": 1024}


def demo_skus() -> list[str]:
    return sorted({i["sku"] for i in demo_data.store_items()})


def create_promotion(site: Site, kind: str, name: str, fill) -> None:
    page = site.page
    page.get_by_label("类型", exact=True).select_option(kind)
    page.get_by_label("名称", exact=True).fill(name)
    fill(page)
    page.get_by_role("button", name="新建活动").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建活动“{name}”")


def test_head_office_creates_each_new_mechanic(site: Site):
    page = site.page
    page.set_viewport_size(PORTRAIT)
    tag = secrets.token_hex(2)
    sku, gift_sku = demo_skus()[:2]
    site.sign_in("hq-admin")
    site.go("/promotions")

    def units(p):
        p.get_by_test_id("mech-basis").select_option("units")
        p.get_by_label("满减档位", exact=True).fill("3-10, 5-25")

    create_promotion(site, "tiered", f"满件减 {tag}", units)

    def every(p):
        p.get_by_test_id("mech-every").check()
        p.get_by_label("满减档位", exact=True).fill("100-10")
        p.get_by_test_id("mech-cap").fill("50")

    create_promotion(site, "tiered", f"每满减 {tag}", every)

    def add_on(p):
        expect(p.get_by_test_id("mech-basis")).to_be_hidden()
        p.get_by_test_id("mech-sku").fill(sku)
        p.get_by_test_id("mech-threshold").fill("50")
        p.get_by_test_id("mech-price").fill("1")
        p.get_by_test_id("mech-units").fill("1")

    create_promotion(site, "add_on", f"加价购 {tag}", add_on)

    def gift(p):
        expect(p.get_by_test_id("mech-price")).to_be_hidden()
        p.get_by_test_id("mech-sku").fill(gift_sku)
        p.get_by_test_id("mech-threshold").fill("88")
        p.get_by_test_id("mech-units").fill("1")

    create_promotion(site, "gift", f"满赠 {tag}", gift)

    def bundle(p):
        p.get_by_label("适用商品编码", exact=True).fill(f"{sku} {gift_sku}")
        p.get_by_test_id("mech-price").fill("10")
        p.get_by_test_id("mech-units").fill("3")

    create_promotion(site, "bundle", f"一口价 {tag}", bundle)

    rows = page.locator("main tbody tr")
    expect(rows.filter(has_text=f"满件减 {tag}")).to_contain_text("满3件减¥10.00")
    expect(rows.filter(has_text=f"每满减 {tag}")).to_contain_text("（最多减¥50.00）")
    expect(rows.filter(has_text=f"加价购 {tag}")).to_contain_text(f"加价¥1.00购{sku}")
    expect(rows.filter(has_text=f"满赠 {tag}")).to_contain_text(f"赠{gift_sku} ×1")
    expect(rows.filter(has_text=f"一口价 {tag}")).to_contain_text("任选3件¥10.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("mechanics-listed")

    site.go("/coupons")
    page.get_by_label("类型", exact=True).first.select_option("product")
    page.get_by_label("名称", exact=True).first.fill(f"商品券 {tag}")
    page.get_by_test_id("product-sku").fill(sku)
    page.get_by_test_id("product-price").fill("0")
    page.get_by_role("button", name="新建优惠券").click()
    expect(page.get_by_role("status").first).to_contain_text(f"已创建优惠券“商品券 {tag}”")
    expect(page.locator("main tbody tr", has_text=f"商品券 {tag}").first).to_contain_text(
        f"{sku} 一件 ¥0.00"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    site.shot("product-coupon-listed")
