"""Coupons in the API: head office's templates, issuance and budgets; the customer's
claim and wallet; notifications (expiry reminders)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from chalicelib.kernel.period_limits import PERIOD_LIMITS_EXAMPLE, PeriodLimits, PeriodLimitsOut
from chalicelib.kernel.schema import (
    AudienceOut,
    AudienceSpec,
    Fen,
    Out,
    Phone,
    PositiveFen,
    RecurrenceOut,
    RecurrenceSpec,
    Schema,
    Sku,
    StoreId,
    Timestamp,
)
from chalicelib.kernel.stacking import (
    MARGIN_FLOOR_DOC,
    STACKING_EXAMPLE,
    STACKING_SOURCE_DOC,
    MarginFloor,
    Stacking,
    StackingOut,
    StackingSource,
)

Kind = Literal["amount_off", "percent_off", "free_delivery", "product"]
FundedBy = Literal["hq", "store", "supplier"]
AutoIssue = Literal["registration", "after_payment"]
TemplateStatus = Literal["active", "paused"]
# Drafts (issue 18 item 5) are published by approval, never by a PATCH of ``status``.
TemplateState = Literal["draft", "pending", "active", "paused"]
CouponState = Literal["available", "locked", "used", "expired", "voided"]
Source = Literal[
    "claim",
    "registration",
    "after_payment",
    "bulk",
    "staff_qr",
    "sale",
    "level_up",
    "birthday",
    "mall",
    "member_day",
    "code",
]
Name = Annotated[str, Meta(min_length=1, max_length=60, examples=["满99减20"])]
Category = Annotated[str, Meta(min_length=1, max_length=40)]
Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
CustomerId = Annotated[str, Meta(min_length=1, max_length=64, examples=["c-3f2a9b1c4d5e6f70"])]
Username = Annotated[str, Meta(min_length=1, max_length=64)]


class CouponScope(Schema, kw_only=True):
    """What the coupon applies to; every list empty = all products in all stores."""

    categories: Annotated[list[Category], Meta(max_length=50)] = field(default_factory=list)
    skus: Annotated[list[Sku], Meta(max_length=200)] = field(default_factory=list)
    stores: Annotated[list[StoreId], Meta(max_length=500)] = field(default_factory=list)


ReturnsPolicy = Literal["proportional", "reevaluate"]
ReturnsPolicyField = Annotated[
    ReturnsPolicy | None,
    Meta(
        description="What a return of part of an order does to this coupon's discount "
        "(amount or percent off): proportional (default: the customer keeps each line's "
        "share) or reevaluate (when the units kept no longer reach the threshold, the "
        "refund deducts the benefit no longer earned, never below zero). Applies to "
        "orders placed from then on.",
        examples=["reevaluate"],
    ),
]
LimitsField = Annotated[
    PeriodLimits | None,
    Meta(
        description="Redemption limits (issue 18): how many orders may use coupons of this "
        "template per customer per local day (Asia/Shanghai) or ISO week, and per store per "
        "local day. Each coupon carries the limits of when it was issued; a coupon whose "
        "limit is used up is judged limit_reached at checkout.",
        examples=[PERIOD_LIMITS_EXAMPLE],
    ),
]


class TemplateCreate(Schema, kw_only=True):
    """Fields by kind: ``amount_off`` needs ``amount_off_fen`` (at most the threshold when
    one is set); ``percent_off`` needs ``percent_off`` (1..99, 15 = 15 % off) and takes
    ``cap_fen``; ``free_delivery`` takes neither. Validity: ``starts_at`` + ``ends_at``,
    or ``days_after_claim``, not both. ``auto_issue = after_payment`` needs
    ``after_payment_min_fen``. ``funder`` is required when ``funded_by = supplier``."""

    name: Name
    kind: Kind
    template_id: Annotated[
        Id | None, Meta(description="Optional: choose the id to make a retried create a replay.")
    ] = None
    threshold_fen: Fen = 0
    amount_off_fen: PositiveFen | None = None
    percent_off: Annotated[int, Meta(ge=1, le=99)] | None = None
    cap_fen: PositiveFen | None = None
    scope: CouponScope | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    days_after_claim: Annotated[int, Meta(ge=1, le=366)] | None = None
    total_quantity: Annotated[int, Meta(ge=1, le=100_000_000)] | None = None
    per_customer_limit: Annotated[int, Meta(ge=1, le=100)] = 1
    funded_by: FundedBy = "hq"
    funder: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    budget_fen: PositiveFen | None = None
    claimable: bool = True
    auto_issue: AutoIssue | None = None
    after_payment_min_fen: PositiveFen | None = None
    sale_price_fen: PositiveFen | None = None
    # targeting (issue 18 item 4)
    code: (
        Annotated[
            str,
            Meta(
                min_length=4,
                max_length=20,
                description="A shareable code (通用码) customers redeem with POST "
                "/coupons/redeem-code: 4-20 letters and digits, case-insensitive, unique.",
                examples=["SPRING2027"],
            ),
        ]
        | None
    ) = None
    recurrence: Annotated[
        RecurrenceSpec | None,
        Meta(
            description="The coupons are usable only in this weekly window (Shanghai time).",
            examples=[{"weekdays": [3], "start": "18:00", "end": "21:00"}],
        ),
    ] = None
    audience: Annotated[
        AudienceSpec | None,
        Meta(
            description="Only members at min_level or above, or in segment_id, may get it.",
            examples=[{"min_level": "V3"}],
        ),
    ] = None
    # Stacking policy (issue 18 item 1): its coupons carry it to checkout.
    stacking: Annotated[
        Stacking | None,
        Meta(
            description="How its coupons stack (absent: the fixed matrix). stack_group: "
            "goods coupons only.",
            examples=[STACKING_EXAMPLE],
        ),
    ] = None
    margin_floor: Annotated[
        MarginFloor | None, Meta(description="Goods coupons. " + MARGIN_FLOOR_DOC)
    ] = None
    # issue 18: a product coupon (商品券)
    product_sku: Annotated[
        Sku | None, Meta(description="product: the SKU one unit of which it prices.")
    ] = None
    product_price_fen: Annotated[
        Fen | None, Meta(description="product: that unit's price (0 or absent: free).")
    ] = None
    returns_policy: ReturnsPolicyField = None
    campaign_id: Annotated[
        Id | None,
        Meta(
            description="A draft campaign to create it in: the campaign lists it in the same "
            "write, and without a stacking policy of its own it takes a copy of the "
            "campaign's default_stacking (stacking_source: campaign; stack_group only for "
            "goods coupons). 409 campaign_not_draft once the campaign is scheduled.",
            examples=["C1a2b3c4d5e6f7a8b"],
        ),
    ] = None
    limits: LimitsField = None


class TemplateUpdate(Schema, kw_only=True):
    """Only these change after creation, under the rules of docs/coupons.md: ``budget_fen``
    not below what is spent, ``total_quantity`` not below what is issued, ``ends_at``
    brought forward and ``scope`` narrowed only while no coupon was issued; ``code``,
    ``recurrence`` and ``audience`` only while it is a draft (pending included: the
    change clears the approvals given). Send
    ``expected_version`` (the template's ``version`` you edited) so a change made by
    someone else meanwhile is a 409, not silently overwritten."""

    status: TemplateStatus | None = None
    name: Name | None = None
    budget_fen: PositiveFen | None = None
    total_quantity: Annotated[int, Meta(ge=1, le=100_000_000)] | None = None
    ends_at: Timestamp | None = None
    scope: CouponScope | None = None
    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None
    stacking: Annotated[
        Stacking | None, Meta(description="Replaces its stacking policy, for every coupon.")
    ] = None
    margin_floor: MarginFloor | None = None
    returns_policy: ReturnsPolicyField = None
    limits: Annotated[
        PeriodLimits | None,
        Meta(
            description="Replaces its redemption limits ({} removes them); only while no "
            "coupon was issued (issued coupons carry the limits they were issued with).",
            examples=[PERIOD_LIMITS_EXAMPLE],
        ),
    ] = None
    # targeting (issue 18 item 4): while draft or pending only (part of what is approved)
    code: Annotated[
        Annotated[str, Meta(min_length=4, max_length=20)] | UnsetType | None,
        Meta(
            description="Draft or pending only: a new shareable code (the old one is freed); "
            "null removes it (absent: unchanged).",
            examples=["SPRING2027"],
        ),
    ] = UNSET
    recurrence: Annotated[
        RecurrenceSpec | UnsetType | None,
        Meta(
            description="Draft or pending only: replaces the weekly window; null removes it.",
            examples=[{"weekdays": [3], "start": "18:00", "end": "21:00"}],
        ),
    ] = UNSET
    audience: Annotated[
        AudienceSpec | UnsetType | None,
        Meta(
            description="Draft or pending only: replaces the audience (min_level or "
            "segment_id); null removes it.",
            examples=[{"segment_id": "vip-lapsed"}],
        ),
    ] = UNSET


class CouponScopeOut(Out, kw_only=True):
    categories: list[str]
    skus: list[str]
    stores: list[str]


class TemplateApproval(Out, kw_only=True):
    by: str  # the approver's user name
    at: Timestamp


class CouponTemplate(Out, kw_only=True):
    template_id: str
    name: str
    kind: Kind
    threshold_fen: int
    amount_off_fen: int | None
    percent_off: int | None
    cap_fen: int | None
    scope: CouponScopeOut
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    days_after_claim: int | None
    total_quantity: int | None
    issued_count: int
    per_customer_limit: int
    funded_by: FundedBy
    funder: str | None
    budget_fen: int | None
    spent_fen: int
    remaining_budget_fen: int | None
    used_count: int
    claimable: bool
    auto_issue: AutoIssue | None
    after_payment_min_fen: int | None
    sale_price_fen: int | None
    status: TemplateState
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    version: int  # + 1 on every edit: send it back as expected_version
    code: str | None = None
    recurrence: RecurrenceOut | None = None
    audience: AudienceOut | None = None
    stacking: StackingOut | None = None  # always sent (the defaults when none was set)
    stacking_source: Annotated[StackingSource, Meta(description=STACKING_SOURCE_DOC)] = "matrix"
    campaign_id: str | None = None  # the campaign holding it (issue 16)
    margin_floor: MarginFloor = "refuse"
    # product coupons (商品券): null for other kinds
    product_sku: str | None = None
    product_price_fen: int | None = None
    returns_policy: ReturnsPolicy = "proportional"
    limits: PeriodLimitsOut | None = None  # redemption limits; null: none
    # Workflow (issue 18 item 5): approvals so far, how many it needs, why rejected.
    approvals: list[TemplateApproval] = field(default_factory=list)
    approvals_needed: int = 1
    rejected_reason: str | None = None


class TemplateList(Out, kw_only=True):
    items: list[CouponTemplate]


class PublicTemplate(Out, kw_only=True):
    """A template a customer can claim now."""

    template_id: str
    name: str
    kind: Kind
    threshold_fen: int
    amount_off_fen: int | None
    percent_off: int | None
    cap_fen: int | None
    scope: CouponScopeOut
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    days_after_claim: int | None
    per_customer_limit: int
    sold_out: bool


class PublicTemplateList(Out, kw_only=True):
    items: list[PublicTemplate]


class PublicTemplateQuery(Schema, kw_only=True):
    store_id: StoreId | None = None


class IssueRequest(Schema, kw_only=True):
    """``batch_id`` makes the issue idempotent: the same batch again issues nothing new."""

    batch_id: Id
    customer_ids: Annotated[list[CustomerId], Meta(min_length=1, max_length=500)]


class Refusal(Out, kw_only=True):
    customer_id: str
    reason: Literal["unknown_customer", "sold_out", "limit_reached", "template_not_active"]


class IssueResult(Out, kw_only=True):
    issued: int
    already_issued: int
    refused: list[Refusal]


class ClaimRequest(Schema, kw_only=True):
    """``request_id`` makes the claim idempotent: the same id again answers the same
    coupon (200). ``staff_username``: the staff member whose QR code was scanned."""

    template_id: Id
    request_id: Id
    staff_username: Username | None = None


class Coupon(Out, kw_only=True):
    coupon_id: str
    customer_id: str
    template_id: str
    name: str
    kind: Kind
    threshold_fen: int
    amount_off_fen: int | None
    percent_off: int | None
    cap_fen: int | None
    scope: CouponScopeOut
    state: CouponState
    valid_from: Timestamp
    valid_until: Timestamp
    source: Source
    staff_username: str | None
    order_id: str | None
    discount_fen: int | None
    created_at: Timestamp
    recurrence: RecurrenceOut | None = None  # usable only in this weekly window
    # product coupons (商品券): null for other kinds
    product_sku: str | None = None
    product_price_fen: int | None = None


class CouponList(Out, kw_only=True):
    items: list[Coupon]


class WalletQuery(Schema, kw_only=True):
    state: CouponState | None = None


class CustomerLookupQuery(Schema, kw_only=True):
    phone: Phone


class CustomerFound(Out, kw_only=True):
    customer_id: str
    phone_masked: str
    nickname: str | None
    created_at: Timestamp


class Budget(Out, kw_only=True):
    template_id: str
    name: str
    status: TemplateState
    funded_by: FundedBy
    funder: str | None
    budget_fen: int | None
    spent_fen: int
    remaining_fen: int | None
    issued_count: int
    used_count: int


class BudgetList(Out, kw_only=True):
    items: list[Budget]


class NotificationQuery(Schema, kw_only=True):
    kind: Literal["coupon_expiring"] = "coupon_expiring"
    limit: Annotated[int, Meta(ge=1, le=500)] = 100


class Notification(Out, kw_only=True):
    notification_id: str
    kind: str
    customer_id: str
    phone_masked: str | None
    coupon_id: str | None
    message: str
    channel: str
    created_at: Timestamp


class NotificationList(Out, kw_only=True):
    items: list[Notification]


class RedeemCodeRequest(Schema, kw_only=True):
    """Redeem a shareable code. ``request_id`` makes it idempotent: the same id again
    answers the same coupon (200)."""

    code: Annotated[str, Meta(min_length=1, max_length=40, examples=["spring2027"])]
    request_id: Id


# --- coupons sold for money (一元买百元券) ---------------------------------------------

SaleStatus = Literal["awaiting_payment", "paid", "refunded", "expired"]
SaleRefundReason = Literal["requested", "sold_out", "limit_reached", "template_not_active"]


class CouponSaleCreate(Schema, kw_only=True):
    """Buy a coupon whose template has a ``sale_price_fen``. ``request_id`` makes the
    purchase idempotent: the same id again answers the same sale (200)."""

    template_id: Id
    request_id: Id


class CouponSale(Out, kw_only=True):
    """A coupon bought for money. ``coupon_id`` is set once the payment issued the coupon
    (it stays set, voided, after a refund). ``refund_reason``: ``requested`` by the
    customer, or why the coupon could not be issued after payment (the payment was then
    refunded in full). An unpaid sale past ``expires_at`` reads ``expired``."""

    sale_id: str
    customer_id: str
    template_id: str
    name: str
    price_fen: int
    status: SaleStatus
    coupon_id: str | None
    refund_id: str | None
    refund_reason: SaleRefundReason | None
    created_at: Timestamp
    expires_at: Timestamp
    paid_at: Timestamp | None
    refunded_at: Timestamp | None


class CouponSalePaymentStart(Out, kw_only=True):
    """What the storefront needs to open the payment sheet for a coupon sale."""

    sale_id: str
    provider: str
    amount_fen: int
    params: dict[str, str]


COUPON_SALE_EXAMPLE = {
    "sale_id": "CS3F9A0C1D2E4B5A6C",
    "customer_id": "c-3f2a9b1c4d5e6f70",
    "template_id": "buy-1-get-100",
    "name": "满300减100",
    "price_fen": 100,
    "status": "paid",
    "coupon_id": "buy-1-get-100:sale:CS3F9A0C1D2E4B5A6C",
    "refund_id": None,
    "refund_reason": None,
    "created_at": "2026-11-24T02:00:00.123Z",
    "expires_at": "2026-11-24T02:15:00Z",
    "paid_at": "2026-11-24T02:01:10Z",
    "refunded_at": None,
}

# Component-level examples for the OpenAPI document (schema name -> example).
EXAMPLES = {
    "CouponSale": COUPON_SALE_EXAMPLE,
    "CouponSalePaymentStart": {
        "sale_id": "CS3F9A0C1D2E4B5A6C",
        "provider": "local",
        "amount_fen": 100,
        "params": {"simulate_url": "/local/payments/CS3F9A0C1D2E4B5A6C/complete"},
    },
}


# --- workflow (issue 18 item 5): approve, reject ---------------------------------------


class TemplateApproveRequest(Schema, kw_only=True):
    """Send ``expected_version`` (the ``version`` you reviewed): a change made since is a
    409 ``coupon_template_changed`` and nothing is approved."""

    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None


class TemplateRejectRequest(Schema, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500, examples=["面额过高"])]
    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None
