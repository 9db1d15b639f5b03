"""Requests and responses of the paid membership (付费会员卡) routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, field

from chalicelib.kernel.schema import Out, Schema, Timestamp

Fen = Annotated[int, Meta(ge=0, le=100_000_00, description="Integer fen (分).")]
PlanPeriod = Annotated[
    Literal["month", "quarter", "year"],
    Meta(description="month: 1 calendar month; quarter: 3; year: 12."),
]
Permille = Annotated[
    int,
    Meta(
        ge=0,
        le=500,
        description="Member discount: permille taken off the list price (50 = 5 % off, "
        "95折); 0: none. The discount rounds down to the fen.",
    ),
]
RequestId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
        description="Client-chosen id making the request idempotent (8-64 of A-Z a-z 0-9 _ . : -).",
        examples=["pm-refund-20261124-1"],
    ),
]
Sku = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


class PlanIn(Schema, kw_only=True):
    """A plan as head office writes it."""

    name: Annotated[str, Meta(min_length=1, max_length=40)]
    period: PlanPeriod
    price_fen: Annotated[int, Meta(ge=1, le=100_000_00)]
    free_delivery: bool = False
    discount_permille: Permille = 0
    member_prices: Annotated[
        dict[Sku, Fen],
        Meta(
            max_length=500,
            description="Member unit prices per SKU; where a SKU also gets the discount, "
            "the lower price applies, never both.",
        ),
    ] = field(default_factory=dict)
    coupon_template_ids: Annotated[
        list[Annotated[str, Meta(min_length=1, max_length=64)]],
        Meta(max_length=10, description="The monthly coupon pack: one coupon of each."),
    ] = field(default_factory=list)
    active: bool = True


class PlanUpdate(PlanIn, kw_only=True):
    version: Annotated[int, Meta(ge=0, description="The version read: 409 if it moved.")]


class Plan(Out, kw_only=True):
    plan_id: str
    name: str
    period: PlanPeriod
    price_fen: int
    free_delivery: bool
    discount_permille: int
    member_prices: dict[str, int]
    coupon_template_ids: list[str]
    active: bool
    version: int
    active_members: Annotated[
        int | None, Meta(description="Members whose card of this plan runs now (head office).")
    ]
    updated_at: Timestamp | None
    updated_by: str | None


class PlanList(Out, kw_only=True):
    items: list[Plan]


class PaidSettings(Schema, kw_only=True):
    """Paid membership rules (head office). Absent: these defaults."""

    trial_days: Annotated[int, Meta(ge=1, le=90, description="Length of the free trial.")] = 7
    trial_plan_id: Annotated[
        str | None,
        Meta(description="Whose benefits a trial gives; null: the first active monthly plan."),
    ] = None
    full_refund_days: Annotated[
        int,
        Meta(
            ge=0,
            le=30,
            description="A paid period is refunded in full within these days of its "
            "payment when no benefit was used; else pro rata of the unused days.",
        ),
    ] = 7


class PurchaseCreate(Schema, kw_only=True):
    plan_id: Annotated[str, Meta(min_length=1, max_length=64)]


class PaymentSheet(Out, kw_only=True):
    order_id: Annotated[str, Meta(description="The purchase id the provider carries.")]
    provider: str
    amount_fen: int
    params: dict[str, str]


class Purchase(Out, kw_only=True):
    purchase_id: str
    plan_id: str
    plan_name: str
    period: PlanPeriod
    price_fen: int
    status: Annotated[
        Literal["awaiting_payment", "paid", "expired", "refunded"],
        Meta(description="refunded: paid, then paid back when the membership was refunded."),
    ]
    created_at: Timestamp
    expires_at: Timestamp
    paid_at: Timestamp | None
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    payment: PaymentSheet | None


class Benefits(Out, kw_only=True):
    free_delivery: bool
    discount_permille: int
    member_prices: dict[str, int]
    coupon_template_ids: list[str]


class HistoryEntry(Out, kw_only=True):
    ref: str
    kind: Literal["buy", "trial", "refund", "pack"]
    at: Timestamp
    plan_id: str | None
    plan_name: str | None
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    amount_fen: int
    purchase_id: str | None
    coupon_ids: list[str]
    actor: str | None
    reason: str | None


class Membership(Out, kw_only=True):
    customer_id: str
    active: bool
    plan_id: str | None
    plan_name: str | None
    trial: bool
    started_at: Timestamp | None
    ends_at: Timestamp | None
    trial_used: bool
    benefits: Benefits | None
    next_pack_at: Timestamp | None
    history: list[HistoryEntry]


class TrialGrant(Schema, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=200)]


class RefundQuote(Out, kw_only=True):
    refund_fen: int
    benefit_used: bool
    periods: list[dict[str, Any]]


class RefundRequest(Schema, kw_only=True):
    request_id: RequestId
    expected_refund_fen: Annotated[
        int, Meta(ge=0, description="The quote's refund_fen: 409 quote_changed if it moved.")
    ]


class Refund(Out, kw_only=True):
    refund_ref: str
    refund_fen: int
    refund_ids: list[str]
    membership: Membership


PLAN_EXAMPLE = {
    "plan_id": "plan-month",
    "name": "月卡",
    "period": "month",
    "price_fen": 1500,
    "free_delivery": True,
    "discount_permille": 50,
    "member_prices": {"100": 990},
    "coupon_template_ids": ["t-5-off-39"],
    "active": True,
    "version": 1,
    "active_members": 128,
    "updated_at": "2026-11-24T02:30:00Z",
    "updated_by": "hq-admin",
}
PLAN_IN_EXAMPLE = {
    k: PLAN_EXAMPLE[k]
    for k in (
        "name",
        "period",
        "price_fen",
        "free_delivery",
        "discount_permille",
        "member_prices",
        "coupon_template_ids",
        "active",
    )
}
PURCHASE_EXAMPLE = {
    "purchase_id": "PM3F2A9B1C4D5E6F70",
    "plan_id": "plan-month",
    "plan_name": "月卡",
    "period": "month",
    "price_fen": 1500,
    "status": "awaiting_payment",
    "created_at": "2026-11-24T02:30:00.123Z",
    "expires_at": "2026-11-24T02:45:00Z",
    "paid_at": None,
    "starts_at": None,
    "ends_at": None,
    "payment": {
        "order_id": "PM3F2A9B1C4D5E6F70",
        "provider": "local",
        "amount_fen": 1500,
        "params": {"pay_url": "/local/payments/PM3F2A9B1C4D5E6F70/complete"},
    },
}
MEMBERSHIP_EXAMPLE = {
    "customer_id": "c-3f2a9b1c4d5e6f70",
    "active": True,
    "plan_id": "plan-month",
    "plan_name": "月卡",
    "trial": False,
    "started_at": "2026-11-24T02:31:00Z",
    "ends_at": "2027-01-24T02:31:00Z",
    "trial_used": False,
    "benefits": {
        "free_delivery": True,
        "discount_permille": 50,
        "member_prices": {"100": 990},
        "coupon_template_ids": ["t-5-off-39"],
    },
    "next_pack_at": "2026-12-24T02:31:00Z",
    "history": [
        {
            "ref": "buy:PM3F2A9B1C4D5E6F70",
            "kind": "buy",
            "at": "2026-11-24T02:31:00Z",
            "plan_id": "plan-month",
            "plan_name": "月卡",
            "starts_at": "2026-11-24T02:31:00Z",
            "ends_at": "2026-12-24T02:31:00Z",
            "amount_fen": 1500,
            "purchase_id": "PM3F2A9B1C4D5E6F70",
            "coupon_ids": [],
            "actor": None,
            "reason": None,
        }
    ],
}
SETTINGS_EXAMPLE = {"trial_days": 7, "trial_plan_id": None, "full_refund_days": 7}
QUOTE_EXAMPLE = {
    "refund_fen": 1000,
    "benefit_used": True,
    "periods": [{"purchase_id": "PM3F2A9B1C4D5E6F70", "price_fen": 1500, "refund_fen": 1000}],
}
