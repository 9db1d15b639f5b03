"""The audit log's read route."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

DAY = r"^\d{4}-\d{2}-\d{2}$"


class AuditQuery(Schema, kw_only=True):
    actor: Annotated[str, Meta(max_length=64)] | None = None
    target_type: Annotated[str, Meta(pattern=r"^[a-z_]{1,32}$", examples=["store_item"])] | None = (
        None
    )
    target_id: Annotated[str, Meta(max_length=200, examples=["sh-jingan/100001"])] | None = None
    store_id: Annotated[str, Meta(max_length=32)] | None = None
    date_from: (
        Annotated[
            str, Meta(pattern=DAY, description="First UTC day, inclusive (default: 6 days ago).")
        ]
        | None
    ) = None
    date_to: (
        Annotated[str, Meta(pattern=DAY, description="Last UTC day, inclusive (default: today).")]
        | None
    ) = None
    cursor: Annotated[str, Meta(max_length=2000)] | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 50


class Change(Out, kw_only=True):
    field: str
    before: Any
    after: Any


class AuditEntry(Out, kw_only=True):
    """One recorded change: who (actor, role, the actor's store), when, what (action),
    on what (target type and id, the store it belongs to), and the fields that changed
    with their values before and after (money in fen)."""

    entry_id: str
    at: Timestamp
    actor: str
    role: str
    actor_store_id: str | None
    action: Annotated[str, Meta(examples=["store_item.update"])]
    target_type: str
    target_id: str
    store_id: str | None
    changes: list[Change]


class AuditPage(Out, kw_only=True):
    items: list[AuditEntry]
    next_cursor: str | None


_ENTRY = {
    "entry_id": "20261205T011500123Z-3f9a1c2b",
    "at": "2026-12-05T01:15:00.123Z",
    "actor": "hq",
    "role": "hq_admin",
    "actor_store_id": None,
    "action": "store_item.update",
    "target_type": "store_item",
    "target_id": "sh-jingan/100001",
    "store_id": "sh-jingan",
    "changes": [{"field": "price_fen", "before": 2590, "after": 2390}],
}
EXAMPLES = {"AuditEntry": _ENTRY, "AuditPage": {"items": [_ENTRY], "next_cursor": None}}
