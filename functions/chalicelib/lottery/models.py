"""The lottery's tables (docs/mechanics.md, "Lottery free order").

* ``lotteries``: one item per lottery: its rules, the committed seed (``seed_hex``,
  sealed: only the draw's proof and the storefront after the draw show it; never a list
  view), the state (open -> drawing -> drawn) and, once drawn, the entrants' count and
  hash and the winners (at most MAX_WINNERS small maps).
* ``lottery_entrants``: the draw's entrant list in chunks (``[order_id, holder]`` pairs),
  written in the transaction that records the winners, so a resumed or concurrent draw
  reads the list that was drawn rather than a list recomputed after refunds.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta

STATES = ("open", "drawing", "drawn")
ELIGIBILITY = ("all", "members", "segment", "min_amount")
MAX_WINNERS = 100
ENTRANTS_PER_CHUNK = 4000


class WinnerAttribute(MapAttribute):
    order_id = UnicodeAttribute()
    order_code = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute()
    name_masked = UnicodeAttribute(null=True)
    score = UnicodeAttribute()
    paid_fen = NumberAttribute()
    prize_fen = NumberAttribute()
    refund_id = UnicodeAttribute()


class LotteriesListing(GlobalSecondaryIndex):
    """Every lottery, newest first (a chain runs a few a month): one Query, no Scan."""

    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "lotteries"
    created_at = UnicodeAttribute(range_key=True)


class LotteryModel(Model):
    Meta = _meta("lotteries")

    lottery_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute()
    starts_at = UnicodeAttribute()  # UTC ISO-8601, orders paid in [starts_at, ends_at)
    ends_at = UnicodeAttribute()
    draw_at = UnicodeAttribute()  # the draw may run from then (>= ends_at)
    winners_n = NumberAttribute()
    eligibility = UnicodeAttribute(default="all")  # ELIGIBILITY
    segment_id = UnicodeAttribute(null=True)
    min_fen = NumberAttribute(null=True)
    cap_fen = NumberAttribute(null=True)  # None: the order's paid amount
    state = UnicodeAttribute(default="open")  # STATES
    seed_hex = UnicodeAttribute()  # sealed until the draw
    seed_hash = UnicodeAttribute()
    listing = UnicodeAttribute(default="lotteries")
    entrants_count = NumberAttribute(null=True)
    entrants_hash = UnicodeAttribute(null=True)
    entrant_chunks = NumberAttribute(null=True)
    winners = ListAttribute(of=WinnerAttribute, null=True)
    drawn_by = UnicodeAttribute(null=True)
    drawn_at = UnicodeAttribute(null=True)
    request_hash = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)

    by_listing = LotteriesListing()


class LotteryEntrantsModel(Model):
    Meta = _meta("lottery_entrants")

    lottery_id = UnicodeAttribute(hash_key=True)
    chunk = NumberAttribute(range_key=True)
    entrants: ListAttribute[Any] = ListAttribute(null=False)  # [[order_id, holder]], by id


LOTTERY_MODELS: tuple[type[Model], ...] = (LotteryModel, LotteryEntrantsModel)
