"""Races in the order flow, against a moto server: real threads, real HTTP, DynamoDB
transactions with conditions (DESIGN.md invariants 2 and 4).

Each test starts its threads on a barrier so that their requests overlap as much as the
machine allows, then checks the tables themselves, not only what the callers were told.

moto's DynamoDB requests are serialised by the ``aws_server`` fixture: moto applies a
transaction item by item without a lock and rolls a failed one back by restoring a copy
of whole tables taken before it started, so two requests handled at once on its threaded
server can interleave inside a transaction and undo each other's writes (without the
lock, 50 buyers of 10 units made 12-14 orders here). DynamoDB itself never does that;
the races worth testing are the application's, between its requests, and those stay.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel.errors import ApiError
from chalicelib.orders.models import (
    IdempotencyModel,
    OrderDetailModel,
    OrderModel,
    PaymentModel,
    RefundModel,
)
from chalicelib.printing.models import CounterModel, PrintJobModel

STORE = "sh-race"
SKU = "700001"
PRICE_FEN = 2500  # one unit is above the store's minimum order


def warm_clients() -> None:
    """Create PynamoDB's botocore clients before the threads start: created lazily, they
    would be created by every racing thread at once (one session each, ~0.15 s of CPU)."""
    from chalicelib.db.connection import connection
    from chalicelib.db.tables import ALL_MODELS

    assert connection().client is not None
    for model in ALL_MODELS:
        assert model._get_connection().connection.client is not None


@pytest.fixture
def shop(aws_server):
    """One store open around the clock selling one product (stock set per test)."""
    from chalicelib.catalogue.imports import apply_products
    from chalicelib.catalogue.rules import parse_product
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store

    create_store(
        msgspec.convert(
            {
                "store_id": STORE,
                "name": "鲜到家 并发测试店",
                "address": "上海市静安区南京西路1618号",
                "lat": 31.2236,
                "lng": 121.4457,
                "radius_m": 3000,
                "minimum_order_fen": 2000,
                "delivery_fee": {"base_fee_fen": 500, "free_above_fen": 5900},
                "hours": [{"day": d, "open": "00:00", "close": "24:00"} for d in range(7)],
            },
            StoreCreate,
        )
    )
    product = parse_product(
        {
            "sku": SKU,
            "name": "阳光玫瑰葡萄",
            "category1": "水果",
            "category2": "葡萄",
            "unit": "盒",
            "fresh": "true",
        },
        1,
    )
    apply_products([product])
    warm_clients()
    return set_stock


def set_stock(units: int) -> None:
    from chalicelib.catalogue.imports import apply_store_items
    from chalicelib.catalogue.rules import parse_store_item

    row = parse_store_item(
        {"store_id": STORE, "sku": SKU, "price_fen": PRICE_FEN, "stock": units}, 1
    )
    result = apply_store_items([(1, row)], {})
    assert not result.errors, result.errors


def stock() -> int:
    return int(StoreItemModel.get(STORE, SKU, consistent_read=True).stock)


def cart(qty: int = 1):
    from chalicelib.orders.schemas import PlaceOrder

    return msgspec.convert(
        {"store_id": STORE, "fulfilment": "pickup", "items": [{"sku": SKU, "qty": qty}]},
        PlaceOrder,
    )


def customer(n: int) -> Principal:
    return Principal(f"c-race-{n:03d}", CUSTOMER)


def race(n: int, work, *, workers: int | None = None) -> list:
    """Run ``work(i)`` for i in 0..n-1 on n threads released together by a barrier.
    Returns each call's result, or the ``ApiError`` it raised."""
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return work(i)
        except ApiError as err:
            return err

    with ThreadPoolExecutor(workers or n) as pool:
        return list(pool.map(run, range(n)))


def errors_of(results: list) -> Counter:
    return Counter(r.code for r in results if isinstance(r, ApiError))


def test_fifty_customers_racing_for_ten_units_make_exactly_ten_orders(shop):
    from chalicelib.orders import service as orders

    shop(10)
    results = race(50, lambda i: orders.place(customer(i), f"race-key-{i:04d}", cart()))

    placed = [r for r in results if not isinstance(r, ApiError)]
    assert len(placed) == 10, errors_of(results)
    assert all(created for _, created in placed)
    assert errors_of(results) == {"insufficient_stock": 40}
    assert stock() == 0
    assert OrderModel.count() == 10
    assert {o.order_id for o in OrderModel.scan()} == {o.order_id for o, _ in placed}
    assert sum(int(line.qty) for d in OrderDetailModel.scan() for line in d.lines) == 10


def test_twenty_copies_of_one_payment_notification_pay_once(shop):
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    shop(10)
    order, _ = orders.place(customer(1), "pay-race-0001", cart(2))
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)

    acks = race(20, lambda _: payments.notify("local", headers, body))

    assert all(not isinstance(a, ApiError) and a.code == "SUCCESS" for a in acks), acks
    paid = OrderModel.get(order.order_id, consistent_read=True)
    assert paid.status == "paid" and int(paid.paid_fen) == order.total_fen
    assert [h.action for h in paid.history] == ["place", "pay"]
    assert PaymentModel.count() == 1
    assert [j.order_id for j in PrintJobModel.scan()] == [order.order_id]
    assert len(paid.print_job_ids) == 1
    assert RefundModel.count() == 0  # no copy was mistaken for a second payment
    assert stock() == 8
    # One ticket, sent (and so numbered) once: the store's next order is 今日第2单, not 21.
    from chalicelib.printing import dispatch as print_dispatch

    (job_id,) = paid.print_job_ids
    sent = race(5, lambda _: print_dispatch.dispatch(job_id))
    assert sent.count(True) == 1
    seq = int(OrderModel.get(order.order_id, consistent_read=True).daily_seq)
    # Racing senders of one ticket (which the stream never does) keep one number; the
    # others give theirs back unless a later order took one meanwhile.
    assert 1 <= seq <= int(CounterModel.get(paid.store_day).value) <= 5


def test_copies_of_a_notification_racing_after_its_first_request_died_record_it_once(
    shop, monkeypatch
):
    """The first request paid the order and died before writing the ticket and the
    payment record; then twenty copies of the notice (the provider's retries) arrive at
    once. Each finds the order paid by this payment and makes sure both exist: all answer
    SUCCESS, and there is one ticket, one payment record, one payment on the order."""
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    shop(10)
    order, _ = orders.place(customer(1), "pay-died-0001", cart(1))
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)

    def dies(items):  # type: ignore[no-untyped-def]
        raise RuntimeError("the function died between its two writes")

    with monkeypatch.context() as patched:
        patched.setattr(payments, "batch_put", dies)
        with pytest.raises(RuntimeError):
            payments.notify("local", headers, body)
    assert PrintJobModel.count() == 0 and PaymentModel.count() == 0

    acks = race(20, lambda _: payments.notify("local", headers, body))

    assert all(not isinstance(a, Exception) and a.code == "SUCCESS" for a in acks), acks
    paid = OrderModel.get(order.order_id, consistent_read=True)
    assert paid.status == "paid" and [h.action for h in paid.history] == ["place", "pay"]
    assert [j.job_id for j in PrintJobModel.scan()] == sorted(paid.print_job_ids)
    assert [p.outcome for p in PaymentModel.scan()] == ["captured"]
    assert RefundModel.count() == 0 and stock() == 9


def test_a_hundred_payments_at_one_store_at_once_all_succeed_with_distinct_numbers(shop):
    """A flash sale opening: every payment of one store lands at the same moment. None
    may fail (the money has arrived), and each order gets its own 今日第 N 单, 1..100,
    when its ticket is sent."""
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider
    from chalicelib.printing import dispatch as print_dispatch

    n = 100
    shop(n)
    placed = [orders.place(customer(100 + i), f"burst-{i:04d}", cart(1))[0] for i in range(n)]
    notices = [provider("local").make_notification(o.order_id, o.total_fen) for o in placed]

    acks = race(n, lambda i: payments.notify("local", *notices[i]))

    assert [a for a in acks if isinstance(a, Exception) or a.code != "SUCCESS"] == []
    paid = [OrderModel.get(o.order_id, consistent_read=True) for o in placed]
    assert [o.status for o in paid].count("paid") == n
    assert PaymentModel.count() == n and RefundModel.count() == 0
    assert PrintJobModel.count() == n

    # The stream sends every ticket (here with the same burst), numbering the orders.
    jobs = [job_id for o in paid for job_id in o.print_job_ids]
    sent = race(n, lambda i: print_dispatch.dispatch(jobs[i]))
    assert sent == [True] * n
    numbers = sorted(int(OrderModel.get(o.order_id).daily_seq) for o in placed)
    assert numbers == list(range(1, n + 1))
    assert int(CounterModel.get(paid[0].store_day).value) == n


def test_twenty_retries_with_one_idempotency_key_make_one_order(shop):
    from chalicelib.orders import service as orders

    shop(10)
    who = customer(7)
    results = race(20, lambda _: orders.place(who, "retry-key-0001", cart(3)))

    assert not errors_of(results), errors_of(results)
    assert len({order.order_id for order, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert OrderModel.count() == 1 and IdempotencyModel.count() == 0  # the order is the record
    assert stock() == 7


ROUNDS = 12


def test_expiry_racing_a_payment_ends_paid_or_expired_and_refunded(shop):
    """An unpaid order past its deadline while its payment notification arrives: either
    the payment wins (paid, stock kept) or the expiry wins (stock back, the late payment
    recorded and refunded in full). Never both, never neither, and the provider gets
    SUCCESS the first time either way."""
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    shop(100)
    rng = random.Random(3)
    outcomes: Counter = Counter()
    for n in range(ROUNDS):
        before = stock()
        order, _ = orders.place(customer(n), f"expiry-race-{n:04d}", cart(1))
        headers, body = provider("local").make_notification(order.order_id, order.total_fen)
        # Alternate a small head start so that both orders of events happen.
        delay = [rng.uniform(0, 0.01), 0.0] if n % 2 else [0.0, rng.uniform(0, 0.01)]

        def work(i: int, delay=delay, headers=headers, body=body):  # type: ignore[no-untyped-def]
            threading.Event().wait(delay[i])
            if i == 0:
                return orders.expire_due(now_epoch=2**40)
            return payments.notify("local", headers, body)

        expired_count, ack = race(2, work)
        assert not isinstance(expired_count, ApiError), expired_count
        assert not isinstance(ack, ApiError) and ack.code == "SUCCESS", ack

        final = OrderModel.get(order.order_id, consistent_read=True)
        actions = [h.action for h in final.history]
        payment = PaymentModel.get(f"local:{msgspec.json.decode(body)['transaction_id']}")
        refunds = list(RefundModel.by_order.query(order.order_id))
        outcomes[final.status] += 1
        if final.status == "paid":
            assert actions == ["place", "pay"]
            assert payment.outcome == "captured" and int(final.paid_fen) == order.total_fen
            assert refunds == []
            assert stock() == before - 1  # not given back
            assert expired_count == 0
            assert [j.order_id for j in PrintJobModel.scan()].count(order.order_id) == 1
        else:
            assert final.status == "expired", final.status
            assert actions == ["place", "expire", "late_payment"]  # the refund is on record
            assert int(final.returned_payments_fen) == order.total_fen
            assert int(final.paid_fen) == 0 and final.payment_id is None
            assert payment.outcome == "late_refunded"
            assert [(r.reason, r.status, int(r.amount_fen)) for r in refunds] == [
                ("late_payment", "succeeded", order.total_fen)
            ]
            assert stock() == before  # given back once
            assert expired_count == 1
            assert all(j.order_id != order.order_id for j in PrintJobModel.scan())
    assert sum(outcomes.values()) == ROUNDS


def test_an_order_expiring_under_a_payment_in_flight_answers_the_provider_success(
    shop, monkeypatch
):
    """The order expires after the notification arrived and before its update reaches the
    order: the first answer to the provider is already SUCCESS, with the money refunded,
    decided from the order the refused update returned (no read)."""
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    shop(10)
    order, _ = orders.place(customer(1), "expiry-under-pay-01", cart(1))
    update = payments.update_or_refused

    def expire_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        # between the notification's arrival and its update of the order
        assert orders.expire_due(now_epoch=2**40) == 1
        return update(*args, **kwargs)

    monkeypatch.setattr(payments, "update_or_refused", expire_first)
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)

    ack = payments.notify("local", headers, body)

    assert ack.code == "SUCCESS"
    assert OrderModel.get(order.order_id).status == "expired"
    assert [r.reason for r in RefundModel.by_order.query(order.order_id)] == ["late_payment"]
    assert stock() == 10


def test_a_payment_racing_expiry_leaves_the_order_keyed_by_where_it_ended(shop):
    """The work queue's key follows the state that won: a paid order is in the store's
    open bucket, an expired one in no bucket (it never entered)."""
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    shop(100)
    outcomes: Counter = Counter()
    for n in range(ROUNDS):
        order, _ = orders.place(customer(n), f"expiry-key-race-{n:04d}", cart(1))
        headers, body = provider("local").make_notification(order.order_id, order.total_fen)

        def work(i: int, headers=headers, body=body):  # type: ignore[no-untyped-def]
            if i == 0:
                return orders.expire_due(now_epoch=2**40)
            return payments.notify("local", headers, body)

        race(2, work)
        final = OrderModel.get(order.order_id, consistent_read=True)
        outcomes[final.status] += 1
        expected = f"{STORE}#open" if final.status == "paid" else None
        assert final.store_queue == expected, final.status
        queued = [o.order_id for o in OrderModel.by_store_queue.query(f"{STORE}#open")]
        assert (order.order_id in queued) is (final.status == "paid")
        assert final.due_kind is None and final.due_at is None
    assert sum(outcomes.values()) == ROUNDS and set(outcomes) <= {"paid", "expired"}


def test_a_customer_confirming_as_auto_completion_runs_completes_the_order_once(shop):
    """Receipt confirmed while the hourly job completes the same delivered order: one of
    them completes it, the other is refused or passes; the order leaves the work queue."""
    from chalicelib.auth.principal import Principal
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders import store_workflow as wf
    from chalicelib.orders import store_workflow_schemas as w
    from chalicelib.orders.payment_providers import provider

    shop(100)
    hq = Principal("hq-race", "hq_admin")
    delivery = msgspec.convert(
        {
            "store_id": STORE,
            "fulfilment": "delivery",
            "items": [{"sku": SKU, "qty": 1}],
            "address": {
                "name": "王女士",
                "phone": "13800000000",
                "line": "南京西路1618号 1201",
                "lat": 31.2240,
                "lng": 121.4460,
            },
        },
        type(cart()),
    )
    winners: Counter = Counter()
    for n in range(ROUNDS):
        who = customer(n)
        order, _ = orders.place(who, f"confirm-race-{n:04d}", delivery)
        oid = order.order_id
        payments.notify("local", *provider("local").make_notification(oid, order.total_fen))
        wf.pick(hq, oid, w.PickResult(lines=[w.PickedLine(sku=SKU, picked_qty=1)]))
        wf.checkout(hq, STORE, w.Checkout(order_code=oid, then="dispatch"))
        wf.deliver(hq, oid)
        assert OrderModel.get(oid).store_queue == f"{STORE}#delivered"

        def work(i: int, oid=oid, who=who):  # type: ignore[no-untyped-def]
            if i == 0:
                return wf.auto_complete_due(now_epoch=2**40)
            return wf.confirm_receipt(who, oid)

        completed, confirmed = race(2, work)
        final = OrderModel.get(oid, consistent_read=True)
        ends = [h.action for h in final.history if h.to_state == "completed"]
        assert final.status == "completed" and len(ends) == 1, [h.action for h in final.history]
        winners[ends[0]] += 1
        assert completed == (1 if ends == ["auto_complete"] else 0)
        if ends == ["confirm_receipt"]:
            assert not isinstance(confirmed, ApiError), confirmed
        else:
            assert isinstance(confirmed, ApiError) and confirmed.status == 409, confirmed
        assert final.store_queue is None and final.due_at is None
        assert list(OrderModel.by_store_queue.query(f"{STORE}#delivered")) == []
    assert sum(winners.values()) == ROUNDS
