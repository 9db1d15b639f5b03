"""Export jobs: POST -> job record + SQS message (202) -> worker -> CSV in S3 -> a link.

The pattern of the ERP imports (catalogue/import_jobs.py): the request checks what it
can (kind, filters, access) and returns at once; the worker claims the job with a lease,
streams the rows to S3 in parts (never the whole file in memory) and writes progress
after each batch; GET answers the job and, once it succeeded, a presigned link that
expires. Files live under ``exports/`` in the imports bucket, which deletes them after a
day (infra/resources.py); the job records go after KEEP_DAYS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, cast
from urllib.parse import quote

import msgspec
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.audit import schemas as audit_schemas
from chalicelib.audit import service as audit
from chalicelib.audit.service import check_filters as check_audit_filters
from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal, require_store_access
from chalicelib.db.writes import claim_lease
from chalicelib.exports import columns, sources
from chalicelib.exports import schemas as s
from chalicelib.exports.csv_writer import CsvEncoder
from chalicelib.exports.models import ExportJobModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.kernel.queues import queue_url, sqs_client
from chalicelib.kernel.states import ORDER, RETURN
from chalicelib.members import admin as members_admin
from chalicelib.members.schemas import MemberQuery
from chalicelib.orders.schemas import AllOrdersQuery
from chalicelib.stores.models import StoreModel
from chalicelib.stores.service import get_store_model

log = logging.getLogger("daojia.exports")

MAX_DAYS = 366  # a date range covers at most this many business days
MAX_ROWS = 1_000_000  # beyond this the file is refused: narrow the range or the stores
PROGRESS_EVERY_ROWS = 500  # write progress after a batch once this many rows are new...
PROGRESS_EVERY_S = 2.0  # ...or this long after the last write
PART_BYTES = 8 * 1024 * 1024  # S3 multipart part (S3's minimum is 5 MiB but for the last)
LINK_TTL_S = 15 * 60  # a download link works this long
LEASE_S = 900  # the worker's Lambda timeout: a lease outlives any one attempt
KEEP_DAYS = 7  # job records are deleted (TTL) this long after they were made
PREFIX = "exports/"
DEFAULT_ZONE = "Asia/Shanghai"
# A member's points and stored-value ledgers are read by head office only (their pages
# and GET routes are HQ only), one member per file.
LEDGER_KINDS = frozenset({"points_entries", "stored_value_entries"})
# Coupons and their redemptions are head office's (the coupon pages are HQ only).
# A segment (customers' snapshot) is head office's, as the segment builder.
HQ_ONLY_KINDS = frozenset({"coupon_redemptions", "segment"}) | LEDGER_KINDS
SEGMENT_FILTERS = ("segment_id", "segment", "purpose", "campaign", "unmasked")
# The member list is head office's (every member) and store managers' (their home
# store's, phones masked), as GET /admin/members: store staff see no member list.
MEMBER_ROLES = frozenset({HQ_ADMIN, STORE_MANAGER})
MEMBER_FILTERS = ("phone", "source_kind", "registered_from", "registered_to", "level")
# The audit log is read by head office (every entry) and store managers (their store's
# entries), as GET /admin/audit: store staff see no log, so export none.
AUDIT_ROLES = frozenset({HQ_ADMIN, STORE_MANAGER})
AUDIT_FILTERS = ("actor", "target_type", "target_id")
AUDIT_DEFAULT_DAYS = 7  # as the log page: the last 7 UTC days when no range is given
ORDER_STATUSES = frozenset(
    {ORDER.initial}
    | {to for _, to in ORDER.transitions.values()}
    | {f for sources_, _ in ORDER.transitions.values() for f in sources_}
)


@lru_cache(maxsize=1)
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    # SigV4 presigned links (every region, China's included, accepts them)
    return boto3.client("s3", region_name=config.REGION, config=Config(signature_version="s3v4"))


# --- checking a request -----------------------------------------------------------------


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{field} is not a date.", details=[field_error(f"filters.{field}", "not a date")]
        ) from None


def _days(f: s.ExportFilters, kind: str) -> list[str]:
    if kind not in sources.DATED:
        return []
    if not f.date_from or not f.date_to:
        raise ValidationFailed(
            "Give the business days to export: filters.date_from and filters.date_to.",
            details=[field_error("filters.date_from", "required for this kind")],
        )
    first, last = _day(f.date_from, "date_from"), _day(f.date_to, "date_to")
    if last < first:
        raise ValidationFailed(
            "date_to is before date_from.",
            details=[field_error("filters.date_to", "before date_from")],
        )
    span = (last - first).days + 1
    if span > MAX_DAYS:
        raise ValidationFailed(
            f"At most {MAX_DAYS} days per export; split the range.",
            code="range_too_long",
            details=[field_error("filters.date_to", f"{span} days; at most {MAX_DAYS}")],
        )
    return [(first + timedelta(days=n)).isoformat() for n in range(span)]


def _store_id(principal: Principal, f: s.ExportFilters, kind: str) -> str | None:
    """The store to export (None: the chain), as the lists allow: store accounts their own
    store only (the default), head office any store or all."""
    if kind in HQ_ONLY_KINDS and not principal.is_hq:
        raise Forbidden("Only head office exports this.", code="role_not_allowed")
    if kind == "audit" and principal.role not in AUDIT_ROLES:
        raise Forbidden("Head office and store managers read the log.", code="role_not_allowed")
    if kind == "members" and principal.role not in MEMBER_ROLES:
        raise Forbidden(
            "Head office and store managers see the member list.", code="role_not_allowed"
        )
    if kind in LEDGER_KINDS:
        return None  # one member's ledger: no store (_check_member_filters)
    store_id = f.store_id
    if store_id is None and not principal.is_hq:
        store_id = principal.store_id
        if store_id is None:  # a store role without its store: never the whole chain
            raise Forbidden("Your account has no store.", code="other_store")
    if store_id is None and f.store_ids is not None:
        return None  # several stores: checked by _check_list_filters
    if store_id is not None:
        require_store_access(principal, store_id)
    elif kind == "stock":
        raise ValidationFailed(
            "Stock is exported one store at a time: give filters.store_id.",
            details=[field_error("filters.store_id", "required for stock")],
        )
    return store_id


def _audit_defaults(f: s.ExportFilters) -> s.ExportFilters:
    """The log page's default range (UTC days: the last 7 up to date_to, or today),
    fixed when the export is asked for, so the worker reads the days the user saw."""
    to = _day(f.date_to, "date_to") if f.date_to else clock.now().date()
    start = (
        _day(f.date_from, "date_from")
        if f.date_from
        else to - timedelta(days=AUDIT_DEFAULT_DAYS - 1)
    )
    return msgspec.structs.replace(f, date_from=start.isoformat(), date_to=to.isoformat())


def _audit_query(f: s.ExportFilters | dict[str, str]) -> audit_schemas.AuditQuery:
    get = f.get if isinstance(f, dict) else lambda name: getattr(f, name)
    return audit_schemas.AuditQuery(
        actor=get("actor"),
        target_type=get("target_type"),
        target_id=get("target_id"),
        date_from=get("date_from"),
        date_to=get("date_to"),
    )


ORDER_LIST_FILTERS = (
    "store_ids",
    "fulfilment",
    "min_paid_fen",
    "max_paid_fen",
    "has_refund",
    "missed_print",
)


def _check_list_filters(principal: Principal, f: s.ExportFilters, kind: str) -> None:
    """The filters of head office's order list (GET /admin/orders) go with ``orders``
    only; several stores (``store_ids``) are head office's alone."""
    given = [k for k in ORDER_LIST_FILTERS if getattr(f, k) is not None]
    if given and kind != "orders":
        raise ValidationFailed(
            f"{given[0]} filters orders only.",
            details=[field_error(f"filters.{k}", "orders only") for k in given],
        )
    if (
        f.min_paid_fen is not None
        and f.max_paid_fen is not None
        and f.min_paid_fen > f.max_paid_fen
    ):
        raise ValidationFailed(
            "min_paid_fen is above max_paid_fen.",
            details=[field_error("filters.max_paid_fen", "below min_paid_fen")],
        )
    if f.store_ids is None:
        return
    if not principal.is_hq:
        raise Forbidden("Only head office exports several stores.", code="role_not_allowed")
    if f.store_id is not None:
        raise ValidationFailed(
            "Give store_id or store_ids, not both.",
            details=[field_error("filters.store_ids", "not with store_id")],
        )
    for store_id in sorted(set(f.store_ids.split(","))):
        get_store_model(store_id)  # 404 for an unknown store, now rather than in the worker


def _check_member_filters(f: s.ExportFilters, kind: str) -> None:
    """The member list's filters go with ``members`` only; a ledger names its member
    (who must exist) and nothing else."""
    given = [k for k in MEMBER_FILTERS if getattr(f, k) is not None]
    if given and kind != "members":
        raise ValidationFailed(
            f"{given[0]} filters the member list only.",
            details=[field_error(f"filters.{k}", "members only") for k in given],
        )
    if kind not in LEDGER_KINDS:
        if f.customer_id is not None:
            raise ValidationFailed(
                "customer_id names the member of a ledger export only.",
                details=[field_error("filters.customer_id", "ledgers only")],
            )
        return
    if f.customer_id is None:
        raise ValidationFailed(
            "Give the member whose ledger to export: filters.customer_id.",
            details=[field_error("filters.customer_id", "required for this kind")],
        )
    if f.store_id is not None:
        raise ValidationFailed(
            "A member's ledger is exported whole, not by store.",
            details=[field_error("filters.store_id", "not with this kind")],
        )
    try:
        CustomerModel.get(f.customer_id)
    except DoesNotExist:
        raise NotFound("No such member.", code="member_not_found") from None


def _member_query(f: s.ExportFilters | dict[str, str], store_id: str | None) -> MemberQuery:
    get = f.get if isinstance(f, dict) else lambda name: getattr(f, name)
    return MemberQuery(
        phone=get("phone"),
        source_kind=cast(Any, get("source_kind")),  # checked by the request's schema
        registered_from=get("registered_from"),
        registered_to=get("registered_to"),
        level=get("level"),
        store_id=store_id,
    )


def _member_defaults(f: s.ExportFilters) -> s.ExportFilters:
    """The list's registration window (its default: the last year), fixed when the
    export is asked for, so the worker reads the members the user saw. A search by phone
    has no window, as in the list."""
    if f.phone is not None:
        return f
    since, to = members_admin.window(_member_query(f, None))
    return msgspec.structs.replace(f, registered_from=since, registered_to=to)


def _segment_filter(f: s.ExportFilters) -> str:
    """The segment export's filter as JSON, fixed when asked for (a saved segment edited
    later does not change the file)."""
    import msgspec

    from chalicelib.customers import segments

    if f.segment_id is not None:
        return segments._filter_json(segments.get_segment(f.segment_id).filter)
    assert f.segment is not None
    return msgspec.json.encode(f.segment).decode()


def _check_segment_filters(f: s.ExportFilters, kind: str) -> None:
    """A segment names its members (a saved segment or a filter); phones in full only
    for a named campaign (purpose "campaign", campaign, unmasked)."""
    given = [k for k in SEGMENT_FILTERS if getattr(f, k) is not None]
    if kind != "segment":
        if given:
            raise ValidationFailed(
                f"{given[0]} goes with a segment export only.",
                details=[field_error(f"filters.{k}", "segment only") for k in given],
            )
        return
    if (f.segment_id is None) == (f.segment is None):
        raise ValidationFailed(
            "Give filters.segment_id or filters.segment (one of them).",
            details=[field_error("filters.segment_id", "segment_id or segment")],
        )
    if f.store_id is not None:
        raise ValidationFailed(
            "A segment is filtered by its own stores (filters.segment.stores).",
            details=[field_error("filters.store_id", "not with a segment")],
        )
    if f.unmasked and (f.purpose != "campaign" or not f.campaign):
        raise ValidationFailed(
            'Phones in full only for a consented campaign: purpose "campaign" and a campaign.',
            details=[field_error("filters.campaign", "required to unmask phones")],
        )
    if f.segment_id is not None:
        _segment_filter(f)  # 404 for an unknown segment, now rather than in the worker


def _check(principal: Principal, body: s.ExportRequest) -> tuple[str | None, list[str]]:
    f = body.filters
    _check_list_filters(principal, f, body.kind)
    store_id = _store_id(principal, f, body.kind)  # roles first: no member probed by others
    _check_member_filters(f, body.kind)
    _check_segment_filters(f, body.kind)
    if body.kind == "members":
        _member_defaults(f)  # 422 for a window the list refuses
    if body.kind == "audit":
        f = _audit_defaults(f)
        check_audit_filters(_audit_query(f))
    else:
        for name in AUDIT_FILTERS:
            if getattr(f, name) is not None:
                raise ValidationFailed(
                    f"{name} filters the audit log only.",
                    details=[field_error(f"filters.{name}", "audit only")],
                )
    days = _days(f, body.kind)
    if f.status is not None and f.status != "any":
        allowed = {"orders": ORDER_STATUSES, "returns": RETURN.states()}.get(body.kind)
        if allowed is None or f.status not in allowed:
            raise ValidationFailed(
                "status filters orders (by an order status) or returns (by a return status).",
                details=[field_error("filters.status", f"not a {body.kind} status: {f.status}")],
            )
    if store_id is not None:
        get_store_model(store_id)  # 404 for an unknown store, now rather than in the worker
    return store_id, days


# --- the job record ---------------------------------------------------------------------


def _filters(body: s.ExportRequest, store_id: str | None) -> dict[str, str]:
    f = body.filters
    if body.kind == "audit":
        f = _audit_defaults(f)
    elif body.kind == "members":
        f = _member_defaults(f)
    out = {
        "store_id": store_id,
        "date_from": f.date_from,
        "date_to": f.date_to,
        "status": None if f.status == "any" else f.status,
        "store_ids": ",".join(sorted(set(f.store_ids.split(",")))) if f.store_ids else None,
        "fulfilment": f.fulfilment,
        "actor": f.actor,
        "target_type": f.target_type,
        "target_id": f.target_id,
        "phone": f.phone,
        "source_kind": f.source_kind,
        "registered_from": f.registered_from,
        "registered_to": f.registered_to,
        "level": f.level,
        "customer_id": f.customer_id,
        "segment_id": f.segment_id,
        "segment": _segment_filter(f) if body.kind == "segment" else None,
        "purpose": f.purpose,
        "campaign": f.campaign,
        "unmasked": "true" if f.unmasked else None,
    }
    # numbers and yes/no as text: the job keeps its filters as strings
    for name in ("min_paid_fen", "max_paid_fen"):
        value = getattr(f, name)
        out[name] = None if value is None else str(value)
    for name in ("has_refund", "missed_print"):
        value = getattr(f, name)
        out[name] = None if value is None else ("true" if value else "false")
    return {k: v for k, v in out.items() if v}


def view(job: ExportJobModel) -> s.ExportJob:
    url = expires = None
    if job.status == "succeeded" and job.object_key:
        url = _s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": config.bucket_name("imports"), "Key": job.object_key},
            ExpiresIn=LINK_TTL_S,
        )
        expires = clock.iso(clock.now() + timedelta(seconds=LINK_TTL_S))
    return s.ExportJob(
        export_id=job.export_id,
        kind=job.kind,
        status=cast(Any, job.status),  # written by this module: the schema's literals
        filters=_filters_of(job),
        language=job.language,
        created_by=job.created_by,
        created_at=job.created_at,
        finished_at=job.finished_at,
        rows_done=int(job.rows_done),
        rows_estimated=int(job.rows_estimated),
        file_name=job.file_name,
        download_url=url,
        download_expires_at=expires,
        error=job.error,
        excluded_no_consent=None
        if job.excluded_no_consent is None
        else int(job.excluded_no_consent),
    )


def _filters_of(job: ExportJobModel) -> dict[str, str]:
    filters: dict[str, str] = json.loads(job.filters_json)
    return filters


def _export_id(principal: Principal, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{principal.subject}#{idempotency_key}".encode()).hexdigest()
    return f"exp-{digest[:24]}"


def create_job(
    principal: Principal, body: s.ExportRequest, idempotency_key: str | None
) -> s.ExportJob:
    """Check the request and queue the export. The same Idempotency-Key (per caller) with
    the same request answers the job it made; with another request, 422."""
    from chalicelib.orders.service import IDEMPOTENCY_KEY

    if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
        raise ValidationFailed(
            "Send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.', ':' "
            "(e.g. a UUID), the same when you retry.",
            code="idempotency_key_required",
        )
    store_id, _ = _check(principal, body)
    filters = _filters(body, store_id)
    request_hash = hashlib.sha256(
        json.dumps([body.kind, filters, body.language], sort_keys=True).encode()
    ).hexdigest()
    export_id = _export_id(principal, idempotency_key)
    now = clock.now()
    job = ExportJobModel(
        export_id,
        kind=body.kind,
        filters_json=json.dumps(filters, ensure_ascii=False, sort_keys=True),
        language=body.language,
        request_hash=request_hash,
        status="queued",
        created_by=principal.subject,
        created_role=principal.role,
        created_store=principal.store_id,
        created_at=clock.now_iso_ms(),
        expires_at=now + timedelta(days=KEEP_DAYS),
    )
    try:
        job.save(condition=ExportJobModel.export_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        job = ExportJobModel.get(export_id, consistent_read=True)
        if job.request_hash != request_hash:
            raise ValidationFailed(
                "This Idempotency-Key was used for another export; use a new key.",
                code="idempotency_key_reused",
                details=[field_error("Idempotency-Key", "used with another request")],
            ) from None
        if job.status != "queued":
            return view(job)
        # Still queued: the first request may have stopped before its message was sent.
        # Sending again is safe: the worker's lease lets one delivery run it.
    else:
        if body.kind == "segment":  # a list of members, perhaps with phones: audited
            audit.record(
                principal,
                "exports.segment",
                audit.Target("export", export_id),
                {},
                filters,
                key=export_id,
            )
    sqs_client().send_message(
        QueueUrl=queue_url("exports"), MessageBody=json.dumps({"export_id": export_id})
    )
    return view(job)


def get_job(principal: Principal, export_id: str) -> s.ExportJob:
    """The caller's own export; head office sees every export (a store account's file
    holds only what head office may see anyway). Others' are 404, not 403: ids are not
    probed."""
    try:
        job = ExportJobModel.get(export_id, consistent_read=True)
    except DoesNotExist:
        job = None
    if job is None or not (principal.role == HQ_ADMIN or job.created_by == principal.subject):
        raise NotFound(f"No export {export_id!r}.", code="export_not_found")
    return view(job)


# --- the worker -------------------------------------------------------------------------


def handle_message(body: str) -> None:
    """Body of the SQS handler (AWS) and of the local stack's worker."""
    process_job(json.loads(body)["export_id"])


def _scope(job: ExportJobModel) -> sources.Scope:
    f = _filters_of(job)
    store_id = f.get("store_id")
    stores: list[StoreModel]
    if job.kind in LEDGER_KINDS:
        stores = []  # one member's ledger, in the chain's zone
    elif store_id:
        stores = [get_store_model(store_id)]
    elif f.get("store_ids"):
        stores = [get_store_model(x) for x in f["store_ids"].split(",")]
    else:
        stores = sorted(StoreModel.by_listing.query("stores"), key=lambda st: st.store_id)
    zones = {st.timezone or DEFAULT_ZONE for st in stores} or {DEFAULT_ZONE}
    days = (
        _days(s.ExportFilters(date_from=f.get("date_from"), date_to=f.get("date_to")), job.kind)
        if job.kind in sources.DATED
        else []
    )
    return sources.Scope(
        kind=cast(Any, job.kind),
        stores=stores,
        days=days,
        status=f.get("status"),
        # One zone per file, named in its header: the stores' own, or the chain's default
        # when the stores are in several.
        zone=zones.pop() if len(zones) == 1 else DEFAULT_ZONE,
        where=_where(f) if job.kind == "orders" else None,
        audit=_audit_query(f) if job.kind == "audit" else None,
        audit_store=store_id,
        members=_member_query(f, store_id) if job.kind == "members" else None,
        member_store=store_id,
        # phones in full for head office only, as the list shows them; a segment's only
        # for a consented campaign
        mask_phones=job.created_role != HQ_ADMIN
        or (job.kind == "segment" and f.get("unmasked") != "true"),
        segment=f.get("segment"),
        customer_id=f.get("customer_id"),
    )


def _where(f: dict[str, str]) -> AllOrdersQuery | None:
    """The list's filters of an orders export (None when it has none of them)."""
    if not any(k in f for k in ORDER_LIST_FILTERS if k != "store_ids"):
        return None

    def number(name: str) -> int | None:
        return int(f[name]) if name in f else None

    def yes_no(name: str) -> bool | None:
        return f[name] == "true" if name in f else None

    return AllOrdersQuery(
        status=f.get("status"),
        fulfilment=cast(Any, f.get("fulfilment")),
        min_paid_fen=number("min_paid_fen"),
        max_paid_fen=number("max_paid_fen"),
        has_refund=yes_no("has_refund"),
        missed_print=yes_no("missed_print"),
    )


def process_job(export_id: str) -> s.ExportJob:
    """Write the export's CSV to S3. Safe to run again after a crash: the file is
    written from the start again (an unfinished multipart upload is aborted, or expires
    by the bucket's rule)."""
    try:
        job = ExportJobModel.get(export_id, consistent_read=True)
    except DoesNotExist:
        log.error("export %s: no such job; message dropped", export_id)
        raise NotFound(f"No export {export_id!r}.") from None
    if job.status in ("succeeded", "failed"):
        return view(job)  # a redelivered message for a finished job
    if not claim_lease(job, LEASE_S):
        log.warning("export %s: another worker holds it; this delivery is dropped", export_id)
        return view(job)
    scope = _scope(job)
    f = _filters_of(job)
    name = columns.file_name(
        scope.kind,
        f.get("store_id"),
        f.get("date_from") or f.get("registered_from"),
        f.get("date_to") or f.get("registered_to"),
        f.get("customer_id"),
    )
    key = f"{PREFIX}{export_id}/{name}"
    upload = PartUpload(key, name)
    encoder = CsvEncoder()
    rows_done = written = 0
    last_write = time.monotonic()
    try:
        upload.write(
            encoder.header(columns.header(scope.kind, cast(Any, job.language), scope.zone))
        )
        for batch in sources.SOURCES[scope.kind](scope):
            upload.write(encoder.rows(batch.rows))
            rows_done += len(batch.rows)
            if rows_done > MAX_ROWS:
                raise TooLarge(
                    f"More than {MAX_ROWS:,} rows: export fewer days or one store at a time."
                )
            if (
                rows_done - written >= PROGRESS_EVERY_ROWS
                or time.monotonic() - last_write >= PROGRESS_EVERY_S
            ):
                estimate = round(rows_done / batch.done) if batch.done > 0 else rows_done
                job.update(
                    actions=[
                        ExportJobModel.rows_done.set(rows_done),
                        ExportJobModel.rows_estimated.set(max(estimate, rows_done)),
                    ]
                )
                written, last_write = rows_done, time.monotonic()
        upload.close()
        if scope.excluded_no_consent is not None:
            job.update(actions=[ExportJobModel.excluded_no_consent.set(scope.excluded_no_consent)])
    except TooLarge as exc:
        upload.abort()
        _finish(job, "failed", rows_done, error=str(exc))
        return view(job)
    except Exception:
        # Failed for the user to see and start again, rather than retried by SQS while
        # the job looks stuck: an export changes nothing, so starting again is safe.
        log.exception("export %s failed", export_id)
        upload.abort()
        _finish(job, "failed", rows_done, error="The export stopped on an error; start it again.")
        return view(job)
    _finish(job, "succeeded", rows_done, key=key, name=name)
    log.info("export %s: %d rows to %s", export_id, rows_done, key)
    return view(job)


class TooLarge(Exception):
    pass


class PartUpload:
    """Bytes to one S3 object through a buffer of at most PART_BYTES: a small file is
    one PutObject, a large one a multipart upload of PART_BYTES parts."""

    def __init__(self, key: str, file_name: str) -> None:
        self.key = key
        self.bucket = config.bucket_name("imports")
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.extra = {
            "ContentType": "text/csv; charset=utf-8",
            "ContentDisposition": f"attachment; filename*=UTF-8''{quote(file_name)}",
        }

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= PART_BYTES:
            self._part(bytes(self.buffer[:PART_BYTES]))
            del self.buffer[:PART_BYTES]

    def _part(self, data: bytes) -> None:
        if self.upload_id is None:
            self.upload_id = _s3().create_multipart_upload(
                Bucket=self.bucket, Key=self.key, **self.extra
            )["UploadId"]
        number = len(self.parts) + 1
        etag = _s3().upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
        )["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})

    def close(self) -> None:
        if self.upload_id is None:
            _s3().put_object(
                Bucket=self.bucket, Key=self.key, Body=bytes(self.buffer), **self.extra
            )
            return
        if self.buffer:
            self._part(bytes(self.buffer))
        _s3().complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        if self.upload_id is not None:
            try:
                _s3().abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
                )
            except Exception:  # the bucket's rule removes it after a day anyway
                log.warning("export: could not abort upload %s", self.upload_id)


def _finish(
    job: ExportJobModel,
    status: str,
    rows: int,
    key: str | None = None,
    name: str | None = None,
    error: str | None = None,
) -> None:
    actions: list[Any] = [
        ExportJobModel.status.set(status),
        ExportJobModel.finished_at.set(clock.now_iso_ms()),
        ExportJobModel.rows_done.set(rows),
        ExportJobModel.rows_estimated.set(rows),
    ]
    if key and name:
        actions += [ExportJobModel.object_key.set(key), ExportJobModel.file_name.set(name)]
    if error:
        actions.append(ExportJobModel.error.set(error))
    job.update(actions=actions)
