"""Races of subscription delivery against a moto server: the daily job run by ten
workers at once for the same day makes one order; a skip racing the job gives a
skipped date or an order, never both; a cancellation racing the job refunds exactly
the deliveries that were not ordered; twenty copies of the payment notice activate the
subscription once."""

from __future__ import annotations

from datetime import datetime

import msgspec
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.kernel import clock
from chalicelib.orders import payments
from chalicelib.orders.models import OrderModel, PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice
from chalicelib.subscriptions import daily, service
from chalicelib.subscriptions import schemas as s
from chalicelib.subscriptions.models import SubscriptionDeliveryModel
from chalicelib.subscriptions.rules import ZONE

from tests.order_steps import seed_catalogue
from tests.service.test_coupon_concurrency import race

HQ = Principal("hq-admin", "hq_admin")
C1 = Principal("c-1", CUSTOMER)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZONE)


def in_time(text: str, work):
    """``work`` run as of a local moment (each racing thread sets its own clock)."""

    def run(i: int):
        with clock.as_of(moment(text)):
            return work(i)

    return run


def subscription(paid: bool = True) -> str:
    seed_catalogue(("sh-a",), stock=50, count=3)
    body = {
        "name": "每日鲜奶",
        "lines": [{"sku": "100", "qty": 1}],
        "frequency": "daily",
        "deliveries": 3,
        "window": "07:00-09:00",
        "price_fen": 1000,
        "stores": ["sh-a"],
    }
    with clock.as_of(moment("2026-12-05T10:00:00")):
        plan_id = service.create_plan(HQ, msgspec.convert(body, s.SubscriptionPlanIn)).plan_id
        sub, _ = service.subscribe(
            C1,
            "key-00001",
            msgspec.convert(
                {
                    "plan_id": plan_id,
                    "store_id": "sh-a",
                    "fulfilment": "pickup",
                    "first_date": "2026-12-07",
                },
                s.SubscribeIn,
            ),
        )
        if paid:
            n = PaymentNotice("local", "tx-1", sub.subscription_id, 1000, clock.now_iso())
            assert payments.record_payment(n).message == "paid"
    return sub.subscription_id


def orders_of(sub_id: str) -> list[OrderModel]:
    return [o for o in OrderModel.scan() if o.customer_id == "c-1"]


def test_twenty_copies_of_the_payment_activate_once(ready):
    sub_id = subscription(paid=False)
    n = PaymentNotice("local", "tx-1", sub_id, 1000, "2026-12-05T02:00:00Z")
    acks = race(20, in_time("2026-12-05T10:00:00", lambda i: payments.record_payment(n)))
    assert all(not isinstance(a, Exception) for a in acks), acks
    assert [a.message for a in acks].count("paid") == 1
    assert len(list(SubscriptionDeliveryModel.query(sub_id))) == 3
    assert len(list(PaymentModel.scan())) == 1


def test_the_job_run_ten_times_at_once_makes_one_order(ready):
    sub_id = subscription()
    results = race(10, in_time("2026-12-06T20:00:00", lambda i: daily.run()))
    assert all(not isinstance(r, Exception) for r in results), results
    assert sum(r.get("ordered", 0) for r in results) == 1
    assert len(orders_of(sub_id)) == 1
    entry = SubscriptionDeliveryModel.get(sub_id, "2026-12-07")
    assert entry.state == "ordered" and entry.order_id == orders_of(sub_id)[0].order_id


def test_a_skip_racing_the_job_gives_a_skip_or_an_order_never_both(ready):
    sub_id = subscription()
    # one second before the cutoff for the skip, at the cutoff for the job: both may win
    skip = s.ChangeIn(action="skip", date="2026-12-07")

    def work(i: int):
        if i % 2:
            with clock.as_of(moment("2026-12-06T19:59:59")):
                return service.change(C1, sub_id, skip)
        with clock.as_of(moment("2026-12-06T20:00:00")):
            return daily.order_delivery(sub_id, "2026-12-07")

    race(6, work)
    entry = SubscriptionDeliveryModel.get(sub_id, "2026-12-07")
    orders = orders_of(sub_id)
    if entry.state == "skipped":
        assert orders == []
        assert len(list(SubscriptionDeliveryModel.query(sub_id))) == 4  # moved to the end
    else:
        assert entry.state == "ordered" and len(orders) == 1


def test_a_cancel_racing_the_job_refunds_exactly_what_was_not_ordered(ready):
    sub_id = subscription()

    def work(i: int):
        with clock.as_of(moment("2026-12-06T20:00:00")):
            if i == 0:
                return service.change(C1, sub_id, s.ChangeIn(action="cancel"))
            return daily.run()

    results = race(4, work)
    assert all(not isinstance(r, Exception) for r in results), results
    states = {d.day: d.state for d in SubscriptionDeliveryModel.query(sub_id)}
    ordered = [d for d, st in states.items() if st == "ordered"]
    assert len(orders_of(sub_id)) == len(ordered) <= 1
    refund = RefundModel.get(f"{sub_id}:cancel")
    shares = {"2026-12-07": 334, "2026-12-08": 333, "2026-12-09": 333}
    assert refund.amount_fen == sum(v for d, v in shares.items() if states[d] == "cancelled")
    assert refund.amount_fen + sum(shares[d] for d in ordered) == 1000
