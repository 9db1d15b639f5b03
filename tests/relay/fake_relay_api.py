"""A fake of the API's relay routes (a threaded ``http.server`` on loopback) for relay tests.

Implements the contract the relay codes against:

- ``POST /relay/credentials`` → SQS credentials for the test queue (moto server endpoint)
- ``POST /relay/heartbeat`` → ``{"relay_id", "store_id", "received_at", "heartbeat_interval_s",
  "other_relay_host"}``
- ``POST /relay/print-jobs/{job_id}/ack`` ``{"copies": [{"copy", "printer"?, "reprinted"?}]}``,
  or the single-copy form ``{"copy", "printer"?, "reprinted"?}`` (refused as an API from
  before ``copies`` would refuse it when ``single_copy_only``)
- ``POST /relay/print-jobs/{job_id}/failure`` ``{"reason", "message", "receive_count"}``

Records every call, can fail the next N acks (500), refuse acks for given jobs for good
(404 ``print_job_not_found``), and refuse the token (401 ``token_revoked``). Independent of
``functions/`` and of ``print_relay`` on purpose.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

TOKEN = "relay-token-sh-jingan"
COPIES = ("picking", "delivery", "slip", "test")


class FakeRelayApi:
    def __init__(
        self,
        *,
        store_id: str,
        queue_url: str,
        sqs_endpoint_url: str | None,
        token: str = TOKEN,
        heartbeat_interval_s: float = 15,
        credentials_lifetime_s: int = 3600,
    ) -> None:
        self.store_id = store_id
        self.queue_url = queue_url
        self.sqs_endpoint_url = sqs_endpoint_url
        self.token = token
        self.heartbeat_interval_s = heartbeat_interval_s
        self.credentials_lifetime_s = credentials_lifetime_s
        self.revoked = False  # every call → 401 token_revoked
        self.other_relay_host: str | None = None  # heartbeats answer: another relay shares it
        self.fail_next_acks = 0  # the next N acks → 500
        self.reject_jobs: set[str] = set()  # acks for these jobs → 404 print_job_not_found
        self.single_copy_only = False  # an API from before one ack per job: "copies" → 422
        self.acks: list[dict[str, Any]] = []  # accepted acks, one record per copy
        self.ack_requests: list[dict[str, Any]] = []  # accepted ack requests, as sent
        self.ack_attempts: list[dict[str, Any]] = []  # every ack request
        self.heartbeats: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.credential_calls = 0
        self.unauthorized = 0
        self.bad_requests: list[str] = []  # 422s: the relay broke the contract
        self._cond = threading.Condition()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                if content_type != "application/json":  # as Chalice / API Gateway do
                    api.bad_requests.append(f"{self.path}: Content-Type {content_type!r}")
                    status, body = _err(415, "unsupported_media_type", "send application/json")
                else:
                    status, body = api._handle(self.path, self.headers.get("Authorization"), raw)
                data = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeRelayApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ waiting

    def wait_for(self, predicate: Callable[[FakeRelayApi], Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate(self)`` is truthy; return its value (AssertionError on
        timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
                self._cond.wait(min(remaining, 0.05))

    def acked(self) -> set[tuple[str, str]]:
        with self._cond:
            return {(a["job_id"], a["copy"]) for a in self.acks}

    # ------------------------------------------------------------------ routes

    def _handle(self, path: str, auth: str | None, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._cond:
            try:
                return self._route(path, auth, raw)
            finally:
                self._cond.notify_all()

    def _route(self, path: str, auth: str | None, raw: bytes) -> tuple[int, dict[str, Any]]:
        if self.revoked:
            self.unauthorized += 1
            return _err(401, "token_revoked", "this relay token was revoked by head office")
        if auth != f"Bearer {self.token}":
            self.unauthorized += 1
            return _err(401, "token_invalid", "missing or unknown relay token")
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return _err(400, "bad_json", "body is not JSON")
        now = datetime.now(UTC)
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts == ["relay", "credentials"]:
            self.credential_calls += 1
            expires = now + timedelta(seconds=self.credentials_lifetime_s)
            return 200, {
                "access_key_id": "ASIATESTRELAY",
                "secret_access_key": "testing",
                "session_token": "testing-session",
                "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "region": "us-east-1",
                "queue_url": self.queue_url,
                "sqs_endpoint_url": self.sqs_endpoint_url,
            }
        if parts == ["relay", "heartbeat"]:
            problem = _heartbeat_problem(body)
            if problem:
                self.bad_requests.append(problem)
                return _err(422, "validation_error", problem)
            self.heartbeats.append({**body, "_at": time.time()})
            return 200, {
                "relay_id": f"relay-{self.store_id}",
                "store_id": self.store_id,
                "received_at": now.isoformat().replace("+00:00", "Z"),
                "heartbeat_interval_s": self.heartbeat_interval_s,
                "other_relay_host": self.other_relay_host,
            }
        if len(parts) == 4 and parts[:2] == ["relay", "print-jobs"] and parts[3] == "ack":
            job_id = parts[2]
            at = time.time()
            self.ack_attempts.append({"job_id": job_id, **body, "_at": at})
            if "copies" in body and self.single_copy_only:
                return _err(422, "validation_failed", "unknown field copies")
            copies = body.get("copies") if set(body) == {"copies"} else [body]
            if (
                not isinstance(copies, list)
                or not 1 <= len(copies) <= 3
                or len({c.get("copy") for c in copies if isinstance(c, dict)}) != len(copies)
                or any(_copy_problem(c) for c in copies)
            ):
                self.bad_requests.append(f"ack {body!r}")
                return _err(422, "validation_failed", f"bad ack body {body!r}")
            if job_id in self.reject_jobs:
                return _err(404, "print_job_not_found", f"no print job {job_id}")
            if self.fail_next_acks > 0:
                self.fail_next_acks -= 1
                return _err(500, "internal", "simulated outage")
            self.ack_requests.append({"job_id": job_id, **body, "_at": at})
            self.acks.extend({"job_id": job_id, **c, "_at": at} for c in copies)
            return 200, {"job_id": job_id, "acked_copies": [c["copy"] for c in copies]}
        if len(parts) == 4 and parts[:2] == ["relay", "print-jobs"] and parts[3] == "failure":
            if (
                body.get("reason") not in ("render_failed", "bad_message", "dead_letter")
                or len(body.get("message", "")) > 500
                or not isinstance(body.get("receive_count", 0), int)
            ):
                self.bad_requests.append(f"failure {body!r}")
                return _err(422, "validation_error", f"bad failure body {body!r}")
            self.failures.append({"job_id": parts[2], **body, "_at": time.time()})
            return 200, {"job_id": parts[2], "status": "missed"}
        return _err(404, "not_found", f"no route {path}")


def _copy_problem(c: Any) -> bool:
    """A copy entry that breaks the ack contract."""
    return (
        not isinstance(c, dict)
        or c.get("copy") not in COPIES
        or bool(set(c) - {"copy", "printer", "reprinted"})
        or len(c.get("printer") or "") > 60
    )


def _err(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message, "details": None}}


def _heartbeat_problem(body: dict[str, Any]) -> str:
    """What breaks the heartbeat contract (limits as in the API's schema), or ''."""
    known = {"relay_version", "hostname", "started_at", "printers", "ledger", "errors"}
    if set(body) - known:
        return f"unknown keys {sorted(set(body) - known)}"
    if len(body.get("relay_version", "")) > 40 or len(body.get("hostname", "")) > 100:
        return "relay_version/hostname too long"
    printers = body.get("printers", [])
    if len(printers) > 8:
        return "more than 8 printers"
    for p in printers:
        known_printer = {"name", "state", "detail", "paper_mm", "problem"}
        if set(p) - known_printer or not 1 <= len(p["name"]) <= 60:
            return f"bad printer {p!r}"
        if p.get("problem") not in (None, "no_status"):
            return f"bad printer problem {p!r}"
        if p["state"] not in ("online", "offline", "paper_out", "unknown"):
            return f"bad printer state {p!r}"
        if p.get("paper_mm") not in (58, 80, None) or len(p.get("detail", "")) > 500:
            return f"bad printer {p!r}"
    ledger = body.get("ledger") or {}
    if set(ledger) - {"pending_copies", "unacked_copies", "oldest_pending_s"} or any(
        not isinstance(v, int) or v < 0 for v in ledger.values()
    ):
        return f"bad ledger {ledger!r}"
    errors = body.get("errors", [])
    if len(errors) > 20:
        return "more than 20 errors"
    for e in errors:
        if set(e) - {"job_id", "message"} or len(e["message"]) > 500:
            return f"bad error {e!r}"
        if e.get("job_id") is not None and len(e["job_id"]) > 100:
            return f"bad error job_id {e!r}"
    return ""
