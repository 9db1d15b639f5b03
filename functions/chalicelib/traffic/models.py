"""Storefront traffic counters: one item per store × local day × campaign, added to by
each batch of storefront events (traffic/ingest). No item per event is kept."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.db.models import _meta

NO_CAMPAIGN = "-"


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


TRAFFIC_MODELS: tuple[type[Model], ...] = (TrafficDayModel,)
