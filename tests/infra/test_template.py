"""The deployable template, built once with ``chalice package`` like CI does.

Tables are compared with the PynamoDB models themselves (``Model._get_schema()``), not
with infra/resources.py, so a generator that drifts from the models fails here.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from chalicelib.db.tables import ALL_MODELS
from chalicelib.kernel import config
from pynamodb.attributes import TTLAttribute

from infra import template as tpl
from infra.resources import BUCKETS, QUEUES
from tests.infra.iam import ACCOUNT, REGION, allows, as_list, resolve, role_statements

pytestmark = pytest.mark.slow

STAGE = "prod"
PREFIX = "daojia-prod"
GATEWAY_RESPONSES = (
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
)


@pytest.fixture(scope="module")
def built(prod_template_path: Path) -> Path:
    return prod_template_path  # the HTTP API variant (tests/infra/conftest.py)


@pytest.fixture(scope="module")
def template(built: Path) -> dict[str, Any]:
    return json.loads(built.read_text())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r.get("Type") == kind}


def _keys(schema: list[dict[str, str]]) -> dict[str, str]:
    return {k["AttributeName"]: k["KeyType"] for k in schema}


def _attrs(definitions: list[dict[str, str]]) -> dict[str, str]:
    return {a["AttributeName"]: a["AttributeType"] for a in definitions}


# --- the template as a whole ------------------------------------------------------------


def test_template_passes_cfn_lint(built: Path) -> None:
    findings = tpl.lint(built)
    assert findings == [], "\n".join(str(m) for m in findings)


def test_packages_hold_the_app_and_lambda_builds_of_its_dependencies(built: Path) -> None:
    with zipfile.ZipFile(built.parent / "deployment.zip") as app_zip:
        names = set(app_zip.namelist())
    assert {"app.py", "chalicelib/kernel/config.py", "chalicelib/db/models.py"} <= names
    with zipfile.ZipFile(built.parent / "layer-deployment.zip") as layer_zip:
        names = set(layer_zip.namelist())
    site = "python/lib/python3.11/site-packages/"  # where a layer's packages must be
    tops = {n.removeprefix(site).split("/")[0] for n in names if n.startswith(site)}
    assert {"pynamodb", "msgspec", "jwt", "tzdata", "boto3", "botocore"} <= tops
    assert not tops & {"pytest", "moto", "cfnlint", "chalice"}
    assert any(
        n.startswith(site + "msgspec/") and n.endswith("cpython-311-x86_64-linux-gnu.so")
        for n in names
    )


def test_outputs_name_the_api_bucket_and_queues(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert "EndpointURL" in outputs
    assert "JwtSigningKeyArn" in outputs
    for short in BUCKETS:
        assert tpl.bucket_logical_id(short) + "Name" in outputs
    for logical in _of_type(template, "AWS::SQS::Queue"):
        assert outputs[logical + "Url"]["Value"] == {"Ref": logical}


def test_the_machine_endpoints_have_a_public_function_url(template: dict[str, Any]) -> None:
    """decisions.md 33: the payment webhook and the relays call machine_api through a
    function URL (no API Gateway charge); the app authenticates, so the URL is public, and
    the public may invoke the function through the URL only."""
    resources = template["Resources"]
    fn = resources["MachineApi"]["Properties"]
    assert fn["Handler"] == "app.machine_api"
    assert fn["ReservedConcurrentExecutions"] > 0  # bounds it: no API Gateway throttling
    (url,) = _of_type(template, "AWS::Lambda::Url").values()
    assert url["Properties"]["TargetFunctionArn"] == {"Fn::GetAtt": ["MachineApi", "Arn"]}
    assert url["Properties"]["AuthType"] == "NONE"
    public = [
        p["Properties"]
        for p in _of_type(template, "AWS::Lambda::Permission").values()
        if p["Properties"].get("Principal") == "*"
    ]
    assert all(p["FunctionName"] == {"Ref": "MachineApi"} for p in public)
    by_action = {p["Action"]: p for p in public}
    assert set(by_action) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    assert by_action["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    assert by_action["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True
    url_id = next(iter(_of_type(template, "AWS::Lambda::Url")))
    assert template["Outputs"]["MachineApiUrl"]["Value"] == {"Fn::GetAtt": [url_id, "FunctionUrl"]}
    # The API Gateway routes stay: a relay or provider not yet switched keeps working.
    keys = {
        r["Properties"]["RouteKey"] for r in _of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert {"POST /payments/notify/{provider}", "POST /relay/print-jobs/{job_id}/ack"} <= keys


# --- tables -----------------------------------------------------------------------------


def test_every_model_has_exactly_one_table_with_its_schema(template: dict[str, Any]) -> None:
    tables = [r["Properties"] for r in _of_type(template, "AWS::DynamoDB::Table").values()]
    expected_names = set()
    for model in ALL_MODELS:
        short = model.Meta.table_name.removeprefix(config.RESOURCE_PREFIX + "-")
        name = f"{PREFIX}-{short}"
        expected_names.add(name)
        matching = [t for t in tables if t["TableName"] == name]
        assert len(matching) == 1, f"{model.__name__}: {len(matching)} tables named {name}"
        table = matching[0]
        schema = model._get_schema()

        assert _keys(table["KeySchema"]) == _keys(schema["key_schema"]), name
        assert table["KeySchema"][0]["KeyType"] == "HASH", name
        assert _attrs(table["AttributeDefinitions"]) == _attrs(schema["attribute_definitions"])
        assert table["BillingMode"] == model.Meta.billing_mode

        model_gsis = {g["index_name"]: g for g in schema.get("global_secondary_indexes") or []}
        table_gsis = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", [])}
        assert set(table_gsis) == set(model_gsis), name
        for index_name, gsi in model_gsis.items():
            got = table_gsis[index_name]
            assert _keys(got["KeySchema"]) == _keys(gsi["key_schema"]), index_name
            assert got["KeySchema"][0]["KeyType"] == "HASH", index_name
            assert got["Projection"]["ProjectionType"] == gsi["projection"]["ProjectionType"]
            assert sorted(got["Projection"].get("NonKeyAttributes", [])) == sorted(
                gsi["projection"].get("NonKeyAttributes", [])
            )
        assert not schema.get("local_secondary_indexes")
        assert "LocalSecondaryIndexes" not in table

        ttl = [n for n, a in model.get_attributes().items() if isinstance(a, TTLAttribute)]
        if ttl:
            assert table.get("TimeToLiveSpecification") == {
                "AttributeName": ttl[0],
                "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in table
    assert {t["TableName"] for t in tables} == expected_names, "tables without a model"


def test_every_table_has_point_in_time_recovery_and_encryption(template: dict[str, Any]) -> None:
    tables = _of_type(template, "AWS::DynamoDB::Table")
    assert tables
    for logical, table in tables.items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True, logical
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"


# --- queues, bucket, functions ----------------------------------------------------------


def test_every_queue_has_a_redrive_policy_to_a_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    queues = _of_type(template, "AWS::SQS::Queue")
    dlqs = set()
    for logical, queue in queues.items():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive is None:
            continue
        target = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
        assert target[1] == "Arn" and target[0] in queues, logical
        assert redrive["maxReceiveCount"] >= 1
        dlqs.add(target[0])
    for logical, queue in queues.items():
        assert "RedrivePolicy" in queue["Properties"] or logical in dlqs, logical
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert {queues[q]["Properties"]["QueueName"] for q in queues if q not in dlqs} == {
        f"{PREFIX}-{short}" for short in QUEUES
    }


def test_the_imports_bucket_is_private_encrypted_and_expires_uploads(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"][tpl.bucket_logical_id("imports")]["Properties"]
    assert ACCOUNT in resolve(bucket["BucketName"])
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(r["Status"] == "Enabled" and r["ExpirationInDays"] == 30 for r in rules)


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    functions = _of_type(template, "AWS::Serverless::Function")
    assert {"APIHandler", "ImportWorker", "TokenAuthorizer"} <= set(functions)
    return functions


def test_every_function_carries_the_stage_settings(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    global_fn = template["Globals"]["Function"]
    for logical, fn in _functions(template).items():
        props = fn["Properties"]
        env = {
            **global_fn["Environment"]["Variables"],
            **props.get("Environment", {}).get("Variables", {}),
        }
        assert env["DAOJIA_STAGE"] == STAGE, logical
        assert env["DAOJIA_RESOURCE_PREFIX"] == PREFIX, logical
        secret = env["DAOJIA_JWT_SECRET_ARN"]["Ref"]
        assert resources[secret]["Type"] == "AWS::SecretsManager::Secret"
        assert resources[secret]["Properties"]["GenerateSecretString"]
        for short in BUCKETS:
            assert env[f"DAOJIA_BUCKET_{short.upper()}"] == {"Ref": tpl.bucket_logical_id(short)}
        assert "DAOJIA_JWT_SECRET" not in env, "a literal key must never reach AWS"
        assert not [k for k in env if k.startswith("AWS_")], "AWS settings come from Lambda"
        logging_config = props.get("LoggingConfig", global_fn["LoggingConfig"])
        assert resources[logging_config["LogGroup"]["Ref"]]["Type"] == "AWS::Logs::LogGroup"
        # JSON logs so that Lambda's own START/END/REPORT lines (most of an order's log
        # volume) can be left out: bench/lifecycle_cost.py prices logs on this.
        assert logging_config["LogFormat"] == "JSON", logical
        assert logging_config["SystemLogLevel"] == "WARN", logical
        assert logging_config["ApplicationLogLevel"] == "INFO", logical
        assert props["Runtime"] == "python3.11"


def test_timeouts_suit_the_api_and_the_import_worker(template: dict[str, Any]) -> None:
    functions = _functions(template)
    assert functions["APIHandler"]["Properties"]["Timeout"] == 10
    assert functions["APIHandler"]["Properties"]["MemorySize"] == 512
    worker = functions["ImportWorker"]["Properties"]
    assert worker["Timeout"] == 900
    (event,) = worker["Events"].values()
    queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
    queue = template["Resources"][queue_id]["Properties"]
    assert queue["QueueName"] == f"{PREFIX}-imports"
    # Lambda refuses an SQS event source whose visibility timeout is below the function's.
    assert queue["VisibilityTimeout"] >= worker["Timeout"]


# --- least privilege --------------------------------------------------------------------


def test_no_policy_grants_every_action_or_every_resource(template: dict[str, Any]) -> None:
    roles = _of_type(template, "AWS::IAM::Role")
    assert roles
    for logical, role in roles.items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                for action in as_list(statement["Action"]):
                    assert action != "*" and not action.endswith(":*"), (logical, action)
                for resource in as_list(statement["Resource"]):
                    assert PREFIX in resolve(resource), (logical, resource)


def _arns(template: dict[str, Any]) -> dict[str, Any]:
    resources = template["Resources"]
    tables = [r["Properties"] for r in _of_type(template, "AWS::DynamoDB::Table").values()]
    bucket = resolve(resources[tpl.bucket_logical_id("imports")]["Properties"]["BucketName"])
    secret = resources["JwtSigningKey"]["Properties"]["Name"]
    log_group = resources[tpl.LOG_GROUP_ID]["Properties"]["LogGroupName"]
    return {
        "tables": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{t['TableName']}" for t in tables],
        "indexes": [
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{t['TableName']}/index/{g['IndexName']}"
            for t in tables
            for g in t.get("GlobalSecondaryIndexes", [])
        ],
        "object": f"arn:aws:s3:::{bucket}/imports/2026/job.csv",
        "imports_queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-imports",
        "print_queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-print-sh-jingan.fifo",
        "secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{secret}-AbC123",
        "log_stream": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}:log-stream:x",
    }


TABLE_ACTIONS = (
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "ConditionCheckItem",
    "Query",
    "BatchGetItem",
    "BatchWriteItem",
    "DescribeTable",
)


def test_api_and_worker_roles_grant_exactly_what_the_code_calls(
    template: dict[str, Any],
) -> None:
    arns = _arns(template)
    for function in ("APIHandler", "ImportWorker"):
        st = role_statements(template, function)
        for table in arns["tables"]:
            for action in TABLE_ACTIONS:
                assert allows(st, f"dynamodb:{action}", table), (function, action, table)
            assert not allows(st, "dynamodb:DeleteTable", table)
            assert not allows(st, "dynamodb:Scan", table)
        for index in arns["indexes"]:
            assert allows(st, "dynamodb:Query", index), (function, index)
        assert not allows(st, "dynamodb:GetItem", "arn:aws:dynamodb:r:a:table/daojia-dev-x")
        for action in ("s3:PutObject", "s3:GetObject"):
            assert allows(st, action, arns["object"])
        assert not allows(st, "s3:DeleteObject", arns["object"])
        for action in ("sqs:GetQueueUrl", "sqs:SendMessage"):
            assert allows(st, action, arns["imports_queue"])
        for action in ("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:SendMessage"):
            assert allows(st, action, arns["print_queue"])
        assert not allows(st, "sqs:DeleteQueue", arns["imports_queue"])
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            assert allows(st, action, arns["log_stream"])
    worker = role_statements(template, "ImportWorker")
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert allows(worker, action, arns["imports_queue"]), action
    api = role_statements(template, "APIHandler")
    assert allows(api, "secretsmanager:GetSecretValue", arns["secret"])


def test_the_authorizer_reads_the_signing_key_and_the_accounts_and_nothing_else(
    template: dict[str, Any],
) -> None:
    """It reads accounts (auth/sessions.py: revoked sessions, disabled staff) and may
    change nothing."""
    arns = _arns(template)
    st = role_statements(template, "TokenAuthorizer")
    assert allows(st, "secretsmanager:GetSecretValue", arns["secret"])
    assert allows(st, "logs:PutLogEvents", arns["log_stream"])
    readable = {t for t in arns["tables"] if allows(st, "dynamodb:GetItem", t)}
    assert {t.rsplit("-", 1)[-1] for t in readable} == {"staff", "customers"}
    assert len(readable) == 2
    for table in arns["tables"]:
        for action in TABLE_ACTIONS:
            if action != "GetItem":
                assert not allows(st, f"dynamodb:{action}", table), (action, table)
    services = {a.split(":")[0] for s in st for a in as_list(s["Action"])}
    assert services == {"logs", "secretsmanager", "dynamodb"}


SCANNED_BY_THE_SEGMENTS_JOBS = {
    "customers",
    "paid_cards",
    "member_stats",
    "member_tags",
    "segment_memberships",
}


def test_only_the_segments_jobs_may_scan_and_only_the_members_tables(
    template: dict[str, Any],
) -> None:
    """The nightly snapshot and a 立即刷新 (customers/segment_snapshot.py,
    segment_memberships.py) read whole tables with a parallel Scan; every other function
    may not Scan at all (a request path never scans)."""
    arns = _arns(template)
    for function in ("SegmentsNightly", "SegmentsWorker"):
        st = role_statements(template, function)
        scannable = {
            t.split(f"{PREFIX}-", 1)[1] for t in arns["tables"] if allows(st, "dynamodb:Scan", t)
        }
        assert scannable == SCANNED_BY_THE_SEGMENTS_JOBS, function
        for table in arns["tables"]:  # and everything the shared policy grants
            for action in TABLE_ACTIONS:
                assert allows(st, f"dynamodb:{action}", table), (function, action, table)
        assert allows(st, "s3:PutObject", arns["object"])
    for function in ("APIHandler", "ImportWorker", "MachineApi"):
        st = role_statements(template, function)
        assert not any(allows(st, "dynamodb:Scan", t) for t in arns["tables"]), function


def test_relays_get_queue_credentials_through_one_role_only_the_api_may_assume(
    template: dict[str, Any],
) -> None:
    """The token vending machine: the API assumes the relay role with a session policy for
    one store's queue; the role itself reaches print queues only, for receiving."""
    arns = _arns(template)
    resources = template["Resources"]
    role = resources[tpl.RELAY_ROLE_ID]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # The API and the machine endpoints' function (its URL serves /relay/credentials too).
    assert trust["Principal"] == {
        "AWS": [
            {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]},
            {"Fn::GetAtt": ["MachineApiRole", "Arn"]},
        ]
    }
    assert resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0] == "ApiHandlerRole"
    assert resources["MachineApi"]["Properties"]["Role"]["Fn::GetAtt"][0] == "MachineApiRole"
    st = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert allows(st, action, arns["print_queue"]), action
        assert not allows(st, action, arns["imports_queue"]), action
    assert not allows(st, "sqs:SendMessage", arns["print_queue"])
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role['RoleName']}"
    assert allows(role_statements(template, "APIHandler"), "sts:AssumeRole", role_arn)
    assert allows(role_statements(template, "MachineApi"), "sts:AssumeRole", role_arn)
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DAOJIA_RELAY_ROLE_ARN"] == {"Fn::GetAtt": [tpl.RELAY_ROLE_ID, "Arn"]}


# --- the REST API variant (--api rest) ---------------------------------------------------


@pytest.fixture(scope="module")
def rest_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tpl.build(STAGE, tmp_path_factory.mktemp("rest-template"), api="rest")


def test_the_rest_variant_keeps_chalices_rest_api_and_passes_cfn_lint(rest_built: Path) -> None:
    findings = tpl.lint(rest_built)
    assert findings == [], "\n".join(str(m) for m in findings)
    template = json.loads(rest_built.read_text())
    assert template["Resources"]["RestAPI"]["Type"] == "AWS::Serverless::Api"
    assert not _of_type(template, "AWS::ApiGatewayV2::Api")
    assert "arn:aws:" not in json.dumps(template)
    csp = json.dumps(_of_type(template, "AWS::CloudFront::ResponseHeadersPolicy"))
    assert "https://${RestAPI}.execute-api." in csp


def test_rest_gateway_responses_use_our_error_shape(rest_built: Path) -> None:
    template = json.loads(rest_built.read_text())
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    responses = body["x-amazon-apigateway-gateway-responses"]
    assert set(GATEWAY_RESPONSES) <= set(responses)
    for kind in GATEWAY_RESPONSES:
        response = responses[kind]
        rendered = json.loads(
            response["responseTemplates"]["application/json"]
            .replace("$context.error.messageString", '"Unauthorized"')
            .replace("$context.error.responseType", kind)
        )
        assert rendered == {"error": {"code": kind, "message": "Unauthorized", "details": None}}
        assert (
            response["responseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"]
            == "'*'"
        )


def test_the_rest_variant_compresses_in_the_gateway_not_in_the_app(
    rest_built: Path, template: dict[str, Any]
) -> None:
    """A REST API passes a base64 body through as text unless binary media types are set,
    so there API Gateway compresses (as the app would: over 1 KB) and the app does not;
    an HTTP API cannot compress, so there the app does (chalicelib/http/compression.py)."""
    from chalicelib.http.compression import MIN_BYTES

    rest = json.loads(rest_built.read_text())
    assert rest["Resources"]["RestAPI"]["Properties"]["MinimumCompressionSize"] == MIN_BYTES
    assert tpl.GZIP_MIN_BYTES == MIN_BYTES
    variables = rest["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DAOJIA_GZIP_RESPONSES"] == "off"
    http_variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "DAOJIA_GZIP_RESPONSES" not in http_variables  # on by default


def test_every_arn_follows_the_partition(template: dict[str, Any]) -> None:
    """No ``arn:aws:`` literal: the same template deploys to the China regions (aws-cn)."""
    assert "arn:aws:" not in json.dumps(template)
    assert "arn:${AWS::Partition}:sqs:*:*:daojia-prod-print-*" in json.dumps(template)


def test_the_china_regions_template_passes_cfn_lint(tmp_path: Path) -> None:
    """China regions: built without the admin site (no CloudFront OAC there) and without
    the machine endpoints' function URL (none in cn-northwest-1), as infra/README.md says;
    cfn-lint knows which resources and properties they support."""
    built = tpl.build(STAGE, tmp_path, admin_site=False, machine_url=False)
    findings = tpl.lint(built, ("cn-north-1", "cn-northwest-1"))
    assert findings == [], "\n".join(str(m) for m in findings)


def test_the_export_worker_reads_its_queue_and_writes_exports_that_expire(
    template: dict[str, Any],
) -> None:
    """CSV exports (chalicelib/exports): the API queues them, a worker of its own
    streams them to exports/ in the imports bucket, which deletes them after a day."""
    functions = _functions(template)
    worker = functions["ExportWorker"]["Properties"]
    assert worker["Timeout"] == 900
    (event,) = worker["Events"].values()
    queue = template["Resources"][event["Properties"]["Queue"]["Fn::GetAtt"][0]]["Properties"]
    assert queue["QueueName"] == f"{PREFIX}-exports"
    assert queue["VisibilityTimeout"] >= worker["Timeout"]
    arns = _arns(template)
    exports_queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{PREFIX}-exports"
    export_object = arns["object"].replace("/imports/2026/job.csv", "/exports/exp-1/orders.csv")
    api = role_statements(template, "APIHandler")
    for action in ("sqs:GetQueueUrl", "sqs:SendMessage"):
        assert allows(api, action, exports_queue), action
    assert allows(api, "s3:GetObject", export_object)  # presigns the download link
    st = role_statements(template, "ExportWorker")
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert allows(st, action, exports_queue), action
    for action in ("s3:PutObject", "s3:AbortMultipartUpload"):
        assert allows(st, action, export_object), action
    bucket = template["Resources"][tpl.bucket_logical_id("imports")]["Properties"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(
        r.get("Prefix") == "exports/" and r["ExpirationInDays"] == 1 and r["Status"] == "Enabled"
        for r in rules
    )
