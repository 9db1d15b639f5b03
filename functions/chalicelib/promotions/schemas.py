"""Checkout promotions in the API: head office creates, lists and ends tiered discounts
(满减), second-item-half-price promotions and flash sales (秒杀); the storefront reads
what is on at a store."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from chalicelib.kernel.schema import (
    AudienceOut,
    AudienceSpec,
    Fen,
    Out,
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
from chalicelib.promotions.limits_schemas import LIMITS_EXAMPLE, LimitsOut, LimitsSpec

Kind = Literal[
    "tiered", "second_half_price", "flash_sale", "member_day", "add_on", "gift", "bundle"
]
Status = Literal["draft", "pending", "active", "ended"]
Name = Annotated[
    str, Meta(min_length=1, max_length=60, description="Shown to customers.", examples=["满99减10"])
]
Category = Annotated[str, Meta(min_length=1, max_length=40)]
PromotionId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class Tier(Schema, kw_only=True):
    threshold_fen: PositiveFen
    off_fen: PositiveFen


class Scope(Schema, kw_only=True):
    """What a tiered or half-price promotion applies to; both empty = every product."""

    categories: Annotated[list[Category], Meta(max_length=50)] = field(default_factory=list)
    skus: Annotated[list[Sku], Meta(max_length=200)] = field(default_factory=list)


LevelCode = Annotated[str, Meta(pattern=r"^V[1-9]$", examples=["V3"])]
TemplateId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
SegmentId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class SkuPrice(Schema, kw_only=True):
    sku: Sku
    price_fen: PositiveFen


class MemberDaySpec(Schema, kw_only=True):
    """A member day (会员日) or member week: docs/promotions.md, "Member day".

    ``recurrence`` ``monthly`` on ``days`` of the month (1-31; a day the month lacks
    falls on its last day) or ``weekly`` on ISO weekdays (1 = Monday ... 7 = Sunday),
    local time Asia/Shanghai; ``span_days`` > 1 makes each occurrence a member week of
    that many days. ``audience``: ``members`` (every signed-in member), ``level``
    (members at ``min_level`` or above), ``segment`` (a saved segment: only the coupon
    pack, issued by a job). Benefits, at least one: ``percent_off`` on the promotion's
    ``scope``, ``member_prices`` per SKU, ``points_multiplier`` on the day's orders,
    ``coupon_template_ids`` (the pack, once per member per occurrence)."""

    recurrence: Literal["monthly", "weekly"]
    days: Annotated[list[Annotated[int, Meta(ge=1, le=31)]], Meta(min_length=1, max_length=31)]
    span_days: Annotated[int, Meta(ge=1, le=7)] = 1
    audience: Literal["members", "level", "segment"] = "members"
    min_level: LevelCode | None = None
    segment_id: SegmentId | None = None
    percent_off: Annotated[int, Meta(ge=1, le=90)] | None = None
    member_prices: Annotated[list[SkuPrice], Meta(max_length=200)] | None = None
    points_multiplier: (
        Annotated[float, Meta(ge=1.0, le=10.0, description="One decimal at most: 2, 1.5.")] | None
    ) = None
    coupon_template_ids: Annotated[list[TemplateId], Meta(max_length=10)] = field(
        default_factory=list
    )


MEMBER_DAY_EXAMPLE = {
    "recurrence": "monthly",
    "days": [18],
    "span_days": 1,
    "audience": "members",
    "percent_off": 5,
    "points_multiplier": 2,
    "coupon_template_ids": ["md-50-10"],
}


class MemberDayOut(Out, kw_only=True):
    recurrence: str
    days: list[int]
    span_days: int
    audience: str
    min_level: str | None
    segment_id: str | None
    percent_off: int | None
    member_prices: list[SkuPrice]
    points_multiplier: float | None
    coupon_template_ids: list[str]
    on_now: bool  # an occurrence is on now (inside the overall window)
    today: str | None  # the occurrence on now: its first local day, YYYY-MM-DD
    next_dates: list[str]  # first local days of the next occurrences (the one on now first)


ReturnsPolicy = Literal["proportional", "reevaluate"]
ReturnsPolicyField = Annotated[
    ReturnsPolicy | None,
    Meta(
        description="What a return of part of an order does to this discount (tiered, "
        "second item half price): proportional (default: the customer keeps each line's "
        "share) or reevaluate (the refund deducts the benefit the units kept no longer "
        "earn, never below zero). Applies to orders placed from then on.",
        examples=["reevaluate"],
    ),
]


class PromotionCreate(Schema, kw_only=True):
    """Fields by kind: ``tiered`` needs ``tiers`` (thresholds strictly increasing, each
    ``off_fen`` below its threshold) and takes ``scope`` and ``budget_fen``;
    ``second_half_price`` takes ``scope``; ``flash_sale`` needs ``sku``,
    ``flash_price_fen``, ``quantity`` (1 to 1,000,000) and ``per_customer_limit``, and
    takes ``shards`` or ``expected_peak_per_s`` (shards = ceil(peak / 250), 1 to 50, at
    most the quantity); ``member_day`` needs ``member_day`` and takes ``scope`` (what
    its ``percent_off`` covers). Fields of other kinds are refused."""

    kind: Kind
    name: Name
    stores: Annotated[list[StoreId], Meta(max_length=500, description="Empty: every store.")] = (
        field(default_factory=list)
    )
    starts_at: Timestamp
    ends_at: Timestamp
    promotion_id: Annotated[
        PromotionId | None,
        Meta(description="Optional: choose the id to make a retried create a replay."),
    ] = None
    tiers: Annotated[list[Tier], Meta(max_length=10)] | None = None
    scope: Scope | None = None
    budget_fen: PositiveFen | None = None
    sku: Sku | None = None
    flash_price_fen: PositiveFen | None = None
    quantity: Annotated[int, Meta(ge=1, le=1_000_000)] | None = None
    per_customer_limit: Annotated[int, Meta(ge=1, le=1000)] | None = None
    shards: Annotated[int, Meta(ge=1, le=50)] | None = None
    expected_peak_per_s: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    member_day: Annotated[
        MemberDaySpec | None,
        Meta(
            description="member_day only: its recurrence, audience and benefits.",
            examples=[MEMBER_DAY_EXAMPLE],
        ),
    ] = None
    # targeting (issue 18 item 4; not for member_day, which has its own)
    recurrence: Annotated[
        RecurrenceSpec | None,
        Meta(
            description="On only in this weekly window (Shanghai time), inside starts_at/ends_at.",
            examples=[{"weekdays": [3], "start": "18:00", "end": "21:00"}],
        ),
    ] = None
    audience: Annotated[
        AudienceSpec | None,
        Meta(
            description="Only for members at min_level or above, or only for the members "
            "of a saved segment as of the last nightly snapshot (segment_id; members who "
            "revoked marketing consent are in none). One of the two.",
            examples=[{"min_level": "V3"}, {"segment_id": "seg-9f2c4e1a7b3d5c60"}],
        ),
    ] = None
    # Stacking policy (issue 18 item 1): tiered and second_half_price only.
    stacking: Annotated[
        Stacking | None,
        Meta(
            description="tiered, second_half_price: how it stacks (absent: the fixed "
            "matrix; stack_group is for coupon templates).",
            examples=[{**STACKING_EXAMPLE, "stack_group": None}],
        ),
    ] = None
    margin_floor: Annotated[
        MarginFloor | None, Meta(description="tiered only. " + MARGIN_FLOOR_DOC)
    ] = None
    # issue 18, more mechanics (docs/promotions.md, "More mechanics")
    basis: Annotated[
        Literal["amount", "units"] | None,
        Meta(description="tiered: units makes thresholds count in-scope units (满件减)."),
    ] = None
    every: Annotated[
        bool | None,
        Meta(description="tiered: its one tier repeats (每满减, e.g. every ¥100 ¥10 off)."),
    ] = None
    cap_fen: Annotated[
        PositiveFen | None, Meta(description="tiered with every: the most it takes off.")
    ] = None
    percent: Annotated[
        bool | None,
        Meta(description="tiered: each tier's off_fen is a percentage off (满N件M折: 20 = 8折)."),
    ] = None
    threshold_fen: Annotated[
        PositiveFen | None,
        Meta(description="add_on, gift: the in-scope goods needed (after item promotions)."),
    ] = None
    price_fen: Annotated[
        Fen | None,
        Meta(description="add_on: the add-on SKU's price; bundle: a bundle's price."),
    ] = None
    max_units: Annotated[
        Annotated[int, Meta(ge=1, le=99)] | None,
        Meta(description="add_on: units at the add-on price."),
    ] = None
    bundle_units: Annotated[
        Annotated[int, Meta(ge=2, le=99)] | None,
        Meta(description="bundle: any N units of the list (scope)."),
    ] = None
    gift_units: Annotated[
        Annotated[int, Meta(ge=1, le=10)] | None,
        Meta(description="gift: units of sku given (default 1)."),
    ] = None
    limits: Annotated[
        LimitsSpec | None,
        Meta(
            description="tiered and second_half_price: limits per customer, order and "
            "store, new customers only (docs/promotions.md, Limits and anti-abuse).",
            examples=[LIMITS_EXAMPLE],
        ),
    ] = None
    returns_policy: ReturnsPolicyField = None
    campaign_id: Annotated[
        PromotionId | None,
        Meta(
            description="A draft campaign to create it in: the campaign lists it in the same "
            "write, and without a stacking policy of its own it takes a copy of the "
            "campaign's default_stacking (stacking_source: campaign). 409 "
            "campaign_not_draft once the campaign is scheduled.",
            examples=["C1a2b3c4d5e6f7a8b"],
        ),
    ] = None


class PromotionUpdate(Schema, kw_only=True):
    """Ending is final (a new promotion starts again); the name can change any time;
    ``budget_fen`` (tiered) not below what is spent; ``ends_at`` while it has not ended;
    ``tiers`` (tiered) only before it starts; ``recurrence`` and ``audience`` while it
    is a draft (pending included: the change clears the approvals given). Send
    ``expected_version`` (the ``version`` you read) so someone else's change meanwhile
    is a 409."""

    status: Literal["ended"] | None = None
    name: Name | None = None
    budget_fen: PositiveFen | None = None
    ends_at: Timestamp | None = None
    tiers: Annotated[list[Tier], Meta(max_length=10)] | None = None
    member_day: Annotated[
        MemberDaySpec | None,
        Meta(description="member_day: replaces its rules; refused while a member day is on."),
    ] = None
    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None
    stacking: Annotated[
        Stacking | None,
        Meta(description="tiered, second_half_price: replaces its stacking policy."),
    ] = None
    margin_floor: Annotated[MarginFloor | None, Meta(description="tiered only.")] = None
    limits: Annotated[
        LimitsSpec | None, Meta(description="Replaces the limits ({} removes them).")
    ] = None
    returns_policy: ReturnsPolicyField = None
    # targeting (issue 18 item 4): while draft or pending only (part of what is approved)
    recurrence: Annotated[
        RecurrenceSpec | UnsetType | None,
        Meta(
            description="Draft or pending only: replaces its weekly window; null removes it "
            "(absent: unchanged).",
            examples=[{"weekdays": [3], "start": "18:00", "end": "21:00"}],
        ),
    ] = UNSET
    audience: Annotated[
        AudienceSpec | UnsetType | None,
        Meta(
            description="Draft or pending only: replaces its audience (min_level); null "
            "removes it (absent: unchanged).",
            examples=[{"min_level": "V3"}],
        ),
    ] = UNSET


class PromotionListQuery(Schema, kw_only=True):
    status: Status | None = None


class TierOut(Out, kw_only=True):
    threshold_fen: int
    off_fen: int


class ScopeOut(Out, kw_only=True):
    categories: list[str]
    skus: list[str]


class PromotionApproval(Out, kw_only=True):
    by: str  # the approver's user name
    at: Timestamp


class Promotion(Out, kw_only=True):
    """A promotion as head office sees it. Flash-sale fields are null for other kinds;
    ``remaining`` and ``sold`` are read from the shards (sold = quantity - remaining,
    units of cancelled or expired orders back in remaining)."""

    promotion_id: str
    kind: Kind
    name: str
    stores: list[str]
    starts_at: Timestamp
    ends_at: Timestamp
    status: Status
    live: bool  # active and within its window now
    tiers: list[TierOut]
    scope: ScopeOut
    budget_fen: int | None
    spent_fen: int | None
    sku: str | None
    flash_price_fen: int | None
    quantity: int | None
    per_customer_limit: int | None
    shards: int | None
    remaining: int | None
    sold: int | None
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    version: int  # + 1 on every edit: send it back as expected_version
    member_day: MemberDayOut | None = None
    recurrence: RecurrenceOut | None = None
    audience: AudienceOut | None = None
    stacking: StackingOut | None = None  # tiered, second_half_price (null for others)
    stacking_source: Annotated[
        StackingSource | None, Meta(description=STACKING_SOURCE_DOC + " Null: no policy.")
    ] = None
    margin_floor: MarginFloor = "refuse"
    # issue 18, more mechanics (null when not used)
    basis: str | None = None
    every: bool | None = None
    cap_fen: int | None = None
    percent: bool | None = None
    threshold_fen: int | None = None
    price_fen: int | None = None
    max_units: int | None = None
    bundle_units: int | None = None
    gift_units: int | None = None
    limits: LimitsOut | None = None  # None: not limited
    returns_policy: ReturnsPolicy = "proportional"
    # Workflow (issue 18 item 5): approvals so far, how many it needs, why rejected.
    approvals: list[PromotionApproval] = field(default_factory=list)
    approvals_needed: int = 1
    rejected_reason: str | None = None
    campaign_id: str | None = None


class PromotionList(Out, kw_only=True):
    items: list[Promotion]


class StorePromotion(Out, kw_only=True):
    """What the storefront shows: the rule, the window and, for flash sales, the price
    and the units left (a snapshot; the purchase itself decides)."""

    promotion_id: str
    kind: Kind
    name: str
    starts_at: Timestamp
    ends_at: Timestamp
    tiers: list[TierOut]
    scope: ScopeOut
    sku: str | None
    flash_price_fen: int | None
    per_customer_limit: int | None
    remaining: int | None
    sold_out: bool
    member_day: MemberDayOut | None = None
    # A recurring promotion: its window, and [start, end] (UTC) of the one on now or next
    recurrence: RecurrenceOut | None = None
    next_window: list[Timestamp] | None = None
    # issue 18, more mechanics (null when not used)
    basis: str | None = None
    every: bool | None = None
    cap_fen: int | None = None
    percent: bool | None = None
    threshold_fen: int | None = None
    price_fen: int | None = None
    max_units: int | None = None
    bundle_units: int | None = None
    gift_units: int | None = None


class StorePromotions(Out, kw_only=True):
    store_id: str
    now: Timestamp
    items: list[StorePromotion]


class PackRefusal(Out, kw_only=True):
    template_id: str
    reason: str  # sold_out, limit_reached, template_not_active, unknown_template


class MemberDayClaim(Out, kw_only=True):
    """The coupon pack of the member day on now, claimed: the coupons issued now and the
    ones this member already had from this occurrence (once per member per occurrence)."""

    promotion_id: str
    day: str  # the occurrence's first local day, YYYY-MM-DD
    issued: list[str]
    already_issued: list[str]
    refused: list[PackRefusal]


# --- workflow (issue 18 item 5): approve, reject, clone --------------------------------

Reason = Annotated[str, Meta(min_length=1, max_length=500, examples=["预算超出本季度计划"])]


class ApproveRequest(Schema, kw_only=True):
    """Send ``expected_version`` (the ``version`` you reviewed): a change made since is a
    409 ``promotion_changed`` and nothing is approved."""

    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None


class RejectRequest(Schema, kw_only=True):
    reason: Reason
    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None


class PromotionClone(Schema, kw_only=True):
    """A copy as a draft: new window, optional new name; ``promotion_id`` (the copy's id,
    chosen by the client) makes a retried clone answer the same copy."""

    promotion_id: PromotionId
    starts_at: Timestamp
    ends_at: Timestamp
    name: Name | None = None
