"""Coupons sold for money (一元买百元券): buy, pay through the payment provider, get the
coupon; refund in full while the coupon is unused.

- Buying writes a sale awaiting payment (15 minutes, like an order). Its id is what the
  provider carries as its order id; ``payments.record_payment`` hands notifications for
  sale ids ("CS…") to ``record_payment`` here.
- The payment's transaction moves the sale to ``paid``, records the payment (keyed by the
  provider's transaction id: a duplicate notification changes nothing) and issues the
  coupon with ``coupon_repo.issue_items`` (quantity, per-customer limit and template
  status are conditions of that same transaction).
- When the coupon cannot be issued after all (sold out, limit reached, paused meanwhile),
  or the sale can no longer take money (expired, already paid), the payment is recorded
  and refunded in full.
- A refund voids the coupon (condition: still available) and moves the sale to
  ``refunded`` in one transaction with the refund record, so a coupon being used by an
  order at the same moment is either used or refunded, never both.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any, cast

import msgspec
from chalice import Response
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.coupons import schemas as s
from chalicelib.coupons.models import (
    CouponClaimCounterModel,
    CouponModel,
    CouponSaleModel,
    CouponTemplateModel,
    counter_key,
)
from chalicelib.coupons.repo import AVAILABLE, get_coupon, get_template, issue_items
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, Tx, add_all, transact
from chalicelib.db.transitions import Actor, Who
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import BadRequest, Conflict, NotFound
from chalicelib.kernel.states import COUPON_SALE
from chalicelib.orders import refunds
from chalicelib.orders import schemas as order_schemas
from chalicelib.orders.models import PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice, provider

log = logging.getLogger("daojia.coupon_sales")
SALE_PREFIX = "CS"
PAYMENT_ACTOR = Who("payment-provider", "system")  # no person: the system role, never hq_admin


def is_sale_id(value: str) -> bool:
    """Sale ids start with "CS"; order ids with six digits (the date)."""
    return value.startswith(SALE_PREFIX)


def sale_id_for(customer_id: str, request_id: str) -> str:
    """Deterministic per (customer, request): a retried purchase finds its sale. 18
    characters of [A-Z0-9], within every provider's order-number rules."""
    digest = hashlib.sha256(f"coupon-sale\0{customer_id}\0{request_id}".encode()).hexdigest()
    return SALE_PREFIX + digest[:16].upper()


def coupon_id_for(template_id: str, sale_id: str) -> str:
    return f"{template_id}:sale:{sale_id}"


def _transition(
    sale: CouponSaleModel, action: str, actor: Actor, reason: str | None = None
) -> tuple[list, object]:
    """Update actions and condition applying ``action`` to the sale (409 if illegal)."""
    move = transitions.move(CouponSaleModel, COUPON_SALE, sale.status, [(action, reason)], actor)
    return move.actions, move.condition


# --- reading --------------------------------------------------------------------------


def get(sale_id: str) -> CouponSaleModel:
    try:
        return CouponSaleModel.get(sale_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No coupon sale {sale_id!r}.", code="coupon_sale_not_found") from None


def get_own(principal: Principal, sale_id: str) -> CouponSaleModel:
    """The customer's own sale; another customer's is a 404 (never a 403 that confirms it
    exists)."""
    sale = get(sale_id) if is_sale_id(sale_id) else None
    if sale is None or principal.role != CUSTOMER or sale.customer_id != principal.subject:
        raise NotFound(f"No coupon sale {sale_id!r}.", code="coupon_sale_not_found")
    return sale


def effective_status(sale: CouponSaleModel, now_iso: str | None = None) -> str:
    """An unpaid sale past its deadline reads as expired without being rewritten."""
    if sale.status == "awaiting_payment" and sale.expires_at <= (now_iso or clock.now_iso()):
        return "expired"
    return sale.status


def view(sale: CouponSaleModel) -> s.CouponSale:
    return s.CouponSale(
        sale_id=sale.sale_id,
        customer_id=sale.customer_id,
        template_id=sale.template_id,
        name=sale.name,
        price_fen=int(sale.price_fen),
        # The str columns hold the schema's literals (checked when written): cast.
        status=cast(Any, effective_status(sale)),
        coupon_id=sale.coupon_id if sale.coupon_issued else None,
        refund_id=sale.refund_id,
        refund_reason=cast(Any, sale.refund_reason),
        created_at=sale.created_at,
        expires_at=sale.expires_at,
        paid_at=sale.paid_at,
        refunded_at=sale.refunded_at,
    )


def get_view(principal: Principal, sale_id: str) -> s.CouponSale:
    return view(get_own(principal, sale_id))


# --- buying ---------------------------------------------------------------------------


def _json(sale: s.CouponSale, status: int) -> Response:
    return Response(
        body=msgspec.json.encode(sale).decode(),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def _replay(existing: CouponSaleModel, customer_id: str, template_id: str) -> Response:
    if existing.customer_id != customer_id or existing.template_id != template_id:
        raise Conflict(
            "That request_id was already used for another purchase; send a new one.",
            code="request_id_reused",
        )
    return _json(view(existing), 200)


def create(principal: Principal, body: s.CouponSaleCreate) -> Response:
    """Start buying a coupon: 201 with the sale awaiting payment; the same request_id
    again answers the same sale with 200 (even if the coupon sold out meanwhile).

    Refusals checked here, so the customer hears them before paying: 409
    ``template_not_for_sale``, ``template_not_active``, ``sold_out``, ``limit_reached``.
    They are checked again, atomically, when the payment issues the coupon."""
    customer_id = principal.subject
    sale_id = sale_id_for(customer_id, body.request_id)
    try:
        existing = CouponSaleModel.get(sale_id, consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is not None:
        return _replay(existing, customer_id, body.template_id)
    template = get_template(body.template_id)
    _check_sellable(template, customer_id)
    now = clock.now()
    sale = CouponSaleModel(
        sale_id,
        customer_id=customer_id,
        request_id=body.request_id,
        template_id=template.template_id,
        name=template.name,
        price_fen=int(template.sale_price_fen),
        status=COUPON_SALE.initial,
        coupon_id=coupon_id_for(template.template_id, sale_id),
        coupon_issued=False,
        history=[
            transitions.entry("buy", "", COUPON_SALE.initial, Who(customer_id, principal.role))
        ],
        created_at=clock.now_iso_ms(),
        expires_at=clock.iso(now + timedelta(seconds=config.PAYMENT_TIMEOUT_S)),
        updated_at=clock.iso(now),
    )
    try:
        sale.save(condition=CouponSaleModel.sale_id.does_not_exist())
    except Exception as exc:  # PutError wrapping ConditionalCheckFailed: a racing retry
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return _replay(get(sale_id), customer_id, body.template_id)
    return _json(view(sale), 201)


def _check_sellable(template: CouponTemplateModel, customer_id: str) -> None:
    if template.sale_price_fen is None:
        raise Conflict("This coupon is not for sale.", code="template_not_for_sale")
    now_iso = clock.now_iso()
    ended = template.ends_at is not None and template.ends_at <= now_iso
    if template.status != "active" or ended:
        raise Conflict("This coupon cannot be bought now.", code="template_not_active")
    if template.total_quantity is not None and int(template.issued_count) >= int(
        template.total_quantity
    ):
        raise Conflict("This coupon is all gone.", code="sold_out")
    try:
        held = int(
            CouponClaimCounterModel.get(
                counter_key(template.template_id, customer_id), consistent_read=True
            ).count
        )
    except DoesNotExist:
        held = 0
    if held >= int(template.per_customer_limit):
        raise Conflict("You already have as many of this coupon as allowed.", code="limit_reached")


# --- paying ---------------------------------------------------------------------------


def start_payment(principal: Principal, sale_id: str) -> s.CouponSalePaymentStart:
    """Open a payment for the customer's unpaid sale (409 once paid, refunded or
    expired)."""
    sale = get_own(principal, sale_id)
    COUPON_SALE.target("pay", effective_status(sale))
    p = provider()
    params = p.create_payment(sale.sale_id, int(sale.price_fen), f"鲜到家优惠券 {sale.name}")
    return s.CouponSalePaymentStart(
        sale_id=sale.sale_id, provider=p.name, amount_fen=int(sale.price_fen), params=params
    )


def payable(principal: Principal, sale_id: str) -> tuple[str, int]:
    """(payment id, amount) of a sale the caller may pay: what the local payment provider
    is told to notify (``payments.simulate``)."""
    sale = get(sale_id)
    if principal.role == CUSTOMER and sale.customer_id != principal.subject:
        raise NotFound(f"No coupon sale {sale_id!r}.", code="coupon_sale_not_found")
    return sale.sale_id, int(sale.price_fen)


def record_payment(notice: PaymentNotice, _attempt: int = 0) -> order_schemas.PaymentAck:
    """A verified payment for a sale: paid with its coupon issued, once; or, when the
    sale cannot take it or the coupon cannot be issued, recorded and refunded in full."""
    sale = get(notice.order_id)
    price = int(sale.price_fen)
    if notice.amount_fen != price and sale.status == "awaiting_payment":
        log.error(
            "payment %s for sale %s: amount %s, price %s",
            notice.payment_id,
            sale.sale_id,
            notice.amount_fen,
            price,
        )
        raise BadRequest("The paid amount does not match the sale.", code="amount_mismatch")
    if sale.payment_id == notice.payment_id:
        return order_schemas.PaymentAck(code="SUCCESS", message="already recorded")
    # Paid in time counts (the provider's signed time), even if the notice comes later.
    if sale.status != "awaiting_payment" or notice.paid_at > sale.expires_at:
        return _refund_late_payment(sale, notice)
    try:
        template = get_template(sale.template_id)
    except NotFound:
        return _refund_unissued(sale, notice, "template_not_active")
    pieces = issue_items(template, sale.customer_id, sale.coupon_id, "sale", clock.now())
    actions, condition = _transition(sale, "pay", PAYMENT_ACTOR)
    m = CouponSaleModel
    actions += [
        m.payment_id.set(notice.payment_id),
        m.payment_provider.set(notice.provider),
        m.paid_at.set(notice.paid_at),
        m.coupon_issued.set(True),
    ]
    payment = notice.record(sale.sale_id, "captured")

    coupon, template_piece, counter = pieces

    def build(tx: Tx) -> None:
        tx.update(CouponSaleModel(sale.sale_id), actions=actions, condition=condition, label="sale")
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        add_all(tx, pieces)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed:
            return order_schemas.PaymentAck(code="SUCCESS", message="already recorded")  # duplicate
        if "sale" in exc.failed or coupon.label in exc.failed:
            if _attempt < 5:  # the sale moved meanwhile: decide again
                return record_payment(notice, _attempt + 1)
            raise
        if template_piece.label in exc.failed:
            latest = get_template(sale.template_id)
            sold_out = (
                latest.status == "active"
                and latest.total_quantity is not None
                and int(latest.issued_count) >= int(latest.total_quantity)
            )
            return _refund_unissued(sale, notice, "sold_out" if sold_out else "template_not_active")
        if counter.label in exc.failed:
            return _refund_unissued(sale, notice, "limit_reached")
        raise
    return order_schemas.PaymentAck(code="SUCCESS", message="paid")


def _refund_unissued(
    sale: CouponSaleModel, notice: PaymentNotice, reason: str
) -> order_schemas.PaymentAck:
    """The coupon could not be issued: the sale becomes refunded with the payment and
    its full refund, in one transaction (a duplicate notice fails on the payment)."""
    refund = refunds.unlinked(
        f"{sale.sale_id}:unissued",
        sale.sale_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        f"coupon_{reason}",
    )
    actions, condition = _transition(sale, "refund_unissued", PAYMENT_ACTOR, reason)
    m = CouponSaleModel
    now = clock.now_iso()
    actions += [
        m.payment_id.set(notice.payment_id),
        m.payment_provider.set(notice.provider),
        m.paid_at.set(notice.paid_at),
        m.refund_id.set(refund.refund_id),
        m.refund_reason.set(reason),
        m.refunded_at.set(now),
    ]
    payment = notice.record(sale.sale_id, "refunded_unissued")

    def build(tx: Tx) -> None:
        tx.update(CouponSaleModel(sale.sale_id), actions=actions, condition=condition, label="sale")
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed:
            return order_schemas.PaymentAck(code="SUCCESS", message="already recorded")
        if "sale" in exc.failed or "refund" in exc.failed:
            # Another payment of this sale got there first: this one is late.
            return _refund_late_payment(get(sale.sale_id), notice)
        raise
    log.warning("sale %s paid but coupon not issued (%s): refunding", sale.sale_id, reason)
    refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    return order_schemas.PaymentAck(
        code="SUCCESS", message=f"coupon not issued ({reason}); refunded"
    )


def _refund_late_payment(sale: CouponSaleModel, notice: PaymentNotice) -> order_schemas.PaymentAck:
    """Money for a sale that cannot take it (expired, already paid or refunded): record
    it and pay it back; the sale itself does not change."""
    refund = refunds.unlinked(
        f"{sale.sale_id}:late:{notice.transaction_id}",
        sale.sale_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        "late_payment",
    )
    payment = notice.record(sale.sale_id, "late_refunded")

    def build(tx: Tx) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed:
            return order_schemas.PaymentAck(code="SUCCESS", message="already recorded")
        raise
    log.warning(
        "late payment %s for %s sale %s: refunding",
        notice.payment_id,
        effective_status(sale),
        sale.sale_id,
    )
    refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    return order_schemas.PaymentAck(code="SUCCESS", message="sale not payable; refunded")


# --- refunding ------------------------------------------------------------------------


def refund(principal: Principal, sale_id: str) -> s.CouponSale:
    """The customer takes the money back while the coupon is unused: coupon available ->
    voided, sale paid -> refunded, refund record of the full price, in one transaction;
    then the provider pays it out. Asking again answers the refunded sale. 409
    ``coupon_in_use`` when an order holds or used the coupon; ``illegal_transition``
    when the sale was never paid.

    The coupon's quantity and the customer's per-customer count go back too, so the
    coupon can be sold again (to anyone, this customer included)."""
    sale = get_own(principal, sale_id)
    if sale.status == "refunded":
        return view(sale)
    COUPON_SALE.target("refund", effective_status(sale))
    coupon = get_coupon(sale.coupon_id)
    if coupon.state != AVAILABLE:
        raise _in_use(coupon)
    now = clock.now_iso()
    refund_model = refunds.unlinked(
        f"{sale.sale_id}:refund",
        sale.sale_id,
        sale.payment_id or "",
        sale.payment_provider or "",
        int(sale.price_fen),
        "coupon_sale_refund",
    )
    actions, condition = _transition(sale, "refund", principal)
    m = CouponSaleModel
    actions += [
        m.refund_id.set(refund_model.refund_id),
        m.refund_reason.set("requested"),
        m.refunded_at.set(now),
    ]
    c = CouponModel
    t = CouponTemplateModel
    k = CouponClaimCounterModel

    def build(tx: Tx) -> None:
        tx.update(
            CouponModel(coupon.coupon_id),
            actions=[c.state.set("voided"), c.remind.remove(), c.updated_at.set(now)],
            condition=(c.state == AVAILABLE) & (c.customer_id == sale.customer_id),
            label="coupon",
        )
        tx.update(CouponSaleModel(sale.sale_id), actions=actions, condition=condition, label="sale")
        tx.save(refund_model, condition=RefundModel.refund_id.does_not_exist(), label="refund")
        tx.update(
            CouponTemplateModel(sale.template_id),
            actions=[t.issued_count.add(-1)],
            condition=t.issued_count >= 1,
            label="coupon_template",
        )
        tx.update(
            CouponClaimCounterModel(counter_key(sale.template_id, sale.customer_id)),
            actions=[k.count.add(-1)],
            condition=k.count >= 1,
            label="coupon_counter",
        )

    try:
        transact(build)
    except TransactWriteError as exc:
        # Any failure (cancelled or not) is answered from what the sale is now.
        failed = exc.failed if isinstance(exc, TransactionCancelled) else []
        latest = get(sale.sale_id)
        if latest.status == "refunded":  # a racing request refunded it
            return view(latest)
        if "coupon" in failed:
            raise _in_use(get_coupon(sale.coupon_id)) from None
        if "sale" in failed:
            COUPON_SALE.target("refund", effective_status(latest))
        raise Conflict(
            "The sale changed at the same time; reload and retry.", code="coupon_sale_changed"
        ) from None
    refunds.execute(refund_model.refund_id, payment_total_fen=int(sale.price_fen))
    return view(get(sale.sale_id))


def _in_use(coupon: CouponModel) -> Conflict:
    return Conflict(
        f"The coupon is {coupon.state}: a sold coupon is refundable only while unused.",
        code="coupon_in_use",
        details={"coupon_id": coupon.coupon_id, "state": coupon.state, "order_id": coupon.order_id},
    )
