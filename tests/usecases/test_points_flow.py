"""Points through the real order flow and the event dispatcher (issue 14 item 10's
end-to-end, the points part): an order completes -> points earned pending -> the pending
days pass -> a fresh-goods return refunds part of it -> the points earned on that part are
taken back exactly; a redelivery of every event changes nothing."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.kernel import clock
from chalicelib.loyalty import points
from chalicelib.loyalty.programme_settings import tasks_settings
from chalicelib.orders import order_flow

from tests.event_steps import deliver_events
from tests.order_steps import completed_order, open_return, set_fresh


def test_completion_earns_and_a_partial_refund_takes_back_its_share(catalogue, monkeypatch):
    set_fresh(["100"], True)
    oid = completed_order([("100", 3), ("101", 2)])
    order = order_flow.get(oid)
    paid = int(order.paid_fen)
    deliver_events()
    earned = paid // 100
    # the first-order task (loyalty/tasks.py) rewards its points at once, not pending
    bonus = sum(t.points for t in tasks_settings().tasks if t.active and t.kind == "first_order")
    b = points.balance("c-1")
    assert (b.pending, b.spendable) == (earned, bonus)

    later = clock.now() + timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert points.settle_due() == 0  # maturing writes nothing on its own
    assert points.balance("c-1").spendable == earned + bonus

    open_return(oid, {"100": 1})  # fresh goods: refunded at once
    deliver_events()
    refunded = int(order_flow.get(oid).refunded_fen)
    assert refunded > 0
    kept_share = earned - (earned * refunded) // paid
    b = points.balance("c-1")
    assert b.balance == kept_share + bonus and b.debt == 0
    kinds = [e.kind for e in points.entries("c-1", None, 10).items]
    assert kinds[:1] == ["reverse"] and sorted(kinds[1:]) == ["earn", "earn"]

    deliver_events()  # every event again: nothing twice
    assert points.balance("c-1").balance == kept_share + bonus
