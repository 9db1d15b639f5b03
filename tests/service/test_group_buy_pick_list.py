"""A 百人团's consolidated picking list (docs/mechanics.md "Group buy"): when a group of
``PICK_LIST_MIN_SIZE`` or more succeeds, its store gets one print job listing the SKU,
the units in total and each member's pickup code, created once however often success is
processed; the relay's own template renders it. Smaller groups print none."""

from __future__ import annotations

import json
from datetime import timedelta

import msgspec
import pytest
from chalicelib.group_buys import rules
from chalicelib.group_buys import service as gb
from chalicelib.group_buys.models import GroupModel
from chalicelib.kernel import clock
from chalicelib.orders import order_flow
from chalicelib.printing import messages, pick_lists
from chalicelib.printing.models import PrintJobModel
from chalicelib.stores.models import StoreModel

from print_relay import relay, tickets
from tests.service.test_group_buys import group, offer, open_one, pay
from tests.service.test_order_concurrency import STORE, cart, customer
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")


def _fill(size: int) -> tuple[str, list[str]]:
    offer_id = offer(size=size)
    opener, group_id = open_one(offer_id)
    orders = [opener.order_id]
    for i in range(1, size):
        order, _ = gb.join_group(customer(i), f"join-key-{i:04d}", group_id, cart())
        orders.append(order.order_id)
    for order_id in orders:
        pay(order_id)
    assert group(group_id).state == "succeeded"
    return group_id, orders


def _pick_lists() -> list[PrintJobModel]:
    return [j for j in PrintJobModel.scan() if j.kind == pick_lists.KIND]


def test_a_large_group_prints_one_pick_list_once_and_the_relay_renders_it(shop):
    shop(100)
    size = rules.PICK_LIST_MIN_SIZE
    group_id, orders = _fill(size)

    # success processed again (a replayed settle, the expiry job's pass, a direct retry)
    gb.settle(group_id)
    gb.expire_due(clock.iso(clock.now() + timedelta(days=1)))
    g = group(group_id)
    members = [m for m in gb.members(group_id) if m.state == "paid"]
    assert gb.print_pick_list(g, members) is False

    jobs = _pick_lists()
    assert [j.job_id for j in jobs] == [rules.pick_list_job_id(group_id)]
    job = jobs[0]
    assert (job.store_id, job.copies, job.order_id) == (STORE, {"pick_list"}, "")
    assert job.watch is None  # never a missed print: the orders' own tickets are watched

    message = pick_lists.message(job, StoreModel.get(STORE), 1)
    pl = message.pick_list
    assert pl is not None and pl.group_id == group_id and pl.total_units == size
    codes = {o: order_flow.get(o).pickup_code for o in orders}
    assert {m.order_id: m.pickup_code for m in pl.members} == codes
    assert all(m.member.startswith("会员***") for m in pl.members)

    # the relay takes the message as it comes off the queue and prints it
    body = messages.encode(message)
    checked = relay.check_message(body, store_id=STORE, paper_widths={58, 80})
    text = tickets.render_text(json.loads(body), "pick_list", 80)
    assert "团购拣货单" in text and group_id in text
    assert f"x{size}" in text and f"共 {size}" in text
    for code in codes.values():
        assert f"取货码 {code}" in text
    assert checked["kind"] == "group_pick_list"
    msgspec.json.decode(body, type=messages.PrintJobMessage)  # the committed v1 schema


def test_a_resumed_success_creates_the_missing_pick_list(shop):
    """A run stopped after releasing the orders but before the list: the next settle
    (the group still in ``by_due`` as settling) prints it."""
    shop(100)
    group_id, _ = _fill(rules.PICK_LIST_MIN_SIZE)
    PrintJobModel(rules.pick_list_job_id(group_id)).delete()
    group(group_id).update(actions=[GroupModel.due_state.set("settling"), GroupModel.due_at.set(0)])
    gb.expire_due()
    assert [j.job_id for j in _pick_lists()] == [rules.pick_list_job_id(group_id)]


def test_a_small_group_prints_no_pick_list(shop):
    shop(100)
    _fill(rules.PICK_LIST_MIN_SIZE - 1)
    assert _pick_lists() == []
