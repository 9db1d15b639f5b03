"""Moving a deployed stack from the orders' by_store_status index to by_store_queue: two
deploys that each change one index of the table (CloudFormation's limit), and the
backfill run between them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from chalicelib.kernel import config
from chalicelib.orders.models import OrderModel

from infra import backfill_order_queue
from infra import template as tpl
from infra.resources import table_definitions

# The orders table's indexes before this change.
BEFORE = {"by_store_status", "by_customer", "by_store_day", "by_due"}


def _orders(defs: dict) -> dict:
    return defs["OrdersTable"]


def _indexes(props: dict) -> set[str]:
    return {g["IndexName"] for g in props.get("GlobalSecondaryIndexes", [])}


def _attributes(props: dict) -> set[str]:
    return {a["AttributeName"] for a in props["AttributeDefinitions"]}


def test_each_deploy_of_the_upgrade_adds_or_drops_one_index():
    first, second = table_definitions(keep_retired=True), table_definitions()
    assert _indexes(_orders(first)) == BEFORE | {"by_store_queue"}  # one added
    assert _indexes(_orders(second)) == _indexes(_orders(first)) - {"by_store_status"}
    # An attribute is defined exactly when an index (or the table) is keyed by it.
    assert {"store_status", "store_queue"} <= _attributes(_orders(first))
    assert "store_status" not in _attributes(_orders(second))
    old = next(
        g for g in _orders(first)["GlobalSecondaryIndexes"] if g["IndexName"] == "by_store_status"
    )
    assert old["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["pickup_code"]}
    assert {k: v for k, v in first.items() if k != "OrdersTable"} == {
        k: v for k, v in second.items() if k != "OrdersTable"
    }
    merged = tpl.merge_template("prod", keep_retired=True)["Resources"]["OrdersTable"]
    assert _indexes(merged["Properties"]) == BEFORE | {"by_store_queue"}
    assert _indexes(tpl.merge_template("prod")["Resources"]["OrdersTable"]["Properties"]) == (
        _indexes(_orders(second))
    )


def _legacy(order_id: str, status: str, store: str = "sh-a") -> dict:
    return {
        "order_id": {"S": order_id},
        "store_id": {"S": store},
        "status": {"S": status},
        "store_status": {"S": f"{store}#{status}"},
        "created_at": {"S": f"2026-11-24T00:00:0{order_id[-1]}Z"},
        "updated_at": {"S": "2026-11-24T06:00:00Z"},
    }


def _keys() -> dict[str, str | None]:
    return {
        o.order_id: o.store_queue
        for o in OrderModel.scan(attributes_to_get=["order_id", "store_queue"])
    }


def test_the_backfill_keys_every_older_order_once(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = OrderModel.Meta.table_name
    for item in (
        _legacy("O-1", "paid"),
        _legacy("O-2", "ready_for_pickup", "sh-b"),
        {**_legacy("O-3", "delivered"), "due_at": {"N": "1764600000"}},
        _legacy("O-4", "completed"),
        {**_legacy("O-5", "picking"), "store_queue": {"S": "sh-a#open"}},  # new code's
        _legacy("O-6", "awaiting_payment"),
    ):
        ddb.put_item(TableName=table, Item=item)
    assert backfill_order_queue.backfill(ddb, table) == 4  # O-6 gets its paid_queue
    assert _keys() == {
        "O-1": "sh-a#open",
        "O-2": "sh-b#open",
        "O-3": "sh-a#delivered",
        "O-4": None,  # final and unpaid orders are in no work-queue bucket
        "O-5": "sh-a#open",
        "O-6": None,
    }
    assert backfill_order_queue.backfill(ddb, table) == 0  # a second run changes nothing
    assert [o.order_id for o in OrderModel.by_store_queue.query("sh-a#open")] == ["O-1", "O-5"]


def test_the_backfill_takes_unpaid_and_final_orders_out_of_the_work_queue(aws):
    """Orders as the release before wrote them: unpaid ones in the open bucket, final ones
    in a bucket per status, delivered ones in by_due ("complete")."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = OrderModel.Meta.table_name
    due = {"due_kind": {"S": "complete"}, "due_at": {"N": "1764600000"}}
    for order_id, status, queue, extra in (
        ("O-1", "awaiting_payment", "open", {"due_kind": {"S": "expire"}, "due_at": {"N": "9"}}),
        ("O-2", "paid", "open", {}),
        ("O-3", "delivered", "delivered", due),
        ("O-4", "completed", "completed", {}),
        ("O-5", "cancelled", "cancelled", {}),
        ("O-6", "expired", "expired", {}),
        ("O-7", "delivered", "delivered", {}),  # delivered before auto-completion existed
    ):
        item = {**_legacy(order_id, status), "store_queue": {"S": f"sh-a#{queue}"}, **extra}
        ddb.put_item(TableName=table, Item=item)
    assert backfill_order_queue.backfill(ddb, table) == 6
    assert _keys() == {
        "O-1": None,
        "O-2": "sh-a#open",
        "O-3": "sh-a#delivered",
        "O-4": None,
        "O-5": None,
        "O-6": None,
        "O-7": "sh-a#delivered",
    }
    assert backfill_order_queue.backfill(ddb, table) == 0
    # by_due holds the unpaid order only; the delivered ones keep (or get) their due time.
    assert [(k.order_id, k.due_kind) for k in OrderModel.by_due.scan()] == [("O-1", "expire")]
    assert OrderModel.get("O-3").due_at == 1764600000
    # The unpaid order's payment copies paid_queue into store_queue without a read.
    assert OrderModel.get("O-1").paid_queue == "sh-a#open"
    last_write = datetime(2026, 11, 24, 6, tzinfo=UTC)
    days = timedelta(days=config.AUTO_COMPLETE_DAYS)
    assert OrderModel.get("O-7").due_at == int((last_write + days).timestamp())
    assert [o.order_id for o in OrderModel.by_store_queue.query("sh-a#delivered")] == [
        "O-3",
        "O-7",
    ]


def test_an_order_that_moves_during_the_backfill_is_keyed_by_its_new_status(aws, monkeypatch):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    table = OrderModel.Meta.table_name
    ddb.put_item(TableName=table, Item=_legacy("O-1", "out_for_delivery"))
    real_update = ddb.update_item
    moved = []

    def update_after_a_move(**kwargs):
        if not moved:  # the order is delivered between the scan and the first update
            moved.append(True)
            real_update(
                TableName=table,
                Key={"order_id": {"S": "O-1"}},
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "delivered"}},
            )
        return real_update(**kwargs)

    monkeypatch.setattr(ddb, "update_item", update_after_a_move)
    assert backfill_order_queue.backfill(ddb, table) == 1
    assert OrderModel.get("O-1").store_queue == "sh-a#delivered"


@pytest.mark.parametrize("flag", [[], ["--keep-retired-indexes"]])
def test_the_template_command_takes_the_flag(monkeypatch, flag, tmp_path):
    seen = {}

    def build(stage, out, **kw):
        seen.update(kw)
        raise tpl.BuildError("stop here")

    monkeypatch.setattr(tpl, "build", build)
    assert tpl.main(["--stage", "prod", "--out", str(tmp_path), *flag]) == 1
    assert seen["keep_retired"] is bool(flag)
