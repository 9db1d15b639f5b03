"""One-off backfill of members' aggregates (``member_stats``) from the orders table, for a
chain upgrading to this version: the orders completed before the upgrade never went
through the order events, so their members have no aggregates (docs/segments.md,
"Backfill"). An admin's one-off, never a request path (it scans the orders table):

    cd functions && python -m chalicelib.customers.backfill [--segments 8] [--shard k/N]

1. A parallel Scan of the orders table (``--segments`` segments, one thread each),
   completed orders only, their heads (customer, store, completion time, paid and
   refunded), grouped by member in memory (``--shard k/N``: only the members whose id
   hashes to k of N, to bound the memory of a very large table: run N times);
2. per member, the orders' lines (the detail items, one BatchGetItem per 100 orders)
   and ONE ``aggregates.change`` (the events' own conditional write) applying each
   order, oldest first, through customers/rules.py: an order the item has counted
   already (its live events came first) is brought up to its current refunds
   (``apply_refunds``), any other is counted on what it kept (``apply_completion``: paid
   minus refunded now, which ends where a completion and its later refunds end).

Idempotent: the item records the orders it counted, so a second run changes nothing,
and orders completed while it runs are counted once whichever comes first, the event
or the backfill. The caveat is the record's horizon (92 days before the member's newest
order, at most 40 orders: rules.py): an order older than what a member's item already
dropped is taken for one counted and dropped, so run the backfill soon after the
upgrade, before members' live items drop anything (a member with 40 orders or 92 days
of orders since the upgrade would lose the older ones). Orders applied oldest first
never meet that case within one run.

Also ``--reg-month`` (on by default): members registered before ``reg_month`` was kept
get it (the admin list's by_registration index), one conditional UpdateItem each.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.customers import aggregates, rules
from chalicelib.db.connection import connection
from chalicelib.events import records
from chalicelib.kernel import config

BATCH_GET = 100  # BatchGetItem's limit


@dataclass(frozen=True)
class Completed:
    """A completed order's head, as its completion event would carry it."""

    order_id: str
    customer_id: str
    store_id: str
    completed_at: str
    paid_fen: int
    refunded_fen: int
    head_lines: tuple[rules.Line, ...] | None  # an order stored before the detail split


@dataclass
class Progress:
    """Counts, printed as they grow (several threads add to them)."""

    out: Any = None
    scanned: int = 0
    completed: int = 0
    members: int = 0
    changed: int = 0
    unchanged: int = 0
    reg_month: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    last: float = 0.0

    def add(self, **counts: int) -> None:
        with self.lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)
            if self.out is not None and time.monotonic() - self.last >= 2:
                self.last = time.monotonic()
                print(self.line(), file=self.out, flush=True)

    def line(self) -> str:
        return (
            f"backfill: {self.scanned} orders scanned, {self.completed} completed, "
            f"{self.members} members ({self.changed} changed, {self.unchanged} unchanged), "
            f"{self.reg_month} reg_month set"
        )


def _in_shard(customer_id: str, shard: tuple[int, int]) -> bool:
    k, n = shard
    return n == 1 or zlib.crc32(customer_id.encode()) % n == k


def _scan(table: str, segment: int, segments: int, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """One segment of a parallel Scan, items as plain Python."""
    client = connection().client
    start: dict[str, Any] | None = None
    while True:
        page = client.scan(
            TableName=table,
            Segment=segment,
            TotalSegments=segments,
            **kwargs,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        for item in page.get("Items", []):
            yield {k: records.plain(v) for k, v in item.items()}
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def _completed_orders(
    segment: int, segments: int, shard: tuple[int, int], progress: Progress
) -> list[Completed]:
    out = []
    scanned = 0
    for head in _scan(
        config.table_name("orders"),
        segment,
        segments,
        ProjectionExpression="order_id, customer_id, store_id, #st, paid_fen, refunded_fen, "
        "history, updated_at, created_at, #ln",
        ExpressionAttributeNames={"#st": "status", "#ln": "lines"},
    ):
        scanned += 1
        if scanned % 1000 == 0:
            progress.add(scanned=1000)
        cid = str(head.get("customer_id") or "")
        oid = str(head["order_id"])
        if head.get("status") != "completed" or not cid or oid.startswith("CS"):
            continue
        if not _in_shard(cid, shard):
            continue
        lines = records.lines_of(head, records.HEAD_NAMES) if head.get("lines") else None
        out.append(
            Completed(
                order_id=oid,
                customer_id=cid,
                store_id=str(head["store_id"]),
                completed_at=records.changed_at(head, "completed"),
                paid_fen=int(head.get("paid_fen") or 0),
                refunded_fen=int(head.get("refunded_fen") or 0),
                head_lines=tuple(aggregates._lines(lines)) if lines is not None else None,
            )
        )
    progress.add(scanned=scanned % 1000, completed=len(out))
    return out


def _detail_lines(order_ids: list[str]) -> dict[str, list[rules.Line]]:
    """The orders' lines from their detail items (eventually consistent: completed
    orders' lines change only by refunds, which the events bring anyway)."""
    table = config.table_name(records.DETAIL_TABLE)
    client = connection().client
    out: dict[str, list[rules.Line]] = {}
    for i in range(0, len(order_ids), BATCH_GET):
        request: dict[str, Any] = {
            table: {
                "Keys": [{"order_id": {"S": o}} for o in order_ids[i : i + BATCH_GET]],
                "ProjectionExpression": "order_id, #ln",
                "ExpressionAttributeNames": {"#ln": records.DETAIL_NAMES["lines"]},
            }
        }
        while request:
            got = client.batch_get_item(RequestItems=request)
            for item in got.get("Responses", {}).get(table, []):
                plain = {k: records.plain(v) for k, v in item.items()}
                lines = records.lines_of(plain, records.DETAIL_NAMES)
                out[str(plain["order_id"])] = aggregates._lines(lines)
            request = got.get("UnprocessedKeys") or {}
    return out


def apply_orders(stats: rules.Stats, orders: list[tuple[Completed, list[rules.Line]]]) -> bool:
    """Count a member's completed orders (oldest first) as their events would have:
    an order counted already is brought up to its current refunds, an order behind the
    item's horizon is left alone, any other is counted. False: nothing changed."""
    changed = False
    for o, lines in sorted(orders, key=lambda ol: (ol[0].completed_at, ol[0].order_id)):
        if o.order_id in stats.applied:
            changed |= rules.apply_refunds(stats, o.order_id, o.refunded_fen, lines)
        elif not rules.is_before_horizon(stats, o.completed_at):
            changed |= rules.apply_completion(
                stats, o.order_id, o.store_id, o.completed_at, o.paid_fen, o.refunded_fen, lines
            )
    return changed


def _member(customer_id: str, orders: list[Completed], progress: Progress) -> None:
    missing = [o.order_id for o in orders if o.head_lines is None]
    details = _detail_lines(missing) if missing else {}
    with_lines = [
        (o, list(o.head_lines) if o.head_lines is not None else details.get(o.order_id, []))
        for o in orders
    ]
    changed = aggregates.change(customer_id, lambda stats: apply_orders(stats, with_lines))
    progress.add(members=1, changed=int(changed), unchanged=int(not changed))


def backfill_reg_month(segments: int, progress: Progress) -> None:
    """``reg_month`` ("YYYY-MM" of created_at, UTC) on members who lack it, but not on
    erased ones (their deletion took them out of the index on purpose)."""
    from pynamodb.exceptions import UpdateError

    from chalicelib.db.writes import is_condition_failure
    from chalicelib.identity.models import CustomerModel as C

    def one(segment: int) -> None:
        for item in _scan(
            config.table_name("customers"),
            segment,
            segments,
            ProjectionExpression="customer_id, created_at, reg_month, erased_at",
        ):
            if item.get("reg_month") or item.get("erased_at") or not item.get("created_at"):
                continue
            try:
                C(str(item["customer_id"])).update(
                    actions=[C.reg_month.set(str(item["created_at"])[:7])],
                    condition=C.customer_id.exists()
                    & C.reg_month.does_not_exist()
                    & C.erased_at.does_not_exist(),
                )
            except UpdateError as exc:
                if not is_condition_failure(exc):
                    raise
                continue
            progress.add(reg_month=1)

    with ThreadPoolExecutor(segments) as pool:
        list(pool.map(one, range(segments)))


def backfill(
    segments: int = 4,
    shard: tuple[int, int] = (0, 1),
    reg_month: bool = True,
    out: Any = None,
) -> Progress:
    """Run the backfill (see the module docstring); returns the final counts."""
    progress = Progress(out=out)
    with ThreadPoolExecutor(segments) as pool:
        parts = list(
            pool.map(lambda s: _completed_orders(s, segments, shard, progress), range(segments))
        )
        by_member: dict[str, list[Completed]] = {}
        for part in parts:
            for o in part:
                by_member.setdefault(o.customer_id, []).append(o)
        list(pool.map(lambda kv: _member(kv[0], kv[1], progress), sorted(by_member.items())))
    if reg_month:
        backfill_reg_month(segments, progress)
    return progress


def _shard(text: str) -> tuple[int, int]:
    k, _, n = text.partition("/")
    shard = (int(k), int(n or 1))
    if not 0 <= shard[0] < shard[1]:
        raise argparse.ArgumentTypeError("--shard k/N with 0 <= k < N")
    return shard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Backfill members' aggregates (member_stats) from the completed orders."
    )
    parser.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    parser.add_argument("--shard", type=_shard, default=(0, 1), help="k/N: this share of members")
    parser.add_argument("--no-reg-month", action="store_true", help="leave customers alone")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    progress = backfill(args.segments, args.shard, not args.no_reg_month, out=sys.stderr)
    print(f"{progress.line()} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
