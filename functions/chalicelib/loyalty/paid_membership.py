"""Paid membership (付费会员卡): head office's plans, buying and renewing through the
payment provider, the free trial, refunds, the monthly coupon pack, and the card's
benefits at checkout. The rules themselves are in loyalty/paid_rules.py.

- A purchase ("PM…", from the member and the Idempotency-Key) waits for payment like an
  order; ``orders.payments.record_payment`` hands notices for "PM…" ids to
  ``record_payment``. Its transaction moves the purchase to paid, records the payment
  (keyed by the provider's transaction), writes the history entry ``buy:<purchase>``
  (``attribute_not_exists``) and the card under its ``version``: a repeated notice
  activates nothing twice; money the purchase cannot take is refunded in full.
- Renewal extends from the card's end while it runs (paid_rules.extension).
- The trial is the entry ``trial`` (``attribute_not_exists``): once per member whatever
  the races. Granted by head office, or by orders.payments when a stored-value top-up
  reaches stored value's ``trial_threshold_fen`` (stored_value and loyalty do not import
  each other: the payment route sees both).
- A refund pays back each paid period not over (paid_rules.refund_fen) through the
  provider and ends the card, in one transaction.
- The monthly coupon pack is issued by ``issue_packs`` from the sparse ``by_pack`` index.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.coupons import repo as coupon_repo
from chalicelib.coupons.models import CouponModel
from chalicelib.db.transactions import (
    TransactionCancelled,
    Tx,
    TxPiece,
    add_all,
    batch_get,
    transact,
)
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import BadRequest, Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.money import yuan
from chalicelib.loyalty import paid_rules as rules
from chalicelib.loyalty import paid_schemas as s
from chalicelib.loyalty.paid_models import (
    PACK_SHARDS,
    PaidCardEntryModel,
    PaidCardModel,
    PaidPlanModel,
    PaidPurchaseModel,
)
from chalicelib.orders import refunds
from chalicelib.orders.models import PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice, provider

log = logging.getLogger("daojia.paid_membership")
PREFIX = "PM"
AREA = "paid_membership"
CARD = "card"  # the card's piece label
ENTRY = "entry"
RETRIES = 5


def prices_of(raw: Any) -> dict[str, int]:
    """A member-prices map as read (PynamoDB gives a raw MapAttribute) as a dict."""
    if raw is None:
        return {}
    values = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return {k: int(v) for k, v in values.items()}


# --- plans --------------------------------------------------------------------------


def _plan_dict(p: PaidPlanModel) -> dict[str, Any]:
    return {
        "name": p.name,
        "period": p.period,
        "price_fen": int(p.price_fen),
        "free_delivery": bool(p.free_delivery),
        "discount_permille": int(p.discount_permille or 0),
        "member_prices": prices_of(p.member_prices),
        "coupon_template_ids": list(p.coupon_template_ids or []),
        "active": bool(p.active),
    }


def plan_view(p: PaidPlanModel, active_members: int | None = None) -> s.Plan:
    d = _plan_dict(p)
    return s.Plan(
        plan_id=p.plan_id,
        version=int(p.version or 0),
        active_members=active_members,
        updated_at=p.updated_at,
        updated_by=p.updated_by,
        **d,
    )


def get_plan(plan_id: str) -> PaidPlanModel:
    try:
        return PaidPlanModel.get(plan_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No paid plan {plan_id!r}.", code="plan_not_found") from None


def active_members(plan_id: str, now_iso: str | None = None) -> int:
    """Cards of this plan running now: one keys-only Query of the by_plan index."""
    at = now_iso or clock.now_iso()
    return PaidCardModel.by_plan.count(plan_id, PaidCardModel.ends_at > at)


def all_plans() -> list[PaidPlanModel]:
    """Every plan, cheapest first: one Query of the listing index (no scan)."""
    plans = PaidPlanModel.by_listing.query("plans")
    return sorted(plans, key=lambda p: (int(p.price_fen), p.plan_id))


def list_plans(*, admin: bool) -> s.PlanList:
    """Head office: every plan with its running cards; members: the active plans."""
    plans = all_plans()
    if not admin:
        return s.PlanList(items=[plan_view(p) for p in plans if p.active])
    now = clock.now_iso()
    return s.PlanList(items=[plan_view(p, active_members(p.plan_id, now)) for p in plans])


def _check_templates(body: s.PlanIn) -> None:
    if not body.coupon_template_ids:
        return
    ids = list(dict.fromkeys(body.coupon_template_ids))
    from chalicelib.coupons.models import CouponTemplateModel

    found = {
        t.template_id
        for t in batch_get({CouponTemplateModel: [{"template_id": i} for i in ids]})[
            CouponTemplateModel
        ]
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationFailed(
            f"No coupon template {missing[0]!r}: the monthly pack names existing templates.",
            code="coupon_template_not_found",
            details=[field_error("coupon_template_ids", f"unknown: {', '.join(missing)}")],
        )


def _plan_item(
    plan_id: str, body: s.PlanIn, version: int, principal: Principal, created_at: str
) -> PaidPlanModel:
    return PaidPlanModel(
        plan_id,
        name=body.name,
        period=body.period,
        price_fen=body.price_fen,
        free_delivery=body.free_delivery,
        discount_permille=body.discount_permille,
        member_prices=dict(body.member_prices),
        coupon_template_ids=list(dict.fromkeys(body.coupon_template_ids)),
        active=body.active,
        version=version,
        created_at=created_at,
        updated_at=clock.now_iso(),
        updated_by=principal.subject,
    )


def create_plan(principal: Principal, body: s.PlanIn, plan_id: str | None = None) -> s.Plan:
    """A new plan, audited in the same transaction."""
    _check_templates(body)
    plan_id = plan_id or f"plan-{secrets.token_hex(4)}"
    item = _plan_item(plan_id, body, 1, principal, clock.now_iso())
    entry = audit.new_entry(
        principal,
        "loyalty.paid_plan_created",
        audit.Target("paid_plan", plan_id),
        {},
        _plan_dict(item),
        always=True,
    )
    try:
        transact(
            lambda tx: audit.with_entry(
                tx,
                entry,
                tx.save(item, condition=PaidPlanModel.plan_id.does_not_exist(), label="plan"),
            )
        )
    except TransactionCancelled as exc:
        if "plan" in exc.failed:
            raise Conflict(f"A plan {plan_id!r} exists already.", code="plan_exists") from None
        raise
    return plan_view(item, 0)


def update_plan(principal: Principal, plan_id: str, body: s.PlanUpdate) -> s.Plan:
    """Replace a plan (audited); 409 ``plan_changed`` when ``version`` moved. Cards
    already paid keep the benefits they were bought with."""
    old = get_plan(plan_id)
    if int(old.version or 0) != body.version:
        raise Conflict("The plan was changed meanwhile; reload it.", code="plan_changed")
    _check_templates(body)
    item = _plan_item(plan_id, body, body.version + 1, principal, old.created_at)
    entry = audit.new_entry(
        principal,
        "loyalty.paid_plan",
        audit.Target("paid_plan", plan_id),
        _plan_dict(old),
        _plan_dict(item),
    )
    if entry is None:
        return plan_view(old, active_members(plan_id))
    try:
        transact(
            lambda tx: audit.with_entry(
                tx,
                entry,
                tx.save(item, condition=PaidPlanModel.version == body.version, label="plan"),
            )
        )
    except TransactionCancelled as exc:
        if "plan" in exc.failed:
            raise Conflict(
                "The plan was changed meanwhile; reload it.", code="plan_changed"
            ) from None
        raise
    return plan_view(item, active_members(plan_id))


# --- settings -----------------------------------------------------------------------


def settings() -> s.PaidSettings:
    """The paid membership rules (one GetItem of loyalty_settings "paid_membership", or
    all areas once per memo scope: settings.data)."""
    from chalicelib.loyalty import programme_settings

    return programme_settings.read(AREA, s.PaidSettings)


def put_settings(principal: Principal, body: s.PaidSettings) -> s.PaidSettings:
    """Replace the rules, audited in the same transaction; 409 on a concurrent edit."""
    from chalicelib.loyalty import programme_settings

    if body.trial_plan_id is not None:
        get_plan(body.trial_plan_id)
    return programme_settings.put(principal, AREA, body, action="loyalty.paid_settings")


# --- the card -----------------------------------------------------------------------


def card(customer_id: str) -> PaidCardModel | None:
    try:
        return PaidCardModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return None


def card_keys(customer_id: str) -> dict[Any, list[dict[str, Any]]]:
    """The card's key, for checkout's one BatchGetItem of the cart."""
    return {PaidCardModel: [{"customer_id": customer_id}]}


def running(c: PaidCardModel | None, now: datetime) -> bool:
    return c is not None and clock.parse(c.ends_at) > now


def card_benefits(card_item: PaidCardModel | None, now: datetime) -> rules.CardBenefits | None:
    """What the card gives at checkout now (no I/O: ``card_item`` is the card as the
    cart's BatchGetItem read it); None when the member has no running card.

    Stacking (docs/loyalty.md, Paid membership): the discount and the member prices are
    item-level member prices (step 1 of checkout/promotion_engine.py: never with a flash
    price, the lower wins; second-half, tiered and coupons then work on it); free
    delivery waives the fee, so no free-delivery coupon is spent on it."""
    if card_item is None or not running(card_item, now):
        return None
    return rules.CardBenefits(
        plan_id=card_item.plan_id,
        free_delivery=bool(card_item.free_delivery),
        discount_permille=int(card_item.discount_permille or 0),
        member_prices=prices_of(card_item.member_prices),
    )


def benefit_used_piece(customer_id: str, order_id: str) -> TxPiece:
    """For the order's placing transaction when it used the card's benefits: marks the
    card (the refund rule's "benefit used"); moves its version so a concurrent card
    write reads again."""
    m = PaidCardModel
    return TxPiece(
        PaidCardModel(customer_id),
        {
            "actions": [
                m.benefit_used_at.set(m.benefit_used_at | clock.now_iso()),
                m.version.add(1),
            ],
            "condition": m.customer_id.exists(),
        },
        f"paid_card:{order_id}",
    )


def _history(customer_id: str) -> list[s.HistoryEntry]:
    items = list(PaidCardEntryModel.query(customer_id, consistent_read=True))
    items.sort(key=lambda e: (e.at, e.ref), reverse=True)
    return [
        s.HistoryEntry(
            ref=e.ref,
            kind=cast(Any, e.kind),
            at=e.at,
            plan_id=e.plan_id,
            plan_name=e.plan_name,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            amount_fen=int(e.amount_fen or 0),
            purchase_id=e.purchase_id,
            coupon_ids=list(e.coupon_ids or []),
            actor=e.actor,
            reason=e.reason,
        )
        for e in items
    ]


def membership(customer_id: str) -> s.Membership:
    """The member's card: plan, end, benefits, and its history (newest first)."""
    c = card(customer_id)
    now = clock.now()
    on = running(c, now)
    return s.Membership(
        customer_id=customer_id,
        active=on,
        plan_id=c.plan_id if c else None,
        plan_name=c.plan_name if c else None,
        trial=bool(c.trial) if c and on else False,
        started_at=c.started_at if c and on else None,
        ends_at=c.ends_at if c else None,
        trial_used=bool(c and c.trial_used_at),
        benefits=(
            s.Benefits(
                free_delivery=bool(c.free_delivery),
                discount_permille=int(c.discount_permille or 0),
                member_prices=prices_of(c.member_prices),
                coupon_template_ids=list(c.coupon_template_ids or []),
            )
            if c and on
            else None
        ),
        next_pack_at=c.next_pack_at if c and on else None,
        history=_history(customer_id),
    )


def _shard(customer_id: str) -> str:
    return f"k{int(hashlib.sha256(customer_id.encode()).hexdigest(), 16) % PACK_SHARDS}"


def _extended(
    old: PaidCardModel | None,
    customer_id: str,
    plan: PaidPlanModel,
    months: int | None,
    days: int | None,
    now: datetime,
    *,
    trial: bool,
) -> tuple[PaidCardModel, datetime, datetime]:
    """The card after a period of ``plan`` (``months``, or ``days`` for a trial) added
    at ``now``: from its end while it runs, else a new membership from now."""
    on = running(old, now)
    current_end = clock.parse(old.ends_at) if old is not None and on else None
    if months is not None:
        start, end = rules.extension(current_end, now, months)
    else:
        start = current_end or now
        end = start + timedelta(days=days or 0)
    started = clock.parse(old.started_at) if old is not None and on else now
    issued = int(old.packs_issued or 0) if old is not None and on else 0
    due = rules.next_pack(started, issued, end)
    new = PaidCardModel(
        customer_id,
        plan_id=plan.plan_id,
        plan_name=plan.name,
        free_delivery=bool(plan.free_delivery),
        discount_permille=int(plan.discount_permille or 0),
        member_prices=prices_of(plan.member_prices),
        coupon_template_ids=list(plan.coupon_template_ids or []),
        started_at=clock.iso(started),
        ends_at=clock.iso(end),
        trial=trial,
        trial_used_at=old.trial_used_at if old is not None else None,
        benefit_used_at=old.benefit_used_at if old is not None and on else None,
        packs_issued=issued,
        pack_shard=_shard(customer_id) if due else None,
        next_pack_at=clock.iso(due) if due else None,
        version=(int(old.version or 0) + 1) if old is not None else 1,
        updated_at=clock.now_iso(),
    )
    return new, start, end


def _card_condition(old: PaidCardModel | None) -> Any:
    if old is None:
        return PaidCardModel.customer_id.does_not_exist()
    return PaidCardModel.version == int(old.version or 0)


# --- purchases ----------------------------------------------------------------------


def is_purchase_id(value: str) -> bool:
    """Purchase ids start with "PM"; order ids with six digits, coupon sales "CS", top-ups "TU"."""
    return value.startswith(PREFIX)


def purchase_id_for(customer_id: str, key: str) -> str:
    digest = hashlib.sha256(f"paid-card\0{customer_id}\0{key}".encode()).hexdigest()
    return PREFIX + digest[:16].upper()


def get_purchase(purchase_id: str) -> PaidPurchaseModel:
    try:
        return PaidPurchaseModel.get(purchase_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No purchase {purchase_id!r}.", code="paid_purchase_not_found") from None


def _status(p: PaidPurchaseModel) -> str:
    if p.status == "awaiting_payment" and p.expires_at <= clock.now_iso():
        return "expired"
    return p.status


def purchase_view(p: PaidPurchaseModel, with_sheet: bool = False) -> s.Purchase:
    status = _status(p)
    sheet = None
    if with_sheet and status == "awaiting_payment":
        try:
            prov = provider()
            params = prov.create_payment(
                p.purchase_id, int(p.price_fen), f"鲜到家{p.plan_name} {yuan(int(p.price_fen))}"
            )
            sheet = s.PaymentSheet(
                order_id=p.purchase_id,
                provider=prov.name,
                amount_fen=int(p.price_fen),
                params=params,
            )
        except Exception:
            log.exception("purchase %s: no payment sheet", p.purchase_id)
    return s.Purchase(
        purchase_id=p.purchase_id,
        plan_id=p.plan_id,
        plan_name=p.plan_name,
        period=cast(Any, p.period),
        price_fen=int(p.price_fen),
        status=cast(Any, status),
        created_at=p.created_at,
        expires_at=p.expires_at,
        paid_at=p.paid_at,
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        payment=sheet,
    )


def own_purchase(principal: Principal, purchase_id: str) -> s.Purchase:
    p = get_purchase(purchase_id) if is_purchase_id(purchase_id) else None
    if p is None or p.customer_id != principal.subject:
        raise NotFound(f"No purchase {purchase_id!r}.", code="paid_purchase_not_found")
    return purchase_view(p, with_sheet=True)


def create_purchase(
    principal: Principal, key: str | None, body: s.PurchaseCreate
) -> tuple[s.Purchase, bool]:
    """A purchase awaiting payment with its payment sheet; the same Idempotency-Key
    again answers the same purchase (created False). 404 ``plan_not_found``, 409
    ``plan_inactive``."""
    if not key or not (8 <= len(key) <= 64):
        raise BadRequest(
            "Send an Idempotency-Key header (8-64 characters), the same on every retry.",
            code="idempotency_key_required",
        )
    customer_id = principal.subject
    purchase_id = purchase_id_for(customer_id, key)
    try:
        existing: PaidPurchaseModel | None = PaidPurchaseModel.get(
            purchase_id, consistent_read=True
        )
    except DoesNotExist:
        existing = None
    if existing is not None:
        if existing.plan_id != body.plan_id:
            raise ValidationFailed(
                "This Idempotency-Key was used for another plan; use a new key.",
                code="idempotency_key_reused",
                details=[field_error("Idempotency-Key", "used with another plan")],
            )
        return purchase_view(existing, with_sheet=True), False
    plan = get_plan(body.plan_id)
    if not plan.active:
        raise Conflict(f"The plan {plan.name} is no longer sold.", code="plan_inactive")
    p = PaidPurchaseModel(
        purchase_id,
        customer_id=customer_id,
        request_id=key,
        plan_id=plan.plan_id,
        plan_name=plan.name,
        period=plan.period,
        price_fen=int(plan.price_fen),
        status="awaiting_payment",
        created_at=clock.now_iso_ms(),
        expires_at=clock.iso(clock.now() + timedelta(seconds=config.PAYMENT_TIMEOUT_S)),
    )
    try:
        p.save(condition=PaidPurchaseModel.purchase_id.does_not_exist())
    except Exception as exc:  # a racing retry with the same key
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return purchase_view(get_purchase(purchase_id), with_sheet=True), False
    return purchase_view(p, with_sheet=True), True


def payable(principal: Principal, purchase_id: str) -> tuple[str, int]:
    """(payment id, amount) for the local provider's simulated payment."""
    p = get_purchase(purchase_id)
    if principal.role == CUSTOMER and p.customer_id != principal.subject:
        raise NotFound(f"No purchase {purchase_id!r}.", code="paid_purchase_not_found")
    return p.purchase_id, int(p.price_fen)


def record_payment(notice: PaymentNotice, _attempt: int = 0) -> str:
    """Activate or renew the card once for a verified payment; money the purchase cannot
    take (expired, paid already by another payment) is refunded in full. BadRequest
    ``amount_mismatch`` when the amount is not the price (the caller refunds it)."""
    p = get_purchase(notice.order_id)
    if p.payment_id == notice.payment_id:
        return "already recorded"
    if notice.amount_fen != int(p.price_fen):
        raise BadRequest("The paid amount does not match the plan's price.", code="amount_mismatch")
    if p.status != "awaiting_payment" or notice.paid_at > p.expires_at:
        return _refund_whole(p, notice, "late_payment")
    try:
        plan = get_plan(p.plan_id)
    except NotFound:
        return _refund_whole(p, notice, "plan_gone")
    old = card(p.customer_id)
    now = clock.now()
    new, start, end = _extended(
        old, p.customer_id, plan, rules.PERIOD_MONTHS[p.period], None, now, trial=False
    )
    entry = PaidCardEntryModel(
        p.customer_id,
        f"buy:{p.purchase_id}",
        kind="buy",
        at=clock.now_iso(),
        plan_id=plan.plan_id,
        plan_name=plan.name,
        starts_at=clock.iso(start),
        ends_at=clock.iso(end),
        amount_fen=int(p.price_fen),
        purchase_id=p.purchase_id,
        payment_id=notice.payment_id,
        payment_provider=notice.provider,
    )
    payment = notice.record(p.purchase_id, "captured")
    m = PaidPurchaseModel

    def build(tx: Tx) -> None:
        tx.update(
            PaidPurchaseModel(p.purchase_id),
            actions=[
                m.status.set("paid"),
                m.payment_id.set(notice.payment_id),
                m.payment_provider.set(notice.provider),
                m.paid_at.set(notice.paid_at),
                m.starts_at.set(clock.iso(start)),
                m.ends_at.set(clock.iso(end)),
            ],
            condition=m.status == "awaiting_payment",
            label="purchase",
        )
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(entry, condition=PaidCardEntryModel.ref.does_not_exist(), label=ENTRY)
        tx.save(new, condition=_card_condition(old), label=CARD)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed or ENTRY in exc.failed:
            return "already recorded"
        moved = CARD in exc.failed or "purchase" in exc.failed or "TransactionConflict" in exc.codes
        if moved and _attempt < RETRIES:  # the card or the purchase moved meanwhile: again
            return record_payment(notice, _attempt + 1)
        raise
    return "paid"


def _refund_whole(p: PaidPurchaseModel, notice: PaymentNotice, reason: str) -> str:
    """Record the payment and refund it in full (one transaction); a repeat is a no-op."""
    refund = refunds.unlinked(
        f"{p.purchase_id}:{reason}:{notice.transaction_id}",
        p.purchase_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        reason,
    )
    payment = notice.record(p.purchase_id, f"{reason}_refunded")

    def build(tx: Tx) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed:
            return "already recorded"
        raise
    log.warning("purchase %s: payment %s refunded (%s)", p.purchase_id, notice.payment_id, reason)
    refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    return f"membership not activated ({reason}); refunded"


# --- the free trial -----------------------------------------------------------------


def _trial_plan(settings_: s.PaidSettings) -> PaidPlanModel | None:
    if settings_.trial_plan_id:
        try:
            return get_plan(settings_.trial_plan_id)
        except NotFound:
            return None
    plans = [p for p in all_plans() if p.active and p.period == "month"]
    return plans[0] if plans else None


def grant_trial(
    customer_id: str,
    *,
    actor: str,
    reason: str,
    principal: Principal | None = None,
    _attempt: int = 0,
) -> s.Membership:
    """The free trial, once per member: the entry ``trial`` is written with
    ``attribute_not_exists`` with the card, so of concurrent grants one wins. 409
    ``trial_used`` (had one), ``already_member`` (a card runs), ``no_trial_plan``."""
    if principal is not None:  # head office names a member: one that exists
        try:
            CustomerModel.get(customer_id)
        except DoesNotExist:
            raise NotFound(f"No member {customer_id!r}.", code="member_not_found") from None
    conf = settings()
    plan = _trial_plan(conf)
    if plan is None:
        raise Conflict(
            "No plan to try: set the trial plan or add an active monthly plan.",
            code="no_trial_plan",
        )
    old = card(customer_id)
    now = clock.now()
    if old is not None and old.trial_used_at:
        raise Conflict("This member has had the free trial.", code="trial_used")
    if running(old, now):
        raise Conflict(
            "This member's card is running: a trial is for new members.", code="already_member"
        )
    new, start, end = _extended(old, customer_id, plan, None, conf.trial_days, now, trial=True)
    new.trial_used_at = clock.now_iso()
    entry = PaidCardEntryModel(
        customer_id,
        "trial",
        kind="trial",
        at=clock.now_iso(),
        plan_id=plan.plan_id,
        plan_name=plan.name,
        starts_at=clock.iso(start),
        ends_at=clock.iso(end),
        actor=actor,
        reason=reason,
    )
    audit_entry = (
        audit.new_entry(
            principal,
            "loyalty.paid_trial",
            audit.Target("member", customer_id),
            {},
            {"trial_days": conf.trial_days, "reason": reason},
            always=True,
        )
        if principal is not None
        else None
    )

    def build(tx: Tx) -> None:
        tx.save(entry, condition=PaidCardEntryModel.ref.does_not_exist(), label=ENTRY)
        tx.save(new, condition=_card_condition(old), label=CARD)
        audit.with_entry(tx, audit_entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if ENTRY in exc.failed:
            raise Conflict("This member has had the free trial.", code="trial_used") from None
        if (CARD in exc.failed or "TransactionConflict" in exc.codes) and _attempt < RETRIES:
            return grant_trial(
                customer_id, actor=actor, reason=reason, principal=principal, _attempt=_attempt + 1
            )
        raise
    return membership(customer_id)


def trial_for_top_up(
    customer_id: str, top_up_id: str, amount_fen: int, threshold_fen: int | None
) -> bool:
    """The automatic trial of a top-up of at least ``threshold_fen`` (stored value's
    setting; None: off). True when this call granted it; a member who had one, or whose
    card runs, gets nothing (no error: the top-up is what was asked for)."""
    if threshold_fen is None or amount_fen < threshold_fen:
        return False
    try:
        grant_trial(customer_id, actor="system", reason=f"top-up {top_up_id}")
    except Conflict as exc:
        log.info("top-up %s: no trial for %s (%s)", top_up_id, customer_id, exc.code)
        return False
    return True


# --- refunds ------------------------------------------------------------------------


def _benefit_used(c: PaidCardModel) -> bool:
    """An order used the card's benefits, or a coupon of its packs was used or is held."""
    if c.benefit_used_at:
        return True
    ids = [
        coupon_id_for(c.customer_id, c.started_at, k, t)
        for k in range(int(c.packs_issued or 0))
        for t in (c.coupon_template_ids or [])
    ]
    if not ids:
        return False
    got = batch_get({CouponModel: [{"coupon_id": i} for i in ids]})[CouponModel]
    return any(x.state != "available" for x in got)


def _open_buys(customer_id: str, now: datetime) -> list[PaidCardEntryModel]:
    return [
        e
        for e in PaidCardEntryModel.query(
            customer_id, PaidCardEntryModel.ref.startswith("buy:"), consistent_read=True
        )
        if not e.refunded and e.ends_at and clock.parse(e.ends_at) > now
    ]


def _quote(
    c: PaidCardModel | None, now: datetime
) -> tuple[s.RefundQuote, list[tuple[PaidCardEntryModel, int]]]:
    if c is None or not running(c, now):
        return s.RefundQuote(refund_fen=0, benefit_used=False, periods=[]), []
    used = _benefit_used(c)
    days = settings().full_refund_days
    parts = []
    for e in _open_buys(c.customer_id, now):
        fen = rules.refund_fen(
            int(e.amount_fen),
            clock.parse(e.starts_at or e.at),
            clock.parse(e.ends_at or e.at),
            clock.parse(e.at),
            now,
            benefit_used=used,
            full_refund_days=days,
        )
        parts.append((e, fen))
    return (
        s.RefundQuote(
            refund_fen=sum(f for _, f in parts),
            benefit_used=used,
            periods=[
                {"purchase_id": e.purchase_id, "price_fen": int(e.amount_fen), "refund_fen": f}
                for e, f in parts
            ],
        ),
        parts,
    )


def refund_quote(customer_id: str) -> s.RefundQuote:
    """What ending the card now would pay back (docs/loyalty.md, Paid membership)."""
    return _quote(card(customer_id), clock.now())[0]


def refund(principal: Principal, customer_id: str, body: s.RefundRequest) -> s.Refund:
    """End the card and pay back the quote through the provider, one transaction: the
    card ends now, each paid period is marked refunded with its refund. 409
    ``quote_changed`` when the quote is not ``expected_refund_fen``, ``no_membership``
    when no card runs; a retry with the same ``request_id`` answers the same."""
    ref = f"refund:{body.request_id}"
    done = _refunded(customer_id, ref)
    if done is not None:
        return done
    now = clock.now()
    c = card(customer_id)
    if c is None or not running(c, now):
        raise Conflict("There is no running membership to refund.", code="no_membership")
    q, parts = _quote(c, now)
    if q.refund_fen != body.expected_refund_fen:
        raise Conflict(
            f"The refund is now {yuan(q.refund_fen)}; ask for a new quote.",
            code="quote_changed",
            details={"refund_fen": q.refund_fen},
        )
    refund_items: list[tuple[RefundModel, int]] = []
    for e, fen in parts:
        if fen > 0 and e.payment_id:
            r = refunds.unlinked(
                f"{e.purchase_id}:{ref}",
                e.purchase_id or "",
                e.payment_id,
                e.payment_provider or "",
                fen,
                "membership_refund",
            )
            refund_items.append((r, int(e.amount_fen)))
    m = PaidCardModel
    entry = PaidCardEntryModel(
        customer_id,
        ref,
        kind="refund",
        at=clock.now_iso(),
        plan_id=c.plan_id,
        plan_name=c.plan_name,
        ends_at=clock.iso(now),
        amount_fen=-q.refund_fen,
        refund_ids=[r.refund_id for r, _ in refund_items],
        actor=principal.subject,
        reason="benefit used: pro rata" if q.benefit_used else "refund",
    )

    def build(tx: Tx) -> None:
        tx.save(entry, condition=PaidCardEntryModel.ref.does_not_exist(), label=ENTRY)
        tx.update(
            PaidCardModel(customer_id),
            actions=[
                m.ends_at.set(clock.iso(now)),
                m.trial.set(False),
                m.next_pack_at.remove(),
                m.pack_shard.remove(),
                m.version.add(1),
                m.updated_at.set(clock.now_iso()),
            ],
            condition=m.version == int(c.version or 0),
            label=CARD,
        )
        for e, _ in parts:
            tx.update(
                PaidCardEntryModel(customer_id, e.ref),
                actions=[PaidCardEntryModel.refunded.set(True)],
                condition=PaidCardEntryModel.refunded == False,  # noqa: E712
                label=f"buy:{e.ref}",
            )
            if e.purchase_id:
                tx.update(
                    PaidPurchaseModel(e.purchase_id),
                    actions=[PaidPurchaseModel.status.set("refunded")],
                    condition=PaidPurchaseModel.status == "paid",
                    label=f"purchase:{e.purchase_id}",
                )
        for r, _ in refund_items:
            tx.save(
                r, condition=RefundModel.refund_id.does_not_exist(), label=f"refund:{r.refund_id}"
            )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if ENTRY in exc.failed:
            again = _refunded(customer_id, ref)
            if again is not None:
                return again
        if exc.failed:
            raise Conflict(
                "The membership changed meanwhile; ask for a new quote.", code="quote_changed"
            ) from None
        raise
    for r, total in refund_items:
        refunds.execute(r.refund_id, payment_total_fen=total)
    return s.Refund(
        refund_ref=ref,
        refund_fen=q.refund_fen,
        refund_ids=[r.refund_id for r, _ in refund_items],
        membership=membership(customer_id),
    )


def _refunded(customer_id: str, ref: str) -> s.Refund | None:
    try:
        e = PaidCardEntryModel.get(customer_id, ref, consistent_read=True)
    except DoesNotExist:
        return None
    return s.Refund(
        refund_ref=ref,
        refund_fen=-int(e.amount_fen or 0),
        refund_ids=list(e.refund_ids or []),
        membership=membership(customer_id),
    )


# --- the monthly coupon pack --------------------------------------------------------


def coupon_id_for(customer_id: str, started_at: str, k: int, template_id: str) -> str:
    """The pack coupon of membership month ``k``: fixed by member, membership and month,
    so a rerun of the job issues nothing twice."""
    digest = hashlib.sha256(
        f"pack\0{customer_id}\0{started_at}\0{k}\0{template_id}".encode()
    ).hexdigest()
    return "PK" + digest[:20].upper()


def issue_packs(now: datetime | None = None, limit: int = 500) -> int:
    """Issue the monthly coupon pack of every card whose ``next_pack_at`` has come (the
    sparse index, one Query per shard, no scan). Returns packs issued."""
    at = now or clock.now()
    n = 0
    for shard in range(PACK_SHARDS):
        for key in PaidCardModel.by_pack.query(
            f"k{shard}", PaidCardModel.next_pack_at <= clock.iso(at), limit=limit
        ):
            try:
                n += _issue_pack(key.customer_id, at)
            except Exception:
                log.exception("monthly pack of %s failed", key.customer_id)
    return n


def _issue_pack(customer_id: str, now: datetime, _attempt: int = 0) -> int:
    """Issue the card's due pack: each coupon on its own (one template used up or
    stopped does not hold back the others), then the card moves to the next month."""
    c = card(customer_id)
    if c is None or c.next_pack_at is None or clock.parse(c.next_pack_at) > now:
        return 0
    k = int(c.packs_issued or 0)
    issued: list[str] = []
    if running(c, now):
        for template_id in c.coupon_template_ids or []:
            coupon_id = coupon_id_for(customer_id, c.started_at, k, template_id)
            try:
                template = coupon_repo.get_template(template_id)
                # The coupon and the template's count, without the per-customer counter:
                # the pack is what the member paid for each month, not a claim, so the
                # template's per-customer limit (meant for claims) does not cap it.
                pieces = coupon_repo.issue_items(
                    template, customer_id, coupon_id, "paid_membership", now
                )[:2]
                transact(lambda tx: add_all(tx, pieces))  # noqa: B023 (called at once)
                issued.append(coupon_id)
            except TransactionCancelled as exc:
                if f"coupon:{coupon_id}" in exc.failed:
                    issued.append(coupon_id)  # issued by an earlier run
                else:
                    log.warning(
                        "pack of %s: coupon %s not issued (%s)",
                        customer_id,
                        template_id,
                        exc.failed,
                    )
            except NotFound:
                log.warning("pack of %s: no template %s", customer_id, template_id)
    due = rules.next_pack(clock.parse(c.started_at), k + 1, clock.parse(c.ends_at))
    m = PaidCardModel
    actions: list[Any] = [m.packs_issued.set(k + 1), m.version.add(1)]
    actions += (
        [m.next_pack_at.set(clock.iso(due))]
        if due
        else [m.next_pack_at.remove(), m.pack_shard.remove()]
    )
    entry = PaidCardEntryModel(
        customer_id,
        f"pack:{c.started_at}:{k}",
        kind="pack",
        at=clock.now_iso(),
        plan_id=c.plan_id,
        plan_name=c.plan_name,
        coupon_ids=issued,
        reason=f"membership month {k + 1}",
    )

    def build(tx: Tx) -> None:
        tx.update(
            PaidCardModel(customer_id),
            actions=actions,
            condition=m.version == int(c.version or 0),
            label=CARD,
        )
        if issued:
            tx.save(entry, condition=PaidCardEntryModel.ref.does_not_exist(), label=ENTRY)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if (CARD in exc.failed or "TransactionConflict" in exc.codes) and _attempt < RETRIES:
            return _issue_pack(customer_id, now, _attempt + 1)
        raise
    return 1 if issued else 0
