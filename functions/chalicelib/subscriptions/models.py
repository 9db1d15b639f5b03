"""Tables of subscription delivery: plans, subscriptions and one item per delivery date
(its state is the unit the daily job and the member's actions race on, each with a
conditional write). Money is integer fen; dates are local days (Asia/Shanghai)."""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta, string_list
from chalicelib.db.transitions import HistoryAttribute
from chalicelib.orders.models import AddressAttribute


class PlanLineAttribute(MapAttribute):
    sku = UnicodeAttribute()
    qty = NumberAttribute()


class PlansByCreated(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class SubscriptionPlanModel(Model):
    """A plan head office sells: lines per delivery, frequency, count, window, price."""

    Meta = _meta("subscription_plans")

    plan_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    lines = ListAttribute(of=PlanLineAttribute)
    frequency = UnicodeAttribute()  # daily | weekdays | weekly
    weekday = UnicodeAttribute(null=True)  # mon..sun when weekly
    deliveries = NumberAttribute()
    window = UnicodeAttribute()  # "07:00-09:00", local
    pricing = UnicodeAttribute()  # upfront | per_delivery
    price_fen = NumberAttribute()  # the whole plan (upfront) or one delivery
    stores = string_list(default=list)
    cutoff = UnicodeAttribute()  # "20:00" the day before
    campaign_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # on_sale | off_sale
    listing = UnicodeAttribute(default="plans")  # by_created's hash key
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)

    by_created = PlansByCreated()


class SubscriptionsByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class SubscriptionsByPlan(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_plan"
        projection = AllProjection()

    plan_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class SubscriptionModel(Model):
    """A member's subscription: awaiting_payment -> active (paused) -> completed |
    cancelled; expired when not paid in time. Its id is what the payment provider
    carries ("SB…")."""

    Meta = _meta("subscriptions")

    subscription_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    plan_id = UnicodeAttribute()
    plan_name = UnicodeAttribute()
    store_id = UnicodeAttribute()
    fulfilment = UnicodeAttribute()  # delivery | pickup
    address = AddressAttribute(null=True)
    first_date = UnicodeAttribute()
    # The plan's rules as subscribed (a later edit of the plan does not change them)
    lines = ListAttribute(of=PlanLineAttribute)
    frequency = UnicodeAttribute()
    weekday = UnicodeAttribute(null=True)
    window = UnicodeAttribute()
    cutoff = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    status = UnicodeAttribute()
    deliveries = NumberAttribute()
    price_fen = NumberAttribute()  # what is paid, whole
    list_value_fen = NumberAttribute()  # the deliveries at the store's list prices
    campaign_id = UnicodeAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    payment_provider = UnicodeAttribute(null=True)
    paid_at = UnicodeAttribute(null=True)
    refunded_fen = NumberAttribute(default=0)
    history = HistoryAttribute(default=list)
    expires_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    by_customer = SubscriptionsByCustomer()
    by_plan = SubscriptionsByPlan()


class DeliveriesByDay(GlobalSecondaryIndex):
    """Every delivery of a local day: the daily job and head office's pick list."""

    class Meta:
        index_name = "by_day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    subscription_id = UnicodeAttribute(range_key=True)


class SubscriptionDeliveryModel(Model):
    """One delivery date of a subscription. States: scheduled -> ordered (order_id) |
    skipped | paused | failed (retried) | refunded (shortage: its share paid back) |
    cancelled (refunded with the cancellation). Each change is one conditional write on
    this item (in the order's transaction for ``ordered``)."""

    Meta = _meta("subscription_deliveries")

    subscription_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD, local
    seq = NumberAttribute()  # 1..deliveries: which share of the price it is
    store_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    state = UnicodeAttribute()
    cutoff_at = UnicodeAttribute()  # UTC ISO: skip before, order after
    order_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)  # why failed / refunded
    refund_id = UnicodeAttribute(null=True)
    refunded_fen = NumberAttribute(default=0)
    attempts = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()

    by_day = DeliveriesByDay()


SUBSCRIPTION_MODELS: tuple[type[Model], ...] = (
    SubscriptionPlanModel,
    SubscriptionModel,
    SubscriptionDeliveryModel,
)
