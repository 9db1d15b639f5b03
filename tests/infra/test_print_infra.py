"""Printing's share of the infrastructure: the print_jobs table's stream, the dispatcher's
event source on it, and the IAM grants for the stream and the per-store FIFO queues."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest

from infra import template as tpl
from infra.resources import cloudformation_resources, create_all, table_definitions
from tests.infra.iam import allows, role_statements

PREFIX = "daojia-prod"


def test_streams_are_print_jobs_with_new_images_and_the_domain_events_tables():
    streams = {
        logical: props.get("StreamSpecification")
        for logical, props in table_definitions().items()
        if props.get("StreamSpecification")
    }
    assert streams == {
        "PrintJobsTable": {"StreamViewType": "NEW_IMAGE"},
        # the domain events' sources (tests/infra/test_event_infra.py)
        "OrdersTable": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "RefundsTable": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
        "CustomersTable": {"StreamViewType": "NEW_IMAGE"},
        "CampaignsTable": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def test_create_all_enables_the_stream_like_the_template():
    with moto.mock_aws():
        session = boto3.Session(region_name="us-east-1")
        create_all(session, "daojia-unit")
        name = table_definitions()["PrintJobsTable"]["TableName"]
        table = session.client("dynamodb").describe_table(TableName=name)["Table"]
        assert table["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_IMAGE",
        }
        assert table["LatestStreamArn"]


def _fake(stream_table: str) -> dict[str, Any]:
    resources = cloudformation_resources(PREFIX)
    resources["PrintDispatch"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Events": {
                "PrintDispatchDynamodbEventSource": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": f"arn:aws:dynamodb:*:*:table/{stream_table}/stream/*",
                        "BatchSize": 25,
                        "StartingPosition": "TRIM_HORIZON",
                    },
                }
            }
        },
    }
    return {"Resources": resources}


def test_the_stream_event_source_points_at_the_tables_stream_and_new_jobs_only():
    template = _fake(f"{PREFIX}-print_jobs")
    tpl.link_event_sources(template, PREFIX)
    props = template["Resources"]["PrintDispatch"]["Properties"]["Events"][
        "PrintDispatchDynamodbEventSource"
    ]["Properties"]
    assert props["Stream"] == {"Fn::GetAtt": ["PrintJobsTable", "StreamArn"]}
    (pattern,) = props["FilterCriteria"]["Filters"]
    assert json.loads(pattern["Pattern"]) == {"eventName": ["INSERT"]}
    assert props["MaximumRetryAttempts"] == tpl.STREAM_MAX_RETRIES


def test_a_stream_of_an_unknown_table_or_a_table_without_stream_fails_the_build():
    with pytest.raises(tpl.BuildError, match="daojia-prod-nope"):
        tpl.link_event_sources(_fake(f"{PREFIX}-nope"), PREFIX)
    with pytest.raises(tpl.BuildError, match="stream_view_type"):
        tpl.link_event_sources(_fake(f"{PREFIX}-stores"), PREFIX)


def test_the_apps_placeholder_arn_names_the_print_jobs_table():
    import app
    from chalicelib.kernel import config

    assert f":table/{config.table_name('print_jobs')}/stream" in app.PRINT_JOBS_STREAM


# --- the built template ------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(prod_template_path: Path) -> dict[str, Any]:
    return json.loads(prod_template_path.read_text())


@pytest.mark.slow
def test_the_dispatcher_reads_the_print_jobs_stream_and_sends_to_store_queues(
    template: dict[str, Any],
) -> None:
    fn = template["Resources"]["PrintDispatch"]["Properties"]
    assert fn["Handler"] == "app.print_dispatch"
    (event,) = fn["Events"].values()
    assert event["Type"] == "DynamoDB"
    assert event["Properties"]["Stream"] == {"Fn::GetAtt": ["PrintJobsTable", "StreamArn"]}
    assert event["Properties"]["StartingPosition"] == "TRIM_HORIZON"
    table = template["Resources"]["PrintJobsTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}

    ddb = "arn:aws:dynamodb:us-east-1:123456789012:table"
    stream = f"{ddb}/{PREFIX}-print_jobs/stream/2026-11-24T00:00:00.000"
    other_stream = f"{ddb}/{PREFIX}-stores/stream/2026-11-24T00:00:00.000"
    sqs = "arn:aws:sqs:us-east-1:123456789012"
    queue = f"{sqs}:{PREFIX}-print-sh-jingan.fifo"
    dlq = f"{sqs}:{PREFIX}-print-sh-jingan-dlq.fifo"
    for function in ("PrintDispatch", "APIHandler"):
        st = role_statements(template, function)
        for action in ("GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"):
            assert allows(st, f"dynamodb:{action}", stream), (function, action)
            assert not allows(st, f"dynamodb:{action}", other_stream), (function, action)
        for action in ("CreateQueue", "GetQueueUrl", "GetQueueAttributes", "SetQueueAttributes"):
            assert allows(st, f"sqs:{action}", queue) and allows(st, f"sqs:{action}", dlq)
        assert allows(st, "sqs:SendMessage", queue)
        assert not allows(st, "sqs:DeleteQueue", queue)
        assert not allows(st, "sqs:ReceiveMessage", queue)  # that is the relay's
