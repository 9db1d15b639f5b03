"""gzip for JSON answers, for clients that ask for it with ``Accept-Encoding``.

API Gateway's HTTP APIs cannot compress (REST APIs can: ``MinimumCompressionSize``, which
the REST variant of the template sets instead, with ``config.GZIP_RESPONSES`` off), so the
app does it: an order's answers are ~22 KB of JSON per order, billed as data out, and
storefronts on mobile data wait for every byte. The compressed body leaves the function
base64-encoded with ``isBase64Encoded``, which API Gateway (HTTP API, payload 1.0),
chalice's local server and its test client all turn back into the bytes they send.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable
from typing import Any

from chalice import Response

from chalicelib.kernel import config

# Smaller bodies gain little (gzip adds ~20 bytes; the headers are ~300) for the CPU spent.
MIN_BYTES = 1024
# Level 6 (zlib's default) compresses an order ~5x; 9 gains ~1% for twice the time.
LEVEL = 6
_CODINGS = ("gzip", "x-gzip")  # x-gzip is the same coding (RFC 9110 8.4.1.3)


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header admits gzip: listed (or ``*``) with a q-value
    above 0. An explicit ``gzip;q=0`` refuses it even when ``*`` is admitted."""
    if not header:
        return False
    star: float | None = None
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        q = _q_value(params)
        if coding in _CODINGS:
            return q > 0
        if coding == "*":
            star = q
    return star is not None and star > 0


def _q_value(params: str) -> float:
    """The ``q`` parameter (1 when absent; 0 when unreadable, i.e. not accepted)."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0 <= q <= 1 else 0.0
    return 1.0


class GzipResponse(Response):
    """A response whose ``body`` is already gzip bytes: sent base64-encoded, flagged
    ``isBase64Encoded``. Chalice would only do that for a Content-Type listed in
    ``app.api.binary_types`` and then refuse requests whose ``Accept`` does not name it, so
    JSON cannot go there."""

    def to_dict(self, binary_types: list[str] | None = None) -> dict[str, Any]:
        response = super().to_dict()  # bytes pass through unchanged; no binary_types check
        response["body"] = base64.b64encode(self.body).decode("ascii")
        response["isBase64Encoded"] = True
        return response


def compressed(response: Response, accept_encoding: str | None) -> Response:
    """``response`` gzip-compressed if it is JSON over MIN_BYTES and the client takes gzip;
    otherwise itself. Errors are compressed like any other answer (the rule is one rule; a
    422 listing many fields can be large). Any other type (none today: CSV exports are S3
    links) is left alone."""
    if isinstance(response, GzipResponse) or not config.GZIP_RESPONSES:
        return response
    headers = dict(response.headers)
    lower = {k.lower(): k for k in headers}
    content_type = str(headers.get(lower.get("content-type", ""), ""))
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return response
    if "content-encoding" in lower:
        return response
    body = response.body
    raw = body.encode() if isinstance(body, str) else body
    if not isinstance(raw, bytes) or len(raw) <= MIN_BYTES:
        return response
    # Caches must key this answer on Accept-Encoding, whichever form was sent.
    vary = str(headers.pop(lower["vary"], "")) if "vary" in lower else ""
    if "accept-encoding" not in vary.lower():
        vary = ", ".join(v for v in (vary, "Accept-Encoding") if v)
    headers["Vary"] = vary
    if not accepts_gzip(accept_encoding):
        response.headers = headers
        return response
    headers["Content-Encoding"] = "gzip"
    return GzipResponse(
        body=gzip.compress(raw, compresslevel=LEVEL, mtime=0),
        headers=headers,
        status_code=response.status_code,
    )


def compress_json(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice middleware (http): the answer compressed for clients that accept gzip."""
    response = get_response(event)
    return compressed(response, event.headers.get("accept-encoding") if event else None)
