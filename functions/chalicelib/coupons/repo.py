"""Coupon issuance and redemption as TransactWriteItems pieces.

The order and payment flows add these pieces to the transaction that creates, pays,
cancels or expires the order, so a coupon is locked, used or given back together with
the order or not at all. Every piece is a conditional update: the invariants (total
quantity, per-customer limit, budget, single use) hold under any concurrency.
``order_repo.transact`` reports cancellation codes in the order pieces were added.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from pynamodb.exceptions import DoesNotExist

from chalicelib.coupons.models import (
    CouponClaimCounterModel,
    CouponModel,
    CouponTemplateModel,
    counter_key,
)
from chalicelib.db.transactions import TransactionCancelled, TxPiece, add_all, transact
from chalicelib.kernel import clock
from chalicelib.kernel import period_limits as kperiod
from chalicelib.kernel.errors import NotFound

AVAILABLE = "available"


def get_template(template_id: str) -> CouponTemplateModel:
    try:
        return CouponTemplateModel.get(template_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(
            f"No coupon template {template_id!r}.", code="coupon_template_not_found"
        ) from None


def get_coupon(coupon_id: str) -> CouponModel:
    try:
        return CouponModel.get(coupon_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No coupon {coupon_id!r}.", code="coupon_not_found") from None


def template_of(coupon_id: str) -> str:
    """The template id a coupon id starts with: every issuance names its coupons
    "<template_id>:<...>" and template ids have no ':'."""
    return coupon_id.split(":", 1)[0]


def validity(template: CouponTemplateModel, now: datetime) -> tuple[str, str]:
    """(valid_from, valid_until) of a coupon issued now: the template's fixed window, or
    from now for ``days_after_claim`` days."""
    if template.days_after_claim is not None:
        return clock.iso(now), clock.iso(now + timedelta(days=int(template.days_after_claim)))
    return template.starts_at or clock.iso(now), template.ends_at or clock.iso(now)


def coupon_of(
    template: CouponTemplateModel,
    now: datetime,
    *,
    coupon_id: str,
    customer_id: str,
    source: str = "simulation",
    staff_username: str | None = None,
) -> CouponModel:
    """The coupon a template gives a customer at ``now``, not yet written: what it takes
    off, where, and for how long. Issuance writes it; a simulation prices with it."""
    now_iso = clock.iso(now)
    valid_from, valid_until = validity(template, now)
    coupon = CouponModel(
        coupon_id,
        customer_id=customer_id,
        template_id=template.template_id,
        name=template.name,
        kind=template.kind,
        threshold_fen=int(template.threshold_fen or 0),
        amount_off_fen=template.amount_off_fen,
        percent_off=template.percent_off,
        cap_fen=template.cap_fen,
        scope_categories=list(template.scope_categories),
        scope_skus=list(template.scope_skus),
        scope_stores=list(template.scope_stores),
        funded_by=template.funded_by,
        product_sku=template.product_sku,
        product_price_fen=template.product_price_fen,
        state=AVAILABLE,
        remind=AVAILABLE,
        valid_from=valid_from,
        valid_until=valid_until,
        source=source,
        staff_username=staff_username,
        created_at=clock.now_iso_ms(),
        updated_at=now_iso,
    )
    if template.rec_weekdays:  # targeting: the usable window travels with the coupon
        coupon.rec_weekdays = [int(d) for d in template.rec_weekdays]
        coupon.rec_start, coupon.rec_end = template.rec_start, template.rec_end
    if template.limits:  # redemption limits travel with the coupon too (issue 18 item 3)
        coupon.limits = kperiod.as_dict(template.limits)
    return coupon


def issue_items(
    template: CouponTemplateModel,
    customer_id: str,
    coupon_id: str,
    source: str,
    now: datetime,
    *,
    staff_username: str | None = None,
) -> list[TxPiece]:
    """The three writes that issue one coupon, in this order:

    0. put the coupon, condition: no coupon with this (deterministic) id yet — a retry of
       the same issuance fails here and the caller answers the coupon already made;
    1. the template's ``issued_count + 1``, condition: active, not past a fixed window's
       end, and ``issued_count < total_quantity`` when a quantity is set;
    2. the customer's counter ``+ 1``, condition: below ``per_customer_limit``.

    Reusable by any issuance (claim, bulk, registration, after payment, sale)."""
    now_iso = clock.iso(now)
    coupon = coupon_of(
        template,
        now,
        coupon_id=coupon_id,
        customer_id=customer_id,
        source=source,
        staff_username=staff_username,
    )
    t = CouponTemplateModel
    template_condition = (t.status == "active") & (
        t.total_quantity.does_not_exist() | (t.issued_count < t.total_quantity)
    )
    if template.ends_at is not None:
        template_condition &= t.ends_at > now_iso
    c = CouponClaimCounterModel
    limit = int(template.per_customer_limit)
    return [
        TxPiece(
            coupon,
            {"condition": CouponModel.coupon_id.does_not_exist()},
            f"coupon:{coupon_id}",
            op="save",
        ),
        TxPiece(
            CouponTemplateModel(template.template_id),
            {"actions": [t.issued_count.add(1)], "condition": template_condition},
            f"coupon_template:{template.template_id}",
        ),
        TxPiece(
            CouponClaimCounterModel(counter_key(template.template_id, customer_id)),
            {
                "actions": [c.count.add(1)],
                "condition": c.count.does_not_exist() | (c.count < limit),
            },
            f"coupon_counter:{template.template_id}",
        ),
    ]


def redemption_items(
    coupon_id: str,
    customer_id: str,
    order_id: str,
    discount_fen: int,
    template_id: str,
    *,
    now_iso: str | None = None,
) -> list[TxPiece]:
    """Lock a coupon for an order and spend its discount against the template's budget,
    in this order:

    0. the coupon: available -> locked, ``order_id`` and ``discount_fen`` recorded;
       condition: available, held by ``customer_id`` and valid at ``now_iso`` — so of any
       number of concurrent orders exactly one gets it;
    1. the template: ``spent_fen + discount``, ``budget_left_fen - discount``; condition:
       no budget, or ``budget_left_fen >= discount`` (i.e. spent + discount <= budget).

    ``template_id`` is on the coupon the quote loaded (``load_offers``). A cancelled
    transaction that failed on piece 0 means the coupon was taken or is not valid, on 1
    that the budget is spent (``redemption_failure``)."""
    now_iso = now_iso or clock.now_iso()
    m = CouponModel
    t = CouponTemplateModel
    return [
        TxPiece(
            CouponModel(coupon_id),
            {
                "actions": [
                    m.state.set("locked"),
                    m.order_id.set(order_id),
                    m.discount_fen.set(discount_fen),
                    m.remind.remove(),
                    m.updated_at.set(now_iso),
                ],
                "condition": (m.state == AVAILABLE)
                & (m.customer_id == customer_id)
                & (m.valid_from <= now_iso)
                & (m.valid_until > now_iso),
            },
            f"coupon:{coupon_id}",
        ),
        TxPiece(
            CouponTemplateModel(template_id),
            {
                "actions": [
                    t.spent_fen.add(discount_fen),
                    t.budget_left_fen.add(-discount_fen),
                ],
                "condition": t.template_id.exists()
                & (t.budget_fen.does_not_exist() | (t.budget_left_fen >= discount_fen)),
            },
            f"coupon_template:{template_id}",
        ),
    ]


def redemption_failure(exc: TransactionCancelled, pieces: list[TxPiece]) -> str | None:
    """Why ``redemption_items`` (``pieces``) cancelled a transaction:
    "coupon_unavailable", "coupon_budget_exhausted" or None (not because of them)."""
    coupon, template = pieces
    if coupon.label in exc.failed:
        return "coupon_unavailable"
    if template.label in exc.failed:
        return "coupon_budget_exhausted"
    return None


def _give_back_items(
    coupon: CouponModel, order_id: str, from_state: str, now_iso: str | None
) -> list[TxPiece]:
    """``from_state`` -> available for the order holding the coupon, and its discount
    back to the template's budget (a used coupon also comes off ``used_count``)."""
    now_iso = now_iso or clock.now_iso()
    discount = int(coupon.discount_fen or 0)
    m = CouponModel
    t = CouponTemplateModel
    template_actions = [t.spent_fen.add(-discount), t.budget_left_fen.add(discount)]
    template_condition = t.spent_fen >= discount
    if from_state == "used":
        template_actions.append(t.used_count.add(-1))
        template_condition = template_condition & (t.used_count >= 1)
    return [
        TxPiece(
            CouponModel(coupon.coupon_id),
            {
                "actions": [
                    # available, unless the coupon is a gift no longer earned (voided)
                    m.state.set(m.given_back_as | AVAILABLE),
                    m.remind.set(AVAILABLE),
                    m.order_id.remove(),
                    m.discount_fen.remove(),
                    m.updated_at.set(now_iso),
                ],
                "condition": (m.state == from_state) & (m.order_id == order_id),
            },
            f"coupon:{coupon.coupon_id}",
        ),
        TxPiece(
            CouponTemplateModel(coupon.template_id),
            {"actions": template_actions, "condition": template_condition},
            f"coupon_template:{coupon.template_id}",
        ),
    ]


def release_items(
    coupon: CouponModel, order_id: str, *, now_iso: str | None = None
) -> list[TxPiece]:
    """Give a locked coupon back (order cancelled, or expired unpaid): locked ->
    available, and its discount back to the template's budget. Condition: still locked by
    this order, so a release runs once. A coupon past its validity reads as expired."""
    return _give_back_items(coupon, order_id, "locked", now_iso)


def mark_used_items(
    coupon: CouponModel, order_id: str, *, now_iso: str | None = None
) -> list[TxPiece]:
    """The order was paid: locked -> used, and the template's ``used_count + 1``.
    Condition: still locked by this order."""
    now_iso = now_iso or clock.now_iso()
    m = CouponModel
    return [
        TxPiece(
            CouponModel(coupon.coupon_id),
            {
                "actions": [m.state.set("used"), m.updated_at.set(now_iso)],
                "condition": (m.state == "locked") & (m.order_id == order_id),
            },
            f"coupon:{coupon.coupon_id}",
        ),
        TxPiece(
            CouponTemplateModel(coupon.template_id),
            {
                "actions": [CouponTemplateModel.used_count.add(1)],
                "condition": CouponTemplateModel.template_id.exists(),
            },
            f"coupon_template:{coupon.template_id}",
        ),
    ]


def mark_used(order_id: str, coupon_ids: list[str]) -> int:
    """The order was paid: each of its coupons still locked by it becomes used (one
    transaction each, ``mark_used_items``). Idempotent and safe against a give-back: a
    coupon no longer locked by the order (used already, or given back because the order
    was cancelled or refunded first) is left as it is. Returns how many became used."""
    now_iso = clock.now_iso()
    used = 0
    for coupon_id in coupon_ids:
        coupon = CouponModel(coupon_id, template_id=template_of(coupon_id))
        pieces = mark_used_items(coupon, order_id, now_iso=now_iso)
        try:
            transact(partial(add_all, pieces=pieces))
        except TransactionCancelled as exc:
            if pieces[0].label in exc.failed:
                continue  # not locked by this order (any more): nothing to do
            raise
        used += 1
    return used


def return_items(
    coupon: CouponModel, order_id: str, *, now_iso: str | None = None
) -> list[TxPiece]:
    """A full refund gives a used coupon back (the stated rule: only a full refund, and
    only if still valid — past ``valid_until`` it reads as expired anyway): used ->
    available, discount back to the budget, ``used_count - 1``."""
    return _give_back_items(coupon, order_id, "used", now_iso)
