"""Paying for orders: start a payment, and the provider's notification (the webhook).

The notification is idempotent: the order's move to ``paid`` is one conditional update
that names its print job (an id fixed by the order), and the job and the payment record
(keyed by the provider's transaction id) follow in one batch write, so twenty copies of
one notification make one transition, one job and one record. It is two round trips, no
transaction, and touches nothing shared with other orders, so a burst of payments at one
store never conflicts: the order's daily number (今日第 N 单) is taken when its ticket is
sent (print_dispatch.number_order). A payment for an order that can no longer be paid
(expired, cancelled, or already paid by another payment) is refunded in full.

An order that took a new-customer benefit and whose notice names another payer than the
one declared at placing (issue 18 item 3) has its second write made a TransactWriteItems
instead: the ticket, the payment record and the payer on its anti-abuse marker, all or
nothing. Still two round trips; every other payment is as above.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.coupons import sales as coupon_sales
from chalicelib.db.transactions import (
    TransactionCancelled,
    Tx,
    TxPiece,
    batch_get,
    batch_put,
    transact,
)
from chalicelib.db.writes import Refused, is_condition_failure, update_or_refused
from chalicelib.kernel import config
from chalicelib.kernel.errors import BadRequest, NotFound
from chalicelib.kernel.money import yuan
from chalicelib.loyalty import paid_membership
from chalicelib.orders import extensions, order_flow, payables, refunds
from chalicelib.orders import schemas as s
from chalicelib.orders.models import OrderModel, PaymentModel
from chalicelib.orders.payment_providers import LocalPaymentProvider, PaymentNotice, provider
from chalicelib.printing import print_jobs
from chalicelib.printing.models import PrintJobModel
from chalicelib.promotions import limits as promo_limits
from chalicelib.stored_value import service as stored_value_service
from chalicelib.stored_value import top_ups

log = logging.getLogger("daojia.payments")
PAYMENT_ACTOR = order_flow.PAYMENT_PROVIDER  # recorded with the system role


def start(principal: Principal, order_id: str) -> s.PaymentStart:
    """Open a payment for the customer's unpaid order."""
    order = order_flow.get(order_id, consistent=True)
    if principal.role != CUSTOMER or order.customer_id != principal.subject:
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    order_flow.ORDER.target("pay", order.status)  # 409 unless awaiting payment
    return sheet(order.order_id, payable_fen(order))


def payable_fen(order: OrderModel) -> int:
    """What the payment provider is asked for: the total less the stored value the
    order took when placed."""
    return int(order.total_fen) - int(order.stored_value_fen or 0)


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
        if exc.code not in (
            "order_not_found",
            "coupon_sale_not_found",
            "top_up_not_found",
            "paid_purchase_not_found",
            *payables.not_found_codes(),
        ):
            raise
        return _refund_unmatched(notice, "unknown_order")


def record_payment(notice: PaymentNotice) -> s.PaymentAck:
    """Record a verified payment: the order becomes paid with its print job, once.
    Payments for coupon sales ("CS…" ids) go to ``coupon_sales.record_payment``, for
    stored-value top-ups ("TU…") to ``top_ups.record_payment`` (then the paid
    membership trial a large enough top-up grants, ``_top_up_trial``), for paid
    membership purchases ("PM…") to ``paid_membership.record_payment``.

    Two round trips, no transaction: the order's conditional update (which answers with
    the order either way, so nothing is read first), then one BatchWriteItem of the
    ticket and the payment record (a TransactWriteItems with the payer's marker for a
    new-customer order paid by another account than it declared: ``_write_records``).
    If the second never happens (the function died in between), the provider's retry
    finds the order paid by this payment and writes them (``_recorded_again``)."""
    if coupon_sales.is_sale_id(notice.order_id):
        try:
            return coupon_sales.record_payment(notice)
        except BadRequest as exc:
            if exc.code != "amount_mismatch":
                raise
            return _refund_unmatched(notice, "amount_mismatch")
    if top_ups.is_top_up_id(notice.order_id):
        try:
            message = top_ups.record_payment(notice)
        except BadRequest as exc:
            if exc.code != "amount_mismatch":
                raise
            return _refund_unmatched(notice, "amount_mismatch")
        if message in ("paid", "already recorded"):
            _top_up_trial(notice)
        return s.PaymentAck(code="SUCCESS", message=message)
    if paid_membership.is_purchase_id(notice.order_id):
        try:
            return s.PaymentAck(code="SUCCESS", message=paid_membership.record_payment(notice))
        except BadRequest as exc:
            if exc.code != "amount_mismatch":
                raise
            return _refund_unmatched(notice, "amount_mismatch")
    kind = payables.find(notice.order_id)  # issue 17's kinds (orders/payables.py)
    if kind is not None:
        try:
            return s.PaymentAck(code="SUCCESS", message=kind.record_payment(notice))
        except BadRequest as exc:
            if exc.code != "amount_mismatch":
                raise
            return _refund_unmatched(notice, "amount_mismatch")
    try:
        order = _pay(notice)
    except Refused as refused:
        return _not_taken(refused.old, notice)
    payer = _payer_piece(order, notice)
    if order.held:
        # paid but held (a group buy's seat): no ticket until its mechanic releases it
        _write_records([notice.record(order.order_id, "captured")], payer)
        extensions.on_held_paid(order)
        return s.PaymentAck(code="SUCCESS", message="paid")
    _write_records([_paid_ticket(order), notice.record(order.order_id, "captured")], payer)
    # Reactions to the payment (支付有礼, the coupons it used becoming used, ...)
    # subscribe to order.paid, which the orders table's stream carries from the update
    # above (events/): none of them runs here.
    return s.PaymentAck(code="SUCCESS", message="paid")


def _top_up_trial(notice: PaymentNotice) -> None:
    """A credited top-up of at least stored value's ``trial_threshold_fen`` grants the
    paid membership trial (once per member). Here because stored_value and loyalty may
    not import each other; run again on the provider's retry ("already recorded") so a
    failure between the credit and the grant is made good. Raises on failure, so the
    notice is not acknowledged and the provider retries."""
    threshold = stored_value_service.settings_item().trial_threshold_fen
    if threshold is None or notice.amount_fen < int(threshold):
        return
    t = top_ups.get(notice.order_id)
    if t.status != "paid" or t.payment_id != notice.payment_id:
        return  # refunded (cap, late): the top-up did not happen
    paid_membership.trial_for_top_up(t.customer_id, t.top_up_id, notice.amount_fen, int(threshold))


def _pay(notice: PaymentNotice) -> OrderModel:
    """The order as paid by ``notice``, in one conditional UpdateItem: the order is
    awaiting payment and its total is the amount paid. It names its ticket (a job id
    fixed by the order) before the ticket exists. ``Refused`` carries the order as the
    condition found it (None: no such order)."""
    # What the write may start from. Nothing is read: the transition's condition is the
    # state, and the work-queue key is copied from the one placing wrote (paid_queue);
    # an order placed before paid_queue existed still has its key.
    payable = OrderModel(notice.order_id, status="awaiting_payment")
    extra = [
        OrderModel.store_queue.set(OrderModel.store_queue | OrderModel.paid_queue),
        OrderModel.payment_id.set(notice.payment_id),
        OrderModel.payment_provider.set(notice.provider),
        # What was paid: the provider's amount and the stored value taken at placing.
        OrderModel.paid_fen.set((OrderModel.stored_value_fen | 0) + notice.amount_fen),
        OrderModel.paid_at.set(notice.paid_at),
        OrderModel.due_kind.remove(),
        OrderModel.due_at.remove(),
        OrderModel.print_job_ids.add({print_jobs.paid_ticket_id(notice.order_id)}),
        # No version condition (the state is the condition), but the version moves as
        # with every change of the order: a writer that read it unpaid must fail.
        OrderModel.version.add(1),
    ]
    _, actions, condition = order_flow.transition_actions(
        payable, "pay", PAYMENT_ACTOR, None, extra, queue=False
    )
    # The provider pays the total less the stored value (payable_fen, set when balance
    # took part of it).
    condition &= (
        OrderModel.payable_fen.does_not_exist() & (OrderModel.total_fen == notice.amount_fen)
    ) | (OrderModel.payable_fen == notice.amount_fen)
    return update_or_refused(OrderModel, notice.order_id, actions, condition)


def _payer_piece(order: OrderModel, notice: PaymentNotice) -> TxPiece | None:
    """The payer's record on its anti-abuse marker, for an order that took a new-customer
    benefit (its head says so: nothing is read) paid by another account than the one
    declared; None for every other payment."""
    return promo_limits.payer_piece(
        order.new_customer, notice.payer, order.customer_id, order.order_id, notice.paid_at
    )


def _write_records(items: list[Model], payer: TxPiece | None) -> None:
    """The payment's second and last write. Without a payer to record: one BatchWriteItem
    (one PutItem for a single record), unconditional puts of items keyed by the order and
    the transaction. With one: one TransactWriteItems of the same puts and the payer's
    unconditional marker update (money captured is never refused), all or nothing, so a
    retry that finds the payment record finds the payer recorded."""
    if payer is None:
        if len(items) == 1:
            items[0].save()
        else:
            batch_put(items)
        return

    def build(tx: Tx) -> None:
        for i, item in enumerate(items):
            tx.save(item, label=f"record:{i}")
        payer.add_to(tx)

    transact(build)


def _paid_ticket(order: OrderModel) -> PrintJobModel:
    """The ticket of a paid order: the job the payment's update named."""
    return print_jobs.new_job(
        order, "order", {"picking", "delivery"}, job_id=print_jobs.paid_ticket_id(order.order_id)
    )


def _not_taken(order: OrderModel | None, notice: PaymentNotice) -> s.PaymentAck:
    """The order did not take the payment; ``order`` is as the refused update found it."""
    if order is None:
        return _refund_unmatched(notice, "unknown_order")
    if order.status == "awaiting_payment" and notice.amount_fen != payable_fen(order):
        return _refund_mismatch(order, notice)
    if order.payment_id == notice.payment_id:
        return _recorded_again(order, notice)
    if order.status != "awaiting_payment":
        return _refund_late_payment(order, notice)
    # Awaiting payment of this very amount, yet refused: the condition and this function
    # disagree. Fail, so that the provider retries, rather than guess.
    raise RuntimeError(f"payment {notice.payment_id} refused by payable order {order.order_id}")


def _recorded_again(order: OrderModel, notice: PaymentNotice) -> s.PaymentAck:
    """A notice of the payment the order already took (a copy, or the provider's retry):
    SUCCESS once its ticket and payment record exist. The first request may have died
    between its two writes: whichever is missing is written here, conditionally (the
    ticket may have been created, sent and printed meanwhile). The ticket only while the
    order is still ``paid``: one the store has started on, or that was cancelled since,
    needs no order ticket now (the payment record, the ledger, is written whatever)."""
    ticket = print_jobs.paid_ticket_id(order.order_id)
    found = batch_get(
        {PrintJobModel: [{"job_id": ticket}], PaymentModel: [{"payment_id": notice.payment_id}]}
    )
    missing: list[PrintJobModel | PaymentModel] = []
    if not found[PrintJobModel] and order.status == "paid" and not order.held:
        missing.append(_paid_ticket(order))
    if not found[PaymentModel]:
        missing.append(notice.record(order.order_id, "captured"))
        # the first request's write of the payer went with the record: both or neither.
        # Idempotent, and before the record, so that a record found means it is written.
        payer = _payer_piece(order, notice)
        if payer is not None:
            transact(payer.add_to)
    for item in missing:
        key = item._hash_key_attribute()
        try:
            item.save(condition=key.does_not_exist())
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
    if missing:
        log.warning(
            "payment %s of %s: wrote its missing records", notice.payment_id, order.order_id
        )
    if order.held:
        extensions.on_held_paid(order)  # the first request may have died before it
    return s.PaymentAck(code="SUCCESS", message="already recorded")


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


def simulate(principal: Principal, order_id: str, payer: str | None = None) -> s.PaymentAck:
    """Local stage only: the customer "pays" and the local provider notifies us, signed
    (naming ``payer`` as who paid, when given)."""
    if not config.is_local():
        raise NotFound("Not found.", code="not_found")
    if coupon_sales.is_sale_id(order_id):
        payment_id, amount_fen = coupon_sales.payable(principal, order_id)
    elif top_ups.is_top_up_id(order_id):
        payment_id, amount_fen = top_ups.payable(principal, order_id)
    elif paid_membership.is_purchase_id(order_id):
        payment_id, amount_fen = paid_membership.payable(principal, order_id)
    elif (kind := payables.find(order_id)) is not None:
        payment_id, amount_fen = kind.payable(principal, order_id)
    else:
        order = order_flow.get(order_id)
        if principal.role == CUSTOMER and order.customer_id != principal.subject:
            raise NotFound(f"No order {order_id!r}.", code="order_not_found")
        payment_id, amount_fen = order.order_id, payable_fen(order)
    p = provider("local")
    assert isinstance(p, LocalPaymentProvider)
    headers, body = p.make_notification(payment_id, amount_fen, payer)
    return notify("local", headers, body)
