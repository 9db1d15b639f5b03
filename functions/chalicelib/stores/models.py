"""Stores' tables: the store with its hours, delivery rules and printers. Money is
integer fen; times are UTC ISO-8601."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list


class DeliveryFeeAttribute(MapAttribute):
    base_fee_fen = NumberAttribute()
    free_above_fen = NumberAttribute(null=True)


class OpeningHoursAttribute(MapAttribute):
    day = NumberAttribute()  # 0 = Monday ... 6 = Sunday
    open = UnicodeAttribute()  # "HH:MM" local time
    close = UnicodeAttribute()  # "HH:MM", "24:00" for midnight; before open = past midnight


class PrinterAttribute(MapAttribute):
    """A receipt printer installed at the store."""

    name = UnicodeAttribute()
    paper_mm = NumberAttribute()  # 58 | 80
    copies = string_list()  # "picking", "delivery", in that order
    connection = UnicodeAttribute(null=True)  # e.g. "192.168.1.50:9100", "USB 0416:5011"


class StoresByGeoCell(GlobalSecondaryIndex):
    """Active stores by geohash cell: the nearby-store search queries a few cells."""

    class Meta:
        index_name = "by_geo_cell"
        projection = AllProjection()

    geo_cell = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute(range_key=True)


class StoresListing(GlobalSecondaryIndex):
    """Every store, for head office's list (a chain has hundreds of stores at most)."""

    class Meta:
        index_name = "by_listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "stores"
    store_id = UnicodeAttribute(range_key=True)


class StoreModel(Model):
    Meta = _meta("stores")

    store_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    phone = UnicodeAttribute(null=True)
    lat = NumberAttribute()
    lng = NumberAttribute()
    radius_m = NumberAttribute()
    timezone = UnicodeAttribute(default="Asia/Shanghai")
    minimum_order_fen = NumberAttribute(default=0)
    delivery_fee = DeliveryFeeAttribute()
    hours = ListAttribute(of=OpeningHoursAttribute, default=list)
    active = BooleanAttribute(default=True)
    printers = ListAttribute(of=PrinterAttribute, default=list)  # 0 to 4, names unique
    # Set only while the store is active, so inactive stores drop out of the index.
    geo_cell = UnicodeAttribute(null=True)
    listing = UnicodeAttribute(default="stores")
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()
    # The local day the store opened (YYYY-MM-DD): its anniversary is a node of the
    # campaign calendar (店庆, campaigns/calendar_rules.py); none without it.
    opened_on = UnicodeAttribute(null=True)

    by_geo_cell = StoresByGeoCell()
    by_listing = StoresListing()


STORE_MODELS: tuple[type[Model], ...] = (StoreModel,)
