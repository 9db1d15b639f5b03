"""Store TOP tiers' two tables (docs/campaigns.md "Store TOP tiers").

* ``store_months``: a store's inputs for one month (its local month, YYYY-MM): the
  uptime sampler's slot counts (``open_slots``: 5-minute slots inside business hours;
  ``up_slots``: those the store was active with a healthy relay; ``last_slot``, the
  last slot counted, makes a replayed sample count nothing), and the month's total
  transactions entered by head office (O's denominator).
* ``store_tier_months``: the scored month (T, O, P in basis points, their inputs, the
  tier and the thresholds used), written whole by the monthly job: a rerun rewrites the
  same item.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db.models import _meta


class StoreMonthModel(Model):
    Meta = _meta("store_months")

    store_id = UnicodeAttribute(hash_key=True)
    month = UnicodeAttribute(range_key=True)  # YYYY-MM, the store's time zone
    open_slots = NumberAttribute(null=True)
    up_slots = NumberAttribute(null=True)
    last_slot = NumberAttribute(null=True)  # epoch // 300 of the last slot counted
    transactions = NumberAttribute(null=True)  # the month's total (POS + online)
    transactions_by = UnicodeAttribute(null=True)
    transactions_at = UnicodeAttribute(null=True)


class StoreTierMonthModel(Model):
    Meta = _meta("store_tier_months")

    store_id = UnicodeAttribute(hash_key=True)
    month = UnicodeAttribute(range_key=True)  # YYYY-MM
    tier = UnicodeAttribute()  # S | A | B | C
    t_bp = NumberAttribute(null=True)  # null: not known (see rules.score)
    o_bp = NumberAttribute(null=True)
    p_bp = NumberAttribute(null=True)
    open_slots = NumberAttribute(default=0)
    up_slots = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)
    transactions = NumberAttribute(null=True)
    on_time = NumberAttribute(default=0)
    timed = NumberAttribute(default=0)
    thresholds = UnicodeAttribute()  # JSON of the thresholds used
    scored_at = UnicodeAttribute()


STORE_TIER_MODELS: tuple[type[Model], ...] = (StoreMonthModel, StoreTierMonthModel)
