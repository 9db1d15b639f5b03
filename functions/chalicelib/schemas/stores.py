"""Request and response schemas of the stores area."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from chalicelib import config
from chalicelib.schemas.common import Fen, Latitude, Longitude, Out, Schema, StoreId, Timestamp

HHMM = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["08:00"])]
HHMM_CLOSE = Annotated[
    str,
    Meta(
        pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$",
        description="Closing time; '24:00' is midnight; earlier than open means after midnight.",
        examples=["22:00"],
    ),
]
Radius = Annotated[
    int, Meta(ge=100, le=config.MAX_DELIVERY_RADIUS_M, description="Delivery radius in metres.")
]
Name = Annotated[str, Meta(min_length=1, max_length=60)]
Address = Annotated[str, Meta(min_length=1, max_length=200)]
TimeZone = Annotated[str, Meta(min_length=1, max_length=64, examples=["Asia/Shanghai"])]
StorePhone = Annotated[str, Meta(pattern=r"^[0-9+\- ]{5,20}$")]


class OpeningHours(Schema, kw_only=True):
    day: Annotated[int, Meta(ge=0, le=6, description="0 = Monday ... 6 = Sunday.")]
    open: HHMM
    close: HHMM_CLOSE


class DeliveryFee(Schema, kw_only=True):
    base_fee_fen: Annotated[int, Meta(ge=0, le=100_000)]
    free_above_fen: Annotated[int, Meta(ge=0, le=100_000_000)] | None = None


WeeklyHours = Annotated[list[OpeningHours], Meta(max_length=21)]


class StoreCreate(Schema, kw_only=True):
    store_id: StoreId
    name: Name
    address: Address
    phone: StorePhone | None = None
    lat: Latitude
    lng: Longitude
    radius_m: Radius
    timezone: TimeZone = "Asia/Shanghai"
    minimum_order_fen: Fen = 0
    delivery_fee: DeliveryFee
    hours: WeeklyHours
    active: bool = True


class StoreUpdate(Schema, kw_only=True):
    """Fields to change; fields left out stay as they are."""

    name: Name | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    phone: StorePhone | UnsetType | None = UNSET
    lat: Latitude | UnsetType = UNSET
    lng: Longitude | UnsetType = UNSET
    radius_m: Radius | UnsetType = UNSET
    timezone: TimeZone | UnsetType = UNSET
    minimum_order_fen: Fen | UnsetType = UNSET
    delivery_fee: DeliveryFee | UnsetType = UNSET
    hours: WeeklyHours | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class Store(Out, kw_only=True):
    store_id: str
    name: str
    address: str
    phone: str | None = None
    lat: float
    lng: float
    radius_m: int
    timezone: str
    minimum_order_fen: int
    delivery_fee: DeliveryFee
    hours: list[OpeningHours]
    active: bool
    open_now: bool = False
    next_open_at: Timestamp | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class StoreList(Out, kw_only=True):
    items: list[Store]


class NearbyStore(Store, kw_only=True):
    distance_m: int = 0


class NearbyStores(Out, kw_only=True):
    """Stores whose delivery radius covers the point, nearest first."""

    items: list[NearbyStore]


class NearbyQuery(Schema, kw_only=True):
    lat: Latitude
    lng: Longitude
    include_closed: bool = True


def unset_fields(update: msgspec.Struct) -> dict:
    """The fields a partial update actually sets."""
    return {
        f: getattr(update, f) for f in update.__struct_fields__ if getattr(update, f) is not UNSET
    }
