"""Member day points end to end (issue 15 item 6): an order placed on the member day
records the day's multiplier; its completion, delivered through the orders stream and
the events dispatcher days later (no member day by then), earns the points times it. An
order placed the day after earns the plain points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from chalicelib.auth.principal import Principal
from chalicelib.kernel import clock
from chalicelib.loyalty import points
from chalicelib.loyalty.models import LoyaltySettingsModel
from chalicelib.loyalty.programme_schemas import TasksSettings
from chalicelib.orders import order_flow
from chalicelib.promotions import schemas as ps
from chalicelib.promotions import service as promotions

from tests.event_steps import deliver_events
from tests.order_steps import complete, pick, place_paid
from tests.publishing import publish_promotion

HQ = Principal("hq-admin", "hq_admin", None)
ON_THE_18TH = datetime(2026, 12, 18, 2, 0, tzinfo=UTC)


def test_the_day_s_multiplier_reaches_the_points_earned_at_completion(catalogue, monkeypatch):
    tasks = msgspec.json.encode(TasksSettings(tasks=[])).decode()
    LoyaltySettingsModel("tasks", data=tasks).save()  # count the orders' own points only
    at = [ON_THE_18TH]
    monkeypatch.setattr(clock, "now", lambda: at[0])
    promotions.forget_active_cache()
    publish_promotion(
        promotions.create(
            HQ,
            msgspec.convert(
                {
                    "promotion_id": "md-18",
                    "kind": "member_day",
                    "name": "18号会员日",
                    "starts_at": "2026-12-01T00:00:00+08:00",
                    "ends_at": "2027-12-01T00:00:00+08:00",
                    "member_day": {"recurrence": "monthly", "days": [18], "points_multiplier": 2},
                },
                ps.PromotionCreate,
            ),
        )
    )
    on_day = place_paid([("100", 3)])
    at[0] = ON_THE_18TH + timedelta(days=1)  # the 19th: no member day
    plain = place_paid([("101", 2)])
    at[0] = ON_THE_18TH + timedelta(days=2)
    for oid in (on_day, plain):
        pick(oid)
        complete(oid)
    deliver_events()
    paid_on_day = int(order_flow.get(on_day).paid_fen)
    paid_plain = int(order_flow.get(plain).paid_fen)
    earned = {e.order_id: e.delta for e in points.entries("c-1", None, 10).items}
    assert earned == {on_day: 2 * (paid_on_day // 100), plain: paid_plain // 100}
    deliver_events()  # redelivered: nothing twice
    assert points.balance("c-1").pending == 2 * (paid_on_day // 100) + paid_plain // 100
