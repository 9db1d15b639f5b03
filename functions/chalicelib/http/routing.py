"""Declaring a route once: its schemas, its roles and its documentation.

``Area.route`` registers a thin Chalice view that authenticates, checks the role, parses
the body and query with the declared schemas, calls the handler with typed arguments and
encodes the result. The same declarations produce the OpenAPI document (http/openapi.py),
so what is documented is exactly what is enforced.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from chalice import Blueprint, CORSConfig, Response

from chalicelib.auth.principal import Role, principal_from_context
from chalicelib.http.validation import check_json, parse_json, parse_query
from chalicelib.kernel.errors import ApiError, Forbidden, UnsupportedMediaType, field_error

JSON = "application/json"
ANY_CONTENT = "*/*"
log = logging.getLogger("daojia.api")
# Browsers (the admin site, an H5 storefront) send these headers from other origins.
CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Content-Type", "Authorization", "Idempotency-Key"],
    expose_headers=["Idempotent-Replayed"],
    max_age=600,
)


@dataclass
class RouteSpec:
    """What one route accepts and returns; read by the OpenAPI generator."""

    method: str
    path: str
    tag: str
    summary: str
    description: str
    roles: frozenset[Role] | None
    body: type | None
    query: type | None
    response: type | None
    status: int
    errors: tuple[int, ...]
    content_types: tuple[str, ...]
    request_example: Any = None
    response_example: Any = None
    operation_id: str = ""
    # Reads the Idempotency-Key header (declared as a header parameter in the document).
    idempotency_key: bool = False
    # A retry of the same request answers 200 with ``Idempotent-Replayed: true`` instead
    # of ``status`` (201): routing adds the header, so every such route says it the same way.
    replays: bool = False
    # Other statuses answered with the ``response`` schema, not an error (/health's 503).
    same_body: tuple[int, ...] = ()


ROUTES: list[RouteSpec] = []


@dataclass
class Area:
    """One area of the API (orders, stores, ...), i.e. one Chalice blueprint and OpenAPI tag."""

    tag: str
    import_name: str
    description: str = ""
    blueprint: Blueprint = field(init=False)

    def __post_init__(self) -> None:
        self.blueprint = Blueprint(self.import_name)

    def route(
        self,
        path: str,
        method: str,
        *,
        summary: str,
        description: str = "",
        roles: Iterable[Role] | None = None,
        body: type | None = None,
        query: type | None = None,
        response: type | None = None,
        status: int = 200,
        errors: Iterable[int] = (),
        content_types: Iterable[str] = (JSON,),
        request_example: Any = None,
        response_example: Any = None,
        idempotency_key: bool = False,
        replays: bool = False,
        same_body: Iterable[int] = (),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a handler. It receives path parameters by name and, when declared,
        ``body``, ``query`` and ``principal`` keyword arguments."""
        role_set = frozenset(roles) if roles is not None else None

        def register(handler: Callable[..., Any]) -> Callable[..., Any]:
            spec = RouteSpec(
                method=method.upper(),
                path=path,
                tag=self.tag,
                summary=summary,
                description=description or inspect.cleandoc(handler.__doc__ or ""),
                roles=role_set,
                body=body,
                query=query,
                response=response,
                status=status,
                errors=tuple(errors),
                content_types=tuple(content_types),
                request_example=request_example,
                response_example=response_example,
                operation_id=handler.__name__,
                idempotency_key=idempotency_key,
                replays=replays,
                same_body=tuple(same_body),
            )
            ROUTES.append(spec)
            bp = self.blueprint

            @functools.wraps(handler)
            def view(**path_params: str) -> Response:
                try:
                    return run(**path_params)
                except ApiError as err:
                    return error_response(err)
                except Exception:
                    log.exception("unhandled error in %s %s", spec.method, spec.path)
                    return error_response(
                        ApiError(
                            "Something went wrong on our side; try again.",
                            code="internal",
                            status=500,
                        )
                    )

            def run(**path_params: str) -> Response:
                request = bp.current_request
                kwargs: dict[str, Any] = dict(path_params)
                if role_set is not None:
                    principal = principal_from_context(request.context)
                    if principal.role not in role_set:
                        raise Forbidden(
                            f"This action needs one of the roles: {', '.join(sorted(role_set))}.",
                            code="role_not_allowed",
                        )
                    kwargs["principal"] = principal
                if body is not None:
                    media = check_content_type(
                        request.headers.get("content-type"), spec.content_types
                    )
                    if body is not bytes:
                        kwargs["body"] = parse_json(request.raw_body, body)
                    else:
                        if media == JSON:
                            check_json(request.raw_body)
                        kwargs["body"] = request.raw_body
                if query is not None:
                    kwargs["query"] = parse_query(request.query_params, query)
                response = respond(handler(**kwargs), status)
                if replays and response.status_code == 200:
                    response.headers["Idempotent-Replayed"] = "true"
                return response

            from chalicelib.auth.authorizer import token_authorizer

            bp.route(
                path,
                methods=[method.upper()],
                authorizer=token_authorizer if role_set is not None else None,
                # Chalice would answer a wrong Content-Type with its own 415 body (and on
                # routes that read no body at all); ``run`` checks it instead.
                content_types=[ANY_CONTENT],
                cors=CORS,
            )(view)
            return handler

        return register


def check_content_type(header: str | None, accepted: Iterable[str]) -> str:
    """The body's media type; 415 in the contract's shape unless the route takes it. No
    header at all is read as JSON (as Chalice does); ``text/plain`` is refused, not
    guessed at: a client that sends JSON should say so."""
    if header is None:
        return JSON
    media = header.split(";", 1)[0].strip().lower()
    allowed = [a.lower() for a in accepted]
    if media in allowed:
        return media
    raise UnsupportedMediaType(
        f"This route takes {' or '.join(allowed)}, not {media or 'an empty type'}: send the "
        f"body with the header Content-Type: {allowed[0]} (fetch() sends text/plain for a "
        "string body unless told otherwise).",
        details=[field_error("Content-Type", f"must be {' or '.join(allowed)}")],
    )


# Chalice's own error bodies ({"Code", "Message"}) and our codes for them.
_CHALICE_CODES = {
    "MethodNotAllowedError": "method_not_allowed",
    "UnsupportedMediaType": "unsupported_media_type",
    "BadRequest": "bad_request",
    "BadRequestError": "bad_request",
    "NotFoundError": "not_found",
    "InternalServerError": "internal",
}


def contract_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice middleware: the errors Chalice answers itself, before or around our views
    (405 for a method a path does not have under ``chalice local``, 500 for a failure
    outside a view), leave in the contract's shape like every other error. On API Gateway
    a missing method never reaches the function (its gateway responses answer instead)."""
    response = get_response(event)
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = _CHALICE_CODES.get(str(body["Code"]), "internal")
        message = (
            "Something went wrong on our side; try again."
            if response.status_code >= 500
            else str(body["Message"])
        )
        response.body = msgspec.json.encode(
            ApiError(message, code=code, status=response.status_code).body()
        ).decode()
        response.headers = {**response.headers, "Content-Type": JSON}
    return response


def respond(result: Any, status: int = 200) -> Response:
    """Encode a handler's result (schema object, dict, Response or None) as a JSON response."""
    if isinstance(result, Response):
        return result
    if result is None and status == 204:
        return Response(body="", status_code=204)
    return Response(
        body=msgspec.json.encode(result).decode(),
        status_code=status,
        headers={"Content-Type": JSON},
    )


def error_response(err: ApiError) -> Response:
    """The contract's error body for an ApiError."""
    return Response(
        body=msgspec.json.encode(err.body()).decode(),
        status_code=err.status,
        headers={"Content-Type": JSON},
    )


def current_request_of(area: Area) -> Any:
    """The request being handled (for the rare handler that needs headers)."""
    return area.blueprint.current_request
