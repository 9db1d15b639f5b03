"""The local AWS's transactions (infra/local/moto_server.py): a cancelled TransactWriteItems
leaves every item and the stream exactly as before, and open stream iterators keep working.

Unpatched, moto orphans open stream iterators when it rolls a transaction back (the local
worker then stopped dispatching print jobs until the watchdog re-sent them a minute later).
The patch restores only the touched items instead of whole-table copies, so the rollback
tests fail if an update, a put or a delete survived a cancelled transaction.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.service.conftest import PREFIX

TABLE = f"{PREFIX}-print_jobs"
STOCK = f"{PREFIX}-store_items"


def _job(job_id: str, status: str = "pending") -> dict:
    return {
        "job_id": {"S": job_id},
        "store_id": {"S": "sh-a"},
        "order_id": {"S": job_id.split("-")[0]},
        "kind": {"S": "order"},
        "copies": {"SS": ["picking"]},
        "status": {"S": status},
        "store_status": {"S": f"sh-a#{status}"},
        "created_at": {"S": "2026-11-24T00:00:00Z"},
    }


def _stock(sku: str, stock: int) -> dict:
    return {"store_id": {"S": "sh-a"}, "sku": {"S": sku}, "stock": {"N": str(stock)}}


def _stream_start(ddb) -> tuple:
    """(streams client, an iterator at the start of the print_jobs stream)."""
    streams = boto3.client(
        "dynamodbstreams",
        region_name="us-east-1",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams, iterator


def _stream_events(ddb) -> list[str]:
    streams, iterator = _stream_start(ddb)
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [f"{r['eventName']} {r['dynamodb']['Keys']['job_id']['S']}" for r in records]


def test_an_open_iterator_sees_writes_after_a_cancelled_transaction(aws_server):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    streams, iterator = _stream_start(ddb)

    ddb.put_item(TableName=TABLE, Item=_job("A-p1"))
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _job("B-p1")}},  # rolled back
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": _job("A-p1"),
                        "ConditionExpression": "attribute_not_exists(job_id)",
                    }
                },
            ]
        )
    ddb.put_item(TableName=TABLE, Item=_job("C-p1"))

    seen = []
    for _ in range(3):
        page = streams.get_records(ShardIterator=iterator)
        seen += [r["dynamodb"]["Keys"]["job_id"]["S"] for r in page["Records"]]
        iterator = page["NextShardIterator"]
    assert seen == ["A-p1", "C-p1"]  # the rolled-back put leaves no record


def test_a_cancelled_transaction_restores_every_touched_item(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName=TABLE, Item=_job("A-p1"))
    ddb.put_item(TableName=TABLE, Item=_job("D-p1"))
    ddb.put_item(TableName=STOCK, Item=_stock("101", 5))
    ddb.put_item(TableName=STOCK, Item=_stock("102", 7))
    before = [ddb.scan(TableName=t)["Items"] for t in (TABLE, STOCK)]
    stream_before = _stream_events(ddb)

    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _job("B-p1")}},  # new item
                {
                    "Update": {  # changed in place by moto
                        "TableName": TABLE,
                        "Key": {"job_id": {"S": "A-p1"}},
                        "UpdateExpression": "SET #s = :printed",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":printed": {"S": "printed"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": {"job_id": {"S": "D-p1"}}}},
                {
                    "Update": {
                        "TableName": STOCK,
                        "Key": {"store_id": {"S": "sh-a"}, "sku": {"S": "101"}},
                        "UpdateExpression": "SET stock = stock - :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": STOCK, "Item": _stock("103", 1)}},
                {
                    "Update": {  # the last one fails: all of the above is undone
                        "TableName": STOCK,
                        "Key": {"store_id": {"S": "sh-a"}, "sku": {"S": "102"}},
                        "UpdateExpression": "SET stock = stock - :eight",
                        "ConditionExpression": "stock >= :eight",
                        "ExpressionAttributeValues": {":eight": {"N": "8"}},
                    }
                },
            ]
        )

    assert [ddb.scan(TableName=t)["Items"] for t in (TABLE, STOCK)] == before
    assert _stream_events(ddb) == stream_before == ["INSERT A-p1", "INSERT D-p1"]


def test_a_committed_transaction_still_writes_everything(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName=STOCK, Item=_stock("101", 5))
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": _job("B-p1")}},
            {
                "Update": {
                    "TableName": STOCK,
                    "Key": {"store_id": {"S": "sh-a"}, "sku": {"S": "101"}},
                    "UpdateExpression": "SET stock = stock - :one",
                    "ConditionExpression": "stock >= :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    item = ddb.get_item(TableName=STOCK, Key={"store_id": {"S": "sh-a"}, "sku": {"S": "101"}})
    assert item["Item"]["stock"] == {"N": "4"}
    assert _stream_events(ddb) == ["INSERT B-p1"]
