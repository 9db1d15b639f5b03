"""The campaign item (issue 16 item 2): what a campaign is (grade, window, stores,
target segment, goal, plan, the promotions and coupon templates it holds) and its live
budget. ``left_fen`` is decremented with a condition in each order's own transaction,
so the discounts never exceed the budget (campaign_budgets/ holds those pieces).

Money is integer fen; times are UTC ISO-8601 (the window is entered in the chain's
local time, Asia/Shanghai, and stored in UTC)."""

from __future__ import annotations

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list
from chalicelib.db.transitions import HistoryAttribute

GRADES = ("S", "A", "B", "C")
STATES = ("draft", "scheduled", "live", "ended", "reviewed")
FUNDERS = ("hq", "store", "supplier")


class GoalAttribute(MapAttribute):
    """The campaign's goal (the P of PDCA): numbers, each optional."""

    gmv_fen = NumberAttribute(null=True)
    orders = NumberAttribute(null=True)
    new_members = NumberAttribute(null=True)
    aov_fen = NumberAttribute(null=True)


class CampaignsListing(GlobalSecondaryIndex):
    """Every campaign by start (a chain runs a few hundred a year): head office's list
    and calendar, and the live-campaigns cache, read with one Query."""

    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "campaigns"
    starts_key = UnicodeAttribute(range_key=True)  # "<starts_at>#<campaign_id>"


class CampaignModel(Model):
    Meta = _meta("campaigns")
    # campaign.budget_alert comes from this stream (events/records.py: STREAM_VIEWS)
    Meta.stream_view_type = "NEW_AND_OLD_IMAGES"

    campaign_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    grade = UnicodeAttribute()  # GRADES
    state = UnicodeAttribute(default="draft")  # STATES
    starts_at = UnicodeAttribute()  # UTC ISO-8601
    ends_at = UnicodeAttribute()
    # Stores: "all", a "list" (stores) or "tiers" (store_tiers: ["S", "A"], resolved
    # against the stores' current TOP tiers when the campaign is scheduled).
    stores_mode = UnicodeAttribute(default="all")
    stores = string_list(default=list)
    store_tiers = string_list(default=list)
    segment_id = UnicodeAttribute(null=True)  # a saved segment (customers/segments.py)
    goal = GoalAttribute(null=True)
    plan_notes = UnicodeAttribute(null=True)
    # The budget, split by funder; budget_fen is their sum. left_fen starts at
    # budget_fen and is decremented conditionally by each order's discounts from the
    # campaign (never below zero) and unconditionally by costs accrued after the fact
    # (points multipliers, commissions, lottery prizes), which can take it below zero.
    budget_hq_fen = NumberAttribute(default=0)
    budget_store_fen = NumberAttribute(default=0)
    budget_supplier_fen = NumberAttribute(default=0)
    budget_fen = NumberAttribute(default=0)
    left_fen = NumberAttribute(default=0)
    # What the campaign contains (their items carry campaign_id too).
    promotion_ids = string_list(default=list)
    coupon_template_ids = string_list(default=list)
    member_day_ids = string_list(default=list)  # member_day promotions
    mechanic_ids = string_list(default=list)  # issue 17's group buys, lotteries, ...
    node_id = UnicodeAttribute(null=True)  # the calendar node it was created from
    # The default stacking policy of its promotions and templates (issue 18 item 1,
    # kernel/stacking.py): copied onto those created in it without their own; absent =
    # none (the fixed matrix). Checkout never reads it.
    default_stacking = MapAttribute(null=True)  # type: ignore[var-annotated]
    # The C and A of PDCA, recorded after the review.
    review_note = UnicodeAttribute(null=True)
    next_goal = GoalAttribute(null=True)
    listing = UnicodeAttribute(default="campaigns")
    starts_key = UnicodeAttribute()
    request_hash = UnicodeAttribute(null=True)  # a retried create with the same body
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)  # + 1 on every edit (optimistic concurrency)
    # What was spent (fen), by funder and by kind; the review reads these. Discounts are
    # added in the order's transaction (given back on cancel/refund); the costs after
    # the fact by their subscribers. spent = budget_fen - left_fen.
    spent_hq_fen = NumberAttribute(default=0)
    spent_store_fen = NumberAttribute(default=0)
    spent_supplier_fen = NumberAttribute(default=0)
    discounts_fen = NumberAttribute(default=0)  # coupon and promotion discounts
    points_cost_fen = NumberAttribute(default=0)  # extra points from multipliers, valued
    commission_fen = NumberAttribute(default=0)  # staff distribution commissions
    prizes_fen = NumberAttribute(default=0)  # lottery free orders (issue 17)
    spending_orders = NumberAttribute(default=0)  # orders holding a discount of it now
    alerted_at = UnicodeAttribute(null=True)  # the 80 % alert, once
    # Every change of state (who, when, from, to): db/transitions' compact entries.
    history = HistoryAttribute(default=list)

    by_listing = CampaignsListing()


def starts_key(starts_at: str, campaign_id: str) -> str:
    return f"{starts_at}#{campaign_id}"


class AccrualModel(Model):
    """A cost accrued to a campaign after the fact (points multiplier, commission,
    lottery prize): its marker, created in the same transaction as the campaign's
    ``ADD left_fen -amount``, so each key is accrued once (campaign_budgets/repo.py
    ``accrue``). Also the ledger the review can list a campaign's costs from."""

    Meta = _meta("campaign_accruals")

    accrual_key = UnicodeAttribute(hash_key=True)  # "<campaign_id>#<key>"
    campaign_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # "points" | "commission" | "prize"
    amount_fen = NumberAttribute()
    created_at = UnicodeAttribute()


class MarketingSettingsModel(Model):
    """Head office's marketing settings, one item per area, as ``loyalty_settings`` keeps
    the programme's (that table is loyalty's, above promotions and coupons, which read
    these): "approvals" (the two-approver threshold, campaign_budgets/approval_settings.py).
    Absent: the code's defaults."""

    Meta = _meta("marketing_settings")

    area = UnicodeAttribute(hash_key=True)
    data = UnicodeAttribute()  # JSON of the area's settings schema
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


CAMPAIGN_BUDGET_MODELS: tuple[type[Model], ...] = (
    CampaignModel,
    AccrualModel,
    MarketingSettingsModel,
)
