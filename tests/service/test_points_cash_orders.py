"""Points as cash at checkout (积分抵现, issue 14 item 2): the quote offers the member's
points within the cap; placing locks them in the order's one transaction (after every
discount, before stored value); payment spends them (order.paid subscriber); cancellation
or expiry of the unpaid order releases them in its own transaction; a refund returns the
points spent on the refunded part in proportion. Against a moto server: 10 concurrent
orders on one member's points: never negative, exactly the affordable ones succeed. The
tables are checked, not only the answers."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError

from tests.order_steps import CUSTOMER_1, seed_catalogue


def give_points(customer_id: str, n: int) -> None:
    from chalicelib.loyalty import points

    points.award(
        customer_id,
        n,
        ref=f"task:{uuid.uuid4().hex[:10]}",
        kind="earn",
        reason="test",
        occurred_at=clock.now_iso(),
    )


def body(points_to_use=None, stored_value_fen=None, items=(("100", 2), ("101", 1))):
    return {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": s, "qty": q} for s, q in items],
        "points_to_use": points_to_use,
        "stored_value_fen": stored_value_fen,
    }


def place(customer=CUSTOMER_1, **kw):
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import PlaceOrder

    order, _ = orders.place(customer, uuid.uuid4().hex, msgspec.convert(body(**kw), PlaceOrder))
    return order


def quote(**kw):
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import QuoteRequest

    b = body(**kw)
    b.pop("points_to_use"), b.pop("stored_value_fen")
    return orders.quote(CUSTOMER_1, msgspec.convert(b, QuoteRequest))


def balance(customer_id: str = "c-1"):
    from chalicelib.loyalty import points

    return points.balance(customer_id)


def entries(customer_id: str = "c-1") -> dict[str, int]:
    from chalicelib.loyalty.models import PointsEntryModel

    return {
        e.entry_key: int(e.delta)
        for e in PointsEntryModel.query(customer_id)
        if not e.entry_key.startswith("task:")
    }


@pytest.fixture
def shop(aws):
    seed_catalogue(["sh-a"], count=5)


# Goods: 2 × 1000 + 1 × 1001 = 3001 fen; cap 50 %: 1500 fen = 1500 points (100 per ¥1).


def test_the_quote_offers_the_points_within_the_cap(shop):
    give_points("c-1", 5000)
    q = quote()
    assert q.points is not None
    assert (q.points.spendable, q.points.max_points, q.points.max_fen) == (5000, 1500, 1500)
    assert (q.points.cap_fen, q.points.points_per_yuan, q.points.cap_percent) == (1500, 100, 50)
    from chalicelib.auth.principal import Principal
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import QuoteRequest

    b = body()
    b.pop("points_to_use"), b.pop("stored_value_fen")
    staff = orders.quote(
        Principal("sh-a-staff", "store_staff", "sh-a"), msgspec.convert(b, QuoteRequest)
    )
    assert staff.points is None  # points are a member's


def test_placing_locks_the_points_and_takes_their_cash_off_the_total(shop):
    from chalicelib.orders import order_flow

    give_points("c-1", 5000)
    before = quote().total_fen
    order = place(points_to_use=800)
    assert (order.points_used, order.points_fen) == (800, 800)
    assert order.total_fen == before - 800
    assert order.payment is not None and order.payment.amount_fen == before - 800
    # split over the lines by what each paid, largest remainder; money pays the rest
    assert sum(x.points_fen for x in order.lines) == 800
    assert [x.points_fen for x in order.lines] == [533, 267]
    assert all(x.paid_fen == x.amount_fen - x.discount_fen - x.points_fen for x in order.lines)
    b = balance()
    assert (b.spendable, b.locked, b.balance) == (4200, 800, 5000)
    head = order_flow.get(order.order_id)
    assert head.attribute_values["points_used"] == 800  # on the head: the stream carries it


def test_points_then_stored_value_then_the_provider(shop):
    from tests.service.test_stored_value_orders import credit

    give_points("c-1", 5000)
    credit("c-1", 1000, 0)
    total = quote().total_fen
    order = place(points_to_use=1000, stored_value_fen=500)
    assert order.total_fen == total - 1000 and order.stored_value_fen == 500
    assert order.payment.amount_fen == total - 1000 - 500
    with pytest.raises(ApiError) as err:
        place(points_to_use=1000, stored_value_fen=total - 999)  # more than points leave
    assert err.value.code == "stored_value_above_total"


def test_refusals_take_nothing(shop):
    give_points("c-1", 700)
    for points_to_use, code in ((701, "insufficient_points"), (1501, "points_above_cap")):
        with pytest.raises(ApiError) as err:
            place(points_to_use=points_to_use)
        assert err.value.code == code
    with pytest.raises(ApiError) as err:
        place(points_to_use=701)
    assert err.value.status == 409 and err.value.details == {"spendable": 700}
    b = balance()
    assert (b.spendable, b.locked) == (700, 0) and entries() == {}


def test_points_that_do_not_make_a_whole_fen_stay_with_the_member(shop):
    from chalicelib.auth.principal import Principal
    from chalicelib.loyalty import schemas as ls
    from chalicelib.loyalty.settings import put_points_settings

    put_points_settings(Principal("hq", "hq_admin"), ls.PointsSettings(cash_points_per_yuan=150))
    give_points("c-1", 1000)
    order = place(points_to_use=100)  # 66 fen cost 99 points
    assert (order.points_used, order.points_fen) == (99, 66)
    assert balance().spendable == 901
    with pytest.raises(ApiError) as err:
        place(points_to_use=1)
    assert err.value.code == "points_below_one_fen"


def test_the_lock_loses_to_points_spent_meanwhile_with_409(shop, monkeypatch):
    """The placing read saw the points; another order took them before the write."""
    from chalicelib.checkout import service as checkout

    give_points("c-1", 1000)
    real = checkout.load

    def load_then_spend(*a, **kw):
        loaded = real(*a, **kw)
        if kw.get("points_account") and not getattr(load_then_spend, "done", False):
            load_then_spend.done = True
            monkeypatch.setattr(checkout, "load", real)
            place(points_to_use=900)  # the other order, between read and write
        return loaded

    monkeypatch.setattr(checkout, "load", load_then_spend)
    with pytest.raises(ApiError) as err:
        place(points_to_use=500)
    assert err.value.code == "insufficient_points" and err.value.details == {"spendable": 100}
    b = balance()
    assert (b.spendable, b.locked) == (100, 900)


def test_payment_spends_and_cancel_or_expiry_release(shop):
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders

    from tests.event_steps import deliver_events

    give_points("c-1", 3000)
    paid = place(points_to_use=1000)
    payments.simulate(CUSTOMER_1, paid.order_id)
    cancelled = place(points_to_use=700)
    orders.cancel(CUSTOMER_1, cancelled.order_id, "changed my mind")
    b = balance()  # released in the cancelling transaction, before any event
    assert (b.spendable, b.locked) == (2000, 1000)
    expired = place(points_to_use=300)
    assert (balance().spendable, balance().locked) == (1700, 1300)
    assert orders.expire_due(now_epoch=2**40) == 1
    assert (balance().spendable, balance().locked) == (2000, 1000)
    deliver_events()
    b = balance()
    assert (b.spendable, b.locked, b.balance) == (2000, 0, 2000)
    assert entries() == {f"spend:order:{paid.order_id}": -1000}
    deliver_events()  # again: nothing twice
    assert balance().balance == 2000 and len(entries()) == 1
    assert expired.points_used == 300


def test_a_refund_returns_the_points_spent_on_its_part(shop):
    from chalicelib.orders import order_flow, payments
    from chalicelib.orders import service as orders

    from tests.event_steps import deliver_events

    give_points("c-1", 3000)
    order = place(points_to_use=1001)
    payments.simulate(CUSTOMER_1, order.order_id)
    deliver_events()
    orders.cancel(CUSTOMER_1, order.order_id, "too late")  # paid: refunded in full
    deliver_events()
    head = order_flow.get(order.order_id)
    assert int(head.refunded_fen) == int(head.paid_fen)
    got = entries()
    assert got[f"spend:order:{order.order_id}"] == -1001
    assert sum(got.values()) == 0  # every point spent came back
    b = balance()
    assert (b.spendable, b.locked, b.balance) == (3000, 0, 3000)


# --- concurrency against the moto server --------------------------------------------------


@pytest.fixture
def server_shop(aws_server):
    from tests.service.conftest import warm_clients

    seed_catalogue(["sh-a"], stock=100, count=5)
    warm_clients()


def test_10_concurrent_orders_on_one_members_points_lock_exactly_what_they_hold(server_shop):
    give_points("c-1", 7 * 500 + 499)  # 7 orders of 500 points, not 8
    barrier = threading.Barrier(10)

    def run(i: int):
        barrier.wait()
        try:
            return place(points_to_use=500)
        except ApiError as err:
            return err

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(run, range(10)))
    placed = [r for r in results if not isinstance(r, ApiError)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(placed) == 7, [getattr(r, "code", None) for r in results]
    assert {r.code for r in refused} == {"insufficient_points"}
    b = balance()
    assert (b.spendable, b.locked, b.balance) == (499, 3500, 3999)
    assert all(o.points_used == 500 for o in placed)


def test_the_paid_ticket_adds_up_with_points_as_one_more_deduction(shop):
    from chalicelib.orders import order_flow, payments
    from chalicelib.printing.dispatch import build_message
    from chalicelib.printing.models import PrintJobModel
    from chalicelib.printing.print_jobs import paid_ticket_id
    from chalicelib.stores.models import StoreModel

    give_points("c-1", 1000)
    order = place(points_to_use=800)
    payments.simulate(CUSTOMER_1, order.order_id)
    head = order_flow.get(order.order_id)
    job = PrintJobModel.get(paid_ticket_id(order.order_id))
    msg = build_message(job, head, StoreModel.get("sh-a"), 1)
    a = msg.amounts
    assert a.subtotal_fen - a.discount_fen + a.delivery_fee_fen == a.total_fen == order.total_fen
    assert msg.discounts[-1].label == "积分抵扣 800 积分"
    assert msg.discounts[-1].amount_fen == 800
