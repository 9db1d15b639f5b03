"""The local AWS's DynamoDB stream survives cancelled transactions (infra/local/moto_server.py).

Unpatched, moto orphans open stream iterators when it rolls a transaction back, and the
local worker stops dispatching print jobs until the watchdog re-sends them a minute later.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.service.conftest import PREFIX

TABLE = f"{PREFIX}-print_jobs"


def _job(job_id: str) -> dict:
    return {
        "job_id": {"S": job_id},
        "store_id": {"S": "sh-a"},
        "order_id": {"S": job_id.split("-")[0]},
        "kind": {"S": "order"},
        "copies": {"SS": ["picking"]},
        "status": {"S": "pending"},
        "store_status": {"S": "sh-a#pending"},
        "created_at": {"S": "2026-11-24T00:00:00Z"},
    }


def test_an_open_iterator_sees_writes_after_a_cancelled_transaction(aws_server):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
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
