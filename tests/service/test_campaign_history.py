"""infra/local/campaign_history.py: after the demo data and its history, ``./daojia up``
shows an ended campaign with its frozen review and a live campaign with today's traffic
and orders; a second run writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.campaigns.review_models import CampaignReviewModel
from chalicelib.orders.models import OrderModel
from chalicelib.promotions.models import PromotionModel
from chalicelib.reports.models import ReportDayModel, ReportOrderModel
from chalicelib.traffic.models import TrafficDayModel, TrafficMarkerModel

from infra.local import campaign_history as ch

TODAY = date(2026, 12, 5)
NOON = datetime(2026, 12, 5, 4, tzinfo=UTC)  # 12:00 in Shanghai: every demo store is open
TABLES = (
    CampaignModel,
    CampaignReviewModel,
    PromotionModel,
    TrafficDayModel,
    TrafficMarkerModel,
    OrderModel,
    ReportDayModel,
    ReportOrderModel,
)


def everything() -> dict[str, list[dict]]:
    return {
        t.Meta.table_name: sorted((i.serialize() for i in t.scan(consistent_read=True)), key=repr)
        for t in TABLES
    }


@pytest.fixture
def seeded(aws, monkeypatch):
    from chalicelib.kernel import clock, config

    from infra.local import history, seed

    monkeypatch.setattr(config, "is_local", lambda: True)
    monkeypatch.setattr(clock, "now", lambda: clock._as_of.get() or NOON)
    seed.seed()
    # the days the campaigns read: the ended one's baseline (23 days ago) to yesterday
    assert history.seed_history(days=24, today=TODAY) > 0


def test_the_demo_campaigns_show_real_figures_and_a_rerun_writes_nothing(seeded):
    from chalicelib.campaigns import review
    from chalicelib.campaigns import service as campaigns
    from chalicelib.traffic.read import counts

    lines = ch.seed_campaigns(TODAY)
    assert "reviewed" in lines[1] and "launched" in lines[2], lines
    hq = ch._hq()

    # The ended campaign: reviewed, its review frozen with a decomposition.
    ended = CampaignModel.get(ch.ENDED_ID)
    assert (ended.state, ended.grade, ended.name) == ("reviewed", "A", "国庆 · 门店狂欢")
    assert [h.to_state for h in ended.history] == ["scheduled", "live", "ended", "reviewed"]
    assert ended.history[0].actor == "demo_seed" and ended.review_note
    assert ended.next_goal.gmv_fen > 0
    r = review.review(hq, ch.ENDED_ID)
    assert r.frozen and r.days == ch.ENDED_DAYS
    assert r.kpis.visitors > 0 and r.kpis.gmv_fen > 0 and r.baseline_kpis.visitors > 0
    assert 0.05 <= r.kpis.conversion <= 0.15 and 0.05 <= r.baseline_kpis.conversion <= 0.15
    assert r.decomposition.available and r.decomposition.moved_most is not None
    [red] = r.redemptions
    spent = int(ended.discounts_fen)
    assert (red.source_id, red.fen) == (ch.ENDED_PROMO, spent) and spent > 0
    assert int(ended.budget_fen) - int(ended.left_fen) == spent == int(ended.spent_hq_fen)
    assert r.cost.spent_fen == spent < r.cost.budget_fen
    funnel = {f.step: f.count for f in r.funnel}
    assert funnel["visit"] > funnel["cart"] > funnel["order"] >= funnel["pay"] > 0

    # The live campaign: launched through the checklist, live, spending, with traffic today.
    live = CampaignModel.get(ch.LIVE_ID)
    assert (live.state, live.grade) == ("live", "S")
    assert [h.action for h in live.history] == ["launch", "start"]
    assert live.history[0].actor == "hq-admin"  # the service's launch, checklist passed
    assert int(live.discounts_fen) > 0 and int(live.spending_orders) == ch.TODAY_ORDERS
    today = counts(["sh-jingan", "sh-xuhui"], TODAY.isoformat(), TODAY.isoformat(), ch.LIVE_ID)
    assert all(c.visitors == ch.TODAY_DEVICES for c in today.values()) and len(today) == 2
    paid = [
        o
        for o in OrderModel.scan(OrderModel.customer_id.startswith("c-demo-"))
        # the campaign's orders (the demo's open group buy has a paid seat today too)
        if o.created_at.startswith("2026-12-05") and o.paid_at and not o.group_id
    ]
    assert len(paid) == ch.TODAY_ORDERS
    lr = campaigns.get(hq, ch.LIVE_ID)
    assert lr.state == "live" and 0 < lr.spent_fen < lr.budget_fen
    live_review = review.review(hq, ch.LIVE_ID)
    assert not live_review.frozen and live_review.kpis.visitors > 0
    assert live_review.decomposition.available

    # A second run writes nothing.
    before = everything()
    again = ch.seed_campaigns(TODAY)
    assert again[0] == "traffic: 0 rows" and "already reviewed" in again[1], again
    assert "0 events, 0 orders" in again[2], again
    assert everything() == before
