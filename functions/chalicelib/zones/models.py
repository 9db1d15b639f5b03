"""Zones: head office's curated product lists, and each customer's count of units bought
at a fixed-price zone's price (its per-customer limit)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list


class ZonesByStatus(GlobalSecondaryIndex):
    """Zones by status: the per-container cache reads the active ones with one Query."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)  # "active" | "ended"
    zone_id = UnicodeAttribute(range_key=True)


class ZoneModel(Model):
    """A zone. ``kind`` "add_on": ``skus`` in the order the storefront shows them;
    "fixed_price": those SKUs at ``price_fen`` in the window, up to
    ``per_customer_limit`` units per SKU and customer (null: no limit)."""

    Meta = _meta("zones")

    zone_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # "add_on" | "fixed_price"
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")  # "active" | "ended"
    stores = string_list(default=list)  # empty: every store
    skus = string_list(default=list)
    starts_at = UnicodeAttribute(null=True)  # UTC ISO-8601; null: always (add_on only)
    ends_at = UnicodeAttribute(null=True)
    price_fen = NumberAttribute(null=True)  # fixed_price
    per_customer_limit = NumberAttribute(null=True)  # fixed_price
    campaign_id = UnicodeAttribute(null=True)  # fixed_price: its discount spends the budget
    funded_by = UnicodeAttribute(default="hq")
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)
    by_status = ZonesByStatus()


def buyer_key(zone_id: str, sku: str, customer_id: str) -> str:
    return f"{zone_id}#{sku}#{customer_id}"


class ZoneBuyerModel(Model):
    """Units a customer holds of a SKU at a fixed-price zone's price (orders placed and
    not cancelled): added in the order's transaction under the limit, given back when
    the order is cancelled or expires unpaid."""

    Meta = _meta("zone_buyers")

    buyer_key = UnicodeAttribute(hash_key=True)  # "<zone_id>#<sku>#<customer_id>"
    units = NumberAttribute(default=0)


ZONE_MODELS: tuple[type[Model], ...] = (ZoneModel, ZoneBuyerModel)
