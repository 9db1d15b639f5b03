"""Lotteries through real paid orders against a moto server: eligibility, one win per
customer, the prize cap, the draw exactly once (replayed, concurrent, resumed after a
crash), the budget accrued once, and the proof recomputed from the revealed seed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import msgspec
import pytest
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets.models import AccrualModel, CampaignModel
from chalicelib.coupons.models import NotificationModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.lottery import rules, service
from chalicelib.lottery.schemas import LotteryBody
from chalicelib.orders.models import OrderDetailModel, OrderModel, RefundModel

from tests.service.test_campaign_budgets import campaign
from tests.service.test_order_concurrency import STORE, cart, customer, race
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")
HQ = Principal("hq-admin", "hq_admin")
PRICE = 2500


def paid_order(n: int, qty: int = 1) -> str:
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders

    order, _ = orders.place(customer(n), f"lot-{n}-{clock.now_iso_ms()}", cart(qty))
    assert payments.simulate(customer(n), order.order_id).code == "SUCCESS"
    return order.order_id


def lottery(winners: int = 10, **over) -> str:
    now = clock.now()
    body = {
        "campaign_id": "CMP1",
        "name": "免单抽奖",
        "starts_at": clock.iso(now - timedelta(minutes=30)),
        "ends_at": clock.iso(now + timedelta(hours=1)),
        "draw_at": clock.iso(now + timedelta(hours=1)),
        "winners": winners,
        **over,
    }
    return service.create(HQ, msgspec.convert(body, LotteryBody)).lottery_id


def after_window():
    return clock.as_of(clock.now() + timedelta(hours=2))


def lottery_refunds() -> list[RefundModel]:
    return [r for r in RefundModel.scan() if r.reason == "lottery"]


@pytest.fixture
def setup(shop):
    shop(100)
    campaign("CMP1", budget_fen=100_000)


def test_one_win_per_customer_full_refunds_out_and_the_draw_runs_once(setup):
    from chalicelib.orders import service as orders

    lid = lottery(winners=10)
    assert "secret" not in msgspec.json.encode(service.list_lotteries()).decode()
    mine = [paid_order(0) for _ in range(3)]  # one customer, three orders
    others = [paid_order(n) for n in (1, 2, 3)]
    cancelled = paid_order(4)
    orders.cancel(customer(4), cancelled, "changed my mind")  # refunded in full

    with after_window():
        first = service.draw(HQ, lid)
        again = service.draw(HQ, lid)

    assert first.state == "drawn" and again.winners == first.winners
    won = [w.order_code for w in first.winners]
    assert len(won) == 4  # customers 0..3, one win each; customer 4's order is out
    assert len(set(won) & set(mine)) == 1 and set(others) <= set(won)
    assert cancelled not in won and first.entrants_count == 6
    refunds = lottery_refunds()
    assert sorted(r.order_id for r in refunds) == sorted(won)
    assert all(r.status == "succeeded" and int(r.amount_fen) == PRICE for r in refunds)
    for order_id in won:
        order = OrderModel.get(order_id, consistent_read=True)
        assert int(order.refunded_fen) == int(order.paid_fen)  # the whole order back
    c = CampaignModel.get("CMP1", consistent_read=True)
    assert int(c.prizes_fen) == 4 * PRICE and int(c.left_fen) == 100_000 - 4 * PRICE
    assert AccrualModel.count() == 4
    notified = [n for n in NotificationModel.scan() if n.kind == "lottery_won"]
    assert sorted(n.customer_id for n in notified) == sorted(
        OrderModel.get(o).customer_id for o in won
    )


def test_the_proof_recomputes_the_winners_from_the_revealed_seed(setup):
    lid = lottery(winners=2)
    public = service.public(lid)
    assert public.seed is None and public.winners == []
    ids = [paid_order(n) for n in range(6)]
    with after_window():
        drawn = service.draw(HQ, lid)
    proof = service.proof(lid)
    seed = bytes.fromhex(proof.seed)
    assert rules.seed_hash(seed) == proof.seed_hash == public.seed_hash
    entrants = [e.order_id for e in proof.entrants]
    assert sorted(entrants) == sorted(ids)
    assert rules.entrants_hash(entrants) == proof.entrants_hash
    holders = {e.order_id: e.holder for e in proof.entrants}
    recomputed = rules.draw(seed, entrants, proof.winners_n, holders)
    assert [w.order_id for w in recomputed] == [w.order_code for w in drawn.winners]
    assert [w.score for w in recomputed] == [w.score for w in proof.winners]
    after = service.public(lid)
    assert after.seed == proof.seed and len(after.winners) == 2


def test_orders_above_an_amount_and_the_prize_cap(setup):
    lid = lottery(winners=5, eligibility="min_amount", min_fen=2 * PRICE, cap_fen=3000)
    small = paid_order(1, qty=1)
    big = paid_order(2, qty=2)
    with after_window():
        drawn = service.draw(HQ, lid)
    assert [w.order_code for w in drawn.winners] == [big]
    assert small not in {w.order_code for w in drawn.winners}
    (refund,) = lottery_refunds()
    assert int(refund.amount_fen) == 3000 and refund.status == "succeeded"
    order = OrderModel.get(big, consistent_read=True)
    assert int(order.refunded_fen) == 3000
    detail = OrderDetailModel.get(big, consistent_read=True)
    assert sum(int(line.refunded_fen) for line in detail.lines) == 3000
    assert int(CampaignModel.get("CMP1", consistent_read=True).prizes_fen) == 3000
    # returning every unit afterwards refunds only what the order still holds: never
    # more than was paid in all (the prize took 3000 without units)
    from chalicelib.orders import refunds

    order.attach(detail)
    plan = refunds.plan(order, "r-after-prize", "return", {0: 2})
    assert plan is not None and plan.amount_fen == int(order.paid_fen) - 3000


def test_members_only_keeps_customers_with_a_running_paid_card(setup):
    from chalicelib.loyalty.paid_models import PaidCardModel

    lid = lottery(winners=5, eligibility="members")
    PaidCardModel(
        customer(1).subject,
        plan_id="p",
        plan_name="省钱卡",
        started_at=clock.iso(clock.now() - timedelta(days=1)),
        ends_at=clock.iso(clock.now() + timedelta(days=30)),
    ).save()
    member = paid_order(1)
    paid_order(2)
    with after_window():
        drawn = service.draw(HQ, lid)
    assert [w.order_code for w in drawn.winners] == [member]


def test_a_segment_keeps_its_customers(setup, monkeypatch):
    from chalicelib.customers.models import SegmentModel

    SegmentModel("segment", "seg1", name="老客", filter_json="{}").save()
    lid = lottery(winners=5, eligibility="segment", segment_id="seg1")
    inside = paid_order(3)
    paid_order(4)
    monkeypatch.setattr(service, "_segment_customers", lambda sid: {customer(3).subject})
    with after_window():
        drawn = service.draw(HQ, lid)
    assert [w.order_code for w in drawn.winners] == [inside]


def test_not_before_the_draw_time(setup):
    lid = lottery()
    with pytest.raises(ApiError) as err:
        service.draw(HQ, lid)
    assert err.value.code == "lottery_not_due" and err.value.status == 409
    with pytest.raises(ApiError) as err:
        service.proof(lid)
    assert err.value.code == "lottery_not_drawn"


def test_concurrent_draws_pay_each_winner_once(setup):
    lid = lottery(winners=3)
    for n in range(6):
        paid_order(n)
    later = clock.now() + timedelta(hours=2)

    def draw_later(_: int):
        with clock.as_of(later):  # the clock is per thread (a context variable)
            return service.draw(HQ, lid)

    results = race(6, draw_later)
    assert not [r for r in results if isinstance(r, ApiError)], results
    assert len({tuple(w.order_code for w in r.winners) for r in results}) == 1
    refunds = lottery_refunds()
    assert len(refunds) == 3 and Counter(r.order_id for r in refunds).most_common(1)[0][1] == 1
    assert AccrualModel.count() == 3
    c = CampaignModel.get("CMP1", consistent_read=True)
    assert int(c.prizes_fen) == 3 * PRICE


def test_a_crash_mid_draw_resumes_without_paying_twice(setup, monkeypatch):
    from chalicelib.orders import refunds

    lid = lottery(winners=3)
    for n in range(4):
        paid_order(n)
    real = refunds.refund_amount
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("lambda timed out")
        return real(*args, **kwargs)

    monkeypatch.setattr(refunds, "refund_amount", crash_on_second)
    with after_window():
        with pytest.raises(RuntimeError):
            service.draw(HQ, lid)
        assert service.get_model(lid).state == "drawing"
        drawn = service.draw(HQ, lid)
    assert drawn.state == "drawn" and len(drawn.winners) == 3
    assert sorted(r.order_id for r in lottery_refunds()) == sorted(
        w.order_code for w in drawn.winners
    )
    assert int(CampaignModel.get("CMP1", consistent_read=True).prizes_fen) == 3 * PRICE


def test_created_in_its_campaign_and_locked_once_the_window_opens(setup):
    lid = lottery()
    assert lid in CampaignModel.get("CMP1", consistent_read=True).mechanic_ids
    m = service.get_model(lid)
    assert m.seed_hash == rules.seed_hash(bytes.fromhex(m.seed_hex))
    body = msgspec.convert(
        {
            "campaign_id": "CMP1",
            "name": "改名",
            "starts_at": m.starts_at,
            "ends_at": m.ends_at,
            "draw_at": m.draw_at,
            "winners": 3,
        },
        LotteryBody,
    )
    with pytest.raises(ApiError) as err:
        service.update(HQ, lid, body)
    assert err.value.code == "lottery_locked"
    with pytest.raises(ApiError) as err:
        service.create(
            HQ, msgspec.convert({**msgspec.to_builtins(body), "campaign_id": "NOPE"}, LotteryBody)
        )
    assert err.value.code == "campaign_not_found"
    assert STORE  # the campaign covers every store
