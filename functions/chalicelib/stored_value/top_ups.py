"""Top-ups (充值) and withdrawals (退本金), through the payment provider.

- A top-up is written awaiting payment (15 minutes, like an order), its id ("TU…", from
  the member and the Idempotency-Key) what the provider carries as its order id;
  ``orders.payments.record_payment`` hands notices for "TU…" ids to ``record_payment``.
- The payment's transaction moves the top-up to ``paid``, records the payment (keyed by
  the provider's transaction: a repeated notice changes nothing) and credits principal
  and bonus (``ledger.pieces``, entry ``topup:<id>``) under the cap's condition.
- Money the top-up cannot take (expired, already paid, or the cap reached meanwhile by
  another top-up) is recorded and refunded in full.
- A withdrawal closes the balance: the quote (unused principal less bonus spent) is paid
  back through the top-ups' payments, newest first; principal and bonus go to zero, in
  one transaction with the refunds it plans.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import BadRequest, Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.money import yuan
from chalicelib.orders import refunds
from chalicelib.orders.models import PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice, provider
from chalicelib.stored_value import ledger, rules, service
from chalicelib.stored_value import schemas as s
from chalicelib.stored_value.models import (
    NO_STORE,
    StoredValueAccountModel,
    StoredValueEntryModel,
    TopUpModel,
)

log = logging.getLogger("daojia.stored_value")
PREFIX = "TU"


def is_top_up_id(value: str) -> bool:
    """Top-up ids start with "TU"; order ids with six digits, coupon sales with "CS"."""
    return value.startswith(PREFIX)


def top_up_id_for(customer_id: str, key: str) -> str:
    digest = hashlib.sha256(f"top-up\0{customer_id}\0{key}".encode()).hexdigest()
    return PREFIX + digest[:16].upper()


def get(top_up_id: str) -> TopUpModel:
    try:
        return TopUpModel.get(top_up_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No top-up {top_up_id!r}.", code="top_up_not_found") from None


def effective_status(t: TopUpModel) -> str:
    if t.status == "awaiting_payment" and t.expires_at <= clock.now_iso():
        return "expired"
    return t.status


def sheet(t: TopUpModel) -> s.PaymentSheet:
    p = provider()
    params = p.create_payment(
        t.top_up_id, int(t.amount_fen), f"鲜到家储值 {yuan(int(t.amount_fen))}"
    )
    return s.PaymentSheet(
        order_id=t.top_up_id, provider=p.name, amount_fen=int(t.amount_fen), params=params
    )


def view(t: TopUpModel, with_sheet: bool = False) -> s.TopUp:
    status = effective_status(t)
    payment = None
    if with_sheet and status == "awaiting_payment":
        try:
            payment = sheet(t)
        except Exception:
            log.exception("top-up %s: no payment sheet", t.top_up_id)
    return s.TopUp(
        top_up_id=t.top_up_id,
        customer_id=t.customer_id,
        amount_fen=int(t.amount_fen),
        bonus_fen=int(t.bonus_fen),
        status=cast(Any, status),
        created_at=t.created_at,
        expires_at=t.expires_at,
        paid_at=t.paid_at,
        payment=payment,
    )


def get_own(principal: Principal, top_up_id: str) -> s.TopUp:
    t = get(top_up_id) if is_top_up_id(top_up_id) else None
    if t is None or principal.role != CUSTOMER or t.customer_id != principal.subject:
        raise NotFound(f"No top-up {top_up_id!r}.", code="top_up_not_found")
    return view(t, with_sheet=True)


def create(principal: Principal, key: str | None, body: s.TopUpCreate) -> tuple[s.TopUp, bool]:
    """A top-up awaiting payment with its payment sheet; the same Idempotency-Key again
    answers the same top-up (created False). 422 ``stored_value_cap`` when the balance
    with this top-up and its bonus would exceed the cap (checked again when the money
    arrives)."""
    if not key or not (8 <= len(key) <= 64):
        raise BadRequest(
            "Send an Idempotency-Key header (8-64 characters), the same on every retry.",
            code="idempotency_key_required",
        )
    customer_id = principal.subject
    top_up_id = top_up_id_for(customer_id, key)
    try:
        existing: TopUpModel | None = TopUpModel.get(top_up_id, consistent_read=True)
    except DoesNotExist:
        existing = None
    if existing is not None:
        if int(existing.amount_fen) != body.amount_fen:
            raise ValidationFailed(
                "This Idempotency-Key was used for another top-up; use a new key.",
                code="idempotency_key_reused",
                details=[field_error("Idempotency-Key", "used with another amount")],
            )
        return view(existing, with_sheet=True), False
    settings = service.settings_item()
    held = service.account(customer_id)
    bonus = rules.bonus_for(body.amount_fen, service.tiers_of(settings))
    cap = int(settings.cap_fen)
    if not rules.top_up_allowed(int(held.balance_fen or 0), body.amount_fen, bonus, cap):
        raise ValidationFailed(
            f"A balance may not exceed {yuan(cap)}: this top-up and its bonus would take it "
            f"to {yuan(int(held.balance_fen or 0) + body.amount_fen + bonus)}.",
            code="stored_value_cap",
            details={"cap_fen": cap, "balance_fen": int(held.balance_fen or 0), "bonus_fen": bonus},
        )
    now = clock.now()
    store = held.store_id if held.updated_at is not None else body.store_id
    t = TopUpModel(
        top_up_id,
        customer_id=customer_id,
        request_id=key,
        store_id=store or NO_STORE,
        amount_fen=body.amount_fen,
        bonus_fen=bonus,
        status="awaiting_payment",
        created_at=clock.now_iso_ms(),
        expires_at=clock.iso(now + timedelta(seconds=config.PAYMENT_TIMEOUT_S)),
    )
    try:
        t.save(condition=TopUpModel.top_up_id.does_not_exist())
    except Exception as exc:  # a racing retry with the same key
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return view(get(top_up_id), with_sheet=True), False
    return view(t, with_sheet=True), True


def payable(principal: Principal, top_up_id: str) -> tuple[str, int]:
    """(payment id, amount) for the local provider's simulated payment."""
    t = get(top_up_id)
    if principal.role == CUSTOMER and t.customer_id != principal.subject:
        raise NotFound(f"No top-up {top_up_id!r}.", code="top_up_not_found")
    return t.top_up_id, int(t.amount_fen)


def record_payment(notice: PaymentNotice, _attempt: int = 0) -> str:
    """Credit a verified top-up payment once; money it cannot take is refunded in full.
    Returns the message for the provider's acknowledgement. BadRequest
    ``amount_mismatch`` when the amount is not the top-up's (the caller refunds it)."""
    t = get(notice.order_id)
    if t.payment_id == notice.payment_id:
        return "already recorded"
    if notice.amount_fen != int(t.amount_fen):
        raise BadRequest("The paid amount does not match the top-up.", code="amount_mismatch")
    if t.status != "awaiting_payment" or notice.paid_at > t.expires_at:
        return _refund(t, notice, "late_payment", set_status=False)
    held = service.account(t.customer_id)
    # The account's store once it has one (every movement of an account moves the same
    # store's liability); a first top-up gives it the top-up's store.
    store = held.store_id if held.updated_at is not None else t.store_id
    settings = service.settings_item()
    movement = ledger.Movement(
        t.customer_id,
        f"topup:{t.top_up_id}",
        "top_up",
        rules.Split(int(t.amount_fen), int(t.bonus_fen)),
        f"top-up {yuan(int(t.amount_fen))}"
        + (f" + bonus {yuan(int(t.bonus_fen))}" if int(t.bonus_fen) else ""),
        store_id=store or NO_STORE,
    )
    m = TopUpModel
    payment = notice.record(t.top_up_id, "captured")

    def build(tx: Tx) -> None:
        tx.update(
            TopUpModel(t.top_up_id),
            actions=[
                m.status.set("paid"),
                m.payment_id.set(notice.payment_id),
                m.payment_provider.set(notice.provider),
                m.paid_at.set(notice.paid_at),
            ],
            condition=m.status == "awaiting_payment",
            label="top_up",
        )
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.add(*ledger.pieces(movement, cap_fen=int(settings.cap_fen)))

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed or ledger.ENTRY_LABEL in exc.failed:
            return "already recorded"
        if ledger.ACCOUNT_LABEL in exc.failed:
            return _refund(t, notice, "cap_exceeded", set_status=True)
        moved = "top_up" in exc.failed or "TransactionConflict" in exc.codes
        if moved and _attempt < 5:  # the top-up or the account moved meanwhile: again
            return record_payment(notice, _attempt + 1)
        raise
    return "paid"


def _refund(t: TopUpModel, notice: PaymentNotice, reason: str, *, set_status: bool) -> str:
    """Record the payment and refund it in full (one transaction); ``set_status``: the
    top-up becomes ``refunded`` (the cap was reached meanwhile)."""
    refund = refunds.unlinked(
        f"{t.top_up_id}:{reason}:{notice.transaction_id}",
        t.top_up_id,
        notice.payment_id,
        notice.provider,
        notice.amount_fen,
        reason,
    )
    payment = notice.record(t.top_up_id, f"{reason}_refunded")
    m = TopUpModel

    def build(tx: Tx) -> None:
        tx.save(payment, condition=PaymentModel.payment_id.does_not_exist(), label="payment")
        tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")
        if set_status:
            tx.update(
                TopUpModel(t.top_up_id),
                actions=[
                    m.status.set("refunded"),
                    m.payment_id.set(notice.payment_id),
                    m.payment_provider.set(notice.provider),
                    m.paid_at.set(notice.paid_at),
                    m.refund_id.set(refund.refund_id),
                ],
                condition=m.status == "awaiting_payment",
                label="top_up",
            )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "payment" in exc.failed or "refund" in exc.failed:
            return "already recorded"
        if "top_up" in exc.failed:  # paid by another payment meanwhile: this one is late
            return _refund(get(t.top_up_id), notice, "late_payment", set_status=False)
        raise
    log.warning("top-up %s: payment %s refunded (%s)", t.top_up_id, notice.payment_id, reason)
    refunds.execute(refund.refund_id, payment_total_fen=notice.amount_fen)
    return f"top-up not credited ({reason}); refunded"


# --- withdrawal -----------------------------------------------------------------------


def quote(customer_id: str) -> s.WithdrawalQuote:
    held = service.account(customer_id)
    return _quote(held)


def _quote(held: StoredValueAccountModel) -> s.WithdrawalQuote:
    p, b = int(held.principal_fen or 0), int(held.bonus_fen or 0)
    spent = int(held.bonus_spent_fen or 0)
    back = rules.withdrawal_quote(p, spent)
    return s.WithdrawalQuote(
        principal_fen=p,
        bonus_spent_fen=spent,
        refund_fen=back,
        deducted_fen=p - back,
        bonus_forfeited_fen=b,
    )


def withdraw(principal: Principal, body: s.WithdrawalRequest) -> s.Withdrawal:
    """Close the member's stored value: pay the quote back through the top-ups'
    payments (newest first), take principal and bonus to zero, one transaction. 409
    ``quote_changed`` when the quote is no longer ``expected_refund_fen``; 409
    ``nothing_to_withdraw``; a retry with the same ``request_id`` answers the same."""
    customer_id = principal.subject
    ref = f"withdraw:{body.request_id}"
    held = service.account(customer_id)
    q = _quote(held)
    done = _withdrawn(customer_id, ref)
    if done is not None:
        return done
    if q.principal_fen == 0 and q.bonus_forfeited_fen == 0:
        raise Conflict("There is no stored value to withdraw.", code="nothing_to_withdraw")
    if q.refund_fen != body.expected_refund_fen:
        raise Conflict(
            f"The refund is now {yuan(q.refund_fen)}; ask for a new quote.",
            code="quote_changed",
            details={"refund_fen": q.refund_fen},
        )
    plan, totals = _plan_refunds(customer_id, ref, q.refund_fen)
    movement = ledger.Movement(
        customer_id,
        ref,
        "withdraw",
        rules.Split(-q.principal_fen, -q.bonus_forfeited_fen),
        f"withdrawal: {yuan(q.refund_fen)} paid back, {yuan(q.deducted_fen)} bonus spent "
        f"deducted, {yuan(q.bonus_forfeited_fen)} bonus forfeited",
        store_id=held.store_id or NO_STORE,
        actor=customer_id,
        bonus_spent_fen=-q.bonus_spent_fen,
        paid_out_fen=q.refund_fen,
        refund_ids=tuple(totals),
    )

    def build(tx: Tx) -> None:
        tx.add(*ledger.pieces(movement, exact=held))
        for piece in plan:
            piece.add_to(tx)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if ledger.ENTRY_LABEL in exc.failed:
            done = _withdrawn(customer_id, ref)
            if done is not None:
                return done
        if exc.failed:
            raise Conflict(
                "The balance changed meanwhile; ask for a new quote.", code="quote_changed"
            ) from None
        raise
    for refund_id, total in totals.items():
        refunds.execute(refund_id, payment_total_fen=total)
    return s.Withdrawal(
        withdrawal_ref=ref,
        refund_fen=q.refund_fen,
        refund_ids=list(totals),
        balance=service.balance(customer_id),
    )


def _withdrawn(customer_id: str, ref: str) -> s.Withdrawal | None:
    """The answer to a withdrawal already made with this ref (a retry), or None."""
    try:
        e = StoredValueEntryModel.get(customer_id, ref, consistent_read=True)
    except DoesNotExist:
        return None
    return s.Withdrawal(
        withdrawal_ref=ref,
        refund_fen=int(e.paid_out_fen or 0),
        refund_ids=list(e.refund_ids or []),
        balance=service.balance(customer_id),
    )


def _plan_refunds(
    customer_id: str, ref: str, amount_fen: int
) -> tuple[list[TxPiece], dict[str, int]]:
    """Refunds of ``amount_fen`` across the member's paid top-ups, newest first, each up
    to what its payment has not paid back yet; each top-up's ``withdrawn_fen`` grows
    under the condition that it stays within the payment. 409
    ``withdrawal_needs_head_office`` when the payments cannot cover it (principal added
    by head office)."""
    left = amount_fen
    out: list[TxPiece] = []
    totals: dict[str, int] = {}  # refund id -> the payment it pays back from
    m = TopUpModel
    for t in TopUpModel.by_customer.query(customer_id, scan_index_forward=False):
        if left <= 0:
            break
        if t.status != "paid" or not t.payment_id:
            continue
        room = int(t.amount_fen) - int(t.withdrawn_fen or 0)
        take = min(room, left)
        if take <= 0:
            continue
        left -= take
        out.append(
            TxPiece(
                TopUpModel(t.top_up_id),
                {
                    "actions": [m.withdrawn_fen.add(take)],
                    "condition": m.withdrawn_fen.does_not_exist()
                    | (m.withdrawn_fen <= int(t.amount_fen) - take),
                },
                f"top_up:{t.top_up_id}",
            )
        )
        refund = refunds.unlinked(
            f"{t.top_up_id}:{ref}",
            t.top_up_id,
            t.payment_id,
            t.payment_provider or "",
            take,
            "withdrawal",
        )
        totals[refund.refund_id] = int(t.amount_fen)
        out.append(
            TxPiece(
                refund,
                {"condition": RefundModel.refund_id.does_not_exist()},
                f"refund:{t.top_up_id}",
                op="save",
            )
        )
    if left > 0:
        raise Conflict(
            "Part of this balance was not paid in through a top-up; ask head office.",
            code="withdrawal_needs_head_office",
            details={"uncovered_fen": left},
        )
    return out, totals
