"""Batch reads and transactions, written for the fewest round trips."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar, cast

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.db.connection import connection

T = TypeVar("T")
M = TypeVar("M", bound=Model)


class Rows(dict[type[Model], list[Model]]):
    """What batch_get read, by model: ``rows[OrderModel]`` is typed as a list of orders."""

    def __getitem__(self, model: type[M]) -> list[M]:
        return cast(list[M], super().__getitem__(model))

    def of(self, model: type[M]) -> list[M]:
        """``rows[model]``, or [] when ``model`` was not asked for."""
        return cast(list[M], super().get(model, []))


def batch_get(
    keys: dict[type[Model], list[dict[str, Any]]],
    consistent: bool = True,
    eventual: Iterable[type[Model]] = (),
) -> Rows:
    """BatchGetItem across several tables, retrying unprocessed keys: one round trip for
    up to 100 keys (a cart with its coupons and flash-sale counters fits), one more per
    further 100. ``keys[Model]`` is a list of {attribute: value} key dicts;
    ``consistent=False`` reads eventually consistent (half the read units), and so are
    the ``eventual`` models' items whatever ``consistent`` says."""
    by_table = {m.Meta.table_name: m for m in keys}
    raw: dict[str, list[dict[str, Any]]] = {}
    for model, key_list in keys.items():
        attrs = model.get_attributes()
        raw.setdefault(model.Meta.table_name, []).extend(
            {k: {attrs[k].attr_type: attrs[k].serialize(v)} for k, v in key.items()}
            for key in key_list
        )
    out = Rows({m: [] for m in keys})
    loose = {m.Meta.table_name for m in eventual}
    for table, items in batch_get_raw(raw, consistent, loose).items():
        model = by_table[table]
        out[model].extend(model.from_raw_data(item) for item in items)
    return out


def batch_get_raw(
    keys: dict[str, list[dict[str, Any]]],
    consistent: bool = True,
    eventual: Collection[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """``batch_get`` by table name and DynamoDB-JSON keys, giving DynamoDB-JSON items:
    for a reader that may not import the table's model (events/dispatch.py)."""
    client = connection().client
    flat = [(table, key) for table, key_list in keys.items() for key in key_list]
    out: dict[str, list[dict[str, Any]]] = {table: [] for table in keys}
    for start in range(0, len(flat), 100):
        request: dict[str, Any] = {}
        for table, key in flat[start : start + 100]:
            strong = consistent and table not in eventual
            request.setdefault(table, {"Keys": [], "ConsistentRead": strong})
            request[table]["Keys"].append(key)
        delay = 0.02
        while request:
            resp = client.batch_get_item(RequestItems=request)
            for table, items in resp.get("Responses", {}).items():
                out[table].extend(items)
            request = resp.get("UnprocessedKeys") or {}
            if request:
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
    return out


def batch_put(items: list[Model]) -> None:
    """Put items of any tables with one BatchWriteItem (up to 25), retrying unprocessed
    ones. The puts are unconditional (BatchWriteItem takes no condition), cost what single
    puts cost (not a transaction's double) and set no version: for new items keyed so
    that a retry names the same items, where a second put replaces the first."""
    if len(items) > 25:
        raise ValueError("one BatchWriteItem holds at most 25 puts")
    request: dict[str, Any] = {}
    for item in items:
        request.setdefault(item.Meta.table_name, []).append(
            {"PutRequest": {"Item": item.serialize()}}
        )
    delay = 0.02
    while request:
        resp = connection().client.batch_write_item(RequestItems=request)
        request = resp.get("UnprocessedItems") or {}
        if request:
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


CCF = "ConditionalCheckFailed"


@dataclass(frozen=True)
class TxPiece:
    """One write of a TransactWriteItems built by one module and run in another's
    transaction (coupons, flash sales, budgets in the order's): ``tx.update(item,
    label=label, **kwargs)``, or ``tx.save`` when ``op == "save"``. The label names the
    piece in a ``TransactionCancelled`` (e.g. ``coupon:<id>``)."""

    item: Any
    kwargs: dict[str, Any]
    label: str
    op: str = "update"

    def add_to(self, tx: Tx) -> None:
        getattr(tx, self.op)(self.item, label=self.label, **self.kwargs)

    def relabelled(self, label: str) -> TxPiece:
        return replace(self, label=label)


def add_all(tx: Tx, pieces: list[TxPiece]) -> None:
    """Add pieces to a transaction, each under its own label."""
    for piece in pieces:
        piece.add_to(tx)


class TransactionCancelled(TransactWriteError):
    """DynamoDB cancelled a transaction. ``reasons`` holds (label, code) for every piece,
    in the order the pieces were added (code None: that piece was not the reason), so
    callers ask by name: ``"order" in exc.failed``, ``exc.code_of("key")``."""

    def __init__(
        self, reasons: list[tuple[str, str | None]], cause: Exception | None = None
    ) -> None:
        failed = [label for label, code in reasons if code == CCF]
        super().__init__(f"Transaction cancelled; conditions failed: {failed}", cause=cause)
        self.reasons = reasons

    @property
    def failed(self) -> list[str]:
        """Labels of the pieces whose condition failed, in the order they were added."""
        return [label for label, code in self.reasons if code == CCF]

    @property
    def codes(self) -> set[str]:
        """Every reason given (ConditionalCheckFailed, TransactionConflict, ...)."""
        return {code for _, code in self.reasons if code is not None}

    def code_of(self, label: str) -> str | None:
        """The reason given for the piece labelled ``label`` (None: not that piece)."""
        return next((code for lb, code in self.reasons if lb == label), None)


class Tx(TransactWrite):
    """A TransactWrite whose every piece carries a label: ``tx.update(item, actions=...,
    condition=..., label="stock:<sku>")``.

    PynamoDB sends condition checks, then deletes, then puts, then updates, whatever the
    order of the calls, and DynamoDB reports cancellation reasons in the order sent;
    ``cancelled`` maps them back to the labels, in the order of the calls."""

    _KINDS = ("condition_check", "delete", "put", "update")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._added: list[tuple[str, int, str]] = []  # (kind, index in kind, label)

    def _note(self, kind: str, label: str) -> None:
        self._added.append((kind, len(getattr(self, f"_{kind}_items")), label))

    # The required ``label`` breaks TransactWrite's signatures on purpose (type: ignore
    # [override]): a piece without a label must not type-check.
    def condition_check(self, *args: Any, label: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self._note("condition_check", label)
        return super().condition_check(*args, **kwargs)

    def delete(self, *args: Any, label: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self._note("delete", label)
        return super().delete(*args, **kwargs)

    def save(self, *args: Any, label: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self._note("put", label)
        return super().save(*args, **kwargs)

    def update(self, *args: Any, label: str, **kwargs: Any) -> Any:  # type: ignore[override]
        self._note("update", label)
        return super().update(*args, **kwargs)

    def add(self, *pieces: TxPiece) -> None:
        for piece in pieces:
            piece.add_to(self)

    def cancelled(self, exc: TransactWriteError) -> TransactionCancelled | None:
        """``exc`` as a TransactionCancelled naming this transaction's pieces (None when
        DynamoDB gave no cancellation reasons: a throttled or failed request)."""
        offsets, total = {}, 0
        for kind in self._KINDS:
            offsets[kind] = total
            total += len(getattr(self, f"_{kind}_items"))
        return cancellation(exc, [(label, offsets[k] + i) for k, i, label in self._added])


def cancellation(
    exc: TransactWriteError, labels_sent: list[tuple[str, int]]
) -> TransactionCancelled | None:
    """``exc`` as a TransactionCancelled, given each label's position in the items sent."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    if not reasons:
        return None
    codes = [_code(r) for r in reasons]
    return TransactionCancelled(
        [(label, codes[i] if i < len(codes) else None) for label, i in labels_sent],
        cause=exc.cause,
    )


def _code(reason: Any) -> str | None:
    code = getattr(reason, "code", None)
    return None if code in (None, "None") else code


def _retry(exc: TransactionCancelled, attempt: int, attempts: int) -> bool:
    """Retry only when DynamoDB reports a conflict with another transaction in flight
    and no condition failed (nothing was written, and trying again is safe)."""
    if "TransactionConflict" in exc.codes and CCF not in exc.codes and attempt < attempts - 1:
        time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        return True
    return False


def transact(build: Callable[[Tx], T], *, attempts: int = 5) -> T:
    """Run a transaction that ``build`` adds labelled pieces to, retrying on conflicts
    with other transactions. A cancelled transaction raises ``TransactionCancelled``; a
    request that failed otherwise raises PynamoDB's TransactWriteError."""
    for attempt in range(attempts):
        tx = Tx(connection=connection())
        try:
            with tx:
                result = build(tx)
            return result
        except TransactWriteError as exc:
            cancelled = tx.cancelled(exc)
            if cancelled is None:
                raise
            if _retry(cancelled, attempt, attempts):
                continue
            raise cancelled from exc
    raise AssertionError("unreachable")


def transact_raw(
    *,
    updates: dict[str, dict[str, Any]] | None = None,
    puts: dict[str, dict[str, Any]] | None = None,
    checks: dict[str, dict[str, Any]] | None = None,
    attempts: int = 5,
) -> None:
    """One TransactWriteItems of prepared elements (no version condition or bump), each
    under its label (``{label: element}``); retried and raised like ``transact``."""
    checks, puts, updates = checks or {}, puts or {}, updates or {}
    sent = [*checks, *puts, *updates]  # the order PynamoDB sends them in
    for attempt in range(attempts):
        try:
            connection().transact_write_items(
                condition_check_items=list(checks.values()),
                delete_items=[],
                put_items=list(puts.values()),
                update_items=list(updates.values()),
            )
            return
        except TransactWriteError as exc:
            cancelled = cancellation(exc, [(label, i) for i, label in enumerate(sent)])
            if cancelled is None:
                raise
            if _retry(cancelled, attempt, attempts):
                continue
            raise cancelled from exc
