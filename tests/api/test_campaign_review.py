"""GET /admin/campaigns/{id}/review and review.csv (campaigns/review.py): live during the
campaign from the reports' rollups and traffic's counters, frozen once when it ends
(stored, served again unchanged, re-freezing idempotent), the decomposition against
either baseline, and who sees what."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.campaigns import review
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict
from chalicelib.reports.models import ReportDayModel
from chalicelib.traffic.models import ALL_CAMPAIGNS, TrafficDayModel, day_campaign

# 2026-06-01 .. 2026-06-03, Asia/Shanghai
STARTS, ENDS = "2026-05-31T16:00:00Z", "2026-06-03T16:00:00Z"
LIVE = datetime(2026, 6, 2, 4, 0, tzinfo=UTC)  # 2026-06-02 12:00 local: two days so far
AFTER = datetime(2026, 6, 4, 4, 0, tzinfo=UTC)


def campaign(stores_mode="all", stores=(), state="live", **kw):
    CampaignModel(
        "cmp-1",
        name="618 试点",
        grade="S",
        state=state,
        starts_at=STARTS,
        ends_at=ENDS,
        stores_mode=stores_mode,
        stores=list(stores),
        starts_key=starts_key(STARTS, "cmp-1"),
        created_by="hq-admin",
        created_at=STARTS,
        updated_at=STARTS,
        promotion_ids=["P-1"],
        coupon_template_ids=["T-1"],
        budget_hq_fen=8_000,
        budget_store_fen=2_000,
        budget_fen=10_000,
        left_fen=2_000,
        spent_hq_fen=6_000,
        spent_store_fen=2_000,
        discounts_fen=7_000,
        points_cost_fen=1_000,
        goal={"gmv_fen": 100_000, "orders": 20},
        **kw,
    ).save()


def day(store, d, orders, paid, visitors, refunded=0, new=0, disc=None, placed=None):
    ReportDayModel(
        store,
        d,
        orders=orders,
        paid_fen=paid,
        refunded_fen=refunded,
        placed=placed if placed is not None else orders + 1,
        new_members=new,
        disc=disc,
    ).save()
    # as the ingest writes them: the events' counters on the campaign's row (none here),
    # the day's distinct devices on its all-campaigns row
    TrafficDayModel(
        store, day_campaign(d, None), visitors=visitors, cart_visitors=visitors // 2
    ).save()
    TrafficDayModel(
        store, day_campaign(d, ALL_CAMPAIGNS), visitors=visitors, cart_visitors=visitors // 2
    ).save()


@pytest.fixture
def figures(stores, monkeypatch):
    """sh-a and sh-b: a baseline of 10 visitors / 1 order / 10.00 per store day, the
    campaign's days 20 visitors / 2 orders / 15.00 each (one refund of 2.00 at sh-a)."""
    for sid in stores:
        for d in ("2026-05-29", "2026-05-30", "2026-05-31", "2025-06-01", "2025-06-02"):
            day(sid, d, 1, 1_000, 10)
        day(sid, "2026-06-01", 2, 3_000, 20, new=1, disc='{"p:P-1": [2, 400], "t:X": [1, 9]}')
        day(sid, "2026-06-02", 2, 3_000, 20, refunded=200 if sid == "sh-a" else 0)
        day(sid, "2026-06-03", 4, 6_000, 40)
    monkeypatch.setattr(clock, "now", lambda: LIVE)


def get(api, token, query=""):
    return api.call("GET", f"/admin/campaigns/cmp-1/review{query}", token=token)


def test_live_review_counts_the_days_so_far_against_as_many_days_before(api, tokens_, figures):
    campaign()
    status, body = get(api, tokens_["hq"])
    assert status == 200, body
    assert (body["frozen"], body["from"], body["to"], body["days"]) == (
        False,
        "2026-06-01",
        "2026-06-02",
        2,
    )
    k = body["kpis"]
    assert (k["gmv_fen"], k["orders"], k["visitors"], k["new_members"]) == (11_800, 8, 80, 2)
    assert k["aov_fen"] == 1_475 and k["conversion"] == 0.1
    assert body["baseline_kpis"]["gmv_fen"] == 4_000  # 05-30, 05-31 of both stores
    d = body["decomposition"]
    assert (d["from"], d["to"], d["change_fen"]) == ("2026-05-30", "2026-05-31", 7_800)
    assert sum(f["contribution_fen"] for f in d["factors"]) == 7_800
    assert d["moved_most"] == "visitors"  # visitors doubled; AOV +47.5 %; conversion 0
    assert [f["contribution_fen"] for f in d["factors"]][1] == 0
    assert [s["step"] for s in body["funnel"]] == ["visit", "cart", "order", "pay"]
    assert body["funnel"][2]["count"] == 12  # placed: 3 per store day
    assert body["redemptions"] == [
        {"kind": "promotion", "source_id": "P-1", "orders": 4, "fen": 800},
        {"kind": "coupon_template", "source_id": "T-1", "orders": 0, "fen": 0},
    ]
    cost = body["cost"]
    assert (cost["spent_fen"], cost["used"], cost["alert"]) == (8_000, 0.8, True)
    assert body["roi"] == (11_800 - 4_000 - 8_000) / 8_000
    goal = {g["key"]: g for g in body["goal"]}
    assert goal["orders"]["attained"] == 8 / 20
    assert [r["store_id"] for r in body["stores"]] == ["sh-a", "sh-b"]
    assert body["stores"][0]["kpis"]["gmv_fen"] == 5_800
    assert [x["gmv_fen"] for x in body["daily"]] == [6_000, 5_800]


def test_last_years_node_is_the_same_dates_a_year_before(api, tokens_, figures):
    campaign()
    status, body = get(api, tokens_["hq"], "?baseline=last_year")
    assert status == 200, body
    d = body["decomposition"]
    assert (d["baseline"], d["from"], d["to"]) == ("last_year", "2025-06-01", "2025-06-02")
    assert d["baseline_gmv_fen"] == 4_000


def test_an_ended_campaign_is_frozen_once_and_served_unchanged(api, tokens_, figures, monkeypatch):
    campaign()
    with pytest.raises(Conflict):  # not ended yet: live
        review.freeze("cmp-1")
    monkeypatch.setattr(clock, "now", lambda: AFTER)
    status, first = get(api, tokens_["hq"])  # the read freezes it (the tick job had not)
    assert status == 200, first
    assert (first["frozen"], first["to"], first["days"]) == (True, "2026-06-03", 3)
    assert first["kpis"]["gmv_fen"] == 2 * 12_000 - 200
    # later data (a late refund rolled up) does not change the frozen review
    day("sh-a", "2026-06-03", 4, 6_000, 40, refunded=5_000)
    status, again = get(api, tokens_["hq"])
    assert again == first
    assert review.freeze("cmp-1")["before"].computed_at == first["computed_at"]  # idempotent
    status, other = get(api, tokens_["hq"], "?baseline=last_year")  # frozen with it
    assert other["frozen"] and other["computed_at"] == first["computed_at"]


def test_a_store_manager_sees_their_own_store_without_cost(api, tokens_, figures):
    campaign(stores_mode="list", stores=["sh-a"])
    status, body = get(api, tokens_["manager_a"])
    assert status == 200, body
    assert body["store_ids"] == ["sh-a"] and [r["store_id"] for r in body["stores"]] == ["sh-a"]
    assert body["kpis"]["gmv_fen"] == 5_800
    assert body["cost"] is None and body["roi"] is None
    assert all(g["goal"] is None for g in body["goal"])
    status, body = get(api, tokens_["manager_b"])  # sh-b is not in the campaign
    assert status == 403 and body["error"]["code"] == "other_store"
    status, body = get(api, tokens_["staff_a"])
    assert status == 403 and body["error"]["code"] == "role_not_allowed"
    status, body = api.call("GET", "/admin/campaigns/nope/review", token=tokens_["hq"])
    assert status == 404 and body["error"]["code"] == "campaign_not_found"


def test_the_csv_has_a_total_a_row_per_store_and_per_day(api, tokens_, figures):
    campaign()
    r = api.client.http.get(
        "/admin/campaigns/cmp-1/review.csv",
        headers={"Authorization": f"Bearer {tokens_['hq']}"},
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    text = r.body.decode("utf-8")
    assert text.startswith("\ufeffrow,store_id,name,date,gmv")
    lines = text.split("\r\n")
    assert lines[1].startswith("total,,618 试点,2026-06-01..2026-06-02,118.00,8,14.75,80,")
    assert [ln.split(",")[0] for ln in lines[1:-1]] == ["total", "store", "store", "day", "day"]


def test_racing_freezes_store_one_review_and_all_return_it(aws, figures, monkeypatch):
    """The campaigns tick job and a page read (or two reads) freezing at once: the first
    conditional write wins, the others return what it stored, never their own figures."""
    import itertools
    import threading
    from datetime import timedelta

    from chalicelib.campaigns.review_models import CampaignReviewModel

    campaign(state="ended")
    ticks = itertools.count()
    # every reading of the clock is a second later: each computation has its own time
    monkeypatch.setattr(clock, "now", lambda: AFTER + timedelta(seconds=next(ticks)))
    start = threading.Barrier(4)
    got: list[str] = []

    def one() -> None:
        start.wait()
        got.append(review.freeze("cmp-1")["before"].computed_at)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stored = CampaignReviewModel.get("cmp-1").computed_at
    assert got == [stored] * 4
