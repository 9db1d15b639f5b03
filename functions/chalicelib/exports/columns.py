"""The columns of each export kind, with their header in each language (pure: no AWS).

A time column's header names the time zone its values are written in; money columns are
yuan (元) with two decimals. A new kind adds its columns here and its rows in sources.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
Kind = Literal[
    "orders",
    "refunds",
    "coupon_redemptions",
    "stock",
    "daily_sales",
    "returns",
    "audit",
    "members",
    "points_entries",
    "stored_value_entries",
    "segment",
]
KINDS: tuple[Kind, ...] = (
    "orders",
    "refunds",
    "coupon_redemptions",
    "stock",
    "daily_sales",
    "returns",
    "audit",
    "members",
    "points_entries",
    "stored_value_entries",
    "segment",
)


@dataclass(frozen=True)
class Column:
    zh: str
    en: str
    time: bool = False  # a time: the header names its zone
    money: bool = False  # yuan: the header says so

    def label(self, language: Language, zone: str) -> str:
        text = self.zh if language == "zh-CN" else self.en
        if self.money:
            text += "（元）" if language == "zh-CN" else " (CNY)"
        if self.time:
            text += f"（{zone}）" if language == "zh-CN" else f" ({zone})"
        return text


def _c(zh: str, en: str, **flags: bool) -> Column:
    return Column(zh, en, **flags)


ORDER_HEAD = [
    _c("订单号", "Order ID"),
    _c("门店", "Store ID"),
    _c("门店名称", "Store"),
    _c("营业日", "Business day"),
    _c("今日单号", "Daily no."),
    _c("状态", "Status"),
    _c("履约方式", "Fulfilment"),
    _c("下单时间", "Created at", time=True),
    _c("支付时间", "Paid at", time=True),
    _c("商品金额", "Subtotal", money=True),
    _c("优惠", "Discount", money=True),
    _c("配送费", "Delivery fee", money=True),
    _c("应付", "Total", money=True),
    _c("实付", "Paid", money=True),
    _c("已退款", "Refunded", money=True),
]
ORDER_LINE = [
    _c("商品编码", "SKU"),
    _c("商品名称", "Product"),
    _c("一级类目", "Category"),
    _c("单位", "Unit"),
    _c("单价", "Unit price", money=True),
    _c("数量", "Qty"),
    _c("金额", "Amount", money=True),
    _c("行优惠", "Line discount", money=True),
    _c("行实付", "Line paid", money=True),
    _c("拣货数量", "Picked qty"),
    _c("退货数量", "Refunded units"),
    _c("行退款", "Line refunded", money=True),
]

COLUMNS: dict[Kind, list[Column]] = {
    "orders": ORDER_HEAD + ORDER_LINE,
    "refunds": [
        _c("退款单号", "Refund ID"),
        _c("订单号", "Order ID"),
        _c("门店", "Store ID"),
        _c("门店名称", "Store"),
        _c("订单营业日", "Order business day"),
        _c("原因", "Reason"),
        _c("状态", "Status"),
        _c("退款金额", "Amount", money=True),
        _c("其中配送费", "Of which delivery fee", money=True),
        _c("退款商品", "Lines (SKU × units)"),
        _c("申请时间", "Created at", time=True),
        _c("更新时间", "Updated at", time=True),
    ],
    "coupon_redemptions": [
        _c("订单号", "Order ID"),
        _c("门店", "Store ID"),
        _c("门店名称", "Store"),
        _c("订单营业日", "Order business day"),
        _c("订单状态", "Order status"),
        _c("支付时间", "Paid at", time=True),
        _c("优惠券", "Coupon ID"),
        _c("券模板", "Template ID"),
        _c("券名称", "Coupon name"),
        _c("券类型", "Kind"),
        _c("抵扣金额", "Discount", money=True),
        _c("订单实付", "Order paid", money=True),
    ],
    "stock": [
        _c("门店", "Store ID"),
        _c("商品编码", "SKU"),
        _c("商品名称", "Product"),
        _c("一级类目", "Category"),
        _c("二级类目", "Subcategory"),
        _c("单位", "Unit"),
        _c("条码", "Barcode"),
        _c("售价", "Price", money=True),
        _c("库存", "Stock"),
        _c("在售", "On sale"),
        _c("商品启用", "Product active"),
        _c("更新时间", "Updated at", time=True),
    ],
    "daily_sales": [
        _c("营业日", "Business day"),
        _c("门店", "Store ID"),
        _c("门店名称", "Store"),
        _c("支付订单数", "Paid orders"),
        _c("销售额", "Sales", money=True),
        _c("退款", "Refunds", money=True),
        _c("净销售额", "Net sales", money=True),
        _c("客单价", "Average order", money=True),
    ],
    "returns": [
        _c("退货单号", "Return ID"),
        _c("订单号", "Order ID"),
        _c("门店", "Store ID"),
        _c("门店名称", "Store"),
        _c("状态", "Status"),
        _c("原因", "Reason"),
        _c("退货商品", "Lines (SKU × units)"),
        _c("申请时间", "Requested at", time=True),
        _c("更新时间", "Updated at", time=True),
        _c("退款单号", "Refund ID"),
        _c("退款金额", "Refund amount", money=True),
        _c("退款状态", "Refund status"),
    ],
    # One row per changed field, the entry's columns repeated (an entry with no field
    # change, a reprint say, is one row with the field empty). Money fields (``*_fen``)
    # are written in yuan, as the log page shows them.
    "audit": [
        _c("时间", "Time", time=True),
        _c("操作人", "Actor"),
        _c("角色", "Role"),
        _c("操作人门店", "Actor's store"),
        _c("操作", "Action"),
        _c("对象类型", "Target type"),
        _c("对象", "Target ID"),
        _c("所属门店", "Store ID"),
        _c("字段", "Field"),
        _c("修改前", "Before"),
        _c("修改后", "After"),
        _c("记录编号", "Entry ID"),
    ],
    # The member list's columns (phones as the list shows them: masked for a store
    # manager), and the member's id to find them again.
    "members": [
        _c("会员编号", "Member ID"),
        _c("手机号", "Phone"),
        _c("昵称", "Nickname"),
        _c("归属门店", "Home store"),
        _c("来源", "Source"),
        _c("营销授权", "Marketing consent"),
        _c("注册时间", "Registered at", time=True),
    ],
    # One member's ledgers, newest first as their pages list them.
    "points_entries": [
        _c("时间", "Time", time=True),
        _c("类型", "Kind"),
        _c("积分变动", "Points change"),
        _c("欠分变动", "Debt change"),
        _c("变动后余额", "Balance after"),
        _c("原因", "Reason"),
        _c("操作人", "Actor"),
        _c("订单号", "Order ID"),
        _c("积分到期", "Expires at", time=True),
        _c("可用时间", "Available at", time=True),
        _c("记录编号", "Entry ID"),
    ],
    "stored_value_entries": [
        _c("时间", "Time", time=True),
        _c("类型", "Kind"),
        _c("本金", "Principal", money=True),
        _c("赠送金", "Bonus", money=True),
        _c("合计", "Amount", money=True),
        _c("原因", "Reason"),
        _c("操作人", "Actor"),
        _c("订单号", "Order ID"),
        _c("记录编号", "Entry ID"),
    ],
    # A segment's members (customers/segment_export.py): phones masked unless head office
    # exports for a consented campaign; figures from the nightly snapshot.
    "segment": [
        _c("会员编号", "Member ID"),
        _c("手机号", "Phone"),
        _c("昵称", "Nickname"),
        _c("等级", "Level"),
        _c("来源", "Source"),
        _c("门店", "Store"),
        _c("订单数", "Orders"),
        _c("消费", "Spend", money=True),
        _c("最近下单日", "Last order date"),
        _c("RFM 分群", "RFM group"),
        _c("生命周期", "Lifecycle stage"),
        _c("标签", "Tags"),
    ],
}


def header(kind: Kind, language: Language, zone: str) -> list[str]:
    """The header row of ``kind`` in ``language``; times are in ``zone``."""
    return [c.label(language, zone) for c in COLUMNS[kind]]


def file_name(
    kind: Kind,
    store_id: str | None,
    date_from: str | None,
    date_to: str | None,
    customer_id: str | None = None,
) -> str:
    """e.g. ``orders_sh-jingan_2026-11-01_2026-11-30.csv``; ``all`` for the whole chain;
    a member's ledger is named by the member (``points_entries_c-0123.csv``)."""
    parts: list[str] = [kind, customer_id or store_id or "all"]
    if date_from and date_to:
        parts += [date_from, date_to]
    return "_".join(parts) + ".csv"
