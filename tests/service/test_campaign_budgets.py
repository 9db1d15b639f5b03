"""A campaign's live budget through real orders (orders/service.place, the same code the
API runs) against a moto server: the spend taken in the order's transaction, split by
funder, given back exactly once on cancel, expiry and full refund; a campaign not
spending applies nothing; 100 concurrent orders against a budget for 10 discounts never
spend more than the budget."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from chalicelib.campaign_budgets import live
from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel
from chalicelib.promotions.models import PromotionModel

from tests.publishing import publish_promotion
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

OFF_FEN = 500  # 满20减5 on one unit at 25.00


def campaign(campaign_id: str = "CMP1", budget_fen: int = 10 * OFF_FEN, **over) -> CampaignModel:
    """A campaign item as the campaigns feature would store it (its CRUD is elsewhere)."""
    now = clock.now()
    starts = over.pop("starts_at", clock.iso(now - timedelta(hours=1)))
    c = CampaignModel(
        campaign_id,
        name="双11 鲜果节",
        grade="S",
        state=over.pop("state", "live"),
        starts_at=starts,
        ends_at=over.pop("ends_at", clock.iso(now + timedelta(days=1))),
        starts_key=starts_key(starts, campaign_id),
        budget_hq_fen=budget_fen,
        budget_fen=budget_fen,
        left_fen=over.pop("left_fen", budget_fen),
        created_by="hq-admin",
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
        **over,
    )
    c.save()
    live.forget_cache()
    return c


def tiered_in(campaign_id: str | None, funded_by: str = "hq") -> str:
    """A 满20减5 tiered promotion at the store, in ``campaign_id``'s campaign."""
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions.schemas import PromotionCreate

    now = clock.now()
    hq = customer(0).__class__("hq-admin", "hq_admin")
    view = publish_promotion(
        promotions.create(
            hq,
            msgspec.convert(
                {
                    "kind": "tiered",
                    "name": "满20减5",
                    "starts_at": clock.iso(now - timedelta(minutes=1)),
                    "ends_at": clock.iso(now + timedelta(hours=2)),
                    "tiers": [{"threshold_fen": 2000, "off_fen": OFF_FEN}],
                },
                PromotionCreate,
            ),
        )
    )
    PromotionModel(view.promotion_id).update(
        actions=[
            PromotionModel.campaign_id.set(campaign_id),
            PromotionModel.funded_by.set(funded_by),
        ]
    )
    promotions.forget_active_cache()
    return view.promotion_id


def fresh(campaign_id: str = "CMP1") -> CampaignModel:
    return CampaignModel.get(campaign_id, consistent_read=True)


def place(n: int, key: str):
    from chalicelib.orders import service as orders

    order, _ = orders.place(customer(n), key, cart())
    return order


def test_an_order_spends_its_discount_from_the_campaign_split_by_funder(shop):
    shop(10)
    campaign()
    tiered_in("CMP1", funded_by="supplier")
    order = place(1, "cmp-spend-0001")
    assert [d.amount_fen for d in order.discounts] == [OFF_FEN]
    c = fresh()
    assert int(c.left_fen) == 10 * OFF_FEN - OFF_FEN
    assert (int(c.discounts_fen), int(c.spent_supplier_fen), int(c.spent_hq_fen)) == (
        OFF_FEN,
        OFF_FEN,
        0,
    )
    assert int(c.spending_orders) == 1
    [use] = order_flow.get(order.order_id).campaign_uses
    assert (use.campaign_id, int(use.amount_fen), int(use.supplier_fen)) == (
        "CMP1",
        OFF_FEN,
        OFF_FEN,
    )


def test_an_order_without_campaigns_records_no_campaign_use(shop):
    shop(10)
    campaign()
    tiered_in(None)
    order = place(1, "cmp-none-0001")
    assert [d.amount_fen for d in order.discounts] == [OFF_FEN]
    assert order_flow.get(order.order_id).detail.campaign_uses is None
    assert int(fresh().left_fen) == 10 * OFF_FEN


@pytest.mark.parametrize("state", ["draft", "ended"])
def test_a_campaign_not_spending_applies_no_discount_and_is_not_written(shop, state):
    shop(10)
    campaign(state=state)
    tiered_in("CMP1")
    order = place(1, f"cmp-{state}-0001")
    assert order.discounts == [] and order.total_fen == PRICE_FEN
    assert int(fresh().left_fen) == 10 * OFF_FEN


def test_a_campaign_outside_its_window_applies_no_discount(shop):
    shop(10)
    now = clock.now()
    campaign(
        starts_at=clock.iso(now + timedelta(hours=1)), ends_at=clock.iso(now + timedelta(days=1))
    )
    tiered_in("CMP1")
    assert place(1, "cmp-window-0001").discounts == []


def test_a_quote_explains_a_campaign_budget_used_up(shop):
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import QuoteRequest

    shop(10)
    campaign(left_fen=OFF_FEN - 1)
    tiered_in("CMP1")
    items = [{"sku": SKU, "qty": 1}]
    body = msgspec.convert(
        {"store_id": STORE, "fulfilment": "pickup", "items": items}, QuoteRequest
    )
    quote = orders.quote(customer(1), body)
    assert quote.discounts == []
    assert any("campaign_budget_exhausted" in n for n in quote.notes)


def test_a_budget_spent_after_the_quote_refuses_the_order_with_409_quote_again(shop):
    shop(10)
    campaign()
    tiered_in("CMP1")
    live.spending()  # the cache says 50.00 left
    CampaignModel("CMP1").update(actions=[CampaignModel.left_fen.set(OFF_FEN - 1)])
    with pytest.raises(ApiError) as err:
        place(1, "cmp-moved-0001")
    assert (err.value.status, err.value.code) == (409, "campaign_budget_exhausted")
    assert int(fresh().left_fen) == OFF_FEN - 1
    assert stock() == 10  # nothing of the order was written
    # the refusal dropped the stale cache: quoting again here prices without the discount
    assert place(1, "cmp-moved-0002").discounts == []


def test_cancelling_an_unpaid_order_gives_the_spend_back_once(shop):
    from chalicelib.orders import service as orders

    shop(10)
    campaign()
    tiered_in("CMP1", funded_by="store")
    order = place(1, "cmp-cancel-0001")
    orders.cancel(customer(1), order.order_id, "changed my mind")
    c = fresh()
    assert (int(c.left_fen), int(c.discounts_fen), int(c.spent_store_fen)) == (10 * OFF_FEN, 0, 0)
    assert int(c.spending_orders) == 0
    with pytest.raises(ApiError):  # a replay of the cancel changes nothing
        orders.cancel(customer(1), order.order_id, "again")
    assert int(fresh().left_fen) == 10 * OFF_FEN


def test_an_unpaid_order_expiring_gives_the_spend_back_once(shop):
    from chalicelib.orders import service as orders

    shop(10)
    campaign()
    tiered_in("CMP1")
    place(1, "cmp-expire-0001")
    assert int(fresh().left_fen) == 9 * OFF_FEN
    later = int((clock.now() + timedelta(days=1)).timestamp())
    assert orders.expire_due(now_epoch=later) == 1
    assert orders.expire_due(now_epoch=later) == 0
    c = fresh()
    assert (int(c.left_fen), int(c.discounts_fen), int(c.spending_orders)) == (10 * OFF_FEN, 0, 0)


def test_a_paid_order_cancelled_in_full_gives_the_spend_back(shop):
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.payment_providers import provider

    shop(10)
    campaign()
    tiered_in("CMP1")
    order = place(1, "cmp-refund-0001")
    headers, body = provider("local").make_notification(order.order_id, order.total_fen)
    payments.notify("local", headers, body)
    assert OrderModel.get(order.order_id, consistent_read=True).status == "paid"
    orders.cancel(customer(1), order.order_id, "refund please")
    c = fresh()
    assert (int(c.left_fen), int(c.discounts_fen)) == (10 * OFF_FEN, 0)


def test_a_hundred_concurrent_orders_against_a_budget_for_ten_never_overspend(shop):
    """Every order is priced from the same cached budget (50.00 left): each asks for the
    discount, the campaign's conditional update lets exactly ten through, the others are
    told to quote again (409) or, if the item stayed busy, to retry (503)."""
    shop(1000)
    campaign(budget_fen=10 * OFF_FEN)
    tiered_in("CMP1")
    live.spending()  # every container has it cached during the rush

    results = race(100, lambda i: place(100 + i, f"cmp-storm-{i:04d}"))

    placed = [r for r in results if not isinstance(r, ApiError)]
    discounted = [o for o in placed if o.discounts]
    assert len(discounted) <= 10
    assert all(o.discounts[0].amount_fen == OFF_FEN for o in discounted)
    assert set(errors_of(results)) <= {"campaign_budget_exhausted", "campaign_busy"}
    assert len(placed) + sum(errors_of(results).values()) == 100
    c = fresh()
    assert int(c.left_fen) >= 0
    assert int(c.discounts_fen) == len(discounted) * OFF_FEN == 10 * OFF_FEN - int(c.left_fen)
    stored = [order_flow.get(o.order_id) for o in OrderModel.scan()]
    assert sum(int(u.amount_fen) for o in stored for u in o.campaign_uses or ()) == int(
        c.discounts_fen
    )
    print("storm outcomes:", len(discounted), "discounted,", dict(errors_of(results)))
    # With the budget gone, the next quote applies no discount: re-quoting works.
    live.forget_cache()
    assert place(999, "cmp-storm-after").discounts == []


# --- the 80 % alert and costs after the fact ----------------------------------------


def test_the_80_percent_alert_is_recorded_once_by_twenty_racing_checks():
    from chalicelib.campaign_budgets import alerts

    campaign(budget_fen=10_000, left_fen=2_000)  # 80 % spent
    results = race(20, lambda _: alerts.check("CMP1"))
    assert len([r for r in results if r is not None]) == 1
    assert fresh().alerted_at == next(r for r in results if r is not None)


def test_below_80_percent_no_alert_is_recorded():
    from chalicelib.campaign_budgets import alerts

    campaign(budget_fen=10_000, left_fen=2_001)  # 79.99 % spent
    assert alerts.check("CMP1") is None
    assert fresh().alerted_at is None


def test_order_paid_of_a_campaign_order_records_the_alert_through_its_subscriber(shop):
    """The eighth order of a budget for ten takes the spend to 80 %: the order.paid
    subscriber (the dispatcher as the stream handler runs it) records the alert."""
    from chalicelib.events import dispatch, registry
    from chalicelib.events import types as t

    shop(10)
    campaign()
    tiered_in("CMP1")
    orders = [place(1, f"cmp-alert-{i:04d}") for i in range(8)]
    assert fresh().alerted_at is None

    def paid(order_id: str, campaign_ids: list[str]) -> t.OrderPaid:
        return t.OrderPaid(
            event_id=f"order.paid:{order_id}",
            occurred_at=clock.now_iso(),
            order_id=order_id,
            customer_id=customer(1).subject,
            store_id=STORE,
            fulfilment="pickup",
            paid_fen=2000,
            payment_id=None,
            lines=[],
            campaign_ids=campaign_ids,
        )

    reg = registry.loaded()
    sub = reg.by_name["campaign_budgets.budget_alert"]
    assert not sub.concerns(paid("O-none", []))  # other orders are not looked at
    dispatch.deliver(paid(orders[-1].order_id, ["CMP1"]), reg)
    first = fresh().alerted_at
    assert first is not None
    dispatch.deliver(paid(orders[-2].order_id, ["CMP1"]), reg)  # another paid order later
    assert fresh().alerted_at == first


def test_accrue_is_once_per_key_and_may_take_the_budget_below_zero_which_stops_discounts(shop):
    from chalicelib.campaign_budgets import repo

    shop(10)
    campaign(budget_fen=1_000)
    tiered_in("CMP1")
    results = race(10, lambda _: repo.accrue("CMP1", "prize", 1_200, "prize:O1"))
    assert len([r for r in results if r is not None]) == 1
    c = fresh()
    assert (int(c.left_fen), int(c.prizes_fen), int(c.spent_hq_fen)) == (-200, 1_200, 1_200)
    assert c.alerted_at is not None  # the accrual took the spend past 80 %
    assert repo.accrue("CMP1", "commission", 100, "commission:O1") is not None
    assert int(fresh().commission_fen) == 100
    live.forget_cache()
    assert place(1, "cmp-below-0001").discounts == []  # left below zero: discounts stop


def test_a_member_days_extra_points_are_accrued_to_its_campaign_once_on_completion():
    """order.completed carrying a member day's 2x from a campaign's member day: the extra
    points (base rate: 1 point per yuan) on 200.00 kept are 200 points, at 100 points per
    yuan worth 2.00; a redelivery accrues nothing more; orders without it are not seen."""
    from chalicelib.events import dispatch, registry
    from chalicelib.events import types as t

    campaign(budget_fen=10_000)

    def completed(order_id: str, **over) -> t.OrderCompleted:
        return t.OrderCompleted(
            event_id=f"order.completed:{order_id}",
            occurred_at=clock.now_iso(),
            order_id=order_id,
            customer_id="c-1",
            store_id=STORE,
            paid_fen=21_000,
            refunded_fen=1_000,
            lines=[],
            **over,
        )

    reg = registry.loaded()
    sub = reg.by_name["campaign_budgets.points_cost"]
    assert not sub.concerns(completed("O-plain", points_multiplier="2"))
    event = completed("O-md", points_multiplier="2", points_campaign_id="CMP1")
    dispatch.deliver(event, reg)
    dispatch.deliver(event, reg)
    c = fresh()
    assert (int(c.points_cost_fen), int(c.left_fen)) == (200, 10_000 - 200)
