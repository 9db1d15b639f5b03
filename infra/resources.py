"""The one definition of Daojia's AWS resources: DynamoDB tables (from the PynamoDB
models), SQS queues and S3 buckets.

``cloudformation_resources()`` feeds the deployable template (infra/template.py);
``create_all()`` creates the very same resources against any endpoint (the local stack's
moto server, or moto in tests), translating each CloudFormation definition to API calls.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

from pynamodb.attributes import TTLAttribute  # noqa: E402

# Static queues: name -> (visibility timeout s, max receives before the DLQ).
QUEUES: dict[str, tuple[int, int]] = {
    # One ERP file per message. AWS asks for a visibility timeout of at least six times the
    # consumer's Lambda timeout (900 s) so that retries of the event source do not overlap.
    "imports": (5400, 3),
    # One CSV export per message; the worker's timeout is 900 s too (same rule).
    "exports": (5400, 3),
    # Segment refreshes and bulk actions (customers/segments.py); 900 s Lambda too.
    "segments": (5400, 3),
}
BUCKETS = ("imports",)

# Indexes a release stopped using, by table (short name), put back into the template on
# request (``python -m infra.template --keep-retired-indexes``): CloudFormation adds or
# drops one index of a table per stack update, so a stack moves to a successor index in
# two deploys, the first with both (infra/README.md, "Upgrading").
RETIRED_INDEXES: dict[str, list[dict[str, Any]]] = {
    # The store work queue keyed by "<store>#<status>" (moved at every step), replaced by
    # by_store_queue; orders written since carry no store_status, so it only shrinks.
    "orders": [
        {
            "IndexName": "by_store_status",
            "KeySchema": [
                {"AttributeName": "store_status", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["pickup_code"]},
        }
    ],
}


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def _projection(projection: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ProjectionType": projection["ProjectionType"]}
    if projection.get("NonKeyAttributes"):
        out["NonKeyAttributes"] = sorted(projection["NonKeyAttributes"])
    return out


def table_definitions(keep_retired: bool = False) -> dict[str, dict[str, Any]]:
    """CloudFormation AWS::DynamoDB::Table properties, by logical id, from the models;
    with ``keep_retired``, the RETIRED_INDEXES too."""
    from chalicelib.db.tables import ALL_MODELS
    from chalicelib.kernel import config as app_config

    out: dict[str, dict[str, Any]] = {}
    for model in ALL_MODELS:
        schema = model._get_schema()
        short = model.Meta.table_name.removeprefix(app_config.RESOURCE_PREFIX + "-")
        attrs = sorted(
            (
                {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
                for a in schema["attribute_definitions"]
            ),
            key=lambda a: a["AttributeName"],
        )
        props: dict[str, Any] = {
            "TableName": model.Meta.table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": attrs,
            "KeySchema": [
                {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
                for k in schema["key_schema"]
            ],
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        }
        gsis = schema.get("global_secondary_indexes") or []
        if gsis:
            props["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": g["index_name"],
                    "KeySchema": [
                        {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
                        for k in g["key_schema"]
                    ],
                    "Projection": _projection(g["projection"]),
                }
                for g in gsis
            ]
        if keep_retired and RETIRED_INDEXES.get(short):
            _add_retired(props, RETIRED_INDEXES[short])
        ttl = [
            name for name, attr in model.get_attributes().items() if isinstance(attr, TTLAttribute)
        ]
        if ttl:
            props["TimeToLiveSpecification"] = {"AttributeName": ttl[0], "Enabled": True}
        stream_view_type = getattr(model.Meta, "stream_view_type", None)
        if stream_view_type:  # e.g. print_jobs: new jobs reach the dispatcher through it
            props["StreamSpecification"] = {"StreamViewType": stream_view_type}
        table = _hash_key_first(props)
        if out.get(_logical(short) + "Table", table) != table:
            # two models may share a table (the loyalty entries: points and growth) only
            # if they define it the same way
            raise ValueError(f"{model.__name__} defines table {short} unlike its other model")
        out[_logical(short) + "Table"] = table
    return out


def _add_retired(props: dict[str, Any], indexes: list[dict[str, Any]]) -> None:
    """Add retired indexes (string keys) to a table's properties."""
    defined = {a["AttributeName"] for a in props["AttributeDefinitions"]}
    for index in indexes:
        for key in index["KeySchema"]:
            if key["AttributeName"] not in defined:
                defined.add(key["AttributeName"])
                props["AttributeDefinitions"].append(
                    {"AttributeName": key["AttributeName"], "AttributeType": "S"}
                )
        props.setdefault("GlobalSecondaryIndexes", []).append(
            {**index, "Projection": _projection(index["Projection"])}
        )
    props["AttributeDefinitions"].sort(key=lambda a: a["AttributeName"])


def queue_definitions(prefix: str) -> dict[str, dict[str, Any]]:
    """AWS::SQS::Queue properties by logical id; each queue has a dead-letter queue."""
    out: dict[str, dict[str, Any]] = {}
    for short, (visibility, max_receives) in QUEUES.items():
        logical = _logical(short) + "Queue"
        out[logical + "Dlq"] = {
            "QueueName": f"{prefix}-{short}-dlq",
            "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True,
        }
        out[logical] = {
            "QueueName": f"{prefix}-{short}",
            "VisibilityTimeout": visibility,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [logical + "Dlq", "Arn"]},
                "maxReceiveCount": max_receives,
            },
        }
    return out


# Uploaded ERP files are kept this long, then S3 deletes them.
UPLOAD_RETENTION_DAYS = 30
# CSV exports (chalicelib/exports, under exports/ in the imports bucket) are downloaded
# within minutes through a link that expires in 15: S3 deletes them after a day.
EXPORT_PREFIX = "exports/"
EXPORT_RETENTION_DAYS = 1


def bucket_logical_id(short: str) -> str:
    """Logical id of a bucket in the template, e.g. ``imports`` -> ``ImportsBucket``."""
    return _logical(short) + "Bucket"


def jwt_secret_name(prefix: str) -> str:
    """Name of the Secrets Manager secret holding the stage's token signing key."""
    return f"{prefix}/jwt-signing-key"


def _bucket_resources(prefix: str, short: str) -> dict[str, dict[str, Any]]:
    logical = bucket_logical_id(short)
    bucket_arn = {"Fn::GetAtt": [logical, "Arn"]}
    return {
        logical: {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Delete",  # CloudFormation refuses while objects remain
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                # Bucket names are global: the account and region make them unique.
                "BucketName": {"Fn::Sub": f"{prefix}-{short}-${{AWS::AccountId}}-${{AWS::Region}}"},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "expire-uploads",
                            "Status": "Enabled",
                            "ExpirationInDays": UPLOAD_RETENTION_DAYS,
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        },
                        {
                            "Id": "expire-exports",
                            "Status": "Enabled",
                            "Prefix": EXPORT_PREFIX,
                            "ExpirationInDays": EXPORT_RETENTION_DAYS,
                        },
                    ]
                },
            },
        },
        logical + "Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": logical},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyPlainHttp",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, {"Fn::Sub": f"${{{logical}.Arn}}/*"}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def _hash_key_first(props: dict[str, Any]) -> dict[str, Any]:
    """Key schemas with the HASH element first, as CloudFormation and DynamoDB require.

    PynamoDB lists key attributes by name, so a range key named before its hash key
    (store_items: sku < store_id) comes first.
    """

    def ordered(keys: list[dict[str, str]]) -> list[dict[str, str]]:
        return sorted(keys, key=lambda k: k["KeyType"] != "HASH")

    out = {**props, "KeySchema": ordered(props["KeySchema"])}
    if "GlobalSecondaryIndexes" in props:
        out["GlobalSecondaryIndexes"] = [
            {**gsi, "KeySchema": ordered(gsi["KeySchema"])}
            for gsi in props["GlobalSecondaryIndexes"]
        ]
    return out


def cloudformation_resources(prefix: str, keep_retired: bool = False) -> dict[str, dict[str, Any]]:
    """Tables, queues, buckets and the token signing key as CloudFormation resources
    (``keep_retired``: with the RETIRED_INDEXES, for the first deploy of an upgrade).

    The signing key exists only in AWS (locally DAOJIA_JWT_SECRET holds a literal), so
    ``create_all`` has no counterpart for it.
    """
    from chalicelib.kernel import config as app_config

    # The models carry the prefix of the process that imported them (daojia-local when
    # building a template on a laptop): name the tables with the prefix asked for.
    models_prefix = app_config.RESOURCE_PREFIX + "-"
    resources: dict[str, dict[str, Any]] = {}
    for props in table_definitions(keep_retired).values():
        if not props["TableName"].startswith(models_prefix):
            raise ValueError(f"table {props['TableName']} does not start with {models_prefix}")
        short = props["TableName"].removeprefix(models_prefix)
        # Logical ids from the short name only: they must never change for a deployed stack.
        resources[_logical(short) + "Table"] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {**_hash_key_first(props), "TableName": f"{prefix}-{short}"},
        }
    # Messages, uploads and the signing key can all be recreated: deleting the stack
    # deletes them (a bucket must be emptied first). Only tables are retained.
    disposable = {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}
    for logical, props in queue_definitions(prefix).items():
        resources[logical] = {"Type": "AWS::SQS::Queue", **disposable, "Properties": props}
    for short in BUCKETS:
        resources.update(_bucket_resources(prefix, short))
    resources["JwtSigningKey"] = {
        "Type": "AWS::SecretsManager::Secret",
        **disposable,
        "Properties": {
            "Name": jwt_secret_name(prefix),
            "Description": "HS256 key that signs Daojia access tokens (generated at creation)",
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    return resources


def create_all(session: Any, prefix: str) -> dict[str, str]:
    """Create every table, queue and bucket (idempotently) through a boto3 session.

    Returns {queue short name: url}. Used by the local stack and the tests.
    """
    ddb = session.client("dynamodb")
    existing = set(ddb.list_tables()["TableNames"])
    for props in table_definitions().values():
        if props["TableName"] in existing:
            continue
        kwargs = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "PointInTimeRecoverySpecification",
                "SSESpecification",
                "TimeToLiveSpecification",
            )
        }
        kwargs["SSESpecification"] = {"Enabled": True}
        if "StreamSpecification" in props:  # CloudFormation's form -> the API's
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb.create_table(**kwargs)
        if "TimeToLiveSpecification" in props:
            ddb.update_time_to_live(
                TableName=props["TableName"],
                TimeToLiveSpecification=props["TimeToLiveSpecification"],
            )
    sqs = session.client("sqs")
    urls: dict[str, str] = {}
    queues = queue_definitions(prefix)
    for props in queues.values():  # DLQs come first in the dict
        attrs: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if key in props:
                attrs[key] = str(props[key])
        if "RedrivePolicy" in props:
            dlq_name = queues[props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]][
                "QueueName"
            ]
            dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            attrs["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"],
                }
            )
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attrs)["QueueUrl"]
        urls[props["QueueName"].removeprefix(prefix + "-")] = url
    s3 = session.client("s3")
    for short in BUCKETS:
        name = f"{prefix}-{short}"
        try:
            s3.head_bucket(Bucket=name)
        except Exception:
            s3.create_bucket(Bucket=name)
    return urls
