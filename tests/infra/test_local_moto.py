"""The local AWS's transactions (infra/local/moto_server.py): a cancelled TransactWriteItems
leaves every item, and the stream, exactly as before, on hash-only and hash+range tables.

The patch restores only the touched items instead of whole-table copies, so these tests
would fail if an update, a put or a delete survived a cancelled transaction."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.conftest import PREFIX

JOBS = f"{PREFIX}-print_jobs"
STOCK = f"{PREFIX}-store_items"


def _job(job_id: str, status: str = "pending") -> dict:
    return {
        "job_id": {"S": job_id},
        "store_id": {"S": "sh-a"},
        "order_id": {"S": job_id.split("-")[0]},
        "kind": {"S": "order"},
        "status": {"S": status},
        "store_status": {"S": f"sh-a#{status}"},
        "created_at": {"S": "2026-11-24T00:00:00Z"},
    }


def _stock(sku: str, stock: int) -> dict:
    return {"store_id": {"S": "sh-a"}, "sku": {"S": sku}, "stock": {"N": str(stock)}}


def _stream_keys(ddb) -> list[str]:
    streams = boto3.client(
        "dynamodbstreams",
        region_name="us-east-1",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    arn = ddb.describe_table(TableName=JOBS)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [f"{r['eventName']} {r['dynamodb']['Keys']['job_id']['S']}" for r in records]


def test_a_cancelled_transaction_restores_every_touched_item(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName=JOBS, Item=_job("A-p1"))
    ddb.put_item(TableName=JOBS, Item=_job("D-p1"))
    ddb.put_item(TableName=STOCK, Item=_stock("101", 5))
    ddb.put_item(TableName=STOCK, Item=_stock("102", 7))
    before = [ddb.scan(TableName=t)["Items"] for t in (JOBS, STOCK)]
    stream_before = _stream_keys(ddb)

    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": JOBS, "Item": _job("B-p1")}},  # new item
                {
                    "Update": {  # changed in place by moto
                        "TableName": JOBS,
                        "Key": {"job_id": {"S": "A-p1"}},
                        "UpdateExpression": "SET #s = :printed",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":printed": {"S": "printed"}},
                    }
                },
                {"Delete": {"TableName": JOBS, "Key": {"job_id": {"S": "D-p1"}}}},
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

    assert [ddb.scan(TableName=t)["Items"] for t in (JOBS, STOCK)] == before
    assert _stream_keys(ddb) == stream_before == ["INSERT A-p1", "INSERT D-p1"]


def test_a_committed_transaction_still_writes_everything(aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName=STOCK, Item=_stock("101", 5))
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": JOBS, "Item": _job("B-p1")}},
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
    assert _stream_keys(ddb) == ["INSERT B-p1"]
