"""Bulk changes of store items: one idempotent job with a result for every row.

POST -> rows validated (bad rows get their result at once) -> job record claimed with a
conditional put on an id derived from (caller, Idempotency-Key) -> applied inline (up to
INLINE_ROWS rows) or by the import worker (SQS message on the imports queue, a lease on
the record, progress after each batch), as ERP imports are. Each row is one UpdateItem
conditioned on the values read just before (and on the caller's expected values), so a
concurrent edit is never overwritten: that row is reported as a conflict.

Each applied row records its audit entry (docs/audit.md) in the same transaction as its
write, with an id derived from the job and the row: a row that fails writes no entry, and
a run of the job again (a retry taking it over, a second delivery to the worker) cannot
add a second one; the entry's condition refusing the put also tells that run that the
row was already applied by this job, so a later edit by someone else is not overwritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.catalogue import bulk_rules as rules
from chalicelib.catalogue import schemas as s
from chalicelib.catalogue.models import BulkJobModel, StoreItemModel
from chalicelib.catalogue.rules import RowError
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.db.writes import claim_lease
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.kernel.queues import queue_url, sqs_client

log = logging.getLogger("daojia.bulk")

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
BATCH_ROWS = 100  # rows between two progress updates (and one BatchGetItem)
LEASE_S = 900  # as import_jobs: the worker's Lambda timeout


def job_id_for(principal: Principal, key: str) -> str:
    """The same caller and key always name the same job: the key is claimed by the put."""
    digest = hashlib.sha256(f"{principal.subject}#{key}".encode()).hexdigest()[:24]
    return f"blk-{digest}"


def _hash(body: s.BulkJobCreate) -> str:
    import msgspec

    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


def job_view(job: BulkJobModel) -> s.BulkJob:
    results = [s.BulkRowResult(**r) for r in (job.results or [])]
    count = {k: sum(1 for r in results if r.status == k) for k in ("applied", "unchanged")}
    return s.BulkJob(
        job_id=job.job_id,
        kind=cast(Any, job.kind),
        status=cast(Any, job.status),
        created_by=job.created_by,
        created_at=job.created_at,
        finished_at=job.finished_at,
        total_rows=int(job.total_rows),
        processed_rows=int(job.processed_rows),
        applied=count["applied"],
        unchanged=count["unchanged"],
        rejected=sum(1 for r in results if r.status == "rejected"),
        conflicts=sum(1 for r in results if r.status == "conflict"),
        results=results,
        error=job.error,
    )


def _refused(e: RowError, store_id: str | None = None, sku: str | None = None) -> dict[str, Any]:
    return {
        "row": e.line,
        "store_id": store_id,
        "sku": sku,
        "status": "rejected",
        "field": e.field,
        "reason": e.reason,
    }


# A refused row's result is kept short whatever the row holds (a thousand rows of junk
# must still fit the job item's 400 KB): its first problems, each text bounded.
MAX_ERRORS_SHOWN = 3


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _echo(raw: Any, field: str) -> str | None:
    """A refused row's store or SKU as sent, if it is text (shortened): for the result."""
    value = raw.get(field) if isinstance(raw, dict) else None
    return value[:32] if isinstance(value, str) and value else None


def _copy_rows(body: s.CopyPrices) -> tuple[list[rules.BulkRow], list[dict[str, Any]]]:
    """One row per (target store, SKU) with the source store's price: one batch read."""
    skus = list(dict.fromkeys(body.skus))
    if len(skus) * len(body.to_stores) > rules.MAX_ROWS:
        raise ValidationFailed(
            f"At most {rules.MAX_ROWS} rows per job: split the SKUs or the stores.",
            details=[field_error("copy_prices", f"{len(skus)} SKUs x {len(body.to_stores)}")],
        )
    if body.from_store in body.to_stores:
        raise ValidationFailed(
            "A store cannot copy prices to itself.",
            details=[field_error("copy_prices.to_stores", f"contains {body.from_store}")],
        )
    source = {
        i.sku: int(i.price_fen)
        for i in StoreItemModel.batch_get([(body.from_store, sku) for sku in skus])
    }
    good: list[rules.BulkRow] = []
    refused: list[dict[str, Any]] = []
    n = 0
    for store in dict.fromkeys(body.to_stores):
        for sku in skus:
            if sku in source:
                good.append(rules.BulkRow(n, store, sku, {"price_fen": source[sku]}, {}))
            else:
                reason = f"store {body.from_store} does not sell {sku}"
                refused.append(_refused(RowError(n, "sku", reason), store, sku))
            n += 1
    return good, refused


def create_job(
    principal: Principal, key: str | None, body: s.BulkJobCreate
) -> tuple[s.BulkJob, bool]:
    """The job for (caller, key): created and run, or the one a previous request with
    the same key created (``False``). Nothing is applied twice."""
    if not key or not IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed(
            "Send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.', ':' "
            "(e.g. a UUID), the same on every retry of this change.",
            code="idempotency_key_required",
            details=[field_error("Idempotency-Key", "missing or malformed")],
        )
    if (body.rows is None) == (body.copy_prices is None):
        raise ValidationFailed(
            "Send either rows or copy_prices.",
            details=[field_error("rows", "give rows or copy_prices, not both")],
        )
    job_id = job_id_for(principal, key)
    request_hash = _hash(body)
    existing = _get(job_id)
    if existing is not None:
        return _replay(existing, request_hash), False
    if body.copy_prices is not None:
        if not principal.is_hq:
            raise Forbidden("Prices are set by head office.", code="field_not_allowed")
        kind = "copy_prices"
        good, refused = _copy_rows(body.copy_prices)
    else:
        kind = "store_items"
        good, errors = rules.parse_rows(body.rows or [])
        raws = body.rows or []
        by_row: dict[int, list[RowError]] = {}
        for e in errors:
            by_row.setdefault(e.line, []).append(e)
        refused = [
            _refused(
                RowError(
                    n,
                    _short(", ".join(e.field for e in errs[:MAX_ERRORS_SHOWN]), 60),
                    _short(
                        "; ".join(f"{e.field}: {e.reason}" for e in errs[:MAX_ERRORS_SHOWN])
                        if len(errs) > 1
                        else errs[0].reason,
                        160,
                    ),
                ),
                _echo(raws[n], "store_id"),
                _echo(raws[n], "sku"),
            )
            for n, errs in by_row.items()
        ]
    if not principal.is_hq:
        if principal.role != STORE_MANAGER:  # the route lets only these two in
            raise Forbidden("Bulk changes are for store managers and head office.")
        other = sorted({r.store_id for r in good if r.store_id != principal.store_id})
        if other:
            raise Forbidden(
                "Your account belongs to another store: a bulk change may name only "
                f"{principal.store_id}.",
                code="other_store",
                details={"stores": other[:10]},
            )
        priced = [r.row for r in good if "price_fen" in r.changes]
        if priced:
            raise Forbidden(
                "Prices are set by head office; send stock and on_sale only.",
                code="field_not_allowed",
                details={"fields": ["price_fen"], "rows": priced[:20]},
            )
    total = len(good) + len(refused)
    inline = len(good) <= rules.INLINE_ROWS
    job = BulkJobModel(
        job_id,
        kind=kind,
        status="running" if inline else "queued",
        lease_until=int(time.time() + LEASE_S) if inline else 0,
        request_hash=request_hash,
        scope_store=None if principal.role == HQ_ADMIN else principal.store_id,
        created_by=principal.subject,
        created_at=clock.now_iso_ms(),
        total_rows=total,
        processed_rows=len(refused),
        rows=[r.to_record() for r in good],
        results=sorted(refused, key=lambda r: r["row"]),
    )
    try:
        job.save(condition=BulkJobModel.job_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        # Another request with this key got there first (a concurrent retry): its job.
        winner = _get(job_id)
        assert winner is not None
        return _replay(winner, request_hash), False
    if inline:
        _run(job)
    else:
        sqs_client().send_message(
            QueueUrl=queue_url("imports"), MessageBody=json.dumps({"bulk_job_id": job_id})
        )
    return job_view(job), True


def _replay(job: BulkJobModel, request_hash: str) -> s.BulkJob:
    """The job a request with this key made. A job left running by a request that died
    (its lease ran out; queued jobs are the worker's) is taken over and finished: the
    retry the client makes after an error is what completes it."""
    if job.request_hash != request_hash:
        raise ValidationFailed(
            "This Idempotency-Key was used for another bulk change; use a new key.",
            code="idempotency_key_reused",
            details=[field_error("Idempotency-Key", "used with another body")],
        )
    if job.status == "running" and int(job.lease_until) < time.time():
        return process_job(job.job_id) or job_view(job)
    return job_view(job)


def _get(job_id: str) -> BulkJobModel | None:
    try:
        job = BulkJobModel.get(job_id, consistent_read=True)
    except DoesNotExist:
        return None
    return job


def get_job(principal: Principal, job_id: str) -> s.BulkJob:
    """Head office sees every job; a store manager the jobs of their store."""
    job = _get(job_id) if job_id.startswith("blk-") else None
    if job is None or not (principal.is_hq or job.scope_store == principal.store_id):
        raise NotFound(f"No bulk job {job_id!r}.", code="bulk_job_not_found")
    return job_view(job)


def handle_message(body: dict[str, Any]) -> None:
    """A queued job's message, from the imports worker."""
    process_job(str(body["bulk_job_id"]))


def process_job(job_id: str) -> s.BulkJob | None:
    """Apply a queued job; safe to run again (a row already applied is ``unchanged``)."""
    job = _get(job_id)
    if job is None:
        log.error("bulk %s: no such job; message dropped", job_id)
        return None
    if job.status in ("succeeded", "failed"):
        return job_view(job)
    if not claim_lease(job, LEASE_S):
        log.warning("bulk %s: another worker holds it; this delivery is dropped", job_id)
        return job_view(job)
    _run(job)
    return job_view(job)


@dataclass(frozen=True)
class JobAudit:
    """Who a job's rows are recorded as changed by, under which action."""

    job_id: str
    principal: Principal
    action: str

    @classmethod
    def of(cls, job: BulkJobModel) -> JobAudit:
        # Only head office and store managers create jobs (create_job), and a manager's
        # job is scoped to their store: the job's creator and scope say who and in what
        # role, also for the worker that applies a queued job later.
        role = HQ_ADMIN if job.scope_store is None else STORE_MANAGER
        action = "store_item.copy_price" if job.kind == "copy_prices" else "store_item.bulk_update"
        return cls(job.job_id, Principal(job.created_by, role, job.scope_store), action)


def _run(job: BulkJobModel) -> None:
    """Apply the job's rows in batches, saving results and progress after each."""
    by = JobAudit.of(job)
    rows = [rules.BulkRow.from_record(r) for r in (job.rows or [])]
    done = {int(r["row"]) for r in (job.results or [])}
    todo = [r for r in rows if r.row not in done]  # a taken-over job skips finished rows
    results = list(job.results or [])
    try:
        for start in range(0, len(todo), BATCH_ROWS):
            batch = todo[start : start + BATCH_ROWS]
            results += apply_rows(by, batch)
            job.update(
                actions=[
                    BulkJobModel.results.set(sorted(results, key=lambda r: r["row"])),
                    BulkJobModel.processed_rows.set(len(results)),
                ]
            )
    except Exception as exc:  # recorded for the admin, then re-raised for the logs
        _finish(job, "failed", error=f"stopped after {len(results)} rows: {type(exc).__name__}")
        raise
    _finish(job, "succeeded")


def _finish(job: BulkJobModel, status: str, error: str | None = None) -> None:
    job.update(
        actions=[
            BulkJobModel.status.set(status),
            BulkJobModel.finished_at.set(clock.now_iso_ms()),
            BulkJobModel.rows.set([]),  # applied: the results say what happened
            BulkJobModel.error.set(error) if error else BulkJobModel.error.remove(),
        ]
    )
    log.info("bulk %s %s", job.job_id, status)


def apply_rows(by: JobAudit, rows: list[rules.BulkRow]) -> list[dict[str, Any]]:
    """One result per row: one batch read, then one transaction per row to write (the
    conditional update and its audit entry). The condition is the values just read, so
    an edit made in between (by a person or another job) makes the row a conflict
    instead of being overwritten."""
    current = {
        (i.store_id, i.sku): i
        for i in StoreItemModel.batch_get([(r.store_id, r.sku) for r in rows], consistent_read=True)
    }
    out = []
    for row in rows:
        item = current.get((row.store_id, row.sku))
        values = _values(item) if item is not None else None
        decided = rules.outcome(row, values)
        base = {"row": row.row, "store_id": row.store_id, "sku": row.sku}
        if decided is not None:
            status, field, reason = decided
            out.append({**base, "status": status, "field": field or None, "reason": reason or None})
            continue
        assert item is not None and values is not None
        out.append({**base, **_write(by, item, row, values)})
    return out


def _values(item: StoreItemModel) -> dict[str, Any]:
    return {
        "price_fen": int(item.price_fen),
        "stock": int(item.stock),
        "on_sale": bool(item.on_sale),
    }


def _write(
    by: JobAudit, item: StoreItemModel, row: rules.BulkRow, seen: dict[str, Any]
) -> dict[str, Any]:
    m = StoreItemModel
    actions = [getattr(m, f).set(v) for f, v in row.changes.items()]
    actions.append(m.updated_at.set(clock.now_iso()))
    condition = m.sku.exists()
    for field in row.changes:
        condition &= getattr(m, field) == seen[field]
    entry = audit.new_entry(
        by.principal,
        by.action,
        audit.Target("store_item", f"{row.store_id}/{row.sku}", row.store_id),
        {f: seen[f] for f in row.changes},
        row.changes,
        key=f"{by.job_id}#{row.row}",  # one entry per job and row, however often it runs
    )

    def write(tx: Tx) -> None:
        tx.update(
            StoreItemModel(row.store_id, row.sku),
            actions=actions,
            condition=condition,
            label="item",
        )
        audit.with_entry(tx, entry)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "audit" in exc.failed:
            # This job's entry for the row exists: an earlier run applied the row (and
            # died before saving its result). What the item holds now is someone else's.
            return {"status": "applied", "field": None, "reason": None}
        if "item" not in exc.failed:
            raise
        field = next(iter(row.changes))
        return {
            "status": "conflict",
            "field": field,
            "reason": "changed by someone else while this job ran; reload and try again",
        }
    return {"status": "applied", "field": None, "reason": None}
