"""moto in server mode, with DynamoDB requests made atomic.

moto applies a transaction item by item without a lock and rolls a failed one back by
restoring a copy of whole tables, so two requests handled at once on its threaded server
can interleave and undo each other's writes (50 buyers of 10 units made 12-14 orders).
DynamoDB never does that. Serialising moto's DynamoDB requests gives the local stack and
the tests DynamoDB's atomicity; the races between our own requests remain.

    python -m infra.local.moto_server -H 127.0.0.1 -p 4566
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_LOCK = threading.Lock()


def make_dynamodb_atomic() -> None:
    """Patch moto so that one DynamoDB request runs at a time (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_daojia_atomic", False):
        return
    handle = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        with _LOCK:
            return handle(self)

    # Patched in place: moto's classes and functions are not ours to type.
    call_action._daojia_atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    roll_back_transactions_item_by_item()


def roll_back_transactions_item_by_item() -> None:
    """Patch moto so a cancelled transaction restores only the items it touched.

    moto backs a transaction up by deep-copying every table it names, stream shard and all,
    so each TransactWriteItems cost grew with the table: in the local stack a payment took
    about 1 s once a few hundred orders and print jobs existed, and the print latency bench
    measured moto, not us. Here the touched items (and each stream's record count) are
    saved before the transaction and put back if it is cancelled. Requests run one at a
    time (make_dynamodb_atomic), so nothing else can change those items in between. The
    stream shard object stays the same, so open shard iterators keep reading it (moto's
    restore swapped in a copy, and the worker's stream reader went deaf after the first
    cancelled transaction on print_jobs); rolled-back writes leave no stream record.
    """
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, "_daojia_item_rollback", False):
        return
    transact = DynamoDBBackend.transact_write_items

    class _TablesNotCopied:
        """Stands in for the ``copy`` module inside moto.dynamodb.models: its
        transaction backup (``copy.deepcopy(table)``) becomes the table itself."""

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    models.copy = _TablesNotCopied  # type: ignore[assignment]  # the module, replaced on purpose

    def touched(
        backend: DynamoDBBackend, transact_items: list[dict[str, dict[str, Any]]]
    ) -> list[tuple[Table, DynamoType, DynamoType | None, Any]]:
        """(table, hash key, range key, deep copy of the item or None) per operation."""
        saved = []
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            if not isinstance(op, dict):
                continue
            table = backend.tables.get(op.get("TableName", ""))
            key = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in key:
                continue  # moto refuses it before writing anything
            range_attr = table.range_key_attr
            if range_attr is not None and range_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[range_attr]) if range_attr else None
            item = table.get_item(hash_key, range_key)
            saved.append((table, hash_key, range_key, copy.deepcopy(item)))
        return saved

    def transact_write_items(
        self: DynamoDBBackend, transact_items: list[dict[str, dict[str, Any]]]
    ) -> None:
        saved = touched(self, transact_items)
        records = {
            id(t): (t.stream_shard, len(t.stream_shard.items))
            for t, *_ in saved
            if t.stream_shard is not None
        }
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                if range_key is None:
                    if item is None:
                        table.items.pop(hash_key, None)
                    else:
                        table.items[hash_key] = item
                elif item is None:
                    table.items[hash_key].pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            for shard, count in records.values():
                del shard.items[count:]
            raise

    # Patched in place, as in make_dynamodb_atomic.
    transact_write_items._daojia_item_rollback = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    make_dynamodb_atomic()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
