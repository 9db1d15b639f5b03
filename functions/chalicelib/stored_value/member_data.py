"""The member's stored value for their data export (PIPL Art. 45), named in
members/providers.py: the balance and every ledger entry, newest first. Nothing here is
erased when a member deletes their account: the ledger is kept for accounting (prepaid
liability) and holds no personal data beyond the member id."""

from __future__ import annotations

from typing import Any

import msgspec

from chalicelib.stored_value import schemas as s
from chalicelib.stored_value import service


def export_stored_value(customer_id: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = service.entries(customer_id, s.EntryQuery(cursor=cursor, limit=100))
        items += [msgspec.to_builtins(x) for x in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    return {"balance": msgspec.to_builtins(service.balance(customer_id)), "entries": items}
