"""Under ``chalice local`` (the local stack's infra/local/api_server.py, over HTTP) a wrong
Content-Type and a method a path lacks answer in the error contract too: Chalice's own
415/405 bodies ({"Code", "Message"}) never reach a client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from .contract import error_shape_problems


def _send(url, method, body=None, content_type=None):
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_text_plain_is_a_contract_415_under_chalice_local(local_api):
    status, body = _send(
        local_api + "/auth/login", "POST", b'{"username": "a"}', "text/plain;charset=UTF-8"
    )
    assert status == 415 and error_shape_problems(body) == []
    assert body["error"]["code"] == "unsupported_media_type"


def test_malformed_json_is_a_contract_400_under_chalice_local(local_api):
    status, body = _send(local_api + "/auth/login", "POST", b"{}x", "application/json")
    assert status == 400 and body["error"]["code"] == "malformed_json"
    assert error_shape_problems(body) == []


def test_a_missing_method_is_a_contract_405_under_chalice_local(local_api):
    status, body = _send(local_api + "/health", "DELETE")
    assert status == 405 and error_shape_problems(body) == []
    assert body["error"]["code"] == "method_not_allowed"


def test_gateway_errors_carry_details_under_chalice_local(local_api):
    status, body = _send(local_api + "/admin/stores", "GET")  # no token: the gateway's 401
    assert status == 401 and error_shape_problems(body) == []
