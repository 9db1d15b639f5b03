"""The machine endpoints through the Lambda function URL (decisions.md 33): the function
``machine_api`` fed function URL events (payload format 2.0, shape from the Lambda
developer guide, "Invoking Lambda function URLs") answers as the API does behind API
Gateway: the relay's token checked by the same authorizer in process, the provider's
signed notification marking the order paid, gzip kept; any other path is our 404."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from tests.api.conftest import relay_token_for
from tests.api.test_orders_api import cart, place
from tests.api.test_relays import HEARTBEAT

URL_ID = "abcdefghijklmnopqrstuvwxyz012345"


def url_event(
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    base64_body: bool = False,
) -> dict[str, Any]:
    """A function URL request event (payload 2.0): lower-case headers, raw path and query."""
    raw = body.encode() if isinstance(body, str) else body
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "queryStringParameters": None,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": URL_ID,
            "domainName": f"{URL_ID}.lambda-url.us-east-1.on.aws",
            "domainPrefix": URL_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "daojia-relay/0.1",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:02:30:00 +0000",
            "timeEpoch": 1795487400000,
        },
        "body": None
        if raw is None
        else (base64.b64encode(raw).decode() if base64_body else raw.decode()),
        "isBase64Encoded": base64_body,
    }


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    from app import machine_api

    return machine_api(event, None)


def json_of(response: dict[str, Any]) -> Any:
    body = response["body"]
    data = base64.b64decode(body) if response["isBase64Encoded"] else body.encode()
    if response["headers"].get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return json.loads(data) if data else None


# --- the event conversion -----------------------------------------------------------------


def test_a_url_event_becomes_the_rest_event_of_its_route() -> None:
    from app import app
    from chalicelib.http.function_url import match_route, rest_event_of

    route, params = match_route(app, "POST", "/relay/print-jobs/j%2D1/ack/")
    assert (route, params) == ("/relay/print-jobs/{job_id}/ack", {"job_id": "j-1"})
    event = url_event(
        "POST",
        "/relay/print-jobs/j%2D1/ack",
        b'{"copies": []}',
        {"Authorization": "Bearer x", "Accept-Encoding": "gzip"},
        query="a=1&b=2&a=3&c=",
        base64_body=True,
    )
    rest = rest_event_of(event, "POST", "/relay/print-jobs/j%2D1/ack", route, params)
    assert rest["requestContext"]["resourcePath"] == route
    assert rest["requestContext"]["httpMethod"] == "POST"
    assert rest["requestContext"]["identity"]["sourceIp"] == "203.0.113.7"
    assert rest["pathParameters"] == {"job_id": "j-1"}
    assert rest["multiValueQueryStringParameters"] == {"a": ["1", "3"], "b": ["2"], "c": [""]}
    assert rest["queryStringParameters"] == {"a": "3", "b": "2", "c": ""}
    assert rest["headers"]["authorization"] == "Bearer x"
    assert rest["multiValueHeaders"]["accept-encoding"] == ["gzip"]
    assert rest["isBase64Encoded"] is True
    assert base64.b64decode(rest["body"]) == b'{"copies": []}'


def test_literal_segments_win_over_captures_and_unknown_methods_do_not_match() -> None:
    from app import app
    from chalicelib.http.function_url import match_route

    assert match_route(app, "POST", "/relay/heartbeat") == ("/relay/heartbeat", {})
    assert match_route(app, "GET", "/relay/heartbeat") is None
    assert match_route(app, "POST", "/payments/notify/local") == (
        "/payments/notify/{provider}",
        {"provider": "local"},
    )
    assert match_route(app, "POST", "/payments/notify/") is None


def test_multi_value_headers_fold_into_headers_and_cookies_go_apart() -> None:
    from chalicelib.http.function_url import url_response

    out = url_response(
        {
            "statusCode": 201,
            "headers": {"Vary": "Origin", "Set-Cookie": "b=2"},
            "multiValueHeaders": {
                "Vary": ["Origin", "Accept-Encoding"],
                "Set-Cookie": ["a=1", "b=2"],
            },
            "body": "{}",
        }
    )
    assert out == {
        "statusCode": 201,
        "headers": {"Vary": "Origin, Accept-Encoding"},
        "body": "{}",
        "isBase64Encoded": False,
        "cookies": ["a=1", "b=2"],
    }


# --- the allowlist ------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/catalogue/categories"),  # a public storefront route
        ("GET", "/me"),
        ("POST", "/orders"),
        ("GET", "/openapi.json"),
        ("POST", "/local/payments/o-1/complete"),
        ("GET", "/"),
        ("POST", "/relay/nothing-here"),
        ("POST", "/relayx/heartbeat"),
    ],
)
def test_a_path_outside_the_machine_routes_is_our_404(method: str, path: str) -> None:
    response = invoke(url_event(method, path, "{}", {"Content-Type": "application/json"}))
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/json"
    body = json_of(response)
    assert body["error"]["code"] == "not_found" and set(body["error"]) == {
        "code",
        "message",
        "details",
    }


# --- the relay's token ----------------------------------------------------------------------


def test_a_relay_route_without_a_token_is_our_401(stores: Any) -> None:
    response = invoke(
        url_event(
            "POST", "/relay/heartbeat", json.dumps(HEARTBEAT), {"Content-Type": "application/json"}
        )
    )
    assert response["statusCode"] == 401
    assert json_of(response)["error"]["code"] == "token_missing"
    bad = invoke(
        url_event(
            "POST",
            "/relay/heartbeat",
            json.dumps(HEARTBEAT),
            {"Content-Type": "application/json", "Authorization": "Bearer not-a-jwt"},
        )
    )
    assert bad["statusCode"] == 401 and json_of(bad)["error"]["code"] == "token_invalid"


def test_a_valid_relay_token_reaches_the_route_as_its_principal(stores: Any) -> None:
    token = relay_token_for("sh-a", "relay-url")
    response = invoke(
        url_event(
            "POST",
            "/relay/heartbeat",
            json.dumps(HEARTBEAT),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
    )
    assert response["statusCode"] == 200, response
    body = json_of(response)
    assert body["relay_id"] == "relay-url"  # the principal's subject, from the authorizer


def test_a_revoked_relay_token_is_refused_through_the_url_too(
    api: Any, tokens_: Any, stores: Any
) -> None:
    from chalicelib.printing.relay_models import RelayModel

    token = relay_token_for("sh-a", "relay-gone")
    RelayModel("relay-gone").update(actions=[RelayModel.status.set("revoked")])
    response = invoke(
        url_event(
            "POST",
            "/relay/heartbeat",
            json.dumps(HEARTBEAT),
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
    )
    assert response["statusCode"] == 401, response
    assert json_of(response)["error"]["code"] == "token_revoked"


@pytest.mark.usefixtures("stores")
def test_a_failing_authorizer_is_our_500_not_the_urls_bare_502(monkeypatch: Any) -> None:
    """Reading the signing key or an account can fail; API Gateway would answer 500 for
    its authorizer, the handler answers our 500 instead of raising out of the function."""
    from chalicelib.auth import authorizer

    def broken(token: str) -> dict[str, Any]:
        raise RuntimeError("secrets manager unreachable")

    monkeypatch.setattr(authorizer, "verify", broken)
    response = invoke(
        url_event(
            "POST",
            "/relay/heartbeat",
            json.dumps(HEARTBEAT),
            {"Content-Type": "application/json", "Authorization": "Bearer x.y.z"},
        )
    )
    assert response["statusCode"] == 500
    assert json_of(response)["error"]["code"] == "internal"


# --- the payment provider's webhook ---------------------------------------------------------


def test_a_payment_notification_through_the_url_marks_the_order_paid_as_the_api_does(
    api: Any, catalogue: Any, tokens_: Any
) -> None:
    from chalicelib.orders.payment_providers import provider

    orders = [
        place(api, tokens_["customer"], cart(("100", 2), ("101", 1)), key)[1]
        for key in ("key-url-00000001", "key-api-00000001")
    ]
    through_url, through_api = (
        provider("local").make_notification(o["order_id"], o["total_fen"]) for o in orders
    )
    headers, body = through_url
    response = invoke(url_event("POST", "/payments/notify/local", body, dict(headers)))
    assert response["statusCode"] == 200, response
    headers, body = through_api
    status, api_ack = api.call("POST", "/payments/notify/local", raw=body.decode(), headers=headers)
    assert status == 200
    assert json_of(response) == api_ack

    seen = [
        api.call("GET", f"/orders/{o['order_id']}", token=tokens_["customer"])[1] for o in orders
    ]
    for order in seen:
        assert order["status"] == "paid" and order["paid_fen"] == order["total_fen"]
    # Ids, codes and times differ between two orders; everything else is alike.
    unlike = {"order_id", "history", "pickup_code"}

    def alike(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k not in unlike and not k.endswith("_at")}

    assert alike(seen[0]) == alike(seen[1])
    # The same transition by the same actor (the provider), whichever way it came.
    assert [{k: v for k, v in h.items() if k != "at"} for h in seen[0]["history"]] == [
        {k: v for k, v in h.items() if k != "at"} for h in seen[1]["history"]
    ]
    assert seen[0]["history"][-1]["action"] and seen[0]["history"][-1]["to_state"] == "paid"

    # The provider retries until answered: the same notification again changes nothing.
    headers, body = through_url
    again = invoke(url_event("POST", "/payments/notify/local", body, dict(headers)))
    assert again["statusCode"] == 200 and json_of(again)["code"] == "SUCCESS"
    after = api.call("GET", f"/orders/{orders[0]['order_id']}", token=tokens_["customer"])[1]
    assert after["paid_fen"] == seen[0]["paid_fen"] and after["status"] == "paid"


def test_a_bad_signature_is_refused_through_the_url(catalogue: Any) -> None:
    from chalicelib.orders.payment_providers import provider

    headers, body = provider("local").make_notification("261124NOSUCHID", 990)
    forged = {**headers, "X-Daojia-Signature": "0" * 64}
    response = invoke(url_event("POST", "/payments/notify/local", body, forged))
    assert response["statusCode"] in (400, 401, 403), response
    assert json_of(response)["error"]["code"]


# --- gzip -----------------------------------------------------------------------------------


def test_a_large_answer_stays_gzipped_and_base64_encoded(stores: Any, monkeypatch: Any) -> None:
    """A relay asking for gzip gets it back through the URL as through API Gateway."""
    from chalicelib.http import compression

    # The heartbeat's answer is under MIN_BYTES; the rule is the same for any size.
    monkeypatch.setattr(compression, "MIN_BYTES", 10)
    token = relay_token_for("sh-a", "relay-gzip")
    event = url_event(
        "POST",
        "/relay/heartbeat",
        json.dumps(HEARTBEAT),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    plain = invoke(event)
    assert plain["statusCode"] == 200 and not plain["isBase64Encoded"]
    assert "Content-Encoding" not in plain["headers"]

    event["headers"]["accept-encoding"] = "gzip, deflate, br"
    zipped = invoke(event)
    assert zipped["statusCode"] == 200
    assert zipped["isBase64Encoded"] is True
    assert zipped["headers"]["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["headers"]["Vary"]
    assert json_of(zipped)["relay_id"] == json_of(plain)["relay_id"] == "relay-gzip"
