"""Print relays: tokens head office issues per store and can revoke, heartbeats, relay and
printer health, and the token vending machine that gives a relay short-lived AWS
credentials for its own store's print queue and nothing else.

Why vending rather than an IAM user per store: stores are created at run time, and a
template cannot grow users as they come. The API assumes one relay role (created by the
template, allowed on every ``daojia-<stage>-print-*`` queue) with a *session policy*
naming only the caller's queue; the credentials it hands out are the intersection of the
two, so a relay can never reach another store's queue, whatever it asks for.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urlparse

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth import tokens
from chalicelib.auth.principal import RELAY, Principal, require_store_access
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import Conflict, NotFound, Unauthorized
from chalicelib.printing import print_queues
from chalicelib.printing import relay_schemas as s
from chalicelib.printing.relay_models import RelayModel
from chalicelib.stores.models import StoreModel
from chalicelib.stores.service import get_store_model

log = logging.getLogger("daojia.relays")

HEARTBEAT_INTERVAL_S = config.RELAY_HEARTBEAT_INTERVAL_S  # 15 s; shorter only in tests
STALE_AFTER_S = config.RELAY_STALE_AFTER_S  # no heartbeat for this long: flagged (60 s)
# Two relays on one token: a displaced relay came back within this long (4 heartbeats)...
SHARED_CAME_BACK_WITHIN_S = 60
# ... and the flag stays this long after the last time one came back.
SHARED_FLAG_KEPT_S = 120
# What a relay may do on its own queue: receive, hold (extend visibility), delete.
QUEUE_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
)


# --- issuing and revoking ----------------------------------------------------------------


def issue(principal: Principal, store_id: str, body: s.RelayCreate) -> s.IssuedRelay:
    """A new relay for the store and its token (shown only in this answer)."""
    get_store_model(store_id)  # 404 for an unknown store
    relay = RelayModel(
        f"rly-{store_id}-{secrets.token_hex(3)}",
        store_id=store_id,
        name=body.name,
        status="active",
        token_id=secrets.token_hex(12),
        created_at=clock.now_iso(),
        created_by=principal.subject,
    )
    entry = audit.new_entry(
        principal,
        "relay_token.issue",
        audit.Target("relay", relay.relay_id, store_id),
        {},
        {"name": body.name, "status": "active"},
    )

    def write(tx: Tx) -> None:
        tx.save(relay, condition=RelayModel.relay_id.does_not_exist(), label="relay")
        if entry is not None:
            audit.piece_of(entry).add_to(tx)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "relay" in exc.failed:
            raise Conflict("Relay id taken; retry.", code="relay_exists") from None
        raise
    token, exp = tokens.issue(
        relay.relay_id, RELAY, store_id, config.RELAY_TOKEN_TTL_S, token_id=relay.token_id
    )
    log.info("relay %s issued for store %s by %s", relay.relay_id, store_id, principal)
    return s.IssuedRelay(
        **_fields(relay), token=token, token_expires_at=clock.iso(datetime.fromtimestamp(exp, UTC))
    )


def revoke(principal: Principal, relay_id: str) -> s.Relay:
    """Revoke a relay: its token stops working on its next call. Idempotent."""
    relay = _get(relay_id)
    if relay.status != "revoked":
        # A relay is revoked once: the entry's id is the relay's, and the update's
        # condition makes a concurrent second revoke a no-op.
        entry = audit.new_entry(
            principal,
            "relay_token.revoke",
            audit.Target("relay", relay_id, relay.store_id),
            {"status": relay.status},
            {"status": "revoked"},
            key="revoke",
        )
        actions = [
            RelayModel.status.set("revoked"),
            RelayModel.revoked_at.set(clock.now_iso()),
            RelayModel.revoked_by.set(principal.subject),
        ]

        def write(tx: Tx) -> None:
            tx.update(
                relay, actions=actions, condition=RelayModel.status != "revoked", label="relay"
            )
            if entry is not None:
                audit.piece_of(entry).add_to(tx)

        try:
            transact(write)
            log.warning("relay %s of store %s revoked by %s", relay_id, relay.store_id, principal)
        except TransactionCancelled as exc:
            if "relay" not in exc.failed:
                raise
        relay = _get(relay_id)
    return view(relay)


def list_relays(principal: Principal, store_id: str) -> s.RelayList:
    require_store_access(principal, store_id)
    return s.RelayList(items=[view(r) for r in _store_relays(store_id)])


def _fetch(keys_only: Any) -> list[RelayModel]:
    """The records behind a keys-only index query, oldest first (BatchGetItem by 100)."""
    ids = [r.relay_id for r in keys_only]
    found: list[RelayModel] = []
    for start in range(0, len(ids), 100):
        keys = [{"relay_id": i} for i in ids[start : start + 100]]
        found.extend(batch_get({RelayModel: keys})[RelayModel])
    return sorted(found, key=lambda r: (r.created_at, r.relay_id))


def _store_relays(store_id: str) -> list[RelayModel]:
    return _fetch(RelayModel.by_store.query(store_id))


# --- what a relay calls -------------------------------------------------------------------


def _revoked() -> Unauthorized:
    return Unauthorized(
        "This relay token was revoked or replaced; ask head office for a new one.",
        code="token_revoked",
    )


def check_relay(principal: Principal, relay: RelayModel | None) -> None:
    """Raise 401 ``token_revoked`` unless ``relay`` is the caller's record, active, and
    holds the caller's token id."""
    if (
        principal.role != RELAY
        or relay is None
        or relay.relay_id != principal.subject
        or relay.status != "active"
        or relay.token_id != principal.token_id
        or relay.store_id != principal.store_id
    ):
        raise _revoked()


def active_relay(principal: Principal) -> RelayModel:
    """The caller's relay record (one consistent read), or 401 ``token_revoked``."""
    try:
        relay = RelayModel.get(principal.subject, consistent_read=True)
    except DoesNotExist:
        relay = None
    check_relay(principal, relay)
    assert relay is not None
    return relay


def heartbeat(principal: Principal, body: s.Heartbeat) -> s.HeartbeatAccepted:
    """Record the relay's health. One conditional write: a revoked token is refused by the
    write's own condition, with no read first. When the heartbeat comes from another running
    relay than the last one (a restart, or two PCs sharing the token), a second write
    records the change (see ``shares_token``)."""
    now = clock.now_iso()
    me = instance_of(body)
    relay = RelayModel(principal.subject)
    allowed = (
        RelayModel.relay_id.exists()
        & (RelayModel.status == "active")
        & (RelayModel.token_id == (principal.token_id or "-"))
        & (RelayModel.store_id == (principal.store_id or "-"))
    )
    beat = [RelayModel.last_heartbeat_at.set(now), RelayModel.heartbeat.set(_to_plain(body))]
    same_instance = RelayModel.instance.does_not_exist() | (RelayModel.instance == me)
    try:
        relay.update(
            actions=[*beat, RelayModel.instance.set(me)], condition=allowed & same_instance
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        _switch_instance(relay, allowed, beat, me, now)
    other = _other_host(relay) if shares_token(relay, clock.now()) else None
    if other is not None:
        log.warning("relay %s: heartbeats alternate with a relay on %s", relay.relay_id, other)
    return s.HeartbeatAccepted(
        relay_id=principal.subject,
        store_id=principal.store_id or "",
        received_at=now,
        heartbeat_interval_s=HEARTBEAT_INTERVAL_S,
        other_relay_host=other,
    )


def instance_of(body: s.Heartbeat) -> str:
    """Which running relay sent a heartbeat: its host and start time."""
    return f"{body.hostname}|{body.started_at or ''}"


def _switch_instance(relay: RelayModel, allowed: Any, beat: list[Any], me: str, now: str) -> None:
    """Another relay than the last one sends heartbeats: shift the instance history by one
    (DynamoDB evaluates every right-hand side before the update, so this is one write)."""
    try:
        relay.update(
            actions=[
                *beat,
                RelayModel.earlier_instance.set(RelayModel.previous_instance | ""),
                RelayModel.earlier_changed_at.set(RelayModel.instance_changed_at | ""),
                RelayModel.previous_instance.set(RelayModel.instance | ""),
                RelayModel.instance.set(me),
                RelayModel.instance_changed_at.set(now),
            ],
            condition=allowed,
        )
    except UpdateError as exc:
        if is_condition_failure(exc):
            raise _revoked() from None
        raise


def shares_token(relay: RelayModel, now: datetime) -> bool:
    """Two running relays use this relay's token: the latest heartbeat's relay had been
    displaced by another one and came back within ``SHARED_CAME_BACK_WITHIN_S`` (A, B, A),
    within the last ``SHARED_FLAG_KEPT_S``.
    A restart replaces the instance for good and is never taken for this. Such relays split
    the store's tickets between two PCs (and printers), which nobody may be watching."""
    if not relay.instance or not relay.instance_changed_at or not relay.earlier_changed_at:
        return False
    if relay.earlier_instance != relay.instance or relay.previous_instance == relay.instance:
        return False
    came_back = _parse(relay.instance_changed_at)
    displaced = _parse(relay.earlier_changed_at)
    return (came_back - displaced).total_seconds() <= SHARED_CAME_BACK_WITHIN_S and (
        now - came_back
    ).total_seconds() <= SHARED_FLAG_KEPT_S


def _other_host(relay: RelayModel) -> str:
    return (relay.previous_instance or "").rsplit("|", 1)[0] or "?"


def queue_arn(queue_url: str, partition: str = "aws") -> str:
    """``arn:<partition>:sqs:<region>:<account>:<name>`` from a queue URL
    (``https://sqs.<region>.amazonaws.com/<account>/<name>``; locally ``http://host/<account>/<name>``)."""
    parts = urlparse(queue_url).path.strip("/").split("/")
    account, name = parts[-2], parts[-1]
    return f"arn:{partition}:sqs:{config.REGION}:{account}:{name}"


def session_policy(queue_arn_: str) -> dict[str, Any]:
    """The session policy of vended credentials: the relay's actions on exactly one queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OwnStorePrintQueueOnly",
                "Effect": "Allow",
                "Action": list(QUEUE_ACTIONS),
                "Resource": [queue_arn_],
            }
        ],
    }


@lru_cache(maxsize=1)
def _sts() -> Any:
    import boto3  # only the credentials route needs STS

    return boto3.client("sts", region_name=config.REGION)


def _partition(role_arn: str) -> str:
    parts = role_arn.split(":")
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def credentials(principal: Principal) -> s.QueueCredentials:
    """Short-lived credentials for the caller's own store queue (token vending machine)."""
    relay = active_relay(principal)
    url = print_queues.url(relay.store_id)
    policy = session_policy(queue_arn(url, _partition(config.RELAY_ROLE_ARN)))
    answer = _sts().assume_role(
        RoleArn=config.RELAY_ROLE_ARN,
        RoleSessionName=f"relay-{relay.store_id}"[:64],
        Policy=json.dumps(policy, separators=(",", ":")),
        DurationSeconds=config.RELAY_CREDENTIALS_TTL_S,
        Tags=[{"Key": "store_id", "Value": relay.store_id}],
    )
    creds = answer["Credentials"]
    expires = creds["Expiration"]
    return s.QueueCredentials(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expires_at=clock.iso(expires) if isinstance(expires, datetime) else str(expires),
        region=config.REGION or "",
        queue_url=url,
        sqs_endpoint_url=_local_sqs_endpoint(),
    )


def _local_sqs_endpoint() -> str | None:
    """Locally the relay must reach the local stack's SQS; in AWS it uses the region's."""
    if not config.is_local():
        return None
    return os.environ.get("AWS_ENDPOINT_URL_SQS") or os.environ.get("AWS_ENDPOINT_URL") or None


# --- health --------------------------------------------------------------------------------


def relay_health(relay: RelayModel, now: datetime) -> tuple[str, int | None]:
    """(health, seconds since the last heartbeat)."""
    if relay.status == "revoked":
        return "revoked", None
    if not relay.last_heartbeat_at:
        return "never_seen", None
    age = max(int((now - _parse(relay.last_heartbeat_at)).total_seconds()), 0)
    if age > STALE_AFTER_S:
        return "stale", age
    if shares_token(relay, now):
        return "shared_token", age
    printers = (relay.heartbeat or {}).get("printers") or []
    if any(p.get("state") != "online" or p.get("problem") for p in printers):
        return "printer_fault", age
    return "ok", age


def view(relay: RelayModel, now: datetime | None = None) -> s.Relay:
    return s.Relay(**_fields(relay, now))


def _fields(relay: RelayModel, now: datetime | None = None) -> dict[str, Any]:
    health, age = relay_health(relay, now or clock.now())
    beat = relay.heartbeat or {}
    return {
        "relay_id": relay.relay_id,
        "store_id": relay.store_id,
        "name": relay.name,
        "status": relay.status,
        "created_at": relay.created_at,
        "created_by": relay.created_by,
        "revoked_at": relay.revoked_at,
        "last_heartbeat_at": relay.last_heartbeat_at,
        "heartbeat_age_s": age,
        "health": health,
        "other_relay_host": _other_host(relay) if health == "shared_token" else None,
        "relay_version": beat.get("relay_version"),
        "printers": [
            s.PrinterView(
                name=p.get("name", ""),
                state=p.get("state", "unknown"),
                detail=p.get("detail", ""),
                paper_mm=p.get("paper_mm"),
                problem=p.get("problem"),
            )
            for p in beat.get("printers") or []
        ],
        "ledger": beat.get("ledger"),
        "errors": beat.get("errors") or [],
    }


def store_problems(relays: list[s.Relay]) -> list[s.StoreProblem]:
    """What head office should look at for one store, most serious first."""
    active = [r for r in relays if r.status == "active"]
    if not active:
        return ["no_relay"]
    problems: list[str] = []
    for relay in active:
        if relay.health == "never_seen":
            problems.append("relay_never_seen")
        elif relay.health == "stale":
            problems.append("relay_stale")
        else:
            if relay.health == "shared_token":
                problems.append("relay_shared_token")
            # A printer with a problem the relay named: that problem says what to do (a
            # printer that never answers status also reads "unknown").
            problems.extend(
                f"printer_{p.problem or p.state}"
                for p in relay.printers
                if p.problem or p.state != "online"
            )
    # printer_<problem or state>: PrinterProblem and PrinterState are StoreProblem's
    # printer_* values.
    return cast(list[s.StoreProblem], list(dict.fromkeys(problems)))


def health(principal: Principal, store_id: str | None) -> s.PrintHealth:
    """Relay and printer health per store. Head office: every store (two queries and a
    batch read), or one; store accounts: their own store."""
    if not principal.is_hq:
        store_id = store_id or principal.store_id
    now = clock.now()
    if store_id:
        require_store_access(principal, store_id)
        stores = [get_store_model(store_id)]
    else:
        stores = list(StoreModel.by_listing.query("stores"))
    return s.PrintHealth(
        checked_at=clock.iso(now), stale_after_s=STALE_AFTER_S, stores=stores_health(stores, now)
    )


def stores_health(stores: list[StoreModel], now: datetime | None = None) -> list[s.StoreHealth]:
    """The health of each of ``stores``, in their order. One store's relays come from its
    index (a query and a batch read); several stores' from the relay listing."""
    now = now or clock.now()
    if len(stores) == 1:
        relays = _store_relays(stores[0].store_id)
    else:
        relays = _fetch(RelayModel.by_listing.query("relays")) if stores else []
    by_store: dict[str, list[s.Relay]] = {}
    for relay in relays:
        by_store.setdefault(relay.store_id, []).append(view(relay, now))
    out = []
    for store in stores:
        views = by_store.get(store.store_id, [])
        problems = store_problems(views)
        out.append(
            s.StoreHealth(
                store_id=store.store_id,
                store_name=store.name,
                healthy=not problems,
                problems=problems,
                relays=views,
            )
        )
    return out


# --- helpers ------------------------------------------------------------------------------


def _get(relay_id: str) -> RelayModel:
    try:
        return RelayModel.get(relay_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No relay {relay_id!r}.", code="relay_not_found") from None


def _parse(iso: str) -> datetime:
    return clock.parse(iso)


def _to_plain(body: s.Heartbeat) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(body)
