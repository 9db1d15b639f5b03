"""The daily job (``subscription_orders``): each delivery whose cutoff has passed
becomes its order, once.

The order's id is derived from (subscription, date) and the order is created with a
conditional put, in one transaction with its stock and the delivery item moving from
scheduled (or failed) to ordered (orders/prepaid.py): run twice, or twice at once, it
makes one order. Nothing is skipped silently: a delivery that cannot be made is
recorded ``failed`` with the reason and tried again on the next run; one still failing
on its delivery day, or short of stock, is refunded its share (the shortage rule: what
was paid for what cannot be delivered goes back).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.db.transitions import Who
from chalicelib.kernel import clock
from chalicelib.orders import prepaid, refunds
from chalicelib.orders.models import RefundModel
from chalicelib.subscriptions import rules
from chalicelib.subscriptions.models import SubscriptionDeliveryModel, SubscriptionModel
from chalicelib.subscriptions.service import OPEN, get

log = logging.getLogger("daojia.subscriptions")
JOB = Who("subscription-orders", "system")
DM = SubscriptionDeliveryModel
SM = SubscriptionModel


def run() -> dict[str, int]:
    """Order every open delivery of today and tomorrow whose cutoff has passed (today's
    too: a run that failed or did not happen is caught up). Returns counts by outcome."""
    today = clock.now().astimezone(rules.ZONE).date()
    now = clock.now_iso()
    counts: dict[str, int] = {}
    for day in (today, today + timedelta(days=1)):
        for d in DM.by_day.query(day.isoformat()):
            if d.state in OPEN and d.cutoff_at <= now:
                outcome = order_delivery(d.subscription_id, d.day)
                counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def order_delivery(subscription_id: str, day: str) -> str:
    """Make the delivery's order; returns ordered | exists | moved | refunded | failed."""
    d = DM.get(subscription_id, day, consistent_read=True)
    if d.state not in OPEN:
        return "moved"
    sub = get(subscription_id)
    share = rules.shares(int(sub.price_fen), int(sub.deliveries))[int(d.seq) - 1]
    order_id = prepaid.order_id_for(f"{subscription_id}#{day}", day)
    now = clock.now_iso()
    piece = TxPiece(
        DM(subscription_id, day),
        {
            "actions": [
                DM.state.set("ordered"),
                DM.order_id.set(order_id),
                DM.reason.remove(),
                DM.updated_at.set(now),
            ],
            "condition": DM.state.is_in(*OPEN),
        },
        label="delivery",
    )
    a = sub.address
    address = (
        None
        if a is None
        else {"name": a.name, "phone": a.phone, "line": a.line, "lat": a.lat, "lng": a.lng}
    )
    pay = prepaid.Prepayment(
        payment_id=sub.payment_id or "",
        provider=sub.payment_provider or "",
        paid_fen=share,
        paid_at=sub.paid_at or now,
        label=f"周期购 {sub.plan_name} 第{int(d.seq)}/{int(sub.deliveries)}次 {sub.window}",
        actor=JOB,
    )
    try:
        order = prepaid.create(
            order_id,
            sub.customer_id,
            sub.store_id,
            sub.fulfilment,
            address,
            [prepaid.PrepaidLine(ln.sku, int(ln.qty)) for ln in sub.lines],
            pay,
            [piece],
        )
    except prepaid.PieceFailed:
        return "moved"  # skipped, paused, cancelled or ordered meanwhile
    except prepaid.Short as short:
        return _refund(d, sub, share, "shortage", f"out of stock: {', '.join(short.skus)}")
    except prepaid.Unsellable as exc:
        return _failed(d, sub, share, str(exc))
    except Exception as exc:  # recorded and retried, never dropped
        log.exception("subscription %s, %s: order failed", subscription_id, day)
        return _failed(d, sub, share, f"error: {exc}"[:200])
    return "ordered" if order is not None else "exists"


def _failed(d: SubscriptionDeliveryModel, sub: SubscriptionModel, share: int, why: str) -> str:
    """Recorded failed (retried by the next run); refunded once its day has come."""
    today = clock.now().astimezone(rules.ZONE).date().isoformat()
    if d.day <= today:
        return _refund(d, sub, share, "unfulfilled", why)
    try:
        d.update(
            actions=[
                DM.state.set("failed"),
                DM.reason.set(why),
                DM.attempts.add(1),
                DM.updated_at.set(clock.now_iso()),
            ],
            condition=DM.state.is_in(*OPEN),
        )
    except Exception:
        log.exception("subscription %s, %s: recording the failure", d.subscription_id, d.day)
    return "failed"


def _refund(
    d: SubscriptionDeliveryModel, sub: SubscriptionModel, share: int, reason: str, why: str
) -> str:
    """The delivery's share goes back: the date refunded, the refund recorded and the
    subscription's refunded total, in one transaction conditioned on the date still open
    (a rerun refunds nothing twice: the refund id is derived from the date)."""
    refund = refunds.unlinked(
        f"{sub.subscription_id}:{d.day}:{reason}",
        sub.subscription_id,
        sub.payment_id or "",
        sub.payment_provider or "",
        share,
        "shortage",
    )
    now = clock.now_iso()

    def build(tx: Tx) -> None:
        tx.update(
            DM(d.subscription_id, d.day),
            actions=[
                DM.state.set("refunded"),
                DM.reason.set(why),
                DM.refund_id.set(refund.refund_id),
                DM.refunded_fen.set(share),
                DM.updated_at.set(now),
            ],
            condition=DM.state.is_in(*OPEN),
            label="delivery",
        )
        tx.update(
            SubscriptionModel(sub.subscription_id),
            actions=[SM.refunded_fen.add(share), SM.updated_at.set(now)],
            condition=SM.subscription_id.exists(),
            label="subscription",
        )
        tx.save(refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed:
            return "moved"
        raise
    log.warning("subscription %s, %s: %s; %s fen refunded", sub.subscription_id, d.day, why, share)
    refunds.execute(refund.refund_id, payment_total_fen=int(sub.price_fen))
    return "refunded"
