"""The domain events' share of the infrastructure: the orders, refunds and customers
streams, one function per stream with the event filters and no retry limit, and the IAM
grants to read those streams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalicelib.events.records import STREAM_FILTERS

from infra import template as tpl
from infra.resources import cloudformation_resources
from tests.infra.iam import allows, role_statements

PREFIX = "daojia-prod"
FUNCTIONS = {"orders": "OrderEvents", "refunds": "RefundEvents", "customers": "MemberEvents"}


def _fake(table: str) -> dict[str, Any]:
    resources = cloudformation_resources(PREFIX)
    resources["Fn"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Events": {
                "Source": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": f"arn:aws:dynamodb:*:*:table/{PREFIX}-{table}/stream/*",
                        "BatchSize": 100,
                        "StartingPosition": "TRIM_HORIZON",
                    },
                }
            }
        },
    }
    return {"Resources": resources}


@pytest.mark.parametrize("table", sorted(FUNCTIONS))
def test_an_event_stream_source_gets_the_filters_and_is_retried_until_it_succeeds(table):
    template = _fake(table)
    tpl.link_event_sources(template, PREFIX)
    props = template["Resources"]["Fn"]["Properties"]["Events"]["Source"]["Properties"]
    logical = "".join(p.capitalize() for p in table.split("_")) + "Table"
    assert props["Stream"] == {"Fn::GetAtt": [logical, "StreamArn"]}
    patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert patterns == STREAM_FILTERS[table]
    assert len(patterns) <= 5  # Lambda's default limit of filters per event source
    assert props["MaximumRetryAttempts"] == tpl.EVENT_STREAM_MAX_RETRIES == -1


@pytest.fixture(scope="module")
def template(prod_template_path: Path) -> dict[str, Any]:
    return json.loads(prod_template_path.read_text())


@pytest.mark.slow
def test_each_event_stream_has_its_function_and_may_be_read_by_it(template):
    ddb = "arn:aws:dynamodb:us-east-1:123456789012:table"
    for table, fn_id in FUNCTIONS.items():
        fn = template["Resources"][fn_id]["Properties"]
        (event,) = fn["Events"].values()
        logical = "".join(p.capitalize() for p in table.split("_")) + "Table"
        assert event["Properties"]["Stream"] == {"Fn::GetAtt": [logical, "StreamArn"]}
        assert event["Properties"]["FilterCriteria"]
        stream = f"{ddb}/{PREFIX}-{table}/stream/2026-11-24T00:00:00.000"
        st = role_statements(template, fn_id)
        for action in ("GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"):
            assert allows(st, f"dynamodb:{action}", stream), (fn_id, action)
    handlers = {template["Resources"][f]["Properties"]["Handler"] for f in FUNCTIONS.values()}
    assert handlers == {"app.order_events", "app.refund_events", "app.member_events"}
    table = template["Resources"]["EventDeliveriesTable"]["Properties"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"by_retry", "by_parked"}
