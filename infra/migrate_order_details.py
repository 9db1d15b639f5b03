"""Move the write-once part of every order stored as one item into its detail item.

Orders are kept as a small head (the orders table) and a write-once detail (the
order_details table: lines, address, discounts, the promotions taken, the place-time
amounts), so that a step of an order rewrites under 1 KB whatever the basket
(orders/models.py). Orders written before keep all of it in the head, and the code reads
an order with its detail: run this once per stack right after deploying the release that
brought order_details (infra/README.md, "Upgrading a stack deployed before the order
details").

    .venv/bin/python -m infra.migrate_order_details --stage prod [--region R]

Scans the orders table for heads that still hold ``lines`` and, for each, in one
transaction writes its detail and removes the moved attributes from the head, on
condition that the head's version is the one read (an order that changed meanwhile is
read again); running it twice changes nothing. The detail is written through the model
(OrderDetailModel), under its short stored names: the head's long names, its line maps'
too, are renamed. History entries need no migration (the code reads both their forms).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import infra.resources  # noqa: F401  (puts functions/ on sys.path)

ATTEMPTS = 5  # per order: each failed condition means the order changed meanwhile


def moved_attributes() -> list[str]:
    """The names under which a head stored before the split holds what the detail holds
    (its key aside): the model's Python names, which were the stored names then (the
    detail stores them under short names)."""
    from chalicelib.orders.models import OrderDetailModel

    return sorted(name for name in OrderDetailModel.get_attributes() if name != "order_id")


def _map_renamed(cls: Any, value: dict[str, Any]) -> dict[str, Any]:
    """A map stored with the long (Python) names of ``cls``'s attributes, under their
    stored names."""
    if "M" not in value:
        return value  # NULL
    names = {name: a.attr_name for name, a in cls.get_attributes().items()}
    return {"M": {names.get(k, k): v for k, v in value["M"].items()}}


def _renamed(attr: Any, value: dict[str, Any]) -> dict[str, Any]:
    from pynamodb.attributes import ListAttribute, MapAttribute

    element = getattr(attr, "element_type", None)
    if isinstance(attr, ListAttribute) and element and issubclass(element, MapAttribute):
        return {"L": [_map_renamed(element, v) for v in value.get("L", [])]}
    if isinstance(attr, MapAttribute) and type(attr) is not MapAttribute:
        return _map_renamed(type(attr), value)
    return value


def detail_item(head: dict[str, Any]) -> dict[str, Any]:
    """The detail of a head stored before the split, written through the model: under
    the model's stored names (short, the maps' too), as the code writes it now."""
    from chalicelib.orders.models import OrderDetailModel

    attributes = OrderDetailModel.get_attributes()
    raw = {"order_id": head["order_id"]}
    for name in moved_attributes():
        if name in head:
            raw[attributes[name].attr_name] = _renamed(attributes[name], head[name])
    return OrderDetailModel.from_raw_data(raw).serialize()


def _move_one(ddb: Any, orders: str, details: str, item: dict[str, Any]) -> bool:
    """One transaction: the detail written, the head trimmed, if the head is as read.
    False when it was not (the caller reads it again)."""
    moved = [name for name in moved_attributes() if name in item]
    detail = detail_item(item)
    names = {f"#a{i}": name for i, name in enumerate(moved)}
    names["#v"] = "version"
    if "version" in item:
        condition, values = "#v = :v", {":v": item["version"]}
    else:
        condition, values = "attribute_not_exists(#v)", {}
    update: dict[str, Any] = {
        "TableName": orders,
        "Key": {"order_id": item["order_id"]},
        "UpdateExpression": "REMOVE " + ", ".join(n for n in names if n != "#v"),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        update["ExpressionAttributeValues"] = values
    try:
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": details, "Item": detail}}, {"Update": update}]
        )
    except ddb.exceptions.TransactionCanceledException as exc:
        codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
            return False
        raise
    return True


def migrate(ddb: Any, orders: str, details: str) -> int:
    """Move the detail of every order of ``orders`` stored as one item; how many moved."""
    done = 0
    pages = ddb.get_paginator("scan").paginate(
        TableName=orders,
        FilterExpression="attribute_exists(#l)",
        ExpressionAttributeNames={"#l": "lines"},
        ConsistentRead=True,
    )
    for page in pages:
        for item in page["Items"]:
            key = item["order_id"]
            for _ in range(ATTEMPTS):
                if _move_one(ddb, orders, details, item):
                    done += 1
                    break
                again = ddb.get_item(TableName=orders, Key={"order_id": key}, ConsistentRead=True)
                item = again.get("Item")
                if item is None or "lines" not in item:
                    break  # gone, or moved by another run meanwhile
            else:
                raise RuntimeError(f"order {key['S']} kept changing; run again")
    return done


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="the stack's stage, e.g. prod")
    parser.add_argument("--prefix", help="the tables' prefix (default: daojia-<stage>)")
    parser.add_argument("--region", help="AWS region (default: the environment's)")
    args = parser.parse_args(argv)
    prefix = args.prefix or f"daojia-{args.stage}"
    orders, details = f"{prefix}-orders", f"{prefix}-order_details"
    ddb = boto3.client("dynamodb", region_name=args.region)
    print(f"{orders}: {migrate(ddb, orders, details)} order(s) moved to {details}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
