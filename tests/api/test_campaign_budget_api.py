"""GET /admin/campaigns/{id}/budget: head office reads a campaign's live budget."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.kernel import clock


def make(campaign_id: str = "cmp-1", **over) -> None:
    now = clock.now()
    starts = clock.iso(now - timedelta(hours=1))
    CampaignModel(
        campaign_id,
        name="双11",
        grade="S",
        state="live",
        starts_at=starts,
        ends_at=clock.iso(now + timedelta(days=1)),
        starts_key=starts_key(starts, campaign_id),
        created_by="hq-admin",
        created_at=starts,
        updated_at=starts,
        **over,
    ).save()


def test_head_office_reads_budget_left_spent_by_funder_and_kind_and_the_alert(api, tokens_):
    make(
        budget_fen=10_000,
        budget_hq_fen=6_000,
        budget_supplier_fen=4_000,
        left_fen=1_500,
        spent_hq_fen=5_000,
        spent_supplier_fen=3_500,
        discounts_fen=8_000,
        points_cost_fen=500,
        spending_orders=16,
        alerted_at="2026-11-11T06:12:09Z",
    )
    status, body = api.call("GET", "/admin/campaigns/cmp-1/budget", token=tokens_["hq"])
    assert status == 200, body
    assert body == {
        "campaign_id": "cmp-1",
        "state": "live",
        "budget_fen": 10_000,
        "left_fen": 1_500,
        "spent_fen": 8_500,
        "percent": 85,
        "by_funder": {"hq_fen": 5_000, "store_fen": 0, "supplier_fen": 3_500},
        "by_kind": {
            "discounts_fen": 8_000,
            "points_fen": 500,
            "commission_fen": 0,
            "prizes_fen": 0,
        },
        "spending_orders": 16,
        "alerted_at": "2026-11-11T06:12:09Z",
        "exhausted": False,
    }


def test_a_campaign_past_its_budget_reads_exhausted(api, tokens_):
    make(budget_fen=1_000, left_fen=-200, prizes_fen=1_200, spent_hq_fen=1_200)
    _, body = api.call("GET", "/admin/campaigns/cmp-1/budget", token=tokens_["hq"])
    assert (body["exhausted"], body["percent"], body["spent_fen"]) == (True, 120, 1_200)


def test_an_unknown_campaign_is_404_and_store_roles_are_refused(api, tokens_):
    status, body = api.call("GET", "/admin/campaigns/nope/budget", token=tokens_["hq"])
    assert (status, body["error"]["code"]) == (404, "campaign_not_found")
    status, _ = api.call("GET", "/admin/campaigns/nope/budget", token=tokens_["manager_a"])
    assert status == 403
