"""The API on API Gateway's HTTP API instead of the REST API that ``chalice package`` emits.

HTTP APIs cost $1.00 per million requests, REST APIs $3.50 (see "Decision: HTTP API" in
infra/README.md). chalice can only package a REST API, so ``replace_rest_api`` turns the
``RestAPI`` resource chalice wrote into HTTP API resources, reading everything from the
REST API's own OpenAPI body, i.e. from the app's routes as chalice saw them:

- one ``AWS::ApiGatewayV2::Route`` per route and method, with the route's path template
  (``GET /orders/{order_id}``): chalice dispatches on ``requestContext.resourcePath``, which
  an HTTP API fills with the matched route's path, so a single ``{proxy+}`` route would not
  reach the right view;
- one Lambda proxy integration to the API function with payload format 1.0 (the event shape
  of REST proxy integrations, the only one chalice reads);
- per chalice authorizer, a Lambda REQUEST authorizer with payload format 1.0 (it sends
  ``authorizationToken`` and ``methodArn`` as a TOKEN event does, and takes the IAM policy
  chalice's ``AuthResponse`` returns), the token header as identity source and the same
  result TTL; protected routes use it, public routes have none;
- the CORS configuration chalice answered preflights with, as the API's one
  CorsConfiguration (an HTTP API answers preflights itself);
- a stage of the same name as chalice's (``api``) with auto-deploy, so ``EndpointURL`` keeps
  its shape, and the Lambda permissions re-pointed at the HTTP API.

HTTP APIs have no gateway responses: what API Gateway answers itself keeps API Gateway's
body (``{"message": "Unauthorized"}``...), see the README's API section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

REST_API_ID = "RestAPI"  # what chalice names its REST API
HTTP_API_ID = "HttpApi"
INTEGRATION_ID = "HttpApiIntegration"
STAGE_ID = "HttpApiStage"
PAYLOAD_FORMAT_VERSION = "1.0"
# chalice answers CORS preflights with mock OPTIONS methods; HTTP API does it itself.
_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "AllowOrigins",
    "Access-Control-Allow-Headers": "AllowHeaders",
    "Access-Control-Expose-Headers": "ExposeHeaders",
    "Access-Control-Max-Age": "MaxAge",
}


class HttpApiError(ValueError):
    """chalice's REST API holds something this conversion does not know how to carry over."""


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST...
    path: str  # chalice's path template, e.g. /orders/{order_id}
    authorizer: str | None  # chalice's authorizer name, None for a public route

    @property
    def key(self) -> str:
        """The HTTP API route key."""
        return f"{self.method} {self.path}"


def route_logical_id(route: Route) -> str:
    """A route's resource name, from its key alone (``RouteGetOrdersOrderId``).

    It must stay a function of the key: a route whose logical id changes is replaced, and
    CloudFormation creates the new route before deleting the old one, which API Gateway
    refuses (two routes with one key)."""
    words = re.findall(r"[A-Za-z0-9]+", route.path)
    return "Route" + route.method.capitalize() + "".join(w[:1].upper() + w[1:] for w in words)


def authorizer_logical_id(name: str) -> str:
    """``token_authorizer`` -> ``HttpApiTokenAuthorizer``."""
    return "HttpApi" + "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", name))


def routes_of(swagger: dict[str, Any]) -> list[Route]:
    """Every route and method of chalice's REST API body (its CORS preflights excepted)."""
    routes = []
    for path, methods in swagger["paths"].items():
        for method, operation in methods.items():
            integration = operation.get("x-amazon-apigateway-integration", {})
            if method == "options" and integration.get("type") == "mock":
                continue  # chalice's CORS preflight
            if integration.get("type") != "aws_proxy":
                raise HttpApiError(f"{method.upper()} {path}: not a Lambda proxy route")
            security = operation.get("security") or []
            names = [name for requirement in security for name in requirement]
            if len(names) > 1:
                raise HttpApiError(f"{method.upper()} {path}: more than one authorizer")
            routes.append(Route(method.upper(), path, names[0] if names else None))
    return routes


def _integration_uri(swagger: dict[str, Any]) -> Any:
    """The one Lambda function (URI) every chalice route proxies to."""
    uris = [
        op["x-amazon-apigateway-integration"]["uri"]
        for methods in swagger["paths"].values()
        for op in methods.values()
        if op.get("x-amazon-apigateway-integration", {}).get("type") == "aws_proxy"
    ]
    if not uris or any(uri != uris[0] for uri in uris):
        raise HttpApiError("expected every route on one Lambda function")
    return uris[0]


def authorizer_resource(name: str, definition: dict[str, Any]) -> dict[str, Any]:
    """A chalice TOKEN authorizer as an HTTP API Lambda REQUEST authorizer."""
    spec = definition.get("x-amazon-apigateway-authorizer", {})
    if spec.get("type") != "token" or definition.get("in") != "header":
        raise HttpApiError(f"authorizer {name}: only chalice's TOKEN authorizers are supported")
    return {
        "Type": "AWS::ApiGatewayV2::Authorizer",
        "Properties": {
            "ApiId": {"Ref": HTTP_API_ID},
            "Name": name,
            "AuthorizerType": "REQUEST",
            "AuthorizerUri": spec["authorizerUri"],
            "AuthorizerPayloadFormatVersion": PAYLOAD_FORMAT_VERSION,
            # IAM policy answers (what chalice's AuthResponse returns), not simple ones.
            "EnableSimpleResponses": False,
            # Also the cache key; a request without it gets API Gateway's own 401.
            "IdentitySource": [f"$request.header.{definition['name']}"],
            "AuthorizerResultTtlInSeconds": spec.get("authorizerResultTtlInSeconds", 300),
        },
    }


def cors_configuration(swagger: dict[str, Any]) -> dict[str, Any] | None:
    """What chalice's OPTIONS methods answered, as the API's one CorsConfiguration."""
    configs = {}
    methods: set[str] = set()
    for path, operations in swagger["paths"].items():
        preflight = operations.get("options", {}).get("x-amazon-apigateway-integration", {})
        if preflight.get("type") != "mock":
            continue
        params = preflight["responses"]["default"]["responseParameters"]
        values = {
            header: params[f"method.response.header.{header}"].strip("'")
            for header in (*_CORS_HEADERS, "Access-Control-Allow-Methods")
            if f"method.response.header.{header}" in params
        }
        methods |= set(values.pop("Access-Control-Allow-Methods", "").split(",")) - {""}
        configs[path] = values
    if not configs:
        return None
    distinct = {tuple(sorted(v.items())) for v in configs.values()}
    if len(distinct) > 1 or len(configs) != len(swagger["paths"]):
        raise HttpApiError(
            "routes differ in CORS, but an HTTP API has one CORS configuration for all routes"
        )
    values = next(iter(configs.values()))
    config: dict[str, Any] = {"AllowMethods": sorted(methods)}
    for header, prop in _CORS_HEADERS.items():
        if header not in values:
            continue
        if prop == "MaxAge":
            config[prop] = int(values[header])
        else:
            config[prop] = [v.strip() for v in values[header].split(",") if v.strip()]
    return config


def http_api_resources(swagger: dict[str, Any], name: str, stage: str) -> dict[str, Any]:
    """The HTTP API, its integration, authorizers, routes and stage."""
    routes = routes_of(swagger)
    definitions = swagger.get("securityDefinitions", {})
    resources: dict[str, Any] = {
        HTTP_API_ID: {
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {
                "Name": name,
                "Description": f"{name}: the API (HTTP API, one route per Chalice route)",
                "ProtocolType": "HTTP",
            },
        },
        INTEGRATION_ID: {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {
                "ApiId": {"Ref": HTTP_API_ID},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": _integration_uri(swagger),
                "PayloadFormatVersion": PAYLOAD_FORMAT_VERSION,
            },
        },
        STAGE_ID: {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"ApiId": {"Ref": HTTP_API_ID}, "StageName": stage, "AutoDeploy": True},
        },
    }
    cors = cors_configuration(swagger)
    if cors:
        resources[HTTP_API_ID]["Properties"]["CorsConfiguration"] = cors
    for auth_name in sorted({r.authorizer for r in routes if r.authorizer}):
        if auth_name not in definitions:
            raise HttpApiError(f"authorizer {auth_name} is not defined")
        resources[authorizer_logical_id(auth_name)] = authorizer_resource(
            auth_name, definitions[auth_name]
        )
    for route in routes:
        logical = route_logical_id(route)
        if logical in resources:
            raise HttpApiError(f"{route.key} and another route would both be named {logical}")
        props: dict[str, Any] = {
            "ApiId": {"Ref": HTTP_API_ID},
            "RouteKey": route.key,
            "Target": {"Fn::Sub": f"integrations/${{{INTEGRATION_ID}}}"},
            "AuthorizationType": "CUSTOM" if route.authorizer else "NONE",
        }
        if route.authorizer:
            props["AuthorizerId"] = {"Ref": authorizer_logical_id(route.authorizer)}
        resources[logical] = {"Type": "AWS::ApiGatewayV2::Route", "Properties": props}
    return resources


def replace_rest_api(template: dict[str, Any], name: str) -> None:
    """Swap chalice's REST API for the HTTP API, in place (permissions and outputs too)."""
    resources = template["Resources"]
    rest = resources.pop(REST_API_ID, None)
    if rest is None:
        raise HttpApiError(f"chalice's template has no {REST_API_ID}")
    stage = rest["Properties"].get("StageName", "api")
    resources.update(http_api_resources(rest["Properties"]["DefinitionBody"], name, stage))
    for resource in resources.values():
        props = resource.get("Properties", {})
        if (
            resource.get("Type") == "AWS::Lambda::Permission"
            and props.get("Principal") == "apigateway.amazonaws.com"
        ):
            # The handler's and the authorizers' invocations come from this API only.
            props["SourceArn"] = {
                "Fn::Sub": "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{{HTTP_API_ID}}}/*"
            }
    outputs = template.setdefault("Outputs", {})
    outputs.pop("RestAPIId", None)
    outputs["HttpApiId"] = {"Value": {"Ref": HTTP_API_ID}}
    outputs["EndpointURL"] = {
        "Value": {
            "Fn::Sub": f"https://${{{HTTP_API_ID}}}.execute-api.${{AWS::Region}}"
            f".${{AWS::URLSuffix}}/{stage}/"
        }
    }
    left = [k for k, v in resources.items() if REST_API_ID in repr(v)]
    if left:
        raise HttpApiError(f"still referring to the REST API: {', '.join(sorted(left))}")
