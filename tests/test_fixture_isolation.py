"""The ``aws`` fixture gives every test the state of a fresh moto after ``create_all``,
though the resources are created once per session (tests/conftest.py): whatever one test
writes (items and their stream records, messages in any state, store queues, objects,
tables, a table's TTL) is gone in the next.

Both cases check the state first and then dirty it, so whichever of them runs second
fails if anything survives a test (the order of tests is random)."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from chalicelib.printing import print_queues

from infra.resources import BUCKETS, table_definitions
from tests.conftest import PREFIX


def _tables():
    defs = list(table_definitions().values())
    streamed = next(d for d in defs if "StreamSpecification" in d)
    with_ttl = next(d for d in defs if "TimeToLiveSpecification" in d)
    return {d["TableName"] for d in defs}, streamed, with_ttl


def _item(table_def, value: str) -> dict:
    """An item with just the table's key attributes."""
    types = {a["AttributeName"]: a["AttributeType"] for a in table_def["AttributeDefinitions"]}
    return {
        k["AttributeName"]: {
            types[k["AttributeName"]]: "1" if types[k["AttributeName"]] == "N" else value
        }
        for k in table_def["KeySchema"]
    }


def _stream_records(ddb, table_name: str) -> list:
    streams = boto3.client(  # the plain endpoint, as infra/local/worker.py explains
        "dynamodbstreams",
        region_name="us-east-1",
        config=Config(account_id_endpoint_mode="disabled"),
    )
    arn = ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return records


@pytest.mark.parametrize("case", ["one", "another"])
def test_each_test_starts_from_the_created_resources_only(aws, case):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    names, streamed, with_ttl = _tables()
    buckets = {f"{PREFIX}-{short}" for short in BUCKETS}

    # As created: nothing else, and nothing in them.
    assert set(ddb.list_tables()["TableNames"]) == names
    for name in names:
        assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 0, name
    assert _stream_records(ddb, streamed["TableName"]) == []
    ttl = ddb.describe_time_to_live(TableName=with_ttl["TableName"])["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert sorted(sqs.list_queues()["QueueUrls"]) == sorted(aws.values()) != []
    for url in aws.values():
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for key in ("", "NotVisible", "Delayed"):
            assert attrs[f"ApproximateNumberOfMessages{key}"] == "0", (url, key)
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == buckets
    for bucket in buckets:
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    # Dirty everything.
    ddb.put_item(TableName=streamed["TableName"], Item=_item(streamed, case))
    for name, table_def in ((d["TableName"], d) for d in table_definitions().values()):
        ddb.put_item(TableName=name, Item=_item(table_def, case))
    ddb.update_time_to_live(
        TableName=with_ttl["TableName"],
        TimeToLiveSpecification={
            "AttributeName": with_ttl["TimeToLiveSpecification"]["AttributeName"],
            "Enabled": False,
        },
    )
    ddb.create_table(
        TableName=f"{PREFIX}-made-by-a-test",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for url in aws.values():
        sqs.send_message(QueueUrl=url, MessageBody="received")
        assert sqs.receive_message(QueueUrl=url)["Messages"]  # now in flight
        sqs.send_message(QueueUrl=url, MessageBody="waiting")
        sqs.send_message(QueueUrl=url, MessageBody="delayed", DelaySeconds=600)
    store_queue = print_queues.create(f"isolation-{case}")
    sqs.send_message(
        QueueUrl=store_queue, MessageBody="ticket", MessageGroupId="g", MessageDeduplicationId="d"
    )
    for bucket in buckets:
        s3.put_object(Bucket=bucket, Key=f"{case}.csv", Body=b"sku,qty\n")
    s3.create_bucket(Bucket=f"{PREFIX}-made-by-a-test")

    assert _stream_records(ddb, streamed["TableName"])  # the dirt is real
    assert len(sqs.list_queues()["QueueUrls"]) == len(aws) + 2
