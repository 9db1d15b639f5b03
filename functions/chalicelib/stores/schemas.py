"""Request and response schemas of the stores area."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from chalicelib.kernel import config
from chalicelib.kernel.schema import Fen, Latitude, Longitude, Out, Schema, StoreId, Timestamp

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
OpenedOn = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="The local day the store opened; its anniversary is a campaign node (店庆).",
        examples=["2019-09-28"],
    ),
]


class OpeningHours(Schema, kw_only=True):
    day: Annotated[int, Meta(ge=0, le=6, description="0 = Monday ... 6 = Sunday.")]
    open: HHMM
    close: HHMM_CLOSE


class DeliveryFee(Schema, kw_only=True):
    base_fee_fen: Annotated[int, Meta(ge=0, le=100_000)]
    free_above_fen: Annotated[int, Meta(ge=0, le=100_000_000)] | None = None


WeeklyHours = Annotated[list[OpeningHours], Meta(max_length=21)]
MAX_PRINTERS = 4


class StorePrinter(Schema, kw_only=True):
    """A receipt printer of the store (what is installed; the relay reports its state)."""

    name: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=40,
            description="Unique within the store; the relay's config names it the same way.",
            examples=["front"],
        ),
    ]
    paper_mm: Literal[58, 80]
    copies: Annotated[
        list[Literal["picking", "delivery"]],
        Meta(
            min_length=1,
            max_length=2,
            description="Which copies of the ticket it prints (each at most once).",
            examples=[["picking", "delivery"]],
        ),
    ]
    connection: (
        Annotated[
            str,
            Meta(
                max_length=100,
                description="How the store PC reaches it, for people.",
                examples=["192.168.1.50:9100", "USB 0416:5011"],
            ),
        ]
        | None
    ) = None


Printers = Annotated[
    list[StorePrinter],
    Meta(max_length=MAX_PRINTERS, description=f"0 to {MAX_PRINTERS} printers, names unique."),
]


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
    printers: Printers = field(default_factory=list)
    opened_on: OpenedOn | None = None


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
    printers: Printers | UnsetType = UNSET  # the whole list: replaces the store's printers
    opened_on: OpenedOn | UnsetType | None = UNSET


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


class AdminStore(Store, kw_only=True):
    """A store as head office and its own staff see it: with its printers."""

    printers: list[StorePrinter]
    opened_on: str | None = None


class StoreList(Out, kw_only=True):
    items: list[AdminStore]


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


_ADMIN_STORE = {
    "store_id": "sh-jingan",
    "name": "鲜到家 静安寺店",
    "address": "上海市静安区南京西路1618号",
    "phone": "021-62481234",
    "lat": 31.2236,
    "lng": 121.4457,
    "radius_m": 3000,
    "timezone": "Asia/Shanghai",
    "minimum_order_fen": 2000,
    "delivery_fee": {"base_fee_fen": 500, "free_above_fen": 5900},
    "hours": [{"day": d, "open": "08:00", "close": "22:00"} for d in range(7)],
    "active": True,
    "open_now": True,
    "next_open_at": None,
    "created_at": "2026-11-20T01:00:00Z",
    "updated_at": "2026-11-24T02:30:00Z",
    "printers": [
        {
            "name": "前台打印机",
            "paper_mm": 80,
            "copies": ["picking", "delivery"],
            "connection": "192.168.1.50:9100",
        },
        {"name": "生鲜区", "paper_mm": 58, "copies": ["picking"], "connection": "USB 0416:5011"},
    ],
    "opened_on": "2016-09-28",
}

EXAMPLES = {"AdminStore": _ADMIN_STORE, "StoreList": {"items": [_ADMIN_STORE]}}
