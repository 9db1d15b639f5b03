"""Printing races against a moto server (real threads, real HTTP): many dispatchers of one
job, both copies acknowledged at once, overlapping watchdog runs. Each ends with one
message per attempt on the store's FIFO queue and one recorded transition.

moto is made to apply one DynamoDB request at a time (as in test_order_concurrency.py):
its threaded server does not make a conditional write atomic, DynamoDB does. SQS FIFO
de-duplication is left as moto implements it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, RELAY, Principal
from chalicelib.orders.models import OrderModel
from chalicelib.printing.models import PrintJobModel

STORE = "sh-print"
SKU = "800001"


@pytest.fixture
def paid_job(aws_server):
    """A store, a paid pickup order there, and the id of its print job (pending)."""
    from chalicelib.catalogue.imports import apply_products, apply_store_items
    from chalicelib.catalogue.rules import parse_product, parse_store_item
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider
    from chalicelib.orders.schemas import PlaceOrder
    from chalicelib.printing import print_queues
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store

    print_queues.forget()
    create_store(
        msgspec.convert(
            {
                "store_id": STORE,
                "name": "鲜到家 打印测试店",
                "address": "上海市静安区南京西路1618号",
                "lat": 31.2236,
                "lng": 121.4457,
                "radius_m": 3000,
                "minimum_order_fen": 0,
                "delivery_fee": {"base_fee_fen": 500},
                "hours": [{"day": d, "open": "00:00", "close": "24:00"} for d in range(7)],
            },
            StoreCreate,
        )
    )
    apply_products(
        [
            parse_product(
                {
                    "sku": SKU,
                    "name": "阳光玫瑰葡萄",
                    "category1": "水果",
                    "category2": "葡萄",
                    "unit": "盒",
                },
                1,
            )
        ]
    )
    row = parse_store_item({"store_id": STORE, "sku": SKU, "price_fen": 2500, "stock": 9}, 1)
    assert not apply_store_items([(1, row)], {}).errors
    body = msgspec.convert(
        {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": SKU, "qty": 1}]},
        PlaceOrder,
    )
    order, _ = orders.place(Principal("c-print-1", CUSTOMER), "print-race-0001", body)
    headers, raw = provider("local").make_notification(order.order_id, order.total_fen)
    payments.notify("local", headers, raw)
    (job_id,) = OrderModel.get(order.order_id, consistent_read=True).print_job_ids
    _warm()
    yield job_id
    print_queues.forget()


def _warm() -> None:
    """Create the clients before the threads start (each would otherwise make its own)."""
    from chalicelib.db.connection import connection
    from chalicelib.db.tables import ALL_MODELS
    from chalicelib.kernel.queues import sqs_client
    from chalicelib.printing import print_queues

    assert connection().client is not None
    for model in ALL_MODELS:
        assert model._get_connection().connection.client is not None
    assert sqs_client() is not None
    print_queues.url(STORE)


def race(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def messages() -> list[dict]:
    """Every message on the store's queue (received and deleted)."""
    from chalicelib.kernel.queues import sqs_client
    from chalicelib.printing import print_queues

    sqs, url, out = sqs_client(), print_queues.url(STORE), []
    while got := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
    ).get("Messages", []):
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        out.extend(got)
    return out


def job(job_id: str) -> PrintJobModel:
    return PrintJobModel.get(job_id, consistent_read=True)


def test_twenty_dispatchers_of_one_job_send_one_message_and_record_one_send(paid_job):
    from chalicelib.printing import dispatch as print_dispatch

    results = race(20, lambda _: print_dispatch.dispatch(paid_job))

    assert sum(results) == 1
    got = messages()
    assert len(got) == 1, [m["Attributes"]["MessageDeduplicationId"] for m in got]
    assert got[0]["Attributes"]["MessageDeduplicationId"] == f"{paid_job}-1"
    sent = job(paid_job)
    assert sent.status == "sent" and int(sent.attempts) == 1
    assert [h.action for h in sent.history] == ["send"]


def test_both_copies_acknowledged_at_once_print_the_job_once(paid_job):
    from chalicelib.printing import dispatch as print_dispatch
    from chalicelib.printing import print_jobs
    from chalicelib.printing.relay_models import RelayModel
    from chalicelib.printing.schemas import AckRequest

    print_dispatch.dispatch(paid_job)
    RelayModel(
        "relay-sh-print",
        store_id=STORE,
        name="test relay",
        status="active",
        token_id="tok-1",
        created_at="2026-11-24T00:00:00Z",
        created_by="hq",
    ).save()
    relay = Principal("relay-sh-print", RELAY, STORE, token_id="tok-1")
    copies = ["picking", "delivery"] * 10

    views = race(20, lambda i: print_jobs.acknowledge(relay, paid_job, AckRequest(copy=copies[i])))

    assert {v.job_id for v in views} == {paid_job}
    printed = job(paid_job)
    assert printed.status == "printed" and printed.acked_copies == {"picking", "delivery"}
    actions = [(h.action, h.reason) for h in printed.history]
    assert sorted(actions[1:3]) == [("ack", "delivery"), ("ack", "picking")]
    assert actions[0] == ("send", "attempt 1") and actions[3:] == [("print", None)]


def test_both_copies_in_one_ack_racing_single_copy_acks_print_the_job_once(paid_job):
    """Relay retries of a both-copies ack and single-copy acks (an old relay, or a copy
    acknowledged alone before the other printed) at once: each copy recorded once, the
    job printed once, every answer 200 with both copies."""
    from chalicelib.printing import dispatch as print_dispatch
    from chalicelib.printing import print_jobs
    from chalicelib.printing.relay_models import RelayModel
    from chalicelib.printing.schemas import AckRequest, CopyAck

    print_dispatch.dispatch(paid_job)
    RelayModel(
        "relay-sh-print",
        store_id=STORE,
        name="test relay",
        status="active",
        token_id="tok-1",
        created_at="2026-11-24T00:00:00Z",
        created_by="hq",
    ).save()
    relay = Principal("relay-sh-print", RELAY, STORE, token_id="tok-1")
    both = AckRequest(copies=[CopyAck(copy="picking"), CopyAck(copy="delivery")])
    bodies = [both, AckRequest(copy="picking"), AckRequest(copy="delivery"), both] * 4

    views = race(len(bodies), lambda i: print_jobs.acknowledge(relay, paid_job, bodies[i]))

    assert {v.job_id for v in views} == {paid_job}
    assert all(v.acked_copies for v in views)
    printed = job(paid_job)
    assert printed.status == "printed" and printed.acked_copies == {"picking", "delivery"}
    actions = [(h.action, h.reason) for h in printed.history]
    assert sorted(actions[1:3]) == [("ack", "delivery"), ("ack", "picking")]
    assert actions[0] == ("send", "attempt 1") and actions[3:] == [("print", None)]


def test_overlapping_watchdog_runs_resend_a_late_job_once(paid_job, monkeypatch):
    from chalicelib.printing import dispatch as print_dispatch
    from chalicelib.printing import watchdog as print_watchdog

    print_dispatch.dispatch(paid_job)
    messages()
    now = int(time.time()) + 61

    results = race(5, lambda _: print_watchdog.run(now=now))

    assert sum(results) == 1
    got = messages()
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == [f"{paid_job}-2"]
    late = job(paid_job)
    assert late.status == "missed" and int(late.attempts) == 2
    assert [h.action for h in late.history] == ["send", "miss", "resend"]
    assert OrderModel.get(late.order_id, consistent_read=True).missed_print is True
