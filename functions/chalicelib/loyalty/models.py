"""Loyalty tables: members' loyalty accounts (points and growth in one item), the points
entries, the programme settings (one item per area: points, check-in, levels... each
part its own) and the points mall.

An account holds its lots in one list attribute, each lot a short string
(``lots.encode_lot``), so a member's balance, locks and lots are one GetItem and one
conditional update. Size: matured lots with the same expiry are merged (expiries fall at
the end of a day), so a member has at most one matured lot per expiry day in the
validity window (≤ 366 with "12 months", ≤ 2 with "end of the following year") plus one
pending lot per order of the last pending days: under 40 KB even for a member who
checks in every day, far from DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib.db.models import CompactJSONAttribute, _meta, string_list
from chalicelib.loyalty.paid_models import PAID_MEMBERSHIP_MODELS

DUE_SHARDS = 8  # the due index's partitions: the scheduled job queries each
REVIEW_SHARDS = 4  # the review index's partitions (growth.review_levels queries each)


class AccountsDue(GlobalSecondaryIndex):
    """Sparse: accounts with a lot to mature or expire (or debt to repay), by when. The
    job queries ``next_due_at <= now`` in each shard: it reads no account with nothing
    due, and never scans."""

    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)  # "p0".."p7" while something is due
    next_due_at = UnicodeAttribute(range_key=True)


class AccountsToReview(GlobalSecondaryIndex):
    """Sparse: accounts above the lowest level while a downgrade rule is on, by when the
    review job must look at them again (queried ``review_at <= now`` per shard)."""

    class Meta:
        index_name = "by_review"
        projection = KeysOnlyProjection()

    review_shard = UnicodeAttribute(hash_key=True)
    review_at = UnicodeAttribute(range_key=True)


class LoyaltyAccountModel(Model):
    """A member's loyalty account: points (积分) and growth value (成长值) with the level,
    in ONE item, so an order's completion (its points, its growth, the order tasks it
    achieves) is one conditional UpdateItem (loyalty/order_completion.py; decisions.md
    entry 32). ``version`` guards the whole item: every change that reads the lots or the
    growth state writes under ``version == read`` and bumps it, retried on conflict.

    Points: scalars change by ADD under a condition (a lock: ADD with
    ``spendable >= n``, no read); the lots list only under the ``version`` condition
    (read, apply loyalty/points_ledger, write). Growth: ``total`` by ADD, the month
    buckets and the level under ``version``."""

    Meta = _meta("loyalty_accounts")

    customer_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0)  # plain number: lock pieces must not bump it
    updated_at = UnicodeAttribute(null=True)

    # --- points (loyalty/points.py) ---
    # the lots, each "left|expires_at|available_at|order_id|lot_id", compressed: a
    # member's few pending lots would otherwise take the item over 1 KB (2 write units
    # on every change)
    lots: CompactJSONAttribute = CompactJSONAttribute(null=True)
    spendable = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    locked = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    # order id -> points the unpaid order holds (set and removed by its lock pieces)
    locks: MapAttribute[str, int] = MapAttribute(default=dict)
    due_shard = UnicodeAttribute(null=True)
    next_due_at = UnicodeAttribute(null=True)
    # The last points change made without a transaction (an earn: points.award),
    # compressed JSON (its cause and its entries) until its entries are written: a cause is
    # applied iff it is this one's or its entry exists (decisions.md entry 28)
    last_change: CompactJSONAttribute = CompactJSONAttribute(null=True)

    # --- growth and level (loyalty/growth.py) ---
    total = NumberAttribute(null=True)  # growth value
    level = UnicodeAttribute(null=True)  # None: the lowest level
    level_since = UnicodeAttribute(null=True)
    gifted_level = UnicodeAttribute(null=True)  # level-up gifts issued up to this level
    # "YYYY-MM" (Shanghai) -> growth earned that month (the downgrade rule's window)
    months: MapAttribute[str, int] = MapAttribute(null=True)
    # A downgrade announced: to which level, from when (the member sees it)
    notice_level = UnicodeAttribute(null=True)
    notice_at = UnicodeAttribute(null=True)
    review_shard = UnicodeAttribute(null=True)
    review_at = UnicodeAttribute(null=True)
    birthday_year = UnicodeAttribute(null=True)  # last year the birthday coupon was given
    # The last growth change made without a transaction (growth.apply_once), as compact
    # compressed JSON: its cause, its entries, its points entries and level change, until
    # they are all
    # written (decisions.md entry 28).
    growth_last_change: CompactJSONAttribute = CompactJSONAttribute(null=True)
    # The order tasks' state, changed with the order's growth: completed orders in
    # ``orders_month`` ("YYYY-MM", Shanghai), and the tasks rewarded through orders
    # ("<task>:once", "<task>:<month>"; the month's only, with the once ones)
    orders_month = UnicodeAttribute(null=True)
    orders_in_month = NumberAttribute(null=True)
    order_tasks = string_list()

    by_due = AccountsDue()
    by_review = AccountsToReview()


class PointsEntryModel(Model):
    """One change of a member's points, keyed by what caused it (``earn:order:<id>``,
    ``reverse:refund:<id>``, ``adjust:<request id>``, ``expire:<lot>:<n>``...): written
    with ``attribute_not_exists`` in the transaction that changes the account, so a
    retried or replayed cause writes nothing twice. The table is the member's loyalty
    entries: an order's completion writes its points entry and its growth entry as one
    item (programme_models.GrowthEntryModel; decisions.md entry 32); an item without
    ``kind`` has no points part."""

    Meta = _meta("loyalty_entries")

    customer_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    at_key = UnicodeAttribute()  # "<at with ms>#<n>#<entry_key>": the history's order
    at = UnicodeAttribute()
    kind = UnicodeAttribute()  # earn | spend | reverse | return | expire | adjust | mature | repay
    delta = NumberAttribute()  # change of the net balance
    debt = NumberAttribute(default=0)  # change of the debt
    balance_after = NumberAttribute()  # net balance (spendable + locked + pending - debt)
    lots = string_list(default=list)  # "<lot_id>=<points>" taken from or put in
    order_id = UnicodeAttribute(null=True)
    expires_at = UnicodeAttribute(null=True)  # of the lot earned
    available_at = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)  # head office adjustments: who
    # An order's earn: what it was earned on, and the refunds reversed since (proportional)
    base_fen = NumberAttribute(null=True)  # paid - refunded at completion
    refunded_base_fen = NumberAttribute(null=True)  # order's refunded_fen at completion
    refunded_seen_fen = NumberAttribute(null=True)  # refunded since, already reversed
    reversed_points = NumberAttribute(null=True)
    # An order's spend: points returned for refunds so far, of the order's paid_fen
    returned_points = NumberAttribute(null=True)


class LoyaltySettingsModel(Model):
    """Head office's programme settings, one item per area ("points", "checkin",
    "levels"...), each owned by its part; absent: the code's defaults."""

    Meta = _meta("loyalty_settings")

    area = UnicodeAttribute(hash_key=True)
    data = UnicodeAttribute()  # JSON of the area's settings schema
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


# --- the points mall (积分商城, loyalty/mall.py) ------------------------------------------
class RewardsByCreation(GlobalSecondaryIndex):
    """Every reward, newest first: a mall lists tens of rewards, not millions (one Query)."""

    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "rewards"
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<reward_id>"


class MallRewardModel(Model):
    """A reward head office lists in the points mall: a coupon template or a product (a
    SKU redeemed at a store chosen by the member), for points or points + cash.
    ``stock`` (units left) and ``redeemed_count`` change only by ADD under a condition
    (``stock >= 1`` to take a unit), so no read-modify-write can oversell."""

    Meta = _meta("mall_rewards")

    reward_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # coupon | product
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)  # coupon
    sku = UnicodeAttribute(null=True)  # product
    points = NumberAttribute()
    cash_fen = NumberAttribute(default=0)
    stock = NumberAttribute(default=0)  # units left
    redeemed_count = NumberAttribute(default=0)
    per_member_limit = NumberAttribute(default=1)
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    listing = UnicodeAttribute(default="rewards")
    created_key = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=1)  # + 1 on every edit of the terms (not of stock)

    by_created = RewardsByCreation()


class MallCounterModel(Model):
    """How many times a member redeemed a reward: ADD 1 under ``redeemed < limit`` in the
    redemption's transaction, ADD -1 when a product redemption's order is given back."""

    Meta = _meta("mall_counters")

    counter_key = UnicodeAttribute(hash_key=True)  # "<reward_id>#<customer_id>"
    redeemed = NumberAttribute(default=0)


def mall_counter_key(reward_id: str, customer_id: str) -> str:
    return f"{reward_id}#{customer_id}"


class RedemptionsByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class MallRedemptionModel(Model):
    """One redemption, its id derived from the member and the Idempotency-Key: put with
    ``attribute_not_exists`` in the redemption's transaction, so it is its own
    idempotency record (the same key twice makes one redemption)."""

    Meta = _meta("mall_redemptions")

    redemption_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    reward_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # coupon | product
    name = UnicodeAttribute()
    points = NumberAttribute()
    cash_fen = NumberAttribute(default=0)
    request_hash = UnicodeAttribute()  # the same key with another body is refused
    coupon_id = UnicodeAttribute(null=True)  # coupon: the coupon issued
    order_id = UnicodeAttribute(null=True)  # product: the order placed
    store_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()  # done (coupon) | placed | paid | given_back (product)
    created_at = UnicodeAttribute()

    by_customer = RedemptionsByCustomer()


LOYALTY_MODELS: tuple[type[Model], ...] = (
    LoyaltyAccountModel,
    PointsEntryModel,
    LoyaltySettingsModel,
    *PAID_MEMBERSHIP_MODELS,  # paid membership's tables (loyalty/paid_models.py)
    MallRewardModel,
    MallCounterModel,
    MallRedemptionModel,
)
