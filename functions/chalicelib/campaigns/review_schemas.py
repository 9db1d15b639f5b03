"""The campaign review (复盘): figures, funnel, goal, cost, ROI, the decomposition
against a baseline, per store and per day. Definitions: docs/campaigns.md, "The review"."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema

Day = Annotated[str, Meta(description="Local day (Asia/Shanghai).", examples=["2026-06-18"])]


class ReviewQuery(Schema, kw_only=True):
    baseline: Annotated[
        Literal["before", "last_year"],
        Meta(
            description="before: the same number of days just before the campaign; "
            "last_year: the same dates one year earlier (last year's node)."
        ),
    ] = "before"
    store_id: Annotated[
        str | None,
        Meta(description="Ignored: a store manager always sees their own store only."),
    ] = None


class Kpis(Out, kw_only=True):
    gmv_fen: Annotated[int, Meta(description="Paid − refunded of the sales.")]
    paid_fen: int
    refunded_fen: int
    orders: Annotated[int, Meta(description="Sales: orders paid and not cancelled.")]
    aov_fen: Annotated[int | None, Meta(description="GMV ÷ orders (客单价); null: no orders.")]
    visitors: Annotated[int, Meta(description="Distinct devices per store day, summed (进店量).")]
    conversion: Annotated[float | None, Meta(description="orders ÷ visitors (转化率).")]
    new_members: int
    refund_rate: Annotated[float | None, Meta(description="refunded ÷ paid.")]


class GoalLine(Out, kw_only=True):
    key: Literal["gmv_fen", "orders", "new_members", "aov_fen"]
    goal: int | None
    actual: int | None
    attained: Annotated[float | None, Meta(description="actual ÷ goal (1.0 = reached).")]


class FunnelStep(Out, kw_only=True):
    step: Literal["visit", "cart", "order", "pay"]
    count: int
    rate: Annotated[float | None, Meta(description="Of the step before.")]


class Redemption(Out, kw_only=True):
    kind: Literal["promotion", "coupon_template"]
    source_id: str
    orders: int
    fen: Annotated[int, Meta(description="Discount given (sales only).")]


class FunderCost(Out, kw_only=True):
    funder: Literal["hq", "store", "supplier"]
    budget_fen: int
    spent_fen: int


class Cost(Out, kw_only=True):
    budget_fen: int
    spent_fen: int
    used: Annotated[float | None, Meta(description="spent ÷ budget.")]
    alert: Annotated[bool, Meta(description="At or over 80 % of the budget.")]
    by_funder: list[FunderCost]
    by_kind: Annotated[
        dict[str, int], Meta(description="discounts, points, commission, prizes (fen).")
    ]


class Factor(Out, kw_only=True):
    factor: Literal["visitors", "conversion", "aov"]
    baseline: float | None
    current: float | None
    contribution_fen: Annotated[
        int | None, Meta(description="Its share of the change in GMV (LMDI); null: n/a.")
    ]


class Decomposition(Out, kw_only=True):
    baseline: Literal["before", "last_year"]
    from_: Day = msgspec.field(name="from")
    to: Day
    gmv_fen: int
    baseline_gmv_fen: int
    change_fen: int
    available: Annotated[
        bool, Meta(description="False when a factor is zero in either period (see reason).")
    ]
    reason: Annotated[
        Literal["no_visitors", "no_orders", "no_sales"] | None,
        Meta(description="Why the decomposition is not available."),
    ]
    factors: list[Factor]
    moved_most: Literal["visitors", "conversion", "aov"] | None


class StoreRow(Out, kw_only=True):
    store_id: str
    name: str
    kpis: Kpis
    baseline_gmv_fen: int
    change_fen: int


class DayRow(Out, kw_only=True):
    date: Day
    gmv_fen: int
    orders: int
    visitors: int
    new_members: int


class Review(Out, kw_only=True):
    campaign_id: str
    name: str
    state: str
    frozen: Annotated[
        bool,
        Meta(description="True: computed once when the campaign ended and stored; false: live."),
    ]
    computed_at: str
    from_: Day = msgspec.field(name="from")
    to: Annotated[str, Meta(description="The last day counted (today while live).")]
    days: int
    store_ids: list[str]
    kpis: Kpis
    baseline_kpis: Kpis
    goal: list[GoalLine]
    funnel: list[FunnelStep]
    redemptions: list[Redemption]
    cost: Annotated[Cost | None, Meta(description="Head office only.")]
    roi: Annotated[
        float | None,
        Meta(description="(GMV − baseline GMV − cost) ÷ cost; head office only; null: no cost."),
    ]
    decomposition: Decomposition
    stores: list[StoreRow]
    daily: list[DayRow]


_KPIS = {
    "gmv_fen": 792000,
    "paid_fen": 800000,
    "refunded_fen": 8000,
    "orders": 144,
    "aov_fen": 5500,
    "visitors": 1200,
    "conversion": 0.12,
    "new_members": 35,
    "refund_rate": 0.01,
}
EXAMPLES = {
    "Review": {
        "campaign_id": "cmp-618",
        "name": "618 年中大促",
        "state": "ended",
        "frozen": True,
        "computed_at": "2026-06-19T16:05:00Z",
        "from": "2026-06-01",
        "to": "2026-06-18",
        "days": 18,
        "store_ids": ["sh-a"],
        "kpis": _KPIS,
        "baseline_kpis": dict(_KPIS, gmv_fen=500000, orders=100, visitors=1000, aov_fen=5000),
        "goal": [{"key": "gmv_fen", "goal": 700000, "actual": 792000, "attained": 1.1314}],
        "funnel": [
            {"step": "visit", "count": 1200, "rate": None},
            {"step": "cart", "count": 480, "rate": 0.4},
            {"step": "order", "count": 160, "rate": 0.3333},
            {"step": "pay", "count": 150, "rate": 0.9375},
        ],
        "redemptions": [{"kind": "promotion", "source_id": "P-618", "orders": 90, "fen": 45000}],
        "cost": {
            "budget_fen": 100000,
            "spent_fen": 82000,
            "used": 0.82,
            "alert": True,
            "by_funder": [
                {"funder": "hq", "budget_fen": 80000, "spent_fen": 70000},
                {"funder": "store", "budget_fen": 20000, "spent_fen": 12000},
                {"funder": "supplier", "budget_fen": 0, "spent_fen": 0},
            ],
            "by_kind": {"discounts": 80000, "points": 2000, "commission": 0, "prizes": 0},
        },
        "roi": 2.561,
        "decomposition": {
            "baseline": "before",
            "from": "2026-05-14",
            "to": "2026-05-31",
            "gmv_fen": 792000,
            "baseline_gmv_fen": 500000,
            "change_fen": 292000,
            "available": True,
            "reason": None,
            "factors": [
                {"factor": f, "baseline": b, "current": c, "contribution_fen": x}
                for f, b, c, x in (
                    ("visitors", 1000, 1200, 115746),
                    ("conversion", 0.1, 0.12, 115746),
                    ("aov", 5000, 5500, 60508),
                )
            ],
            "moved_most": "visitors",
        },
        "stores": [
            {
                "store_id": "sh-a",
                "name": "静安店",
                "kpis": _KPIS,
                "baseline_gmv_fen": 500000,
                "change_fen": 292000,
            }
        ],
        "daily": [
            {"date": "2026-06-01", "gmv_fen": 44000, "orders": 8, "visitors": 66, "new_members": 2}
        ],
    }
}
