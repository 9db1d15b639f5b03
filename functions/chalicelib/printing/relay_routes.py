"""Print relays: head office issues and revokes relay tokens and watches relay and printer
health; a relay sends heartbeats and gets credentials for its own store's queue."""

from __future__ import annotations

from chalicelib.auth.principal import BACK_OFFICE, HQ_ADMIN, RELAY, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.printing import relay_schemas as s

service = lazy_module("chalicelib.printing.relays")

area = Area(
    "relays", __name__, "Store print relays: tokens, heartbeats, queue credentials, health."
)


@area.route(
    "/admin/stores/{store_id}/relays",
    "POST",
    summary="Issue a relay token for a store",
    roles={HQ_ADMIN},
    body=s.RelayCreate,
    response=s.IssuedRelay,
    status=201,
    errors=(403, 404, 422),
    request_example={"name": "收银台电脑"},
)
def issue(store_id: str, body: s.RelayCreate, principal: Principal) -> s.IssuedRelay:
    """Head office only. The answer holds the relay's ``token`` — the only time it is
    shown: put it in the store PC's relay config (``token_file``). The token reaches only
    this store's relay routes (acknowledgements, heartbeat, queue credentials) and stays
    valid until revoked (or ``token_expires_at``, two years by default). Issue a new one to
    replace a lost token, then revoke the old relay."""
    return service.issue(principal, store_id, body)


@area.route(
    "/admin/stores/{store_id}/relays",
    "GET",
    summary="A store's relays with their health",
    roles=BACK_OFFICE,
    response=s.RelayList,
    errors=(403,),
)
def list_relays(store_id: str, principal: Principal) -> s.RelayList:
    """Head office, or the store's own staff. Tokens are never shown again."""
    return service.list_relays(principal, store_id)


@area.route(
    "/admin/relays/{relay_id}/revoke",
    "POST",
    summary="Revoke a relay token",
    roles={HQ_ADMIN},
    response=s.Relay,
    errors=(403, 404),
)
def revoke(relay_id: str, principal: Principal) -> s.Relay:
    """Head office only. From the relay's next call on, every relay route answers it 401
    ``token_revoked`` and it can get no new queue credentials (those already vended lapse
    within the hour). Idempotent."""
    return service.revoke(principal, relay_id)


@area.route(
    "/admin/print-health",
    "GET",
    summary="Relay and printer health per store",
    roles=BACK_OFFICE,
    query=s.HealthQuery,
    response=s.PrintHealth,
    errors=(403, 404, 422),
)
def print_health(query: s.HealthQuery, principal: Principal) -> s.PrintHealth:
    """Every store (head office, without ``store_id``) or one store, with its relays'
    last heartbeat and printers. A relay is ``stale`` when its last heartbeat is older than
    ``stale_after_s`` (60 s); ``printer_fault`` when a printer reported offline, paper out
    or unknown. A store is ``healthy`` when it has an active relay, every active relay is
    fresh and every printer is online; otherwise ``problems`` says why (``no_relay``,
    ``relay_never_seen``, ``relay_stale``, ``printer_offline``, ``printer_paper_out``,
    ``printer_unknown``). Store accounts see their own store."""
    return service.health(principal, query.store_id)


@area.route(
    "/relay/heartbeat",
    "POST",
    summary="The relay is alive: its printers and backlog",
    roles={RELAY},
    body=s.Heartbeat,
    response=s.HeartbeatAccepted,
    errors=(401, 403, 422),
)
def heartbeat(body: s.Heartbeat, principal: Principal) -> s.HeartbeatAccepted:
    """Every ``heartbeat_interval_s`` (15 s), and at once when a printer's state changes,
    so head office sees a fault within 30 s. Printer states come from DLE EOT on a
    separate short connection: ``online``, ``offline``, ``paper_out``, ``unknown``."""
    return service.heartbeat(principal, body)


@area.route(
    "/relay/credentials",
    "POST",
    summary="Short-lived AWS credentials for the relay's own print queue",
    roles={RELAY},
    response=s.QueueCredentials,
    errors=(401, 403),
)
def credentials(principal: Principal) -> s.QueueCredentials:
    """No body. Temporary credentials (an hour) allowed only ``sqs:ReceiveMessage``,
    ``sqs:ChangeMessageVisibility``, ``sqs:DeleteMessage`` and ``sqs:GetQueueAttributes``
    on this store's print queue (the session policy names that one queue), with its URL.
    Ask again a few minutes before ``expires_at``. ``sqs_endpoint_url`` is null in AWS
    (use the region's endpoint) and the local stack's SQS locally."""
    return service.credentials(principal)
