"""A fake Daojia API for the CLI tests: sign-in, import upload and job polling over HTTP.

It reads rows with the API's own pure functions (chalicelib.catalogue.rules), so lines,
fields and reasons are the real ones, and keeps products and store items in memory so a
second import of the same rows reports them unchanged. A job advances ``rows_per_poll``
rows per GET, so the client sees it queued, running and finished.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from chalicelib.catalogue import rules

USERNAME = "hq-admin"
PASSWORD = "Daojia-hq-2026"
TOKEN = "fake-token-123"
STORES = {"sh-jingan", "sh-xuhui", "sh-lujiazui", "sh-wujiaochang"}


@dataclass
class Job:
    job_id: str
    kind: str
    file_format: str
    rows: list[tuple[int, dict[str, Any]]] | None
    file_error: str | None
    status: str = "queued"
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[rules.RowError] = field(default_factory=list)
    seen: dict[Any, int] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        errors = sorted(self.errors, key=lambda e: (e.line, e.field))
        return {
            "job_id": self.job_id,
            "kind": self.kind,
            "file_format": self.file_format,
            "status": self.status,
            "created_by": USERNAME,
            "created_at": "2026-11-24T02:00:00Z",
            "total_rows": len(self.rows or []),
            "processed_rows": self.processed,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len({e.line for e in errors}),
            "rejected_rows": [
                {"line": e.line, "field": e.field, "reason": e.reason} for e in errors[:1000]
            ],
            "error": self.file_error,
        }


class FakeApi:
    """State and knobs of the fake; ``url`` is set once it serves."""

    def __init__(self) -> None:
        self.url = ""
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}
        self.products: dict[str, Any] = {}
        self.store_items: dict[tuple[str, str], Any] = {}
        self.rows_per_poll = 2
        self.max_upload = 6 * 1024 * 1024
        self.fail_gets = 0  # the next N GETs answer 503
        self.upload_status: int | None = None  # answer uploads with this error status
        self.never_finish = False  # jobs stay queued (no worker)
        self.uploads: list[bytes] = []
        self.posts: list[str] = []
        self.gets = 0

    # -- business ----------------------------------------------------------------------

    def create_job(self, kind: str, content_type: str, body: bytes) -> Job:
        fmt = "csv" if content_type.startswith("text/csv") else "json"
        columns, required = (
            (rules.PRODUCT_COLUMNS, rules.PRODUCT_REQUIRED)
            if kind == "products"
            else (rules.STORE_ITEM_COLUMNS, rules.STORE_ITEM_REQUIRED)
        )
        rows, error = None, None
        try:
            rows = list(rules.read_rows(body, fmt, columns, required))
        except rules.FileError as exc:
            error = str(exc)
        job = Job(f"imp-{len(self.jobs) + 1:04d}", kind, fmt, rows, error)
        self.jobs[job.job_id] = job
        return job

    def advance(self, job: Job) -> None:
        if self.never_finish or job.status in ("succeeded", "failed"):
            return
        if job.status == "queued":
            job.status = "running"
            if job.file_error:
                job.status = "failed"
            return
        assert job.rows is not None
        batch = job.rows[job.processed : job.processed + self.rows_per_poll]
        for line, raw in batch:
            self.apply(job, line, raw)
        job.processed += len(batch)
        if job.processed >= len(job.rows):
            job.status = "succeeded"

    def apply(self, job: Job, line: int, raw: dict[str, Any]) -> None:
        errors = rules.shape_errors(raw, line)
        if errors:
            job.errors.extend(errors)
            return
        parse = rules.parse_product if job.kind == "products" else rules.parse_store_item
        parsed = parse(raw, line)
        if isinstance(parsed, list):
            job.errors.extend(parsed)
            return
        if job.kind == "products":
            key: Any = parsed.sku
            table: dict[Any, Any] = self.products
        else:
            key = (parsed.store_id, parsed.sku)
            table = self.store_items
            if parsed.store_id not in STORES:
                job.errors.append(
                    rules.RowError(line, "store_id", f"unknown store {parsed.store_id!r}")
                )
                return
        if key in job.seen:
            job.errors.append(rules.RowError(line, "sku", f"duplicate of line {job.seen[key]}"))
            return
        job.seen[key] = line
        old = table.get(key)
        if old == parsed:
            job.unchanged += 1
        else:
            table[key] = parsed
            if old is None:
                job.created += 1
            else:
                job.updated += 1


class _Handler(BaseHTTPRequestHandler):
    api: FakeApi  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _reply(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str) -> None:
        self._reply(status, {"error": {"code": code, "message": message}})

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._error(401, "unauthorized", "The token is missing, invalid or expired.")
        return False

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.api.lock:
            self.api.posts.append(url.path)
            if url.path == "/auth/login":
                creds = json.loads(body)
                if (creds.get("username"), creds.get("password")) != (USERNAME, PASSWORD):
                    return self._error(
                        401, "bad_credentials", "Wrong username or password (4 tries left)."
                    )
                return self._reply(
                    200,
                    {"token": TOKEN, "expires_at": 2_000_000_000, "staff": {"username": USERNAME}},
                )
            if url.path != "/admin/imports":
                return self._error(404, "not_found", "No such route.")
            if not self._authorised():
                return None
            if self.api.upload_status is not None:
                return self._error(self.api.upload_status, "internal", "Something went wrong.")
            kind = urllib.parse.parse_qs(url.query).get("kind", [""])[0]
            if kind not in ("products", "store_items"):
                return self._error(422, "validation_failed", "kind must be products or store_items")
            if len(body) > self.api.max_upload:
                return self._error(
                    422, "validation_failed", "The file is larger than 6 MiB; split it."
                )
            self.api.uploads.append(body)
            job = self.api.create_job(kind, self.headers.get("Content-Type", ""), body)
            return self._reply(202, job.view())

    def do_GET(self) -> None:
        with self.api.lock:
            self.api.gets += 1
            if self.api.fail_gets:
                self.api.fail_gets -= 1
                return self._error(503, "unavailable", "Service Unavailable")
            if not self._authorised():
                return None
            job_id = self.path.rsplit("/", 1)[-1]
            job = self.api.jobs.get(job_id)
            if job is None:
                return self._error(404, "import_not_found", f"No import {job_id!r}.")
            self.api.advance(job)
            return self._reply(200, job.view())


@contextmanager
def serve() -> Iterator[FakeApi]:
    """Run a fresh fake API on a free loopback port for the duration of the block."""
    api = FakeApi()
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
