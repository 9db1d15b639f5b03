"""The OpenAPI 3.1 document, generated from the route declarations and their schemas.

Storefront developers write their client from this document, so it is generated from
exactly what validates requests (http/routing.py). The committed copy lives at
docs/openapi.json; a test fails when it is stale. Regenerate with:

    .venv/bin/python -m chalicelib.http.openapi > docs/openapi.json   (from functions/)
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import msgspec

from chalicelib.http.routing import ROUTES, RouteSpec
from chalicelib.kernel.schema import ErrorResponse

REF = "#/components/schemas/{name}"
ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing, invalid or expired token",
    403: "The token's role or store may not do this",
    404: "Unknown id",
    409: "Conflicts with the current state",
    415: "The body's Content-Type is not one this route takes (`unsupported_media_type`)",
    422: "Invalid fields; details lists each one",
    429: "Too many attempts or too soon; details.retry_after_s says how long to wait",
    503: "A dependency is down",
}
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_.:-]{8,64}$"  # orders/service.py and returns.py check it
API_DESCRIPTION = """\
Daojia (到家) API: a supermarket chain's own online-to-home business. Stores and their
catalogue; customer sign-in (SMS code) and staff sign-in; orders from quote to delivery or
pickup, with payment, cancellation, refunds and returns; coupons (claimed, issued, sold)
and promotions at checkout; the stores' picking workflow and printed tickets; head
office's dashboard. Storefronts, the admin site and the stores' print relays all use it.

* Money is integer fen (分, CNY): 1290 means ¥12.90. Floats are refused where money is meant.
* Times are UTC ISO-8601 (`2026-11-24T02:30:00Z`); opening hours are in the store's time zone.
* Protected routes need `Authorization: Bearer <token>` from `/auth/otp/verify`
  (customers) or `/auth/login` (staff and head office); `x-daojia-roles` lists who may call.
* Request bodies are JSON sent with `Content-Type: application/json` (a few uploads also
  take `text/csv`). Any other type, `text/plain` included (what `fetch()` sends for a
  string body unless told otherwise), is refused with 415 `unsupported_media_type`; a body
  that is not JSON is 400 `malformed_json`; a missing one 400 `body_required`. Numbers
  must be storable: at most 38 digits, magnitude 0 or 1e-130 up to 1e126 (else 422).
* Every error has the body `{"error": {"code": "...", "message": "...", "details": ...}}`;
  `code` is stable and meant for programs, `message` for people, and `details` is always
  present (null when there is nothing to add). Validation errors (422) list each bad field
  in `details` as `{"field", "reason"}`. Each operation lists the statuses it can answer;
  500 `internal` means a fault on our side (retrying is safe: writes are idempotent).
* Lists paginate with an opaque `cursor`: pass back `next_cursor` until it is `null`. A
  cursor from another listing, or altered, is 400 `bad_cursor`.
* Writes that create something are safe to retry: `POST /orders` and the returns routes
  take an `Idempotency-Key` header, claims and coupon purchases a `request_id`; a retry
  answers 200 (instead of 201) with the header `Idempotent-Replayed: true` and the same
  result, never a second order, coupon or refund.
* Responses over 1 KB are gzip-compressed (`Content-Encoding: gzip`) when the request
  sends `Accept-Encoding: gzip`, as browsers and most HTTP clients do (and decode it
  transparently); without that header, or with `gzip;q=0`, they are plain JSON.
"""
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true`: this answers a retry; nothing new was created.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


def _path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _schema_of(tp: type, components: dict[str, Any]) -> dict[str, Any]:
    (schema,), comps = msgspec.json.schema_components([tp], ref_template=REF)
    components.update(comps)
    return schema


def _query_parameters(query: type, components: dict[str, Any]) -> list[dict[str, Any]]:
    _, comps = msgspec.json.schema_components([query], ref_template=REF)
    own = comps[query.__name__]
    required = set(own.get("required", []))
    params = []
    for name, prop in own.get("properties", {}).items():
        params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    for other, schema in comps.items():
        if other != query.__name__:
            components[other] = schema
    return params


def _bad_request_codes(spec: RouteSpec) -> list[str]:
    """The 400 codes a route can answer, from what it reads."""
    codes = []
    if spec.body is not None and (
        spec.body is not bytes or "application/json" in spec.content_types
    ):
        codes += ["malformed_json", "body_required"]
    if spec.query is not None and "cursor" in {f.name for f in msgspec.structs.fields(spec.query)}:
        codes.append("bad_cursor")
    if spec.idempotency_key:
        codes.append("idempotency_key_required")
    return codes


def _operation(spec: RouteSpec, components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "tags": [spec.tag],
    }
    if spec.description:
        op["description"] = spec.description
    params: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in _path_params(spec.path)
    ]
    if spec.query is not None:
        params.extend(_query_parameters(spec.query, components))
    if spec.idempotency_key:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "Chosen by the client (e.g. a UUID) per attempt and sent "
                "again on every retry of it; the same key with another body is 422 "
                "`idempotency_key_reused`.",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY},
            }
        )
    if params:
        op["parameters"] = params
    if spec.body is bytes:
        content: dict[str, Any] = {ct: {"schema": {"type": "string"}} for ct in spec.content_types}
        if spec.request_example is not None:
            for ct, entry in content.items():
                if ct == "application/json":
                    entry["example"] = spec.request_example
        op["requestBody"] = {"required": True, "content": content}
    elif spec.body is not None:
        media: dict[str, Any] = {"schema": _schema_of(spec.body, components)}
        if spec.request_example is not None:
            media["example"] = spec.request_example
        op["requestBody"] = {"required": True, "content": {"application/json": media}}
    ok: dict[str, Any] = {"description": "Success"}
    if spec.response is not None:
        media = {"schema": _schema_of(spec.response, components)}
        if spec.response_example is not None:
            media["example"] = spec.response_example
        ok["content"] = {"application/json": media}
    responses: dict[str, Any] = {str(spec.status): ok}
    if spec.replays:
        ok["description"] = "Created"
        responses["200"] = dict(
            ok,
            description="A retry of a request already done: the same result, nothing new.",
            headers=REPLAYED_HEADER,
        )
    for code in spec.same_body:
        responses[str(code)] = dict(ok, description=ERROR_TEXT.get(code, "Error") + ", same body")
    codes = set(spec.errors) - set(spec.same_body)
    if spec.roles is not None:
        op["security"] = [{"bearer": []}]
        op["x-daojia-roles"] = sorted(spec.roles)
        codes |= {401, 403}
    bad_request = _bad_request_codes(spec)
    if bad_request:
        codes.add(400)  # described with the codes; a route's own 400s say theirs in prose
    if spec.body is not None:
        codes |= {415, 422}
    if spec.query is not None:
        codes.add(422)
    error_schema = {"$ref": REF.format(name="ErrorResponse")}
    for code in sorted(codes):
        text = ERROR_TEXT.get(code, "Error")
        if code == 400 and bad_request:
            text = f"{text}: {', '.join(f'`{c}`' for c in bad_request)}"
        responses[str(code)] = {
            "description": text,
            "content": {"application/json": {"schema": error_schema}},
        }
    op["responses"] = dict(sorted(responses.items()))
    return op


def schema_examples() -> dict[str, Any]:
    """Examples that schema modules (each feature's ``schemas.py`` and ``*_schemas.py``)
    register as ``EXAMPLES = {schema name: example}``."""
    import importlib
    import pkgutil

    import chalicelib as package

    out: dict[str, Any] = {}
    for feature in pkgutil.iter_modules(package.__path__):
        if not feature.ispkg:
            continue
        path = [f"{package.__path__[0]}/{feature.name}"]
        for info in pkgutil.iter_modules(path):
            if info.name == "schemas" or info.name.endswith("_schemas"):
                name = f"{package.__name__}.{feature.name}.{info.name}"
                module = importlib.import_module(name)
                out.update(getattr(module, "EXAMPLES", {}))
    return out


def build() -> dict[str, Any]:
    """The whole document."""
    components: dict[str, Any] = {}
    _schema_of(ErrorResponse, components)
    paths: dict[str, dict[str, Any]] = {}
    for spec in sorted(ROUTES, key=lambda r: (r.path, r.method)):
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, components)
    for name, example in schema_examples().items():
        if name in components:
            components[name]["examples"] = [example]
    tags = sorted({r.tag for r in ROUTES})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Daojia API", "version": "1.0.0", "description": API_DESCRIPTION},
        "servers": [{"url": "http://127.0.0.1:8000", "description": "local stack (./daojia up)"}],
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def render() -> str:
    """The document as committed: stable key order, UTF-8, trailing newline."""
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    import app  # noqa: F401  (registers every route)

    sys.stdout.write(render())


if __name__ == "__main__":
    main()
