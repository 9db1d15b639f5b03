"""Reading IAM policies out of the built template, for the least-privilege tests."""

from __future__ import annotations

import fnmatch
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def resolve(value: Any) -> str:
    """A string or Fn::Sub with the pseudo parameters filled in (partition: aws)."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    return (
        text.replace("${AWS::AccountId}", ACCOUNT)
        .replace("${AWS::Region}", REGION)
        .replace("${AWS::Partition}", "aws")
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every statement of the policies of a function's role."""
    role_id = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = template["Resources"][role_id]["Properties"]
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def allows(statements: list[dict[str, Any]], action: str, arn: str) -> bool:
    """Whether the (Allow-only) statements grant ``action`` on ``arn``."""
    assert not [s for s in statements if s["Effect"] != "Allow"]
    return any(
        any(fnmatch.fnmatchcase(action, a) for a in as_list(s["Action"]))
        and any(fnmatch.fnmatchcase(arn, resolve(r)) for r in as_list(s["Resource"]))
        for s in statements
    )
