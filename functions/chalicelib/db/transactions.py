"""Batch reads and transactions, written for the fewest round trips."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.db.connection import connection

T = TypeVar("T")


def batch_get(
    keys: dict[type[Model], list[dict[str, Any]]], consistent: bool = True
) -> dict[type[Model], list[Model]]:
    """BatchGetItem across several tables, retrying unprocessed keys: one round trip for
    up to 100 keys (a cart with its coupons and flash-sale counters fits), one more per
    further 100. ``keys[Model]`` is a list of {attribute: value} key dicts;
    ``consistent=False`` reads eventually consistent (half the read units)."""
    client = connection().client
    by_table = {m.Meta.table_name: m for m in keys}
    flat: list[tuple[type[Model], dict[str, Any]]] = []
    for model, key_list in keys.items():
        attrs = model.get_attributes()
        flat += [
            (model, {k: {attrs[k].attr_type: attrs[k].serialize(v)} for k, v in key.items()})
            for key in key_list
        ]
    out: dict[type[Model], list[Model]] = {m: [] for m in keys}
    for start in range(0, len(flat), 100):
        request: dict[str, Any] = {}
        for model, key in flat[start : start + 100]:
            request.setdefault(model.Meta.table_name, {"Keys": [], "ConsistentRead": consistent})
            request[model.Meta.table_name]["Keys"].append(key)
        delay = 0.02
        while request:
            resp = client.batch_get_item(RequestItems=request)
            for table, items in resp.get("Responses", {}).items():
                model = by_table[table]
                out[model].extend(model.from_raw_data(item) for item in items)
            request = resp.get("UnprocessedKeys") or {}
            if request:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
    return out


@dataclass(frozen=True)
class TxPiece:
    """One write of a TransactWriteItems built by one module and run in another's
    transaction (coupons, flash sales, budgets in the order's): ``tx.update(item,
    **kwargs)``, or ``tx.save`` when ``op == "save"``."""

    item: Any
    kwargs: dict[str, Any]
    op: str = "update"

    def add_to(self, tx: TransactWrite) -> None:
        getattr(tx, self.op)(self.item, **self.kwargs)


def add_all(tx: TransactWrite, pieces: list[TxPiece]) -> None:
    """Add pieces to a transaction in order (so cancellation codes line up)."""
    for piece in pieces:
        piece.add_to(tx)


class OrderedTransactWrite(TransactWrite):
    """A TransactWrite that remembers the order in which items were added.

    PynamoDB sends condition checks, then deletes, then puts, then updates, whatever the
    order of the calls, and DynamoDB reports cancellation reasons in the order sent.
    ``build_order`` maps the reasons back to the order of the calls, so callers can say
    "the first item I added failed" and mean it."""

    _KINDS = ("condition_check", "delete", "put", "update")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._added: list[tuple[str, int]] = []

    def _note(self, kind: str) -> None:
        self._added.append((kind, len(self._items(kind))))

    def _items(self, kind: str) -> list:
        return getattr(self, f"_{kind}_items")

    def condition_check(self, *args: Any, **kwargs: Any) -> Any:
        self._note("condition_check")
        return super().condition_check(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._note("delete")
        return super().delete(*args, **kwargs)

    def save(self, *args: Any, **kwargs: Any) -> Any:
        self._note("put")
        return super().save(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> Any:
        self._note("update")
        return super().update(*args, **kwargs)

    def build_order(self, sent: list[Any]) -> list[Any]:
        """Per-item values (in the order sent) rearranged into the order of the calls."""
        offsets, total = {}, 0
        for kind in self._KINDS:
            offsets[kind] = total
            total += len(self._items(kind))
        return [
            sent[offsets[k] + i] if offsets[k] + i < len(sent) else None for k, i in self._added
        ]


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Per item of a cancelled transaction, in the order the items were added (when the
    transaction ran through ``transact``), why it failed (None = it did not)."""
    ordered = getattr(exc, "codes_in_build_order", None)
    if ordered is not None:
        return ordered
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [r.code if r is not None else None for r in reasons]


def transact(build: Callable[[TransactWrite], T], *, attempts: int = 5) -> T:
    """Run a transaction, retrying only when DynamoDB reports a conflict with another
    transaction in flight (nothing was written, and trying again is safe)."""
    for attempt in range(attempts):
        tx = OrderedTransactWrite(connection=connection())
        try:
            with tx:
                result = build(tx)
            return result
        except TransactWriteError as exc:
            reasons = getattr(exc, "cancellation_reasons", None) or []
            exc.codes_in_build_order = tx.build_order(  # type: ignore[attr-defined]
                [r.code if r is not None else None for r in reasons]
            )
            codes = cancellation_codes(exc)
            if (
                "TransactionConflict" in codes
                and "ConditionalCheckFailed" not in codes
                and attempt < attempts - 1
            ):
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            raise
    raise AssertionError("unreachable")
