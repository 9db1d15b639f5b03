"""Key every order of the orders table as the running release does: ``store_queue`` (the
by_store_queue index) and the auto-completion due time.

Run once per stack after deploying a release that changed how orders are keyed
(infra/README.md: "Upgrading a stack deployed before the work-queue index" and "Upgrading
a stack deployed before unpaid and final orders left the work queue"):

    .venv/bin/python -m infra.backfill_order_queue --table daojia-prod-orders [--region R]

One scan of the table. For each order, from its status (order_flow.queue_key):

* an unpaid order gets ``paid_queue`` (the key its payment copies without a read);
* ``store_queue`` set to its bucket while paid and not final (orders written before the
  index had none), removed from unpaid and final orders (they are in no bucket now);
* a delivered order keeps or gets its ``due_at`` (when missing: its last write plus
  AUTO_COMPLETE_DAYS, never earlier than intended) and loses ``due_kind``: the
  auto-completion job reads the store's delivered bucket, and by_due holds unpaid orders
  only.

Each write is conditional on the status it was decided from (an order that moves
meanwhile is read again and decided anew), and an order already keyed right is not
written: safe with traffic, and a second run changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

import infra.resources  # noqa: F401  (puts functions/ on sys.path)

ATTEMPTS = 5  # per order: each failed condition means the order moved meanwhile
NAMES = {
    "#s": "status",
    "#q": "store_queue",
    "#p": "paid_queue",
    "#k": "due_kind",
    "#d": "due_at",
}
READ = "order_id, store_id, #s, #q, #p, #k, #d, updated_at"


def _changes(item: dict[str, Any]) -> tuple[list[str], list[str], dict[str, Any]]:
    """(SET clauses, REMOVE names, values) that key ``item`` as the running release does;
    nothing when it already is."""
    from chalicelib.kernel import clock, config
    from chalicelib.kernel.states import ORDER
    from chalicelib.orders.order_flow import queue_key

    status = item["status"]["S"]
    want = queue_key(item["store_id"]["S"], status)
    sets: list[str] = []
    removes: list[str] = []
    values: dict[str, Any] = {}
    have = item.get("store_queue", {}).get("S")
    if want is None and have is not None:
        removes.append("#q")
    elif want is not None and want != have:
        sets.append("#q = :q")
        values[":q"] = {"S": want}
    if status == ORDER.initial and "paid_queue" not in item:
        # The payment copies it into store_queue without reading the order.
        sets.append("#p = :p")
        values[":p"] = {"S": queue_key(item["store_id"]["S"], "paid")}
    if status == "delivered":
        if "due_kind" in item:
            removes.append("#k")
        if "due_at" not in item:
            last_write = clock.parse(item["updated_at"]["S"])
            due = last_write + timedelta(days=config.AUTO_COMPLETE_DAYS)
            sets.append("#d = :d")
            values[":d"] = {"N": str(int(due.timestamp()))}
    return sets, removes, values


def backfill(ddb: Any, table: str) -> int:
    """Key every order of ``table`` as the running release does; the number written."""
    done = 0
    pages = ddb.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression=READ, ExpressionAttributeNames=NAMES
    )
    for page in pages:
        for item in page["Items"]:
            for _ in range(ATTEMPTS):
                sets, removes, values = _changes(item)
                if not sets and not removes:
                    break
                expression = " ".join(
                    part
                    for part in (
                        "SET " + ", ".join(sets) if sets else "",
                        "REMOVE " + ", ".join(removes) if removes else "",
                    )
                    if part
                )
                used = {n: v for n, v in NAMES.items() if n in expression or n == "#s"}
                try:
                    ddb.update_item(
                        TableName=table,
                        Key={"order_id": item["order_id"]},
                        UpdateExpression=expression,
                        ConditionExpression="#s = :s",
                        ExpressionAttributeNames=used,
                        ExpressionAttributeValues={**values, ":s": item["status"]},
                    )
                    done += 1
                    break
                except ddb.exceptions.ConditionalCheckFailedException:
                    item = ddb.get_item(
                        TableName=table,
                        Key={"order_id": item["order_id"]},
                        ConsistentRead=True,
                        ProjectionExpression=READ,
                        ExpressionAttributeNames=NAMES,
                    ).get("Item")
                    if item is None:
                        break  # gone
            else:
                raise RuntimeError(f"order {item['order_id']['S']} kept moving; run again")
    return done


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True, help="the orders table, e.g. daojia-prod-orders")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    args = parser.parse_args(argv)
    ddb = boto3.client("dynamodb", region_name=args.region)
    print(f"{args.table}: {backfill(ddb, args.table)} order(s) keyed again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
