"""Group buy (拼团) against a moto server, through orders' own place/pay/cancel (the code
the API runs): the seat is a conditional write in the order's transaction, so a 10-seat
group with 50 concurrent joiners takes exactly 10; the last seat's payment fills the
group and prints each order once; a group that times out refunds every paid member
exactly once under concurrent job runs; a cancelled or expired order frees its seat;
the per-member limit holds."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.group_buys import routes as _routes  # noqa: F401  (fills orders' hooks)
from chalicelib.group_buys import service as gb
from chalicelib.group_buys.models import GroupMemberModel, GroupModel
from chalicelib.group_buys.schemas import OfferBody
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel, RefundModel
from chalicelib.printing.models import PrintJobModel

from tests.service.test_campaign_budgets import campaign
from tests.service.test_order_concurrency import (
    PRICE_FEN,
    SKU,
    STORE,
    cart,
    customer,
    errors_of,
    race,
    stock,
)
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")

HQ = Principal("hq-admin", HQ_ADMIN)
GROUP_PRICE = 1990


def offer(size: int = 10, on_timeout: str = "fail", limit: int = 1, minutes: int = 60) -> str:
    campaign("CMPGB", budget_fen=10_000_00)
    now = clock.now()
    body = msgspec.convert(
        {
            "campaign_id": "CMPGB",
            "title": "葡萄团",
            "sku": SKU,
            "group_price_fen": GROUP_PRICE,
            "size": size,
            "time_limit_min": minutes,
            "per_member_limit": limit,
            "stores": [STORE],
            "on_timeout": on_timeout,
            "starts_at": clock.iso(now - timedelta(hours=1)),
            "ends_at": clock.iso(now + timedelta(days=2)),
        },
        OfferBody,
    )
    return gb.create_offer(HQ, body).offer_id


def pay(order_id: str, copies: int = 1) -> None:
    """The provider's notification, delivered ``copies`` times (its retries)."""
    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import provider

    order = order_flow.get(order_id)
    headers, body = provider("local").make_notification(order_id, int(order.total_fen))
    for _ in range(copies):
        assert payments.notify("local", headers, body).code == "SUCCESS"


def open_one(offer_id: str, n: int = 0):
    order, created = gb.open_group(customer(n), f"open-key-{n:04d}", offer_id, cart())
    assert created and order.total_fen == GROUP_PRICE
    return order, OrderModel.get(order.order_id).group_id


def group(group_id: str) -> GroupModel:
    return GroupModel.get(group_id, consistent_read=True)


def tickets() -> list[str]:
    return sorted(j.order_id for j in PrintJobModel.scan() if j.kind == "order")


def test_ten_seats_fifty_joiners_exactly_ten_paid_and_each_printed_once(shop):
    shop(100)
    offer_id = offer(size=10)
    opener, group_id = open_one(offer_id)
    results = race(
        49, lambda i: gb.join_group(customer(i + 1), f"join-key-{i:04d}", group_id, cart())
    )
    joined = [r for r in results if not isinstance(r, ApiError)]
    assert len(joined) == 9, errors_of(results)
    assert errors_of(results) == {"group_full": 40}
    assert stock() == 90
    g = group(group_id)
    assert (int(g.seats_taken), int(g.seats_paid), g.state) == (10, 0, "open")

    orders = [opener.order_id, *(o.order_id for o, _ in joined)]
    for order_id in orders[:-1]:
        pay(order_id)
    assert tickets() == []  # paid but held: no ticket before the group fills
    assert group(group_id).state == "open"
    pay(orders[-1], copies=2)  # the last seat's payment fills the group; its retry: nothing
    g = group(group_id)
    assert (g.state, int(g.seats_paid), g.ended_why) == ("succeeded", 10, "full")
    assert tickets() == sorted(orders)  # each order printed once
    for order_id in orders:
        o = order_flow.get(order_id)
        assert o.status == "paid" and o.held is None and o.store_queue == f"{STORE}#open"
        assert o.pickup_code
    gb.expire_due(clock.iso(clock.now() + timedelta(days=1)))  # nothing more happens
    assert tickets() == sorted(orders) and RefundModel.count() == 0


def test_timeout_refunds_every_paid_member_once_under_three_concurrent_runs(shop):
    shop(100)
    offer_id = offer(size=5)
    first, group_id = open_one(offer_id)
    second, _ = gb.join_group(customer(1), "join-key-0001", group_id, cart())
    third, _ = gb.join_group(customer(2), "join-key-0002", group_id, cart())
    pay(first.order_id)
    pay(second.order_id)
    later = clock.iso(clock.now() + timedelta(hours=2))

    results = race(3, lambda _: gb.expire_due(later))

    assert sum(results) == 1  # one run moved the group
    g = group(group_id)
    assert g.state == "failed" and g.due_state is None
    refunds = list(RefundModel.scan())
    assert sorted(r.refund_id for r in refunds) == sorted(
        f"{o.order_id}:group:{group_id}" for o in (first, second)
    )
    assert all(int(r.amount_fen) == GROUP_PRICE for r in refunds)
    for o in (first, second, third):
        assert order_flow.get(o.order_id).status == "cancelled"
    assert stock() == 100
    assert tickets() == []
    assert gb.expire_due(later) == 0 and RefundModel.count() == 2  # replay: nothing
    # members who were refunded or cancelled are not shown
    from chalicelib.group_buys import views

    assert views.group(group_id).members == []


def test_complete_on_timeout_releases_paid_members_at_the_group_price(shop):
    shop(100)
    offer_id = offer(size=5, on_timeout="complete")
    first, group_id = open_one(offer_id)
    second, _ = gb.join_group(customer(1), "join-key-0001", group_id, cart())
    pay(first.order_id)
    gb.expire_due(clock.iso(clock.now() + timedelta(hours=2)))
    g = group(group_id)
    assert (g.state, g.ended_why) == ("succeeded", "timeout_completed")
    assert tickets() == [first.order_id]
    assert order_flow.get(second.order_id).status == "cancelled"  # unpaid: cancelled
    assert RefundModel.count() == 0


def test_cancel_frees_the_seat_and_refunds_a_paid_member(shop):
    from chalicelib.orders import service as orders

    shop(100)
    offer_id = offer(size=2)
    first, group_id = open_one(offer_id)
    pay(first.order_id)
    orders.cancel(customer(0), first.order_id, "changed my mind")
    g = group(group_id)
    assert (int(g.seats_taken), int(g.seats_paid)) == (0, 0)
    assert [r.refund_id for r in RefundModel.scan()] == [f"{first.order_id}:cancel"]
    assert not list(PrintJobModel.scan())  # held: no ticket, so no cancellation slip
    assert GroupMemberModel.get(group_id, customer(0).subject).state == "left"
    # the seat is free again: two more can join (the group holds 2)
    gb.join_group(customer(1), "join-key-0001", group_id, cart())
    gb.join_group(customer(2), "join-key-0002", group_id, cart())
    with pytest.raises(ApiError) as full:
        gb.join_group(customer(3), "join-key-0003", group_id, cart())
    assert full.value.code == "group_full"


def test_an_unpaid_order_that_expires_frees_its_seat(shop):
    from chalicelib.orders import service as orders

    shop(100)
    offer_id = offer(size=2)
    _, group_id = open_one(offer_id)
    gb.join_group(customer(1), "join-key-0001", group_id, cart())
    assert int(group(group_id).seats_taken) == 2
    orders.expire_due(int((clock.now() + timedelta(minutes=20)).timestamp()))
    assert int(group(group_id).seats_taken) == 0
    assert stock() == 100


def test_per_member_limit(shop):
    shop(100)
    offer_id = offer(size=3, limit=1)
    _, group_id = open_one(offer_id)
    _, other = open_one(offer_id, 1)
    with pytest.raises(ApiError) as again:
        gb.join_group(customer(0), "join-key-0009", other, cart())
    assert again.value.code == "group_member_limit"
    with pytest.raises(ApiError) as own:
        gb.join_group(customer(0), "join-key-0010", group_id, cart())
    assert own.value.code in ("group_member_limit", "group_already_joined")
    # a retry of the opening is answered with the same order, no second group
    _, created = gb.open_group(customer(0), "open-key-0000", offer_id, cart())
    assert not created and GroupModel.count() == 2


def test_group_order_takes_the_offers_sku_alone_at_the_group_price(shop):
    shop(100)
    offer_id = offer()
    with pytest.raises(ApiError) as two:
        gb.open_group(customer(0), "open-key-0001", offer_id, cart(2))
    assert two.value.code == "group_buy_items"
    assert PRICE_FEN > GROUP_PRICE


def test_demo_seed_opens_one_group_with_a_paid_member_and_a_second_run_writes_nothing(
    aws_server,
):
    from infra.local.seed_group_buy import seed_group_buy

    _demo_store_and_item()
    group_id = seed_group_buy()
    again = seed_group_buy()
    assert again == group_id
    g = group(group_id)
    assert (g.state, int(g.seats_taken), int(g.seats_paid)) == ("open", 1, 1)
    assert GroupModel.count() == 1 and OrderModel.count() == 1


def _demo_store_and_item() -> None:
    """The seed's store (sh-xuhui, open around the clock) and its first item."""
    from chalicelib.catalogue.imports import apply_products, apply_store_items
    from chalicelib.catalogue.rules import parse_product, parse_store_item
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store

    from infra.local import demo_data
    from infra.local.seed_group_buy import STORE as DEMO_STORE

    raw = next(st for st in demo_data.stores() if st["store_id"] == DEMO_STORE)
    create_store(msgspec.convert(raw, StoreCreate))
    item = next(i for i in demo_data.store_items() if i["store_id"] == DEMO_STORE)
    product = next(p for p in demo_data.products() if p["sku"] == item["sku"])
    apply_products([parse_product(product, 1)])
    row = parse_store_item(dict(item, stock=10, on_sale=True), 1)
    assert not apply_store_items([(1, row)], {}).errors
