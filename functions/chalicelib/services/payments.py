"""Paying for orders: start a payment, and the provider's notification (the webhook).

The notification is idempotent: the payment record is keyed by the provider's
transaction id and written in the same transaction as the order's move to ``paid`` and
its print job, so twenty copies of one notification make one transition and one job.
It is two round trips (read the order, one transaction) and touches nothing shared with
other orders, so a burst of payments at one store never conflicts: the order's daily
number (今日第 N 单) is taken when its ticket is sent (print_dispatch.number_order). A
payment for an order that can no longer be paid (expired, cancelled, or already paid by
another transaction) is refunded in full.
"""

from __future__ import annotations

import logging

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import clock, config
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.db.order_models import OrderModel, PaymentModel
from chalicelib.db.order_repo import cancellation_codes, transact
from chalicelib.errors import BadRequest, NotFound
from chalicelib.schemas import orders as s
from chalicelib.services import checkout, coupon_sales, order_flow, print_jobs, refunds
from chalicelib.services.payment_providers import LocalPaymentProvider, PaymentNotice, provider

log = logging.getLogger("daojia.payments")
PAYMENT_ACTOR = Principal("payment-provider", "hq_admin")


def start(principal: Principal, order_id: str) -> s.PaymentStart:
    """Open a payment for the customer's unpaid order."""
    order = order_flow.get(order_id, consistent=True)
    if principal.role != CUSTOMER or order.customer_id != principal.subject:
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    order_flow.ORDER.target("pay", order.status)  # 409 unless awaiting payment
    p = provider()
    params = p.create_payment(order.order_id, int(order.total_fen), f"鲜到家订单 {order.order_id}")
    return s.PaymentStart(
        order_id=order.order_id, provider=p.name, amount_fen=int(order.total_fen), params=params
    )


def notify(provider_name: str, headers: dict[str, str], body: bytes) -> s.PaymentAck:
    """Handle a provider's notification; answer SUCCESS once it is safely recorded."""
    notice = provider(provider_name).parse_notification(headers, body)
    return record_payment(notice)


def record_payment(notice: PaymentNotice, _attempt: int = 0) -> s.PaymentAck:
    """Record a verified payment: the order becomes paid with its print job, once.
    Payments for coupon sales ("CS…" ids) go to ``coupon_sales.record_payment``."""
    if coupon_sales.is_sale_id(notice.order_id):
        return coupon_sales.record_payment(notice)
    order = order_flow.get(notice.order_id)
    if notice.amount_fen != int(order.total_fen) and order.status == "awaiting_payment":
        log.error(
            "payment %s for %s: amount %s, order total %s",
            notice.payment_id,
            order.order_id,
            notice.amount_fen,
            order.total_fen,
        )
        raise BadRequest("The paid amount does not match the order.", code="amount_mismatch")
    if order.payment_id == notice.payment_id:
        return s.PaymentAck(code="SUCCESS", message="already recorded")
    if order.status != "awaiting_payment":
        return _refund_late_payment(order, notice)
    job = print_jobs.new_job(order, "order", {"picking", "delivery"})
    payment = PaymentModel(
        notice.payment_id,
        order_id=order.order_id,
        provider=notice.provider,
        amount_fen=notice.amount_fen,
        outcome="captured",
        received_at=clock.now_iso(),
    )
    extra = [
        OrderModel.payment_id.set(notice.payment_id),
        OrderModel.payment_provider.set(notice.provider),
        OrderModel.paid_fen.set(notice.amount_fen),
        OrderModel.paid_at.set(notice.paid_at),
        OrderModel.due_kind.remove(),
        OrderModel.due_at.remove(),
        *print_jobs.add_to_order(job),
    ]
    _, actions, condition = order_flow.transition_actions(order, "pay", PAYMENT_ACTOR, None, extra)

    def build(tx: TransactWrite) -> None:
        tx.update(order, actions=actions, condition=condition)
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist())
        tx.save(job, condition=type(job).job_id.does_not_exist())
        for piece in checkout.mark_used(order):  # its coupons: locked -> used
            piece.add_to(tx)

    try:
        transact(build)
    except TransactWriteError as exc:
        codes = cancellation_codes(exc)
        failed = [i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
        if 1 in failed:
            return s.PaymentAck(code="SUCCESS", message="already recorded")  # duplicate notice
        if failed and _attempt < 3:
            # The order moved since it was read (expired, cancelled, paid by another
            # transaction): decide again on what it is now.
            return record_payment(notice, _attempt + 1)
        raise
    _coupons_after_payment(order, notice.amount_fen)
    return s.PaymentAck(code="SUCCESS", message="paid")


def _coupons_after_payment(order: OrderModel, paid_fen: int) -> None:
    """支付有礼, after the payment committed: idempotent per order, and a failure is
    logged, never turned into a failed payment notification."""
    from chalicelib.services.coupons import issue_after_payment

    try:
        issue_after_payment(order.order_id, order.customer_id, paid_fen)
    except Exception:
        log.exception("after-payment coupons for %s failed", order.order_id)


def _refund_late_payment(order: OrderModel, notice: PaymentNotice) -> s.PaymentAck:
    """Money arrived for an order that cannot take it: record it and pay it back."""
    refund = refunds.unlinked(
        f"{order.order_id}:late:{notice.transaction_id}",
        order.order_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        "late_payment",
    )
    payment = PaymentModel(
        notice.payment_id,
        order_id=order.order_id,
        provider=notice.provider,
        amount_fen=notice.amount_fen,
        outcome="late_refunded",
        received_at=clock.now_iso(),
    )

    def build(tx: TransactWrite) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist())
        tx.save(refund, condition=type(refund).refund_id.does_not_exist())

    try:
        transact(build)
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in cancellation_codes(exc):
            return s.PaymentAck(code="SUCCESS", message="already recorded")
        raise
    log.warning(
        "late payment %s for %s order %s: refunding",
        notice.payment_id,
        order.status,
        order.order_id,
    )
    refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    return s.PaymentAck(code="SUCCESS", message="order not payable; refunded")


def simulate(principal: Principal, order_id: str) -> s.PaymentAck:
    """Local stage only: the customer "pays" and the local provider notifies us, signed."""
    if not config.is_local():
        raise NotFound("Not found.", code="not_found")
    if coupon_sales.is_sale_id(order_id):
        payment_id, amount_fen = coupon_sales.payable(principal, order_id)
    else:
        order = order_flow.get(order_id)
        if principal.role == CUSTOMER and order.customer_id != principal.subject:
            raise NotFound(f"No order {order_id!r}.", code="order_not_found")
        payment_id, amount_fen = order.order_id, int(order.total_fen)
    p = provider("local")
    assert isinstance(p, LocalPaymentProvider)
    headers, body = p.make_notification(payment_id, amount_fen)
    return notify("local", headers, body)
