"""The sales report: per-day series over a range, the previous period, by store, by
category, top products, AOV, refund rate, print latency and missed prints."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema

Day = Annotated[str, Meta(description="Business day (store time zone).", examples=["2026-11-24"])]


class SalesQuery(Schema, kw_only=True):
    from_: Annotated[
        str | None, Meta(description="First day, YYYY-MM-DD (default: 29 days before `to`).")
    ] = msgspec.field(name="from", default=None)
    to: Annotated[str | None, Meta(description="Last day, YYYY-MM-DD (default: today).")] = None
    store_id: Annotated[
        str | None,
        Meta(
            description="Head office: one store or several, comma-separated (default: every "
            "store). Store managers: their own store (the default)."
        ),
    ] = None
    compare: Literal["previous"] | None = None  # also the period of the same length before

    def store_ids(self) -> list[str] | None:
        if not self.store_id:
            return None
        return [p.strip() for p in self.store_id.split(",") if p.strip()]


class DayPoint(Out, kw_only=True):
    date: Annotated[str, Meta(description="The day, or 'first..last' for a period's totals.")]
    orders: int  # sales: paid, not cancelled
    paid_fen: int
    refunded_fen: int  # refunded so far on those sales
    refund_orders: int  # sales with a refund
    aov_fen: int  # paid_fen // orders
    refund_rate: float  # refunded_fen / paid_fen, 4 decimals
    printed: int  # paid orders whose first ticket printed
    print_latency_p50_s: float | None  # payment -> first ticket, from the latency histogram
    print_latency_p90_s: float | None
    missed_prints: int  # paid orders whose first ticket was missed (漏单)
    group_waiting: Annotated[
        int,
        Meta(
            description="Group-buy orders paid and waiting for their group to fill: not "
            "sales (nor in orders/paid_fen) until the group succeeds."
        ),
    ] = 0
    group_waiting_fen: Annotated[
        int, Meta(description="What those waiting orders paid (fen, net of refunds).")
    ] = 0


class Period(Out, kw_only=True):
    from_: Day = msgspec.field(name="from")
    to: Day
    days: list[DayPoint]
    totals: DayPoint


class StoreDay(Out, kw_only=True):
    date: Day
    orders: int
    paid_fen: int


class StoreSeries(Out, kw_only=True):
    store_id: str
    name: str
    totals: DayPoint
    days: list[StoreDay]


class CategoryFigures(Out, kw_only=True):
    category1: str
    paid_fen: int
    units: int


class ProductFigures(Out, kw_only=True):
    sku: str
    name: str
    units: int
    paid_fen: int


class SalesReport(Out, kw_only=True):
    from_: Day = msgspec.field(name="from")
    to: Day
    store_ids: list[str]
    totals: DayPoint
    days: list[DayPoint]  # oldest first, one per day of the range
    previous: Period | None  # with compare=previous: the same length just before
    by_store: list[StoreSeries]
    by_category: list[CategoryFigures]  # largest paid amount first
    top_products: list[ProductFigures]  # the range's top 10 by paid amount
    latency_bounds_s: list[float]  # the latency histogram's bucket bounds


_POINT = {
    "date": "2026-11-24",
    "orders": 120,
    "paid_fen": 830000,
    "refunded_fen": 15900,
    "refund_orders": 6,
    "aov_fen": 6916,
    "refund_rate": 0.0192,
    "printed": 119,
    "print_latency_p50_s": 3.2,
    "print_latency_p90_s": 7.9,
    "missed_prints": 1,
}
_TOTALS = {**_POINT, "date": "2026-11-24..2026-11-24"}
EXAMPLES = {
    "DayPoint": _POINT,
    "SalesReport": {
        "from": "2026-11-24",
        "to": "2026-11-24",
        "store_ids": ["sh-jingan"],
        "totals": _TOTALS,
        "days": [_POINT],
        "previous": {
            "from": "2026-11-23",
            "to": "2026-11-23",
            "days": [{**_POINT, "date": "2026-11-23", "orders": 101, "paid_fen": 690100}],
            "totals": {**_POINT, "date": "2026-11-23..2026-11-23"},
        },
        "by_store": [
            {
                "store_id": "sh-jingan",
                "name": "鲜到家 静安寺店",
                "totals": _TOTALS,
                "days": [{"date": "2026-11-24", "orders": 120, "paid_fen": 830000}],
            }
        ],
        "by_category": [{"category1": "水果", "paid_fen": 210450, "units": 188}],
        "top_products": [
            {"sku": "100231", "name": "阳光玫瑰葡萄 500g", "units": 42, "paid_fen": 167580}
        ],
        "latency_bounds_s": [2, 5, 10, 20, 30, 60, 120, 300, 600],
    },
}


# --- effect reports and supplier settlement (issue 18 item 6) -----------------------------


class EffectQuery(Schema, kw_only=True):
    from_: Annotated[
        str | None,
        Meta(description="First day, YYYY-MM-DD (default: the day the promotion starts)."),
    ] = msgspec.field(name="from", default=None)
    to: Annotated[
        str | None, Meta(description="Last day, YYYY-MM-DD (default: its last day, or today).")
    ] = None


class EffectDay(Out, kw_only=True):
    date: Day
    orders: int  # sales carrying the discount (redemptions)
    discount_fen: int  # the discount as given at payment
    net_fen: int  # net of the refunds since
    gmv_fen: int  # what those sales kept paying (paid − refunded)


class EffectFunder(Out, kw_only=True):
    funded_by: Literal["hq", "store", "supplier"]
    funder: str | None
    discount_fen: int
    net_fen: int


class EffectStore(Out, kw_only=True):
    store_id: str
    name: str
    orders: int
    discount_fen: int
    net_fen: int
    gmv_fen: int
    aov_fen: int | None
    new_customers: int


class EffectReport(Out, kw_only=True):
    source: Annotated[str, Meta(description="'p:<promotion_id>' or 't:<coupon template id>'.")]
    id: str
    name: str
    kind: str
    from_: Day = msgspec.field(name="from")
    to: Day
    store_ids: list[str]
    issued: Annotated[int | None, Meta(description="Coupons issued (templates; null otherwise).")]
    redeemed: Annotated[int, Meta(description="Sales (paid, not cancelled) carrying it.")]
    discount_fen: int
    net_fen: Annotated[int, Meta(description="The discount net of refunds (its cost).")]
    by_funder: list[EffectFunder]
    gmv_fen: Annotated[int, Meta(description="Paid − refunded of the sales carrying it.")]
    orders: int
    aov_with_fen: int | None
    aov_without_fen: Annotated[
        int | None,
        Meta(description="AOV of the other sales of the store-days on which it was redeemed."),
    ]
    new_customers: Annotated[
        int, Meta(description="Sales carrying it whose customer had no completed order before.")
    ]
    days: list[EffectDay]
    stores: list[EffectStore]


class SettlementQuery(Schema, kw_only=True):
    month: Annotated[str, Meta(description="The month, YYYY-MM.", examples=["2026-11"])]
    lang: Annotated[Literal["zh-CN", "en"], Meta(description="CSV column headings' language.")] = (
        "zh-CN"
    )


class SettlementStore(Out, kw_only=True):
    store_id: str
    name: str
    orders: int
    discount_fen: int
    net_fen: int


class SettlementSource(Out, kw_only=True):
    source: str
    id: str
    name: str
    orders: int
    discount_fen: int
    refunded_fen: Annotated[int, Meta(description="The discount on what was refunded.")]
    net_fen: int
    stores: list[SettlementStore]


class SupplierStatement(Out, kw_only=True):
    funder: str
    owed_fen: Annotated[int, Meta(description="What the supplier owes: the funded net.")]
    discount_fen: int
    refunded_fen: int
    orders: int
    sources: list[SettlementSource]
    stores: list[SettlementStore]


class SupplierSettlement(Out, kw_only=True):
    month: str
    from_: Day = msgspec.field(name="from")
    to: Day
    owed_fen: int
    suppliers: list[SupplierStatement]


_EFFECT_DAY = {
    "date": "2026-11-24",
    "orders": 3,
    "discount_fen": 9000,
    "net_fen": 8000,
    "gmv_fen": 60000,
}
_SETTLE_STORE = {
    "store_id": "sh-jingan",
    "name": "鲜到家 静安寺店",
    "orders": 3,
    "discount_fen": 3000,
    "net_fen": 2500,
}
EXAMPLES.update(
    {
        "EffectReport": {
            "source": "p:promo-autumn",
            "id": "promo-autumn",
            "name": "满199减30",
            "kind": "tiered",
            "from": "2026-11-24",
            "to": "2026-11-24",
            "store_ids": ["sh-jingan"],
            "issued": None,
            "redeemed": 3,
            "discount_fen": 9000,
            "net_fen": 8000,
            "by_funder": [
                {"funded_by": "hq", "funder": None, "discount_fen": 9000, "net_fen": 8000}
            ],
            "gmv_fen": 60000,
            "orders": 3,
            "aov_with_fen": 20000,
            "aov_without_fen": 6000,
            "new_customers": 1,
            "days": [_EFFECT_DAY],
            "stores": [
                {
                    "store_id": "sh-jingan",
                    "name": "鲜到家 静安寺店",
                    "orders": 3,
                    "discount_fen": 9000,
                    "net_fen": 8000,
                    "gmv_fen": 60000,
                    "aov_fen": 20000,
                    "new_customers": 1,
                }
            ],
        },
        "SupplierSettlement": {
            "month": "2026-11",
            "from": "2026-11-01",
            "to": "2026-11-30",
            "owed_fen": 2500,
            "suppliers": [
                {
                    "funder": "蒙牛",
                    "owed_fen": 2500,
                    "discount_fen": 3000,
                    "refunded_fen": 500,
                    "orders": 3,
                    "sources": [
                        {
                            "source": "t:tpl-mengniu-10",
                            "id": "tpl-mengniu-10",
                            "name": "蒙牛 满50减10",
                            "orders": 3,
                            "discount_fen": 3000,
                            "refunded_fen": 500,
                            "net_fen": 2500,
                            "stores": [_SETTLE_STORE],
                        }
                    ],
                    "stores": [_SETTLE_STORE],
                }
            ],
        },
    }
)
