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
from collections.abc import Callable

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.checkout import service as checkout
from chalicelib.coupons import sales as coupon_sales
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import config
from chalicelib.kernel.errors import BadRequest, NotFound
from chalicelib.kernel.money import yuan
from chalicelib.orders import order_flow, refunds
from chalicelib.orders import schemas as s
from chalicelib.orders.models import OrderModel, PaymentModel
from chalicelib.orders.payment_providers import LocalPaymentProvider, PaymentNotice, provider
from chalicelib.printing import print_jobs

log = logging.getLogger("daojia.payments")
PAYMENT_ACTOR = order_flow.PAYMENT_PROVIDER  # recorded with the system role


def start(principal: Principal, order_id: str) -> s.PaymentStart:
    """Open a payment for the customer's unpaid order."""
    order = order_flow.get(order_id, consistent=True)
    if principal.role != CUSTOMER or order.customer_id != principal.subject:
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    order_flow.ORDER.target("pay", order.status)  # 409 unless awaiting payment
    return sheet(order.order_id, int(order.total_fen))


def sheet(order_id: str, total_fen: int) -> s.PaymentStart:
    """The provider's parameters for the payment sheet of an order awaiting payment."""
    p = provider()
    params = p.create_payment(order_id, total_fen, f"鲜到家订单 {order_id}")
    return s.PaymentStart(order_id=order_id, provider=p.name, amount_fen=total_fen, params=params)


def notify(provider_name: str, headers: dict[str, str], body: bytes) -> s.PaymentAck:
    """Handle a provider's notification; answer SUCCESS once it is safely recorded."""
    notice = provider(provider_name).parse_notification(headers, body)
    try:
        return record_payment(notice)
    except NotFound as exc:
        if exc.code not in ("order_not_found", "coupon_sale_not_found"):
            raise
        return _refund_unmatched(notice, "unknown_order")


def record_payment(notice: PaymentNotice, _attempt: int = 0) -> s.PaymentAck:
    """Record a verified payment: the order becomes paid with its print job, once.
    Payments for coupon sales ("CS…" ids) go to ``coupon_sales.record_payment``."""
    if coupon_sales.is_sale_id(notice.order_id):
        try:
            return coupon_sales.record_payment(notice)
        except BadRequest as exc:
            if exc.code != "amount_mismatch":
                raise
            return _refund_unmatched(notice, "amount_mismatch")
    order = order_flow.get(notice.order_id)
    if notice.amount_fen != int(order.total_fen) and order.status == "awaiting_payment":
        return _refund_mismatch(order, notice)
    if order.payment_id == notice.payment_id:
        return s.PaymentAck(code="SUCCESS", message="already recorded")
    if order.status != "awaiting_payment":
        return _refund_late_payment(order, notice)
    job = print_jobs.new_job(order, "order", {"picking", "delivery"})
    payment = notice.record(order.order_id, "captured")
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

    def build(tx: Tx) -> None:
        tx.update(order, actions=actions, condition=condition, label="order")
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(job, condition=type(job).job_id.does_not_exist(), label="print_job")
        tx.add(*checkout.mark_used(order))  # its coupons: locked -> used

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed:
            return s.PaymentAck(code="SUCCESS", message="already recorded")  # duplicate notice
        if exc.failed and _attempt < 3:
            # The order moved since it was read (expired, cancelled, paid by another
            # transaction): decide again on what it is now.
            return record_payment(notice, _attempt + 1)
        raise
    # Reactions to the payment (支付有礼, ...) subscribe to order.paid, which the orders
    # table's stream carries from this commit (events/): none of them runs here.
    return s.PaymentAck(code="SUCCESS", message="paid")


def _refund_late_payment(order: OrderModel, notice: PaymentNotice) -> s.PaymentAck:
    """Money arrived for an order that cannot take it (expired, cancelled, or paid by
    another transaction): record it on the order and pay it back."""
    why = (
        "already paid by another payment"
        if order.payment_id
        else f"the order was {order.status} when it arrived"
    )
    _refund_on_order(
        order,
        notice,
        refund_id=f"{order.order_id}:late:{notice.transaction_id}",
        reason="late_payment",
        outcome="late_refunded",
        why=f"payment of {yuan(notice.amount_fen)} refunded in full: {why}",
    )
    return s.PaymentAck(code="SUCCESS", message="order not payable; refunded")


def _refund_mismatch(order: OrderModel, notice: PaymentNotice) -> s.PaymentAck:
    """A payment of another amount than the order's total: the order stays unpaid (the
    customer can still pay it), the money is recorded on the order and paid back, and the
    provider is answered SUCCESS so that it stops retrying a notice we will never accept."""
    log.error(
        "payment %s for %s: amount %s, order total %s; refunding",
        notice.payment_id,
        order.order_id,
        notice.amount_fen,
        order.total_fen,
    )
    _refund_on_order(
        order,
        notice,
        refund_id=f"{order.order_id}:mismatch:{notice.transaction_id}",
        reason="amount_mismatch",
        outcome="mismatch_refunded",
        why=(
            f"payment of {yuan(notice.amount_fen)} does not match the total "
            f"{yuan(int(order.total_fen))}: refunded in full"
        ),
    )
    return s.PaymentAck(code="SUCCESS", message="amount does not match the order; refunded")


def _refund_on_order(
    order: OrderModel,
    notice: PaymentNotice,
    *,
    refund_id: str,
    reason: str,
    outcome: str,
    why: str,
) -> None:
    """One transaction: the payment (keyed by the provider's transaction: a repeated
    notice changes nothing), its refund (listed with the order's refunds), and on the
    order a history note and the amount in ``returned_payments_fen`` (the dashboard's
    refunds); then the provider pays it back (the retry job does if this fails)."""
    refund = refunds.unlinked(
        refund_id, order.order_id, notice.payment_id, notice.provider, notice.amount_fen, reason
    )
    payment = notice.record(order.order_id, outcome)
    actions = [
        *order_flow.note_actions(order, reason, PAYMENT_ACTOR, why),
        OrderModel.returned_payments_fen.add(notice.amount_fen),
    ]

    def build(tx: Tx) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=type(refund).refund_id.does_not_exist(), label="refund")
        # Not conditioned on the order's version: the note changes no state, and concurrent
        # appends to the history never lose one another.
        tx.update(
            OrderModel(order.order_id),
            actions=actions,
            condition=OrderModel.order_id.exists(),
            add_version_condition=False,
            label="order",
        )

    if _commit_once(build):
        log.warning(
            "%s %s on %s order %s: refunding",
            reason,
            notice.payment_id,
            order.status,
            order.order_id,
        )
        refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)


def _refund_unmatched(notice: PaymentNotice, reason: str) -> s.PaymentAck:
    """A payment that matches no order we could record it on (an unknown order or sale id,
    or a coupon sale paid with the wrong amount): record it, pay it back through the
    provider keyed on its transaction, and answer SUCCESS so the provider stops retrying.
    Logged as an error for head office; the refund is found by the id the notice named
    (refunds' by_order index), and the retry job pays it if the provider fails now."""
    refund = refunds.unlinked(
        f"{notice.order_id}:{reason}:{notice.transaction_id}",
        notice.order_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        reason,
    )
    payment = notice.record(notice.order_id, f"{reason}_refunded")
    log.error(
        "payment %s of %s fen for %r: %s; refunding",
        notice.payment_id,
        notice.amount_fen,
        notice.order_id,
        reason,
    )

    def build(tx: Tx) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=type(refund).refund_id.does_not_exist(), label="refund")

    if _commit_once(build) and notice.amount_fen > 0:
        refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    message = (
        "unknown order; refunded"
        if reason == "unknown_order"
        else "amount does not match; refunded"
    )
    return s.PaymentAck(code="SUCCESS", message=message)


def _commit_once(build: Callable[[Tx], None]) -> bool:
    """Run a transaction that records the payment (and its refund); False when a
    condition failed: the payment was recorded already (a repeated notification)."""
    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed:
            return False
        raise
    return True


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
