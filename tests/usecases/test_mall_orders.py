"""A points-mall product reward redeemed through the normal order flow (issue 14 item 3):
placing takes a unit, one of the member's redemptions and locks the points in the
order's one transaction; payment spends the points; cancelling or expiring the unpaid
order gives all of it back, once, whatever the event redeliveries."""

from __future__ import annotations

import time

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError, ValidationFailed
from chalicelib.loyalty import mall, points
from chalicelib.loyalty import mall_schemas as ms
from chalicelib.loyalty.models import (
    MallCounterModel,
    MallRedemptionModel,
    MallRewardModel,
    PointsEntryModel,
)
from chalicelib.orders import order_flow, payments
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderModel
from chalicelib.orders.schemas import PlaceOrder

from tests.event_steps import deliver_events
from tests.order_steps import HQ

ME = Principal("c-1", CUSTOMER)


@pytest.fixture
def reward(catalogue):
    points.award("c-1", 1000, ref="task:seed", kind="earn", reason="seed",
                 occurred_at=clock.now_iso())  # fmt: skip

    def make(cash_fen: int = 0, stock: int = 3, limit: int = 2, pts: int = 300) -> str:
        mall.create_reward(
            HQ,
            ms.RewardCreate(reward_id="rw-p", kind="product", name="商品0 兑换", sku="100",
                            points=pts, cash_fen=cash_fen, stock=stock, per_member_limit=limit),
        )  # fmt: skip
        return "rw-p"

    return make


def body(**extra) -> PlaceOrder:
    return msgspec.convert(
        {"store_id": "sh-a", "fulfilment": "pickup", "items": [{"sku": "100", "qty": 1}],
         "reward_id": "rw-p", **extra},
        PlaceOrder,
    )  # fmt: skip


def state() -> tuple[int, int, int, int]:
    """(units left, the member's redemptions, spendable, locked)."""
    r = MallRewardModel.get("rw-p", consistent_read=True)
    try:
        n = int(MallCounterModel.get("rw-p#c-1", consistent_read=True).redeemed)
    except MallCounterModel.DoesNotExist:
        n = 0
    b = points.balance("c-1")
    return int(r.stock), n, b.spendable, b.locked


def store_stock() -> int:
    return int(StoreItemModel.get("sh-a", "100", consistent_read=True).stock)


def test_points_and_cash_reward_is_an_order_paid_through_the_provider(reward):
    reward(cash_fen=500)
    order, created = orders.place(ME, "mall-key-0001", body())
    assert created and order.status == "awaiting_payment"
    assert (order.total_fen, order.reward_id, order.reward_points) == (500, "rw-p", 300)
    assert [(x.sku, x.unit_price_fen, x.qty) for x in order.lines] == [("100", 500, 1)]
    assert state() == (2, 1, 700, 300)  # a unit, a redemption, the points locked
    assert store_stock() == 9  # picked from the store's shelf like any order
    redemption = MallRedemptionModel.get(order.order_id)
    assert (redemption.state, redemption.kind) == ("placed", "product")

    assert payments.simulate(ME, order.order_id).code == "SUCCESS"
    deliver_events()
    assert state() == (2, 1, 700, 0)
    spend = PointsEntryModel.get("c-1", f"spend:order:{order.order_id}")
    assert int(spend.delta) == -300
    assert MallRedemptionModel.get(order.order_id).state == "paid"
    assert order_flow.get(order.order_id).status == "paid"  # prints, is picked as usual
    deliver_events()  # redelivery: nothing twice
    assert points.balance("c-1").balance == 700


def test_points_as_cash_do_not_combine_with_a_reward(reward):
    """A reward's points are its price, locked with the order: points_to_use on top would
    be a second lock of the same account in one transaction. Refused before any write."""
    reward(cash_fen=500)
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "mall-key-0009", body(points_to_use=100))
    assert refused.value.details[0]["field"] == "points_to_use"
    assert state() == (3, 0, 1000, 0)


def test_a_points_only_reward_is_paid_at_once(reward):
    reward(cash_fen=0)
    order, _ = orders.place(ME, "mall-key-0002", body())
    assert order.status == "paid" and order.total_fen == 0
    deliver_events()
    assert state() == (2, 1, 700, 0)
    assert points.balance("c-1").balance == 700


def test_cancelling_the_unpaid_order_gives_everything_back_once(reward):
    reward(cash_fen=500)
    order, _ = orders.place(ME, "mall-key-0003", body())
    orders.cancel(ME, order.order_id, "changed my mind")
    deliver_events()
    assert state() == (3, 0, 1000, 0)
    assert store_stock() == 10
    assert MallRedemptionModel.get(order.order_id).state == "given_back"
    deliver_events()  # every event again
    assert state() == (3, 0, 1000, 0)


def test_an_expired_order_gives_everything_back(reward, monkeypatch):
    reward(cash_fen=500)
    order, _ = orders.place(ME, "mall-key-0004", body())
    assert orders.expire_due(int(time.time()) + 3600) == 1
    deliver_events()
    assert state() == (3, 0, 1000, 0)
    assert OrderModel.get(order.order_id).status == "expired"


def test_a_paid_points_only_order_cancelled_returns_its_points(reward):
    reward(cash_fen=0)
    order, _ = orders.place(ME, "mall-key-0005", body())
    deliver_events()
    orders.cancel(ME, order.order_id, "store out of it")
    deliver_events()
    assert state() == (3, 0, 1000, 0)
    deliver_events()
    assert points.balance("c-1").balance == 1000


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"items": [{"sku": "100", "qty": 2}]}, "reward_items"),
        ({"items": [{"sku": "101", "qty": 1}]}, "reward_items"),
        ({"coupon_ids": ["t:x"]}, "validation_failed"),
    ],
)
def test_a_reward_order_is_the_rewards_product_alone(reward, extra, code):
    reward(cash_fen=500)
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "mall-key-0006", body(**extra))
    assert refused.value.code == code
    assert state() == (3, 0, 1000, 0) and OrderModel.count() == 0


def test_refusals_take_nothing(reward):
    reward(cash_fen=0, pts=600, limit=1)
    orders.place(ME, "mall-key-0007", body())
    deliver_events()
    with pytest.raises(ApiError) as refused:
        orders.place(ME, "mall-key-0008", body())
    assert refused.value.code == "reward_limit_reached"
    assert state() == (2, 1, 400, 0)
    assert OrderModel.count() == 1


def test_too_few_points_is_refused(reward):
    reward(cash_fen=0, pts=5000)
    with pytest.raises(ApiError) as refused:
        orders.place(ME, "mall-key-0009", body())
    assert refused.value.code == "insufficient_points"
    assert state() == (3, 0, 1000, 0) and OrderModel.count() == 0


def test_a_coupon_reward_is_not_an_order(reward):
    from tests.api.test_mall import template

    mall.create_reward(HQ, ms.RewardCreate(reward_id="rw-c", kind="coupon", name="券",
                                           template_id=template(), points=10, stock=1))  # fmt: skip
    with pytest.raises(ApiError) as refused:
        orders.place(ME, "mall-key-0010", body(reward_id="rw-c"))
    assert refused.value.code == "reward_is_coupon"
