"""Group-buy orders count as sales only once their group succeeds (docs/mechanics.md
"Group buy", Reports): while the group is open they are paid but held, left out of the
day's rollup and the dashboard's today figures; released, they count; a failed group's
orders are refunded and never counted (nor their refunds)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.dashboard.service import dashboard
from chalicelib.group_buys import service as gb
from chalicelib.kernel import clock
from chalicelib.orders.models import OrderModel
from chalicelib.reports.service import rollup_day

from tests.service.test_group_buys import GROUP_PRICE, HQ, group, offer, open_one, pay
from tests.service.test_order_concurrency import STORE, cart, customer
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")


def _sales(day: str) -> tuple[int, int, int]:
    """(orders, paid fen) of the day's rollup, and the dashboard's orders today."""
    f = rollup_day(STORE, day)
    today = dashboard(HQ, STORE, 1).stores[0]
    assert today.gmv_fen == (f.paid_fen if today.date == day else today.gmv_fen)
    return f.orders, f.paid_fen, today.orders


def test_held_orders_are_sales_only_after_the_group_succeeds(shop):
    shop(100)
    offer_id = offer(size=3)
    first, group_id = open_one(offer_id)
    second, _ = gb.join_group(customer(1), "join-key-0001", group_id, cart())
    third, _ = gb.join_group(customer(2), "join-key-0002", group_id, cart())
    day = OrderModel.get(first.order_id).store_day.split("#", 1)[1]
    pay(first.order_id)
    pay(second.order_id)
    assert group(group_id).state == "open"
    f = rollup_day(STORE, day)
    assert (f.orders, f.paid_fen, f.placed) == (0, 0, 3)  # paid but waiting: placed only
    # the two paid seats show as waiting for their group, the unpaid third does not
    assert (f.waiting, f.waiting_fen) == (2, 2 * GROUP_PRICE)
    assert _sales(day) == (0, 0, 0)

    pay(third.order_id)  # the group fills: its orders are released, now sales
    assert group(group_id).state == "succeeded"
    assert _sales(day) == (3, 3 * GROUP_PRICE, 3)
    assert rollup_day(STORE, day).waiting == 0


def test_a_failed_groups_orders_are_never_sales(shop):
    shop(100)
    offer_id = offer(size=3)
    first, group_id = open_one(offer_id)
    day = OrderModel.get(first.order_id).store_day.split("#", 1)[1]
    pay(first.order_id)
    gb.expire_due(clock.iso(clock.now() + timedelta(hours=2)))
    assert group(group_id).state == "failed"
    assert OrderModel.get(first.order_id).refunded_fen == GROUP_PRICE
    f = rollup_day(STORE, day)
    assert (f.orders, f.paid_fen, f.refunded_fen, f.placed) == (0, 0, 0, 1)
    assert f.waiting == 0  # refunded in full: no longer waiting
    assert dashboard(HQ, STORE, 1).stores[0].orders == 0
