"""Unit tests of the local stack's demo data (pure Python, no AWS)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest

from infra.local import demo_data

EXPECTED_CATEGORIES = {
    "蔬菜": {"叶菜", "根茎", "菌菇"},
    "水果": {"柑橘", "苹果梨", "热带水果", "浆果"},
    "肉禽蛋": {"猪肉", "鸡鸭", "蛋类"},
    "水产": {"鱼", "虾蟹"},
    "乳品烘焙": {"牛奶", "酸奶", "面包"},
    "粮油调味": {"米面", "食用油", "调味品"},
    "休闲零食": {"饼干", "坚果", "糖果巧克力"},
    "酒水饮料": {"饮用水", "果汁茶饮", "啤酒"},
    "日用清洁": {"纸品", "洗衣清洁", "个人护理"},
}
ZONES = {"A 生鲜区", "B 冷藏区", "C 冷冻区", "D 常温区", "E 日化区"}
UNITS = {"个", "斤", "盒", "瓶", "袋", "包", "箱", "提", "份", "kg"}
PRODUCT_KEYS = {
    "sku",
    "name",
    "category1",
    "category2",
    "unit",
    "barcode",
    "fresh",
    "zone",
    "shelf",
    "image_url",
    "active",
}


def ean13_valid(code: str) -> bool:
    """Independent EAN-13 check: weighted sum of all 13 digits is a multiple of 10."""
    if not re.fullmatch(r"\d{13}", code):
        return False
    return sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code)) % 10 == 0


def test_ean13_helper_matches_known_codes() -> None:
    assert demo_data.ean13_check_digit("690123456789") == "2"
    assert demo_data.ean13_check_digit("400638133393") == "1"
    assert ean13_valid("6901234567892")
    assert not ean13_valid("6901234567893")
    with pytest.raises(ValueError):
        demo_data.ean13_check_digit("12345")


def test_stores_in_shanghai() -> None:
    stores = demo_data.stores()
    assert len(stores) >= 3
    assert {s["address"][:3] for s in stores} == {"上海市"}
    assert len({s["store_id"] for s in stores}) == len(stores)
    for store in stores:
        assert 30.6 <= store["lat"] <= 31.9
        assert 120.8 <= store["lng"] <= 122.2
        assert re.fullmatch(r"[a-z0-9-]{1,32}", store["store_id"])
        assert store["timezone"] == "Asia/Shanghai"
        assert 2500 <= store["radius_m"] <= 5000
        assert 1500 <= store["minimum_order_fen"] <= 3000
        fee = store["delivery_fee"]
        assert fee["base_fee_fen"] > 0 and fee["free_above_fen"] > store["minimum_order_fen"]
        assert [h["day"] for h in store["hours"]] == list(range(7))
        for h in store["hours"]:
            assert re.fullmatch(r"\d\d:\d\d", h["open"]) and re.fullmatch(r"\d\d:\d\d", h["close"])
            assert h["open"] < h["close"]


def test_stores_list_the_local_stacks_printer() -> None:
    """One printer per store, named as in the relay config the local stack writes."""
    import msgspec
    from chalicelib.stores.schemas import StoreCreate

    from infra.local.stack import relay_config

    for store in demo_data.stores():
        (printer,) = msgspec.convert(store, StoreCreate).printers
        assert (printer.name, printer.paper_mm, printer.copies) == (
            "front",
            80,
            ["picking", "delivery"],
        )
        assert 'name = "front"' in relay_config(
            store["store_id"], "http://127.0.0.1:8000", Path("/tmp/token"), _printer(store)
        )


def _printer(store):  # type: ignore[no-untyped-def]
    from infra.local.stack import LocalPrinter

    return LocalPrinter(store["store_id"], 9100, Path("/tmp/p.txt"), Path("/tmp/p.jsonl"))


def test_store_hours_variety() -> None:
    stores = demo_data.stores()
    always_open = [
        s for s in stores if all((h["open"], h["close"]) == ("00:00", "24:00") for h in s["hours"])
    ]
    assert len(always_open) == 1
    late_weekend = [
        s
        for s in stores
        if s["hours"][4]["close"] > s["hours"][0]["close"]
        and s["hours"][5]["close"] > s["hours"][0]["close"]
    ]
    assert len(late_weekend) == 1


def test_products_shape_and_count() -> None:
    products = demo_data.products()
    assert len(products) >= 200
    for p in products:
        assert set(p) == PRODUCT_KEYS
        assert re.fullmatch(r"\d{6}", p["sku"])
        assert 0 < len(p["name"]) <= 60
        assert p["unit"] in UNITS
        assert p["zone"] in ZONES
        assert re.fullmatch(r"[A-E]-\d\d", p["shelf"]) and p["shelf"][0] == p["zone"][0]
        assert p["image_url"] == f"https://img.example.com/sku/{p['sku']}.jpg"
        assert "#" not in p["category1"] and "#" not in p["category2"]
    assert sum(1 for p in products if not p["active"]) == 3


def test_unique_skus_and_barcodes() -> None:
    products = demo_data.products()
    assert len({p["sku"] for p in products}) == len(products)
    assert len({p["barcode"] for p in products}) == len(products)
    assert len({p["name"] for p in products}) == len(products)


def test_barcodes_are_valid_chinese_ean13() -> None:
    for p in demo_data.products():
        assert p["barcode"].startswith("69"), p
        assert ean13_valid(p["barcode"]), p


def test_every_category_pair_is_known_and_used() -> None:
    products = demo_data.products()
    pairs = {(p["category1"], p["category2"]) for p in products}
    expected = {(c1, c2) for c1, c2s in EXPECTED_CATEGORIES.items() for c2 in c2s}
    assert pairs == expected
    assert demo_data.CATEGORIES.keys() == EXPECTED_CATEGORIES.keys()


def test_fresh_flag_follows_the_rule() -> None:
    for p in demo_data.products():
        fresh = p["category1"] in {"蔬菜", "水果", "肉禽蛋", "水产"} or p["category2"] in {
            "牛奶",
            "酸奶",
            "面包",
        }
        assert p["fresh"] is fresh, p


def test_every_store_prices_and_stocks_every_product() -> None:
    skus = {p["sku"] for p in demo_data.products()}
    store_ids = {s["store_id"] for s in demo_data.stores()}
    items = demo_data.store_items()
    keys = Counter((i["store_id"], i["sku"]) for i in items)
    assert set(keys) == {(s, k) for s in store_ids for k in skus}
    assert max(keys.values()) == 1
    for item in items:
        assert set(item) == {"store_id", "sku", "price_fen", "stock", "on_sale"}
        assert type(item["price_fen"]) is int and item["price_fen"] > 0
        assert type(item["stock"]) is int and 0 <= item["stock"] <= 200
        assert isinstance(item["on_sale"], bool)


def test_store_prices_close_to_reference_and_realistic() -> None:
    items = demo_data.store_items()
    reference = {i["sku"]: i["price_fen"] for i in items if i["store_id"] == "sh-jingan"}
    for item in items:
        ref = reference[item["sku"]]
        assert 0.9 * ref <= item["price_fen"] <= 1.1 * ref, item
    by_sku = {p["sku"]: p for p in demo_data.products()}
    for sku, price in reference.items():
        c1, c2 = by_sku[sku]["category1"], by_sku[sku]["category2"]
        if c1 == "蔬菜":
            assert 200 <= price <= 1500, by_sku[sku]
        if c2 == "牛奶":
            assert 1000 <= price <= 2500, by_sku[sku]
        if by_sku[sku]["name"].endswith("大米 5kg"):
            assert 3000 <= price <= 8000, by_sku[sku]


def test_zero_stock_and_not_on_sale() -> None:
    items = demo_data.store_items()
    for store in demo_data.stores():
        zero = [i for i in items if i["store_id"] == store["store_id"] and i["stock"] == 0]
        assert 1 <= len(zero) <= 10
    off_sale_stores = {i["store_id"] for i in items if not i["on_sale"]}
    assert len(off_sale_stores) == 1


def test_members() -> None:
    members = demo_data.members()
    store_ids = {s["store_id"] for s in demo_data.stores()}
    assert len(members) >= 20
    phones = [m["phone"] for m in members]
    assert len(set(phones)) == len(phones)
    assert len({m["customer_id"] for m in members}) == len(members)
    codes = {q["code"]: (q["kind"], q["store_id"]) for q in demo_data.member_qr_codes()}
    for m in members:
        assert re.fullmatch(r"1[358]\d{9}", m["phone"])
        assert m["home_store_id"] in store_ids
        assert codes[m["source"]] == ("store", m["home_store_id"])  # the store's QR code
        assert m["nickname"]


def test_staff_roles() -> None:
    staff = demo_data.staff()
    admins = [s for s in staff if s["role"] == "hq_admin"]
    assert len(admins) == 2 and all(a["store_id"] is None for a in admins)
    assert [a["username"] for a in admins] == ["hq-admin", "hq-ops"]  # two approvers
    for store in demo_data.stores():
        sid = store["store_id"]
        roles = {s["role"] for s in staff if s["store_id"] == sid}
        assert roles == {"store_manager", "store_staff"}
        assert any(s["username"] == f"{sid}-manager" for s in staff)
        assert any(s["username"] == f"{sid}-staff" for s in staff)
    assert len({s["username"] for s in staff}) == len(staff)
    assert all(len(s["password"]) >= 12 for s in staff)


def test_deterministic() -> None:
    for fn in (
        demo_data.stores,
        demo_data.products,
        demo_data.store_items,
        demo_data.members,
        demo_data.staff,
        demo_data.erp_sample_csv,
        demo_data.stock_sample_csv,
    ):
        assert fn() == fn(), fn.__name__


def test_calls_return_independent_copies() -> None:
    first = demo_data.products()
    first[0]["name"] = "changed"
    assert demo_data.products()[0]["name"] != "changed"


def test_erp_sample_csv_bad_row_at_line_4() -> None:
    text = demo_data.erp_sample_csv()
    lines = text.splitlines()
    assert lines[0] == "sku,name,category1,category2,unit,barcode,fresh,zone,shelf,image_url,active"
    assert len(lines) == 6
    rows = list(csv.DictReader(io.StringIO(text)))
    bad = [n for n, row in enumerate(rows, start=2) if row["fresh"] not in ("true", "false")]
    assert bad == [4]
    assert rows[2]["fresh"] == "maybe"
    assert all(row["active"] in ("true", "false") for row in rows)


def test_erp_sample_csv_without_bad_row_matches_catalogue() -> None:
    rows = list(csv.DictReader(io.StringIO(demo_data.erp_sample_csv(with_bad_row=False))))
    assert len(rows) == 5
    by_sku = {p["sku"]: p for p in demo_data.products()}
    for row in rows:
        product = by_sku[row["sku"]]
        assert row["name"] == product["name"]
        assert row["barcode"] == product["barcode"]
        assert row["fresh"] == ("true" if product["fresh"] else "false")
    text = demo_data.erp_sample_csv()
    assert text.encode("utf-8").decode("utf-8") == text


def test_stock_sample_csv() -> None:
    text = demo_data.stock_sample_csv()
    assert text.splitlines()[0] == "store_id,sku,price_fen,stock,on_sale"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    items = {(i["store_id"], i["sku"]): i for i in demo_data.store_items()}
    for row in rows:
        item = items[(row["store_id"], row["sku"])]
        assert int(row["price_fen"]) == item["price_fen"]
        assert int(row["stock"]) == item["stock"]
        assert row["on_sale"] in ("true", "false")


def test_demo_coupons_and_promotions_pass_the_api_schemas_and_name_real_products() -> None:
    import msgspec
    from chalicelib.coupons.schemas import TemplateCreate
    from chalicelib.promotions.schemas import PromotionCreate

    skus = {p["sku"] for p in demo_data.products()}
    templates = [msgspec.convert(t, TemplateCreate) for t in demo_data.coupon_templates()]
    kinds = {t.kind for t in templates}
    assert kinds == {"amount_off", "percent_off", "free_delivery"}
    assert {t.auto_issue for t in templates} >= {"registration", "after_payment"}
    assert any(t.sale_price_fen for t in templates)
    promos = [msgspec.convert(p, PromotionCreate) for p in demo_data.promotions()]
    assert {p.kind for p in promos} == {"tiered", "second_half_price", "flash_sale"}
    for p in promos:
        named = ([p.sku] if p.sku else []) + (p.scope.skus if p.scope else [])
        assert set(named) <= skus
