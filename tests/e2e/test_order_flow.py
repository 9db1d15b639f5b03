"""One order's whole life on the local stack, over HTTP like the storefront, the payment
provider, a store's print relay and its staff: sign in, quote, place, pay, the ticket in
the store's FIFO queue, picking with a shortage (partial refund), POS checkout, delivery,
the customer's confirmation, and the timeline of every transition.

The store is the demo store open around the clock (sh-xuhui) so the test passes at any
hour of the day in Shanghai.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.local import demo_data
from infra.local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]
STORE = "sh-xuhui"
PHONE = "13700001234"
ADDRESS = {
    "name": "陈先生",
    "phone": "13700001234",
    "line": "漕溪北路100号 3号楼 502室",
    "lat": 31.1960,
    "lng": 121.4380,
}
PRINT_WAIT_S = 30

pytestmark = pytest.mark.e2e


def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    headers: dict | None = None,
) -> tuple[int, Any]:
    """(status, parsed JSON body) of one request; HTTP errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=15) as resp:  # noqa: S310
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, payload = err.code, err.read()
    text = payload.decode("utf-8")
    return status, json.loads(text) if text else None


def ok(response: tuple[int, Any], *expected: int) -> Any:
    status, body = response
    assert status in (expected or (200,)), (status, body)
    return body


@pytest.fixture(scope="module")
def stack():
    with LocalStack() as running:
        yield running


def sign_in_customer(api: str) -> str:
    sent = ok(call("POST", api + "/auth/otp", {"phone": PHONE}))
    session = ok(call("POST", api + "/auth/otp/verify", {"phone": PHONE, "code": sent["dev_code"]}))
    return session["token"]


def sign_in_staff(api: str, username: str) -> str:
    password = next(a["password"] for a in demo_data.staff() if a["username"] == username)
    return ok(call("POST", api + "/auth/login", {"username": username, "password": password}))[
        "token"
    ]


def cart() -> dict[str, Any]:
    """Three products the store has plenty of: two units of the first, one of the others."""
    active = {p["sku"] for p in demo_data.products() if p.get("active", True) in (True, "true")}
    skus = [
        i["sku"]
        for i in demo_data.store_items()
        if i["store_id"] == STORE and i["on_sale"] and i["stock"] >= 10 and i["sku"] in active
    ][:3]
    return {
        "store_id": STORE,
        "fulfilment": "delivery",
        "address": ADDRESS,
        "items": [{"sku": sku, "qty": 2 if n == 0 else 1} for n, sku in enumerate(skus)],
    }


def sqs_of(stack: LocalStack) -> Any:
    import boto3

    return boto3.client(
        "sqs",
        endpoint_url=stack.aws_url,
        region_name=stack.env["AWS_REGION"],
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
    )


def receive_print_job(stack: LocalStack, order_id: str) -> dict[str, Any]:
    """The first message for ``order_id`` in the store's FIFO queue, as its relay would
    receive it (then deleted, as the relay does once it has printed)."""
    sqs = sqs_of(stack)
    name = f"{stack.env['DAOJIA_RESOURCE_PREFIX']}-print-{STORE}.fifo"
    deadline = time.monotonic() + PRINT_WAIT_S
    url = None
    while time.monotonic() < deadline:
        if url is None:
            try:
                url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except sqs.exceptions.QueueDoesNotExist:
                time.sleep(0.5)  # created by the first dispatch if the store had none
                continue
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=5,
            MessageAttributeNames=["All"],
        )
        for message in got.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            body = json.loads(message["Body"])
            if body.get("order_id") == order_id:
                return body
    pytest.fail(f"no print job for order {order_id} in {name} within {PRINT_WAIT_S} s")


def test_an_order_from_sign_in_to_confirmation(stack):
    api = stack.api_url

    # The customer signs in, quotes and places the order.
    customer = sign_in_customer(api)
    me = ok(call("GET", api + "/me", token=customer))
    body = cart()
    quote = ok(call("POST", api + "/orders/quote", body, token=customer))
    assert quote["can_place"] is True, quote
    key = uuid.uuid4().hex
    order = ok(
        call("POST", api + "/orders", body, token=customer, headers={"Idempotency-Key": key}),
        201,
    )
    oid = order["order_id"]
    assert order["status"] == "awaiting_payment" and order["total_fen"] == quote["total_fen"]
    again = ok(
        call("POST", api + "/orders", body, token=customer, headers={"Idempotency-Key": key}),
    )
    assert again["order_id"] == oid  # a retry returns the same order

    # It pays (the local provider's signed notification).
    start = ok(call("POST", f"{api}/orders/{oid}/pay", {}, token=customer))
    assert start["amount_fen"] == order["total_fen"]
    ack = ok(call("POST", f"{api}/local/payments/{oid}/complete", {}, token=customer))
    assert ack["code"] == "SUCCESS"
    paid = ok(call("GET", f"{api}/orders/{oid}", token=customer))
    assert paid["status"] == "paid" and paid["paid_fen"] == order["total_fen"]

    # The ticket reaches the store's queue: both copies, naming the order.
    job = receive_print_job(stack, oid)
    assert job["kind"] == "order" and job["store_id"] == STORE
    assert job["copies"] == ["picking", "delivery"]
    # Sending the ticket numbered the order (今日第 N 单): the ticket and the order agree.
    numbered = ok(call("GET", f"{api}/orders/{oid}", token=customer))
    assert job["daily_seq"] is not None and job["daily_seq"] == numbered["daily_seq"]
    assert [line["sku"] for line in job["lines"]] == [i["sku"] for i in body["items"]]
    assert job["delivery"]["address"] == ADDRESS["line"]
    assert ADDRESS["phone"] not in json.dumps(job)  # masked on the ticket

    # Store staff sign in and work the order.
    staff = sign_in_staff(api, f"{STORE}-staff")
    staff_subject = ok(call("GET", api + "/me", token=staff))["subject"]
    queue = ok(call("GET", f"{api}/admin/stores/{STORE}/orders?status=paid", token=staff))
    assert oid in [o["order_id"] for o in queue["items"]]
    ok(call("POST", f"{api}/admin/orders/{oid}/start-picking", {}, token=staff))
    lines = [
        {"sku": line["sku"], "picked_qty": line["qty"] - (1 if n == 0 else 0)}
        for n, line in enumerate(order["lines"])
    ]
    picked = ok(call("POST", f"{api}/admin/orders/{oid}/pick", {"lines": lines}, token=staff))
    assert picked["status"] == "picked"
    short = picked["lines"][0]
    assert short["picked_qty"] == 1 and short["refunded_units"] == 1
    assert 0 < short["refunded_fen"] <= short["paid_fen"]
    assert picked["refunded_fen"] == short["refunded_fen"]  # the delivery fee is kept
    seen = ok(call("GET", f"{api}/orders/{oid}", token=customer))
    assert seen["refunded_fen"] == short["refunded_fen"]  # the customer sees the refund

    checked = ok(
        call("POST", f"{api}/admin/stores/{STORE}/checkout", {"order_code": oid}, token=staff)
    )
    assert checked["status"] == "checked_out"
    ok(call("POST", f"{api}/admin/orders/{oid}/dispatch", {}, token=staff))
    delivered = ok(call("POST", f"{api}/admin/orders/{oid}/deliver", {}, token=staff))
    assert delivered["status"] == "delivered"

    # The customer confirms receipt.
    done = ok(call("POST", f"{api}/orders/{oid}/confirm", {}, token=customer))
    assert done["status"] == "completed"

    # The timeline: every transition, who and when.
    timeline = ok(call("GET", f"{api}/orders/{oid}", token=customer))["history"]
    assert [(h["action"], h["from_state"], h["to_state"]) for h in timeline] == [
        ("place", None, "awaiting_payment"),
        ("pay", "awaiting_payment", "paid"),
        ("start_picking", "paid", "picking"),
        ("finish_picking", "picking", "picked"),
        ("checkout", "picked", "checked_out"),
        ("dispatch", "checked_out", "out_for_delivery"),
        ("deliver", "out_for_delivery", "delivered"),
        ("confirm_receipt", "delivered", "completed"),
    ]
    actors = [h["actor"] for h in timeline]
    assert actors[0] == actors[-1] == me["subject"]
    assert actors[1] == "payment-provider"
    assert set(actors[2:7]) == {"store"}  # customers never see staff login names
    for_staff = ok(call("GET", f"{api}/orders/{oid}", token=staff))["history"]
    assert {h["actor"] for h in for_staff[2:7]} == {staff_subject}
    assert all(h["at"].endswith("Z") for h in timeline)
    times = [h["at"] for h in timeline]
    assert times == sorted(times)
    assert "units short" in (timeline[3]["reason"] or "")
