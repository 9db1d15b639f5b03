"""A small client of the Daojia API's sign-in and ERP import routes, on ``urllib`` only.

The CLI is installed next to the chain's ERP, often on a locked-down Windows or Linux
box, so it depends on the standard library (and tqdm) alone.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

__all__ = ["ApiClient", "ApiError"]

USER_AGENT = "daojia-import/0.1"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ApiError(Exception):
    """The API refused a request or could not be reached; ``str()`` is for the operator."""

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


def _error_from_response(status: int, body: bytes, url: str) -> ApiError:
    """An :class:`ApiError` from the contract's ``{"error": {...}}`` body, or a plain one
    when the body is something else (a proxy's HTML page, say)."""
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        message = str(err["message"])
        code = err.get("code")
        details = err.get("details")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        message = f"HTTP {status} from {url}" + (f": {snippet}" if snippet else "")
        code, details = None, None
    if status == 401:
        message += " (log in again, or check --token / DAOJIA_TOKEN)"
    return ApiError(message, status=status, code=code, details=details)


class ApiClient:
    """Calls the API at ``base_url`` (e.g. ``https://api.example.com`` or a stage URL
    ending in ``/api``), sending ``Authorization: Bearer <token>`` once a token is set.

    Only GETs are retried (connection errors, 429 and 5xx; exponential backoff with
    jitter): they are idempotent. POSTs are sent once; see :meth:`upload`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        upload_timeout: float = 300.0,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ApiError(f"--api must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.upload_timeout = upload_timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep

    # -- routes -------------------------------------------------------------------------

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Sign in as staff; keeps the token for later calls and returns the session.

        Not retried: each failed attempt counts towards the account's lockout.
        """
        body = json.dumps({"username": username, "password": password}).encode("utf-8")
        session = self._send("POST", "/auth/login", body, "application/json", self.timeout)
        self.token = str(session["token"])
        return session

    def upload(self, kind: str, data: bytes, file_format: str) -> dict[str, Any]:
        """Upload one file (at most 6 MiB) as an import job; returns the queued job.

        Never retried automatically. If the connection drops after the API stored the
        file and queued the job, we cannot know it was accepted (the reply carrying the
        job id is what was lost), and a second POST would queue a second job for the
        same rows. Store stock from the ERP is absolute, so a duplicate job that runs
        after a newer import would put stale stock back. The operator re-runs the
        command once they have checked the import list (GET /admin/imports).
        """
        content_type = "text/csv; charset=utf-8" if file_format == "csv" else "application/json"
        query = urllib.parse.urlencode({"kind": kind})
        return self._send(
            "POST", f"/admin/imports?{query}", data, content_type, self.upload_timeout
        )

    def get_job(self, job_id: str) -> dict[str, Any]:
        """The import job's progress and outcome (retried: a GET changes nothing)."""
        return self._get(f"/admin/imports/{urllib.parse.quote(job_id, safe='')}")

    def list_jobs(self) -> list[dict[str, Any]]:
        """Recent import jobs, newest first."""
        return list(self._get("/admin/imports").get("items", []))

    # -- transport ----------------------------------------------------------------------

    def _get(self, path: str) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return self._send("GET", path, None, None, self.timeout)
            except ApiError as exc:
                retryable = exc.status is None or exc.status in RETRY_STATUSES
                if not retryable or attempt >= self.retries:
                    raise
            attempt += 1
            delay = self.backoff * 2 ** (attempt - 1)
            self._sleep(delay * (0.5 + random.random()))  # jitter: spread out retries

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        timeout: float,
    ) -> dict[str, Any]:
        url = self.base_url + path
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if content_type:
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 - scheme checked in __init__
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                raise _error_from_response(exc.code, exc.read(), url) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise ApiError(f"cannot reach the API at {self.base_url}: {reason}") from None
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError(f"the API at {url} answered with something that is not JSON") from None
