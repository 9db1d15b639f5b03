"""Print jobs: created in the same transaction as the order change that needs a ticket
(the paid ticket: named by the payment's update, put right after it, orders/payments.py),
then dispatched to the store's queue (printing/dispatch.py), acknowledged copy by
copy by the relay, re-sent and shown as missed (漏单) by the watchdog when late.

This module holds the job's own rules and writes: creating a job, acknowledging a copy,
the order's missed-print flag, reprints, and the views the API returns.

The order's ``missed_print`` flag is written with plain UpdateItem/transaction operations
that leave the order's version alone: it is a flag beside the order's state, and bumping
the version would make a picker's concurrent "start picking" fail with 409 for nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.models import Model

from chalicelib.audit import service as audit
from chalicelib.audit.models import AuditEntryModel
from chalicelib.auth.principal import RELAY, STAFF_ROLES, Principal, require_store_access
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, batch_get, transact_raw
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.kernel.states import PAID_STATES, PRINT_JOB
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel
from chalicelib.orders.schemas import history_view
from chalicelib.printing import schemas as s
from chalicelib.printing.models import PrintJobModel

log = logging.getLogger("daojia.print")

# A job not acknowledged this long after payment (its creation) is re-sent and shown as
# missed (漏单); 30 s by default, so that it shows within a minute (print_watchdog.py).
ACK_WITHIN_S = config.PRINT_ACK_WITHIN_S
RESEND_INTERVAL_S = 2 * ACK_WITHIN_S  # then re-sent this often (60 s), backing off ...
MAX_RESEND_INTERVAL_S = 600  # ... to this (a printer off for hours)
ORDER_COPIES = frozenset({"picking", "delivery"})
COPY_ORDER = ("picking", "delivery", "slip", "test")  # how copies are listed and printed
UNACKED = "unacked"  # value of the sparse by_watch index key while a job awaits its ack
# States that GET /admin/print-jobs lists, i.e. that hold the sparse by_store_status key.
# The normal path (pending -> sent -> printed) stays out of the index: no index writes.
LISTED_STATUSES = ("missed", "resolved")
TEST = "test"  # kind of a test print (test_prints.py): no order behind it
# kinds with no order behind them (pick_lists.py: a group's consolidated picking list):
# never watched, re-sent nor listed as missed
ORDERLESS = frozenset({TEST, "group_pick_list"})


def move(
    job: PrintJobModel, action: str, actor: transitions.Actor, reason: str | None = None, **kw: Any
) -> transitions.Move:
    """The transition writer's ``move`` for one step of ``job`` (as read), conditioned on
    the job still being in the state read, plus the by_store_status key (index_actions).
    ``kw``: notes and the like (db/transitions.py)."""
    m = transitions.move(
        PrintJobModel,
        PRINT_JOB,
        job.status,
        [(action, reason)],
        actor,
        exact=True,
        stamp=None,
        **kw,
    )
    return transitions.Move(m.to, [*m.actions, *index_actions(job, m.to)], m.condition)


def index_actions(job: PrintJobModel, to: str) -> list[Any]:
    """Update actions for the by_store_status key of ``job`` (as read) moving to status
    ``to``: set in a listed state, removed on leaving one."""
    actions: list[Any] = []
    if job.kind in ORDERLESS:
        return actions  # a test print is no 漏单: never listed (its page shows its state)
    if to in LISTED_STATUSES:
        actions.append(PrintJobModel.store_status.set(f"{job.store_id}#{to}"))
    elif job.store_status is not None or job.status in LISTED_STATUSES:
        actions.append(PrintJobModel.store_status.remove())
    return actions


def resend_interval(attempts: int) -> int:
    """Seconds to wait for an ack after re-send number ``attempts``: 60 s for the first
    re-sends, then doubling to at most 10 minutes. (The first send waits only for what is
    left of ``ACK_WITHIN_S`` after payment.)"""
    return min(RESEND_INTERVAL_S * 2 ** max(attempts - 2, 0), MAX_RESEND_INTERVAL_S)


def sorted_copies(copies: Iterable[str]) -> list[s.Copy]:
    # A job's columns hold only what the API or the order wrote, checked on the way in:
    # the str values read are the schemas' literals (cast here and in the views).
    return cast(
        list[s.Copy], sorted(copies, key=lambda c: COPY_ORDER.index(c) if c in COPY_ORDER else 99)
    )


def _job_number(job_id: str) -> int:
    try:
        return int(job_id.rsplit("-p", 1)[1])
    except (IndexError, ValueError):
        return 0


def first_job_id(order: OrderModel) -> str | None:
    """The order's first job: the ticket printed when it was paid."""
    ids = sorted(order.print_job_ids or (), key=_job_number)
    return ids[0] if ids else None


def paid_ticket_id(order_id: str) -> str:
    """The id of the ticket printed when the order is paid: its first job, named from the
    order alone, so that the payment's write can name it before the job exists and a
    retried notification names the same job."""
    return f"{order_id}-p1"


def new_job(
    order: OrderModel,
    kind: str,
    copies: set[str],
    original_job_id: str | None = None,
    job_id: str | None = None,
) -> PrintJobModel:
    """A pending job for the order's store. ``kind``: order | reprint | cancellation.
    ``job_id``: given when the order already names the job (the paid ticket).

    Reprints and cancellation slips point at the order's first ticket unless told
    otherwise, so the relay and head office can tell which ticket they belong to."""
    n = len(order.print_job_ids or ()) + 1
    if original_job_id is None and kind != "order":
        original_job_id = first_job_id(order)
    return PrintJobModel(
        job_id or f"{order.order_id}-p{n}",
        store_id=order.store_id,
        order_id=order.order_id,
        kind=kind,
        copies=copies,
        status="pending",
        watch=UNACKED,
        watch_at=int(time.time()) + ACK_WITHIN_S,
        original_job_id=original_job_id,
        created_at=clock.now_iso_ms(),
    )


def add_to_order(job: PrintJobModel) -> list:
    """Order update actions that remember the job."""
    return [OrderModel.print_job_ids.add({job.job_id})]


def get_job(job_id: str) -> PrintJobModel:
    """The job, or 404."""
    try:
        return PrintJobModel.get(job_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No print job {job_id!r}.", code="print_job_not_found") from None


# --- raw writes (no version bump on the order) -------------------------------------------


def update_kwargs(model: type[Model], key: str, actions: list[Any], condition: Any = None) -> dict:
    """The TransactWriteItems ``Update`` element for ``model``'s item ``key``."""
    return model._get_connection().get_operation_kwargs(key, actions=actions, condition=condition)


def check_kwargs(model: type[Model], key: str, condition: Any) -> dict:
    """The TransactWriteItems ``ConditionCheck`` element for ``model``'s item ``key``."""
    return model._get_connection().get_operation_kwargs(key, condition=condition)


def flag_order_actions(missed: bool) -> list[Any]:
    return [OrderModel.missed_print.set(missed)]


def order_exists() -> Any:
    return OrderModel.order_id.exists()


def clear_missed_if_resolved(order_id: str) -> bool:
    """Clear the order's missed-print flag if none of its jobs is missed. The check and
    the write are one transaction, so a job the watchdog marks missed at the same moment
    keeps the flag set. Returns True when the flag was cleared."""
    try:
        order = OrderModel.get(order_id, consistent_read=True)
    except DoesNotExist:
        return False
    if not order.missed_print:
        return False
    checks = {
        f"job:{job_id}": check_kwargs(PrintJobModel, job_id, PrintJobModel.status != "missed")
        for job_id in sorted(order.print_job_ids or ())
    }
    try:
        transact_raw(
            checks=checks,
            updates={
                "order": update_kwargs(
                    OrderModel, order_id, flag_order_actions(False), order_exists()
                )
            },
        )
    except TransactionCancelled as exc:
        if exc.failed:
            return False  # another of its jobs is still missed
        raise
    return True


# --- acknowledgements --------------------------------------------------------------------


def _job_and_relay(job_id: str, principal: Principal) -> PrintJobModel:
    """The job and the caller's relay record in one BatchGetItem; 401 for a revoked relay
    token, 404 for an unknown job, 403 for another store's job."""
    from chalicelib.printing import relays
    from chalicelib.printing.relay_models import RelayModel

    if principal.role != RELAY:
        raise Forbidden("Only a print relay acknowledges prints.", code="forbidden_role")
    found = batch_get(
        {PrintJobModel: [{"job_id": job_id}], RelayModel: [{"relay_id": principal.subject}]}
    )
    relays.check_relay(principal, next(iter(found[RelayModel]), None))
    if not found[PrintJobModel]:
        raise NotFound(f"No print job {job_id!r}.", code="print_job_not_found")
    job = found[PrintJobModel][0]
    if principal.store_id != job.store_id:
        raise Forbidden(
            "This relay belongs to another store.",
            code="other_store",
            details={"store_id": job.store_id},
        )
    return job


def _copy_acks(body: s.AckRequest) -> list[s.CopyAck]:
    """The copies an acknowledgement names: ``copies``, or the single-copy form (``copy``
    with its ``printer`` and ``reprinted``); 422 for neither, both, or a copy named twice."""
    if body.copies is not None and (body.copy is not None or body.printer or body.reprinted):
        raise ValidationFailed(
            "Name the printed copies in copies, or one copy in copy, not both.",
            details=[field_error("copy", "not with copies (printer and reprinted go per copy)")],
        )
    if body.copies is None:
        if body.copy is None:
            raise ValidationFailed(
                "Name the printed copies in copies (or one copy in copy).",
                details=[field_error("copies", "required")],
            )
        return [s.CopyAck(copy=body.copy, printer=body.printer, reprinted=body.reprinted)]
    seen = [a.copy for a in body.copies]
    twice = sorted({c for c in seen if seen.count(c) > 1})
    if twice:
        raise ValidationFailed(
            f"Each copy once: {', '.join(twice)} is named twice.",
            details=[field_error("copies", f"{c} named twice") for c in twice],
        )
    return body.copies


def acknowledge(principal: Principal, job_id: str, body: s.AckRequest) -> s.PrintJob:
    """The relay printed these copies (one request for every copy of a job it printed,
    or one copy alone). One conditional write records them, and makes the job printed
    when they complete it. Idempotent: a copy acknowledged again changes nothing, so a
    retried request answers as the first did. The order's missed-print flag clears once
    none of its jobs is missed."""
    acks = _copy_acks(body)
    job = _job_and_relay(job_id, principal)
    unknown = [a.copy for a in acks if a.copy not in job.copies]
    if unknown:
        field = "copy" if body.copies is None else "copies"
        raise ValidationFailed(
            f"Job {job_id} has no {', '.join(unknown)} copy.",
            code="copy_not_in_job",
            details=[
                field_error(field, f"one of {', '.join(sorted_copies(job.copies))}")
                for _ in unknown
            ],
        )
    for _ in range(3):
        acked = set(job.acked_copies or ())
        new = [a for a in acks if a.copy not in acked]
        if not new:
            break
        if _record_acks(job, principal, acked, new):
            break
        job = get_job(job_id)  # acknowledged, missed or resolved at the same moment: again
    else:
        raise Conflict("The job changed at the same time; retry.", code="print_job_changed")
    if job.status != "printed" and set(job.copies) <= set(job.acked_copies or ()):
        _mark_printed(job, principal)
    if job.status == "printed" and _was_missed(job) and job.order_id:
        # Only a job that was missed can be the last missed job of its order.
        clear_missed_if_resolved(job.order_id)
    return view(job)


def _record_acks(
    job: PrintJobModel, principal: Principal, acked: set[str], new: list[s.CopyAck]
) -> bool:
    """Add the ``new`` copies to the job (as read, with ``acked`` already acknowledged) in
    one write, conditioned on the job being as read; printed too when they complete it.
    ``job`` then holds the new item. False when the job changed meanwhile."""
    entries = [
        transitions.entry(
            "ack",
            job.status,
            job.status,
            principal,
            a.copy + (f" on {a.printer}" if a.printer else "") + (" (补打)" if a.reprinted else ""),
        )
        for a in new
    ]
    copies = {a.copy for a in new}
    if job.status in PRINT_JOB.transitions["print"][0] and set(job.copies) <= acked | copies:
        # the last copies: acknowledged and printed in one write, in the state read
        printed = _printed(job, principal, entries, exact=True)
        actions = [PrintJobModel.acked_copies.add(copies), *printed.actions]
        condition = printed.condition
    else:  # notes alone: the state does not change
        actions = [
            PrintJobModel.acked_copies.add(copies),
            PrintJobModel.history.set(PrintJobModel.history.append(entries)),
        ]
        condition = PrintJobModel.status == job.status
    for copy in sorted(copies):
        condition &= ~PrintJobModel.acked_copies.contains(copy)
    for other in sorted(acked):
        condition &= PrintJobModel.acked_copies.contains(other)
    try:
        job.update(actions=actions, condition=condition)  # loads the new item
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def _was_missed(job: PrintJobModel) -> bool:
    return any(h.to_state == "missed" for h in job.history or [])


def report_failure(principal: Principal, job_id: str, body: s.FailureReport) -> s.PrintJob:
    """The relay cannot print the job (it cannot render it, or the message keeps failing
    and is going to the dead-letter queue). The job is shown as missed at once, with the
    relay's reason in its history, instead of waiting for the watchdog."""
    job = _job_and_relay(job_id, principal)
    reason = f"{body.reason} after {body.receive_count} receives: {body.message}"[:300]
    for _ in range(3):
        # A job already missed, printed, or resolved by staff only gets the history entry.
        if job.status in ("missed", "printed", "resolved"):  # a note: no state changes
            to = job.status
            note = transitions.entry("relay_failure", to, to, principal, reason)
            actions = [PrintJobModel.history.set(PrintJobModel.history.append([note]))]
            condition = PrintJobModel.status == job.status
        else:  # missed, recorded as the relay's failure
            m = move(job, "miss", principal, reason, recorded_as="relay_failure")
            to, actions, condition = m.to, m.actions, m.condition
        updates = {"job": update_kwargs(PrintJobModel, job_id, actions, condition)}
        if to == "missed" and job.order_id:
            updates["order"] = update_kwargs(
                OrderModel, job.order_id, flag_order_actions(True), order_exists()
            )
        try:
            transact_raw(updates=updates)
        except TransactionCancelled as exc:
            if "job" in exc.failed:
                job = get_job(job_id)  # acknowledged or marked missed meanwhile: look again
                continue
            raise
        log.error("print job %s of store %s failed at the relay: %s", job_id, job.store_id, reason)
        return view(get_job(job_id))
    raise Conflict("The job changed at the same time; retry.", code="print_job_changed")


def _printed(
    job: PrintJobModel, principal: Principal, entries: list[Any], *, exact: bool
) -> transitions.Move:
    """The move that makes ``job`` printed, recording ``entries`` (notes) first; ``exact``:
    conditioned on the state read rather than on any state it may be printed from."""
    m = transitions.move(
        PrintJobModel,
        PRINT_JOB,
        job.status,
        [("print", None)],
        principal,
        exact=exact,
        stamp="printed_at",
        notes_before=entries,
    )
    extra = [
        # Always: _mark_printed's condition accepts any source state, so the job may be
        # missed (listed) although it was read as sent. Removing an absent key is no write.
        PrintJobModel.store_status.remove(),
        PrintJobModel.watch.remove(),
        PrintJobModel.watch_at.remove(),
    ]
    return transitions.Move(m.to, [*m.actions, *extra], m.condition)


def _mark_printed(job: PrintJobModel, principal: Principal) -> None:
    printed = _printed(job, principal, [], exact=False)
    try:
        job.update(actions=printed.actions, condition=printed.condition)
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        # The other copy's acknowledgement printed it at the same moment.
        job.refresh(consistent_read=True)


# --- reprint -----------------------------------------------------------------------------


def reprint(principal: Principal, order_id: str, body: s.ReprintRequest) -> s.PrintJob:
    """An explicit reprint of the order's ticket: a new job of kind "reprint", written in
    one transaction with the order's list of jobs."""
    copies = set(body.copies or ORDER_COPIES)
    for attempt in range(3):
        order = _store_order(principal, order_id)
        if order.status not in PAID_STATES:
            raise Conflict(
                f"Only paid orders print; this order is {order.status.replace('_', ' ')}.",
                code="order_not_printable",
                details={"status": order.status},
            )
        job = new_job(order, "reprint", copies)
        job.history = [transitions.entry("reprint", None, "pending", principal, body.reason)]
        order_update = update_kwargs(
            OrderModel,
            order_id,
            add_to_order(job),
            OrderModel.status.is_in(*PAID_STATES),
        )
        put = job.get_save_kwargs_from_instance(condition=PrintJobModel.job_id.does_not_exist())
        entry = audit.new_entry(
            principal,
            "print_job.reprint",
            audit.Target("order", order_id, order.store_id),
            {},
            {"job_id": job.job_id, "copies": sorted(copies), "reason": body.reason},
            key=job.job_id,
        )
        try:
            transact_raw(
                puts={"job": put, **audit.raw_puts(entry)}, updates={"order": order_update}
            )
        except TransactionCancelled as exc:
            if exc.failed and attempt < 2:
                continue  # another reprint took the number, or the order moved: look again
            raise
        log.info("reprint %s of order %s (%s) by %s", job.job_id, order_id, copies, principal)
        return view(job)
    raise Conflict("The order changed at the same time; retry.", code="order_changed")


# --- resolving a missed print ------------------------------------------------------------


def resolve(principal: Principal, job_id: str, body: s.ResolveRequest) -> s.PrintJob:
    """missed -> resolved: staff dealt with the order without this ticket and say how.
    The job leaves the watchdog's index (no more re-sends) and the missed list; the order's
    missed-print flag is cleared in the same transaction unless another of its jobs is
    still missed. A relay that prints the job later still acknowledges it (-> printed)."""
    for _ in range(3):
        job = get_job(job_id)
        if not (
            principal.is_hq
            or (principal.role in STAFF_ROLES and principal.store_id == job.store_id)
        ):
            raise NotFound(f"No print job {job_id!r}.", code="print_job_not_found")
        m = move(job, "resolve", principal, body.reason)  # 409 unless missed
        job_update = update_kwargs(
            PrintJobModel,
            job_id,
            [*m.actions, PrintJobModel.watch.remove(), PrintJobModel.watch_at.remove()],
            m.condition,
        )
        entry = audit.new_entry(
            principal,
            "print_job.resolve",
            audit.Target("print_job", job_id, job.store_id),
            {"status": job.status},
            {"status": "resolved", "reason": body.reason},
            key="resolve",  # a job is resolved once (the move's condition)
        )
        if _resolve_with_flag(job, job_update, entry):
            break
        try:
            # another job of the order is missed: the flag stays
            transact_raw(updates={"job": job_update}, puts=audit.raw_puts(entry))
            break
        except TransactionCancelled as exc:
            if not exc.failed:
                raise
            # printed or resolved at the same moment: look again
    else:
        raise Conflict("The job changed at the same time; retry.", code="print_job_changed")
    log.warning(
        "print job %s of store %s resolved by %s: %s", job_id, job.store_id, principal, body.reason
    )
    return view(get_job(job_id))


def _resolve_with_flag(job: PrintJobModel, job_update: dict, entry: AuditEntryModel | None) -> bool:
    """Resolve the job and clear its order's missed-print flag in one transaction, on
    condition that none of the order's other jobs is missed. False when that transaction
    was refused (another job missed, or this one changed): the caller decides."""
    if not job.order_id:
        return False  # a test print: no order flag to clear
    try:
        order = OrderModel.get(
            job.order_id, consistent_read=True, attributes_to_get=["order_id", "print_job_ids"]
        )
    except DoesNotExist:
        return False
    checks = {
        f"job:{other}": check_kwargs(PrintJobModel, other, PrintJobModel.status != "missed")
        for other in sorted(set(order.print_job_ids or ()) - {job.job_id})
    }
    flag = update_kwargs(OrderModel, job.order_id, flag_order_actions(False), order_exists())
    try:
        transact_raw(
            updates={"job": job_update, "order": flag}, checks=checks, puts=audit.raw_puts(entry)
        )
    except TransactionCancelled as exc:
        if exc.failed:
            return False
        raise
    return True


# --- reads -------------------------------------------------------------------------------


def _store_order(principal: Principal, order_id: str) -> OrderModel:
    """The order if ``principal`` works for its store or for head office; 404 otherwise
    (order ids are not probed across stores, as in the store workflow)."""
    order = order_flow.get(order_id)
    if principal.is_hq or (principal.role in STAFF_ROLES and principal.store_id == order.store_id):
        return order
    raise NotFound(f"No order {order_id!r}.", code="order_not_found")


def view(job: PrintJobModel) -> s.PrintJob:
    """The API's view of a job."""
    return s.PrintJob(
        job_id=job.job_id,
        store_id=job.store_id,
        order_id=job.order_id,
        kind=cast(Any, job.kind),
        copies=sorted_copies(job.copies),
        acked_copies=sorted_copies(job.acked_copies or ()),
        status=cast(s.JobStatus, job.status),
        attempts=int(job.attempts or 0),
        original_job_id=job.original_job_id,
        created_at=job.created_at,
        sent_at=job.sent_at,
        printed_at=job.printed_at,
        next_check_at=_iso_epoch(job.watch_at),
        history=history_view(job.history or []),
    )


def _iso_epoch(epoch: Any) -> str | None:
    if epoch is None:
        return None
    return clock.iso(datetime.fromtimestamp(int(epoch), UTC))


def order_jobs(principal: Principal, order_id: str) -> s.PrintJobList:
    """Every print job of an order, oldest first (staff of its store, head office)."""
    order = _store_order(principal, order_id)
    ids = sorted(order.print_job_ids or (), key=_job_number)
    jobs = _load_jobs(ids)
    return s.PrintJobList(items=[view(j) for j in sorted(jobs, key=lambda j: j.created_at)])


def _load_jobs(ids: list[str]) -> list[PrintJobModel]:
    out: list[PrintJobModel] = []
    for i in range(0, len(ids), 100):
        chunk = ids[i : i + 100]
        got = batch_get({PrintJobModel: [{"job_id": j} for j in chunk]})
        out.extend(got[PrintJobModel])
    return out


def _stores_of(principal: Principal, store_id: str | None) -> list[str]:
    if store_id is not None:
        require_store_access(principal, store_id)
        return [store_id]
    if principal.is_hq:
        from chalicelib.stores.models import StoreModel

        return [st.store_id for st in StoreModel.by_listing.query("stores")]
    return [principal.store_id or ""]


def list_jobs(principal: Principal, query: s.PrintJobQuery) -> s.PrintJobPage:
    """Jobs in one listed status (missed prints by default, or resolved), oldest first,
    with the order's daily number and the job's age. Head office without a store sees
    every store: one query of the sparse by_store_status index per store (keys only),
    then the page's jobs by key; never a scan."""
    now = time.time()
    keys: list[PrintJobModel] = []
    truncated = False
    for store in _stores_of(principal, query.store_id):
        got = list(
            PrintJobModel.by_store_status.query(
                f"{store}#{query.status}",
                scan_index_forward=True,
                limit=query.limit + 1,
                page_size=query.limit + 1,
            )
        )
        truncated = truncated or len(got) > query.limit
        keys.extend(got[: query.limit])
    keys.sort(key=lambda j: j.created_at)
    truncated = truncated or len(keys) > query.limit
    # The index is eventually consistent: a job printed a moment ago may still be in it.
    jobs = _load_jobs([k.job_id for k in keys[: query.limit]])
    jobs = [j for j in jobs if j.status == query.status]
    jobs.sort(key=lambda j: j.created_at)
    seqs = _daily_seqs({j.order_id for j in jobs})
    return s.PrintJobPage(
        items=[
            s.PrintJobListItem(
                **{f: getattr(view(j), f) for f in s.PrintJob.__struct_fields__},
                daily_seq=seqs.get(j.order_id),
                age_s=_age(now, j.created_at),
            )
            for j in jobs
        ],
        truncated=truncated,
    )


def _age(now: float, iso: str) -> int:
    return max(0, int(now - clock.parse(iso).timestamp()))


def _daily_seqs(order_ids: set[str]) -> dict[str, int | None]:
    ids = sorted(order_ids)
    out: dict[str, int | None] = {}
    for i in range(0, len(ids), 100):
        got = batch_get({OrderModel: [{"order_id": o} for o in ids[i : i + 100]]})
        for order in got[OrderModel]:
            seq = order.daily_seq
            out[order.order_id] = None if seq is None else int(seq)
    return out
