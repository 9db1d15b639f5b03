"""Every JSON-body route, fed malformed bodies and wrong content types, answers a 4xx in
the error contract and writes nothing (issue 11, item 1).

The routes come from routing.ROUTES, so a new route is swept without editing this file;
each is called with a token of a role it allows, so the refusal is about the body, not
about who calls.
"""

from __future__ import annotations

import re

import app  # noqa: F401  (registers every route in ROUTES)
import boto3
import pytest
from chalicelib.http.routing import ROUTES

from .contract import error_shape_problems

BODY_ROUTES = sorted(
    (r for r in ROUTES if r.body is not None and "application/json" in r.content_types),
    key=lambda r: (r.path, r.method),
)
TOKEN_OF_ROLE = {  # tokens_ fixture names, in order of preference
    "hq_admin": "hq",
    "store_manager": "manager_a",
    "store_staff": "staff_a",
    "customer": "customer",
    "relay": "relay_a",
}
MALFORMED = [
    b"{}x",
    b"4[",
    b"[1,",
    b'{"a": 1,}',
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'{"x": NaN}',
    b"\xff\xfe\xfa",  # not UTF-8
    b'{"a": "\xed\xa0\x80"}',  # a UTF-16 surrogate encoded as UTF-8
    b'{"a": "\\ud800"}',  # a lone surrogate escape
    b"\xef\xbb\xbf{}",  # a byte-order mark
    b"[" * 100_000,  # very deep nesting
    b'{"a":' * 50_000,
    b"",
    b"   ",
    b"\x00",
    b"'single'",
    b"{'a': 1}",
]
HUGE_NUMBERS = [  # JSON, but no number the API can hold
    b"1e999999",
    b'{"a": 1e400}',
    b"9" * 5000,
    b'{"a": ' + b"9" * 5000 + b"}",
    b"-" + b"9" * 400,
]
WRONG_TYPES = [
    ("text/plain;charset=UTF-8", b"{}"),  # what fetch() sends for a string body
    ("text/plain", b'{"a": 1}'),
    ("application/x-www-form-urlencoded", b"a=1&b=2"),
    ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="a"'),
    ("application/xml", b"<a/>"),
    ("", b"{}"),
]


def _id(spec):
    return f"{spec.method} {spec.path}"


def _path(spec) -> str:
    values = {"store_id": "sh-a", "provider": "local"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "x1"), spec.path)


def _token(spec, tokens_):
    if spec.roles is None:
        return None
    role = next(r for r in TOKEN_OF_ROLE if r in spec.roles)
    return tokens_[TOKEN_OF_ROLE[role]]


def _stored() -> dict[str, int]:
    """Items per table and messages per queue: what a write would change."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    out = {}
    for table in dynamodb.list_tables()["TableNames"]:
        out[table] = dynamodb.scan(TableName=table, Select="COUNT")["Count"]
    for url in sqs.list_queues().get("QueueUrls", []):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        out[url] = int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )
    return out


def _call(client, spec, token, body, content_type="application/json", headers=None):
    h = {"Content-Type": content_type, "Idempotency-Key": "sweep-key-0001"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    r = client.http.request(spec.method, _path(spec), headers=h, body=body)
    import json

    text = r.body.decode() if isinstance(r.body, bytes) else r.body
    try:
        return r.status_code, json.loads(text)
    except ValueError:
        return r.status_code, text


def test_the_sweep_covers_every_json_body_route():
    # 32 when the issue was filed (31 answered 500); more is fine, fewer means a route
    # lost its body schema or the enumeration broke.
    assert len(BODY_ROUTES) >= 32, [_id(r) for r in BODY_ROUTES]


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=_id)
def test_malformed_bodies_are_a_contract_4xx_and_write_nothing(client, tokens_, stores, spec):
    token = _token(spec, tokens_)
    before = _stored()
    for raw in MALFORMED:
        status, body = _call(client, spec, token, raw)
        assert status == 400, (raw[:40], status, body)
        assert error_shape_problems(body) == [], (raw[:40], body)
        assert body["error"]["code"] in {"malformed_json", "body_required"}, (raw[:40], body)
    for raw in HUGE_NUMBERS:
        status, body = _call(client, spec, token, raw)
        assert 400 <= status < 500, (raw[:40], status, body)
        assert error_shape_problems(body) == [], (raw[:40], body)
    assert _stored() == before


@pytest.mark.parametrize("spec", BODY_ROUTES, ids=_id)
def test_a_body_that_is_not_json_by_its_type_is_a_contract_415(client, tokens_, stores, spec):
    token = _token(spec, tokens_)
    before = _stored()
    for content_type, raw in WRONG_TYPES:
        if content_type.split(";")[0] in spec.content_types:
            continue  # taken on purpose (sendBeacon's text/plain at /storefront/events)
        status, body = _call(client, spec, token, raw, content_type)
        assert status == 415, (content_type, status, body)
        assert error_shape_problems(body) == [], (content_type, body)
        assert body["error"]["code"] == "unsupported_media_type"
        assert "application/json" in body["error"]["message"]
    assert _stored() == before


def test_routes_without_a_body_ignore_the_content_type(api, tokens_, stores):
    """Chalice answered 415 (in its own body) to a GET that named a content type."""
    status, body = api.call("GET", "/stores/sh-a", headers={"Content-Type": "text/plain"})
    assert status == 200, body


@pytest.mark.parametrize(
    ("method", "path"), [("PATCH", "/admin/stores"), ("DELETE", "/health"), ("PUT", "/orders")]
)
def test_a_method_the_path_lacks_is_a_contract_error(api, tokens_, method, path):
    status, body = api.call(method, path, {}, tokens_["hq"])
    assert status == 405
    assert error_shape_problems(body) == []
    assert body["error"]["code"] == "method_not_allowed"


STORE = {
    "store_id": "sh-z",
    "name": "测试店",
    "address": "上海市",
    "lat": 31.2,
    "lng": 121.4,
    "radius_m": 3000,
    "minimum_order_fen": 0,
    "delivery_fee": {"base_fee_fen": 0},
    "hours": [{"day": 0, "open": "08:00", "close": "22:00"}],
}


@pytest.mark.parametrize(
    ("field", "raw", "reason"),
    [
        ("lat", "1e-140", "too small"),
        ("lng", "5e-324", "too small"),
        ("lng", "-2.5e-200", "too small"),
    ],
)
def test_numbers_dynamodb_cannot_store_are_a_422_naming_the_field(
    api, tokens_, aws, field, raw, reason
):
    """They reached DynamoDB and failed there with "number underflow" (500)."""
    import json

    text = json.dumps(dict(STORE, **{field: 0})).replace(f'"{field}": 0', f'"{field}": {raw}')
    before = _stored()
    status, body = api.call("POST", "/admin/stores", token=tokens_["hq"], raw=text)
    assert status == 422, body
    [detail] = body["error"]["details"]
    assert detail["field"] == field and reason in detail["reason"]
    assert _stored() == before


def test_an_integer_of_more_than_38_digits_is_a_422_naming_the_field(api, tokens_, stores):
    """An int field without an upper bound (a relay's ledger counts) took any size."""
    before = _stored()
    text = '{"ledger": {"pending_copies": 1%s}}' % ("0" * 40)
    status, body = api.call("POST", "/relay/heartbeat", token=tokens_["relay_a"], raw=text)
    assert status == 422, body
    [detail] = body["error"]["details"]
    assert detail["field"] == "ledger.pending_copies" and "too large" in detail["reason"]
    assert _stored() == before


def test_zero_and_ordinary_coordinates_still_store(api, tokens_, aws):
    status, body = api.call(
        "POST", "/admin/stores", dict(STORE, lat=0.0, lng=121.4457), tokens_["hq"]
    )
    assert status == 201, body
    assert (body["lat"], body["lng"]) == (0.0, 121.4457)


def test_an_unknown_payment_provider_is_404_not_503(api, aws):
    status, body = api.call("POST", "/payments/notify/nope", {"order_id": "x"})
    assert status == 404
    assert body["error"] == {
        "code": "unknown_provider",
        "message": body["error"]["message"],
        "details": None,
    }
    assert "local" in body["error"]["message"]
