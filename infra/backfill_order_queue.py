"""Give every order written before the by_store_queue index its ``store_queue`` key.

Run once per stack between the two deploys of the upgrade (infra/README.md, "Upgrading a
stack deployed before the work-queue index"): until then orders placed earlier are
missing from the store's work queue, pickup lookups and status lists.

    .venv/bin/python -m infra.backfill_order_queue --table daojia-prod-orders [--region R]

Scans the orders table for orders without ``store_queue`` and sets it from the order's
status, on condition that it is still missing and the status unchanged (an order that
moves meanwhile is read again); running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import infra.resources  # noqa: F401  (puts functions/ on sys.path)

ATTEMPTS = 5  # per order: each failed condition means the order moved meanwhile


def _queue(item: dict[str, Any]) -> str:
    from chalicelib.kernel.states import order_queue

    return f"{item['store_id']['S']}#{order_queue(item['status']['S'])}"


def backfill(ddb: Any, table: str) -> int:
    """Set ``store_queue`` on every order of ``table`` that lacks it; the number set."""
    names = {"#s": "status", "#q": "store_queue"}
    done = 0
    pages = ddb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="attribute_not_exists(#q)",
        ProjectionExpression="order_id, store_id, #s",
        ExpressionAttributeNames=names,
    )
    for page in pages:
        for item in page["Items"]:
            for _ in range(ATTEMPTS):
                try:
                    ddb.update_item(
                        TableName=table,
                        Key={"order_id": item["order_id"]},
                        UpdateExpression="SET #q = :q",
                        ConditionExpression="attribute_not_exists(#q) AND #s = :s",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues={
                            ":q": {"S": _queue(item)},
                            ":s": item["status"],
                        },
                    )
                    done += 1
                    break
                except ddb.exceptions.ConditionalCheckFailedException:
                    item = ddb.get_item(
                        TableName=table, Key={"order_id": item["order_id"]}, ConsistentRead=True
                    ).get("Item")
                    if item is None or "store_queue" in item:
                        break  # gone, or keyed by the new code meanwhile
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
    print(f"{args.table}: store_queue set on {backfill(ddb, args.table)} order(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
