"""The local stack's API server (infra/local/api_server.py, chalice's local server over
HTTP) sends the gzip bytes with their headers: an HTTP client that asks for gzip, as
``requests`` and browsers do by default, reads the same JSON; one that does not gets it
plain."""

from __future__ import annotations

import gzip
import json
import urllib.request

import requests


def test_requests_default_headers_get_gzip_and_decode_it(local_api):
    with requests.get(local_api + "/openapi.json", stream=True, timeout=30) as r:
        assert "gzip" in r.request.headers["Accept-Encoding"]
        assert r.status_code == 200
        assert r.headers["Content-Encoding"] == "gzip"
        assert r.headers["Vary"] == "Accept-Encoding"
        assert r.headers["Content-Type"] == "application/json"
        raw = r.raw.read(decode_content=False)  # the bytes on the wire
    assert raw[:2] == b"\x1f\x8b"
    assert int(r.headers["Content-Length"]) == len(raw)
    document = json.loads(gzip.decompress(raw))
    assert document["openapi"].startswith("3.1")
    # And as a client reads it, decoded transparently.
    assert requests.get(local_api + "/openapi.json", timeout=30).json() == document


def test_a_client_that_does_not_ask_gets_plain_json(local_api):
    request = urllib.request.Request(local_api + "/openapi.json")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
        assert r.headers.get("Content-Encoding") is None
        assert r.headers["Vary"] == "Accept-Encoding"
        assert json.loads(r.read())["openapi"].startswith("3.1")
