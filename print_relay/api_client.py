"""The relay's side of the Daojia API (``/relay/...``), on the standard library only.

Every call sends ``Authorization: Bearer <relay token>``. Errors come back as
:class:`ApiError` with the contract's ``code``; ``auth`` (401: revoked, invalid or expired
token), ``permanent`` (the request will never succeed as it is) and otherwise transient
(network, 5xx, 429: try again later).
"""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from print_relay import __version__

__all__ = ["ApiClient", "ApiError"]

USER_AGENT = f"daojia-relay/{__version__}"
# 4xx that will not change by retrying the same request. 401 is separate (a token problem);
# 408, 429 and 409 are transient (409 print_job_changed: "the job changed at the same time;
# retry").
_PERMANENT = frozenset({400, 403, 404, 405, 410, 413, 422})


class ApiError(Exception):
    """The API refused a request or could not be reached; ``str()`` is for the log."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details

    @property
    def auth(self) -> bool:
        """The relay token is not accepted (revoked, invalid, expired)."""
        return self.status == 401

    @property
    def permanent(self) -> bool:
        """Retrying the same request cannot help (e.g. 404 ``print_job_not_found``,
        403 ``other_store``)."""
        return self.status in _PERMANENT

    @property
    def transient(self) -> bool:
        return not self.auth and not self.permanent


def _error(status: int, body: bytes, url: str) -> ApiError:
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        code, message, details = err.get("code"), str(err.get("message", "")), err.get("details")
        text = f"HTTP {status} {code}: {message}"
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        code, details = None, None
        text = f"HTTP {status} from {url}" + (f": {snippet}" if snippet else "")
    if status == 401:
        text += (
            " — the relay token is not accepted: ask head office for a new relay token for "
            "this store and put it in the config (token / token_file)"
        )
    return ApiError(text, status=status, code=code, details=details)


class ApiClient:
    """``base_url`` like ``https://api.example.com``; ``token`` returns the relay token
    (called for every request, so a replaced token file is picked up)."""

    def __init__(self, base_url: str, token: Callable[[], str], *, timeout: float = 10.0):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"API URL must start with http:// or https://, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    # ------------------------------------------------------------------ routes

    def credentials(self) -> dict[str, Any]:
        """Short-lived SQS credentials for this store's queue (``POST /relay/credentials``)."""
        return self._post("/relay/credentials", None)

    def heartbeat(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._post("/relay/heartbeat", body)

    def ack(
        self, job_id: str, copy: str, *, printer: str | None = None, reprinted: bool = False
    ) -> dict[str, Any]:
        """One copy came out of the printer (idempotent on the server). The form every
        API version takes; :meth:`ack_copies` acknowledges a whole job at once."""
        return self._post(f"/relay/print-jobs/{_seg(job_id)}/ack", _copy(copy, printer, reprinted))

    def ack_copies(self, job_id: str, copies: list[tuple[str, str | None, bool]]) -> dict[str, Any]:
        """These copies of one job came out of the printer: one request for all of them
        (idempotent on the server). ``copies``: (copy, printer, reprinted) each."""
        body = {"copies": [_copy(c, printer, reprinted) for c, printer, reprinted in copies]}
        return self._post(f"/relay/print-jobs/{_seg(job_id)}/ack", body)

    def failure(self, job_id: str, reason: str, message: str, receive_count: int) -> dict[str, Any]:
        """A job the relay cannot print (``render_failed``, ``bad_message``, ``dead_letter``)."""
        body = {"reason": reason, "message": message[:500], "receive_count": int(receive_count)}
        return self._post(f"/relay/print-jobs/{_seg(job_id)}/failure", body)

    # ------------------------------------------------------------------ transport

    def _post(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = self.base_url + path
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else b""
        headers = {
            "Authorization": f"Bearer {self._token()}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            # The API compresses answers over 1 KB for clients that accept it (an ack
            # answers with the job: data out is billed per byte)
            "Accept-Encoding": "gzip",
            # Always: urllib would otherwise label even an empty body as a form, which the
            # API (like API Gateway) refuses with 415.
            "Content-Type": "application/json; charset=utf-8",
        }
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - http(s) only, checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = _decoded(response.read(), response.headers.get("Content-Encoding"))
        except urllib.error.HTTPError as exc:
            with exc:
                answer = _decoded(exc.read(), exc.headers.get("Content-Encoding"))
                raise _error(exc.code, answer, url) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(f"cannot reach the API at {self.base_url}: {reason}") from None
        if not raw:
            return {}
        try:
            out = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(f"the API at {url} answered something that is not JSON") from None
        return out if isinstance(out, dict) else {"result": out}


def _decoded(raw: bytes, encoding: str | None) -> bytes:
    """The body as sent before compression (urllib does not decode gzip itself)."""
    if (encoding or "").strip().lower() != "gzip":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError):
        raise ApiError("the API answered a gzip body that does not decompress") from None


def _copy(copy: str, printer: str | None, reprinted: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"copy": copy}
    if printer:
        body["printer"] = printer[:60]
    if reprinted:
        body["reprinted"] = True
    return body


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")
