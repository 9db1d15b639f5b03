"""Tables of growth value and levels, check-in and tasks (issue 14 items 4 and 5).

A growth account changes under its ``version`` condition (it holds the level and the
month buckets the downgrade rule reads), in the same transaction as the entry that
caused the change, keyed by its cause with ``attribute_not_exists``."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list

REVIEW_SHARDS = 4


class AccountsToReview(GlobalSecondaryIndex):
    """Sparse: accounts above the lowest level while a downgrade rule is on, by when the
    review job must look at them again (queried ``review_at <= now`` per shard)."""

    class Meta:
        index_name = "by_review"
        projection = KeysOnlyProjection()

    review_shard = UnicodeAttribute(hash_key=True)
    review_at = UnicodeAttribute(range_key=True)


class GrowthAccountModel(Model):
    """A member's growth value (成长值) and level (会员等级)."""

    Meta = _meta("growth_accounts")

    customer_id = UnicodeAttribute(hash_key=True)
    total = NumberAttribute(default=0)
    level = UnicodeAttribute(null=True)  # None: the lowest level
    level_since = UnicodeAttribute(null=True)
    gifted_level = UnicodeAttribute(null=True)  # level-up gifts issued up to this level
    # "YYYY-MM" (Shanghai) -> growth earned that month (the downgrade rule's window)
    months: MapAttribute[str, int] = MapAttribute(default=dict)
    version = NumberAttribute(default=0)
    # A downgrade announced: to which level, from when (the member sees it)
    notice_level = UnicodeAttribute(null=True)
    notice_at = UnicodeAttribute(null=True)
    review_shard = UnicodeAttribute(null=True)
    review_at = UnicodeAttribute(null=True)
    birthday_year = UnicodeAttribute(null=True)  # last year the birthday coupon was given
    updated_at = UnicodeAttribute(null=True)
    # The last change made without a transaction (an order's completion: growth.
    # apply_once), as compact JSON: its cause, its entries, its task rewards and level
    # change, until they are all written (decisions.md entry 28). A cause is applied iff
    # it is this one's or its entry exists: the next such change writes what a crash
    # left unwritten before replacing it.
    last_change = UnicodeAttribute(null=True)
    # The order tasks' state, changed with the order's growth: completed orders in
    # ``orders_month`` ("YYYY-MM", Shanghai), and the tasks rewarded through orders
    # ("<task>:once", "<task>:<month>"; the month's only, with the once ones)
    orders_month = UnicodeAttribute(null=True)
    orders_in_month = NumberAttribute(null=True)
    order_tasks = string_list(default=list)

    by_review = AccountsToReview()


class GrowthEntriesByTime(GlobalSecondaryIndex):
    """A member's growth and level history, newest first."""

    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    at_key = UnicodeAttribute(range_key=True)  # "<at with ms>#<entry_key>"


class GrowthEntryModel(Model):
    """One change of a member's growth (``order:<id>``, ``refund:<id>``,
    ``task:<task>:<period>``) or level (``level:<at>``): the level history."""

    Meta = _meta("growth_entries")

    customer_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    at_key = UnicodeAttribute()
    kind = UnicodeAttribute()  # order | refund | task | level
    delta = NumberAttribute(default=0)
    total_after = NumberAttribute(default=0)
    reason = UnicodeAttribute(null=True)
    level_from = UnicodeAttribute(null=True)
    level_to = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    base_fen = NumberAttribute(null=True)  # an order's: paid - refunded at completion
    refunded_base_fen = NumberAttribute(null=True)
    reversed_growth = NumberAttribute(null=True)  # taken back by later refunds

    by_time = GrowthEntriesByTime()


class CheckinModel(Model):
    """A member's check-ins: one item per store-local day (``day`` "YYYY-MM-DD",
    written with ``attribute_not_exists``) and one ``day="state"`` item (streak, last
    day, month count) changed under its version, both in the points award's transaction."""

    Meta = _meta("checkins")

    customer_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute(null=True)
    points = NumberAttribute(default=0)
    streak = NumberAttribute(default=0)
    rewards = string_list(default=list)
    # state item only
    last_day = UnicodeAttribute(null=True)
    month = UnicodeAttribute(null=True)
    month_days = NumberAttribute(null=True)
    total_days = NumberAttribute(null=True)
    version = NumberAttribute(null=True)


class TaskProgressModel(Model):
    """A member's task records: ``done:<task>:<period>`` once rewarded (the order tasks'
    counts live on the growth account, changed with the order's growth)."""

    Meta = _meta("task_progress")

    customer_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    n = NumberAttribute(default=0)  # the counter's count
    at = UnicodeAttribute(null=True)


PROGRAMME_MODELS: tuple[type[Model], ...] = (
    GrowthAccountModel,
    GrowthEntryModel,
    CheckinModel,
    TaskProgressModel,
)
