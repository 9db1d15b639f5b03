"""Races on points against a moto server (issue 14 item 10): duplicate deliveries of one
event earn once; concurrent deductions never take more than there is; concurrent locks
hold only what is spendable. The account and its entries are checked afterwards, not
only what the callers were told."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled, transact
from chalicelib.events.types import OrderCompleted
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.loyalty import points, programme_subscribers
from chalicelib.loyalty.models import PointsEntryModel

HQ = Principal("hq-admin", "hq_admin")


def race(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return work(i)
        except (ApiError, TransactionCancelled) as err:
            return err

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def ledger_sum(customer_id: str) -> int:
    return sum(int(e.delta) for e in PointsEntryModel.query(customer_id))


def test_duplicate_completion_deliveries_earn_once(ready):
    event = OrderCompleted(
        event_id="order.completed:261124DUP00001",
        occurred_at=clock.now_iso(),
        order_id="261124DUP00001",
        customer_id="c-dup",
        store_id="sh-a",
        paid_fen=8_800,
        refunded_fen=0,
        lines=[],
    )
    race(10, lambda _: programme_subscribers.order_completion(event))
    b = points.balance("c-dup")
    # the order's 88 points (pending) and the first-order task's 100, once each
    assert (b.pending, b.spendable, b.balance) == (88, 100, 188)
    assert ledger_sum("c-dup") == 188
    keys = sorted(e.entry_key for e in PointsEntryModel.query("c-dup"))
    assert keys == ["earn:order:261124DUP00001", "task:first-order:once"]


def test_twenty_deductions_of_ten_on_a_hundred_points_ten_succeed(ready):
    CustomerModel(customer_id="c-race", phone="13800000009", created_at=clock.now_iso()).save()
    points.adjust(HQ, "c-race", 100, "seed", "adj-seed-0001")
    results = race(20, lambda i: points.adjust(HQ, "c-race", -10, "race", f"adj-race-{i:04d}"))
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(ok) == 10, results
    assert {r.code for r in refused} == {"insufficient_points"} and len(refused) == 10
    b = points.balance("c-race")
    assert (b.spendable, b.debt, b.balance) == (0, 0, 0)
    assert ledger_sum("c-race") == 0


def test_concurrent_locks_hold_only_what_is_spendable(ready):
    points.award("c-lock", 100, ref="task:seed", kind="earn", reason="seed",
                 occurred_at=clock.now_iso())  # fmt: skip

    def lock(i: int):
        transact(lambda tx: points.lock_piece("c-lock", 30, f"order-{i}").add_to(tx))
        return i

    results = race(10, lock)
    assert len([r for r in results if isinstance(r, int)]) == 3
    b = points.balance("c-lock")
    assert (b.spendable, b.locked, b.balance) == (10, 90, 100)


def test_ten_orders_earning_at_once_each_twice_earn_each_once(ready):
    """Earning has no transaction (account update, then its entry): ten orders of one
    member completing at once, each delivered twice, earn each once and the balance is
    the sum of the entries."""

    def earn(i: int):
        return points.award(
            "c-many",
            10 + i % 10,
            ref=f"earn:order:O{i % 10}",
            kind="earn",
            reason="test",
            occurred_at=clock.now_iso(),
        )

    results = race(20, earn)
    retried = [earn(i) for i, r in enumerate(results) if isinstance(r, ApiError)]
    assert sum(1 for r in results + retried if r is True) == 10, (results, retried)
    assert points.balance("c-many").balance == ledger_sum("c-many") == sum(range(10, 20))
    assert len(list(PointsEntryModel.query("c-many"))) == 10
