"""What an audit entry says changed: plain Python, no AWS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Fields never written into the log: secrets, and bookkeeping every write touches.
HIDDEN = frozenset({"password", "password_hash", "token", "updated_at", "version"})


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields of ``after`` whose value differs from
    ``before`` (a field missing from ``before`` was None); secrets are shown as
    ``"***"`` (that they changed is what the log needs), bookkeeping is left out.
    Values must already be plain JSON (money in integer fen)."""
    out: dict[str, list[Any]] = {}
    for field, new in after.items():
        if field in ("updated_at", "version"):
            continue
        old = before.get(field)
        if old == new:
            continue
        if field in HIDDEN:
            out[field] = ["***" if old is not None else None, "***"]
        else:
            out[field] = [old, new]
    return out


def target_key(target_type: str, target_id: str) -> str:
    return f"{target_type}#{target_id}"
