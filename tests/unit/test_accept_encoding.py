"""gzip for JSON answers (chalicelib/http/compression.py): which Accept-Encoding headers
admit it, and which answers are compressed."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from chalice import Response
from chalicelib.http.compression import MIN_BYTES, GzipResponse, accepts_gzip, compressed

LARGE = json.dumps({"items": [{"sku": f"{i}", "name": "商品"} for i in range(100)]})
SMALL = json.dumps({"ok": True})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip; q=0.0", False),
        ("gzip;q=0.001", True),
        ("identity", False),
        ("deflate, br", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),  # the explicit refusal wins over the wildcard
        ("gzip;q=0, *", False),
        ("identity;q=1, *;q=0", False),
        ("gzip;q=abc", False),  # unreadable: not accepted
        ("gzip;q=2", False),
        ("gzipped", False),
    ],
)
def test_accept_encoding_is_parsed_with_its_q_values(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def _json(body: str, status: int = 200, **headers: str) -> Response:
    return Response(
        body=body, status_code=status, headers={"Content-Type": "application/json", **headers}
    )


def _sent_body(response: Response) -> bytes:
    out = response.to_dict([])
    assert out["isBase64Encoded"] is True
    return gzip.decompress(base64.b64decode(out["body"]))


def test_a_large_json_answer_is_gzipped_for_a_client_that_accepts_it() -> None:
    assert len(LARGE.encode()) > MIN_BYTES
    out = compressed(_json(LARGE), "gzip, deflate")
    assert isinstance(out, GzipResponse)
    assert out.headers["Content-Encoding"] == "gzip"
    assert out.headers["Vary"] == "Accept-Encoding"
    assert out.headers["Content-Type"] == "application/json"
    assert _sent_body(out) == LARGE.encode()
    assert len(out.body) < len(LARGE.encode()) / 3


def test_errors_are_compressed_by_the_same_rule() -> None:
    out = compressed(_json(LARGE, status=422), "gzip")
    assert out.status_code == 422
    assert _sent_body(out) == LARGE.encode()


def test_without_gzip_a_large_answer_is_plain_but_says_it_varies() -> None:
    for header in (None, "identity", "gzip;q=0"):
        out = compressed(_json(LARGE), header)
        assert not isinstance(out, GzipResponse)
        assert "Content-Encoding" not in out.headers
        assert out.headers["Vary"] == "Accept-Encoding"
        dumped = out.to_dict([])
        assert dumped["body"] == LARGE and "isBase64Encoded" not in dumped


def test_small_answers_are_left_alone() -> None:
    out = compressed(_json(SMALL), "gzip")
    assert not isinstance(out, GzipResponse)
    assert out.headers == {"Content-Type": "application/json"}


def test_other_types_and_encoded_bodies_are_left_alone() -> None:
    csv = Response(body="a,b\n" * 1000, headers={"Content-Type": "text/csv"})
    assert compressed(csv, "gzip") is csv
    already = _json(LARGE, **{"Content-Encoding": "br"})
    assert compressed(already, "gzip") is already


def test_an_existing_vary_header_is_kept() -> None:
    out = compressed(_json(LARGE, Vary="Origin"), "gzip")
    assert out.headers["Vary"] == "Origin, Accept-Encoding"
    again = compressed(_json(LARGE, vary="accept-encoding"), "gzip")
    assert again.headers["Vary"] == "accept-encoding"


def test_json_with_parameters_and_bytes_bodies_are_compressed() -> None:
    response = Response(
        body=LARGE.encode(), headers={"content-type": "application/json; charset=utf-8"}
    )
    out = compressed(response, "gzip")
    assert _sent_body(out) == LARGE.encode()


def test_switched_off_where_the_gateway_compresses(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "GZIP_RESPONSES", False)
    response = _json(LARGE)
    assert compressed(response, "gzip") is response
