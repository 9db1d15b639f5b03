"""Campaigns in the API (issue 16 item 2): head office plans a campaign (grade, window,
stores, segment, goal, budget by funder, the promotions and coupon templates it holds),
launches it through the checklist, ends and reviews it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, field

from chalicelib.kernel.schema import Fen, Out, Schema, StoreId, Timestamp
from chalicelib.kernel.stacking import STACKING_EXAMPLE, Stacking, StackingOut

Grade = Literal["S", "A", "B", "C"]
State = Literal["draft", "scheduled", "live", "ended", "reviewed"]
StoresMode = Literal["all", "list", "tiers"]
Tier = Literal["S", "A", "B", "C"]
Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
Name = Annotated[str, Meta(min_length=1, max_length=60, examples=["双11 全城狂欢"])]
Notes = Annotated[str, Meta(max_length=2000)]
Count = Annotated[int, Meta(ge=0, le=1_000_000_000)]


class Goal(Schema, kw_only=True):
    """The goal (the P of PDCA): numbers, each optional; at least one to launch."""

    gmv_fen: Fen | None = None
    orders: Count | None = None
    new_members: Count | None = None
    aov_fen: Fen | None = None


class Budget(Schema, kw_only=True):
    """The budget by funder, integer fen; the campaign's budget_fen is their sum."""

    hq_fen: Fen = 0
    store_fen: Fen = 0
    supplier_fen: Fen = 0


class CampaignBody(Schema, kw_only=True):
    """A campaign as head office writes it (create, and the whole of it on PUT).
    ``starts_at``/``ends_at`` may carry any offset (the chain's local time is
    +08:00) and are stored in UTC. ``stores_mode``: ``all``, ``list`` (``stores``) or
    ``tiers`` (``store_tiers``, resolved to stores at launch)."""

    name: Name
    grade: Grade
    starts_at: Timestamp
    ends_at: Timestamp
    stores_mode: StoresMode = "all"
    stores: Annotated[list[StoreId], Meta(max_length=500)] = field(default_factory=list)
    store_tiers: Annotated[list[Tier], Meta(max_length=4)] = field(default_factory=list)
    segment_id: Id | None = None
    goal: Goal = field(default_factory=Goal)
    plan_notes: Notes | None = None
    budget: Budget = field(default_factory=Budget)
    node_id: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    promotion_ids: Annotated[list[Id], Meta(max_length=50)] = field(default_factory=list)
    coupon_template_ids: Annotated[list[Id], Meta(max_length=50)] = field(default_factory=list)
    member_day_ids: Annotated[list[Id], Meta(max_length=20)] = field(default_factory=list)
    default_stacking: Annotated[
        Stacking | None,
        Meta(
            description="The stacking policy its promotions and coupon templates take when "
            "created in it without their own (copied then; POST "
            "/admin/campaigns/{id}/apply-default-stacking copies a changed one onto the "
            "drafts that follow it). stack_group reaches goods coupon templates only. "
            "Absent or null: none (the fixed matrix). May change until the campaign ends.",
            examples=[{**STACKING_EXAMPLE, "stack_group": None, "not_with_tiered": False}],
        ),
    ] = None


class CampaignCreate(CampaignBody, kw_only=True):
    campaign_id: Annotated[
        Id | None,
        Meta(description="Optional: choose the id to make a retried create a replay."),
    ] = None


class CampaignUpdate(CampaignBody, kw_only=True):
    version: Annotated[int, Meta(ge=0, le=1_000_000_000, description="The version you read.")]


class CampaignListQuery(Schema, kw_only=True):
    year: Annotated[int, Meta(ge=2000, le=2100)] | None = None
    state: State | None = None
    grade: Grade | None = None


class ReviewNote(Schema, kw_only=True):
    note: Annotated[str, Meta(min_length=1, max_length=4000)]
    next_goal: Goal


class GoalOut(Out, kw_only=True):
    gmv_fen: int | None
    orders: int | None
    new_members: int | None
    aov_fen: int | None


class BudgetOut(Out, kw_only=True):
    hq_fen: int
    store_fen: int
    supplier_fen: int


class TransitionOut(Out, kw_only=True):
    at: Timestamp
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str
    reason: str | None


class Campaign(Out, kw_only=True):
    """A campaign as head office sees it. ``state`` is as of now (a scheduled campaign
    whose start passed shows live before the job writes it); ``spent_fen`` =
    ``budget_fen`` - ``left_fen``; ``used_percent`` of the budget (0 without one)."""

    campaign_id: str
    name: str
    grade: Grade
    state: State
    starts_at: Timestamp
    ends_at: Timestamp
    stores_mode: StoresMode
    stores: list[str]
    store_tiers: list[str]
    segment_id: str | None
    goal: GoalOut
    plan_notes: str | None
    budget: BudgetOut
    budget_fen: int
    left_fen: int
    spent_fen: int
    used_percent: float
    node_id: str | None
    promotion_ids: list[str]
    coupon_template_ids: list[str]
    member_day_ids: list[str]
    mechanic_ids: list[str]
    default_stacking: StackingOut | None  # null: none (the fixed matrix)
    review_note: str | None
    next_goal: GoalOut | None
    history: list[TransitionOut]
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class CampaignList(Out, kw_only=True):
    items: list[Campaign]


class Check(Out, kw_only=True):
    """One check of the launch checklist: ``blocking`` checks that fail refuse the
    launch; the others are warnings. ``details`` say what was found (the conflicting
    campaigns, the carts that lose money, the test order's totals)."""

    id: str
    ok: bool
    blocking: bool
    message: str
    details: Any


class Checklist(Out, kw_only=True):
    campaign_id: str
    ok: bool  # every blocking check passed: the campaign may launch
    checks: list[Check]


# --- simulate a promotion (issue 18 item 5) --------------------------------------------


class SimLine(Schema, kw_only=True):
    sku: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    qty: Annotated[int, Meta(ge=1, le=999)]


class SimCart(Schema, kw_only=True):
    store_id: StoreId
    lines: Annotated[list[SimLine], Meta(min_length=1, max_length=50)]


class SimulateRequest(Schema, kw_only=True):
    """``carts`` (sample carts), or ``source: last_week``: the paid orders of the last 7
    complete local days at the promotion's or template's stores (every store when it
    names none), at most 2,000. Either way each cart is priced at its store's prices
    today."""

    carts: Annotated[list[SimCart], Meta(min_length=1, max_length=500)] | None = None
    source: Literal["last_week"] | None = None


class SimExample(Out, kw_only=True):
    cart: int  # its index in the request
    store_id: str
    subtotal_fen: int
    total_before_fen: int
    total_after_fen: int
    discounts_after: list[str]  # labels of the discounts applied in the "after" pricing


class SimulationFigures(Out, kw_only=True):
    """Goods only (no delivery fee, no member prices). ``before``: each cart priced with
    the promotions live at its store; ``after``: the same with what is simulated added.
    Margin over the lines whose unit cost the catalogue knows."""

    carts: int
    carts_changed: int
    revenue_before_fen: int
    revenue_after_fen: int
    discount_before_fen: int
    discount_after_fen: int
    discount_cost_fen: int  # after - before: what publishing it would have cost
    by_funder: dict[str, int]  # the extra discount by who pays it
    margin_before_fen: int
    margin_after_fen: int
    lines_without_cost: int
    examples: list[SimExample]


class SimulateResult(SimulationFigures, kw_only=True):
    """A promotion's simulation: ``after`` adds this promotion as if live (no customer's
    coupons either side)."""

    promotion_id: str


class TemplateSimulateResult(SimulationFigures, kw_only=True):
    """A coupon template's simulation: ``after`` is each cart priced as if its customer
    held one coupon of this template (its threshold, scope, stacking policy and margin
    floor as at checkout; the engine applies it only where it is the best choice)."""

    template_id: str


class CampaignClone(Schema, kw_only=True):
    """A copy of a campaign with a new window: ``campaign_id`` (the copy's id, chosen by
    the client) makes a retried clone answer the same copy."""

    campaign_id: Id
    starts_at: Timestamp
    ends_at: Timestamp
    name: Name | None = None


# --- a campaign's default stacking policy (issue 18 item 1) -------------------------------


class ContentRef(Out, kw_only=True):
    type: Literal["promotion", "coupon_template"]
    id: str
    reason: str | None = None  # why it kept its policy (null when updated)


class AppliedDefaultStacking(Out, kw_only=True):
    """What ``apply-default-stacking`` did: ``updated`` now carry the campaign's default
    (``stacking_source: campaign``); ``kept`` did not change, each with the reason (its
    own policy, published, ended, a kind that takes no policy)."""

    campaign_id: str
    default_stacking: StackingOut | None
    updated: list[ContentRef]
    kept: list[ContentRef]
