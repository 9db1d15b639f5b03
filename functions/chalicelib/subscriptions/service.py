"""Subscription delivery (周期购): plans, subscribing and paying, the member's changes,
head office's pick list. The daily job is jobs.py here; rules.py holds the pure rules.

A subscription is paid upfront, whole, through the payment provider like an order (its
id "SB…" is what the provider carries; orders/payables.py routes its notices here).
Paying makes it active and writes its schedule: one item per delivery date, whose state
every later change moves with a conditional write (see models.py)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import date, timedelta
from typing import Any, cast

import msgspec
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.campaign_budgets import repo as budgets
from chalicelib.campaign_budgets.live import SPENDING_STATES
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.db.transitions import Who
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import BadRequest, Conflict, NotFound, ValidationFailed, field_error
from chalicelib.orders import refunds
from chalicelib.orders.models import AddressAttribute, PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice, provider
from chalicelib.orders.schemas import Address
from chalicelib.subscriptions import payable as payable_kind
from chalicelib.subscriptions import rules
from chalicelib.subscriptions import schemas as s
from chalicelib.subscriptions.models import (
    PlanLineAttribute,
    SubscriptionDeliveryModel,
    SubscriptionModel,
    SubscriptionPlanModel,
)

log = logging.getLogger("daojia.subscriptions")
PREFIX = payable_kind.PREFIX
PAYMENT_ACTOR = Who("payment-provider", "system")
OPEN = ("scheduled", "failed")  # a delivery the job still has to order
DM = SubscriptionDeliveryModel
SM = SubscriptionModel


# --- plans ----------------------------------------------------------------------------


def _plan_total(p: SubscriptionPlanModel | s.SubscriptionPlanIn) -> int:
    price, n = int(p.price_fen), int(p.deliveries)
    return price * n if p.pricing == "per_delivery" else price


def plan_view(p: SubscriptionPlanModel) -> s.SubscriptionPlan:
    return s.SubscriptionPlan(
        plan_id=p.plan_id,
        name=p.name,
        lines=[s.SubscriptionPlanLine(sku=ln.sku, qty=int(ln.qty)) for ln in p.lines],
        frequency=cast(Any, p.frequency),
        weekday=cast(Any, p.weekday),
        deliveries=int(p.deliveries),
        window=p.window,
        pricing=cast(Any, p.pricing),
        price_fen=int(p.price_fen),
        total_fen=_plan_total(p),
        stores=list(p.stores),
        cutoff=p.cutoff,
        campaign_id=p.campaign_id,
        status=cast(Any, p.status),
        created_at=p.created_at,
        updated_at=p.updated_at,
        version=int(p.version),
    )


def _check_plan(body: s.SubscriptionPlanIn) -> None:
    problems = []
    if body.frequency == "weekly" and body.weekday is None:
        problems.append(field_error("weekday", "a weekly plan names its weekday"))
    if body.frequency != "weekly" and body.weekday is not None:
        problems.append(field_error("weekday", "only weekly plans have a weekday"))
    if not rules.window_ok(body.window):
        problems.append(field_error("window", "HH:MM-HH:MM with the start before the end"))
    if len({ln.sku for ln in body.lines}) != len(body.lines):
        problems.append(field_error("lines", "each SKU once"))
    if problems:
        raise ValidationFailed("The plan is not valid.", details=problems)
    if body.campaign_id is not None:
        try:
            CampaignModel.get(body.campaign_id, attributes_to_get=["campaign_id"])
        except DoesNotExist:
            raise NotFound(f"No campaign {body.campaign_id}.", code="campaign_not_found") from None


def _link_campaign(campaign_id: str | None, plan_id: str) -> None:
    """The plan is one of the campaign's mechanics (CampaignModel.mechanic_ids)."""
    if campaign_id is None:
        return
    c = CampaignModel.get(campaign_id, consistent_read=True)
    if plan_id not in list(c.mechanic_ids or []):
        c.update(
            actions=[CampaignModel.mechanic_ids.set(CampaignModel.mechanic_ids.append([plan_id]))]
        )


def create_plan(
    principal: Principal, body: s.SubscriptionPlanIn, plan_id: str | None = None
) -> s.SubscriptionPlan:
    """A new plan (``plan_id``: the demo seed's fixed id; otherwise a new one)."""
    _check_plan(body)
    now = clock.now_iso()
    if plan_id is None:
        plan_id = "SP" + secrets.token_hex(7)
    p = SubscriptionPlanModel(plan_id, created_by=principal.subject, created_at=now, version=0)
    _fill(p, body, now)
    p.save(condition=SubscriptionPlanModel.plan_id.does_not_exist())
    _link_campaign(body.campaign_id, plan_id)
    return plan_view(p)


def _fill(p: SubscriptionPlanModel, body: s.SubscriptionPlanIn, now: str) -> None:
    p.name = body.name
    p.lines = [PlanLineAttribute(sku=ln.sku, qty=ln.qty) for ln in body.lines]
    p.frequency = body.frequency
    p.weekday = body.weekday
    p.deliveries = body.deliveries
    p.window = body.window
    p.pricing = body.pricing
    p.price_fen = body.price_fen
    p.stores = list(body.stores)
    p.cutoff = body.cutoff
    p.campaign_id = body.campaign_id
    p.status = body.status
    p.updated_at = now


def get_plan(plan_id: str) -> SubscriptionPlanModel:
    try:
        return SubscriptionPlanModel.get(plan_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No subscription plan {plan_id!r}.", code="plan_not_found") from None


def update_plan(
    principal: Principal, plan_id: str, body: s.SubscriptionPlanUpdate
) -> s.SubscriptionPlan:
    """Replace the plan at the version read (409 plan_changed otherwise). Subscriptions
    already sold keep the rules they were sold with."""
    _check_plan(body)
    p = get_plan(plan_id)
    if int(p.version) != body.version:
        raise Conflict("The plan changed since you read it; reload.", code="plan_changed")
    _fill(p, body, clock.now_iso())
    p.version = body.version + 1
    try:
        p.save(condition=SubscriptionPlanModel.version == body.version)
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        raise Conflict("The plan changed since you read it; reload.", code="plan_changed") from None
    _link_campaign(body.campaign_id, plan_id)
    return plan_view(p)


def list_plans(on_sale_only: bool = False) -> s.SubscriptionPlanList:
    items = [
        plan_view(p)
        for p in SubscriptionPlanModel.by_created.query("plans", scan_index_forward=False)
    ]
    if on_sale_only:
        items = [p for p in items if p.status == "on_sale" and _campaign_spending(p.campaign_id)]
    return s.SubscriptionPlanList(items=items)


def _campaign_spending(campaign_id: str | None) -> bool:
    """A plan in a campaign is sold only while the campaign spends (not draft/ended)."""
    if campaign_id is None:
        return True
    try:
        c = CampaignModel.get(campaign_id, attributes_to_get=["state"])
    except DoesNotExist:
        return False
    return c.state in SPENDING_STATES


def subscribers(plan_id: str) -> s.SubscriberList:
    get_plan(plan_id)
    return s.SubscriberList(
        items=[
            s.Subscriber(
                subscription_id=x.subscription_id,
                customer_id=x.customer_id,
                store_id=x.store_id,
                status=cast(Any, _status(x, [])),
                first_date=x.first_date,
                price_fen=int(x.price_fen),
                refunded_fen=int(x.refunded_fen or 0),
                created_at=x.created_at,
            )
            for x in SubscriptionModel.by_plan.query(plan_id, scan_index_forward=False)
        ]
    )


# --- subscribing ----------------------------------------------------------------------


def is_subscription_id(value: str) -> bool:
    return payable_kind.is_subscription_id(value)


def subscription_id_for(customer_id: str, key: str) -> str:
    digest = hashlib.sha256(f"subscription\0{customer_id}\0{key}".encode()).hexdigest()
    return PREFIX + digest[:16].upper()


def _status(sub: SubscriptionModel, schedule: list[SubscriptionDeliveryModel] | None) -> str:
    """Unpaid past its deadline reads expired; active with nothing left to order reads
    completed (``schedule`` read with it; None: not read)."""
    if sub.status == "awaiting_payment" and sub.expires_at <= clock.now_iso():
        return "expired"
    if (
        sub.status == "active"
        and schedule
        and not any(d.state in (*OPEN, "paused") for d in schedule)
    ):
        return "completed"
    return sub.status


def get(subscription_id: str) -> SubscriptionModel:
    try:
        return SubscriptionModel.get(subscription_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(
            f"No subscription {subscription_id!r}.", code="subscription_not_found"
        ) from None


def _own(principal: Principal, subscription_id: str) -> SubscriptionModel:
    sub = get(subscription_id) if is_subscription_id(subscription_id) else None
    if sub is None or (principal.role == CUSTOMER and sub.customer_id != principal.subject):
        raise NotFound(f"No subscription {subscription_id!r}.", code="subscription_not_found")
    if principal.role not in (CUSTOMER, HQ_ADMIN):
        raise NotFound(f"No subscription {subscription_id!r}.", code="subscription_not_found")
    return sub


def schedule_of(subscription_id: str) -> list[SubscriptionDeliveryModel]:
    return list(DM.query(subscription_id, consistent_read=True))


def view(sub: SubscriptionModel, schedule: list[SubscriptionDeliveryModel]) -> s.Subscription:
    status = _status(sub, schedule)
    sheet = None
    if status == "awaiting_payment":
        p = provider()
        params = p.create_payment(
            sub.subscription_id, int(sub.price_fen), f"鲜到家周期购 {sub.plan_name}"
        )
        sheet = s.PaymentSheet(provider=p.name, amount_fen=int(sub.price_fen), params=params)
    a = sub.address
    return s.Subscription(
        subscription_id=sub.subscription_id,
        plan_id=sub.plan_id,
        plan_name=sub.plan_name,
        customer_id=sub.customer_id,
        store_id=sub.store_id,
        fulfilment=sub.fulfilment,
        address=None
        if a is None
        else Address(name=a.name, phone=a.phone, line=a.line, lat=a.lat, lng=a.lng),
        first_date=sub.first_date,
        status=cast(Any, status),
        deliveries=int(sub.deliveries),
        price_fen=int(sub.price_fen),
        refunded_fen=int(sub.refunded_fen or 0),
        paid_at=sub.paid_at,
        expires_at=sub.expires_at,
        created_at=sub.created_at,
        schedule=[
            s.Delivery(
                date=d.day,
                seq=int(d.seq),
                state=cast(Any, d.state),
                cutoff_at=d.cutoff_at,
                order_id=d.order_id,
                reason=d.reason,
                refunded_fen=int(d.refunded_fen or 0),
            )
            for d in schedule
        ],
        payment=sheet,
    )


def get_view(principal: Principal, subscription_id: str) -> s.Subscription:
    sub = _own(principal, subscription_id)
    return view(sub, schedule_of(sub.subscription_id))


def mine(principal: Principal) -> s.SubscriptionList:
    subs = list(SubscriptionModel.by_customer.query(principal.subject, scan_index_forward=False))
    return s.SubscriptionList(items=[view(x, schedule_of(x.subscription_id)) for x in subs])


def _request_hash(body: s.SubscribeIn) -> str:
    return hashlib.sha256(msgspec.json.encode(body)).hexdigest()[:32]


def subscribe(
    principal: Principal, key: str | None, body: s.SubscribeIn
) -> tuple[s.Subscription, bool]:
    """Start a subscription awaiting payment; (view, created). The Idempotency-Key names
    it: the same key and body answer it again, another body is 422."""
    if not key or not 8 <= len(key) <= 64:
        raise ValidationFailed(
            "Send an Idempotency-Key header (8-64 characters).",
            code="idempotency_key_required",
        )
    sub_id = subscription_id_for(principal.subject, key)
    request_hash = _request_hash(body)
    try:
        existing = SubscriptionModel.get(sub_id, consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is not None:
        return _replay(existing, request_hash), False
    plan = get_plan(body.plan_id)
    if plan.status != "on_sale" or not _campaign_spending(plan.campaign_id):
        raise Conflict("This plan is not on sale now.", code="plan_not_on_sale")
    if body.store_id not in list(plan.stores):
        raise Conflict("This plan is not sold at that store.", code="plan_not_at_store")
    if body.fulfilment == "delivery" and body.address is None:
        raise ValidationFailed(
            "A delivery subscription needs an address.",
            details=[field_error("address", "required for delivery")],
        )
    first = date.fromisoformat(body.first_date)
    if rules.cutoff_at(first, plan.cutoff) <= clock.now():
        raise ValidationFailed(
            "The first date's order cutoff has passed; choose a later date.",
            code="first_date_too_early",
            details=[
                field_error("first_date", f"its cutoff ({plan.cutoff} the day before) has passed")
            ],
        )
    if not rules.is_delivery_day(first, plan.frequency, plan.weekday):
        raise ValidationFailed(
            "The first date is not a delivery day of this plan.",
            code="first_date_not_delivery_day",
            details=[field_error("first_date", f"not a {plan.frequency} delivery day")],
        )
    prices = {
        i.sku: int(i.price_fen)
        for i in StoreItemModel.batch_get([(body.store_id, ln.sku) for ln in plan.lines])
    }
    one = sum(prices.get(ln.sku, 0) * int(ln.qty) for ln in plan.lines)
    now = clock.now()
    a = body.address
    sub = SubscriptionModel(
        sub_id,
        customer_id=principal.subject,
        plan_id=plan.plan_id,
        plan_name=plan.name,
        store_id=body.store_id,
        fulfilment=body.fulfilment,
        address=None
        if a is None or body.fulfilment != "delivery"
        else AddressAttribute(name=a.name, phone=a.phone, line=a.line, lat=a.lat, lng=a.lng),
        first_date=body.first_date,
        lines=[PlanLineAttribute(sku=ln.sku, qty=int(ln.qty)) for ln in plan.lines],
        frequency=plan.frequency,
        weekday=plan.weekday,
        window=plan.window,
        cutoff=plan.cutoff,
        request_hash=request_hash,
        status="awaiting_payment",
        deliveries=int(plan.deliveries),
        price_fen=_plan_total(plan),
        list_value_fen=one * int(plan.deliveries),
        campaign_id=plan.campaign_id,
        refunded_fen=0,
        history=[transitions.entry("subscribe", None, "awaiting_payment", principal)],
        expires_at=clock.iso(now + timedelta(seconds=config.PAYMENT_TIMEOUT_S)),
        created_at=clock.now_iso_ms(),
        updated_at=clock.iso(now),
    )
    try:
        sub.save(condition=SubscriptionModel.subscription_id.does_not_exist())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return _replay(get(sub_id), request_hash), False
    return view(sub, []), True


def _replay(existing: SubscriptionModel, request_hash: str) -> s.Subscription:
    if existing.request_hash != request_hash:
        raise ValidationFailed(
            "That Idempotency-Key was used for another subscription; send a new key.",
            code="idempotency_key_reused",
        )
    return view(existing, schedule_of(existing.subscription_id))


# --- paying ---------------------------------------------------------------------------


def payable(principal: Principal, subscription_id: str) -> tuple[str, int]:
    sub = get(subscription_id)
    if principal.role == CUSTOMER and sub.customer_id != principal.subject:
        raise NotFound(f"No subscription {subscription_id!r}.", code="subscription_not_found")
    return sub.subscription_id, int(sub.price_fen)


def payment_total(subscription_id: str) -> int | None:
    try:
        return int(SubscriptionModel.get(subscription_id).price_fen)
    except DoesNotExist:
        return None


def first_open_date(sub: SubscriptionModel, start: date) -> date:
    """The first delivery day from ``start`` whose cutoff is still ahead."""
    day = start
    while not (
        rules.is_delivery_day(day, sub.frequency, sub.weekday)
        and rules.cutoff_at(day, sub.cutoff) > clock.now()
    ):
        day += timedelta(days=1)
    return day


def _entry(sub: SubscriptionModel, day: date, seq: int, now: str) -> SubscriptionDeliveryModel:
    return SubscriptionDeliveryModel(
        sub.subscription_id,
        day.isoformat(),
        seq=seq,
        store_id=sub.store_id,
        customer_id=sub.customer_id,
        state="scheduled",
        cutoff_at=clock.iso(rules.cutoff_at(day, sub.cutoff)),
        refunded_fen=0,
        attempts=0,
        updated_at=now,
    )


def record_payment(notice: PaymentNotice) -> str:
    """A verified payment: the subscription becomes active with its schedule, once (the
    payment record keyed by the transaction and the subscription's state are conditions
    of one transaction). A late or second payment is recorded and refunded whole. A
    first date whose cutoff passed while the member paid moves to the next open day."""
    sub = get(notice.order_id)
    if notice.amount_fen != int(sub.price_fen) and sub.status == "awaiting_payment":
        raise BadRequest("The paid amount does not match.", code="amount_mismatch")
    if sub.payment_id == notice.payment_id:
        _accrue_discount(sub)
        return "already recorded"
    if sub.status != "awaiting_payment" or notice.paid_at > sub.expires_at:
        return _refund_late(sub, notice)
    now = clock.now_iso()
    start = first_open_date(sub, date.fromisoformat(sub.first_date))
    days = rules.dates(start, int(sub.deliveries), sub.frequency, sub.weekday)
    entries = [_entry(sub, d, i + 1, now) for i, d in enumerate(days)]
    move_actions = [
        SM.status.set("active"),
        SM.payment_id.set(notice.payment_id),
        SM.payment_provider.set(notice.provider),
        SM.paid_at.set(notice.paid_at),
        SM.updated_at.set(now),
        SM.history.set(
            SM.history.append(
                [transitions.entry("pay", "awaiting_payment", "active", PAYMENT_ACTOR)]
            )
        ),
    ]
    payment = notice.record(sub.subscription_id, "captured")

    def build(tx: Tx) -> None:
        tx.update(
            SubscriptionModel(sub.subscription_id),
            actions=move_actions,
            condition=SM.status == "awaiting_payment",
            label="subscription",
        )
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        for e in entries:
            tx.save(e, condition=DM.day.does_not_exist(), label=f"day:{e.day}")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed:
            return "already recorded"
        if "subscription" in exc.failed:  # another payment got there first
            return _refund_late(get(sub.subscription_id), notice)
        raise
    sub.payment_id = notice.payment_id
    _accrue_discount(sub)
    return "paid"


def _accrue_discount(sub: SubscriptionModel) -> None:
    """The plan's discount against the store's list prices is its campaign's cost,
    accrued once per subscription (kind "discount", funded by head office)."""
    if sub.campaign_id is None:
        return
    discount = int(sub.list_value_fen) - int(sub.price_fen)
    budgets.accrue(sub.campaign_id, "discount", discount, f"subscription:{sub.subscription_id}")


def _refund_late(sub: SubscriptionModel, notice: PaymentNotice) -> str:
    refund = refunds.unlinked(
        f"{sub.subscription_id}:late:{notice.transaction_id}",
        sub.subscription_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        "late_payment",
    )
    payment = notice.record(sub.subscription_id, "late_refunded")

    def build(tx: Tx) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed:
            return "already recorded"
        raise
    refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    return "subscription not payable; refunded"


# --- the member's changes -------------------------------------------------------------


def change(principal: Principal, subscription_id: str, body: s.ChangeIn) -> s.Subscription:
    """pause / resume / skip / change_address / cancel; each idempotent."""
    sub = _own(principal, subscription_id)
    status = _status(sub, None)
    if status in ("awaiting_payment", "expired"):
        raise Conflict("The subscription is not paid.", code="subscription_not_active")
    who = Who(principal.subject, principal.role)
    if body.action == "cancel":
        _cancel(sub, who)
    elif sub.status == "cancelled":
        raise Conflict("The subscription is cancelled.", code="subscription_not_active")
    elif body.action == "skip":
        if body.date is None:
            raise ValidationFailed(
                "Name the date to skip.", details=[field_error("date", "required")]
            )
        _skip(sub, body.date)
    elif body.action == "pause":
        _pause(sub, who, body.date)
    elif body.action == "resume":
        _resume(sub, who, body.date)
    else:
        _change_address(sub, body)
    latest = get(subscription_id)
    return view(latest, schedule_of(subscription_id))


def _skip(sub: SubscriptionModel, day: str) -> None:
    """Skip a scheduled date before its cutoff; the delivery moves to the end of the
    schedule (the next delivery day after the last date), so none is lost. The skip's
    condition is the date still scheduled and its cutoff ahead: a skip racing the daily
    job gives either a skipped date or an order, never both. Skipping a skipped date
    again changes nothing."""
    for _ in range(5):
        schedule = schedule_of(sub.subscription_id)
        entry = next((d for d in schedule if d.day == day), None)
        if entry is None:
            raise NotFound(f"No delivery on {day}.", code="delivery_not_found")
        if entry.state == "skipped":
            return
        now = clock.now_iso()
        if entry.state != "scheduled" or entry.cutoff_at <= now:
            raise Conflict(
                f"The delivery of {day} can no longer be skipped ({entry.state}, cutoff "
                f"{entry.cutoff_at}).",
                code="skip_too_late",
            )
        taken = frozenset(date.fromisoformat(d.day) for d in schedule)
        last = max(taken)
        new_day = rules.dates(last + timedelta(days=1), 1, sub.frequency, sub.weekday, taken)[0]
        moved = _entry(sub, new_day, int(entry.seq), now)

        def build(
            tx: Tx, entry: SubscriptionDeliveryModel = entry, moved: Any = moved, now: str = now
        ) -> None:
            tx.update(
                DM(sub.subscription_id, entry.day),
                actions=[
                    DM.state.set("skipped"),
                    DM.updated_at.set(now),
                    DM.reason.set(f"moved to {moved.day}"),
                ],
                condition=(DM.state == "scheduled") & (DM.cutoff_at > now),
                label="skip",
            )
            tx.save(moved, condition=DM.day.does_not_exist(), label="moved")

        try:
            transact(build)
            return
        except TransactionCancelled as exc:
            if "moved" in exc.failed and "skip" not in exc.failed:
                continue  # another change took that date meanwhile: choose again
            if "skip" in exc.failed:
                continue  # re-read: skipped already, or ordered
            raise
    raise Conflict("The schedule is changing; retry.", code="subscription_busy")


def _pause(sub: SubscriptionModel, who: Who, start: str | None) -> None:
    """Pause: every scheduled date from ``start`` (default: now) whose cutoff is ahead
    becomes paused; resuming puts them back at new dates. Pausing a paused subscription
    changes nothing."""
    if sub.status == "paused":
        return
    for _ in range(5):
        now = clock.now_iso()
        hold = [
            d
            for d in schedule_of(sub.subscription_id)
            if d.state == "scheduled" and d.cutoff_at > now and (start is None or d.day >= start)
        ]

        def build(tx: Tx, hold: list = hold, now: str = now) -> None:
            tx.update(
                SubscriptionModel(sub.subscription_id),
                actions=[
                    SM.status.set("paused"),
                    SM.updated_at.set(now),
                    SM.history.set(
                        SM.history.append([transitions.entry("pause", "active", "paused", who)])
                    ),
                ],
                condition=SM.status == "active",
                label="subscription",
            )
            for d in hold:
                tx.update(
                    DM(sub.subscription_id, d.day),
                    actions=[DM.state.set("paused"), DM.updated_at.set(now)],
                    condition=(DM.state == "scheduled") & (DM.cutoff_at > now),
                    label=f"day:{d.day}",
                )

        try:
            transact(build)
            return
        except TransactionCancelled as exc:
            if "subscription" in exc.failed:
                if get(sub.subscription_id).status == "paused":
                    return
                raise Conflict(
                    "The subscription cannot be paused now.", code="subscription_not_active"
                ) from None
            continue  # a date was ordered meanwhile: read again
    raise Conflict("The schedule is changing; retry.", code="subscription_busy")


def _resume(sub: SubscriptionModel, who: Who, start: str | None) -> None:
    """Resume: the paused deliveries get new dates from ``start`` (default: the first
    day whose cutoff is ahead), after the dates still held, keeping their shares."""
    if sub.status == "active":
        return
    schedule = schedule_of(sub.subscription_id)
    paused = sorted((d for d in schedule if d.state == "paused"), key=lambda d: int(d.seq))
    kept = frozenset(date.fromisoformat(d.day) for d in schedule if d.state != "paused")
    begin = first_open_date(
        sub, date.fromisoformat(start) if start else clock.now().astimezone(rules.ZONE).date()
    )
    days = rules.dates(begin, len(paused), sub.frequency, sub.weekday, kept)
    now = clock.now_iso()
    fresh = [_entry(sub, d, int(p.seq), now) for d, p in zip(days, paused, strict=True)]

    def build(tx: Tx) -> None:
        tx.update(
            SubscriptionModel(sub.subscription_id),
            actions=[
                SM.status.set("active"),
                SM.updated_at.set(now),
                SM.history.set(
                    SM.history.append([transitions.entry("resume", "paused", "active", who)])
                ),
            ],
            condition=SM.status == "paused",
            label="subscription",
        )
        for p in paused:
            tx.delete(
                DM(sub.subscription_id, p.day), condition=DM.state == "paused", label=f"old:{p.day}"
            )
        for e in fresh:
            if e.day in {p.day for p in paused}:
                continue  # same date again: the delete and put would touch one item
            tx.save(e, condition=DM.day.does_not_exist(), label=f"new:{e.day}")

    # a paused date that comes out at the same date is written back as scheduled
    same = [e for e in fresh if e.day in {p.day for p in paused}]
    try:
        transact(build)
    except TransactionCancelled as exc:
        if "subscription" in exc.failed and get(sub.subscription_id).status == "active":
            return
        raise Conflict(
            "The subscription changed meanwhile; retry.", code="subscription_busy"
        ) from None
    for e in same:
        e.save()


def _change_address(sub: SubscriptionModel, body: s.ChangeIn) -> None:
    """Deliveries not yet ordered go to the new address (or become pickups)."""
    fulfilment = body.fulfilment or sub.fulfilment
    a = body.address
    if fulfilment == "delivery" and a is None:
        raise ValidationFailed(
            "A delivery needs an address.", details=[field_error("address", "required")]
        )
    address = (
        None
        if fulfilment != "delivery" or a is None
        else AddressAttribute(name=a.name, phone=a.phone, line=a.line, lat=a.lat, lng=a.lng)
    )
    actions: list[Any] = [SM.fulfilment.set(fulfilment), SM.updated_at.set(clock.now_iso())]
    actions.append(SM.address.set(address) if address is not None else SM.address.remove())
    sub.update(actions=actions, condition=SM.status.is_in("active", "paused"))


def _cancel(sub: SubscriptionModel, who: Who) -> None:
    """Cancel: every delivery not yet ordered is cancelled and refunded pro rata (its
    share, rules.refund_for), the subscription cancelled, and the refund recorded, in one
    transaction conditioned on each date's state as read: a date the job orders at the
    same moment is either ordered (and not refunded) or cancelled (and never ordered).
    Cancelling again answers the cancelled subscription."""
    for _ in range(5):
        sub = get(sub.subscription_id)
        if sub.status == "cancelled":
            return
        schedule = schedule_of(sub.subscription_id)
        unused = [d for d in schedule if d.state in (*OPEN, "paused")]
        amount = rules.refund_for(
            int(sub.price_fen),
            int(sub.deliveries),
            {int(d.seq) for d in unused},
            sum(int(d.refunded_fen or 0) for d in unused),
        )
        now = clock.now_iso()
        refund = None
        if amount > 0:
            refund = refunds.unlinked(
                f"{sub.subscription_id}:cancel",
                sub.subscription_id,
                sub.payment_id or "",
                sub.payment_provider or "",
                amount,
                "cancel",
            )

        def build(
            tx: Tx,
            unused: list = unused,
            refund: Any = refund,
            amount: int = amount,
            status: str = sub.status,
            now: str = now,
            sub: SubscriptionModel = sub,
        ) -> None:
            tx.update(
                SubscriptionModel(sub.subscription_id),
                actions=[
                    SM.status.set("cancelled"),
                    SM.refunded_fen.add(amount),
                    SM.updated_at.set(now),
                    SM.history.set(
                        SM.history.append([transitions.entry("cancel", status, "cancelled", who)])
                    ),
                ],
                condition=SM.status == status,
                label="subscription",
            )
            for d in unused:
                tx.update(
                    DM(sub.subscription_id, d.day),
                    actions=[DM.state.set("cancelled"), DM.updated_at.set(now)],
                    condition=DM.state == d.state,
                    label=f"day:{d.day}",
                )
            if refund is not None:
                tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")

        try:
            transact(build)
        except TransactionCancelled:
            continue  # a date moved (ordered, skipped) or the subscription did: again
        if refund is not None:
            refunds.execute(refund.refund_id, payment_total_fen=int(sub.price_fen))
        return
    raise Conflict("The schedule is changing; retry.", code="subscription_busy")


# --- head office's pick list ----------------------------------------------------------


def tomorrow() -> str:
    return (clock.now().astimezone(rules.ZONE).date() + timedelta(days=1)).isoformat()


def pick_list(principal: Principal, query: s.DeliveryQuery) -> s.PickList:
    """Deliveries of a day per store: units per SKU and the deliveries (those to be
    made: scheduled, failed and retried, or ordered). A store's staff see their own."""
    day = query.date or tomorrow()
    store = query.store_id
    if principal.role != HQ_ADMIN:
        if store is not None and store != principal.store_id:
            from chalicelib.kernel.errors import Forbidden

            raise Forbidden("Only your own store's deliveries.", code="other_store")
        store = principal.store_id
    entries = [
        d
        for d in DM.by_day.query(day)
        if (store is None or d.store_id == store) and d.state in (*OPEN, "ordered")
    ]
    subs: dict[str, SubscriptionModel] = {}
    if entries:
        for x in SubscriptionModel.batch_get(list({d.subscription_id for d in entries})):
            subs[x.subscription_id] = x
    by_store: dict[str, s.StorePickList] = {}
    units: dict[str, dict[str, int]] = {}
    for d in sorted(entries, key=lambda d: (d.store_id, d.subscription_id)):
        sub = subs[d.subscription_id]
        sl = by_store.setdefault(
            d.store_id, s.StorePickList(store_id=d.store_id, units=[], deliveries=[])
        )
        per = units.setdefault(d.store_id, {})
        for ln in sub.lines:
            per[ln.sku] = per.get(ln.sku, 0) + int(ln.qty)
        sl.deliveries.append(
            s.PickDelivery(
                subscription_id=d.subscription_id,
                plan_name=sub.plan_name,
                state=cast(Any, d.state),
                order_id=d.order_id,
                fulfilment=sub.fulfilment,
                window=sub.window,
                lines=[s.PickUnits(sku=ln.sku, units=int(ln.qty)) for ln in sub.lines],
            )
        )
    for sid, sl in by_store.items():
        sl.units = [s.PickUnits(sku=k, units=v) for k, v in sorted(units[sid].items())]
    return s.PickList(date=day, stores=[by_store[k] for k in sorted(by_store)])
