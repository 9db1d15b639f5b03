"""JSON answers over 1 KB leave gzip-compressed for clients that send Accept-Encoding:
gzip (chalicelib/http/compression.py), through the app as chalice's test client runs it;
clients that do not ask (every other API test) get plain JSON as before."""

from __future__ import annotations

import gzip
import json

import pytest
from chalicelib.http.compression import MIN_BYTES

LIST = "/stores/sh-a/products?limit=50"  # a storefront's catalogue page: well over 1 KB
ONE = "/stores/sh-a"  # one store: under 1 KB


def _get(client, path, accept_encoding=None):
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    return client.http.get(path, headers=headers)


@pytest.mark.usefixtures("catalogue")
def test_a_client_that_accepts_gzip_gets_the_same_json_compressed(client) -> None:
    plain = _get(client, LIST)
    assert plain.status_code == 200
    assert len(plain.body) > MIN_BYTES
    assert "Content-Encoding" not in plain.headers

    for header in ("gzip, deflate, br", "gzip", "*"):
        r = _get(client, LIST, header)
        assert r.status_code == 200
        assert r.headers["Content-Encoding"] == "gzip", header
        assert r.headers["Vary"] == "Accept-Encoding"
        assert r.headers["Content-Type"] == "application/json"
        assert r.body[:2] == b"\x1f\x8b"  # gzip's magic number
        assert len(r.body) < len(plain.body) / 3
        assert json.loads(gzip.decompress(r.body)) == json.loads(plain.body)


@pytest.mark.usefixtures("catalogue")
def test_no_gzip_without_asking_for_it(client) -> None:
    for header in (None, "gzip;q=0", "identity", "deflate, br", "*, gzip;q=0"):
        r = _get(client, LIST, header)
        assert r.status_code == 200
        assert "Content-Encoding" not in r.headers, header
        assert json.loads(r.body)["items"], header
        # The answer depends on the header even when it is plain: caches must know.
        assert r.headers["Vary"] == "Accept-Encoding"


@pytest.mark.usefixtures("stores")
def test_small_answers_stay_plain(client) -> None:
    r = _get(client, ONE, "gzip")
    assert r.status_code == 200
    assert len(r.body) <= MIN_BYTES
    assert "Content-Encoding" not in r.headers
    assert "Vary" not in r.headers
    assert json.loads(r.body)["store_id"] == "sh-a"


def test_a_large_error_is_compressed_too(client, tokens_) -> None:
    """A 4xx naming many fields is an answer like any other; the client decodes it."""
    unknown = {f"not_a_field_{i}": 1 for i in range(60)}
    body = json.dumps({"items": [{"sku": "100", "qty": 1}], **unknown})
    r = client.http.post(
        "/orders/quote",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {tokens_['customer']}",
            "Accept-Encoding": "gzip",
        },
        body=body,
    )
    assert r.status_code in (400, 422)
    assert r.headers["Content-Encoding"] == "gzip"
    error = json.loads(gzip.decompress(r.body))["error"]
    assert {d["field"] for d in error["details"]} >= set(unknown)
