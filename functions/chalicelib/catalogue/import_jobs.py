"""ERP import jobs: upload -> S3 object + job record + SQS message -> worker -> report.

The upload returns at once (202) and the worker applies the rows in batches, writing
progress to the job record after each batch, so the admin site and the CLI can show a
progress bar and, at the end, every rejected row with its line, field and reason.
"""

from __future__ import annotations

import json
import logging
import uuid
from functools import lru_cache
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.catalogue import rules
from chalicelib.catalogue import schemas as s
from chalicelib.catalogue.imports import ApplyResult, apply_products, apply_store_items
from chalicelib.catalogue.models import ImportJobModel
from chalicelib.db.transactions import transact
from chalicelib.db.writes import claim_lease
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import NotFound, ValidationFailed, field_error
from chalicelib.kernel.queues import queue_url, sqs_client

log = logging.getLogger("daojia.imports")

BATCH_ROWS = 500  # rows applied between two progress updates
MAX_REPORTED_REJECTIONS = 1000
MAX_UPLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
LEASE_S = 900  # the worker's Lambda timeout: a lease outlives any one attempt


@lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3

    return boto3.client("s3", region_name=config.REGION)


def file_format(content_type: str | None) -> str:
    """'csv' or 'json' from the request's Content-Type."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/csv", "application/csv"):
        return "csv"
    if ct == "application/json":
        return "json"
    raise ValidationFailed(
        "Send the file as text/csv or application/json.",
        details=[
            field_error("Content-Type", f"{ct or 'missing'} is not text/csv or application/json")
        ],
    )


def job_view(job: ImportJobModel) -> s.ImportJob:
    return s.ImportJob(
        job_id=job.job_id,
        kind=job.kind,
        file_format=job.file_format,
        status=cast(Any, job.status),  # written by this module: the schema's literals
        created_by=job.created_by,
        created_at=job.created_at,
        finished_at=job.finished_at,
        total_rows=int(job.total_rows),
        processed_rows=int(job.processed_rows),
        created=int(job.created),
        updated=int(job.updated),
        unchanged=int(job.unchanged),
        rejected=int(job.rejected),
        rejected_rows=[s.RejectedRow(**r) for r in (job.rejected_rows or [])],
        error=job.error,
    )


def create_job(
    kind: str, content_type: str | None, data: bytes | None, principal: Principal
) -> s.ImportJob:
    """Store the uploaded file and queue its import."""
    fmt = file_format(content_type)
    if not data:
        raise ValidationFailed("The file is empty.", details=[field_error("(body)", "empty file")])
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(
            "The file is larger than 6 MiB; split it (the daojia-import CLI does this for you).",
            details=[field_error("(body)", f"{len(data)} bytes")],
        )
    job_id = f"imp-{clock.now().strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    key = f"erp/{job_id}.{fmt}"
    _s3().put_object(Bucket=config.bucket_name("imports"), Key=key, Body=data)
    job = ImportJobModel(
        job_id,
        kind=kind,
        file_format=fmt,
        status="queued",
        object_key=key,
        created_by=principal.subject,
        created_at=clock.now_iso_ms(),
    )
    entry = audit.new_entry(
        principal,
        "import.start",
        audit.Target("import", job_id),
        {},
        {"kind": kind, "file_format": fmt, "bytes": len(data), "object_key": key},
    )
    # The job and its audit entry in one transaction (the job id is new on every upload).
    transact(lambda tx: audit.with_entry(tx, entry, tx.save(job, label="job")))
    sqs_client().send_message(
        QueueUrl=queue_url("imports"), MessageBody=json.dumps({"job_id": job_id})
    )
    return job_view(job)


def get_job(job_id: str) -> s.ImportJob:
    try:
        return job_view(ImportJobModel.get(job_id, consistent_read=True))
    except DoesNotExist:
        raise NotFound(f"No import {job_id!r}.", code="import_not_found") from None


def list_jobs(limit: int = 50) -> s.ImportList:
    """Newest first."""
    jobs = ImportJobModel.by_created.query("imports", scan_index_forward=False, limit=limit)
    return s.ImportList(items=[job_view(j) for j in jobs])


def handle_message(body: str) -> None:
    """Body of the SQS handler (AWS) and of the local stack's worker. The queue also
    carries bulk changes of store items (bulk_jobs): same worker, same lease pattern."""
    message = json.loads(body)
    if "bulk_job_id" in message:
        from chalicelib.catalogue import bulk_jobs

        bulk_jobs.handle_message(message)
        return
    process_job(message["job_id"])


def process_job(job_id: str) -> s.ImportJob:
    """Apply an uploaded file. Safe to run again after a crash: rows already applied are
    then counted as unchanged."""
    try:
        job = ImportJobModel.get(job_id, consistent_read=True)
    except DoesNotExist:
        log.error("import %s: no such job; message dropped", job_id)
        raise NotFound(f"No import {job_id!r}.") from None
    if job.status in ("succeeded", "failed"):
        return job_view(job)  # a redelivered message for a finished job
    if not claim_lease(job, LEASE_S):
        log.warning("import %s: another worker holds it; this delivery is dropped", job_id)
        return job_view(job)
    data = _s3().get_object(Bucket=config.bucket_name("imports"), Key=job.object_key)["Body"].read()
    columns, required = (
        (rules.PRODUCT_COLUMNS, rules.PRODUCT_REQUIRED)
        if job.kind == "products"
        else (rules.STORE_ITEM_COLUMNS, rules.STORE_ITEM_REQUIRED)
    )
    total = ApplyResult()
    processed = 0
    try:
        rows = list(rules.read_rows(data, job.file_format, columns, required))
    except rules.FileError as exc:
        _finish(job, "failed", total, 0, 0, error=str(exc))
        return job_view(job)
    job.update(actions=[ImportJobModel.total_rows.set(len(rows))])
    seen: dict[Any, int] = {}
    known_stores: dict[str, bool] = {}
    product_categories: dict[str, tuple[str, str] | None] = {}
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        good: list[tuple[int, Any]] = []
        for line, raw in batch:
            errors = rules.shape_errors(raw, line)
            row: rules.ProductRow | rules.StoreItemRow | None = None
            if not errors:
                parsed = (
                    rules.parse_product(raw, line)
                    if job.kind == "products"
                    else rules.parse_store_item(raw, line)
                )
                if isinstance(parsed, list):
                    errors = parsed
                else:
                    row = parsed
            if row is not None:
                key = row.sku if isinstance(row, rules.ProductRow) else (row.store_id, row.sku)
                if key in seen:
                    field = "sku" if job.kind == "products" else "store_id/sku"
                    errors = [rules.RowError(line, field, f"duplicate of line {seen[key]}")]
                else:
                    seen[key] = line
                    good.append((line, row))
            total.errors.extend(errors)
        if job.kind == "products":
            total.add(apply_products([row for _, row in good]))
        else:
            total.add(apply_store_items(good, known_stores, product_categories))
        processed += len(batch)
        job.update(
            actions=[
                ImportJobModel.processed_rows.set(processed),
                ImportJobModel.created.set(total.created),
                ImportJobModel.updated.set(total.updated),
                ImportJobModel.unchanged.set(total.unchanged),
                ImportJobModel.rejected.set(len({e.line for e in total.errors})),
            ]
        )
    _finish(job, "succeeded", total, processed, len(rows))
    return job_view(job)


def _finish(
    job: ImportJobModel,
    status: str,
    total: ApplyResult,
    processed: int,
    rows: int,
    error: str | None = None,
) -> None:
    rejected = sorted(total.errors, key=lambda e: (e.line, e.field))
    job.update(
        actions=[
            ImportJobModel.status.set(status),
            ImportJobModel.finished_at.set(clock.now_iso_ms()),
            ImportJobModel.total_rows.set(rows),
            ImportJobModel.processed_rows.set(processed),
            ImportJobModel.created.set(total.created),
            ImportJobModel.updated.set(total.updated),
            ImportJobModel.unchanged.set(total.unchanged),
            ImportJobModel.rejected.set(len({e.line for e in rejected})),
            ImportJobModel.rejected_rows.set(
                [
                    {"line": e.line, "field": e.field, "reason": e.reason}
                    for e in rejected[:MAX_REPORTED_REJECTIONS]
                ]
            ),
            ImportJobModel.error.set(error) if error else ImportJobModel.error.remove(),
        ]
    )
    log.info("import %s %s: %s", job.job_id, status, total)
