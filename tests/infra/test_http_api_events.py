"""The app and its authorizer behind an HTTP API: fed the payload format 1.0 events API
Gateway sends (shapes from the API Gateway developer guide: "Working with AWS Lambda proxy
integrations for HTTP APIs" and "Working with AWS Lambda authorizers for HTTP APIs"), they
authorize, dispatch by route template and answer in our error shape.

What is assumed rather than documented: under payload 1.0 the authorizer's context reaches
the integration as REST's does, flattened into ``requestContext.authorizer`` with
``principalId`` (stringified); infra/README.md lists it as not verified on a real account.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

ACCOUNT = "123456789012"
API_ID = "abcdef123"
STAGE = "api"  # the stage infra/http_api.py creates


def _method_arn(method: str, path: str) -> str:
    return f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"


def _request_context(method: str, route: str, path: str) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT,
        "apiId": API_ID,
        "domainName": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": API_ID,
        "extendedRequestId": "request-id",
        "httpMethod": method,
        "identity": {"sourceIp": "203.0.113.9", "userAgent": "storefront/1.0"},
        "path": f"/{STAGE}{path}",
        "protocol": "HTTP/1.1",
        "requestId": "id=",
        "requestTime": "24/Nov/2026:02:30:00 +0000",
        "requestTimeEpoch": 1795487400000,
        "resourceId": f"{method} {route}",
        "resourcePath": route,  # the matched route's path template
        "stage": STAGE,
    }


def authorizer_event(
    method: str, route: str, path: str, authorization: str, path_params: dict[str, str]
) -> dict[str, Any]:
    """A Lambda REQUEST authorizer event, payload format 1.0, identity source the header."""
    headers = {"authorization": authorization, "content-type": "application/json"}
    return {
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": _method_arn(method, path),
        "identitySource": authorization,
        "authorizationToken": authorization,
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": None,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": _request_context(method, route, path),
    }


def proxy_event(
    method: str,
    route: str,
    path: str,
    path_params: dict[str, str] | None,
    authorizer: dict[str, Any] | None,
    authorization: str | None = None,
) -> dict[str, Any]:
    """A Lambda proxy integration event, payload format 1.0."""
    headers = {"content-type": "application/json", "host": f"{API_ID}.execute-api.x"}
    if authorization:
        headers["authorization"] = authorization
    context = _request_context(method, route, path)
    # A public route: what the guide's example shows for a route without a Lambda authorizer.
    context["authorizer"] = authorizer if authorizer is not None else {"claims": None}
    return {
        "version": "1.0",
        "resource": route,
        "path": f"/{STAGE}{path}",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": context,
        "pathParameters": path_params,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }


def integration_authorizer(answer: dict[str, Any]) -> dict[str, Any]:
    """What API Gateway passes on of an authorizer's answer (context values as strings)."""
    context = {
        k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in answer["context"].items()
    }
    return {**context, "principalId": answer["principalId"], "integrationLatency": 12}


def call_app(event: dict[str, Any]) -> tuple[int, Any]:
    from app import app

    response = app(event, None)
    body = response["body"]
    return response["statusCode"], (json.loads(body) if body else None)


def _allows(answer: dict[str, Any], method_arn: str) -> bool:
    (statement,) = answer["policyDocument"]["Statement"]
    resources = statement["Resource"]
    resources = resources if isinstance(resources, list) else [resources]
    return (
        statement["Effect"] == "Allow"
        and statement["Action"] == "execute-api:Invoke"
        and any(fnmatch.fnmatchcase(method_arn, r) for r in resources)
    )


@pytest.fixture
def token(aws: Any) -> str:
    """A customer's token; ``aws``: tables, for whatever the authorizer and routes read."""
    del aws
    from chalicelib.auth import tokens

    return tokens.issue("c-100", "customer", None, 3600)[0]


def test_a_protected_route_gets_the_principal_from_the_authorizer(token: str) -> None:
    from chalicelib.auth.authorizer import token_authorizer

    event = authorizer_event("GET", "/me", "/me", f"Bearer {token}", {})
    answer = token_authorizer(event, None)
    assert answer["principalId"] == "c-100"
    # One answer is cached per token for TTL and reused on every route of the API.
    assert _allows(answer, _method_arn("GET", "/me"))
    assert _allows(answer, _method_arn("POST", "/orders/quote"))
    assert _allows(answer, _method_arn("GET", "/orders/o-1"))

    status, body = call_app(
        proxy_event("GET", "/me", "/me", None, integration_authorizer(answer), f"Bearer {token}")
    )
    assert status == 200, body
    assert body == {"subject": "c-100", "role": "customer", "store_id": None}


def test_chalice_dispatches_by_the_route_template_with_its_path_parameters(token: str) -> None:
    from chalicelib.auth.authorizer import token_authorizer

    route, path = "/orders/{order_id}", "/orders/o-missing"
    answer = token_authorizer(
        authorizer_event("GET", route, path, f"Bearer {token}", {"order_id": "o-missing"}),
        None,
    )
    status, body = call_app(
        proxy_event("GET", route, path, {"order_id": "o-missing"}, integration_authorizer(answer))
    )
    # The orders view ran with the path's order id (no such order): our 404, not chalice's.
    assert status == 404, body
    assert set(body["error"]) >= {"code", "message"}
    assert "o-missing" in json.dumps(body)


@pytest.mark.usefixtures("aws")
def test_a_public_route_needs_no_authorizer() -> None:
    status, body = call_app(
        proxy_event("GET", "/catalogue/categories", "/catalogue/categories", None, None)
    )
    assert status == 200, body
    status, body = call_app(
        proxy_event(
            "GET", "/stores/{store_id}", "/stores/sh-nowhere", {"store_id": "sh-nowhere"}, None
        )
    )
    assert status == 404, body
    assert body["error"]["code"] and "sh-nowhere" in json.dumps(body)


@pytest.mark.usefixtures("aws")
def test_a_bad_token_is_answered_in_our_error_shape() -> None:
    """The authorizer lets it through with the reason, so the route answers our 401 (API
    Gateway's own bare 401 is only for a request without an Authorization header)."""
    from chalicelib.auth.authorizer import token_authorizer

    for authorization, code in (
        ("Bearer not-a-jwt", "token_invalid"),
        ("Basic abc", "token_missing"),
    ):
        answer = token_authorizer(authorizer_event("GET", "/me", "/me", authorization, {}), None)
        assert _allows(answer, _method_arn("GET", "/me"))
        status, body = call_app(
            proxy_event("GET", "/me", "/me", None, integration_authorizer(answer))
        )
        assert status == 401, body
        assert body["error"]["code"] == code


def test_a_request_event_without_authorization_token_is_read_from_its_identity_source(
    token: str,
) -> None:
    from chalicelib.auth.authorizer import token_authorizer

    full = authorizer_event("GET", "/me", "/me", f"Bearer {token}", {})
    expected = token_authorizer(full, None)
    without_token = {k: v for k, v in full.items() if k != "authorizationToken"}
    assert token_authorizer(without_token, None) == expected
    headers_only = {k: v for k, v in without_token.items() if k != "identitySource"}
    assert token_authorizer(headers_only, None) == expected
    # And the REST API's TOKEN event still works.
    rest = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": full["methodArn"],
    }
    assert token_authorizer(rest, None) == expected


def test_an_authorizer_context_nested_under_lambda_is_read_too(token: str) -> None:
    """Should API Gateway hand the context over nested (as it does in payload 2.0), the
    principal is still found instead of every protected route answering 401."""
    from chalicelib.auth.authorizer import token_authorizer

    event = authorizer_event("GET", "/me", "/me", f"Bearer {token}", {})
    answer = token_authorizer(event, None)
    nested = {"lambda": integration_authorizer(answer), "principalId": answer["principalId"]}

    status, body = call_app(proxy_event("GET", "/me", "/me", None, nested, f"Bearer {token}"))
    assert status == 200, body
    assert body["subject"] == "c-100"


def test_a_large_answer_leaves_the_function_gzipped_and_base64_encoded() -> None:
    """What API Gateway gets for a client sending Accept-Encoding: gzip: the gzip bytes in
    base64 with ``isBase64Encoded`` (an HTTP API decodes them whatever the Content-Type; a
    REST API would need binary media types, so its variant compresses in the gateway)."""
    import base64
    import gzip

    from app import app

    event = proxy_event("GET", "/openapi.json", "/openapi.json", None, None)
    plain = app(event, None)
    assert not plain.get("isBase64Encoded")
    assert "Content-Encoding" not in plain["headers"]

    event["headers"]["accept-encoding"] = "gzip, deflate, br"
    event["multiValueHeaders"]["accept-encoding"] = ["gzip, deflate, br"]
    response = app(event, None)
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    headers = response["headers"]
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Vary"] == "Accept-Encoding"
    assert headers["Content-Type"] == "application/json"
    body = gzip.decompress(base64.b64decode(response["body"]))
    assert json.loads(body) == json.loads(plain["body"])
