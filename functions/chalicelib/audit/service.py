"""Recording admin changes and reading them back.

A feature records a change with ``piece`` (a conditional put added to the transaction
that makes the change, so an entry exists exactly when the change committed) or, where
the change is not a DynamoDB write of ours alone, ``record`` right after it. An entry is
never updated or deleted. Ids: a change that a retried request reproduces (an
idempotency key, a job id, a refund id) gives ``key`` and so the same id, and the second
put is refused by its condition; otherwise the id is new, and a retried field edit that
changes nothing records nothing (``rules.changes`` is empty)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.audit import rules
from chalicelib.audit import schemas as s
from chalicelib.audit.models import AuditByActor, AuditByTarget, AuditEntryModel
from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import Conflict, Forbidden, ValidationFailed, field_error

MAX_DAYS = 92  # a query over days costs one index query per day (no scans)


@dataclass(frozen=True)
class Target:
    """What changed: its type (``store``, ``store_item``, ``product``, ``staff``,
    ``relay``, ``coupon_template``, ``promotion``, ``order``, ``print_job``, ``import``,
    ``return``), its id, and the store it belongs to (None: head office's own things)."""

    type: str
    id: str
    store_id: str | None = None


def new_entry(
    principal: Principal,
    action: str,
    target: Target,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    key: str | None = None,
    always: bool = False,
) -> AuditEntryModel | None:
    """The entry for a change, or None when no field changed (and ``always`` is False:
    actions such as a reprint or a revoke are worth an entry without field changes)."""
    diff = rules.changes(before, after)
    if not diff and not always:
        return None
    at = clock.now_iso_ms()
    if key is not None:
        digest = hashlib.sha256(f"{action}|{target.type}|{target.id}|{key}".encode()).hexdigest()
        entry_id = "k-" + digest[:32]
    else:
        entry_id = (
            at.replace("-", "").replace(":", "").replace(".", "") + "-" + secrets.token_hex(4)
        )
    day = at[:10]
    return AuditEntryModel(
        entry_id,
        at=at,
        at_id=f"{at}#{entry_id}",
        day=day,
        actor=principal.subject,
        role=principal.role,
        actor_store_id=principal.store_id,
        action=action,
        target_type=target.type,
        target_id=target.id,
        target=rules.target_key(target.type, target.id),
        store_id=target.store_id,
        store_day=f"{target.store_id}#{day}" if target.store_id else None,
        changes=json.dumps(diff, ensure_ascii=False, sort_keys=True),
    )


def piece_of(entry: AuditEntryModel) -> TxPiece:
    """The entry as a piece of the change's transaction: a put that must be new."""
    return TxPiece(
        entry,
        {"condition": AuditEntryModel.entry_id.does_not_exist()},
        label="audit",
        op="save",
    )


def raw_put(entry: AuditEntryModel) -> dict[str, Any]:
    """The entry as a prepared put for ``db.transactions.transact_raw``."""
    return entry.get_save_kwargs_from_instance(condition=AuditEntryModel.entry_id.does_not_exist())


def raw_puts(entry: AuditEntryModel | None) -> dict[str, dict[str, Any]]:
    """``{"audit": put}`` for ``transact_raw(puts=...)``, or {} without an entry."""
    return {} if entry is None else {"audit": raw_put(entry)}


def with_entry(tx: Tx, entry: AuditEntryModel | None, *_changes: Any) -> None:
    """Add ``entry`` (if any) to ``tx`` after the change's pieces (the other arguments,
    already added: this lets a one-line ``transact(lambda tx: ...)`` carry its entry)."""
    if entry is not None:
        piece_of(entry).add_to(tx)


def save_settings(
    model: Any,
    area: str,
    item: Any,
    data: str,
    principal: Principal,
    entry: AuditEntryModel | None,
    what: str,
) -> Any:
    """Write a settings area (one versioned item: ``area``, ``data`` as JSON, ``version``,
    ``updated_at``/``updated_by``) with its audit entry in one transaction, on condition
    that ``item`` (as read, None: absent) is still what is stored: a concurrent edit is
    409 ``settings_changed`` ("The <what> settings were changed meanwhile"), never lost.
    Returns the item written. Used by every settings page (loyalty, approvals)."""
    version = 0 if item is None else int(item.version)
    new = model(
        area,
        data=data,
        version=version + 1,
        updated_at=clock.now_iso(),
        updated_by=principal.subject,
    )
    condition = model.area.does_not_exist() if item is None else model.version == version
    try:
        transact(
            lambda tx: with_entry(tx, entry, tx.save(new, condition=condition, label="settings"))
        )
    except TransactionCancelled as exc:
        if "settings" in exc.failed:
            raise Conflict(
                f"The {what} settings were changed meanwhile; reload them and try again.",
                code="settings_changed",
            ) from None
        raise
    return new


def add(tx: Tx, *args: Any, **kwargs: Any) -> AuditEntryModel | None:
    """``new_entry(*args, **kwargs)`` added to ``tx`` (nothing when nothing changed)."""
    entry = new_entry(*args, **kwargs)
    if entry is not None:
        piece_of(entry).add_to(tx)
    return entry


def record(*args: Any, **kwargs: Any) -> AuditEntryModel | None:
    """Write ``new_entry(*args, **kwargs)`` on its own, after a change that could not
    carry it in its transaction. An entry with the same key already written (a retried
    request) is left as it is."""
    entry = new_entry(*args, **kwargs)
    if entry is None:
        return None
    try:
        entry.save(condition=AuditEntryModel.entry_id.does_not_exist())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
    return entry


# --- reading -------------------------------------------------------------------------


def view(entry: AuditEntryModel) -> s.AuditEntry:
    diff = json.loads(entry.changes or "{}")
    return s.AuditEntry(
        entry_id=entry.entry_id,
        at=entry.at,
        actor=entry.actor,
        role=entry.role,
        actor_store_id=entry.actor_store_id,
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        store_id=entry.store_id,
        changes=[s.Change(field=f, before=v[0], after=v[1]) for f, v in sorted(diff.items())],
    )


def _days(query: s.AuditQuery, max_days: int = MAX_DAYS) -> list[str]:
    """The UTC days asked for, newest first (default: the last 7 days)."""
    to = date.fromisoformat(query.date_to) if query.date_to else clock.now().date()
    start = date.fromisoformat(query.date_from) if query.date_from else to - timedelta(days=6)
    if start > to:
        raise ValidationFailed(
            "The date range ends before it starts.",
            details=[field_error("date_from", "must be on or before date_to")],
        )
    if (to - start).days >= max_days:
        raise ValidationFailed(
            f"Ask for at most {max_days} days at a time.",
            details=[field_error("date_from", f"at most {max_days} days before date_to")],
        )
    return [(to - timedelta(days=i)).isoformat() for i in range((to - start).days + 1)]


def _store_scope(principal: Principal, query: s.AuditQuery) -> str | None:
    """The store the listing is limited to: a store manager's own, always."""
    if principal.role == HQ_ADMIN:
        return query.store_id
    if query.store_id and query.store_id != principal.store_id:
        raise Forbidden("Your account belongs to another store.", code="other_store")
    return principal.store_id or "-"


@dataclass(frozen=True)
class _Plan:
    """How a filtered listing reads: the index, its partitions in order, a key range and
    a filter on the other fields. The page and the CSV export read the same plan."""

    index: Any
    attr: str  # the index's partition key attribute, named in a cursor
    partitions: list[str]
    rng: Any
    condition: Any


def check_filters(query: s.AuditQuery) -> None:
    """422 for filters the log cannot answer (a target id without its type)."""
    if (query.target_id is None) != (query.target_type is None) and query.target_id:
        raise ValidationFailed(
            "A target id needs its type.",
            details=[field_error("target_type", "required with target_id")],
        )


def _plan(query: s.AuditQuery, store: str | None, max_days: int = MAX_DAYS) -> _Plan:
    """The index chosen by the filters: one target, one actor, one store's days, or every
    entry's days; the other filters narrow the query. ``store``: only that store's
    entries (None: every entry)."""
    check_filters(query)
    days = _days(query, max_days)
    lo, hi = days[-1], days[0] + "~"  # at_id starts with the time: "~" sorts after it
    M = AuditEntryModel
    filters = []
    if query.target_type and not query.target_id:
        filters.append(M.target_type == query.target_type)
    partitions: list[str]
    index: Any
    if query.target_id and query.target_type:
        index, attr = M.by_target, "target"
        partitions = [rules.target_key(query.target_type, query.target_id)]
        rng = AuditByTarget.at_id.between(lo, hi)
        if query.actor:
            filters.append(M.actor == query.actor)
        if store:
            filters.append(M.store_id == store)
    elif query.actor:
        index, attr, partitions = M.by_actor, "actor", [query.actor]
        rng = AuditByActor.at_id.between(lo, hi)
        if store:
            filters.append(M.store_id == store)
    elif store:
        index, attr = M.by_store_day, "store_day"
        partitions = [f"{store}#{d}" for d in days]
        rng = None
    else:
        index, attr, partitions, rng = M.by_day, "day", days, None
    condition = None
    for f in filters:
        condition = f if condition is None else condition & f
    return _Plan(index, attr, partitions, rng, condition)


def listing(principal: Principal, query: s.AuditQuery) -> s.AuditPage:
    """Entries newest first, a page at a time, over the plan the filters choose."""
    check_filters(query)
    _days(query)  # a bad range is 422 before a store is checked, as it always was
    store = _store_scope(principal, query)
    plan = _plan(query, store)
    partitions = plan.partitions
    start = cursors.decode(query.cursor, ("entry_id", "at_id", plan.attr))
    if start is not None:
        resume = start[plan.attr]["S"]
        if resume not in partitions:
            raise cursors.foreign()
        partitions = partitions[partitions.index(resume) :]
    items: list[AuditEntryModel] = []
    for part in partitions:
        for entry in _query(plan, part, start, query.limit - len(items)):
            items.append(entry)
            if len(items) == query.limit:
                last = {"entry_id": entry.entry_id, "at_id": entry.at_id, plan.attr: part}
                return s.AuditPage(
                    items=[view(e) for e in items],
                    next_cursor=cursors.encode({k: {"S": v} for k, v in last.items()}),
                )
        start = None
    return s.AuditPage(items=[view(e) for e in items], next_cursor=None)


def every_entry(
    query: s.AuditQuery, store: str | None, max_days: int, page: int = 200
) -> Iterator[tuple[list[AuditEntryModel], float]]:
    """Every entry the filters select, newest first, in lists of at most ``page``, each
    with the fraction of the index partitions read so far (the CSV export's source).
    ``store`` was authorised by the caller: only that store's entries (None: all)."""
    plan = _plan(query, store, max_days)
    parts = len(plan.partitions)
    for n, part in enumerate(plan.partitions):
        batch: list[AuditEntryModel] = []
        for entry in _query(plan, part, None, page):
            batch.append(entry)
            if len(batch) == page:  # a busy partition: several lists, progress as before it
                yield batch, n / parts
                batch = []
        yield batch, (n + 1) / parts


def _query(plan: _Plan, part: str, start: dict | None, want: int) -> Iterator[AuditEntryModel]:
    # ``rng`` of by_day / by_store_day is the whole partition (a day); the others carry
    # the date range as a key condition.
    yield from plan.index.query(
        part,
        range_key_condition=plan.rng,
        filter_condition=plan.condition,
        scan_index_forward=False,
        page_size=max(want, 10),
        last_evaluated_key=start,
    )
