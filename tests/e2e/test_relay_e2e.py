"""The local stack's print relays, end to end over HTTP: a paid order comes out of its
store's virtual printer and is acknowledged; a relay that dies leaves a missed print (漏单)
and a stale relay for head office to see, and both clear when it comes back, with the
ticket printed once."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from infra.local.stack import LocalStack, _http_json
from tests.e2e.test_print_e2e import _customer, _login

pytestmark = pytest.mark.e2e

STORE = "sh-xuhui"  # the demo store open around the clock


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def pay_new_order(api: str, customer: str, sku: str, key: str) -> str:
    status, order = _http_json_key(
        "POST",
        api + "/orders",
        {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": sku, "qty": 1}]},
        customer,
        key,
    )
    assert status == 201, order
    status, ack = _http_json(
        "POST", f"{api}/local/payments/{order['order_id']}/complete", {}, customer
    )
    assert status == 200, ack
    return str(order["order_id"])


def _http_json_key(method: str, url: str, body: Any, token: str, key: str) -> tuple[int, Any]:
    from tests.e2e.test_local_stack import call

    status, answer, _ = call(method, url, body, token=token, headers={"Idempotency-Key": key})
    return status, answer


def tickets_for(stack: LocalStack, order_id: str) -> list[str]:
    """Text of every ticket of the order that came out of the store's virtual printer."""
    import json

    journal = stack.printers[STORE].journal
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    return [e["text"] for e in entries if order_id in e["text"]]


def job_of(api: str, hq: str, order_id: str) -> dict[str, Any]:
    status, jobs = _http_json("GET", f"{api}/admin/orders/{order_id}/print-jobs", token=hq)
    assert status == 200, jobs
    return jobs["items"][0]


def store_health(api: str, hq: str) -> dict[str, Any]:
    status, health = _http_json("GET", f"{api}/admin/print-health?store_id={STORE}", token=hq)
    assert status == 200, health
    return health["stores"][0]


def test_relays_print_paid_orders_and_a_dead_relay_shows_then_clears():
    from infra.local import demo_data

    sku = next(
        i["sku"] for i in demo_data.store_items() if i["store_id"] == STORE and i["stock"] > 5
    )
    fast = {"DAOJIA_PRINT_ACK_WITHIN_S": "3", "DAOJIA_RELAY_STALE_AFTER_S": "4"}
    with LocalStack(relays=True, extra_env=fast) as stack:
        api = stack.api_url
        hq = _login(api, "hq-admin")
        customer = _customer(api)
        assert set(stack.printers) == {s["store_id"] for s in demo_data.stores()}
        wait_for("every relay's first heartbeat", lambda: store_health(api, hq)["healthy"])

        # A paid order prints both copies on the store's printer and is acknowledged.
        first = pay_new_order(api, customer, sku, "e2e-relay-0001")
        texts = wait_for(
            "both copies", lambda: len(tickets_for(stack, first)) >= 2 and tickets_for(stack, first)
        )
        assert any("拣货联" in t for t in texts) and any("配送联" in t for t in texts)
        assert all("今日第 1 单" in t for t in texts) and not any("补打" in t for t in texts)
        wait_for("the acknowledgement", lambda: job_of(api, hq, first)["status"] == "printed")
        assert first in stack.printers[STORE].preview.read_text(encoding="utf-8")

        # The relay dies: the next order is a missed print and the relay goes stale.
        stack.stop_relay(STORE, signal.SIGKILL)
        second = pay_new_order(api, customer, sku, "e2e-relay-0002")

        def missed() -> bool:
            status, page = _http_json("GET", f"{api}/admin/print-jobs?status=missed", token=hq)
            return status == 200 and any(j["order_id"] == second for j in page["items"])

        wait_for("the missed print", missed)
        assert "relay_stale" in wait_for(
            "the stale relay", lambda: store_health(api, hq)["problems"] or None
        )
        assert tickets_for(stack, second) == []

        # It comes back: the ticket prints once (the watchdog's re-sends are not printed
        # again), the missed print clears and the store is healthy again.
        # (The dead relay's last long poll may have taken the message: it stays invisible
        # for the local relays' visibility timeout, 20 s, before anyone can have it.)
        stack.start_relay(STORE)
        wait_for("the late ticket", lambda: len(tickets_for(stack, second)) >= 2, timeout=60)
        wait_for("the missed print to clear", lambda: not missed())
        wait_for("a healthy store", lambda: store_health(api, hq)["healthy"])
        time.sleep(2)  # room for a duplicate to show up, if the relay printed one
        late = tickets_for(stack, second)
        assert len(late) == 2 and not any("补打" in t for t in late)
        assert job_of(api, hq, second)["status"] == "printed"
