"""The local worker's DynamoDB stream reader against in-process moto: records in order,
a failing batch retried and then skipped (as the template's MaximumRetryAttempts), and the
worker's thread driving a handler table like @app.on_dynamodb_record."""

from __future__ import annotations

import threading

import boto3
import moto
import pytest

from infra.local import worker as w

TABLE = "daojia-unit-stream"


@pytest.fixture
def ddb():
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        yield client


def put(ddb, key: str) -> None:
    ddb.put_item(TableName=TABLE, Item={"k": {"S": key}})


def keys(records) -> list[tuple[str, str]]:
    return [(r["eventName"], r["dynamodb"]["Keys"]["k"]["S"]) for r in records]


def test_records_arrive_in_order_with_lambdas_shape(ddb):
    seen = []
    reader = w.StreamReader(TABLE, seen.extend)
    put(ddb, "a")
    ddb.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": {"k": {"S": "b"}}}}]
    )
    assert reader.poll_once() == 2
    put(ddb, "a")  # an overwrite is a MODIFY
    assert reader.poll_once() == 1
    assert reader.poll_once() == 0
    assert keys(seen) == [("INSERT", "a"), ("INSERT", "b"), ("MODIFY", "a")]
    assert seen[0]["dynamodb"]["NewImage"] == {"k": {"S": "a"}}


def test_a_failing_batch_is_retried_then_skipped(ddb, monkeypatch):
    monkeypatch.setattr(w, "STREAM_MAX_RETRIES", 2)
    calls = []

    def handler(records):
        calls.append(keys(records))
        if keys(records) == [("INSERT", "poison")]:
            raise RuntimeError("cannot handle")

    reader = w.StreamReader(TABLE, handler)
    put(ddb, "poison")
    assert [reader.poll_once() for _ in range(4)] == [0, 0, 1, 0]
    assert calls == [[("INSERT", "poison")]] * 3  # first try + 2 retries, then skipped
    put(ddb, "fine")
    assert reader.poll_once() == 1
    assert calls[-1] == [("INSERT", "fine")]


def test_a_flaky_handler_gets_the_same_records_again(ddb):
    calls = []

    def handler(records):
        calls.append(keys(records))
        if len(calls) == 1:
            raise RuntimeError("try again")

    reader = w.StreamReader(TABLE, handler)
    put(ddb, "x")
    reader.poll_once()
    reader.poll_once()
    assert calls == [[("INSERT", "x")], [("INSERT", "x")]]


def test_the_worker_reads_the_streams_it_is_given(ddb, monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "table_name", lambda short: TABLE)
    got = threading.Event()
    seen = []

    def handler(records):
        seen.extend(keys(records))
        got.set()

    worker = w.Worker(queue_handlers={}, schedule=[], stream_handlers={"stream": handler})
    worker.start()
    try:
        put(ddb, "k1")
        assert got.wait(5)
    finally:
        worker.stop(grace_s=2)
    assert seen == [("INSERT", "k1")]


def test_only_the_command_line_worker_reads_streams_by_default():
    assert w.Worker(queue_handlers={}, schedule=[]).stream_handlers == {}


def test_the_worker_reads_every_stream_the_app_has_a_handler_for():
    import app
    from chalicelib.kernel import config

    streams = {
        short
        for e in app.app.event_sources
        for short in w.STREAM_HANDLERS
        if getattr(e, "stream_arn", None) and f":table/{config.table_name(short)}/" in e.stream_arn
    }
    handled = sum(1 for e in app.app.event_sources if getattr(e, "stream_arn", None))
    assert (
        streams
        == set(w.STREAM_HANDLERS)
        == {
            "print_jobs",
            "orders",
            "refunds",
            "customers",
            "campaigns",
        }
    )
    assert handled == len(streams)
