"""The reports' two tables.

* ``report_orders``: one small item per paid order, the lines its order.paid event
  carried (``sku:qty:fen;...``) and whether it was cancelled since. Written by the
  subscribers with SET actions only, so a redelivered event writes the same values again
  (idempotent by construction, not by counting); read back by order id when a day is
  rolled up. Lines come from the events, not from the order item (issue 11 moves them
  out of it). Kept ``KEEP_DAYS`` so any day of the report horizon can be rolled up again.
* ``report_days``: one rollup item per (store, business day), rewritten whole by the
  rollup job (reports/service.py), under 1 KB; the sales report reads only these.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from chalicelib.db.models import _meta

KEEP_DAYS = 400


class ReportOrderModel(Model):
    Meta = _meta("report_orders")

    order_id = UnicodeAttribute(hash_key=True)
    lines = UnicodeAttribute(null=True)  # "sku:qty:paid_fen;..." from order.paid
    cancelled = BooleanAttribute(null=True)  # set by order.cancelled of a paid order
    expires_at = TTLAttribute(null=True)
    # The order's discounts by source ("p:<promotion>=fen;t:<coupon template>=fen", from
    # order.paid ``discounts``), set by the same write as the lines: a campaign's review
    # counts its redemptions from the days' rollups (``disc`` below). Unset when none.
    disc = UnicodeAttribute(null=True)
    # Effect reports (issue 18): the customer of an order WITH a discount, in the same
    # write (orders without one gain nothing): the rollup reads whether they are new.
    cust = UnicodeAttribute(null=True)


class ReportDayModel(Model):
    Meta = _meta("report_days")

    store_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD, store time zone
    orders = NumberAttribute(default=0)
    paid_fen = NumberAttribute(default=0)
    refunded_fen = NumberAttribute(default=0)
    refund_orders = NumberAttribute(default=0)
    cancelled = NumberAttribute(default=0)
    printed = NumberAttribute(default=0)
    missed = NumberAttribute(default=0)
    hist = UnicodeAttribute(null=True)  # JSON list: counts per rules.LATENCY_BOUNDS_S bucket
    cats = UnicodeAttribute(null=True)  # JSON {category1: [paid_fen, units]}
    top = UnicodeAttribute(null=True)  # JSON {sku: [units, paid_fen]}: the day's top 20
    updated_at = UnicodeAttribute(null=True)
    # Punctuality (rules.on_time), counted by the daily settle pass and the backfill only
    # (they read the orders' histories); unset on days not counted yet.
    on_time = NumberAttribute(null=True)
    timed = NumberAttribute(null=True)
    # For campaign reviews (issue 16): orders created that day, paid or not (the funnel's
    # order step); members registered with the store as home store that day; the sales'
    # discounts by source, JSON {"p:<promotion>" | "t:<coupon template>": [orders, fen]}.
    placed = NumberAttribute(null=True)
    # group-buy orders paid and still waiting for their group (not sales yet)
    waiting = NumberAttribute(null=True)
    waiting_fen = NumberAttribute(null=True)
    new_members = NumberAttribute(null=True)
    disc = UnicodeAttribute(null=True)
    # Effect reports (issue 18): per source of ``disc``, the sales' GMV, the discount net
    # of refunds and the new customers, JSON {source: [gmv_fen, net_fen, new_customers]}.
    eff = UnicodeAttribute(null=True)


REPORT_MODELS: tuple[type[Model], ...] = (ReportOrderModel, ReportDayModel)
