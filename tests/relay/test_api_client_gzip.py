"""The relay asks for gzip (the API compresses answers over 1 KB, and data out is billed
per byte) and decodes it itself: urllib does not."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from print_relay.api_client import ApiClient, ApiError


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(dict(self.headers))
            failing = "fail" in self.path
            status = 409 if failing else 200
            body: dict[str, Any] = (
                {"error": {"code": "job_gone", "message": "x" * 2000, "details": None}}
                if failing
                else {"job_id": "j-1", "status": "printed", "note": "x" * 2000}
            )
            data = gzip.compress(json.dumps(body).encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()


def test_the_relay_asks_for_gzip_and_reads_it(server):
    url, seen = server
    client = ApiClient(url, lambda: "token")
    assert client.ack_copies("j-1", [("picking", None, False)])["status"] == "printed"
    assert seen[-1]["Accept-Encoding"] == "gzip"
    with pytest.raises(ApiError) as failed:
        client.ack_copies("fail", [("picking", None, False)])
    assert failed.value.status == 409 and failed.value.code == "job_gone"
