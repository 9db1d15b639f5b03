"""What every answer of the API must be, checked on each response the API tests see.

``problems(...)`` compares one response with the API document (built from the routes, as
docs/openapi.json is): its status must be one the operation documents, and an error must
have the contract's body ``{"error": {"code", "message", "details"}}``. conftest.py runs
it on every response of Chalice's test client, so a status or error body that drifts from
the document fails the test that produced it, whichever subset of tests runs.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any


@cache
def _document() -> dict[str, Any]:
    import app  # noqa: F401  (registers every route)
    from chalicelib.http.openapi import build

    return build()


@cache
def _matcher() -> Any:
    from app import app
    from chalice.local import RouteMatcher

    return RouteMatcher(list(app.routes))


def route_of(path: str) -> str | None:
    """The route template a request path goes to, or None (the gateway answers)."""
    try:
        return _matcher().match_route(path).route
    except ValueError:
        return None


def error_shape_problems(body: Any) -> list[str]:
    """What is wrong with an error body, against the contract."""
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return [f"error body is not {{'error': {{...}}}}: {body!r:.200}"]
    err = body["error"]
    out = []
    if set(err) != {"code", "message", "details"}:
        out.append(f"error keys are {sorted(err)}, not code, message, details")
    for key in ("code", "message"):
        if not isinstance(err.get(key), str) or not err.get(key):
            out.append(f"error.{key} is not a non-empty string: {err.get(key)!r:.100}")
    details = err.get("details")
    if isinstance(details, list):
        for d in details:
            if not isinstance(d, dict) or not isinstance(d.get("field"), str):
                out.append(f"a details entry lacks the field ErrorDetail requires: {d!r:.200}")
            elif not isinstance(d.get("reason"), str):
                out.append(f"a details entry lacks the reason ErrorDetail requires: {d!r:.200}")
    elif details is not None and not isinstance(details, dict):
        out.append(f"error.details is neither a list, an object nor null: {details!r:.100}")
    return out


def problems(
    method: str,
    path: str,
    status: int,
    raw_body: bytes | str | None,
    *,
    allow_500: bool,
    from_gateway: bool = False,
    headers: dict[str, str] | None = None,
) -> list[str]:
    """Each way this response departs from the document (empty: it matches).
    ``from_gateway``: the local gateway answered (e.g. 401 without a token); on API
    Gateway the template's Gateway Responses give that body, so only the status counts."""
    method = method.upper()
    if method == "OPTIONS":  # CORS preflight, answered by the gateway
        return []
    template = route_of(path)
    if template is None:  # no such route: API Gateway's own 403 (Gateway Responses)
        return []
    where = f"{method} {path} ({template}) answered {status}"
    out: list[str] = []
    op = _document()["paths"].get(template, {}).get(method.lower())
    documented = (op or {}).get("responses", {}).get(str(status))
    error_body = documented is None or "ErrorResponse" in json.dumps(documented)
    if status >= 400 and error_body and not from_gateway:
        text = raw_body.decode() if isinstance(raw_body, bytes) else (raw_body or "")
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        out += [f"{where}: {p}" for p in error_shape_problems(body)]
    if op is None:
        if status != 405:  # a method the path lacks: 405 locally, 403 on API Gateway
            out.append(f"{where}: the method is not in the document")
        return out
    if status == 500 and allow_500:
        return out
    replayed = any(k.lower() == "idempotent-replayed" for k in (headers or {}))
    if (
        replayed
        and documented is not None
        and "Idempotent-Replayed" not in documented.get("headers", {})
    ):
        out.append(f"{where} with Idempotent-Replayed, which the document does not declare")
    if documented is None:
        out.append(
            f"{where}, which its documented responses {sorted(op['responses'])} do not "
            "include: document it (Area.route errors=...) or fix the route"
        )
    return out
