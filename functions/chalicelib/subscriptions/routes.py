"""Subscription delivery (周期购): head office's plans and pick list; the member's
subscriptions, payment, schedule and changes."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, STORE_MANAGER, STORE_STAFF, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module

# The subscription is a payable kind of orders' payment callback: registered at once
# (orders/payables.py), the service itself loaded at the first call.
from chalicelib.subscriptions import payable  # noqa: F401
from chalicelib.subscriptions import schemas as s

service = lazy_module("chalicelib.subscriptions.service")

daily = lazy_module("chalicelib.subscriptions.daily")

area = Area(
    "subscriptions",
    __name__,
    "Subscription delivery (周期购): plans, paid subscriptions, each delivery an order.",
)

PLAN = {
    "name": "每日鲜奶 30 天",
    "lines": [{"sku": "100001", "qty": 1}],
    "frequency": "daily",
    "weekday": None,
    "deliveries": 30,
    "window": "07:00-09:00",
    "pricing": "upfront",
    "price_fen": 19900,
    "stores": ["sh-jingan-01"],
    "cutoff": "20:00",
    "campaign_id": None,
    "status": "on_sale",
}
PLAN_OUT = {
    **PLAN,
    "plan_id": "SP1a2b3c4d5e6f7a8",
    "total_fen": 19900,
    "created_at": "2026-12-01T02:00:00Z",
    "updated_at": "2026-12-01T02:00:00Z",
    "version": 0,
}
ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号 1201室",
    "lat": 31.224,
    "lng": 121.446,
}
SUBSCRIBE = {
    "plan_id": "SP1a2b3c4d5e6f7a8",
    "store_id": "sh-jingan-01",
    "fulfilment": "delivery",
    "address": ADDRESS,
    "first_date": "2026-12-07",
}
SUB_OUT = {
    "subscription_id": "SB0123456789ABCDEF",
    "plan_id": "SP1a2b3c4d5e6f7a8",
    "plan_name": "每日鲜奶 30 天",
    "customer_id": "c-1",
    "store_id": "sh-jingan-01",
    "fulfilment": "delivery",
    "address": {**ADDRESS, "phone": "13800000001"},
    "first_date": "2026-12-07",
    "status": "active",
    "deliveries": 30,
    "price_fen": 19900,
    "refunded_fen": 0,
    "paid_at": "2026-12-05T03:00:00Z",
    "expires_at": "2026-12-05T03:15:00Z",
    "created_at": "2026-12-05T03:00:00.000Z",
    "schedule": [
        {
            "date": "2026-12-07",
            "seq": 1,
            "state": "ordered",
            "cutoff_at": "2026-12-06T12:00:00Z",
            "order_id": "261207K7QX3M9P",
            "reason": None,
            "refunded_fen": 0,
        },
        {
            "date": "2026-12-08",
            "seq": 2,
            "state": "scheduled",
            "cutoff_at": "2026-12-07T12:00:00Z",
            "order_id": None,
            "reason": None,
            "refunded_fen": 0,
        },
    ],
    "payment": None,
}
PICK = {
    "date": "2026-12-08",
    "stores": [
        {
            "store_id": "sh-jingan-01",
            "units": [{"sku": "100001", "units": 12}],
            "deliveries": [
                {
                    "subscription_id": "SB0123456789ABCDEF",
                    "plan_name": "每日鲜奶 30 天",
                    "state": "scheduled",
                    "order_id": None,
                    "fulfilment": "delivery",
                    "window": "07:00-09:00",
                    "lines": [{"sku": "100001", "units": 1}],
                }
            ],
        }
    ],
}


@area.route(
    "/admin/subscription-plans",
    "POST",
    summary="Create a subscription plan (周期购)",
    roles={HQ_ADMIN},
    body=s.SubscriptionPlanIn,
    response=s.SubscriptionPlan,
    status=201,
    errors=(403, 404, 422),
    request_example=PLAN,
    response_example=PLAN_OUT,
)
def create_plan(body: s.SubscriptionPlanIn, principal: Principal) -> s.SubscriptionPlan:
    """Head office. ``pricing`` "upfront": ``price_fen`` is the whole plan; "per_delivery":
    ``price_fen`` is one delivery and the subscriber still pays upfront, deliveries x
    price (``total_fen``). ``cutoff`` is the local time the day before each delivery
    after which it can no longer be skipped and its order is made. A ``campaign_id``
    must name a campaign (404 ``campaign_not_found``); the plan is sold only while it
    spends, and the discount against the store's list prices is its cost."""
    return service.create_plan(principal, body)


@area.route(
    "/admin/subscription-plans",
    "GET",
    summary="Subscription plans, newest first",
    roles={HQ_ADMIN, STORE_MANAGER},
    response=s.SubscriptionPlanList,
    errors=(403,),
    response_example={"items": [PLAN_OUT]},
)
def list_plans(principal: Principal) -> s.SubscriptionPlanList:
    return service.list_plans()


@area.route(
    "/admin/subscription-plans/{plan_id}",
    "PUT",
    summary="Replace a subscription plan at the version read",
    roles={HQ_ADMIN},
    body=s.SubscriptionPlanUpdate,
    response=s.SubscriptionPlan,
    errors=(403, 404, 409, 422),
    request_example={**PLAN, "version": 0},
    response_example={**PLAN_OUT, "version": 1},
)
def update_plan(
    plan_id: str, body: s.SubscriptionPlanUpdate, principal: Principal
) -> s.SubscriptionPlan:
    """409 ``plan_changed`` when ``version`` is not the current one. Subscriptions sold
    keep the rules they were sold with."""
    return service.update_plan(principal, plan_id, body)


@area.route(
    "/admin/subscription-plans/{plan_id}/subscribers",
    "GET",
    summary="A plan's subscribers",
    roles={HQ_ADMIN},
    response=s.SubscriberList,
    errors=(403, 404),
    response_example={
        "items": [
            {
                "subscription_id": "SB0123456789ABCDEF",
                "customer_id": "c-1",
                "store_id": "sh-jingan-01",
                "status": "active",
                "first_date": "2026-12-07",
                "price_fen": 19900,
                "refunded_fen": 0,
                "created_at": "2026-12-05T03:00:00.000Z",
            }
        ]
    },
)
def plan_subscribers(plan_id: str, principal: Principal) -> s.SubscriberList:
    return service.subscribers(plan_id)


@area.route(
    "/subscription-plans",
    "GET",
    summary="Subscription plans on sale",
    roles={CUSTOMER},
    response=s.SubscriptionPlanList,
    errors=(403,),
    response_example={"items": [PLAN_OUT]},
)
def plans_on_sale(principal: Principal) -> s.SubscriptionPlanList:
    """Plans on sale now (a plan in a campaign only while the campaign spends)."""
    return service.list_plans(on_sale_only=True)


@area.route(
    "/subscriptions",
    "POST",
    summary="Subscribe to a plan (send an Idempotency-Key); pay with the payment sheet",
    roles={CUSTOMER},
    body=s.SubscribeIn,
    response=s.Subscription,
    status=201,
    errors=(404, 409, 422),
    request_example=SUBSCRIBE,
    response_example={
        **SUB_OUT,
        "status": "awaiting_payment",
        "paid_at": None,
        "schedule": [],
        "payment": {
            "provider": "local",
            "amount_fen": 19900,
            "params": {"order_id": "SB0123456789ABCDEF"},
        },
    },
    idempotency_key=True,
    replays=True,
)
def subscribe(body: s.SubscribeIn, principal: Principal) -> Response:
    """The subscription awaits payment (15 minutes) with its ``payment`` sheet: pay it
    like an order (the provider carries the subscription id). Paying makes it active
    with its schedule. The same Idempotency-Key and body answer the same subscription
    (200); another body is 422 ``idempotency_key_reused``. 409 ``plan_not_on_sale``,
    ``plan_not_at_store``; 422 ``first_date_too_early`` (its cutoff has passed),
    ``first_date_not_delivery_day``."""
    key = current_request_of(area).headers.get("idempotency-key")
    sub, created = service.subscribe(principal, key, body)
    return respond(sub, 201 if created else 200)


@area.route(
    "/subscriptions/mine",
    "GET",
    summary="My subscriptions with their schedules",
    roles={CUSTOMER},
    response=s.SubscriptionList,
    errors=(403,),
    response_example={"items": [SUB_OUT]},
)
def mine(principal: Principal) -> s.SubscriptionList:
    return service.mine(principal)


@area.route(
    "/subscriptions/{subscription_id}",
    "GET",
    summary="A subscription and each delivery date's state",
    roles={CUSTOMER, HQ_ADMIN},
    response=s.Subscription,
    errors=(403, 404),
    response_example=SUB_OUT,
)
def get_subscription(subscription_id: str, principal: Principal) -> s.Subscription:
    """Each date: scheduled, skipped, paused, ordered (``order_id``: follow it as any
    order), failed (tried again), refunded (its share paid back: ``reason``),
    cancelled."""
    return service.get_view(principal, subscription_id)


@area.route(
    "/subscriptions/{subscription_id}/changes",
    "POST",
    summary="Pause, resume, skip a date, change the address, or cancel",
    roles={CUSTOMER, HQ_ADMIN},
    body=s.ChangeIn,
    response=s.Subscription,
    errors=(403, 404, 409, 422),
    request_example={"action": "skip", "date": "2026-12-08"},
    response_example=SUB_OUT,
)
def change(subscription_id: str, body: s.ChangeIn, principal: Principal) -> s.Subscription:
    """Each action is idempotent. ``skip`` a ``date`` before its cutoff: the delivery
    moves to the end of the schedule (409 ``skip_too_late`` after the cutoff or once
    ordered). ``pause`` (from ``date``, default now): dates whose cutoff is ahead are
    held; ``resume`` (from ``date``) gives them new dates, so no delivery is lost.
    ``change_address`` (``fulfilment``, ``address``): deliveries not yet ordered.
    ``cancel``: every delivery not yet ordered is refunded its share (the price split
    evenly over the deliveries, exact in fen)."""
    return service.change(principal, subscription_id, body)


@area.route(
    "/admin/subscription-deliveries",
    "GET",
    summary="A day's subscription deliveries per store: the pick list",
    roles={HQ_ADMIN, STORE_MANAGER, STORE_STAFF},
    query=s.DeliveryQuery,
    response=s.PickList,
    errors=(403, 422),
    response_example=PICK,
)
def deliveries(query: s.DeliveryQuery, principal: Principal) -> s.PickList:
    """``date`` defaults to tomorrow (Asia/Shanghai). Units per SKU and each delivery,
    per store. Store staff see their own store (403 ``other_store`` for another)."""
    return service.pick_list(principal, query)
