"""Punctuality in the daily rollups (store TOP tiers' P, reports/rules.py on_time): an
order picked and delivered within the promised times counts on time, a late pick or
delivery is late, an order still under way and not late yet is not counted; the
frequent pass (timing=False) keeps the counts the timed pass wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.kernel import clock
from chalicelib.orders import store_workflow
from chalicelib.reports import service
from chalicelib.reports.models import ReportDayModel

from tests.order_steps import STAFF_A, pick, place_paid, seed_catalogue

DAY = "2026-11-24"
T0 = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.fixture
def move(aws, monkeypatch):
    seed_catalogue(("sh-a",))

    def to(minutes: float) -> None:
        moment = T0 + timedelta(minutes=minutes)
        monkeypatch.setattr(clock, "now", lambda: moment)

    to(0)
    return to


def _deliver(order_id: str) -> None:
    from chalicelib.orders.store_workflow_schemas import Checkout

    store_workflow.checkout(STAFF_A, "sh-a", Checkout(order_code=order_id))
    store_workflow.dispatch(STAFF_A, order_id)
    store_workflow.deliver(STAFF_A, order_id)


def test_on_time_late_and_under_way(move):
    fast, slow_pick, _waiting = (place_paid([("100", 2)]) for _ in range(3))
    move(5)
    pick(fast)
    move(30)
    _deliver(fast)  # picked after 5 min, delivered after 30: on time
    pick(slow_pick)  # picked after 30 min (> 20): late whatever follows
    service.rollup_day("sh-a", DAY)
    item = ReportDayModel.get("sh-a", DAY)
    # waiting: not picked, and 30 min > the 20 promised: known late already
    assert (item.on_time, item.timed) == (1, 3)


def test_an_order_not_late_yet_is_not_counted(move):
    oid = place_paid([("100", 2)])
    move(10)
    service.rollup_day("sh-a", DAY)
    assert (ReportDayModel.get("sh-a", DAY).on_time, ReportDayModel.get("sh-a", DAY).timed) == (
        0,
        0,
    )
    pick(oid)
    move(50)
    _deliver(oid)
    service.rollup_day("sh-a", DAY)
    item = ReportDayModel.get("sh-a", DAY)
    assert (item.on_time, item.timed) == (1, 1)


def test_the_frequent_pass_keeps_the_timed_counts(move):
    oid = place_paid([("100", 2)])
    move(5)
    pick(oid)
    _deliver(oid)
    service.rollup_day("sh-a", DAY)
    place_paid([("101", 2)])  # a second sale, counted by the frequent pass
    service.rollup_day("sh-a", DAY, timing=False)
    item = ReportDayModel.get("sh-a", DAY)
    assert item.orders == 2
    assert (item.on_time, item.timed) == (1, 1)  # left as the timed pass wrote them
