"""Refunds: planned inside the transaction that causes them, paid out through the
provider after it commits, retried until the provider confirms.

Refund rule: each line refunds at most what was paid for it (its price less its share of
order discounts); refunding every unit of a line returns exactly what was paid for it.
The delivery fee is refunded when the whole order is cancelled, or when a shortage leaves
nothing to deliver. A refund that pays back all the order was paid voids the
after-payment gifts (支付有礼) the order earned.

Stored value (储值): a refund of an order paid partly or wholly with balance gives the
balance its share, in proportion to how the order was paid (cumulatively, so all the
refunds of an order give back exactly the stored value it took), principal and bonus in
proportion to what the order took (stored_value/rules.py); the rest goes back through
the payment provider. The share goes back in the refund's own transaction
(``RefundPlan.pieces``); a refund with nothing left for the provider succeeds without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.checkout import reprice
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, add_all, transact
from chalicelib.db.transitions import Who
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock
from chalicelib.kernel.money import allocate, refund_for_units
from chalicelib.kernel.states import REFUND
from chalicelib.orders import order_flow, payment_providers
from chalicelib.orders.models import (
    OrderDetailModel,
    OrderModel,
    RefundLineAttribute,
    RefundModel,
    line_path,
)
from chalicelib.stored_value import payment as stored_value
from chalicelib.stored_value import rules as stored_value_rules

log = logging.getLogger("daojia.refunds")
SYSTEM_ACTOR = "system"
PROVIDER = Who("payment-provider", SYSTEM_ACTOR)


@dataclass
class RefundPlan:
    refund: RefundModel
    order_actions: list[Any]  # on the order's head
    detail_actions: list[Any]  # on its detail: the lines' refunded units and amounts
    # What goes back to stored value, for the same transaction (empty: nothing)
    pieces: list[TxPiece] = field(default_factory=list)

    @property
    def amount_fen(self) -> int:
        return int(self.refund.amount_fen)


def plan(
    order: OrderModel,
    refund_id: str,
    reason: str,
    units: dict[int, int],
    delivery_fee_fen: int = 0,
    reevaluate: bool = False,
) -> RefundPlan | None:
    """Refund ``units[line index]`` more units of lines (and part of the delivery fee).

    Amounts follow the per-unit largest-remainder split of what each line paid, so the
    pieces of a line never add up to more than it paid. ``reevaluate`` (a return): the
    order's discounts whose policy is reevaluate deduct the benefit the units still held
    no longer earn (``repriced``). None when there is nothing to refund.
    """
    actions: list[Any] = []
    lines, detail, total = _units(order, units)
    deducted = 0
    if reevaluate:
        refund_goods, clawed_action = repriced(order, units, total)
        deducted, total = total - refund_goods, refund_goods
        detail += clawed_action
    fee_left = int(order.delivery_fee_fen) - int(order.delivery_fee_refunded_fen)
    fee = min(delivery_fee_fen, fee_left)
    if fee > 0:
        actions.append(OrderModel.delivery_fee_refunded_fen.add(fee))
        total += fee
    if total <= 0:
        return None
    actions.append(OrderModel.refunded_fen.add(total))
    to_balance, pieces = _stored_value_share(order, refund_id, total)
    if to_balance:
        actions.append(OrderModel.stored_value_returned_fen.add(to_balance))
    # The plan runs in a transaction conditioned on the order as read, so this is exact.
    paid = int(order.paid_fen or 0)
    completes = paid > 0 and int(order.refunded_fen or 0) + total >= paid
    now = clock.now_iso()
    refund = RefundModel(
        refund_id,
        order_id=order.order_id,
        payment_id=order.payment_id or "",
        provider=order.payment_provider or "",
        reason=reason,
        lines=lines,
        delivery_fee_fen=max(fee, 0),
        amount_fen=total,  # what the customer gets back, however it goes back
        stored_value_fen=to_balance or None,
        status="pending",
        completes_order=completes or None,
        pending="pending",
        created_at=clock.now_iso_ms(),
        updated_at=now,
        deducted_fen=deducted or None,
        # a return keeps the after-payment gifts the kept amount still reaches; a
        # shortage (the store's fault) keeps them all
        kept_fen=None
        if completes or reason != "return"
        else paid - int(order.refunded_fen or 0) - total,
    )
    return RefundPlan(refund, actions, detail, pieces)


def _units(
    order: OrderModel, units: dict[int, int]
) -> tuple[list[RefundLineAttribute], list[Any], int]:
    """(refund lines, detail actions, total) of refunding ``units`` of lines."""
    lines, detail, total = [], [], 0
    for index, n in sorted(units.items()):
        if n <= 0:
            continue
        line = order.lines[index]
        amount = refund_for_units(int(line.paid_fen), int(line.qty), int(line.refunded_units), n)
        # never more than the line still holds: an amount refunded without units (a
        # lottery prize spread over the lines) already took part of what it paid
        amount = min(amount, max(int(line.paid_fen) - int(line.refunded_fen or 0), 0))
        lines.append(RefundLineAttribute(sku=line.sku, units=n, amount_fen=amount))
        detail += [
            line_path(index).refunded_units.add(n),
            line_path(index).refunded_fen.add(amount),
        ]
        total += amount
    return lines, detail, total


def nothing_back(order: OrderModel, units: dict[int, int]) -> list[Any]:
    """Detail actions of a return that refunds nothing (``plan`` made no plan: its share
    rounds to 0 fen, or a re-evaluated discount's deduction takes all of it): the units
    count as refunded, so later refunds start at the right unit, and the deduction is
    kept."""
    _, detail, share = _units(order, units)
    _, clawed = repriced(order, units, share)
    return detail + clawed


def repriced(order: OrderModel, units: dict[int, int], paid_share: int) -> tuple[int, list[Any]]:
    """(what to refund of the goods, detail actions) for returning ``units`` whose paid
    share is ``paid_share``, by the order's re-evaluated discounts (checkout/reprice.py,
    docs/promotions.md "Refund rule"): the refund deducts what the units still held newly
    owe, gives back what they no longer owe, never below 0; the order's detail keeps
    what is deducted so far. Exact: the plan's write is conditioned on the order's
    version as read. An order with no such discount: the paid share, no action."""
    rules = reprice.loads(order.reprice)
    if not rules:
        return paid_share, []
    held = {}
    for i, line in enumerate(order.lines):
        qty = int(line.qty)
        shortage = 0 if line.picked_qty is None else qty - int(line.picked_qty)
        held[i] = reprice.Held(qty, shortage, int(line.refunded_units) + units.get(i, 0))
    clawed = int(order.reprice_clawed_fen or 0)
    refund, after = reprice.step(paid_share, reprice.target(rules, held), clawed)
    if after == clawed:
        return refund, []
    return refund, [OrderDetailModel.reprice_clawed_fen.set(after)]


def _stored_value_share(order: OrderModel, refund_id: str, total: int) -> tuple[int, list[TxPiece]]:
    """The part of a refund of ``total`` that goes back to stored value, and its pieces."""
    sv = int(order.stored_value_fen or 0)
    if sv <= 0:
        return 0, []
    share = stored_value_rules.stored_value_share(
        sv, int(order.total_fen), int(order.refunded_fen or 0), total
    )
    if share <= 0:
        return 0, []
    taken = stored_value_rules.Split(
        int(order.stored_value_principal_fen or 0), int(order.stored_value_bonus_fen or 0)
    )
    pieces = stored_value.refund_back(
        order.customer_id,
        order.order_id,
        refund_id,
        order.stored_value_store or "-",
        taken,
        int(order.stored_value_returned_fen or 0),
        share,
    )
    return share, pieces


def provider_total(order: OrderModel) -> int:
    """What the payment provider took for the order (its payment's total): what was
    paid less the stored value."""
    return int(order.paid_fen or 0) - int(order.stored_value_fen or 0)


def full(order: OrderModel, refund_id: str, reason: str) -> RefundPlan | None:
    """Everything not yet refunded, delivery fee included."""
    units = {i: int(line.qty) - int(line.refunded_units) for i, line in enumerate(order.lines)}
    return plan(order, refund_id, reason, units, delivery_fee_fen=int(order.delivery_fee_fen))


def unlinked(
    refund_id: str, order_id: str, payment_id: str, provider: str, amount_fen: int, reason: str
) -> RefundModel:
    """A refund of a whole payment not tied to order lines (a late or second payment)."""
    now = clock.now_iso()
    return RefundModel(
        refund_id,
        order_id=order_id,
        payment_id=payment_id,
        provider=provider,
        reason=reason,
        amount_fen=amount_fen,
        status="pending",
        pending="pending",
        created_at=clock.now_iso_ms(),
        updated_at=now,
    )


def execute(
    refund_id: str, payment_total_fen: int | None = None, written: RefundModel | None = None
) -> RefundModel:
    """Ask the provider to pay the refund out; idempotent (the provider dedupes on our id).

    ``written``: the refund as this request has just committed it, which saves reading it
    back. A failure leaves the refund pending for the retry job."""
    refund = written or RefundModel.get(refund_id, consistent_read=True)
    if refund.status == "succeeded":
        return refund
    if refund.completes_order:
        _void_gifts(refund.order_id)
    elif refund.kept_fen is not None:  # a partial return: gifts the rest no longer earns
        _void_gifts(refund.order_id, int(refund.kept_fen))
    to_provider = provider_part(refund)
    if to_provider == 0:  # all of it went back to stored value, in its transaction
        return _succeeded(refund, refund_id, "stored_value")
    total = payment_total_fen
    if total is None:
        total = _payment_total(refund)
    try:
        provider_refund_id = payment_providers.provider(refund.provider).refund(
            refund.payment_id, refund.refund_id, to_provider, total
        )
    except Exception as exc:  # any provider failure: record it, retry later
        log.warning("refund %s failed: %s", refund_id, exc)
        refund.update(
            actions=[
                RefundModel.attempts.add(1),
                RefundModel.last_error.set(str(exc)[:300]),
                RefundModel.updated_at.set(clock.now_iso()),
            ]
        )
        return refund
    return _succeeded(refund, refund_id, provider_refund_id)


def _succeeded(refund: RefundModel, refund_id: str, provider_refund_id: str) -> RefundModel:
    # Refunds record no history: the provider's answer is the record.
    move = transitions.move(
        RefundModel, REFUND, refund.status, [("succeed", None)], PROVIDER, history=False
    )
    try:
        refund.update(
            actions=[
                *move.actions,
                RefundModel.pending.remove(),
                RefundModel.provider_refund_id.set(provider_refund_id),
                RefundModel.attempts.add(1),
            ],
            condition=move.condition,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        refund = RefundModel.get(refund_id, consistent_read=True)  # a racing execute() won
    return refund


def _void_gifts(order_id: str, kept_fen: int | None = None) -> None:
    """The order is refunded in full (or a return leaves it ``kept_fen`` paid): the
    after-payment gifts it earned (whose minimum the rest no longer reaches) are no
    longer earned (docs/promotions.md). Idempotent, and done before the payout so the
    retry job does it again while the refund is pending; a failure is logged, never a
    reason to hold the customer's money back."""
    from chalicelib.coupons.service import void_after_payment_gifts

    try:
        void_after_payment_gifts(order_id, kept_fen)
    except Exception:
        log.exception("voiding the after-payment gifts of %s failed", order_id)


def provider_part(refund: RefundModel) -> int:
    """What the payment provider pays back: the refund less its stored-value share (which
    went back to the member's balance in the refund's own transaction)."""
    return int(refund.amount_fen) - int(refund.stored_value_fen or 0)


def _payment_total(refund: RefundModel) -> int:
    if refund.order_id.startswith("CS"):  # a coupon sale: its refunds are whole payments
        return int(refund.amount_fen)
    if refund.order_id.startswith("TU"):  # a top-up: a withdrawal may pay back part of it
        from chalicelib.stored_value.models import TopUpModel

        try:
            return int(TopUpModel.get(refund.order_id, attributes_to_get=["amount_fen"]).amount_fen)
        except DoesNotExist:
            return int(refund.amount_fen)
    from chalicelib.orders import payables

    kind = payables.find(refund.order_id)
    if kind is not None:  # a subscription, ...: its payment's total, when it knows it
        return kind.payment_total(refund.order_id) or provider_part(refund)
    try:
        order = OrderModel.get(refund.order_id)
        return provider_total(order) or provider_part(refund)
    except DoesNotExist:
        return provider_part(refund)


def retry_pending(limit: int = 50) -> int:
    """Scheduled: try again every refund the provider has not confirmed. Returns how many."""
    done = 0
    for key in RefundModel.by_pending.query("pending", limit=limit):
        if execute(key.refund_id).status == "succeeded":
            done += 1
    return done


# --- a refund of an amount (issue 17: a lottery prize) -------------------------------


def amount_plan(
    order: OrderModel, refund_id: str, reason: str, amount_fen: int
) -> RefundPlan | None:
    """Refund ``amount_fen`` of what the order still holds, not tied to units (a lottery
    prize, up to its cap). All that is left (or more): the full refund, so every unit
    counts as refunded and no later return pays twice. Less: spread over the lines in
    proportion to what each still holds (largest remainder), added to their refunded
    fen, units untouched."""
    left = int(order.paid_fen or 0) - int(order.refunded_fen or 0)
    if amount_fen <= 0 or left <= 0:
        return None
    if amount_fen >= left:
        return full(order, refund_id, reason)
    weights = [max(int(line.paid_fen) - int(line.refunded_fen), 0) for line in order.lines]
    if sum(weights) < amount_fen:  # the rest is delivery fee: refund everything instead
        return full(order, refund_id, reason)
    shares = allocate(amount_fen, weights)
    lines, detail = [], []
    for index, (line, share) in enumerate(zip(order.lines, shares, strict=True)):
        if share:
            lines.append(RefundLineAttribute(sku=line.sku, units=0, amount_fen=share))
            detail.append(line_path(index).refunded_fen.add(share))
    actions: list[Any] = [OrderModel.refunded_fen.add(amount_fen)]
    to_balance, pieces = _stored_value_share(order, refund_id, amount_fen)
    if to_balance:
        actions.append(OrderModel.stored_value_returned_fen.add(to_balance))
    refund = RefundModel(
        refund_id,
        order_id=order.order_id,
        payment_id=order.payment_id or "",
        provider=order.payment_provider or "",
        reason=reason,
        lines=lines,
        delivery_fee_fen=0,
        amount_fen=amount_fen,
        stored_value_fen=to_balance or None,
        status="pending",
        pending="pending",
        created_at=clock.now_iso_ms(),
        updated_at=clock.now_iso(),
    )
    return RefundPlan(refund, actions, detail, pieces)


def refund_amount(
    order_id: str, refund_id: str, reason: str, amount_fen: int
) -> RefundModel | None:
    """Refund up to ``amount_fen`` of a paid order, its state unchanged, once per
    ``refund_id`` (derived from the cause, e.g. "<order>:lottery:<id>"): a retry finds the
    refund already written and only pays it out again if the provider has not confirmed.
    The order's write is conditioned on its version as read, so a change racing this
    one makes it plan again. None: nothing left to refund."""
    for _attempt in range(5):
        try:
            return execute(refund_id)  # already written: pay it out (idempotent)
        except DoesNotExist:
            pass
        order = order_flow.get(order_id)
        plan = amount_plan(order, refund_id, reason, amount_fen)
        if plan is None:
            return None

        def build(tx: Tx, order: OrderModel = order, plan: RefundPlan = plan) -> None:
            # Conditioned on the order's version as read (PynamoDB adds it): the plan
            # is exact for that version.
            tx.update(
                order,
                actions=[*plan.order_actions, OrderModel.updated_at.set(clock.now_iso())],
                condition=OrderModel.order_id.exists(),
                label="order",
            )
            if plan.detail_actions:
                tx.update(
                    OrderDetailModel(order_id),
                    actions=plan.detail_actions,
                    condition=OrderDetailModel.order_id.exists(),
                    label="detail",
                )
            tx.save(plan.refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")
            add_all(tx, plan.pieces)

        try:
            transact(build, attempts=1)
        except TransactionCancelled as exc:
            if "order" in exc.failed or "refund" in exc.failed:
                continue  # refunded meanwhile, or this refund written by a racing call
            raise
        total = provider_total(order) or provider_part(plan.refund)
        return execute(refund_id, total, written=plan.refund)
    raise RuntimeError(f"refund {refund_id}: the order kept changing")
