"""Rules of a bulk change of store items (price, stock, on-sale), plain Python.

A bulk job is validated row by row before anything is written: a bad row (wrong type,
out of range, a duplicate of an earlier row) is reported with its field and reason and
the good rows still apply. What each row may change and whether it still applies when
it is written are decided here, so the service only reads and writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.catalogue.rules import (
    MAX_PRICE_FEN,
    MAX_STOCK,
    SKU_RE,
    STORE_ID_RE,
    RowError,
    _Row,
)

MAX_ROWS = 1000  # per job: every row's result is kept in the job record (DynamoDB: 400 KB)
INLINE_ROWS = 200  # up to this many rows are applied in the request; more go to the worker
ROW_FIELDS = frozenset(
    {"store_id", "sku", "price_fen", "stock", "on_sale", "expected_price_fen", "expected_stock"}
)
CHANGES = ("price_fen", "stock", "on_sale")


@dataclass(frozen=True)
class BulkRow:
    """One valid row: ``changes`` holds only the fields the row sets; ``expected`` the
    values the caller saw (the row is refused if the item holds something else)."""

    row: int
    store_id: str
    sku: str
    changes: dict[str, Any]
    expected: dict[str, int]

    def to_record(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "store_id": self.store_id,
            "sku": self.sku,
            "changes": dict(self.changes),
            "expected": dict(self.expected),
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> BulkRow:
        return cls(
            row=int(data["row"]),
            store_id=str(data["store_id"]),
            sku=str(data["sku"]),
            changes={
                k: (bool(v) if k == "on_sale" else int(v))
                for k, v in (data.get("changes") or {}).items()
            },
            expected={k: int(v) for k, v in (data.get("expected") or {}).items()},
        )


def parse_row(raw: Any, row: int) -> BulkRow | list[RowError]:
    """A valid row, or every reason it is refused (``RowError.line`` is the row's index)."""
    if not isinstance(raw, dict):
        return [RowError(row, "(row)", "must be an object")]
    r = _Row(raw, row)
    for name in sorted(set(raw) - ROW_FIELDS):
        r.fail(str(name)[:40], "unknown field")
    store_id = r.text("store_id", required=True, max_len=32, pattern=STORE_ID_RE) or ""
    sku = r.text("sku", required=True, max_len=32, pattern=SKU_RE) or ""
    changes: dict[str, Any] = {}
    hint = " (integer fen: 1290 is ¥12.90)"
    if r.present("price_fen"):
        changes["price_fen"] = r.integer("price_fen", minimum=1, maximum=MAX_PRICE_FEN, hint=hint)
    if r.present("stock"):
        changes["stock"] = r.integer("stock", minimum=0, maximum=MAX_STOCK)
    if "on_sale" in raw and raw["on_sale"] is not None:
        if isinstance(raw["on_sale"], bool):
            changes["on_sale"] = raw["on_sale"]
        else:
            r.fail("on_sale", "must be true or false")
    expected: dict[str, int] = {}
    if r.present("expected_price_fen"):
        expected["price_fen"] = r.integer(
            "expected_price_fen", minimum=1, maximum=MAX_PRICE_FEN, hint=hint
        )
    if r.present("expected_stock"):
        expected["stock"] = r.integer("expected_stock", minimum=0, maximum=MAX_STOCK)
    if not changes and not r.errors:
        r.fail("(row)", "nothing to change: give price_fen, stock or on_sale")
    for field in expected:
        if field not in changes:
            r.fail(f"expected_{field}", f"only with {field}")
    if r.errors:
        return r.errors
    return BulkRow(row, store_id, sku, changes, expected)


def parse_rows(raws: list[Any]) -> tuple[list[BulkRow], list[RowError]]:
    """The valid rows and every refusal; a second row for the same store and SKU is
    refused (which of two values was meant cannot be known)."""
    good: list[BulkRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(raws):
        parsed = parse_row(raw, i)
        if isinstance(parsed, list):
            errors += parsed
            continue
        key = (parsed.store_id, parsed.sku)
        if key in seen:
            errors.append(RowError(i, "sku", f"duplicate of row {seen[key]}"))
            continue
        seen[key] = i
        good.append(parsed)
    return good, errors


def outcome(row: BulkRow, current: dict[str, Any] | None) -> tuple[str, str, str] | None:
    """How a row meets the item as it is now: None to write it, or (status, field,
    reason) with status ``unchanged``, ``rejected`` or ``conflict``.

    * no such item: rejected (the store does not sell the SKU);
    * every value already as asked: unchanged (so a job run again changes nothing);
    * an expected value that is not the current one: conflict (someone else changed the
      item since the caller read it; nothing is written for that row)."""
    if current is None:
        return ("rejected", "sku", f"store {row.store_id} does not sell {row.sku}")
    if all(current.get(f) == v for f, v in row.changes.items()):
        return ("unchanged", "", "")
    for field, value in row.expected.items():
        if current.get(field) != value:
            return (
                "conflict",
                field,
                f"changed meanwhile: expected {value}, now {current.get(field)}; "
                "reload and try again",
            )
    return None
