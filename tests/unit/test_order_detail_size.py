"""The order's detail (order_details), written once inside the place transaction, stays
within 1 KB for a typical basket, so placing pays one write unit for it (two in the
transaction) rather than two or more (issue 11 item 9): its line maps are stored under
short names (``attr_name``). Sized by DynamoDB's rules as bench/lifecycle_cost.py counts
them; read back through the model with the names the code uses."""

from __future__ import annotations

from chalicelib.orders.models import (
    AddressAttribute,
    CouponUseAttribute,
    DiscountAttribute,
    OrderDetailModel,
    OrderLineAttribute,
)

from bench.lifecycle_cost import item_size

BUDGET = 1024
OID = "261205HABWUXRN"
# (sku, name, unit, category1, category2, zone, shelf, fresh, unit price, qty)
LINES = [
    (
        "100003",
        "新疆 阿克苏冰糖心苹果 约2.5kg",
        "箱",
        "水果",
        "苹果梨",
        "A 生鲜区",
        "A-03",
        True,
        3990,
        1,
    ),
    (
        "200017",
        "光明 优倍 鲜牛奶 950ml",
        "瓶",
        "乳品烘焙",
        "牛奶",
        "B 冷藏区",
        "B-02",
        True,
        1590,
        2,
    ),
    (
        "300042",
        "金龙鱼 五常大米 5kg",
        "袋",
        "粮油调味",
        "米面",
        "D 常温区",
        "D-11",
        False,
        5990,
        1,
    ),
    (
        "100021",
        "本地 上海青 约500g",
        "份",
        "蔬菜",
        "叶菜",
        "A 生鲜区",
        "A-01",
        True,
        398,
        3,
    ),
    (
        "400008",
        "维达 超韧抽纸 3层130抽 6包",
        "提",
        "日用清洁",
        "纸品",
        "E 日化区",
        "E-04",
        False,
        2490,
        1,
    ),
]


def realistic_detail() -> OrderDetailModel:
    """A 5-line delivery order with a full-reduction discount and one coupon."""
    lines = []
    discount_left = 1500  # spread over the lines, as placing does
    for i, (sku, name, unit, c1, c2, zone, shelf, fresh, price, qty) in enumerate(LINES):
        amount = price * qty
        share = discount_left if i == len(LINES) - 1 else min(discount_left, amount // 10)
        discount_left -= share
        lines.append(
            OrderLineAttribute(
                sku=sku,
                name=name,
                unit=unit,
                category1=c1,
                category2=c2,
                zone=zone,
                shelf=shelf,
                fresh=fresh,
                unit_price_fen=price,
                qty=qty,
                amount_fen=amount,
                discount_fen=share,
                paid_fen=amount - share,
                refunded_units=0,
                refunded_fen=0,
            )
        )
    subtotal = sum(ln.amount_fen for ln in lines)
    return OrderDetailModel(
        OID,
        address=AddressAttribute(
            name="王小明",
            phone="13800001234",
            line="上海市徐汇区漕溪北路 88 号 3 号楼 1203 室",
            lat=31.19234,
            lng=121.43712,
        ),
        remark="放门口就好",
        lines=lines,
        discounts=[
            DiscountAttribute(
                code="full_reduction",
                label="满99减10",
                amount_fen=1000,
                kind="full_reduction",
                base_fen=subtotal,
                funded_by="store",
            ),
            DiscountAttribute(code="coupon", label="新人券 5元", amount_fen=500, kind="coupon"),
        ],
        coupon_uses=[
            CouponUseAttribute(
                coupon_id="tpl-newbie5:reg:c-0123456789abcdef",
                template_id="tpl-newbie5",
                kind="amount_off",
                discount_fen=500,
            )
        ],
        delivery_fee_waived_fen=0,
        subtotal_fen=subtotal,
        discount_fen=1500,
        delivery_fee_fen=500,
    )


def test_a_realistic_5_line_detail_fits_in_one_write_unit():
    size = item_size(realistic_detail().serialize())
    assert size <= BUDGET, f"the order detail is {size} bytes: over {BUDGET}, 2+ WRU to place"


def test_the_detail_reads_back_with_the_names_the_code_uses():
    written = realistic_detail()
    back = OrderDetailModel.from_raw_data(written.serialize())
    assert [ln.as_dict() for ln in back.lines] == [ln.as_dict() for ln in written.lines]
    assert [d.as_dict() for d in back.discounts] == [d.as_dict() for d in written.discounts]
    assert back.coupon_uses[0].coupon_id == "tpl-newbie5:reg:c-0123456789abcdef"
    assert back.address.line == written.address.line
    assert back.lines[0].unit_price_fen == 3990 and back.lines[1].category1 == "乳品烘焙"
