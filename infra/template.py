"""Build the deployable template of a stage: ``python -m infra.template --stage prod``.

What it does, with no AWS account involved:

1. writes ``OUT/merge.json``: our resources (tables, queues, bucket, signing key from
   ``infra/resources.py``), the functions' log group, the admin site's bucket and
   CloudFront distribution (``infra/admin_site_hosting.py``) and, for the REST variant,
   API Gateway's error responses;
2. runs ``chalice package --stage STAGE --merge-template OUT/merge.json OUT`` in
   ``functions/`` with the stage's DAOJIA_* variables and fake AWS credentials (chalice
   imports app.py, whose SQS handler names the stage's queue); chalice writes
   ``OUT/sam.json`` (a SAM template), ``OUT/deployment.zip`` (the app) and
   ``OUT/layer-deployment.zip`` (the dependencies, as a Lambda layer);
3. points the SQS event sources at our queue resources and the DynamoDB stream event
   sources at their tables' streams (see ``link_event_sources``);
4. with ``--api http`` (the default), replaces chalice's REST API by an HTTP API with one
   route per chalice route (``infra/http_api.py``; why: "Decision: HTTP API" in
   infra/README.md); ``--api rest`` keeps chalice's REST API;
5. (CLI only) lints ``sam.json`` with cfn-lint and fails on any finding.

How settings that name template resources reach the Lambdas: chalice's config.json only
accepts strings as environment variables (its validator rejects ``{"Ref": ...}``), so
config.json carries the plain ones (DAOJIA_STAGE, DAOJIA_RESOURCE_PREFIX) and the merge
template adds the others in SAM's ``Globals.Function.Environment.Variables``:
DAOJIA_JWT_SECRET_ARN is ``{"Ref": "JwtSigningKey"}`` (a secret's Ref is its ARN) and
DAOJIA_BUCKET_<NAME> is ``{"Ref": "<Name>Bucket"}``. SAM merges global and per-function
variables, so every function chalice generates, including ones added later, gets both
without this file naming any function. ``Globals.Function.LoggingConfig`` likewise sends
every function's logs to one log group we create, so the IAM policies can name that group
instead of ``Resource: "*"``.

Speed: config.json sets ``automatic_layer``, so chalice caches the dependency layer in
functions/.chalice/deployments/ keyed by requirements.txt alone. Only the first build after
requirements.txt changes runs pip (through pip's configured index, ~10 s); every other
build only zips the app (~1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from infra.admin_site_hosting import admin_site_outputs, admin_site_resources
from infra.http_api import HTTP_API_ID, REST_API_ID, HttpApiError, replace_rest_api
from infra.resources import BUCKETS, bucket_logical_id, cloudformation_resources

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
CHALICE_CONFIG = FUNCTIONS / ".chalice" / "config.json"
DEFAULT_OUT = ROOT / "infra" / "build"

# chalice imports app.py while packaging, and module-level boto3 clients need a region and
# credentials: these fakes never reach AWS (packaging makes no AWS calls).
FAKE_AWS_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "packaging-only",
    "AWS_SECRET_ACCESS_KEY": "packaging-only",
}
LOG_RETENTION_DAYS = 90
LOG_GROUP_ID = "FunctionsLogGroup"
SIGNING_KEY_ID = "JwtSigningKey"
# Which API Gateway flavour fronts the API: HTTP API ($1.00 per million requests) or the
# REST API chalice packages ($3.50). See "Decision: HTTP API" in infra/README.md.
API_KINDS = ("http", "rest")
DEFAULT_API = "http"

# REST variant only (HTTP APIs have no gateway responses).
# API Gateway answers some requests itself (no Authorization header, no such route,
# authorizer denial or failure, throttling, integration timeout...). These Gateway
# Responses give those answers our error contract, with API Gateway's responseType as the
# code (what infra/local/api_server.py answers locally, so both agree) and the CORS header
# a browser needs to read them. Gateway templates are not VTL: only plain $context
# substitution; messageString is already a quoted JSON string. DEFAULT_* cover every type;
# the three named ones are the ones clients meet and are listed so they stay explicit.
GATEWAY_RESPONSE_TYPES = (
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "MISSING_AUTHENTICATION_TOKEN",
)
# The size above which JSON answers are gzip-compressed (chalicelib/http/compression.py).
GZIP_MIN_BYTES = 1024
GATEWAY_ERROR_BODY = (
    '{"error": {"code": "$context.error.responseType", "message": $context.error.messageString,'
    ' "details": null}}'
)


class BuildError(RuntimeError):
    """The template could not be built; the message says what to fix."""


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables config.json gives a stage's functions."""
    config = json.loads(CHALICE_CONFIG.read_text())
    stages = config.get("stages", {})
    if stage not in stages:
        raise BuildError(f"stage {stage!r} is not in {CHALICE_CONFIG}; known: {sorted(stages)}")
    env = dict(config.get("environment_variables", {}))
    env.update(stages[stage].get("environment_variables", {}))
    return env


def resource_prefix(stage: str) -> str:
    """The stage's resource prefix, as its functions will see it."""
    return stage_environment(stage).get("DAOJIA_RESOURCE_PREFIX", f"daojia-{stage}")


def log_group_name(prefix: str) -> str:
    """The one log group of all the stage's functions (the IAM policy names it)."""
    return f"/aws/lambda/{prefix}"


def gateway_responses() -> dict[str, Any]:
    """The ``x-amazon-apigateway-gateway-responses`` extension of the REST API.

    It goes into the API's OpenAPI body rather than separate AWS::ApiGateway::
    GatewayResponse resources: changes then redeploy the stage with the routes, whereas
    separate resources only take effect at the next deployment of the stage. Status codes
    stay API Gateway's own.
    """
    return {
        kind: {
            "responseParameters": {"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"},
            "responseTemplates": {"application/json": GATEWAY_ERROR_BODY},
        }
        for kind in GATEWAY_RESPONSE_TYPES
    }


RELAY_ROLE_ID = "RelayQueueRole"
API_ROLE_ID = "ApiHandlerRole"  # the role chalice package creates for the API function
# The function behind the machine endpoints' function URL (app.py ``machine_api``,
# decisions.md 33) and the role chalice creates for it: it serves /relay/credentials too.
MACHINE_API_ID = "MachineApi"
MACHINE_API_ROLE_ID = "MachineApiRole"
MACHINE_URL_ID = "MachineApiFunctionUrl"


def relay_queue_role(prefix: str) -> dict[str, Any]:
    """The role the API assumes to vend a relay its queue credentials (printing/relays.py).

    It may use every store's print queue; each vended session is narrowed by a session
    policy to one store's queue. Only the API functions' roles may assume it (the API's
    and the function URL's, which both serve /relay/credentials)."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": f"{prefix}-relay-queue",
            "Description": "Assumed by the API for store print relays; sessions are "
            "narrowed to one store's print queue",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [
                                {"Fn::GetAtt": [API_ROLE_ID, "Arn"]},
                                {"Fn::GetAtt": [MACHINE_API_ROLE_ID, "Arn"]},
                            ]
                        },
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "StorePrintQueues",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "ReceiveAndDeleteStoreTickets",
                                "Effect": "Allow",
                                "Action": [
                                    "sqs:ChangeMessageVisibility",
                                    "sqs:DeleteMessage",
                                    "sqs:GetQueueAttributes",
                                    "sqs:ReceiveMessage",
                                ],
                                "Resource": [f"arn:aws:sqs:*:*:{prefix}-print-*"],
                            }
                        ],
                    },
                }
            ],
        },
    }


# Lambda's own START/END/REPORT lines are ~350 bytes per invocation: at ~20 invocations
# per order they were most of the order's log volume (bench/lifecycle_cost.py). JSON log
# format lets the system log level drop them; errors, timeouts and throttles stay in
# Lambda's CloudWatch metrics, and the app's own WARNING/ERROR lines are kept. To see
# each invocation's duration and memory again while investigating, set SystemLogLevel to
# INFO on the function (console or `aws lambda update-function-configuration`).
LAMBDA_LOG_LEVELS = {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "WARN"}


def machine_url_resources() -> dict[str, Any]:
    """The Lambda function URL of the machine endpoints (decisions.md 33): the payment
    provider's webhook and the store relays call it instead of API Gateway, which charges
    per request. AuthType NONE: the app authenticates (the provider's signature, the
    relay's token, checked in the function); no API Gateway throttling or WAF in front,
    the function's reserved concurrency (config.json) bounds it.

    Since October 2025 a new function URL needs both permissions: InvokeFunctionUrl for
    the URL, and InvokeFunction, here only through the URL (InvokedViaFunctionUrl), so the
    public grant does not reach the Invoke API."""
    function = {"Ref": MACHINE_API_ID}
    return {
        MACHINE_URL_ID: {
            "Type": "AWS::Lambda::Url",
            "Properties": {
                "TargetFunctionArn": {"Fn::GetAtt": [MACHINE_API_ID, "Arn"]},
                "AuthType": "NONE",
                "InvokeMode": "BUFFERED",
            },
        },
        MACHINE_URL_ID + "Permission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": function,
                "Action": "lambda:InvokeFunctionUrl",
                "Principal": "*",
                "FunctionUrlAuthType": "NONE",
            },
        },
        MACHINE_URL_ID + "InvokePermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": function,
                "Action": "lambda:InvokeFunction",
                "Principal": "*",
                "InvokedViaFunctionUrl": True,
            },
        },
    }


def merge_template(
    stage: str,
    admin_site: bool = True,
    api: str = DEFAULT_API,
    keep_retired: bool = False,
    machine_url: bool = True,
) -> dict[str, Any]:
    """What ``chalice package --merge-template`` deep-merges into its own template.

    ``admin_site=False`` leaves out the admin site's bucket and distribution (CloudFront
    has no Origin Access Control in the China regions, so such a stack hosts it elsewhere).
    ``api`` is ``http`` or ``rest`` (which API Gateway resource the site's CSP names).
    ``machine_url=False`` leaves out the machine endpoints' function URL (cn-northwest-1
    has no AWS::Lambda::Url): relays and providers then use the API's routes.
    ``keep_retired`` keeps the retired indexes (infra.resources.RETIRED_INDEXES) for the
    first deploy of an upgrade.
    """
    if api not in API_KINDS:
        raise BuildError(f"api must be one of {API_KINDS}, not {api!r}")
    prefix = resource_prefix(stage)
    resources = cloudformation_resources(prefix, keep_retired)
    resources[LOG_GROUP_ID] = {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": log_group_name(prefix),
            "RetentionInDays": LOG_RETENTION_DAYS,
        },
    }
    variables: dict[str, Any] = {
        "DAOJIA_JWT_SECRET_ARN": {"Ref": SIGNING_KEY_ID},
        "DAOJIA_RELAY_ROLE_ARN": {"Fn::GetAtt": [RELAY_ROLE_ID, "Arn"]},
    }
    if api == "rest":
        # Partial resource: deep-merged into the RestAPI chalice generates.
        resources[REST_API_ID] = {
            "Properties": {
                "DefinitionBody": {"x-amazon-apigateway-gateway-responses": gateway_responses()},
                # A REST API compresses itself (an HTTP API cannot: the app does it there);
                # a base64 body from the app would reach clients as text without binary
                # media types, so the app leaves it to the gateway.
                "MinimumCompressionSize": GZIP_MIN_BYTES,
            }
        }
        variables["DAOJIA_GZIP_RESPONSES"] = "off"
    resources[RELAY_ROLE_ID] = relay_queue_role(prefix)
    if machine_url:
        resources.update(machine_url_resources())
    for short in BUCKETS:
        variables[f"DAOJIA_BUCKET_{short.upper().replace('-', '_')}"] = {
            "Ref": bucket_logical_id(short)
        }
    outputs: dict[str, Any] = {
        "JwtSigningKeyArn": {"Value": {"Ref": SIGNING_KEY_ID}},
        "FunctionsLogGroupName": {"Value": {"Ref": LOG_GROUP_ID}},
    }
    if machine_url:
        # Where the payment provider's webhook and the store relays point (README).
        outputs["MachineApiUrl"] = {"Value": {"Fn::GetAtt": [MACHINE_URL_ID, "FunctionUrl"]}}
    for logical, resource in resources.items():
        if resource.get("Type") == "AWS::SQS::Queue":
            outputs[logical + "Url"] = {"Value": {"Ref": logical}}
        elif resource.get("Type") == "AWS::S3::Bucket":
            outputs[logical + "Name"] = {"Value": {"Ref": logical}}
    # Added after the loop above: the site's outputs are named for the deploy script.
    if admin_site:
        resources.update(
            admin_site_resources(prefix, HTTP_API_ID if api == "http" else REST_API_ID)
        )
        outputs.update(admin_site_outputs(stage))
    return {
        "Description": f"Daojia {stage}: API, workers, tables, queues, buckets, signing key, "
        "admin site hosting",
        "Globals": {
            "Function": {
                "Environment": {"Variables": variables},
                "LoggingConfig": {"LogGroup": {"Ref": LOG_GROUP_ID}, **LAMBDA_LOG_LEVELS},
            }
        },
        "Resources": resources,
        "Outputs": outputs,
    }


def _child_env(stage: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DAOJIA_"))  # no endpoints, profiles or test settings
    }
    env.update(FAKE_AWS_ENV)
    env.update(stage_environment(stage))
    env["DAOJIA_STAGE"] = stage
    env["DAOJIA_RESOURCE_PREFIX"] = resource_prefix(stage)
    return env


# DynamoDB stream handlers: which events of a table (by short name) invoke the function.
# The print dispatcher sends new jobs only; its own updates (sent, acked, printed) would
# otherwise invoke it for nothing.
STREAM_EVENT_NAMES: dict[str, list[str]] = {"print_jobs": ["INSERT"]}
# A batch that keeps failing is retried this often, then skipped, so one bad record never
# holds up a table's stream (the print watchdog re-sends what the dispatcher missed).
STREAM_MAX_RETRIES = 5
# The domain events' streams: the event filters of chalicelib/events/records.py (only a
# record that is an event invokes the function), and no retry limit: the dispatcher
# records a subscriber's failure itself and never raises for one, so a batch fails only
# when the delivery markers cannot be written, and is retried until they can (the stream
# keeps records 24 h) rather than dropped.
EVENT_STREAM_MAX_RETRIES = -1


def _stream_filters(short: str) -> tuple[list[dict[str, Any]], int]:
    """The event filters and retry limit of the function reading table ``short``'s stream."""
    from chalicelib.events.records import STREAM_FILTERS

    if short in STREAM_FILTERS:
        return STREAM_FILTERS[short], EVENT_STREAM_MAX_RETRIES
    events = STREAM_EVENT_NAMES.get(short)
    return ([{"eventName": events}] if events else []), STREAM_MAX_RETRIES


def _link_stream(fn_id: str, event: dict[str, Any], resources: dict[str, Any], prefix: str) -> None:
    """Point a DynamoDB event source at the table's StreamArn (chalice only has the
    placeholder ARN app.py gives it: ``...:table/<name>/stream/*``)."""
    props = event["Properties"]
    stream = props["Stream"]
    if isinstance(stream, dict):
        return
    match = re.search(r":table/([^/]+)/stream", stream)
    name = match.group(1) if match else stream
    tables = {
        r["Properties"]["TableName"]: logical
        for logical, r in resources.items()
        if r.get("Type") == "AWS::DynamoDB::Table"
    }
    if name not in tables:
        raise BuildError(
            f"{fn_id} reads the stream of table {name!r}, which infra/resources.py does not "
            f"define (tables of this stage: {sorted(tables)})"
        )
    table = resources[tables[name]]["Properties"]
    if "StreamSpecification" not in table:
        raise BuildError(
            f"{fn_id} reads the stream of {name}, but the table has no stream: set "
            f"Meta.stream_view_type on its model"
        )
    props["Stream"] = {"Fn::GetAtt": [tables[name], "StreamArn"]}
    filters, retries = _stream_filters(name.removeprefix(prefix + "-"))
    props.setdefault("MaximumRetryAttempts", retries)
    if filters:
        props["FilterCriteria"] = {
            "Filters": [
                {"Pattern": json.dumps(f, separators=(",", ":"), sort_keys=True)} for f in filters
            ]
        }


def link_event_sources(template: dict[str, Any], prefix: str) -> None:
    """Point each SQS event source at our queue resource instead of an ARN built from
    the queue's name, and each DynamoDB event source at its table's stream.

    chalice knows queues only by name, so the event source mapping would not depend on
    the queue and CloudFormation could create it first (and fail) on a new stack. A
    stream's ARN is only known once its table exists, so it must be a GetAtt anyway.
    """
    resources = template["Resources"]
    by_name = {
        r["Properties"]["QueueName"]: logical
        for logical, r in resources.items()
        if r.get("Type") == "AWS::SQS::Queue"
    }
    for fn_id, fn in resources.items():
        if fn.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (fn["Properties"].get("Events") or {}).values():
            if event.get("Type") == "DynamoDB":
                _link_stream(fn_id, event, resources, prefix)
                continue
            if event.get("Type") != "SQS":
                continue
            queue = event["Properties"]["Queue"]
            if isinstance(queue, dict) and "Fn::GetAtt" in queue:
                continue
            arn = queue["Fn::Sub"] if isinstance(queue, dict) else queue
            name = arn.rsplit(":", 1)[-1]
            if name not in by_name:
                raise BuildError(
                    f"{fn_id} listens on queue {name!r}, which infra/resources.py does not "
                    f"define; add it to QUEUES (queues of this stage: {sorted(by_name)})"
                )
            event["Properties"]["Queue"] = {"Fn::GetAtt": [by_name[name], "Arn"]}


def partition_neutral(value: Any) -> Any:
    """Every ``arn:aws:...`` ARN (the policy files, the relay role) as an Fn::Sub on
    ``${AWS::Partition}``, so the same template deploys to the China regions (``aws-cn``)."""
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return {"Fn::Sub": value["Fn::Sub"].replace("arn:aws:", "arn:${AWS::Partition}:")}
        return {k: partition_neutral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [partition_neutral(v) for v in value]
    if isinstance(value, str) and value.startswith("arn:aws:") and "${" not in value:
        return {"Fn::Sub": "arn:${AWS::Partition}:" + value.removeprefix("arn:aws:")}
    return value


def build(
    stage: str,
    out_dir: Path | None = None,
    admin_site: bool = True,
    api: str = DEFAULT_API,
    keep_retired: bool = False,
    machine_url: bool = True,
) -> Path:
    """Build the stage's template and deployment package; return the template's path."""
    if stage == "local":
        raise BuildError("the local stage is not deployed: run ./daojia up instead")
    stage_environment(stage)  # fails early on an unknown stage
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT / stage
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    merge_path = out / "merge.json"
    merge_path.write_text(
        json.dumps(merge_template(stage, admin_site, api, keep_retired, machine_url), indent=2)
        + "\n"
    )
    cmd = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.exit(main())",
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(merge_path),
        str(out),
    ]
    proc = subprocess.run(
        cmd, cwd=FUNCTIONS, env=_child_env(stage), capture_output=True, text=True, check=False
    )
    template_path = out / "sam.json"
    if proc.returncode != 0 or not template_path.exists():
        raise BuildError(
            f"chalice package failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    template = json.loads(template_path.read_text())
    if template["Resources"].get(MACHINE_API_ID, {}).get("Type") != "AWS::Serverless::Function":
        raise BuildError(f"app.py has no machine_api function ({MACHINE_API_ID}) for its URL")
    link_event_sources(template, resource_prefix(stage))
    if api == "http":
        try:
            replace_rest_api(template, resource_prefix(stage))
        except HttpApiError as err:
            raise BuildError(f"cannot build the HTTP API: {err}") from err
    template = partition_neutral(template)
    # Compact: CloudFormation takes at most 1 MB of template, and the REST variant's
    # definition body (every route) passed that indented (issue 16's routes).
    template_path.write_text(json.dumps(template, separators=(",", ":")) + "\n")
    return template_path


def lint(template_path: Path, regions: tuple[str, ...] = ("us-east-1",)) -> list[Any]:
    """cfn-lint findings (errors, warnings and informational) for a template."""
    from cfnlint.api import ManualArgs, lint_file

    return lint_file(Path(template_path), ManualArgs(regions=list(regions)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, help="dev or prod (from .chalice/config.json)")
    parser.add_argument("--out", type=Path, help="output folder (default infra/build/STAGE)")
    parser.add_argument(
        "--regions", default="us-east-1", help="comma-separated regions cfn-lint checks against"
    )
    parser.add_argument("--clean", action="store_true", help="empty the output folder first")
    parser.add_argument(
        "--no-admin-site",
        action="store_true",
        help="leave out the admin site's S3 bucket and CloudFront distribution (needed in the "
        "China regions, which have no CloudFront Origin Access Control)",
    )
    parser.add_argument(
        "--no-machine-url",
        action="store_true",
        help="leave out the function URL of the payment webhook and the store relays "
        "(cn-northwest-1 has no Lambda function URLs; they then use the API's routes)",
    )
    parser.add_argument(
        "--api",
        choices=API_KINDS,
        default=DEFAULT_API,
        help="API Gateway flavour: http (HTTP API, the default) or rest (chalice's REST API, "
        "with gateway responses in our error body)",
    )
    parser.add_argument(
        "--keep-retired-indexes",
        action="store_true",
        help="keep the indexes this release stopped using (infra/README.md, Upgrading): "
        "the first of the two deploys that move a stack to a new index",
    )
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_OUT / args.stage
    if args.clean and out.exists():
        shutil.rmtree(out)
    started = time.monotonic()
    try:
        path = build(
            args.stage,
            out,
            admin_site=not args.no_admin_site,
            machine_url=not args.no_machine_url,
            api=args.api,
            keep_retired=args.keep_retired_indexes,
        )
    except BuildError as err:
        print(f"infra.template: {err}", file=sys.stderr)
        return 1
    built = time.monotonic() - started
    findings = lint(path, tuple(r.strip() for r in args.regions.split(",") if r.strip()))
    for match in findings:
        print(match, file=sys.stderr)
    print(
        f"{path} (+ deployment.zip) built in {built:.1f} s; "
        f"cfn-lint: {len(findings) or 'no'} finding(s)"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
