"""Races on returns and their refunds, against a moto server: staff recording returns of
the same units at once, double presses on the final step, retries with one key. The
tables are checked afterwards, not only what the callers were told."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import msgspec
import pytest
from chalicelib.auth.principal import Principal
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel, RefundModel, ReturnModel

from tests.order_steps import completed_order, open_return, seed_catalogue, set_fresh
from tests.service.conftest import warm_clients


@pytest.fixture
def shop(aws_server):
    seed_catalogue(["sh-a"], count=12)
    set_fresh(["110", "111"], False)
    warm_clients()


def staff(n: int) -> Principal:
    return Principal(f"sh-a-staff-{n}", "store_staff", "sh-a")


def race(n: int, work) -> list:
    """``work(i)`` on n threads released together; each result or the ApiError raised."""
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return work(i)
        except ApiError as err:
            return err

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def codes(results: list) -> Counter:
    return Counter(r.code if isinstance(r, ApiError) else "ok" for r in results)


def check_order(order_id: str) -> OrderModel:
    """Refund records and the order's accounting agree, and nothing exceeds what was paid."""
    order = order_flow.get(order_id)
    records = list(RefundModel.by_order.query(order_id))
    assert sum(int(r.amount_fen) for r in records) == int(order.refunded_fen)
    for line in order.lines:
        assert int(line.refunded_fen) == sum(
            int(x.amount_fen) for r in records for x in r.lines if x.sku == line.sku
        )
        assert int(line.refunded_fen) <= int(line.paid_fen)
        assert int(line.refunded_units) <= int(line.qty)
    assert int(order.refunded_fen) <= int(order.paid_fen)
    return order


def test_staff_recording_the_same_fresh_units_at_once_refund_them_once(shop):
    oid = completed_order([("100", 3), ("101", 2)])
    results = race(10, lambda i: open_return(oid, {"100": 1}, staff(i)))
    assert codes(results) == {"ok": 3, "validation_failed": 7}
    order = check_order(oid)
    line = order.lines[0]
    assert (line.refunded_units, line.refunded_fen) == (3, line.paid_fen)
    assert ReturnModel.count() == 3 and RefundModel.count() == 3
    assert sorted(r.return_id for r in ReturnModel.scan()) == [f"{oid}-R{n}" for n in (1, 2, 3)]


def test_returns_on_two_lines_racing_each_get_exactly_their_units(shop):
    oid = completed_order([("100", 2), ("101", 2), ("110", 2)])
    skus = ["100", "101", "110"]
    results = race(12, lambda i: open_return(oid, {skus[i % 3]: 1}, staff(i)))
    assert codes(results) == {"ok": 6, "validation_failed": 6}
    order = check_order(oid)
    fresh = [line for line in order.lines if line.fresh]
    assert all(line.refunded_fen == line.paid_fen for line in fresh)
    claimed = Counter()
    for r in ReturnModel.scan():
        for x in r.lines:
            claimed[x.sku] += int(x.units)
    assert claimed == {"100": 2, "101": 2, "110": 2}


def test_one_request_retried_at_once_opens_one_return(shop):
    oid = completed_order([("100", 3), ("110", 1)])
    key = uuid.uuid4().hex
    results = race(8, lambda i: open_return(oid, {"100": 1, "110": 1}, staff(0), key=key))
    assert codes(results) == {"ok": 8}
    ids = {tuple(x.return_id for x in r[0].items) for r in results}
    assert ids == {(f"{oid}-R1", f"{oid}-R2")}
    assert sum(created for _, created in results) == 1
    assert ReturnModel.count() == 2 and RefundModel.count() == 1
    check_order(oid)


def test_double_presses_on_collect_refund_once(shop):
    from chalicelib.orders import returns

    oid = completed_order([("110", 2), ("111", 1)])
    opened, _ = open_return(oid, {"110": 2, "111": 1}, staff(0))
    (ret,) = opened.items
    returns.verify(staff(0), ret.return_id)
    actions = ["collect", "receive_at_counter"]
    results = race(8, lambda i: returns.receive(staff(i), ret.return_id, actions[i % 2]))
    assert codes(results) == {"ok": 1, "illegal_transition": 7}
    assert RefundModel.count() == 1
    order = check_order(oid)
    assert int(order.refunded_fen) == sum(int(line.paid_fen) for line in order.lines)
    assert ReturnModel.get(ret.return_id).status == "refunded"


def test_collecting_one_return_while_another_is_opened_keeps_the_accounting(shop):
    """A refund at the end of verification and a fresh return of the same order racing:
    both change the order's refund accounting; the version condition serialises them."""
    from chalicelib.orders import returns

    oid = completed_order([("110", 3), ("100", 3)])
    opened, _ = open_return(oid, {"110": 3}, staff(0))
    rid = opened.items[0].return_id
    returns.verify(staff(0), rid)

    def work(i: int):
        if i == 0:
            return returns.receive(staff(i), rid, "collect")
        return open_return(oid, {"100": 1}, staff(i))

    results = race(6, work)
    assert codes(results) == {"ok": 4, "validation_failed": 2}
    order = check_order(oid)
    assert int(order.refunded_fen) == sum(int(line.paid_fen) for line in order.lines)


def test_double_presses_on_pick_with_a_shortage_refund_once(shop):
    from chalicelib.orders import store_workflow
    from chalicelib.orders.store_workflow_schemas import PickResult

    from tests.order_steps import place_paid

    oid = place_paid([("100", 3), ("101", 2)])
    store_workflow.start_picking(staff(0), oid)
    body = msgspec.convert(
        {"lines": [{"sku": "100", "picked_qty": 1}, {"sku": "101", "picked_qty": 2}]}, PickResult
    )
    results = race(8, lambda i: store_workflow.pick(staff(i), oid, body))
    assert codes(results) == {"ok": 1, "illegal_transition": 7}
    assert RefundModel.count() == 1
    order = check_order(oid)
    assert order.status == "picked" and order.lines[0].refunded_units == 2


def test_rejecting_and_collecting_at_once_settle_on_one(shop):
    from chalicelib.orders import returns

    oid = completed_order([("110", 2)])
    opened, _ = open_return(oid, {"110": 2}, staff(0))
    rid = opened.items[0].return_id
    returns.verify(staff(0), rid)

    def work(i: int):
        if i % 2:
            return returns.reject(staff(i), rid, "不符合")
        return returns.receive(staff(i), rid, "collect")

    results = race(6, work)
    assert codes(results)["ok"] == 1
    assert set(codes(results)) <= {"ok", "illegal_transition", "return_changed"}
    final = ReturnModel.get(rid).status
    assert final in ("rejected", "refunded")
    assert RefundModel.count() == (1 if final == "refunded" else 0)
    check_order(oid)


@pytest.mark.parametrize("short", [1, 0], ids=["shortage", "all_found"])
@pytest.mark.parametrize("first", ["pick", "cancel"])
def test_a_pick_from_paid_and_a_cancellation_at_once_settle_on_one(shop, monkeypatch, short, first):
    """A customer may cancel a paid order until picking starts, and a pick may now come
    straight from paid. Both read the order as paid, then one writes first: the other's
    conditional write fails, so exactly one of them happens, and the tables say which
    (refund, stock, history), never a mix."""
    from chalicelib.catalogue.models import StoreItemModel
    from chalicelib.orders import order_flow, store_workflow
    from chalicelib.orders import service as orders
    from chalicelib.orders.store_workflow_schemas import PickResult

    from tests.order_steps import CUSTOMER_1, place_paid

    oid = place_paid([("100", 3), ("101", 2)])
    stock = int(StoreItemModel.get("sh-a", "100").stock)
    body = msgspec.convert(
        {"lines": [{"sku": "100", "picked_qty": 3 - short}, {"sku": "101", "picked_qty": 2}]},
        PickResult,
    )
    both_read = threading.Barrier(2, timeout=30)
    first_wrote = threading.Event()
    real_apply = order_flow.apply

    def in_turn(order, action, *args, **kwargs):
        """Both requests have read the order (as paid) before either writes; ``first``
        writes first."""
        both_read.wait()
        mine = "cancel" if action == "cancel" else "pick"
        if mine != first:
            assert first_wrote.wait(30)
        try:
            return real_apply(order, action, *args, **kwargs)
        finally:
            if mine == first:
                first_wrote.set()

    monkeypatch.setattr(order_flow, "apply", in_turn)

    def work(i: int):
        if i == 0:
            return store_workflow.pick(staff(0), oid, body)
        return orders.cancel(CUSTOMER_1, oid, "changed my mind")

    results = race(2, work)
    winner = 0 if first == "pick" else 1
    assert not isinstance(results[winner], Exception), results
    assert isinstance(results[1 - winner], ApiError), results
    assert results[1 - winner].code == "illegal_transition"
    order = check_order(oid)
    done = [h.action for h in order.history]
    refunds = {r.refund_id for r in RefundModel.by_order.query(oid)}
    if first == "cancel":
        assert order.status == "cancelled" and done[-1] == "cancel"
        assert "start_picking" not in done and "finish_picking" not in done
        assert refunds == {f"{oid}:cancel"} and order.refunded_fen == order.paid_fen
        assert int(StoreItemModel.get("sh-a", "100").stock) == stock + 3
    else:
        assert order.status == "picked" and done[-2:] == ["start_picking", "finish_picking"]
        assert "cancel" not in done
        assert refunds == ({f"{oid}:shortage"} if short else set())
        assert int(StoreItemModel.get("sh-a", "100").stock) == stock


def test_double_presses_on_checkout_and_dispatch_hand_over_once(shop):
    """The same cashier's double tap is one transition and two good answers; two cashiers
    at once are one transition and one 409."""
    from chalicelib.orders import store_workflow
    from chalicelib.orders.store_workflow_schemas import Checkout

    from tests.order_steps import pick, place_paid

    for same_account in (True, False):
        oid = place_paid([("100", 1), ("101", 1)])
        pick(oid)
        body = Checkout(order_code=oid, then="dispatch")
        who = (lambda i: staff(0)) if same_account else staff
        results = race(
            6, lambda i, who=who, body=body: store_workflow.checkout(who(i), "sh-a", body)
        )
        expected = {"ok": 6} if same_account else {"ok": 1, "illegal_transition": 5}
        assert codes(results) == expected, results
        order = OrderModel.get(oid, consistent_read=True)
        done = [h.action for h in order.history]
        assert order.status == "out_for_delivery"
        assert done.count("checkout") == 1 and done.count("dispatch") == 1
