"""Subscription delivery (周期购) as use cases on in-process moto: subscribe, pay
through the payment callback (a replayed notice changes nothing), the daily job makes
each delivery's order once (run twice: one order), skip before the cutoff, out of stock
refunds the delivery's share, cancel refunds the unused deliveries exactly."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict
from chalicelib.orders import payments
from chalicelib.orders.models import OrderModel, PaymentModel, RefundModel
from chalicelib.orders.payment_providers import PaymentNotice
from chalicelib.printing.models import PrintJobModel
from chalicelib.subscriptions import daily, service
from chalicelib.subscriptions import schemas as s
from chalicelib.subscriptions.models import SubscriptionDeliveryModel
from chalicelib.subscriptions.rules import ZONE

HQ = Principal("hq-admin", "hq_admin")
C1 = Principal("c-1", CUSTOMER)
ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号",
    "lat": 31.224,
    "lng": 121.446,
}


def at(text: str):
    """A local (Asia/Shanghai) moment."""
    return clock.as_of(datetime.fromisoformat(text).replace(tzinfo=ZONE))


def plan(**over) -> str:
    body = {
        "name": "每日鲜奶",
        "lines": [{"sku": "100", "qty": 1}, {"sku": "101", "qty": 2}],
        "frequency": "daily",
        "deliveries": 3,
        "window": "07:00-09:00",
        "price_fen": 1000,
        "stores": ["sh-a"],
        **over,
    }
    return service.create_plan(HQ, msgspec.convert(body, s.SubscriptionPlanIn)).plan_id


def subscribe(plan_id: str, first: str = "2026-12-07", key: str = "key-00001") -> str:
    body = msgspec.convert(
        {"plan_id": plan_id, "store_id": "sh-a", "address": ADDRESS, "first_date": first},
        s.SubscribeIn,
    )
    sub, _ = service.subscribe(C1, key, body)
    return sub.subscription_id


def pay(sub_id: str, amount: int = 1000, tx: str = "tx-1") -> str:
    n = PaymentNotice("local", tx, sub_id, amount, clock.now_iso())
    return payments.record_payment(n).message


def paid_subscription(**over) -> str:
    with at("2026-12-05T10:00:00"):
        sub_id = subscribe(plan(**over))
        assert pay(sub_id) == "paid"
    return sub_id


def states(sub_id: str) -> dict[str, str]:
    return {d.day: d.state for d in SubscriptionDeliveryModel.query(sub_id)}


def test_paying_activates_with_its_schedule_and_a_replay_changes_nothing(catalogue):
    with at("2026-12-05T10:00:00"):
        sub_id = subscribe(plan())
        assert service.get_view(C1, sub_id).payment is not None  # the sheet, while unpaid
        assert pay(sub_id) == "paid"
        assert pay(sub_id) == "already recorded"
        view = service.get_view(C1, sub_id)
    assert view.status == "active" and view.payment is None
    assert [d.date for d in view.schedule] == ["2026-12-07", "2026-12-08", "2026-12-09"]
    assert {d.state for d in view.schedule} == {"scheduled"}
    assert len(list(PaymentModel.scan())) == 1


def test_a_second_payment_is_refunded_whole(catalogue):
    sub_id = paid_subscription()
    with at("2026-12-05T10:01:00"):
        assert "refunded" in pay(sub_id, tx="tx-2")
    refund = RefundModel.get(f"{sub_id}:late:tx-2")
    assert refund.amount_fen == 1000 and refund.reason == "late_payment"


def test_the_job_makes_each_delivery_once_paid_and_printed(catalogue):
    sub_id = paid_subscription()
    before = int(StoreItemModel.get("sh-a", "101").stock)
    with at("2026-12-06T19:59:00"):
        assert daily.run() == {}  # before the cutoff nothing is ordered
    with at("2026-12-06T20:00:00"):
        assert daily.run() == {"ordered": 1}
        assert daily.run() == {}  # the rerun finds it ordered
        assert daily.order_delivery(sub_id, "2026-12-07") == "moved"
    entry = SubscriptionDeliveryModel.get(sub_id, "2026-12-07")
    order = OrderModel.get(entry.order_id)
    assert order.status == "paid" and order.total_fen == 334 and order.paid_fen == 334
    assert order.payment_id == "local:tx-1"
    assert len([o for o in OrderModel.scan() if o.customer_id == "c-1"]) == 1
    assert PrintJobModel.get(next(iter(order.print_job_ids))).store_id == "sh-a"
    assert int(StoreItemModel.get("sh-a", "101").stock) == before - 2


def test_shares_of_the_orders_add_up_to_the_price(catalogue):
    sub_id = paid_subscription()
    for day in ("2026-12-06T20:00:00", "2026-12-07T20:00:00", "2026-12-08T20:00:00"):
        with at(day):
            daily.run()
    orders = [OrderModel.get(d.order_id) for d in SubscriptionDeliveryModel.query(sub_id)]
    assert sorted(int(o.total_fen) for o in orders) == [333, 333, 334]
    with at("2026-12-09T10:00:00"):
        assert service.get_view(C1, sub_id).status == "completed"


def test_skip_before_the_cutoff_moves_the_delivery_to_the_end(catalogue):
    sub_id = paid_subscription()
    change = s.ChangeIn(action="skip", date="2026-12-08")
    with at("2026-12-06T12:00:00"):
        service.change(C1, sub_id, change)
        service.change(C1, sub_id, change)  # again: nothing more
    assert states(sub_id) == {
        "2026-12-07": "scheduled",
        "2026-12-08": "skipped",
        "2026-12-09": "scheduled",
        "2026-12-10": "scheduled",
    }
    with at("2026-12-06T20:00:00"), pytest.raises(Conflict) as err:
        service.change(C1, sub_id, s.ChangeIn(action="skip", date="2026-12-07"))
    assert err.value.code == "skip_too_late"


def test_out_of_stock_refunds_the_share(catalogue):
    sub_id = paid_subscription()
    StoreItemModel("sh-a", "101").update(actions=[StoreItemModel.stock.set(1)])
    with at("2026-12-06T20:00:00"):
        assert daily.run() == {"refunded": 1}
        assert daily.run() == {}
    entry = SubscriptionDeliveryModel.get(sub_id, "2026-12-07")
    assert entry.state == "refunded" and int(entry.refunded_fen) == 334
    refund = RefundModel.get(f"{sub_id}:2026-12-07:shortage")
    assert refund.amount_fen == 334 and refund.status == "succeeded"
    assert int(StoreItemModel.get("sh-a", "101").stock) == 1  # nothing taken


def test_cancel_refunds_the_unused_deliveries_exactly(catalogue):
    sub_id = paid_subscription()
    with at("2026-12-06T20:00:00"):
        daily.run()  # the first delivery (334) is ordered
        service.change(C1, sub_id, s.ChangeIn(action="cancel"))
        service.change(C1, sub_id, s.ChangeIn(action="cancel"))  # again: nothing more
        view = service.get_view(C1, sub_id)
    assert view.status == "cancelled" and view.refunded_fen == 666
    refund = RefundModel.get(f"{sub_id}:cancel")
    assert refund.amount_fen == 666 and refund.status == "succeeded"
    assert states(sub_id) == {
        "2026-12-07": "ordered",
        "2026-12-08": "cancelled",
        "2026-12-09": "cancelled",
    }
    with at("2026-12-07T20:00:00"):
        assert daily.run() == {}


def test_pause_holds_dates_and_resume_gives_them_new_ones(catalogue):
    sub_id = paid_subscription()
    with at("2026-12-06T12:00:00"):
        service.change(C1, sub_id, s.ChangeIn(action="pause", date="2026-12-08"))
    assert states(sub_id) == {
        "2026-12-07": "scheduled",
        "2026-12-08": "paused",
        "2026-12-09": "paused",
    }
    with at("2026-12-07T20:00:00"):
        # today's delivery (the 7th, caught up) is ordered, the paused 8th is not
        assert daily.run() == {"ordered": 1}
    with at("2026-12-10T09:00:00"):
        service.change(C1, sub_id, s.ChangeIn(action="resume"))
    got = states(sub_id)
    assert got == {"2026-12-07": "ordered", "2026-12-11": "scheduled", "2026-12-12": "scheduled"}
    seqs = sorted(int(d.seq) for d in SubscriptionDeliveryModel.query(sub_id))
    assert seqs == [1, 2, 3]


def test_a_plan_in_a_campaign_that_does_not_spend_is_not_sold(catalogue):
    from chalicelib.campaign_budgets.models import CampaignModel

    def campaign(cid: str, state: str) -> None:
        CampaignModel(
            cid,
            name=cid,
            state=state,
            grade="B",
            starts_at="2026-12-01T00:00:00Z",
            ends_at="2027-01-01T00:00:00Z",
            starts_key="2026-12-01T00:00:00Z",
            budget_fen=100_000,
            left_fen=100_000,
            created_by="hq-admin",
            created_at="2026-11-01T00:00:00Z",
            updated_at="2026-11-01T00:00:00Z",
        ).save()

    campaign("C-draft", "draft")
    pid = plan(campaign_id="C-draft")
    assert pid in list(CampaignModel.get("C-draft").mechanic_ids)
    with at("2026-12-05T10:00:00"), pytest.raises(Conflict) as err:
        subscribe(pid)
    assert err.value.code == "plan_not_on_sale"
    # a live campaign sells it, and its discount against list prices is the campaign's
    # cost, accrued once however often the payment is notified
    campaign("C-live", "live")
    with at("2026-12-05T10:00:00"):
        sub_id = subscribe(plan(campaign_id="C-live"), key="key-00002")
        assert pay(sub_id, tx="tx-9") == "paid"
        assert pay(sub_id, tx="tx-9") == "already recorded"
    # 3 deliveries of 1 x 100 (1000 fen) + 2 x 101 (1001 fen): 9006 fen, sold for 1000
    c = CampaignModel.get("C-live")
    assert int(c.discounts_fen) == 8006 and int(c.left_fen) == 100_000 - 8006


def test_the_demo_seed_pays_one_subscriber_once(aws):
    """The demo's month of milk: a plan and one paid subscriber; a second run writes
    nothing new."""
    from chalicelib.catalogue.imports import apply_products, apply_store_items
    from chalicelib.catalogue.rules import parse_product, parse_store_item
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store
    from chalicelib.subscriptions.models import SubscriptionModel, SubscriptionPlanModel

    from infra.local import seed
    from tests.api.conftest import STORE_A

    create_store(msgspec.convert({**STORE_A, "store_id": "sh-jingan"}, StoreCreate))
    apply_products(
        [
            parse_product(
                {
                    "sku": "500001",
                    "name": "鲜牛奶",
                    "category1": "乳品烘焙",
                    "category2": "牛奶",
                    "unit": "瓶",
                },
                2,
            )
        ]
    )
    apply_store_items(
        [
            (
                2,
                parse_store_item(
                    {"store_id": "sh-jingan", "sku": "500001", "price_fen": 1590, "stock": 100}, 2
                ),
            )
        ],
        {},
    )
    seed._seed_subscriptions()
    seed._seed_subscriptions()
    assert SubscriptionPlanModel.count(seed.DEMO_MILK_PLAN) == 1
    subs = list(SubscriptionModel.scan())
    assert len(subs) == 1 and subs[0].status == "active"
    assert len(list(SubscriptionDeliveryModel.query(subs[0].subscription_id))) == 30
    assert len(list(PaymentModel.scan())) == 1


def test_a_new_address_applies_to_deliveries_not_yet_ordered(catalogue):
    sub_id = paid_subscription()
    with at("2026-12-06T20:00:00"):
        daily.run()  # the 7th is ordered to the first address
        service.change(C1, sub_id, s.ChangeIn(action="change_address", fulfilment="pickup"))
    with at("2026-12-07T20:00:00"):
        daily.run()
    got = {
        d.day: OrderModel.get(d.order_id)
        for d in SubscriptionDeliveryModel.query(sub_id)
        if d.order_id
    }
    assert got["2026-12-07"].fulfilment == "delivery"
    assert got["2026-12-08"].fulfilment == "pickup" and got["2026-12-08"].pickup_code
