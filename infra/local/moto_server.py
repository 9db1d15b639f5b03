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

_LOCK = threading.Lock()


def make_dynamodb_atomic() -> None:
    """Patch moto so that one DynamoDB request runs at a time (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_daojia_atomic", False):
        return
    handle = DynamoHandler.call_action

    def call_action(self):  # type: ignore[no-untyped-def]
        with _LOCK:
            return handle(self)

    call_action._daojia_atomic = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    keep_streams_across_rollbacks()


def keep_streams_across_rollbacks() -> None:
    """Patch moto so a cancelled transaction does not orphan open stream iterators.

    moto rolls a cancelled transaction back by putting deep copies of the tables in place,
    stream shard included, while every open shard iterator still reads the old shard
    object, which no longer receives records: the worker's stream reader went deaf after
    the first cancelled transaction on print_jobs (e.g. two payments racing for the daily
    number), and tickets waited for the watchdog. After a rollback the old shard object is
    kept, with the restored records (so rolled-back writes leave no record, as in DynamoDB).
    """
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.transact_write_items, "_daojia_streams", False):
        return
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):  # type: ignore[no-untyped-def]
        shards = {n: t.stream_shard for n, t in self.tables.items() if t.stream_shard}
        try:
            return transact(self, transact_items)
        except Exception:
            for name, shard in shards.items():
                table = self.tables.get(name)
                restored = getattr(table, "stream_shard", None)
                if restored is not None and restored is not shard:
                    shard.items = restored.items
                    shard.table = table
                    table.stream_shard = shard
            raise

    transact_write_items._daojia_streams = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    make_dynamodb_atomic()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
