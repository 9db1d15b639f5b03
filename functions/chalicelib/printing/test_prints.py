"""Test prints (打印测试): a short slip sent to a store's printer through the normal print
path (a job, the print_jobs stream, dispatch, the store's queue, its relay), so that head
office bringing a new store online sees paper come out, or learns why not.

A test job has no order (``order_id`` is empty): it is never watched nor re-sent by the
watchdog, never listed as a missed print (漏单), and a relay's failure report shows on the
job itself. Its id comes from the caller and the Idempotency-Key, so a retried click
returns the same job and queues nothing more; the audit entry (``print_job.test``) is
keyed by the job and written in the job's transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.audit import service as audit
from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, transact_raw
from chalicelib.kernel import clock
from chalicelib.kernel.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.printing import messages as m
from chalicelib.printing import print_jobs
from chalicelib.printing import schemas as s
from chalicelib.printing.models import PrintJobModel
from chalicelib.printing.relay_models import RelayModel
from chalicelib.stores.models import StoreModel

log = logging.getLogger("daojia.print")

# The same rule as order placing and returns (orders/service.py; http/openapi.py).
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


def job_id_for(principal: Principal, store_id: str, key: str) -> str:
    """The job of one click: the same caller, store and key give the same id."""
    digest = hashlib.sha256(f"{principal.subject}|{store_id}|{key}".encode()).hexdigest()
    return f"test-{store_id}-{digest[:16]}"


def _authorise(principal: Principal, store_id: str) -> None:
    if principal.role == HQ_ADMIN:
        return
    if principal.role == STORE_MANAGER and principal.store_id == store_id:
        return
    raise Forbidden(
        "Only head office and this store's manager can print a test slip.",
        code="other_store" if principal.role == STORE_MANAGER else "role_not_allowed",
        details={"store_id": store_id},
    )


def _relay_to_test(store_id: str, relay_id: str | None) -> RelayModel:
    """The relay named (it must be this store's and active), or the store's newest active
    one; 409 ``no_relay`` when there is none, since nothing would print."""
    from chalicelib.printing.relays import _store_relays

    relays = _store_relays(store_id)
    if relay_id is not None:
        named = [r for r in relays if r.relay_id == relay_id]
        if not named:
            raise NotFound(f"Store {store_id} has no relay {relay_id!r}.", code="relay_not_found")
        if named[0].status != "active":
            raise Conflict(
                f"Relay {named[0].name} ({relay_id}) was revoked: it prints nothing. Issue "
                "a new relay token, or test an active one.",
                code="relay_revoked",
                details={"relay_id": relay_id},
            )
        return named[0]
    active = [r for r in relays if r.status == "active"]
    if not active:
        raise Conflict(
            f"Store {store_id} has no active relay token, so nothing would print. Issue a "
            "relay token on the store page, start daojia-relay on the store PC with it, "
            "then test again. Nothing was queued.",
            code="no_relay",
            details={"store_id": store_id},
        )
    return active[-1]  # oldest first: the newest


def request(
    principal: Principal, store_id: str, body: s.TestPrintRequest, key: str | None
) -> tuple[s.PrintJob, bool]:
    """Queue a test slip for the store; (the job, created). A retry with the same
    Idempotency-Key returns the job of the first request."""
    if not key or not IDEMPOTENCY_KEY.match(key):
        raise BadRequest(
            "Send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.', ':' "
            "(e.g. a UUID), new for each test print and the same on its retries.",
            code="idempotency_key_required",
        )
    _authorise(principal, store_id)
    job_id = job_id_for(principal, store_id, key)
    existing = _load(job_id)
    if existing is not None:
        return print_jobs.view(existing), False
    try:
        StoreModel.get(store_id)
    except StoreModel.DoesNotExist:
        raise NotFound(f"No store {store_id!r}.", code="store_not_found") from None
    relay = _relay_to_test(store_id, body.relay_id)
    job = PrintJobModel(
        job_id,
        store_id=store_id,
        order_id="",
        kind=print_jobs.TEST,
        copies={"test"},
        status="pending",
        created_at=clock.now_iso_ms(),
        requested_by=principal.subject,
        test_relay_id=relay.relay_id,
        test_relay_name=relay.name,
    )
    job.history = [
        transitions.entry("test_print", None, "pending", principal, f"relay {relay.name}")
    ]
    entry = audit.new_entry(
        principal,
        "print_job.test",
        audit.Target("print_job", job_id, store_id),
        {},
        {"job_id": job_id, "relay_id": relay.relay_id, "relay_name": relay.name},
        key=job_id,
    )
    put = job.get_save_kwargs_from_instance(condition=PrintJobModel.job_id.does_not_exist())
    try:
        transact_raw(puts={"job": put, **audit.raw_puts(entry)})
    except TransactionCancelled as exc:
        if "job" not in exc.failed:
            raise
        # the same click's other request won: answer as it did
        return print_jobs.view(print_jobs.get_job(job_id)), False
    log.info("test print %s at %s (relay %s) by %s", job_id, store_id, relay.relay_id, principal)
    return print_jobs.view(job), True


def get(principal: Principal, job_id: str) -> s.PrintJob:
    """One print job: staff of its store and head office (404 otherwise)."""
    job = _load(job_id)
    if job is None or not principal.can_act_for_store(job.store_id):
        raise NotFound(f"No print job {job_id!r}.", code="print_job_not_found")
    return print_jobs.view(job)


def _load(job_id: str) -> PrintJobModel | None:
    try:
        return PrintJobModel.get(job_id, consistent_read=True)
    except PrintJobModel.DoesNotExist:
        return None


def orderless_message(
    job: PrintJobModel, store: StoreModel, attempt: int, kind: Any, copy: Any, **extra: Any
) -> m.PrintJobMessage:
    """The queue message of a job that prints no order (a test slip, a group's picking
    list): the store's facts and the job's, the order fields empty, plus ``extra``."""
    try:
        zone = ZoneInfo(store.timezone)
    except Exception:
        zone = ZoneInfo("Asia/Shanghai")
    day = datetime.fromisoformat(job.created_at.replace("Z", "+00:00")).astimezone(zone)
    return m.PrintJobMessage(
        schema_version=m.SCHEMA_VERSION,
        job_id=job.job_id,
        kind=kind,
        attempt=attempt,
        copies=[copy],
        original_job_id=None,
        store_id=store.store_id,
        store_name=store.name,
        store_phone=store.phone,
        store_timezone=store.timezone,
        order_id="",
        daily_seq=None,
        business_day=day.date().isoformat(),
        fulfilment="pickup",
        created_at=job.created_at,
        paid_at=None,
        lines=[],
        remark=None,
        pickup_code=None,
        delivery=None,
        amounts=m.Amounts(subtotal_fen=0, discount_fen=0, delivery_fee_fen=0, total_fen=0),
        discounts=[],
        cancellation=None,
        **extra,
    )


def message(job: PrintJobModel, store: StoreModel, attempt: int) -> m.PrintJobMessage:
    """The queue message of a test job: the slip's facts, the order fields empty."""
    return orderless_message(
        job,
        store,
        attempt,
        "test",
        "test",
        test=m.TestPrint(
            requested_by=job.requested_by or "",
            relay_id=job.test_relay_id,
            relay_name=job.test_relay_name,
        ),
    )
