"""Print relays in the API: head office issues and revokes relay tokens; a relay reports
its health (heartbeat), fetches short-lived queue credentials and reports jobs it cannot
print; head office and stores read relay and printer health."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from chalicelib.kernel.schema import Out, Schema, StoreId, Timestamp

PrinterState = Literal["online", "offline", "paper_out", "unknown"]
# no_status: the printer takes tickets but never answers the status query after them, so
# the relay stopped using it; set ack = "close" for it in the relay's config.
PrinterProblem = Literal["no_status"]
RelayStatus = Literal["active", "revoked"]
Health = Literal["ok", "stale", "never_seen", "shared_token", "printer_fault", "revoked"]
# What head office should look at for a store (printer_<state> for a printer not online).
StoreProblem = Literal[
    "no_relay",
    "relay_never_seen",
    "relay_stale",
    "relay_shared_token",
    "printer_offline",
    "printer_paper_out",
    "printer_unknown",
    "printer_no_status",
]

Name = Annotated[str, Meta(min_length=1, max_length=60)]
Text = Annotated[str, Meta(max_length=500)]


class RelayCreate(Schema, kw_only=True):
    name: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=60,
            description="Where the relay runs, for people.",
            examples=["收银台电脑"],
        ),
    ] = "relay"


class PrinterReport(Schema, kw_only=True):
    name: Name
    state: PrinterState
    detail: Text = ""
    paper_mm: Literal[58, 80] | None = None
    problem: Annotated[
        PrinterProblem | None,
        Meta(
            description="no_status: the printer takes tickets but never answers the status "
            'query after them; the relay no longer uses it. Set ack = "close" for it.'
        ),
    ] = None


class LedgerReport(Schema, kw_only=True):
    pending_copies: Annotated[int, Meta(ge=0)] = 0  # received, not yet printed
    unacked_copies: Annotated[int, Meta(ge=0)] = 0  # printed, acknowledgement not yet accepted
    oldest_pending_s: Annotated[int, Meta(ge=0)] = 0


class RelayError(Schema, kw_only=True):
    job_id: Annotated[str, Meta(max_length=100)] | None = None
    message: Text


class Heartbeat(Schema, kw_only=True):
    relay_version: Annotated[str, Meta(max_length=40)] = ""
    hostname: Annotated[str, Meta(max_length=100)] = ""
    started_at: Timestamp | None = None
    printers: Annotated[list[PrinterReport], Meta(max_length=8)] = field(default_factory=list)
    ledger: LedgerReport | None = None
    errors: Annotated[
        list[RelayError], Meta(max_length=20, description="Recent problems, newest last.")
    ] = field(default_factory=list)


class HeartbeatAccepted(Out, kw_only=True):
    relay_id: str
    store_id: str
    received_at: Timestamp
    heartbeat_interval_s: int
    other_relay_host: Annotated[
        str | None,
        Meta(
            description="Set when another running relay (on this host) sends heartbeats "
            "with the same token: the two split the store's tickets. Stop one of them."
        ),
    ] = None


class QueueCredentials(Out, kw_only=True):
    """Temporary AWS credentials that reach only this store's print queue."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: Timestamp
    region: str
    queue_url: str
    sqs_endpoint_url: str | None  # null: the region's AWS endpoint


class PrinterView(Out, kw_only=True):
    name: str
    state: PrinterState
    detail: str
    paper_mm: int | None
    problem: PrinterProblem | None = None  # no_status: set ack = "close" for this printer


class Relay(Out, kw_only=True):
    relay_id: str
    store_id: str
    name: str
    status: RelayStatus
    created_at: Timestamp
    created_by: str
    revoked_at: Timestamp | None
    last_heartbeat_at: Timestamp | None
    heartbeat_age_s: int | None  # seconds since the last heartbeat
    # stale: no heartbeat for over 60 s; shared_token: two running relays use this token
    # (other_relay_host names the other one's host); printer_fault: a printer not online
    health: Health
    other_relay_host: str | None = None
    relay_version: str | None
    printers: list[PrinterView]
    ledger: dict | None
    errors: list[dict]


class IssuedRelay(Relay, kw_only=True):
    token: str  # shown once: put it in the relay's config (token_file)
    token_expires_at: Timestamp


class RelayList(Out, kw_only=True):
    items: list[Relay]


class HealthQuery(Schema, kw_only=True):
    store_id: StoreId | None = None  # head office: absent = every store


class StoreHealth(Out, kw_only=True):
    store_id: str
    store_name: str
    healthy: bool
    problems: list[StoreProblem]  # most serious first
    relays: list[Relay]


class PrintHealth(Out, kw_only=True):
    checked_at: Timestamp
    stale_after_s: int
    stores: list[StoreHealth]


_PRINTERS = [
    {"name": "front", "state": "online", "detail": "", "paper_mm": 80},
    {"name": "kitchen", "state": "paper_out", "detail": "paper end", "paper_mm": 58},
]
_RELAY = {
    "relay_id": "rly-sh-jingan-3f9a1c",
    "store_id": "sh-jingan",
    "name": "收银台电脑",
    "status": "active",
    "created_at": "2026-11-20T01:00:00Z",
    "created_by": "hq.ops",
    "revoked_at": None,
    "last_heartbeat_at": "2026-11-24T02:30:00Z",
    "heartbeat_age_s": 7,
    "health": "printer_fault",
    "relay_version": "0.1.0",
    "printers": _PRINTERS,
    "ledger": {"pending_copies": 0, "unacked_copies": 0, "oldest_pending_s": 0},
    "errors": [],
}
_HEARTBEAT = {
    "relay_version": "0.1.0",
    "hostname": "store-pc-01",
    "started_at": "2026-11-24T00:00:05Z",
    "printers": _PRINTERS,
    "ledger": {"pending_copies": 2, "unacked_copies": 0, "oldest_pending_s": 40},
    "errors": [],
}

EXAMPLES = {
    "RelayCreate": {"name": "收银台电脑"},
    "Relay": _RELAY,
    "IssuedRelay": {
        **_RELAY,
        "health": "never_seen",
        "last_heartbeat_at": None,
        "heartbeat_age_s": None,
        "relay_version": None,
        "printers": [],
        "ledger": None,
        "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
        "token_expires_at": "2028-11-20T01:00:00Z",
    },
    "RelayList": {"items": [_RELAY]},
    "Heartbeat": _HEARTBEAT,
    "HeartbeatAccepted": {
        "relay_id": "rly-sh-jingan-3f9a1c",
        "store_id": "sh-jingan",
        "received_at": "2026-11-24T02:30:00Z",
        "heartbeat_interval_s": 15,
    },
    "QueueCredentials": {
        "access_key_id": "ASIAEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "session_token": "IQoJb3JpZ2luX2VjE...",
        "expires_at": "2026-11-24T03:30:00Z",
        "region": "cn-north-1",
        "queue_url": "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/daojia-prod-print-sh-jingan.fifo",
        "sqs_endpoint_url": None,
    },
    "PrintHealth": {
        "checked_at": "2026-11-24T02:30:07Z",
        "stale_after_s": 60,
        "stores": [
            {
                "store_id": "sh-jingan",
                "store_name": "鲜到家 静安寺店",
                "healthy": False,
                "problems": ["printer_paper_out"],
                "relays": [_RELAY],
            }
        ],
    },
}
