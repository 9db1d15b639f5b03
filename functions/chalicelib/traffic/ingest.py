"""Counting a batch of storefront events exactly once (docs/campaigns.md, "Storefront
events").

One batch is at most two reads and one TransactWriteItems:

* the stores (for their time zone) and campaigns it names, from a per-container cache,
  with one eventually consistent BatchGet for the ids not cached yet;
* the device's markers for the (store, local day) pairs whose events may add a distinct
  visitor (one eventually consistent BatchGet; none for a batch of product views);
* one transaction: the batch marker (put if absent: a replay fails it and counts
  nothing), one ADD per store × day × campaign row touched, and the device's day markers
  that gain a flag (each conditioned on the version read, so two batches of one device
  racing cannot both add the same visitor: the loser reads again and re-plans).
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import partial
from typing import Any

import msgspec

from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, ServiceUnavailable, ValidationFailed
from chalicelib.stores.models import StoreModel
from chalicelib.traffic import rules
from chalicelib.traffic import schemas as s
from chalicelib.traffic.models import NO_CAMPAIGN, TrafficDayModel, TrafficMarkerModel

CACHE_S = 600.0  # a store's zone and a campaign's existence are cached this long
ATTEMPTS = 5  # re-plans after a racing batch of the same device changed its markers

_stores: dict[str, tuple[str, float]] = {}  # store_id -> (time zone, cached at)
_campaigns: dict[str, float] = {}  # campaign ids known to exist -> cached at


def forget_caches() -> None:
    """Tests and benches: start from a cold container."""
    _stores.clear()
    _campaigns.clear()


def _lookup(store_ids: set[str], campaign_ids: set[str]) -> tuple[dict[str, str], set[str]]:
    """The zones of the stores that exist and the campaign ids that exist, reading only
    what the cache does not hold (unknown ids are not cached: they cost a read each time,
    which a real storefront never causes)."""
    now = time.monotonic()
    missing_stores = sorted(i for i in store_ids if now - _stores.get(i, ("", -1e9))[1] > CACHE_S)
    missing_campaigns = sorted(i for i in campaign_ids if now - _campaigns.get(i, -1e9) > CACHE_S)
    if missing_stores or missing_campaigns:
        keys: dict[Any, list[dict[str, Any]]] = {}
        if missing_stores:
            keys[StoreModel] = [{"store_id": i} for i in missing_stores]
        if missing_campaigns:
            keys[CampaignModel] = [{"campaign_id": i} for i in missing_campaigns]
        rows = batch_get(keys, consistent=False)
        for store in rows.of(StoreModel):
            _stores[store.store_id] = (store.timezone or "Asia/Shanghai", now)
        for campaign in rows.of(CampaignModel):
            _campaigns[campaign.campaign_id] = now
    zones = {i: _stores[i][0] for i in store_ids if i in _stores}
    return zones, {i for i in campaign_ids if i in _campaigns}


def ingest(batch: s.EventBatch) -> s.EventBatchResult:
    """Count a batch (see the module's docstring); a replay answers ``duplicate``."""
    now = clock.now()
    zones, campaigns = _lookup(
        {e.store_id for e in batch.events}, {e.campaign_id for e in batch.events if e.campaign_id}
    )
    counted: list[rules.Counted] = []
    rejections: list[s.EventRejection] = []
    uncampaigned = 0
    for i, e in enumerate(batch.events):
        reason = rules.time_problem(e.at, now)
        if reason is None and e.store_id not in zones:
            reason = "unknown_store"
        if reason is not None:
            rejections.append(s.EventRejection(index=i, reason=reason))  # type: ignore[arg-type]
            continue
        campaign = e.campaign_id if e.campaign_id in campaigns else None
        uncampaigned += bool(e.campaign_id and campaign is None)
        day = rules.local_day(e.at, zones[e.store_id])
        counted.append(rules.Counted(e.type, e.store_id, day, campaign or NO_CAMPAIGN))
    result = s.EventBatchResult(
        batch_id=batch.batch_id,
        duplicate=False,
        accepted=len(counted),
        rejected=len(rejections),
        rejections=rejections,
        uncampaigned=uncampaigned,
    )
    if not counted:
        return result  # nothing to count, nothing written
    if rules.most_tx_items(counted) > rules.MAX_TX_ITEMS:
        raise ValidationFailed(
            "This batch names too many stores, days and campaigns to count at once; send "
            "the events of one store per batch.",
            code="batch_too_spread",
        )
    digest = rules.digest(batch.device_id, msgspec.to_builtins(batch.events))
    for attempt in range(ATTEMPTS):
        markers = _day_markers(batch.device_id, counted, consistent=attempt > 0)
        flags = {sd: m[1] for sd, m in markers.items()}
        todo = rules.plan(counted, flags)
        try:
            transact(
                partial(
                    _write,
                    batch=batch,
                    todo=todo,
                    markers=markers,
                    result=result,
                    digest=digest,
                    now=now,
                )
            )
            return result
        except TransactionCancelled as exc:
            if exc.code_of("batch") == "ConditionalCheckFailed":
                return _replayed(batch, digest)
            if not any(label.startswith("device:") for label in exc.failed) and (
                "TransactionConflict" not in exc.codes
            ):
                raise
    raise ServiceUnavailable(
        "This device's events are being counted by another request; send the same batch "
        "again in a few seconds.",
        code="traffic_busy",
    )


def _day_markers(
    device_id: str, counted: list[rules.Counted], consistent: bool
) -> dict[tuple[str, str], tuple[int | None, set[str]]]:
    """(store, day) -> (version read or None when absent, flags still live) for the
    store-days whose events may add a distinct visitor. Expired markers (TTL has not
    deleted them yet) hold no live flags but keep their version for the condition."""
    pairs = sorted({(e.store_id, e.day) for e in counted if e.type in rules.DISTINCT})
    if not pairs:
        return {}
    by_key = {rules.day_key(device_id, st, d): (st, d) for st, d in pairs}
    rows = batch_get({TrafficMarkerModel: [{"key": k} for k in by_key]}, consistent=consistent).of(
        TrafficMarkerModel
    )
    now = clock.now()
    out: dict[tuple[str, str], tuple[int | None, set[str]]] = {sd: (None, set()) for sd in pairs}
    for m in rows:
        live = m.expires_at is not None and m.expires_at > now
        out[by_key[m.key]] = (int(m.version or 0), set(m.flags or ()) if live else set())
    return out


def _write(
    tx: Tx,
    *,
    batch: s.EventBatch,
    todo: rules.Plan,
    markers: dict[tuple[str, str], tuple[int | None, set[str]]],
    result: s.EventBatchResult,
    digest: str,
    now: datetime,
) -> None:
    M = TrafficMarkerModel
    marker = M(
        rules.batch_key(batch.device_id, batch.batch_id),
        accepted=result.accepted,
        rejected=result.rejected,
        digest=digest,
        expires_at=now + rules.BATCH_MARKER_TTL,
    )
    # An expired marker of a reused id does not block: its events are past MAX_LAG anyway.
    tx.save(marker, condition=M.key.does_not_exist() | (M.expires_at < now), label="batch")
    stamp = clock.iso(now)
    for (store_id, day_campaign), adds in sorted(todo.rows.items()):
        T = TrafficDayModel
        actions = [getattr(T, counter).add(n) for counter, n in sorted(adds.items())]
        actions += [T.updated_at.set(stamp), T.expires_at.set(now + rules.COUNTER_TTL)]
        label = f"day:{store_id}:{day_campaign}"
        tx.update(T(store_id, day_campaign), actions=actions, label=label)
    for (store_id, day), gained in sorted(todo.new_flags.items()):
        key = rules.day_key(batch.device_id, store_id, day)
        version, live = markers.get((store_id, day), (None, set()))
        expires = rules.day_marker_expiry(day)
        label = f"device:{store_id}:{day}"
        if version is None:
            item = M(key, flags=gained, version=1, expires_at=expires)
            tx.save(item, condition=M.key.does_not_exist(), label=label)
        else:
            actions = [
                M.flags.set(live | gained),
                M.version.set(version + 1),
                M.expires_at.set(expires),
            ]
            tx.update(M(key), actions=actions, condition=M.version == version, label=label)


def _replayed(batch: s.EventBatch, digest: str) -> s.EventBatchResult:
    """The answer to a batch counted before: what the first delivery counted; 409 when
    the id was used for other events."""
    first = TrafficMarkerModel.get(
        rules.batch_key(batch.device_id, batch.batch_id), consistent_read=True
    )
    if first.digest != digest:
        raise Conflict(
            "This batch_id was already used for other events; give every batch a new id "
            "(a retry sends the same batch unchanged).",
            code="batch_id_reused",
        )
    return s.EventBatchResult(
        batch_id=batch.batch_id,
        duplicate=True,
        accepted=int(first.accepted or 0),
        rejected=int(first.rejected or 0),
        rejections=[],
        uncampaigned=0,
    )
