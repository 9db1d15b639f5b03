"""Races on the points mall against a moto server (issue 14 item 10): a reward with 10
units and 100 concurrent redeemers gives exactly 10, points taken 10 times; the same
Idempotency-Key sent many times at once makes one redemption. The tables are checked
afterwards, not only what the callers were told."""

from __future__ import annotations

import msgspec
from chalicelib.auth.principal import Principal
from chalicelib.coupons import schemas as cs
from chalicelib.coupons import service as coupons
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.loyalty import mall, points
from chalicelib.loyalty import mall_schemas as s
from chalicelib.loyalty.models import (
    MallCounterModel,
    MallRedemptionModel,
    MallRewardModel,
    PointsEntryModel,
)

from tests.publishing import publish_template
from tests.service.test_points_concurrency import race

HQ = Principal("hq-admin", "hq_admin")


def coupon_reward(stock: int, limit: int = 1) -> str:
    tid = publish_template(coupons.create_template(
        HQ,
        msgspec.convert(
            {"name": "满99减20", "kind": "amount_off", "threshold_fen": 9900,
             "amount_off_fen": 2000, "days_after_claim": 30, "claimable": False,
             "per_customer_limit": 10},
            cs.TemplateCreate,
        ),
    )).template_id  # fmt: skip
    body = s.RewardCreate(
        reward_id="rw-race", kind="coupon", name="满99减20券", template_id=tid, points=100,
        stock=stock, per_member_limit=limit,
    )  # fmt: skip
    mall.create_reward(HQ, body)
    return tid


def seed(customer_id: str, n: int = 150) -> None:
    points.award(customer_id, n, ref="task:seed", kind="earn", reason="seed",
                 occurred_at=clock.now_iso())  # fmt: skip


def test_ten_units_and_a_hundred_redeemers_give_ten(ready):
    tid = coupon_reward(stock=10)
    members = [f"c-{i:03d}" for i in range(100)]
    for c in members:
        seed(c)

    def redeem(i: int):
        who = Principal(members[i], "customer")
        return mall.redeem(who, f"key-{i:06d}", s.RedemptionRequest(reward_id="rw-race"))

    results = race(100, redeem)
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(ok) == 10, [r for r in results if not isinstance(r, tuple)][:3]
    assert len(refused) == 90 and {r.code for r in refused} == {"reward_sold_out"}
    # the tables: 10 units gone, 10 redemptions, 10 coupons, points taken 10 times
    reward = MallRewardModel.get("rw-race", consistent_read=True)
    assert (int(reward.stock), int(reward.redeemed_count)) == (0, 10)
    assert MallRedemptionModel.count() == 10
    assert len(list(CouponModel.scan())) == 10
    assert int(CouponTemplateModel.get(tid, consistent_read=True).issued_count) == 10
    spends = [e for c in members for e in PointsEntryModel.query(c) if e.kind == "spend"]
    assert len(spends) == 10 and sum(int(e.delta) for e in spends) == -1000
    winners = {r[0].redemption_id for r in ok}
    assert {e.entry_key.removeprefix("mall:") for e in spends} == winners
    assert sum(points.balance(c).spendable for c in members) == 100 * 150 - 1000


def test_the_same_key_many_times_at_once_is_one_redemption(ready):
    coupon_reward(stock=10, limit=5)
    seed("c-dup", 1000)
    who = Principal("c-dup", "customer")
    results = race(
        20, lambda _: mall.redeem(who, "key-same-0001", s.RedemptionRequest(reward_id="rw-race"))
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r[0].redemption_id for r in results}) == 1
    assert sum(1 for r in results if r[1]) == 1  # one created, the rest replays
    assert MallRedemptionModel.count() == 1
    assert int(MallRewardModel.get("rw-race", consistent_read=True).stock) == 9
    assert int(MallCounterModel.get("rw-race#c-dup", consistent_read=True).redeemed) == 1
    assert points.balance("c-dup").spendable == 900
    assert len(list(CouponModel.by_customer.query("c-dup"))) == 1


def test_one_member_racing_different_keys_stays_within_the_limit(ready):
    coupon_reward(stock=10, limit=3)
    seed("c-greedy", 1000)
    who = Principal("c-greedy", "customer")
    results = race(
        10, lambda i: mall.redeem(who, f"key-g-{i:04d}", s.RedemptionRequest(reward_id="rw-race"))
    )
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 3, results
    assert int(MallCounterModel.get("rw-race#c-greedy", consistent_read=True).redeemed) == 3
    assert points.balance("c-greedy").spendable == 700
    assert int(MallRewardModel.get("rw-race", consistent_read=True).stock) == 7


def test_a_product_reward_placed_as_orders_by_thirty_members_at_once_gives_its_units(ready):
    """The order path: each order's placing transaction takes the reward's unit, the
    member's redemption and locks its points; 5 units and 30 racing members give 5
    orders, and exactly their points are locked."""
    from chalicelib.orders import service as orders
    from chalicelib.orders.models import OrderModel
    from chalicelib.orders.schemas import PlaceOrder

    from tests.order_steps import seed_catalogue

    seed_catalogue(("sh-a",), stock=100, count=3)
    mall.create_reward(
        HQ,
        s.RewardCreate(reward_id="rw-race", kind="product", name="商品0 兑换", sku="100",
                       points=100, cash_fen=0, stock=5, per_member_limit=1),
    )  # fmt: skip
    members = [f"c-{i:03d}" for i in range(30)]
    for c in members:
        seed(c)
    body = msgspec.convert(
        {"store_id": "sh-a", "fulfilment": "pickup", "items": [{"sku": "100", "qty": 1}],
         "reward_id": "rw-race"},
        PlaceOrder,
    )  # fmt: skip

    def place(i: int):
        return orders.place(Principal(members[i], "customer"), f"key-p-{i:04d}", body)

    results = race(30, place)
    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, ApiError)]
    assert len(ok) == 5, [r for r in results if not isinstance(r, tuple)][:3]
    assert len(refused) == 25 and {r.code for r in refused} == {"reward_sold_out"}
    reward = MallRewardModel.get("rw-race", consistent_read=True)
    assert (int(reward.stock), int(reward.redeemed_count)) == (0, 5)
    assert OrderModel.count() == 5 and MallRedemptionModel.count() == 5
    held = sum(points.balance(c).locked for c in members)
    spent = sum(1 for c in members for e in PointsEntryModel.query(c) if e.kind == "spend")
    assert held + 100 * spent == 500  # locked, or spent once the (instant) payment's event ran
