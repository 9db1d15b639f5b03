"""The API document says what the API does (issue 11, items 2 and 5): replays, the
Idempotency-Key header, bad cursors, 415; error bodies always carry ``details``; session
expiry times are ISO-8601; a coupon taken by another order is one answer, 409.

Every status the API tests see is also checked against the document as it happens
(conftest.py's ``_answers_match_the_document``); these tests pin the declarations and the
checker itself.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import app  # noqa: F401  (registers every route in ROUTES)
import msgspec
import pytest
from chalicelib.http.openapi import build
from chalicelib.http.routing import ROUTES

from tests.publishing import create_template

from . import contract

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def doc():
    return build()


def _op(doc, method, path):
    return doc["paths"][path][method.lower()]


# --- declarations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/orders"),
        ("POST", "/coupons/claim"),
        ("POST", "/coupon-sales"),
        ("POST", "/orders/{order_id}/returns"),
        ("POST", "/admin/orders/{order_id}/returns"),
    ],
)
def test_replays_are_documented_as_200_with_the_header(doc, method, path):
    responses = _op(doc, method, path)["responses"]
    assert "201" in responses
    replay = responses["200"]
    assert "Idempotent-Replayed" in replay["headers"]
    assert replay["content"] == responses["201"]["content"]  # the same body


@pytest.mark.parametrize(
    "path", ["/orders", "/orders/{order_id}/returns", "/admin/orders/{order_id}/returns"]
)
def test_idempotency_key_is_a_declared_header_parameter(doc, path):
    op = _op(doc, "POST", path)
    [param] = [p for p in op["parameters"] if p["in"] == "header"]
    assert param["name"] == "Idempotency-Key" and param["required"] is True
    assert re.match(param["schema"]["pattern"], "3f1c9a0e-uuid-like-key")
    assert "idempotency_key_required" in op["responses"]["400"]["description"]


def test_every_list_route_with_a_cursor_documents_bad_cursor(doc):
    paged = [
        s
        for s in ROUTES
        if s.query is not None and "cursor" in {f.name for f in msgspec.structs.fields(s.query)}
    ]
    assert len(paged) >= 4
    for spec in paged:
        described = _op(doc, spec.method, spec.path)["responses"]["400"]["description"]
        assert "bad_cursor" in described, f"{spec.method} {spec.path}"


def test_every_body_route_documents_400_malformed_json_and_415(doc):
    for spec in ROUTES:
        if spec.body is None:
            continue
        responses = _op(doc, spec.method, spec.path)["responses"]
        assert "415" in responses, f"{spec.method} {spec.path}"
        if "application/json" in spec.content_types:
            assert "malformed_json" in responses["400"]["description"], spec.path


def test_routes_without_a_body_do_not_document_415(doc):
    for spec in ROUTES:
        if spec.body is None:
            assert "415" not in _op(doc, spec.method, spec.path)["responses"], spec.path


def test_the_notify_route_documents_404_and_the_local_signature(doc):
    op = _op(doc, "POST", "/payments/notify/{provider}")
    assert {"400", "404"} <= set(op["responses"])
    assert "X-Daojia-Signature" in op["description"]
    assert "local-payments" in op["description"]


def test_the_introduction_describes_the_api_as_it_is(doc):
    intro = doc["info"]["description"]
    assert "later versions" not in intro
    assert "until it is absent" not in intro and "`null`" in intro
    assert "orders" in intro and "415" in intro and "Idempotent-Replayed" in intro


def test_error_bodies_declare_details_as_always_present(doc):
    body = doc["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "message", "details"}


def test_the_signature_scheme_in_the_document_is_the_one_the_provider_checks(api, aws):
    """Sign as the notify route's description says and the local provider accepts it."""
    import hashlib
    import hmac
    import os

    key = hmac.new(os.environ["DAOJIA_JWT_SECRET"].encode(), b"local-payments", hashlib.sha256)
    body = json.dumps(
        {
            "transaction_id": "t1",
            "order_id": "nope",
            "amount_fen": 1,
            "paid_at": "2026-11-24T02:31:12Z",
        }
    ).encode()
    from chalicelib.orders.payment_providers import provider

    signature = hmac.new(key.digest(), body, hashlib.sha256).hexdigest()
    notice = provider("local").parse_notification({"X-Daojia-Signature": signature}, body)
    assert notice.order_id == "nope"
    status, err = api.call(
        "POST", "/payments/notify/local", raw=body, headers={"X-Daojia-Signature": "0" * 64}
    )
    assert (status, err["error"]["code"]) == (400, "bad_signature")


# --- the checker ----------------------------------------------------------------------------


def test_the_checker_flags_an_undocumented_status_and_a_bad_error_body():
    found = contract.problems("GET", "/stores/sh-a", 409, b'{"error": {}}', allow_500=False)
    assert any("do not include" in p for p in found)
    assert any("not a non-empty string" in p for p in found)
    found = contract.problems(
        "POST", "/admin/stores", 422, b'{"error": {"code": "x", "message": "y"}}', allow_500=False
    )
    assert any("details" in p for p in found)
    assert contract.problems("GET", "/stores/sh-a", 500, b"{}", allow_500=False)
    assert not contract.problems(
        "GET",
        "/stores/sh-a",
        404,
        b'{"error": {"code": "x", "message": "y", "details": null}}',
        allow_500=False,
    )


def test_the_checker_flags_a_replay_header_the_document_does_not_declare():
    ok = b"{}"
    assert contract.problems(
        "POST", "/admin/stores", 201, ok, allow_500=False, headers={"Idempotent-Replayed": "true"}
    )
    assert not contract.problems(
        "POST", "/orders", 200, ok, allow_500=False, headers={"Idempotent-Replayed": "true"}
    )


# --- behaviour ------------------------------------------------------------------------------


def _post(client, path, body, token):
    r = client.http.post(
        path,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        body=json.dumps(body),
    )
    return r.status_code, r.headers, json.loads(r.body)


def test_claim_and_coupon_purchase_replays_say_so_in_the_header(client, api, tokens_, aws):
    """Orders and returns set the header; claims and coupon purchases answered 200 without it."""
    template = {
        "name": "满30减5",
        "kind": "amount_off",
        "threshold_fen": 3000,
        "amount_off_fen": 500,
        "days_after_claim": 7,
    }
    status, t = create_template(api, template, tokens_["hq"])
    assert status == 201, t
    sold = dict(template, name="一元券", claimable=False, sale_price_fen=100)
    status, s = create_template(api, sold, tokens_["hq"])
    assert status == 201, s
    for path, body in (
        ("/coupons/claim", {"template_id": t["template_id"], "request_id": "r-1"}),
        ("/coupon-sales", {"template_id": s["template_id"], "request_id": "r-1"}),
    ):
        first = _post(client, path, body, tokens_["customer"])
        again = _post(client, path, body, tokens_["customer"])
        assert first[0] == 201 and "Idempotent-Replayed" not in first[1]
        assert again[0] == 200 and again[1]["Idempotent-Replayed"] == "true"
        assert again[2] == first[2]


def test_error_bodies_always_carry_details(api, tokens_, aws):
    status, body = api.call("GET", "/stores/nope")
    assert status == 404 and body["error"]["details"] is None
    # The authorizer's refusals go through the same path.
    status, body = api.call("GET", "/admin/stores", token="not-a-token")
    assert status == 401 and set(body["error"]) == {"code", "message", "details"}
    status, body = api.call("GET", "/admin/stores", token=tokens_["customer"])
    assert status == 403 and set(body["error"]) == {"code", "message", "details"}


def _near(iso: str, seconds: int) -> bool:
    when = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return abs(when - (datetime.now(UTC) + timedelta(seconds=seconds))) < timedelta(minutes=5)


def test_session_expiry_is_iso_8601_like_every_other_time(api, stores):
    from chalicelib.identity.schemas import StaffCreate
    from chalicelib.identity.service import create_staff
    from chalicelib.kernel import config

    _, sent = api.call("POST", "/auth/otp", {"phone": "13800000009"})
    status, session = api.call(
        "POST", "/auth/otp/verify", {"phone": "13800000009", "code": sent["dev_code"]}
    )
    assert status == 200, session
    assert ISO.match(session["expires_at"]), session["expires_at"]
    assert _near(session["expires_at"], config.CUSTOMER_TOKEN_TTL_S)

    create_staff(
        StaffCreate(
            username="sh-a-iso",
            password="password-for-iso-1",
            role="store_staff",
            store_id="sh-a",
            display_name="店员",
        )
    )
    status, session = api.call(
        "POST", "/auth/login", {"username": "sh-a-iso", "password": "password-for-iso-1"}
    )
    assert status == 200, session
    assert ISO.match(session["expires_at"]) and _near(
        session["expires_at"], config.STAFF_TOKEN_TTL_S
    )
