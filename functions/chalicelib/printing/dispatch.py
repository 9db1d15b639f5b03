"""Sending print jobs to their store's FIFO queue.

A job is written in the same transaction as the order change that needs it
(cancellation, reprint), so there is no moment where the order changed and its ticket was
lost. The payment's ticket is the exception: it is named by the order's update and put
right after it (orders/payments.py); if that put never happens, the provider's retry of
the notification, answered with an error until then, puts it. Sending happens after the
commit: the print_jobs table's DynamoDB stream calls
``handle_stream_records`` (in AWS through ``@app.on_dynamodb_record``; in the local stack
the worker polls the stream), and the watchdog (printing/watchdog.py) re-sends any
job not acknowledged in time, including one the stream never delivered.

Every send of a job carries ``MessageDeduplicationId = "<job_id>-<attempt>"``: callers
racing to send the same attempt produce one message (SQS FIFO de-duplication), and a
conditional write on the job records the send exactly once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, transact_raw
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock
from chalicelib.kernel.privacy import mask_phone
from chalicelib.members import sources as member_sources
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel
from chalicelib.printing import messages as m
from chalicelib.printing import pick_lists, print_jobs, print_queues, test_prints
from chalicelib.printing.models import CounterModel, PrintJobModel
from chalicelib.stores.models import StoreModel

log = logging.getLogger("daojia.print")


# --- the message -----------------------------------------------------------------------


def _cancellation(order: OrderModel) -> m.Cancellation | None:
    for h in reversed(order.history or []):
        if h.action == "cancel":
            return m.Cancellation(at=h.at, reason=h.reason)
    return None


def _amendment(order: OrderModel) -> m.Amendment | None:
    short = [x for x in order.lines if x.picked_qty is not None and int(x.picked_qty) < int(x.qty)]
    at = next((h.at for h in reversed(order.history or []) if h.action == "finish_picking"), None)
    if not short or at is None:
        return None
    refunded = sum(int(x.refunded_fen or 0) for x in order.lines)
    return m.Amendment(
        at=at,
        reason="缺货",
        short_lines=[
            m.ShortLine(
                sku=x.sku, name=x.name, unit=x.unit, qty=int(x.qty), picked_qty=int(x.picked_qty)
            )
            for x in short
        ],
        refund_fen=refunded,
        total_fen=max(int(order.total_fen) - refunded, 0),
    )


def _units_now(line: Any) -> int:
    """Units of a line still in the order: picked (when picking is done) less refunded."""
    left = int(line.qty) - int(line.refunded_units or 0)
    if line.picked_qty is not None:
        left = min(left, int(line.picked_qty))
    return max(left, 0)


def _amended(order: OrderModel) -> bool:
    return int(order.refunded_fen or 0) > 0 or any(_units_now(x) != int(x.qty) for x in order.lines)


def _print_line(x: Any, qty: int) -> m.PrintLine:
    return m.PrintLine(
        sku=x.sku,
        name=x.name,
        unit=x.unit,
        qty=qty,
        unit_price_fen=int(x.unit_price_fen),
        amount_fen=int(x.unit_price_fen) * qty,
        zone=x.zone,
        shelf=x.shelf,
        category1=x.category1,
        category2=x.category2,
        fresh=bool(x.fresh),
        gift=bool(getattr(x, "gift", None)),
    )


def _as_now(order: OrderModel) -> tuple[list[m.PrintLine], m.Amounts]:
    """Lines and amounts of the order as it now is (after shortages and refunds): the
    units still in it, and what stays paid. The discount is what the lines' prices and
    the fee exceed that by (the order's discount shares, less what was refunded)."""
    lines = [_print_line(x, n) for x in order.lines if (n := _units_now(x)) > 0]
    total = max(int(order.total_fen) - int(order.refunded_fen or 0), 0)
    fee = int(order.delivery_fee_fen) - int(order.delivery_fee_refunded_fen or 0)
    subtotal = sum(x.amount_fen for x in lines)
    return lines, m.Amounts(
        subtotal_fen=subtotal,
        discount_fen=max(subtotal + fee - total, 0),
        delivery_fee_fen=fee,
        total_fen=total,
    )


def build_message(
    job: PrintJobModel, order: OrderModel, store: StoreModel, attempt: int
) -> m.PrintJobMessage:
    """The queue message of one send of ``job``. The address and the (masked) phone go
    only into jobs with a delivery copy (personal data where it is needed only). A
    reprint prints the order as it now is: after a shortage or a refund, the units still
    in it and what stays paid, with the amendment noted (not the ticket of payment time)."""
    address = order.address
    with_delivery = (
        order.fulfilment == "delivery" and address is not None and "delivery" in job.copies
    )
    amended_reprint = job.kind == "reprint" and _amended(order)
    if amended_reprint:
        lines, amounts = _as_now(order)
        discounts: list[m.Discount] = []  # the labels' amounts no longer add up: the total
    else:
        lines = [_print_line(x, int(x.qty)) for x in order.lines]
        # Points as cash come off the total after the discounts (issue 14): the ticket
        # shows them as one more deduction, so its figures add up to what money paid.
        points_fen = int(order.points_fen or 0)
        amounts = m.Amounts(
            subtotal_fen=int(order.subtotal_fen),
            discount_fen=int(order.discount_fen) + points_fen,
            delivery_fee_fen=int(order.delivery_fee_fen),
            total_fen=int(order.total_fen),
        )
        # a gift (满赠) prints as its 赠品 line at price 0, not as a discount off the goods
        discounts = [
            m.Discount(label=d.label, amount_fen=int(d.amount_fen))
            for d in order.discounts or []
            if d.kind != "gift"
        ]
        if points_fen:
            label = f"积分抵扣 {int(order.points_used or 0)} 积分"
            discounts.append(m.Discount(label=label, amount_fen=points_fen))
    return m.PrintJobMessage(
        schema_version=m.SCHEMA_VERSION,
        job_id=job.job_id,
        kind=cast(Any, job.kind),  # the str columns hold the literals (sorted_copies says why)
        attempt=attempt,
        copies=print_jobs.sorted_copies(job.copies),
        original_job_id=job.original_job_id,
        store_id=store.store_id,
        store_name=store.name,
        store_phone=store.phone,
        store_timezone=store.timezone,
        order_id=order.order_id,
        daily_seq=None if order.daily_seq is None else int(order.daily_seq),
        business_day=order.store_day.split("#", 1)[-1],
        fulfilment=cast(Any, order.fulfilment),
        created_at=order.created_at,
        paid_at=order.paid_at,
        lines=lines,
        remark=order.remark,
        pickup_code=order.pickup_code if order.fulfilment == "pickup" else None,
        delivery=m.Delivery(
            name=address.name, phone_masked=mask_phone(address.phone), address=address.line
        )
        if with_delivery and address is not None
        else None,
        amounts=amounts,
        discounts=discounts,
        cancellation=_cancellation(order) if job.kind == "cancellation" else None,
        amendment=_amendment(order) if job.kind == "amendment" or amended_reprint else None,
        member_qr=member_sources.ticket_qr_payload(store.store_id, order.order_id)
        if "delivery" in job.copies
        else None,
    )


def dedupe_id(job_id: str, attempt: int) -> str:
    return f"{job_id}-{attempt}"


def number_order(order: OrderModel) -> None:
    """Give a paid order its daily number (今日第 N 单) if it has none yet.

    The number is taken here, when the order's first ticket goes to the store, not in the
    payment transaction: a store's daily counter is one item, and making it part of every
    payment made a burst of payments at one store (a flash sale opening) conflict and
    fail. Here it is one atomic increment whose result we use, so numbers never repeat,
    and the order keeps the first number written for it. Two senders of the same ticket
    at once (the stream and a watchdog re-send a minute later, in practice never) each
    take a number; the conditional write keeps one and the other gives its number back
    when no later order took one meanwhile, so staff, who read a gap as "look for a
    missing ticket", see one only in that double race."""
    if order.daily_seq is not None or order.paid_at is None:
        return
    counter = CounterModel(order.store_day)
    counter.update(
        actions=[CounterModel.value.add(1), CounterModel.expires_at.set(timedelta(days=3))]
    )
    seq = int(counter.value)
    try:
        OrderModel._get_connection().update_item(
            order.order_id,
            actions=[OrderModel.daily_seq.set(seq)],
            condition=OrderModel.daily_seq.does_not_exist() & OrderModel.order_id.exists(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        # Another sender numbered it first: use that number, and give ours back.
        order.daily_seq = OrderModel.get(order.order_id, consistent_read=True).daily_seq
        try:
            counter.update(
                actions=[CounterModel.value.add(-1)], condition=CounterModel.value == seq
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
        return
    order.daily_seq = seq


def _send(job: PrintJobModel, attempt: int) -> None:
    """Build and send one attempt of the job to its store's queue."""
    from chalicelib.kernel.queues import sqs_client

    if job.kind == print_jobs.TEST:  # a test slip: no order behind it
        message = test_prints.message(job, StoreModel.get(job.store_id), attempt)
    elif job.kind == pick_lists.KIND:  # the list is on the job: no order behind it
        message = pick_lists.message(job, StoreModel.get(job.store_id), attempt)
    else:
        # the order's head and detail (the ticket lists the lines) and the store: one read
        order, store = order_flow.get_with_store(job.order_id, job.store_id)
        number_order(order)
        message = build_message(job, order, store, attempt)
    params: dict[str, Any] = {
        "MessageBody": m.encode(message),
        "MessageGroupId": job.store_id,  # one group per store: its tickets in order
        "MessageDeduplicationId": dedupe_id(job.job_id, attempt),
        "MessageAttributes": {
            "schema_version": {"DataType": "String", "StringValue": m.SCHEMA_VERSION},
            "kind": {"DataType": "String", "StringValue": job.kind},
        },
    }
    sqs = sqs_client()
    try:
        sqs.send_message(QueueUrl=print_queues.url(job.store_id), **params)
    except Exception as exc:
        if not print_queues.is_missing_queue(exc):
            raise
        print_queues.forget(job.store_id)  # deleted since we cached it: create it again
        sqs.send_message(QueueUrl=print_queues.url(job.store_id), **params)


def _load(job_id: str) -> PrintJobModel | None:
    try:
        return PrintJobModel.get(job_id, consistent_read=True)
    except DoesNotExist:
        return None


# --- first send --------------------------------------------------------------------------


def dispatch(job_id: str, job: PrintJobModel | None = None) -> bool:
    """Send a pending job to its store's queue and mark it sent. Idempotent: a job that
    is no longer pending is left alone, and callers racing on the same job send one
    message (same de-duplication id) and record one transition. True if this call
    recorded the send. ``job``: the job as its fresh stream record shows it (no read;
    see ``handle_stream_records``)."""
    job = job or _load(job_id)
    if job is None:
        log.warning("dispatch: no print job %s", job_id)
        return False
    if job.status != "pending":
        return False
    attempt = int(job.attempts or 0) + 1
    _send(job, attempt)
    mv = print_jobs.move(job, "send", order_flow.SYSTEM, f"attempt {attempt}")
    # The first send keeps the deadline the job got with its paid order (ACK_WITHIN_S
    # counts from payment): watch_at is written only for a job without one, so the
    # watchdog's index entry is not rewritten by every dispatch.
    # A test print or picking list is never watched (no order: no missed print to show).
    deadline: list[Action] = (
        []
        if job.watch_at is not None or job.kind in print_jobs.ORDERLESS
        else [PrintJobModel.watch_at.set(_first_deadline())]
    )
    try:
        job.update(
            actions=[
                *mv.actions,
                PrintJobModel.attempts.set(attempt),
                PrintJobModel.sent_at.set(clock.now_iso()),
                *deadline,
            ],
            condition=mv.condition & (PrintJobModel.attempts == int(job.attempts or 0)),
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            return False  # another caller recorded this send (its message was the same)
        raise
    return True


def _first_deadline() -> int:
    """The deadline of a job written without one (by code older than the job's own
    deadline): ACK_WITHIN_S from now."""
    return int(time.time()) + print_jobs.ACK_WITHIN_S


def handle_stream_records(records: list[dict[str, Any]]) -> int:
    """The print_jobs stream: dispatch each newly inserted job. A job that fails to send
    is logged and left to the watchdog, so one bad record never holds up the stream.
    Returns how many jobs this call sent."""
    sent = 0
    for record in records:
        if record.get("eventName") != "INSERT":
            continue
        job_id = (record.get("dynamodb", {}).get("Keys", {}).get("job_id") or {}).get("S")
        if not job_id:
            continue
        try:
            sent += dispatch(job_id, fresh_image(record))
        except Exception:
            log.exception("print job %s: dispatch failed; the watchdog will re-send it", job_id)
    return sent


# A new job's stream record carries the job as inserted (NEW_IMAGE). While the record is
# this fresh, sending from it is as safe as reading the job first: a second send of the
# same attempt (a redelivered record) has the same de-duplication id, which SQS FIFO
# drops within 5 minutes, and the conditional update records one send. Older records (a
# stream catching up) read the job.
FRESH_RECORD_S = 240


def fresh_image(record: dict[str, Any], now: float | None = None) -> PrintJobModel | None:
    """The job as its INSERT record shows it, if the record is fresh; None otherwise."""
    data = record.get("dynamodb", {})
    image, created = data.get("NewImage"), data.get("ApproximateCreationDateTime")
    if not image or created is None:
        return None
    # epoch seconds from Lambda; a datetime from boto3's GetRecords (the local worker)
    at = created.timestamp() if hasattr(created, "timestamp") else float(created)
    if (now if now is not None else time.time()) - at > FRESH_RECORD_S:
        return None
    return PrintJobModel.from_raw_data(image)


# --- re-sends (the watchdog) -------------------------------------------------------------


def resend_overdue(job_id: str, now: int) -> bool:
    """A job whose acknowledgement is overdue: send it again (attempt + 1) and mark it
    missed (漏单) with its order, in one transaction. It stays missed, and is re-sent
    with growing intervals, until the relay acknowledges it. When the queue cannot be
    reached the job is still marked missed (head office sees it) and the send is tried
    again next run. True if this call re-sent."""
    job = _load(job_id)
    # Printed and resolved jobs are never re-sent (both also left the watch index).
    if (
        job is None
        or job.status in ("printed", "resolved")
        or job.watch is None
        or job.watch_at is None
    ):
        return False
    if int(job.watch_at) > now:
        return False
    attempt = int(job.attempts or 0) + 1
    try:
        _send(job, attempt)
    except Exception:
        try:
            _record_late(job, now, None)
        except Exception:
            log.exception("print job %s: could not mark it missed either", job_id)
        raise
    if not _record_late(job, now, attempt):
        return False
    log.warning(
        "print job %s (order %s, store %s) not acknowledged in time: re-sent as attempt %d, "
        "shown as a missed print",
        job_id,
        job.order_id,
        job.store_id,
        attempt,
    )
    return True


def _record_late(job: PrintJobModel, now: int, sent_attempt: int | None) -> bool:
    """Mark the job missed (if it is not yet) and its order's missed-print flag, and
    record the re-send ``sent_attempt`` if there was one, in one transaction conditioned
    on the job being as read. False if it changed meanwhile (acknowledged, or handled by
    another run) or there was nothing to record."""
    actions: list[Any] = []
    notes = []
    if sent_attempt is not None:
        actions += [
            PrintJobModel.attempts.set(sent_attempt),
            PrintJobModel.sent_at.set(clock.now_iso()),
            PrintJobModel.watch_at.set(now + print_jobs.resend_interval(sent_attempt)),
        ]
        notes.append(
            transitions.entry(
                "resend", "missed", "missed", order_flow.SYSTEM, f"attempt {sent_attempt}"
            )
        )
    if job.status != "missed":
        mv = print_jobs.move(
            job, "miss", order_flow.SYSTEM, "not acknowledged in time", notes_after=notes
        )
        actions, state = [*mv.actions, *actions], mv.condition
    elif notes:  # already missed: the re-send is a note, no state changes
        actions.append(PrintJobModel.history.set(PrintJobModel.history.append(notes)))
        state = PrintJobModel.status == job.status
    else:
        return False
    condition = (
        state
        & (PrintJobModel.attempts == int(job.attempts or 0))
        & (PrintJobModel.watch_at == int(job.watch_at))
    )
    try:
        transact_raw(
            updates={
                "job": print_jobs.update_kwargs(PrintJobModel, job.job_id, actions, condition),
                "order": print_jobs.update_kwargs(
                    OrderModel,
                    job.order_id,
                    print_jobs.flag_order_actions(True),
                    print_jobs.order_exists(),
                ),
            }
        )
    except TransactionCancelled as exc:
        if "job" in exc.failed:
            return False  # acknowledged, or re-sent by another run, meanwhile
        raise
    return True
