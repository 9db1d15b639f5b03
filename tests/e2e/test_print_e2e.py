"""A paid order reaches its store's print queue in the local stack: the payment's
transaction writes the job, the worker reads the print_jobs stream (as Lambda does in
AWS) and dispatches it. Nothing here calls the dispatcher directly."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from infra.local import demo_data
from infra.local.stack import LocalStack
from tests.e2e.test_local_stack import call

pytestmark = pytest.mark.e2e

STORE = "sh-xuhui"  # the demo store open around the clock: CI runs at any hour


def _login(api: str, username: str) -> str:
    password = next(a["password"] for a in demo_data.staff() if a["username"] == username)
    status, body, _ = call(
        "POST", api + "/auth/login", {"username": username, "password": password}
    )
    assert status == 200, body
    return body["token"]


def _customer(api: str) -> str:
    phone = "13900000077"
    status, sent, _ = call("POST", api + "/auth/otp", {"phone": phone})
    assert status in (200, 201), sent
    status, session, _ = call(
        "POST", api + "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]}
    )
    assert status == 200, session
    return session["token"]


def test_a_paid_order_is_on_the_stores_print_queue_within_seconds():
    products = {p["sku"]: p for p in demo_data.products()}
    sku = next(
        i["sku"]
        for i in demo_data.store_items()
        if i["store_id"] == STORE and i["stock"] > 2 and products[i["sku"]].get("active", True)
    )
    with LocalStack() as stack:
        api = stack.api_url
        customer = _customer(api)
        status, order, _ = call(
            "POST",
            api + "/orders",
            {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": sku, "qty": 1}]},
            token=customer,
            headers={"Idempotency-Key": "e2e-print-0001"},
        )
        assert status == 201, order
        started = time.monotonic()
        status, ack, _ = call(
            "POST", f"{api}/local/payments/{order['order_id']}/complete", {}, token=customer
        )
        assert status == 200, ack

        sqs = boto3.client(
            "sqs",
            region_name="us-east-1",
            endpoint_url=stack.aws_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        url = sqs.get_queue_url(QueueName=f"daojia-local-print-{STORE}.fifo")["QueueUrl"]
        messages: list[dict] = []
        while not messages and time.monotonic() - started < 15:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
        assert len(messages) == 1, "the worker did not dispatch the job from the stream"
        body = json.loads(messages[0]["Body"])
        assert body["order_id"] == order["order_id"] and body["kind"] == "order"
        assert body["attempt"] == 1 and body["pickup_code"]

        # the dispatcher records the send right after the message is on the queue: wait
        # for that write (the relay may read the message first)
        hq = _login(api, "hq-admin")
        while True:
            status, jobs, _ = call(
                "GET", f"{api}/admin/orders/{order['order_id']}/print-jobs", token=hq
            )
            assert status == 200, jobs
            (job,) = jobs["items"]
            if job["status"] != "pending" or time.monotonic() - started > 15:
                break
            time.sleep(0.2)
        assert job["status"] == "sent" and job["attempts"] == 1

        _gifts_arrive_through_the_workers_event_streams(api, customer)


def _wallet_sources(api: str, customer: str) -> dict[str, str]:
    status, wallet, _ = call("GET", api + "/me/coupons", token=customer)
    assert status == 200, wallet
    return {c["coupon_id"]: c["source"] for c in wallet["items"]}


def _gifts_arrive_through_the_workers_event_streams(api: str, customer: str) -> None:
    """新人礼 (member.registered, from the customers stream) and 支付有礼 (order.paid, from
    the orders stream) reach the customer's wallet through the worker, as on AWS through
    the event functions: neither sign-in nor the payment issues them itself."""
    prices = {
        i["sku"]: i for i in demo_data.store_items() if i["store_id"] == STORE and i["stock"] >= 12
    }
    flash = {p.get("sku") for p in demo_data.promotions()}
    sku, item = next((s, i) for s, i in prices.items() if s not in flash and i["price_fen"] >= 1000)
    qty = -(-12000 // item["price_fen"])  # ≥ ¥120 of goods: above the ¥88 gift minimum
    status, order, _ = call(
        "POST",
        api + "/orders",
        {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": sku, "qty": qty}]},
        token=customer,
        headers={"Idempotency-Key": "e2e-gift-0001"},
    )
    assert status == 201, order
    status, ack, _ = call(
        "POST", f"{api}/local/payments/{order['order_id']}/complete", {}, token=customer
    )
    assert status == 200, ack
    wanted = {
        "demo-newcomer:reg:": "registration",
        f"demo-free-delivery:order:{order['order_id']}": "after_payment",
    }
    started = time.monotonic()
    found: dict[str, str] = {}
    while time.monotonic() - started < 20:
        found = {
            prefix: source
            for coupon_id, source in _wallet_sources(api, customer).items()
            for prefix in wanted
            if coupon_id.startswith(prefix)
        }
        if found == wanted:
            break
        time.sleep(0.2)
    assert found == wanted, "the worker did not deliver the gifts from the event streams"
