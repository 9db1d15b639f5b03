"""The API on API Gateway's HTTP API (infra/http_api.py): every Chalice route deployed as
its own route with the right authorizer, payload format 1.0, the authorizer as today (TTL,
identity source), CORS, the stage and the permissions; nothing of the REST API left."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chalicelib.http.routing import CORS

from infra import http_api
from infra import template as tpl

STAGE = "prod"


@pytest.fixture(scope="module")
def template(prod_template_path: Path) -> dict[str, Any]:
    return json.loads(prod_template_path.read_text())


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r.get("Type") == kind}


def _app_routes(env: dict[str, str] | None) -> dict[str, str | None]:
    """``"METHOD /path" -> authorizer name`` of functions/app.py's ``app.routes``, imported
    with ``env`` (a stage's settings, as ``chalice package`` imports it)."""
    code = (
        "import json\nfrom app import app\n"
        "print(json.dumps({f'{m} {p}': (e.authorizer.name if e.authorizer else None) "
        "for p, ms in app.routes.items() for m, e in ms.items()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tpl.FUNCTIONS,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def deployed_routes() -> dict[str, str | None]:
    return _app_routes(tpl._child_env(STAGE))


@pytest.mark.slow
def test_every_chalice_route_is_one_http_api_route_with_its_authorizer(
    template: dict[str, Any], deployed_routes: dict[str, str | None]
) -> None:
    routes = _of_type(template, "AWS::ApiGatewayV2::Route")
    authorizers = _of_type(template, "AWS::ApiGatewayV2::Authorizer")
    by_key: dict[str, list[dict[str, Any]]] = {}
    for route in routes.values():
        by_key.setdefault(route["Properties"]["RouteKey"], []).append(route["Properties"])
    assert len(deployed_routes) > 50
    assert set(by_key) == set(deployed_routes)  # no route missing, none extra
    for key, authorizer in deployed_routes.items():
        (props,) = by_key[key]
        assert props["ApiId"] == {"Ref": http_api.HTTP_API_ID}
        assert props["Target"] == {"Fn::Sub": "integrations/${HttpApiIntegration}"}
        if authorizer is None:  # a public route
            assert props["AuthorizationType"] == "NONE", key
            assert "AuthorizerId" not in props, key
        else:
            assert props["AuthorizationType"] == "CUSTOM", key
            ref = props["AuthorizerId"]["Ref"]
            assert authorizers[ref]["Properties"]["Name"] == authorizer, key
    # Both kinds exist, and the path templates are chalice's own.
    assert by_key["GET /health"][0]["AuthorizationType"] == "NONE"
    assert by_key["GET /orders/{order_id}"][0]["AuthorizationType"] == "CUSTOM"


@pytest.mark.slow
def test_the_local_stages_payment_simulator_is_not_deployed(
    template: dict[str, Any], deployed_routes: dict[str, str | None]
) -> None:
    local_only = set(_app_routes(tpl._child_env("local"))) - set(deployed_routes)
    assert local_only == {"POST /local/payments/{order_id}/complete"}
    keys = {
        r["Properties"]["RouteKey"] for r in _of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    assert not local_only & keys


def test_the_integration_is_a_lambda_proxy_with_payload_format_1_0(
    template: dict[str, Any],
) -> None:
    (integration,) = _of_type(template, "AWS::ApiGatewayV2::Integration").values()
    props = integration["Properties"]
    assert props["IntegrationType"] == "AWS_PROXY"
    assert props["PayloadFormatVersion"] == "1.0"  # the REST proxy event chalice reads
    assert "/functions/${APIHandler.Arn}/invocations" in props["IntegrationUri"]["Fn::Sub"]


def test_the_authorizer_caches_its_answer_as_declared_by_the_authorization_header(
    template: dict[str, Any],
) -> None:
    from app import app
    from chalicelib.auth.sessions import AUTHORIZER_TTL_S

    (declared,) = app.builtin_auth_handlers  # @authorizer(ttl_seconds=...), header
    (authorizer,) = _of_type(template, "AWS::ApiGatewayV2::Authorizer").values()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST"
    assert props["AuthorizerResultTtlInSeconds"] == AUTHORIZER_TTL_S  # revocation delay
    assert props["AuthorizerResultTtlInSeconds"] == declared.ttl_seconds
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert props["IdentitySource"] == [f"$request.header.{declared.header}"]
    assert props["Name"] == declared.name
    # Payload 1.0 sends authorizationToken and methodArn and takes chalice's IAM policy.
    assert props["AuthorizerPayloadFormatVersion"] == "1.0"
    assert props["EnableSimpleResponses"] is False
    assert "/functions/${TokenAuthorizer.Arn}/invocations" in props["AuthorizerUri"]["Fn::Sub"]


def test_nothing_of_the_rest_api_is_left(template: dict[str, Any]) -> None:
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert not {k for k in kinds if k.startswith("AWS::ApiGateway::")}
    assert "AWS::Serverless::Api" not in kinds
    assert "RestAPI" not in json.dumps(template)
    (api,) = _of_type(template, "AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "HTTP"


def test_cors_is_what_the_routes_declare(template: dict[str, Any]) -> None:
    (api,) = _of_type(template, "AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    declared = CORS.get_access_control_headers()  # what chalice answers for routing.CORS
    assert cors["AllowOrigins"] == ["*"] == [declared["Access-Control-Allow-Origin"]]
    assert {"Content-Type", "Authorization", "Idempotency-Key"} <= set(cors["AllowHeaders"])
    # ... and chalice's own defaults (X-Amz-Date...), as the REST API allowed them.
    assert cors["AllowHeaders"] == declared["Access-Control-Allow-Headers"].split(",")
    assert cors["ExposeHeaders"] == ["Idempotent-Replayed"]
    assert cors["ExposeHeaders"] == declared["Access-Control-Expose-Headers"].split(",")
    assert cors["MaxAge"] == 600 == int(declared["Access-Control-Max-Age"])
    assert {"GET", "POST", "PUT", "PATCH"} <= set(cors["AllowMethods"])
    assert "AllowCredentials" not in cors


def test_the_stage_auto_deploys_at_the_url_the_docs_name(template: dict[str, Any]) -> None:
    (stage,) = _of_type(template, "AWS::ApiGatewayV2::Stage").values()
    assert stage["Properties"] == {
        "ApiId": {"Ref": "HttpApi"},
        "StageName": "api",
        "AutoDeploy": True,
    }
    outputs = template["Outputs"]
    assert outputs["EndpointURL"]["Value"] == {
        "Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"
    }
    assert outputs["HttpApiId"]["Value"] == {"Ref": "HttpApi"}


def test_api_gateway_may_invoke_the_handler_and_the_authorizer_of_this_api_only(
    template: dict[str, Any],
) -> None:
    permissions = {
        p["Properties"]["FunctionName"].get("Ref")
        or p["Properties"]["FunctionName"]["Fn::GetAtt"][0]: p["Properties"]
        for p in _of_type(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    }
    assert set(permissions) == {"APIHandler", "TokenAuthorizer"}
    for props in permissions.values():
        assert props["Action"] == "lambda:InvokeFunction"
        assert props["SourceArn"] == {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${HttpApi}/*"
        }


# --- the conversion on its own ------------------------------------------------------------


def _swagger() -> dict[str, Any]:
    """A two-route REST body as chalice writes it."""
    uri = {"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/x/${APIHandler.Arn}/y"}
    preflight = {
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "responses": {
                "default": {
                    "responseParameters": {
                        "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'",
                        "method.response.header.Access-Control-Allow-Origin": "'*'",
                        "method.response.header.Access-Control-Allow-Headers": "'A,B'",
                        "method.response.header.Access-Control-Max-Age": "'600'",
                    }
                }
            },
        }
    }
    proxy = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": uri}}
    return {
        "paths": {
            "/a/{id}": {"get": dict(proxy, security=[{"auth": []}]), "options": preflight},
            "/b": {"post": proxy, "options": copy.deepcopy(preflight)},
        },
        "securityDefinitions": {
            "auth": {
                "in": "header",
                "name": "Authorization",
                "x-amazon-apigateway-authorizer": {
                    "type": "token",
                    "authorizerUri": "arn:x",
                    "authorizerResultTtlInSeconds": 60,
                },
            }
        },
    }


def test_route_names_depend_on_the_route_key_alone() -> None:
    """A renamed route resource is replaced, and API Gateway refuses the new route while the
    old one with the same key exists."""
    route = http_api.Route("GET", "/orders/{order_id}", "token_authorizer")
    assert http_api.route_logical_id(route) == "RouteGetOrdersOrderId"
    resources = http_api.http_api_resources(_swagger(), "daojia-x", "api")
    assert {k for k, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Route"} == {
        "RouteGetAId",
        "RoutePostB",
    }
    assert resources["HttpApiAuth"]["Properties"]["AuthorizerResultTtlInSeconds"] == 60
    assert resources["HttpApi"]["Properties"]["CorsConfiguration"] == {
        "AllowMethods": ["GET", "OPTIONS"],
        "AllowOrigins": ["*"],
        "AllowHeaders": ["A", "B"],
        "MaxAge": 600,
    }


def test_routes_whose_names_collide_are_refused() -> None:
    swagger = _swagger()
    swagger["paths"]["/a/id"] = {"get": swagger["paths"]["/b"]["post"]}
    swagger["paths"]["/a/id"]["options"] = swagger["paths"]["/b"]["options"]
    with pytest.raises(http_api.HttpApiError, match="RouteGetAId"):
        http_api.http_api_resources(swagger, "daojia-x", "api")


def test_routes_that_differ_in_cors_are_refused() -> None:
    swagger = _swagger()
    params = swagger["paths"]["/b"]["options"]["x-amazon-apigateway-integration"]["responses"]
    params["default"]["responseParameters"]["method.response.header.Access-Control-Max-Age"] = (
        "'60'"
    )
    with pytest.raises(http_api.HttpApiError, match="one CORS configuration"):
        http_api.http_api_resources(swagger, "daojia-x", "api")


def test_only_token_authorizers_are_carried_over() -> None:
    swagger = _swagger()
    swagger["securityDefinitions"]["auth"]["x-amazon-apigateway-authorizer"]["type"] = (
        "cognito_user_pools"
    )
    with pytest.raises(http_api.HttpApiError, match="TOKEN"):
        http_api.http_api_resources(swagger, "daojia-x", "api")
