"""Subscription delivery (周期购): plans, subscriptions, their schedules, pick lists."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Fen, Out, PositiveFen, Schema, Sku, StoreId, Timestamp
from chalicelib.orders.schemas import Address, DeliveryAddress

Frequency = Literal["daily", "weekdays", "weekly"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-07"])]
Clock = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["20:00"])]
Window = Annotated[
    str,
    Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$", examples=["07:00-09:00"]),
]
DeliveryState = Literal[
    "scheduled", "ordered", "skipped", "paused", "failed", "refunded", "cancelled"
]
SubscriptionStatus = Literal[
    "awaiting_payment", "active", "paused", "completed", "cancelled", "expired"
]


class SubscriptionPlanLine(Schema, kw_only=True):
    sku: Sku
    qty: Annotated[int, Meta(ge=1, le=99)]


class SubscriptionPlanIn(Schema, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=60, examples=["每日鲜奶 30 天"])]
    lines: Annotated[list[SubscriptionPlanLine], Meta(min_length=1, max_length=10)]
    frequency: Frequency
    weekday: Weekday | None = None
    deliveries: Annotated[int, Meta(ge=1, le=90, description="Number of deliveries.")]
    window: Window
    pricing: Literal["upfront", "per_delivery"] = "upfront"
    price_fen: Annotated[
        PositiveFen,
        Meta(
            description="upfront: the whole plan; per_delivery: one delivery (still paid "
            "upfront, as deliveries x price_fen)."
        ),
    ]
    stores: Annotated[list[StoreId], Meta(min_length=1, max_length=500)]
    cutoff: Annotated[Clock, Meta(description="Local time, the day before each delivery.")] = (
        "20:00"
    )
    campaign_id: str | None = None
    status: Literal["on_sale", "off_sale"] = "on_sale"


class SubscriptionPlanUpdate(SubscriptionPlanIn, kw_only=True):
    version: Annotated[int, Meta(ge=0)]


class SubscriptionPlan(Out, kw_only=True):
    plan_id: str
    name: str
    lines: list[SubscriptionPlanLine]
    frequency: Frequency
    weekday: Weekday | None
    deliveries: int
    window: str
    pricing: Literal["upfront", "per_delivery"]
    price_fen: int
    total_fen: int  # what a subscriber pays upfront
    stores: list[str]
    cutoff: str
    campaign_id: str | None
    status: Literal["on_sale", "off_sale"]
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class SubscriptionPlanList(Out, kw_only=True):
    items: list[SubscriptionPlan]


class SubscribeIn(Schema, kw_only=True):
    plan_id: str
    store_id: StoreId
    fulfilment: Literal["delivery", "pickup"] = "delivery"
    address: DeliveryAddress | None = None
    first_date: Day


class Delivery(Out, kw_only=True):
    date: str
    seq: int
    state: DeliveryState
    cutoff_at: Timestamp
    order_id: str | None
    reason: str | None
    refunded_fen: int


class PaymentSheet(Out, kw_only=True):
    provider: str
    amount_fen: int
    params: dict[str, str]


class Subscription(Out, kw_only=True):
    subscription_id: str
    plan_id: str
    plan_name: str
    customer_id: str
    store_id: str
    fulfilment: str
    address: Address | None
    first_date: str
    status: SubscriptionStatus
    deliveries: int
    price_fen: Fen
    refunded_fen: Fen
    paid_at: Timestamp | None
    expires_at: Timestamp
    created_at: Timestamp
    schedule: list[Delivery]
    payment: PaymentSheet | None  # while awaiting payment


class SubscriptionList(Out, kw_only=True):
    items: list[Subscription]


class ChangeIn(Schema, kw_only=True):
    action: Literal["pause", "resume", "skip", "change_address", "cancel"]
    date: Day | None = None  # skip: the date; pause: from (default: first open date)
    fulfilment: Literal["delivery", "pickup"] | None = None  # change_address
    address: DeliveryAddress | None = None  # change_address (delivery)


class DeliveryQuery(Schema, kw_only=True):
    date: Day | None = None  # default: tomorrow (local)
    store_id: StoreId | None = None


class PickUnits(Out, kw_only=True):
    sku: str
    units: int


class PickDelivery(Out, kw_only=True):
    subscription_id: str
    plan_name: str
    state: DeliveryState
    order_id: str | None
    fulfilment: str
    window: str
    lines: list[PickUnits]


class StorePickList(Out, kw_only=True):
    store_id: str
    units: list[PickUnits]
    deliveries: list[PickDelivery]


class PickList(Out, kw_only=True):
    date: str
    stores: list[StorePickList]


class Subscriber(Out, kw_only=True):
    subscription_id: str
    customer_id: str
    store_id: str
    status: SubscriptionStatus
    first_date: str
    price_fen: int
    refunded_fen: int
    created_at: Timestamp


class SubscriberList(Out, kw_only=True):
    items: list[Subscriber]
