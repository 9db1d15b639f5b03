"""The machine endpoints (payment webhooks, store print relays) behind a Lambda function URL.

API Gateway charges $1.00 per million requests (and the relay routes' token authorizer
one more Lambda invocation per token and 30 s); a function URL costs nothing beyond the
function's own invocation (docs/decisions.md 33). ``handle`` takes a function URL event
(payload format 2.0), refuses any path outside ``MACHINE_PREFIXES`` with our 404, and
otherwise gives the Chalice app the REST-style (payload 1.0) event it reads behind the
HTTP API (infra/http_api.py): the matched route template in ``requestContext.resourcePath``,
its path parameters, multi-value headers and query. For a route with the token authorizer
the same authorizer runs here, in process (its account reads go through the container's
session cache, auth/sessions.py), and its answer is put where API Gateway puts it:
``requestContext.authorizer`` with ``principalId`` and the context values as strings.
The app's answer goes back as a function URL response (one value per header, cookies
apart); gzip answers stay base64 with ``isBase64Encoded``.

Imports only the standard library and what ``import app`` has already loaded.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs, unquote

from chalicelib.http.routing import error_response
from chalicelib.kernel.errors import ApiError, NotFound

log = logging.getLogger("daojia.api")

# Only the machine-to-machine routes: the storefront and staff API stays behind API
# Gateway (throttling, WAF, its authorizer cache).
MACHINE_PREFIXES = ("/payments/", "/relay/")
STAGE = "url"  # requestContext.stage: no API Gateway stage in front


def handle(app: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Serve one function URL request with ``app`` (the Chalice app)."""
    http = event.get("requestContext", {}).get("http", {})
    method = str(http.get("method") or "GET").upper()
    path = str(event.get("rawPath") or http.get("path") or "/")
    match = match_route(app, method, path)
    if match is None:
        return not_found(path)
    route, params = match
    rest_event = rest_event_of(event, method, path, route, params)
    entry = app.routes[route][method]
    if entry.authorizer is not None:
        try:
            answer = authorize(entry.authorizer, rest_event["headers"].get("authorization"))
        except Exception:
            # API Gateway answers a failing authorizer with a 500 of its own; ours is in
            # our shape (an exception leaving the handler would be the URL's bare 502).
            log.exception("machine_api: the token authorizer failed")
            err = ApiError(
                "Something went wrong on our side; try again.", code="internal", status=500
            )
            return url_response(error_response(err).to_dict())
        rest_event["requestContext"]["authorizer"] = answer
    return url_response(app(rest_event, context))


def not_found(path: str) -> dict[str, Any]:
    err = NotFound("No such machine endpoint.", details={"path": path})
    return url_response(error_response(err).to_dict())


_routes_cache: dict[int, list[tuple[str, list[str]]]] = {}


def _machine_routes(app: Any) -> list[tuple[str, list[str]]]:
    """The app's routes under the machine prefixes, literal segments before captures
    (as chalice's local matcher sorts them: ``{`` sorts after letters)."""
    key = id(app)
    if key not in _routes_cache:
        _routes_cache[key] = [
            (route, route.split("/")) for route in sorted(app.routes) if _allowed(route)
        ]
    return _routes_cache[key]


def _allowed(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES)


def match_route(app: Any, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(route template, path parameters) of a machine route with ``method``, or None."""
    if path != "/" and path.endswith("/"):
        path = path[:-1]  # as API Gateway does
    if not _allowed(path + "/"):
        return None
    parts = path.split("/")
    for route, template in _machine_routes(app):
        if len(template) != len(parts) or method not in app.routes[route]:
            continue
        params: dict[str, str] = {}
        for got, want in zip(parts, template, strict=True):
            if want.startswith("{") and want.endswith("}"):
                if not got:
                    break
                params[want[1:-1]] = unquote(got)
            elif got != want:
                break
        else:
            return route, params
    return None


def rest_event_of(
    event: dict[str, Any], method: str, path: str, route: str, params: dict[str, str]
) -> dict[str, Any]:
    """The payload 1.0 event API Gateway would send for this request."""
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])
    raw_query = str(event.get("rawQueryString") or "")
    multi_query = parse_qs(raw_query, keep_blank_values=True) if raw_query else {}
    url_context = event.get("requestContext") or {}
    http = url_context.get("http") or {}
    context = {
        "accountId": url_context.get("accountId"),
        "apiId": url_context.get("apiId"),
        "domainName": url_context.get("domainName"),
        "httpMethod": method,
        "identity": {"sourceIp": http.get("sourceIp"), "userAgent": http.get("userAgent")},
        "path": path,
        "protocol": http.get("protocol"),
        "requestId": url_context.get("requestId"),
        "requestTimeEpoch": url_context.get("timeEpoch"),
        "resourceId": f"{method} {route}",
        "resourcePath": route,
        "stage": STAGE,
        "authorizer": {"claims": None},  # a public route's, as API Gateway sends it
    }
    return {
        "version": "1.0",
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": context,
        "pathParameters": params or None,
        "stageVariables": None,
        "body": event.get("body"),
        "isBase64Encoded": bool(event.get("isBase64Encoded")),
    }


def authorize(authorizer: Any, authorization: str | None) -> dict[str, Any]:
    """What API Gateway hands the route of the authorizer's answer: the context values as
    strings (booleans lower-case) with ``principalId``."""
    from chalice.app import AuthRequest

    answer = authorizer.func(AuthRequest("TOKEN", authorization or "", ""))
    context = {
        k: str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in (answer.context or {}).items()
    }
    return {**context, "principalId": str(answer.principal_id)}


def url_response(response: dict[str, Any]) -> dict[str, Any]:
    """A payload 1.0 answer as a function URL answer: multi-value headers folded into
    ``headers`` (comma-joined, as RFC 9110 allows), Set-Cookie values in ``cookies``."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in (response.get("headers") or {}).items():
        if str(name).lower() == "set-cookie":
            cookies.append(str(value))
        else:
            headers[str(name)] = str(value)
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if str(name).lower() == "set-cookie":
            cookies = [str(v) for v in values]  # the whole list (headers held the last)
        elif values:
            headers[str(name)] = ", ".join(str(v) for v in values)
    out: dict[str, Any] = {
        "statusCode": int(response.get("statusCode", 200)),
        "headers": headers,
        "body": response.get("body") or "",
        "isBase64Encoded": bool(response.get("isBase64Encoded")),
    }
    if cookies:
        out["cookies"] = cookies
    return out
