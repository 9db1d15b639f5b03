"""A member day that belongs to a campaign (issue 16): its multiplier is recorded on the
order with the campaign, for the points cost accrued at completion; a member day of a
campaign that is not spending gives nothing. Placing stays at two AWS calls once the
live campaigns are cached."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.campaign_budgets import live
from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.kernel import clock
from chalicelib.orders.models import OrderModel
from chalicelib.promotions import service as promotion_service
from chalicelib.promotions.models import PromotionModel

from tests.api.test_member_day import member_day, members, now  # noqa: F401 (fixtures)
from tests.api.test_orders_api import cart, place

QUOTE = "/orders/quote"


def in_campaign(state: str) -> None:
    at = clock.now()
    starts = clock.iso(at - timedelta(days=1))
    CampaignModel(
        "CMP-md",
        name="会员日活动",
        grade="B",
        state=state,
        starts_at=starts,
        ends_at=clock.iso(at + timedelta(days=1)),
        starts_key=starts_key(starts, "CMP-md"),
        budget_fen=100_000,
        left_fen=100_000,
        created_by="hq-admin",
        created_at=starts,
        updated_at=starts,
    ).save()
    PromotionModel("md-18").update(actions=[PromotionModel.campaign_id.set("CMP-md")])
    promotion_service.forget_active_cache()
    live.forget_cache()


def test_the_order_records_the_campaign_of_its_member_days_multiplier(
    api,
    members,  # noqa: F811
    now,  # noqa: F811
    aws_calls,
):
    member_day(api, points_multiplier=2)
    in_campaign("live")
    body = cart(("100", 3), coupon_ids=[])
    status, q = api.call("POST", QUOTE, body, members["c-2"])
    assert status == 200 and q["points_multiplier"]["multiplier"] == 2.0, q
    aws_calls.clear()
    status, order = place(api, members["c-2"], {**body, "expected_total_fen": q["total_fen"]})
    assert status == 201, order
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]  # the campaigns are cached
    stored = OrderModel.get(order["order_id"])
    assert (stored.points_multiplier, stored.points_campaign_id) == ("2", "CMP-md")


@pytest.mark.parametrize("state", ["draft", "ended"])
def test_a_member_day_of_a_campaign_not_spending_gives_nothing(
    api,
    members,  # noqa: F811
    now,  # noqa: F811
    state,
):
    member_day(api, points_multiplier=2, percent_off=5)
    in_campaign(state)
    status, q = api.call("POST", QUOTE, cart(("100", 3), coupon_ids=[]), members["c-2"])
    assert status == 200, q
    assert q["points_multiplier"] is None and q["discounts"] == []


def test_an_order_on_a_member_day_without_a_campaign_records_none(
    api,
    members,  # noqa: F811
    now,  # noqa: F811
):
    member_day(api, points_multiplier=2)
    status, order = place(api, members["c-2"], cart(("100", 3), coupon_ids=[]))
    assert status == 201, order
    assert OrderModel.get(order["order_id"]).points_campaign_id is None
