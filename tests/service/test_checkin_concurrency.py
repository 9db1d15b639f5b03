"""Check-in races against a moto server (issue 14 item 10): twenty simultaneous
check-ins of one member on one day make exactly one, and its points are earned once.
The tables are checked afterwards, not only what the callers were told."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from chalicelib.identity.models import CustomerModel
from chalicelib.kernel.errors import ApiError
from chalicelib.loyalty import checkin, points
from chalicelib.loyalty.checkin import AlreadyCheckedIn
from chalicelib.loyalty.models import PointsEntryModel
from chalicelib.loyalty.programme_models import CheckinModel


def race(n: int, work) -> list:
    barrier = threading.Barrier(n)

    def run(i: int):
        barrier.wait()
        try:
            return work(i)
        except ApiError as err:
            return err

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_twenty_concurrent_check_ins_make_one(ready):
    CustomerModel(customer_id="c-1", phone="13800000001", created_at="2026-11-01T00:00:00Z").save()
    results = race(20, lambda _i: checkin.check_in("c-1"))
    won = [r for r in results if not isinstance(r, ApiError)]
    lost = [r for r in results if isinstance(r, ApiError)]
    assert len(won) == 1, results
    assert all(isinstance(r, AlreadyCheckedIn) for r in lost), lost
    # the tables: one day item, one state item, one points entry, the points once
    items = list(CheckinModel.query("c-1"))
    assert sorted(x.day for x in items) == sorted([won[0].day, "state"])
    state = next(x for x in items if x.day == "state")
    assert (int(state.total_days), int(state.streak)) == (1, 1)
    entries = [e.entry_key for e in PointsEntryModel.query("c-1")]
    assert entries == [f"checkin:{won[0].day}"]
    assert points.balance("c-1").spendable == won[0].points == 5


def test_concurrent_completions_and_their_redeliveries_add_growth_exactly(ready):
    """Ten orders completing at once, each delivered twice: each earns its growth once,
    the total is their sum, the order tasks are rewarded once (first order; 4 in the
    month) and the level follows (the account's version serialises)."""
    from chalicelib.kernel import clock
    from chalicelib.loyalty import growth, tasks
    from chalicelib.loyalty.programme_models import GrowthEntryModel, TaskProgressModel

    def earn(i: int):
        return tasks.on_order_completed("c-1", f"o-{i % 10}", 10_000, 0, clock.now_iso())

    results = race(20, earn)
    # one that lost too often answered 409 (growth_account_busy): the dispatcher retries it
    retried = [earn(i) for i, r in enumerate(results) if isinstance(r, ApiError)]
    assert sum(1 for r in results + retried if r is True) == 10, (results, retried)
    # + the two tasks' entries and the level change to V2
    # (growth parts: the points and growth of an order or an order task share an item)
    assert len([e for e in GrowthEntryModel.query("c-1") if e.kind is not None]) == 10 + 2 + 1
    mine = growth.my_level("c-1")
    assert (mine.growth, mine.level.code) == (1_000 + 50 + 40, "V2")
    assert points.balance("c-1").spendable == 100 + 80  # the tasks' points, once each
    # the order tasks are recorded on the account, no item per order or per task
    assert list(TaskProgressModel.query("c-1")) == []
    done = {t.task_id for t in tasks.progress("c-1").items if t.done}
    assert done == {"first-order", "monthly-4"}
    # each order's points at the level it found: V2 (x1.2, 500 growth) from the 6th on
    mine = [e for e in PointsEntryModel.query("c-1") if e.kind is not None]  # points parts
    assert sum(int(e.delta) for e in mine) == 180 + 5 * 100 + 5 * 120
    account = growth.account_of("c-1")
    assert account is not None and int(account.orders_in_month or 0) == 10
