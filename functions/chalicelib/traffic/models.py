"""Storefront traffic counters: one item per store × local day × campaign, added to by
each batch of storefront events (traffic/ingest). No item per event is kept."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.models import Model

from chalicelib.db.models import _meta
from chalicelib.traffic.rules import ALL_CAMPAIGNS

NO_CAMPAIGN = "-"
# ALL_CAMPAIGNS ("*"): the row of a store's day that holds the distinct counters across
# campaigns (a device counted under two campaigns is one visitor of the day):
# ``visitors``, ``cart_visitors`` and ``checkout_visitors`` only; its event counters stay
# 0 (read.counts sums the campaign rows for those).


class TrafficDayModel(Model):
    """Counts for a store's local day (Asia/Shanghai), per campaign the events named
    (``NO_CAMPAIGN`` when none). A campaign's review sums a window of these."""

    Meta = _meta("traffic_days")

    store_id = UnicodeAttribute(hash_key=True)
    day_campaign = UnicodeAttribute(range_key=True)  # "YYYY-MM-DD#<campaign_id or ->"
    visits = NumberAttribute(default=0)  # visit_store events
    visitors = NumberAttribute(default=0)  # distinct devices that visited that day (进店量)
    product_views = NumberAttribute(default=0)
    carts = NumberAttribute(default=0)  # add_to_cart events
    cart_visitors = NumberAttribute(default=0)  # distinct devices that added to cart
    checkouts = NumberAttribute(default=0)  # start_checkout events
    checkout_visitors = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)  # kept about 800 days (last year's same node)


def day_campaign(day: str, campaign_id: str | None) -> str:
    return f"{day}#{campaign_id or NO_CAMPAIGN}"


class TrafficMarkerModel(Model):
    """Short-lived de-duplication markers, written in the same TransactWriteItems as the
    counters they guard (traffic/ingest.py):

    * ``b#<device_id>#<batch_id>``: a batch was counted (a replay counts nothing); kept
      2 days, longer than the 1 day an event's ``at`` may lag, so a replay after expiry
      has nothing left to count;
    * ``d#<device_id>#<store_id>#<day>``: what the device already did at the store that
      local day (``flags``), so the distinct counters (visitors, cart and checkout
      visitors) are added once; kept until 2 days after that day.

    TTL deletes them eventually; readers ignore items past ``expires_at``."""

    Meta = _meta("traffic_markers")

    key = UnicodeAttribute(hash_key=True)
    # d#: "<kind>|<campaign or * or ->" for each distinct counter already added (kind:
    # v visit, c cart, k checkout).
    flags = UnicodeSetAttribute(null=True)
    # d#: bumped by every write; the next write is conditioned on the version it read.
    version = NumberAttribute(default=0)
    # b#: what the batch counted, answered again to a replay, and a hash of its events
    # (another batch under the same id is refused).
    accepted = NumberAttribute(null=True)
    rejected = NumberAttribute(null=True)
    digest = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


__all__ = ["ALL_CAMPAIGNS", "NO_CAMPAIGN", "TrafficDayModel", "TrafficMarkerModel", "day_campaign"]

TRAFFIC_MODELS: tuple[type[Model], ...] = (TrafficDayModel, TrafficMarkerModel)
