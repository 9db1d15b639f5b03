"""Lottery routes through the API (in-process moto): head office sets one up in a live
campaign, the seed never appears before the draw, the storefront shows the rules and
the committed hash, a draw before its time is 409; the demo seed is idempotent."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.kernel import clock


def live_campaign(campaign_id: str = "CMP-L", state: str = "live") -> None:
    now = clock.now()
    starts = clock.iso(now - timedelta(days=1))
    CampaignModel(
        campaign_id,
        name="免单节",
        grade="B",
        state=state,
        starts_at=starts,
        ends_at=clock.iso(now + timedelta(days=3)),
        starts_key=starts_key(starts, campaign_id),
        budget_hq_fen=100_000,
        budget_fen=100_000,
        left_fen=100_000,
        created_by="hq-admin",
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
    ).save()


def body(**over):
    now = clock.now()
    return {
        "campaign_id": "CMP-L",
        "name": "今日免单",
        "starts_at": clock.iso(now + timedelta(hours=1)),
        "ends_at": clock.iso(now + timedelta(hours=5)),
        "draw_at": clock.iso(now + timedelta(hours=6)),
        "winners": 3,
        "cap_fen": 5000,
        **over,
    }


def test_set_up_edit_and_read_a_lottery(api, tokens_, stores):
    live_campaign()
    hq = tokens_["hq"]
    status, made = api.call("POST", "/admin/lotteries", body(), hq)
    assert status == 201, made
    lid = made["lottery_id"]
    assert made["state"] == "open" and len(made["seed_hash"]) == 64 and "seed" not in made

    status, listed = api.call("GET", "/admin/lotteries", None, hq)
    assert status == 200 and [x["lottery_id"] for x in listed["items"]] == [lid]
    assert "seed" not in listed["items"][0] and "seed_hex" not in listed["items"][0]

    status, edited = api.call("PUT", f"/admin/lotteries/{lid}", body(name="改名", winners=5), hq)
    assert status == 200 and edited["name"] == "改名" and edited["winners_n"] == 5
    assert edited["seed_hash"] == made["seed_hash"]  # the commitment does not change

    status, public = api.call("GET", f"/lotteries/{lid}")
    assert status == 200 and public["seed"] is None and public["winners"] == []
    assert public["seed_hash"] == made["seed_hash"]

    status, err = api.call("POST", f"/admin/lotteries/{lid}/draw", None, hq)
    assert status == 409 and err["error"]["code"] == "lottery_not_due"
    status, err = api.call("GET", f"/admin/lotteries/{lid}/proof", None, hq)
    assert status == 409 and err["error"]["code"] == "lottery_not_drawn"


def test_refused_set_ups(api, tokens_, stores):
    live_campaign()
    hq = tokens_["hq"]
    status, err = api.call("POST", "/admin/lotteries", body(campaign_id="NOPE"), hq)
    assert status == 422 and err["error"]["code"] == "campaign_not_found"
    now = clock.now()
    early = body(draw_at=clock.iso(now + timedelta(hours=2)))
    status, err = api.call("POST", "/admin/lotteries", early, hq)
    assert status == 422 and err["error"]["details"][0]["field"] == "draw_at"
    status, err = api.call("POST", "/admin/lotteries", body(eligibility="segment"), hq)
    assert status == 422
    status, err = api.call("POST", "/admin/lotteries", body(winners=0), hq)
    assert status == 422


def test_a_draft_campaigns_lottery_is_not_shown_to_customers(api, tokens_, stores):
    live_campaign("CMP-D", state="draft")
    status, made = api.call("POST", "/admin/lotteries", body(campaign_id="CMP-D"), tokens_["hq"])
    assert status == 201
    status, err = api.call("GET", f"/lotteries/{made['lottery_id']}")
    assert status == 404 and err["error"]["code"] == "lottery_not_found"


def test_the_demo_seed_makes_an_open_lottery_over_today_once(aws):
    from chalicelib.lottery import service

    from infra.local.seed_lottery import LOTTERY_ID, seed_lottery

    assert seed_lottery() is True
    m = service.get_model(LOTTERY_ID)
    now = clock.now_iso()
    assert m.state == "open" and m.starts_at <= now < m.ends_at
    assert CampaignModel.get(m.campaign_id).state == "live"
    assert LOTTERY_ID in CampaignModel.get(m.campaign_id).mechanic_ids
    assert seed_lottery() is False
    assert len(list(CampaignModel.get(m.campaign_id).mechanic_ids)) == 1
