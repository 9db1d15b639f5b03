"""Tables of growth entries, check-in and tasks (issue 14 items 4 and 5). The growth
value and the level live on the member's loyalty account (loyalty/models.py
LoyaltyAccountModel), changed under its ``version`` condition with the entry that caused
the change, keyed by its cause with ``attribute_not_exists``."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list


class GrowthEntryModel(Model):
    """One change of a member's growth or level, in the loyalty entries table it shares
    with the points entries (loyalty/models.py PointsEntryModel; decisions.md entry 32).

    An order's completion writes ONE item per cause for both ledgers: ``earn:order:<id>``
    and the order tasks' ``task:<task>:<period>`` hold the points entry and the growth
    entry side by side (the growth part's attributes are stored under ``g_`` names).
    Growth-only causes have keys of their own (``refund:<id>``, ``level:<at>``,
    ``growth:task:<task>:<period>`` for the tasks rewarded outside orders), so no write
    of one ledger ever meets an item of the other."""

    Meta = _meta("loyalty_entries")

    customer_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute(attr_name="g_at")
    # "<at with ms>#<n>#<entry_key>": the history's order
    at_key = UnicodeAttribute(attr_name="g_at_key")
    kind = UnicodeAttribute(attr_name="g_kind")  # order | refund | task | level
    delta = NumberAttribute(default=0, attr_name="g_delta")
    total_after = NumberAttribute(default=0, attr_name="g_total")
    reason = UnicodeAttribute(null=True, attr_name="g_reason")
    level_from = UnicodeAttribute(null=True)
    level_to = UnicodeAttribute(null=True)
    # an order's (the same values as its points part, when the item has one)
    order_id = UnicodeAttribute(null=True)
    base_fen = NumberAttribute(null=True)  # paid - refunded at completion
    refunded_base_fen = NumberAttribute(null=True)
    reversed_growth = NumberAttribute(null=True)  # taken back by later refunds


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
    GrowthEntryModel,  # the loyalty entries table, shared with PointsEntryModel
    CheckinModel,
    TaskProgressModel,
)
