"""Delivering domain events to subscribers: at least once, once in effect per (event,
subscriber), a failure retried and then parked, never dropped, never blocking others.

For each event and each of its subscribers:

1. a delivery marker (events/models.py) for (event_id, subscriber) already exists: skip
   (done: it ran; failed or parked: the retry job or head office owns it). All of an
   event's markers are read in one BatchGetItem;
2. call the subscriber; it returns: write the ``done`` marker, unless the subscriber is
   declared ``idempotent`` and had no marker (a first success: nothing to record, a
   redelivery runs it again harmlessly; a retried failure still becomes ``done``, which
   takes it off the retry index and head office's list);
3. it raises: write a ``failed`` marker with the event, the error and the attempt count,
   due again after EVENT_RETRY_BASE_S (doubling); the retry job (``retry_due``) tries it
   again; at EVENT_MAX_ATTEMPTS it is ``parked`` on head office's list
   (``GET /admin/events/parked``), where ``retry_parked`` tries it on request.

Why a retry job and not the stream's own retries: a batch retried by the stream holds
up every later record of its shard and runs again every event of the batch, and Lambda
drops it after its retries; here one failing subscriber costs one marker write, the
others and the next events go on, and nothing is dropped. The retry job is one Query of
an empty sparse index per run when nothing fails. The handler raises (and the stream
retries the batch, the markers making that harmless) only when the markers themselves
cannot be written.

A batch (and a retry run) is one memo scope (kernel/memo.py): settings the subscribers
read, such as loyalty's, are read once per batch instead of once per subscriber and event.
A batch lasts well under a second, as fresh as a read per use for practical purposes.

A subscriber that succeeded but whose done marker was not written (the process died in
between, or it is declared idempotent and none is written) runs again on the redelivery:
subscribers are idempotent per event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.db.transactions import batch_get, batch_get_raw
from chalicelib.db.writes import is_condition_failure
from chalicelib.events import records as rec
from chalicelib.events import registry as reg
from chalicelib.events import types as t
from chalicelib.events.models import DeliveryModel
from chalicelib.kernel import clock, config, memo
from chalicelib.kernel.errors import Conflict, NotFound

log = logging.getLogger("daojia.events")

DONE, FAILED, PARKED = "done", "failed", "parked"
DONE_KEEP_S = 30 * 24 * 3600
# A stream record we could not turn into events is parked whole under this name (head
# office sees it; a retry reads it again with the code of that day).
UNREADABLE = "events.unreadable_record"


def delivery_id(event_id: str, subscriber: str) -> str:
    """The marker's key: path-safe, fixed length, the same for every redelivery."""
    return hashlib.sha256(f"{event_id}\n{subscriber}".encode()).hexdigest()[:32]


def retry_delay_s(attempts: int) -> int:
    """Wait before attempt ``attempts + 1``: the base, doubled after each failure."""
    return config.EVENT_RETRY_BASE_S * 2 ** max(attempts - 1, 0)


# --- the stream ------------------------------------------------------------------------


def handle_stream_records(
    table: str, records: list[dict[str, Any]], registry: reg.Registry | None = None
) -> int:
    """One batch of ``table``'s stream (short name): deliver the events its records stand
    for. Returns how many (event, subscriber) deliveries ran and succeeded."""
    registry = registry or reg.loaded()
    details = order_details(rec.detail_ids(table, records))
    done = 0
    with memo.scope():
        for record in records:
            try:
                events = rec.events_of(table, record, details)
            except Exception as exc:
                log.exception(
                    "%s stream record %s unreadable: parked", table, record.get("eventID")
                )
                _park_unreadable(table, record, exc)
                continue
            for event in events:
                done += deliver(event, registry)
    return done


def order_details(order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The order details (plain images) of ``order_ids``: one BatchGetItem (per 100),
    consistent, since the detail is written in the transaction that placed the order."""
    if not order_ids:
        return {}
    table = config.table_name(rec.DETAIL_TABLE)
    got = batch_get_raw({table: [{"order_id": {"S": o}} for o in order_ids]})
    details = [{k: rec.plain(v) for k, v in item.items()} for item in got[table]]
    return {d["order_id"]: d for d in details}


def deliver(event: t.Event, registry: reg.Registry) -> int:
    """Deliver one event to each subscriber without a marker yet. Returns how many ran
    and succeeded."""
    subs = [s for s in registry.for_type(event.type) if s.concerns(event)]
    if not subs:
        return 0
    ids = {s.name: delivery_id(event.event_id, s.name) for s in subs}
    # Eventually consistent (half the read units): a marker written a moment ago and not
    # seen yet runs its subscriber once more, which every subscriber allows (above).
    keys = [{"delivery_id": i} for i in ids.values()]
    found = batch_get({DeliveryModel: keys}, consistent=False)
    seen = {m.delivery_id for m in found[DeliveryModel]}
    ok = 0
    for sub in subs:
        if ids[sub.name] not in seen:
            ok += _attempt(sub, event, attempts=0, status=None)
    return ok


def _attempt(sub: reg.Subscriber, event: t.Event, *, attempts: int, status: str | None) -> bool:
    """Run one attempt and record its outcome. ``attempts``/``status``: the marker as
    read (0/None: none yet)."""
    try:
        sub.handle(event)
    except Exception as exc:
        log.exception("subscriber %s failed on %s", sub.name, event.event_id)
        _record_failure(sub.name, event, attempts, status, exc)
        return False
    if status is not None or not sub.idempotent:
        _record_done(sub.name, event)
    return True


def _record_done(name: str, event: t.Event) -> None:
    marker = DeliveryModel(
        delivery_id(event.event_id, name),
        event_id=event.event_id,
        event_type=event.type,
        subscriber=name,
        status=DONE,
        updated_at=clock.now_iso(),
        expires_at=timedelta(seconds=DONE_KEEP_S),
    )
    _put(marker, DeliveryModel.delivery_id.does_not_exist() | (DeliveryModel.status != DONE))


def _record_failure(
    name: str, event: t.Event, attempts: int, status: str | None, exc: Exception
) -> None:
    """Count the attempt; park at EVENT_MAX_ATTEMPTS (a parked one stays parked)."""
    tries = attempts + 1
    now = clock.now()
    marker = DeliveryModel(
        delivery_id(event.event_id, name),
        event_id=event.event_id,
        event_type=event.type,
        subscriber=name,
        attempts=tries,
        last_error=f"{type(exc).__name__}: {exc}"[:500],
        event=t.encode(event),
        updated_at=clock.iso(now),
    )
    _set_outcome(marker, status, tries, now)
    condition = (
        DeliveryModel.delivery_id.does_not_exist()
        if status is None
        else (DeliveryModel.attempts == attempts) & (DeliveryModel.status == status)
    )
    _put(marker, condition)


def _set_outcome(marker: DeliveryModel, status: str | None, tries: int, now: Any) -> None:
    if status == PARKED or tries >= config.EVENT_MAX_ATTEMPTS:
        marker.status = PARKED
        marker.parked = PARKED
        marker.parked_at = clock.iso(now)
        log.error(
            "subscriber %s parked %s after %d attempts: %s",
            marker.subscriber,
            marker.event_id,
            tries,
            marker.last_error,
        )
    else:
        marker.status = FAILED
        marker.retry = "due"
        marker.retry_at = int(now.timestamp()) + retry_delay_s(tries)


def _put(marker: DeliveryModel, condition: Any) -> None:
    """Write a marker unless another runner moved it first (then theirs stands)."""
    try:
        marker.save(condition=condition)
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        log.info("delivery %s changed meanwhile: kept as written", marker.delivery_id)


def _park_unreadable(table: str, record: dict[str, Any], exc: Exception) -> None:
    raw = json.dumps({"table": table, "record": record}, sort_keys=True, default=str)
    key = f"record:{table}:{record.get('eventID') or hashlib.sha256(raw.encode()).hexdigest()}"
    now = clock.now()
    marker = DeliveryModel(
        delivery_id(key, UNREADABLE),
        event_id=key,
        event_type="unreadable",
        subscriber=UNREADABLE,
        status=PARKED,
        attempts=1,
        last_error=f"{type(exc).__name__}: {exc}"[:500],
        event=raw,
        parked=PARKED,
        parked_at=clock.iso(now),
        updated_at=clock.iso(now),
    )
    _put(marker, DeliveryModel.delivery_id.does_not_exist())


# --- retries ---------------------------------------------------------------------------


def retry_due(
    now: int | None = None, limit: int = 100, registry: reg.Registry | None = None
) -> int:
    """Scheduled: try again each failed delivery whose time has come. Returns how many
    succeeded."""
    now = int(time.time()) if now is None else now
    keys = list(DeliveryModel.by_retry.query("due", DeliveryModel.retry_at <= now, limit=limit))
    if not keys:
        return 0
    registry = registry or reg.loaded()
    ok = 0
    with memo.scope():
        for marker in _fresh(k.delivery_id for k in keys):
            if marker.status != FAILED or int(marker.retry_at or 0) > now:
                continue  # done or retried meanwhile
            ok += _retry(marker, registry)
    return ok


def _fresh(ids: Iterable[str]) -> list[DeliveryModel]:
    found = batch_get({DeliveryModel: [{"delivery_id": i} for i in ids]})
    return list(found[DeliveryModel])


def _retry(marker: DeliveryModel, registry: reg.Registry) -> bool:
    if marker.subscriber == UNREADABLE:
        return _retry_unreadable(marker, registry)
    event = t.decode(marker.event or "")
    sub = registry.by_name.get(marker.subscriber)
    if sub is None:
        return _missing_subscriber(marker, event)
    return _attempt(sub, event, attempts=int(marker.attempts or 0), status=marker.status)


def _missing_subscriber(marker: DeliveryModel, event: t.Event) -> bool:
    _record_failure(
        marker.subscriber,
        event,
        int(marker.attempts or 0),
        marker.status,
        LookupError(f"no subscriber named {marker.subscriber!r} (renamed or removed?)"),
    )
    return False


def _retry_unreadable(marker: DeliveryModel, registry: reg.Registry) -> bool:
    saved = json.loads(marker.event or "{}")
    try:
        events = rec.events_of(saved["table"], saved["record"])
    except Exception as exc:
        marker.update(
            actions=[
                DeliveryModel.attempts.add(1),
                DeliveryModel.last_error.set(f"{type(exc).__name__}: {exc}"[:500]),
                DeliveryModel.updated_at.set(clock.now_iso()),
            ]
        )
        return False
    for event in events:
        deliver(event, registry)
    marker.update(
        actions=[
            DeliveryModel.status.set(DONE),
            DeliveryModel.parked.remove(),
            DeliveryModel.updated_at.set(clock.now_iso()),
        ]
    )
    return True


# --- head office -----------------------------------------------------------------------


def list_parked(limit: int = 100) -> tuple[list[DeliveryModel], bool]:
    """Parked deliveries, oldest first, and whether there are more than ``limit``."""
    items = list(DeliveryModel.by_parked.query(PARKED, limit=limit + 1))
    return items[:limit], len(items) > limit


def retry_parked(delivery: str, registry: reg.Registry | None = None) -> DeliveryModel:
    """Head office tries a parked delivery again now: done if the subscriber succeeds,
    otherwise still parked with the new error and one more attempt. A delivery already
    done is returned as it is."""
    try:
        marker = DeliveryModel.get(delivery, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No delivery {delivery!r}.", code="delivery_not_found") from None
    if marker.status == DONE:
        return marker
    if marker.status != PARKED:
        raise Conflict(
            "This delivery is not parked: it is still being retried automatically.",
            code="delivery_not_parked",
        )
    _retry(marker, registry or reg.loaded())
    return DeliveryModel.get(delivery, consistent_read=True)
