"""Segments for head office (docs/segments.md, "Segments"): counts and the overview from
the nightly snapshot held in memory, saved segments, bulk actions (issue a coupon, add a
tag) and the snapshot's refresh, both run by the ``segments`` queue's worker.

The Lambda keeps the decoded snapshot and its bitmaps (segment_rules.Index) between
requests; each request reads the "current snapshot" pointer (one eventually consistent
GetItem) and loads the object again only when the pointer names another one. No request
path scans a table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from datetime import date
from typing import Any, cast

import msgspec
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.customers import rules
from chalicelib.customers import schemas as s
from chalicelib.customers import segment_rules as sr
from chalicelib.customers import segment_snapshot as snapshot
from chalicelib.customers.models import SegmentModel
from chalicelib.db.connection import connection
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.queues import queue_url, sqs_client

log = logging.getLogger("daojia.segments")

CHUNK = 500  # members per bulk_issue call (its limit) and per progress write
QUEUE = "segments"
MAX_ATTEMPTS = 3  # the segments queue's maxReceiveCount (infra/resources.py QUEUES)

# --- the snapshot in memory --------------------------------------------------------------

_lock = threading.Lock()
_loaded: dict[str, Any] = {"key": None, "index": None}


def _pointer() -> SegmentModel:
    try:
        return SegmentModel.get("snapshot", "current")  # eventually consistent: half a unit
    except DoesNotExist:
        raise NotFound(
            "No segments snapshot yet: it is built nightly, or now with POST "
            "/admin/segments/refresh.",
            code="no_snapshot",
        ) from None


def load(key: str) -> sr.Index:
    body = snapshot._s3().get_object(Bucket=config.bucket_name("imports"), Key=key)["Body"]
    return sr.Index(sr.decode(body.read()))


def index(key: str | None = None) -> sr.Index:
    """The current snapshot's index (``key``: a given snapshot, e.g. an action's)."""
    key = key or _pointer().object_key
    with _lock:
        if _loaded["key"] != key:
            _loaded["index"] = load(key)
            _loaded["key"] = key
        return cast(sr.Index, _loaded["index"])


def today() -> date:
    return clock.now().astimezone(rules.TZ).date()


def to_rules(f: s.SegmentFilter) -> sr.SegmentFilter:
    return sr.SegmentFilter(
        tags_any=list(f.tags_any),
        tags_all=list(f.tags_all),
        rfm_groups=list(f.rfm_groups),
        lifecycle=list(f.lifecycle),
        levels=list(f.levels),
        sources=list(f.sources),
        stores=list(f.stores),
        spend_min_fen=f.spend_min_fen,
        spend_max_fen=f.spend_max_fen,
        orders_min=f.orders_min,
        paid=f.paid,
    )


def _check(f: s.SegmentFilter) -> None:
    if (
        f.spend_min_fen is not None
        and f.spend_max_fen is not None
        and f.spend_min_fen > f.spend_max_fen
    ):
        raise ValidationFailed(
            "spend_min_fen is above spend_max_fen.",
            details=[field_error("filter.spend_max_fen", "below spend_min_fen")],
        )


def _check_tags(ix: sr.Index, f: s.SegmentFilter) -> None:
    """A tag the snapshot had no room for (more tags than MAX_TAGS: the least used are
    left out) would count nobody: refuse it rather than answer 0."""
    left_out = set(ix.snap.meta.get("tags_left_out", ()))
    for name, given in (("tags_any", f.tags_any), ("tags_all", f.tags_all)):
        for i, t in enumerate(given):
            if t in left_out:
                raise ValidationFailed(
                    f"The tag {t!r} is not in the snapshot: it keeps the "
                    f"{sr.MAX_TAGS} most used tags. Remove unused tags, then refresh.",
                    code="tag_not_in_snapshot",
                    details=[field_error(f"filter.{name}[{i}]", "not in the snapshot")],
                )


def count(f: s.SegmentFilter) -> s.SegmentCount:
    _check(f)
    ix = index()
    _check_tags(ix, f)
    mask = ix.select(to_rules(f), today())
    members = mask.bit_count()
    revoked = (mask & ix.revoked()).bit_count()
    return s.SegmentCount(
        members=members,
        marketable=members - revoked,
        excluded_no_consent=revoked,
        spend_fen=ix.spend_of(mask),
        share_of_members=round(members / ix.n, 4) if ix.n else 0.0,
        as_of=ix.snap.meta["as_of"],
    )


def overview() -> s.Overview:
    ix = index()
    meta = ix.snap.meta
    day = today()
    return s.Overview(
        as_of=meta["as_of"],
        members=meta["members"],
        with_orders=meta["with_orders"],
        by_lifecycle={st: ix.stage(st, day).bit_count() for st in sr.STAGES},
        by_rfm={
            g: ix.select(sr.SegmentFilter(rfm_groups=[g]), day).bit_count() for g in sr.GROUP_IDS
        },
        pareto=msgspec.convert(meta["pareto"], s.Pareto),
        new_members=msgspec.convert(meta.get("new_members", []), list[s.NewMembers]),
        rfm_cutoffs=msgspec.convert(meta["rfm_cutoffs"], s.RfmCutoffs),
    )


# --- saved segments ----------------------------------------------------------------------


def _segment_view(m: SegmentModel) -> s.Segment:
    return s.Segment(
        segment_id=m.id,
        name=m.name,
        filter=msgspec.json.decode(m.filter_json, type=s.SegmentFilter),
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def _filter_json(f: s.SegmentFilter) -> str:
    return msgspec.json.encode(f).decode()


def _get_segment(segment_id: str, consistent: bool = True) -> SegmentModel:
    try:
        return SegmentModel.get("segment", segment_id, consistent_read=consistent)
    except DoesNotExist:
        raise NotFound("No such segment.", code="segment_not_found") from None


def create_segment(principal: Principal, body: s.SegmentBody) -> s.Segment:
    _check(body.filter)
    now = clock.now_iso()
    m = SegmentModel(
        "segment",
        f"seg-{secrets.token_hex(8)}",
        name=body.name,
        filter_json=_filter_json(body.filter),
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    m.save(condition=SegmentModel.id.does_not_exist())
    audit.record(
        principal,
        "customers.segment_create",
        audit.Target("segment", m.id),
        {},
        {"name": body.name, "filter": m.filter_json},
    )
    return _segment_view(m)


def list_segments() -> s.SegmentList:
    items = [_segment_view(m) for m in SegmentModel.query("segment")]  # a few hundred at most
    return s.SegmentList(items=sorted(items, key=lambda x: (x.name, x.segment_id)))


def get_segment(segment_id: str) -> s.Segment:
    return _segment_view(_get_segment(segment_id, consistent=False))


def put_segment(principal: Principal, segment_id: str, body: s.SegmentBody) -> s.Segment:
    _check(body.filter)
    m = _get_segment(segment_id)
    before = {"name": m.name, "filter": m.filter_json}
    m.name, m.filter_json, m.updated_at = body.name, _filter_json(body.filter), clock.now_iso()
    m.save()
    audit.record(
        principal,
        "customers.segment_update",
        audit.Target("segment", segment_id),
        before,
        {"name": m.name, "filter": m.filter_json},
    )
    return _segment_view(m)


def delete_segment(principal: Principal, segment_id: str) -> None:
    m = _get_segment(segment_id)
    m.delete()
    audit.record(
        principal,
        "customers.segment_delete",
        audit.Target("segment", segment_id),
        {"name": m.name, "filter": m.filter_json},
        {},
        always=True,
    )


# --- bulk actions ------------------------------------------------------------------------


def _send(message: dict[str, Any]) -> None:
    sqs_client().send_message(QueueUrl=queue_url(QUEUE), MessageBody=json.dumps(message))


def _action_view(m: SegmentModel) -> s.Action:
    targeted = int(m.targeted or 0)
    handled = int(m.done or 0) + int(m.failed or 0)
    return s.Action(
        action_id=m.id,
        action=cast(Any, m.action),
        target=m.target,
        state=cast(Any, m.state),
        as_of=m.as_of,
        targeted=targeted,
        excluded_no_consent=int(m.excluded_no_consent or 0),
        done=int(m.done or 0),
        failed=int(m.failed or 0),
        progress=round(handled / targeted, 4)
        if targeted
        else (1.0 if m.state == "succeeded" else 0.0),
        created_by=m.created_by,
        created_at=m.created_at,
        finished_at=m.finished_at,
        error=m.error,
    )


# Actions that reach the member (coupons): members who revoked consent are left out.
MARKETING_ACTIONS = frozenset({"issue_coupon", "member_day_pack"})


def _targets(ix: sr.Index, f: s.SegmentFilter, action: str, day: date) -> tuple[int, int]:
    """(mask of the members the action is for, how many were left out for consent).
    Coupons are a marketing action: members who revoked consent are left out. A manual
    tag is head office's own note, not a contact: every member matching is tagged."""
    mask = ix.select(to_rules(f), day)
    if action not in MARKETING_ACTIONS:
        return mask, 0
    revoked = mask & ix.revoked()
    return mask ^ revoked, revoked.bit_count()


def create_action(principal: Principal, body: s.ActionBody) -> tuple[s.Action, bool]:
    """Queue a bulk action (202); the same request_id again answers the same action
    (replayed), with another body 409 ``request_id_reused``."""
    if (body.segment_id is None) == (body.filter is None):
        raise ValidationFailed(
            "Give segment_id or filter (one of them).",
            details=[field_error("segment_id", "segment_id or filter")],
        )
    field = "template_id" if body.action == "issue_coupon" else "tag"
    target = body.template_id if body.action == "issue_coupon" else body.tag
    if not target:
        raise ValidationFailed(
            f"{body.action} needs {field}.", details=[field_error(field, "required")]
        )
    request_hash = hashlib.sha256(
        msgspec.json.encode([body.segment_id, body.filter, body.action, target])
    ).hexdigest()
    action_id = (
        "act-" + hashlib.sha256(f"{principal.subject}#{body.request_id}".encode()).hexdigest()[:20]
    )
    try:
        old = SegmentModel.get("action", action_id, consistent_read=True)
    except DoesNotExist:
        old = None
    if old is not None:
        if old.request_hash != request_hash:
            raise Conflict(
                "This request_id was used for another action; use a new one.",
                code="request_id_reused",
                details=[field_error("request_id", "used with another body")],
            )
        return _action_view(old), True
    if body.action == "issue_coupon":
        from chalicelib.coupons.service import get_template

        get_template(target)  # 404 now rather than in the worker
    f = (
        body.filter
        if body.filter is not None
        else _segment_view(_get_segment(cast(str, body.segment_id))).filter
    )
    _check(f)
    pointer = _pointer()
    ix = index(pointer.object_key)
    _check_tags(ix, f)
    mask, excluded = _targets(ix, f, body.action, today())
    now = clock.now_iso()
    m = SegmentModel(
        "action",
        action_id,
        action=body.action,
        target=target,
        name=body.segment_id,
        filter_json=_filter_json(f),
        object_key=pointer.object_key,  # the members are fixed now: a retry sees the same
        as_of=ix.snap.meta["as_of"],
        state="queued",
        request_hash=request_hash,
        targeted=mask.bit_count(),
        excluded_no_consent=excluded,
        done=0,
        failed=0,
        chunks=-(-mask.bit_count() // CHUNK),
        chunks_done=0,
        created_by=principal.subject,
        created_role=principal.role,
        created_at=now,
        updated_at=now,
    )
    try:
        m.save(condition=SegmentModel.id.does_not_exist())
    except PutError as exc:  # the same request at the same moment: answer the first
        if not is_condition_failure(exc):
            raise
        return create_action(principal, body)
    audit.record(
        principal,
        f"customers.segment_{body.action}",
        audit.Target("segment_action", action_id),
        {},
        {
            "target": target,
            "filter": m.filter_json,
            "targeted": m.targeted,
            "excluded_no_consent": excluded,
        },
        key=action_id,
    )
    _send({"type": "action", "action_id": action_id})
    return _action_view(m), False


def get_action(action_id: str) -> s.Action:
    try:
        return _action_view(SegmentModel.get("action", action_id))
    except DoesNotExist:
        raise NotFound("No such action.", code="action_not_found") from None


def add_tags(customer_ids: list[str], tag: str, by: str) -> tuple[int, int]:
    """Manual tags through customers/tags.py: (tagged, failed)."""
    from chalicelib.customers import tags

    return tags.add_manual_tags(customer_ids, tag, by=by)


def _issue(m: SegmentModel, chunk: int, ids: list[str]) -> tuple[int, int]:
    """One chunk's coupons: bulk_issue's batch id is the action's id and the chunk's
    number, so a redelivered chunk issues nothing new."""
    from chalicelib.coupons import schemas as cs
    from chalicelib.coupons.service import bulk_issue

    who = Principal(subject=m.created_by, role=cast(Any, m.created_role))
    got = bulk_issue(
        who,
        m.target,
        cs.IssueRequest(batch_id=f"{m.id}-{chunk}", customer_ids=ids),
    )
    failed = len(got.refused)
    return len(ids) - failed, failed


def _member_day_pack(m: SegmentModel, ids: list[str]) -> tuple[int, int]:
    """One chunk of a member day's pack: coupon ids are the member day's own
    (<template>:md-<id>-<day>:<customer>), so a redelivered chunk issues nothing new."""
    from chalicelib.loyalty.member_day import issue_member_day_pack

    promotion_id, day = m.target.split("#")
    failed = sum(1 for cid in ids if issue_member_day_pack(promotion_id, day, [cid]).refused)
    return len(ids) - failed, failed


def start_member_day_pack(promotion_id: str, day: str, segment_id: str) -> s.Action:
    """The daily job (jobs.member_day_packs): a member day for a saved segment starts
    today, so its pack goes to the segment's members (as of the latest snapshot, those
    who revoked consent left out) through an action like head office's bulk coupons.
    One action per member day and occurrence: a second run of the job finds it."""
    action_id = f"act-md-{promotion_id}-{day}"
    try:
        return _action_view(SegmentModel.get("action", action_id, consistent_read=True))
    except DoesNotExist:
        pass
    f = _segment_view(_get_segment(segment_id)).filter
    pointer = _pointer()
    ix = index(pointer.object_key)
    mask, excluded = _targets(ix, f, "member_day_pack", today())
    now = clock.now_iso()
    m = SegmentModel(
        "action",
        action_id,
        action="member_day_pack",
        target=f"{promotion_id}#{day}",
        name=segment_id,
        filter_json=_filter_json(f),
        object_key=pointer.object_key,
        as_of=ix.snap.meta["as_of"],
        state="queued",
        request_hash="",
        targeted=mask.bit_count(),
        excluded_no_consent=excluded,
        done=0,
        failed=0,
        chunks=-(-mask.bit_count() // CHUNK),
        chunks_done=0,
        created_by="system:member_day",
        created_role="hq_admin",
        created_at=now,
        updated_at=now,
    )
    try:
        m.save(condition=SegmentModel.id.does_not_exist())
    except PutError as exc:  # another run of the job at the same moment
        if not is_condition_failure(exc):
            raise
        return _action_view(SegmentModel.get("action", action_id, consistent_read=True))
    _send({"type": "action", "action_id": action_id})
    return _action_view(m)


def run_action(action_id: str) -> None:
    """The worker: the chunks not marked done yet, each marked in one transaction with
    the action's counters (a chunk counted once whatever the redeliveries). A delivery
    that fails is retried by the queue; the last one the queue makes (MAX_ATTEMPTS)
    marks the action failed with its error, so head office does not watch a "running"
    action the queue has given up on."""
    m = SegmentModel.get("action", action_id, consistent_read=True)
    if m.state in ("succeeded", "failed"):
        return
    m.update(actions=[SegmentModel.state.set("running"), SegmentModel.attempts.add(1)])
    try:
        _run_chunks(m)
    except Exception as exc:
        if int(m.attempts or 0) >= MAX_ATTEMPTS:
            m.update(
                actions=[
                    SegmentModel.state.set("failed"),
                    SegmentModel.error.set(f"{type(exc).__name__}: {exc}"[:500]),
                    SegmentModel.finished_at.set(clock.now_iso()),
                ]
            )
        raise


def _run_chunks(m: SegmentModel) -> None:
    ix = index(m.object_key)
    f = msgspec.json.decode(m.filter_json, type=s.SegmentFilter)
    mask, _ = _targets(ix, f, m.action, date.fromisoformat(m.as_of))
    ids = [ix.snap.customer_id(i) for i in sr.rows_of(mask)]
    done = {c.id for c in SegmentModel.query("chunk", SegmentModel.id.startswith(f"{m.id}#"))}
    for n in range(0, len(ids), CHUNK):
        chunk = n // CHUNK
        if f"{m.id}#{chunk:06d}" in done:
            continue
        part = ids[n : n + CHUNK]
        if m.action == "issue_coupon":
            ok, bad = _issue(m, chunk, part)
        elif m.action == "member_day_pack":
            ok, bad = _member_day_pack(m, part)
        else:
            ok, bad = add_tags(part, m.target, m.created_by)
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(
                    SegmentModel("chunk", f"{m.id}#{chunk:06d}", done=ok, failed=bad),
                    condition=SegmentModel.id.does_not_exist(),
                )
                tx.update(
                    m,
                    actions=[
                        SegmentModel.done.add(ok),
                        SegmentModel.failed.add(bad),
                        SegmentModel.chunks_done.add(1),
                        SegmentModel.updated_at.set(clock.now_iso()),
                    ],
                )
        except TransactWriteError as exc:
            # another delivery marked it first (counted there); anything else (a conflict,
            # throttling) leaves it unmarked: raise, and the redelivery does it again
            if SegmentModel.count("chunk", SegmentModel.id == f"{m.id}#{chunk:06d}") == 0:
                raise exc
            log.info("action %s chunk %d: marked by another delivery", m.id, chunk)
    m.update(
        actions=[
            SegmentModel.state.set("succeeded"),
            SegmentModel.finished_at.set(clock.now_iso()),
        ]
    )


# --- refresh -----------------------------------------------------------------------------


def _refresh_view(m: SegmentModel) -> s.Refresh:
    return s.Refresh(
        state=cast(Any, m.state),
        requested_at=m.created_at,
        finished_at=m.finished_at,
        as_of=m.as_of,
        members=None if m.members is None else int(m.members),
    )


def request_refresh(principal: Principal) -> s.Refresh:
    """Head office: build the snapshot now, in the worker (202 with its state)."""
    m = SegmentModel(
        "refresh",
        "latest",
        state="queued",
        created_by=principal.subject,
        created_at=clock.now_iso(),
    )
    m.save()
    _send({"type": "refresh"})
    return _refresh_view(m)


def refresh_state() -> s.Refresh:
    try:
        return _refresh_view(SegmentModel.get("refresh", "latest"))
    except DoesNotExist:
        raise NotFound("No refresh was asked for.", code="no_snapshot") from None


def run_refresh() -> dict[str, Any]:
    """The snapshot now, its state on ("refresh", "latest") (the nightly run too)."""
    SegmentModel("refresh", "latest").update(
        actions=[
            SegmentModel.state.set("running"),
            SegmentModel.created_at.set(SegmentModel.created_at | clock.now_iso()),
            SegmentModel.finished_at.remove(),
        ]
    )
    try:
        got = snapshot.run()
        # then each member's saved segments, for promotions targeted at one (issue 18)
        from chalicelib.customers import segment_memberships

        got["memberships"] = segment_memberships.sync(got["object_key"])
    except Exception as exc:
        SegmentModel("refresh", "latest").update(
            actions=[SegmentModel.state.set("failed"), SegmentModel.error.set(str(exc)[:500])]
        )
        raise
    SegmentModel("refresh", "latest").update(
        actions=[
            SegmentModel.state.set("succeeded"),
            SegmentModel.finished_at.set(clock.now_iso()),
            SegmentModel.as_of.set(got["as_of"]),
            SegmentModel.members.set(got["members"]),
        ]
    )
    return got


def handle_message(body: str) -> None:
    """The ``segments`` queue's worker (AWS) and the local stack's."""
    msg = json.loads(body)
    if msg["type"] == "refresh":
        run_refresh()
    elif msg["type"] == "action":
        run_action(msg["action_id"])


# --- membership of one member (issue 18 item 4: coupon templates for a segment) ---------

_rows: dict[str, Any] = {"key": None, "rows": {}}


def _row_of(ix: sr.Index, key: str, customer_id: str) -> int | None:
    """The member's row in the snapshot ``key`` (a dict built once per snapshot, kept)."""
    with _lock:
        if _rows["key"] != key:
            _rows["rows"] = {ix.snap.customer_id(i): i for i in range(ix.n)}
            _rows["key"] = key
        return cast(dict[str, int], _rows["rows"]).get(customer_id)


def is_member(segment_id: str, customer_id: str) -> bool:
    """Whether a member is in a saved segment as of the latest snapshot, members who
    revoked marketing consent left out (a coupon is a marketing action). Two eventually
    consistent GetItems (the segment, the pointer); the snapshot object is kept in memory.
    NotFound (segment_not_found, no_snapshot) when either is missing."""
    f = _segment_view(_get_segment(segment_id, consistent=False)).filter
    key = _pointer().object_key
    ix = index(key)
    row = _row_of(ix, key, customer_id)
    if row is None:
        return False
    mask, _ = _targets(ix, f, "issue_coupon", today())
    return bool((mask >> row) & 1)
