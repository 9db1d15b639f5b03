"""Paid membership (付费会员卡) tables: head office's plans, each member's card (one item:
what checkout reads in the cart's BatchGetItem), the card's history entries, and the
purchases awaiting or past payment."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list

PACK_SHARDS = 4  # partitions of the pack index: the monthly job queries each


class PlansListed(GlobalSecondaryIndex):
    """Every plan under one key: listing the plans (a handful) is one Query, not a Scan."""

    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "plans"
    plan_id = UnicodeAttribute(range_key=True)


class PaidPlanModel(Model):
    """A plan head office sells: its period, price and benefits. Edited under ``version``."""

    Meta = _meta("paid_plans")

    plan_id = UnicodeAttribute(hash_key=True)
    listing = UnicodeAttribute(default="plans")
    name = UnicodeAttribute()
    period = UnicodeAttribute()  # month | quarter | year
    price_fen = NumberAttribute()
    free_delivery = BooleanAttribute(default=False)
    discount_permille = NumberAttribute(default=0)  # taken off the list price
    member_prices: MapAttribute[str, int] = MapAttribute(default=dict)  # sku -> unit fen
    coupon_template_ids = string_list(default=list)  # the monthly pack
    active = BooleanAttribute(default=True)
    version = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    by_listing = PlansListed()


class CardsByPlan(GlobalSecondaryIndex):
    """Cards by plan and end: head office's count of running cards per plan is one
    keys-only Query (``ends_at > now``) per plan."""

    class Meta:
        index_name = "by_plan"
        projection = KeysOnlyProjection()

    plan_id = UnicodeAttribute(hash_key=True)
    ends_at = UnicodeAttribute(range_key=True)


class CardsPackDue(GlobalSecondaryIndex):
    """Sparse: cards with a monthly coupon pack to issue, by when (absent once the
    membership has no month left): the job reads only the cards due, never scans."""

    class Meta:
        index_name = "by_pack"
        projection = KeysOnlyProjection()

    pack_shard = UnicodeAttribute(hash_key=True)  # "k0".."k3" while a pack is due
    next_pack_at = UnicodeAttribute(range_key=True)


class PaidCardModel(Model):
    """A member's card: the plan's benefits as bought (a later plan edit does not change
    a card already paid for), the membership's start and end. Changed under ``version``
    (read, compute, conditional write); one item so checkout reads it with the cart."""

    Meta = _meta("paid_cards")

    customer_id = UnicodeAttribute(hash_key=True)
    plan_id = UnicodeAttribute()
    plan_name = UnicodeAttribute()
    free_delivery = BooleanAttribute(default=False)
    discount_permille = NumberAttribute(default=0)
    member_prices: MapAttribute[str, int] = MapAttribute(default=dict)
    coupon_template_ids = string_list(default=list)
    started_at = UnicodeAttribute()  # this continuous membership's start (packs count from it)
    ends_at = UnicodeAttribute()
    trial = BooleanAttribute(default=False)  # the running period is the free trial
    trial_used_at = UnicodeAttribute(null=True)
    benefit_used_at = UnicodeAttribute(null=True)  # since started_at (refund rule)
    packs_issued = NumberAttribute(default=0)  # of this membership
    pack_shard = UnicodeAttribute(null=True)
    next_pack_at = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)

    by_plan = CardsByPlan()
    by_pack = CardsPackDue()


class PaidCardEntryModel(Model):
    """The card's history, keyed by what caused it (``buy:<purchase>``, ``trial``,
    ``refund:<request>``, ``pack:<start>:<k>``), written with ``attribute_not_exists`` in
    the transaction that changes the card: a repeated notice or grant writes nothing."""

    Meta = _meta("paid_card_entries")

    customer_id = UnicodeAttribute(hash_key=True)
    ref = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # buy | trial | refund | pack
    at = UnicodeAttribute()
    plan_id = UnicodeAttribute(null=True)
    plan_name = UnicodeAttribute(null=True)
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    amount_fen = NumberAttribute(default=0)  # paid (buy) or paid back (refund, negative)
    purchase_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    payment_provider = UnicodeAttribute(null=True)
    refunded = BooleanAttribute(default=False)  # a buy already paid back
    refund_ids = string_list(default=list)
    coupon_ids = string_list(default=list)  # a pack's coupons
    actor = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)


class PaidPurchaseModel(Model):
    """A purchase of a plan: awaiting payment (as long as an order), then paid once."""

    Meta = _meta("paid_card_purchases")

    purchase_id = UnicodeAttribute(hash_key=True)  # "PM" + 16 [0-9A-F]
    customer_id = UnicodeAttribute()
    request_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    plan_name = UnicodeAttribute()
    period = UnicodeAttribute()
    price_fen = NumberAttribute()
    status = UnicodeAttribute()  # awaiting_payment | paid | refunded
    created_at = UnicodeAttribute()
    expires_at = UnicodeAttribute()
    payment_id = UnicodeAttribute(null=True)
    payment_provider = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)


PAID_MEMBERSHIP_MODELS: tuple[type[Model], ...] = (
    PaidPlanModel,
    PaidCardModel,
    PaidCardEntryModel,
    PaidPurchaseModel,
)
