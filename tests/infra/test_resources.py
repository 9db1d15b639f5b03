"""Fast checks of the resource definitions and the merge template (no chalice package)."""

from __future__ import annotations

import json
import re

import boto3
import moto
import pytest

from infra import template as tpl
from infra.resources import (
    BUCKETS,
    cloudformation_resources,
    create_all,
    queue_definitions,
    table_definitions,
)

PREFIX = "daojia-unit"


def test_create_all_creates_exactly_the_defined_tables_queues_and_buckets():
    with moto.mock_aws():
        session = boto3.Session(region_name="us-east-1")
        urls = create_all(session, PREFIX)
        create_all(session, PREFIX)  # idempotent: a second run changes nothing

        ddb = session.client("dynamodb")
        defs = {p["TableName"]: p for p in table_definitions().values()}
        assert set(ddb.list_tables()["TableNames"]) == set(defs)
        for name, props in defs.items():
            table = ddb.describe_table(TableName=name)["Table"]
            assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
                (k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]
            }
            assert sorted(i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])) == (
                sorted(i["IndexName"] for i in props.get("GlobalSecondaryIndexes", []))
            )

        sqs = session.client("sqs")
        queues = queue_definitions(PREFIX)
        listed = {u.rsplit("/", 1)[-1] for u in sqs.list_queues().get("QueueUrls", [])}
        assert listed == {q["QueueName"] for q in queues.values()}
        assert set(urls) == {q["QueueName"].removeprefix(PREFIX + "-") for q in queues.values()}
        for props in queues.values():
            if "RedrivePolicy" not in props:
                continue
            attrs = sqs.get_queue_attributes(
                QueueUrl=urls[props["QueueName"].removeprefix(PREFIX + "-")],
                AttributeNames=["RedrivePolicy", "VisibilityTimeout"],
            )["Attributes"]
            redrive = json.loads(attrs["RedrivePolicy"])
            assert redrive["deadLetterTargetArn"].endswith(":" + props["QueueName"] + "-dlq")
            assert int(attrs["VisibilityTimeout"]) == props["VisibilityTimeout"]

        s3 = session.client("s3")
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {
            f"{PREFIX}-{short}" for short in BUCKETS
        }


def test_cloudformation_tables_take_the_prefix_asked_for_not_the_process_one():
    tables = {
        logical: r["Properties"]["TableName"]
        for logical, r in cloudformation_resources("daojia-prod").items()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    assert len(tables) == len(table_definitions())
    assert all(name.startswith("daojia-prod-") for name in tables.values())
    assert tables["StoreItemsTable"] == "daojia-prod-store_items"
    assert set(tables) == set(table_definitions())  # same logical ids as the local stack


def test_cloudformation_key_schemas_put_the_hash_key_first():
    tables = [
        r["Properties"]
        for r in cloudformation_resources(PREFIX).values()
        if r["Type"] == "AWS::DynamoDB::Table"
    ]
    assert tables
    for props in tables:
        schemas = [props["KeySchema"]] + [
            g["KeySchema"] for g in props.get("GlobalSecondaryIndexes", [])
        ]
        for keys in schemas:
            assert keys[0]["KeyType"] == "HASH"
            assert [k["KeyType"] for k in keys[1:]] in ([], ["RANGE"])


def test_merge_template_references_resolve_to_its_own_resources():
    merge = tpl.merge_template("prod")
    resources = merge["Resources"]
    variables = merge["Globals"]["Function"]["Environment"]["Variables"]
    assert resources[variables["DAOJIA_JWT_SECRET_ARN"]["Ref"]]["Type"] == (
        "AWS::SecretsManager::Secret"
    )
    for short in BUCKETS:
        ref = variables[f"DAOJIA_BUCKET_{short.upper()}"]["Ref"]
        assert resources[ref]["Type"] == "AWS::S3::Bucket"
    log_group = merge["Globals"]["Function"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[log_group]["Properties"]["LogGroupName"] == "/aws/lambda/daojia-prod"
    for output in merge["Outputs"].values():
        value = output["Value"]  # a literal (Stage) or an intrinsic function
        ref = value.get("Ref") if isinstance(value, dict) else None
        assert ref is None or ref in resources


def _render(template: str) -> dict:
    """What API Gateway's plain substitution makes of a gateway response template."""
    return json.loads(
        template.replace("$context.error.messageString", '"Missing Authentication Token"').replace(
            "$context.error.responseType", "MISSING_AUTHENTICATION_TOKEN"
        )
    )


def test_gateway_responses_render_our_error_contract():
    responses = tpl.gateway_responses()
    assert set(responses) == {
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
    }
    for response in responses.values():
        body = _render(response["responseTemplates"]["application/json"])
        # The same body infra/local/api_server.py sends for a gateway error.
        assert body == {
            "error": {
                "code": "MISSING_AUTHENTICATION_TOKEN",
                "message": "Missing Authentication Token",
                "details": None,
            }
        }
        headers = response["responseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'*'"
        assert "statusCode" not in response  # API Gateway's own status is kept
        # Gateway templates substitute $context variables only (no VTL, no $input).
        assert set(re.findall(r"\$[a-zA-Z]+", json.dumps(response))) <= {"$context"}


def _fake_chalice_template(queue_name: str) -> dict:
    resources = cloudformation_resources("daojia-prod")
    resources["ImportWorker"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Events": {
                "ImportWorkerSqsEventSource": {
                    "Type": "SQS",
                    "Properties": {
                        "Queue": {
                            "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}"
                            f":${{AWS::AccountId}}:{queue_name}"
                        },
                        "BatchSize": 1,
                    },
                }
            }
        },
    }
    return {"Resources": resources}


def test_sqs_event_sources_are_linked_to_our_queue_resources():
    template = _fake_chalice_template("daojia-prod-imports")
    tpl.link_event_sources(template, "daojia-prod")
    event = template["Resources"]["ImportWorker"]["Properties"]["Events"]
    assert event["ImportWorkerSqsEventSource"]["Properties"]["Queue"] == {
        "Fn::GetAtt": ["ImportsQueue", "Arn"]
    }


def test_a_handler_on_an_undefined_queue_fails_the_build():
    with pytest.raises(tpl.BuildError, match="daojia-prod-orders"):
        tpl.link_event_sources(_fake_chalice_template("daojia-prod-orders"), "daojia-prod")


def test_the_local_stage_is_not_buildable():
    with pytest.raises(tpl.BuildError, match="local"):
        tpl.build("local")
    with pytest.raises(tpl.BuildError, match="staging"):
        tpl.build("staging")


def test_dev_and_prod_policies_differ_only_by_stage():
    folder = tpl.FUNCTIONS / ".chalice"
    for suffix in ("", "-authorizer", "-segments"):
        prod = (folder / f"policy-prod{suffix}.json").read_text()
        dev = (folder / f"policy-dev{suffix}.json").read_text()
        assert dev == prod.replace("daojia-prod", "daojia-dev")


def test_chalice_config_keeps_the_local_stage_free_of_aws_settings():
    config = json.loads(tpl.CHALICE_CONFIG.read_text())
    local = config["stages"]["local"]
    text = json.dumps(local)
    assert "AWS_" not in text and "SECRET" not in text
    assert local["environment_variables"]["DAOJIA_STAGE"] == "local"
    for stage in ("dev", "prod"):
        assert tpl.stage_environment(stage)["DAOJIA_STAGE"] == stage
        assert tpl.resource_prefix(stage) == f"daojia-{stage}"
        assert config["stages"][stage]["iam_policy_file"] == f"policy-{stage}.json"
