"""Checkout promotions: tiered spend discounts (满减), second item half price and flash
sales (秒杀) with their sharded quantity counters. Filled in by issue #6.

A flash sale's quantity lives in ``FlashShardModel`` items, not in the promotion item: a
DynamoDB item takes about 1,000 write units a second and a transactional write costs two,
so one counter would cap a sale at ~500 purchases a second. See docs/flash-sales.md.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list


class TierAttribute(MapAttribute):
    """满 threshold_fen 减 off_fen."""

    threshold_fen = NumberAttribute()
    off_fen = NumberAttribute()


class SkuPriceAttribute(MapAttribute):
    """A member day's member price for one SKU."""

    sku = UnicodeAttribute()
    price_fen = NumberAttribute()


class LimitsAttribute(MapAttribute):
    """A promotion's limits (promotions/limits.py): each None when not limited."""

    per_customer_per_day = NumberAttribute(null=True)
    per_customer_per_week = NumberAttribute(null=True)
    per_customer_per_campaign = NumberAttribute(null=True)
    per_order_units = NumberAttribute(null=True)
    per_store_per_day = NumberAttribute(null=True)
    first_order_only = BooleanAttribute(null=True)
    new_customers_only = NumberAttribute(null=True)  # registered within N days
    one_per = string_list(default=list)  # "device" | "address" | "payment": anti-abuse


class ApprovalAttribute(MapAttribute):
    """One approval of a draft (kernel/approvals.py): who, when (UTC ISO)."""

    by = UnicodeAttribute()
    at = UnicodeAttribute()


class PromotionsByStatus(GlobalSecondaryIndex):
    """Promotions by status, ordered by when they end: ``active_for`` reads the active ones
    that have not ended yet with one Query; head office lists by status."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)  # "draft" | "pending" | "active" | "ended"
    ends_key = UnicodeAttribute(range_key=True)  # "<ends_at>#<promotion_id>"


class PromotionModel(Model):
    """A checkout promotion. Kind-specific attributes are null for the other kinds."""

    Meta = _meta("promotions")

    promotion_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "tiered" | "second_half_price" | "flash_sale" | "member_day"
    name = UnicodeAttribute()
    stores = string_list(default=list)  # empty = every store
    starts_at = UnicodeAttribute()  # UTC ISO-8601
    ends_at = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    ends_key = UnicodeAttribute()
    # tiered and second_half_price: what the discount applies to (both empty = everything)
    tiers = ListAttribute(of=TierAttribute, default=list)
    scope_categories = string_list(default=list)
    scope_skus = string_list(default=list)
    # flash_sale
    sku = UnicodeAttribute(null=True)
    flash_price_fen = NumberAttribute(null=True)
    quantity = NumberAttribute(null=True)
    per_customer_limit = NumberAttribute(null=True)
    # The most a flash sale can give away, Σ (list price - flash price) × quantity at its
    # dearest store, set at create: its budget for the approval rule (None: unknown)
    flash_giveaway_fen = NumberAttribute(null=True)
    shards = NumberAttribute(null=True)
    # tiered: an optional campaign budget; budget_left_fen is decremented conditionally
    budget_fen = NumberAttribute(null=True)
    budget_left_fen = NumberAttribute(null=True)
    # member_day (promotions/member_day.py): recurrence, audience, benefits; percent_off
    # applies to scope_categories / scope_skus (both empty: every product)
    md_recurrence = UnicodeAttribute(null=True)  # "monthly" | "weekly"
    md_days: ListAttribute[int] = ListAttribute(null=True)  # untyped: ints read back
    md_span_days = NumberAttribute(null=True)
    md_audience = UnicodeAttribute(null=True)  # "members" | "level" | "segment"
    md_min_level = UnicodeAttribute(null=True)
    md_segment_id = UnicodeAttribute(null=True)
    md_percent_off = NumberAttribute(null=True)
    md_prices = ListAttribute(of=SkuPriceAttribute, null=True)
    md_points_multiplier = UnicodeAttribute(null=True)  # decimal text: "2", "1.5"
    md_coupon_templates = string_list(default=list)
    request_hash = UnicodeAttribute()  # a retried create with the same body is a replay
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(null=True)  # + 1 on every edit (absent before the first)
    # The campaign holding this promotion (issue 16): its discounts spend that campaign's
    # budget too and stop with it (campaign_budgets/). Who pays for the discount, as on
    # coupon templates: "hq" | "store" | "supplier" (then ``funder`` names it).
    campaign_id = UnicodeAttribute(null=True)
    funded_by = UnicodeAttribute(default="hq")
    funder = UnicodeAttribute(null=True)
    # Targeting (issue 18 item 4, kernel/recurrence.py): on only in a weekly window
    # (ISO weekdays, local "HH:MM" start/end), and only for members at or above a level.
    rec_weekdays: ListAttribute[int] = ListAttribute(null=True)  # untyped: ints read back
    rec_start = UnicodeAttribute(null=True)
    rec_end = UnicodeAttribute(null=True)
    aud_min_level = UnicodeAttribute(null=True)
    # ... or only for the members of a saved segment (segment_memberships below)
    aud_segment_id = UnicodeAttribute(null=True)
    # Stacking policy (issue 18 item 1, kernel/stacking.py): absent = the fixed matrix.
    # A map {exclusive, priority, not_with_tiered, not_with_member_price}; margin_floor
    # "refuse" (absent) | "exclude".
    stacking = MapAttribute(null=True)  # type: ignore[var-annotated]
    # Where the policy came from: "own" | "campaign" (copied from its campaign's default,
    # follows it); absent: "own" when a policy is stored, else none (kernel/stacking.py).
    stacking_source = UnicodeAttribute(null=True)
    margin_floor = UnicodeAttribute(null=True)
    # issue 18, more mechanics (promotions/mechanics.py): tiered options (满件减, 满N件M折,
    # 每满减) and the add_on / gift / bundle fields; unset on other promotions
    tier_basis = UnicodeAttribute(null=True)  # "units"; unset: amount
    tier_every = BooleanAttribute(null=True)
    tier_cap_fen = NumberAttribute(null=True)
    tier_percent = BooleanAttribute(null=True)
    threshold_fen = NumberAttribute(null=True)  # add_on, gift
    price_fen = NumberAttribute(null=True)  # add_on, bundle
    max_units = NumberAttribute(null=True)  # add_on
    bundle_units = NumberAttribute(null=True)  # bundle
    gift_units = NumberAttribute(null=True)  # gift
    # Limits and anti-abuse (issue 18 item 3, promotions/limits.py): None (not stored)
    # on promotions without limits, which then cost no read nor write at checkout
    limits = LimitsAttribute(null=True, attr_name="lim")
    # Issue 18 item 2: "reevaluate" (returns deduct the benefit no longer earned); None
    # is "proportional" (the default: the customer keeps each line's share)
    returns_policy = UnicodeAttribute(null=True)
    # Workflow (issue 18 item 5): a draft's approvals so far (cleared by a change of its
    # money fields or a rejection) and the last rejection's reason.
    approvals = ListAttribute(of=ApprovalAttribute, default=list)
    rejected_reason = UnicodeAttribute(null=True)

    by_status = PromotionsByStatus()


class FlashShardModel(Model):
    """One slice of a flash sale's quantity. The sale's window and open flag are copied
    here so the purchase condition is checked on the shard alone: a condition check on
    the promotion item would make it the hot item again."""

    Meta = _meta("flash_shards")

    shard_key = UnicodeAttribute(hash_key=True)  # "<promotion_id>#<k>"
    promotion_id = UnicodeAttribute()
    shard = NumberAttribute()
    remaining = NumberAttribute()
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    open = NumberAttribute(default=1)  # 0 once head office ends the sale


class FlashBuyerModel(Model):
    """Units of one flash sale bought by one customer (in orders not cancelled)."""

    Meta = _meta("flash_buyers")

    buyer_key = UnicodeAttribute(hash_key=True)  # "<promotion_id>#<customer_id>"
    units = NumberAttribute(default=0)


def shard_key(promotion_id: str, shard: int) -> str:
    return f"{promotion_id}#{shard}"


def buyer_key(promotion_id: str, customer_id: str) -> str:
    return f"{promotion_id}#{customer_id}"


class LimitCounterModel(Model):
    """How often a limited promotion was used (promotions/limits.py ``counter_keys``):
    per promotion x customer x local day/week, per promotion x customer, per promotion x
    store x local day, and ``first#<customer>`` for first-order benefits; a coupon
    template's the same under "t#<template>" (``template_counter_keys``). Added to in the
    order's own transaction under the limit; taken off when the order is cancelled or
    expires unpaid."""

    Meta = _meta("promotion_limits")

    limit_key = UnicodeAttribute(hash_key=True)
    used = NumberAttribute(default=0)


class MarkersByKind(GlobalSecondaryIndex):
    """Every fingerprint marker, latest first: the suspected-abuse report reads them (new
    customers' orders only, so few)."""

    class Meta:
        index_name = "by_kind"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)  # "fp"
    updated_at = UnicodeAttribute(range_key=True)


class NewCustomerMarkerModel(Model):
    """A device, delivery address or payment account (hashed,
    ``fp#<device|address|payment>#<sha256>``) that took a new-customer benefit: ``owner``
    is the first customer who used it; with the promotion's anti-abuse on, another
    customer's order using it is refused (``new_customer_already_used``). ``uses`` records
    every order that took a new-customer benefit with it ("<order>|<customer>|<fen>|
    <promotion>|<at>"), for the report; ``paid_uses`` the same for orders the payment
    callback found paid by this account (a set: a retried notice adds nothing)."""

    Meta = _meta("new_customer_markers")

    marker_key = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="fp")
    owner = UnicodeAttribute()
    takers = UnicodeSetAttribute(default=set)
    uses = string_list(default=list)
    paid_uses = UnicodeSetAttribute(null=True)
    updated_at = UnicodeAttribute()

    by_kind = MarkersByKind()


class SegmentMembershipModel(Model):
    """The saved segments a member is in, as of the last nightly segments snapshot
    (``segs``: segment ids; members who revoked marketing consent are in none). Written by
    the snapshot job (customers/segment_memberships.py: only the members whose set
    changed; a member in no segment has no item) and read by checkout with the cart, in
    its one BatchGetItem, when a promotion for a segment is live at the store. It lives
    here, below customers, because checkout reads it and may not import customers."""

    Meta = _meta("segment_memberships")

    customer_id = UnicodeAttribute(hash_key=True)
    segs = UnicodeSetAttribute(default=set)


PROMOTION_MODELS: tuple[type[Model], ...] = (
    PromotionModel,
    FlashShardModel,
    FlashBuyerModel,
    LimitCounterModel,
    NewCustomerMarkerModel,
    SegmentMembershipModel,
)
