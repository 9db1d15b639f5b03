"""A member's ledger entries newest first, read from the entries table itself.

The loyalty entries table (points and growth) is keyed by member and cause
(``earn:order:<id>``): the key makes every write idempotent, and refunds find an order's
earn by it. It has no time index: an index entry would cost a second write unit for
every entry, on every order (decisions.md entry 32). A member's history is read
instead as the member's whole partition (one Query, eventually consistent; a member with
1,000 entries is about 200 KB, 25 read units) and ordered here by ``at_key`` ("<at with
ms>#<n>#<cause>"). A page's cursor is the ``at_key`` it ended at.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from chalicelib.kernel import cursors

E = TypeVar("E")  # an entries model: PointsEntryModel, GrowthEntryModel
CURSOR_KEYS = ("customer_id", "at_key")


def newest_first(model: Any, customer_id: str) -> list[Any]:
    """Every entry of the member in ``model``'s ledger, newest first. The points and the
    growth entries share the table (an order's completion is one item holding both): an
    item belongs to a ledger when it has that ledger's part (its ``kind``)."""
    found: Iterator[Any] = model.query(customer_id)
    mine = [e for e in found if e.kind is not None]
    return sorted(mine, key=lambda e: e.at_key or "", reverse=True)


def page(
    model: Any, customer_id: str, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """``limit`` entries after ``cursor`` (400 ``bad_cursor`` for another listing's),
    and the cursor of the next page (None: the last page)."""
    start = cursors.decode(cursor, CURSOR_KEYS, {"customer_id": customer_id})
    entries = newest_first(model, customer_id)
    if start is not None:
        before = start["at_key"]["S"]
        entries = [e for e in entries if (e.at_key or "") < before]
    shown = entries[:limit]
    if len(entries) <= limit or not shown:
        return shown, None
    return shown, cursors.encode(
        {"customer_id": {"S": customer_id}, "at_key": {"S": shown[-1].at_key}}
    )
