"""GET /health: the API and each dependency."""

from __future__ import annotations

from chalice import Response

from chalicelib.http.routing import Area
from chalicelib.kernel.schema import Out

area = Area("health", __name__, "Liveness and dependency status.")


class DependencyStatus(Out, kw_only=True):
    status: str
    latency_ms: float
    error: str | None = None


class Health(Out, kw_only=True):
    status: str
    dependencies: dict[str, DependencyStatus]


@area.route(
    "/health",
    "GET",
    summary="Status of the API and its dependencies",
    response=Health,
    same_body=(503,),
    response_example={
        "status": "ok",
        "dependencies": {
            "dynamodb": {"status": "ok", "latency_ms": 3.1},
            "sqs": {"status": "ok", "latency_ms": 2.4},
        },
    },
)
def health() -> Response:
    """200 when DynamoDB and SQS answer, 503 (same body) when one does not."""
    import msgspec

    from chalicelib.health import service

    ok, deps = service.check()
    body = {"status": "ok" if ok else "degraded", "dependencies": deps}
    return Response(
        body=msgspec.json.encode(body).decode(),
        status_code=200 if ok else 503,
        headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


@area.route("/openapi.json", "GET", summary="This API's OpenAPI 3.1 document")
def openapi_document() -> Response:
    """The same document as docs/openapi.json in the repository."""
    from chalicelib.http.openapi import render

    return Response(body=render(), status_code=200, headers={"Content-Type": "application/json"})
