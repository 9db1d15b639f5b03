"""Order events name the campaigns whose budget the order spent (issue 16), from the
order's detail as stored; other orders' events are as they were."""

from __future__ import annotations

from chalicelib.events import records as r

from tests.unit.test_event_records import record, split_order, stored_detail


def detail_with_campaigns() -> dict:
    from chalicelib.orders.models import CampaignUseAttribute, OrderDetailModel

    detail = stored_detail()
    uses = [CampaignUseAttribute(campaign_id="CMP1", amount_fen=500, hq_fen=500)]
    stored = OrderDetailModel("O1", lines=[], subtotal_fen=0, campaign_uses=uses).serialize()
    detail["cpu"] = r.plain(stored["cpu"])
    return detail


def test_paid_and_completed_events_carry_the_campaigns_of_the_detail():
    paid = record("MODIFY", split_order("paid", paid_fen=2700), split_order("awaiting_payment"))
    (event,) = r.events_of("orders", paid, {"O1": detail_with_campaigns()})
    assert event.campaign_ids == ["CMP1"]
    done = record("MODIFY", split_order("completed", paid_fen=2700), split_order("delivered"))
    (event,) = r.events_of("orders", done, {"O1": detail_with_campaigns()})
    assert event.campaign_ids == ["CMP1"]


def test_an_order_without_campaigns_gives_an_empty_list():
    paid = record("MODIFY", split_order("paid", paid_fen=2700), split_order("awaiting_payment"))
    (event,) = r.events_of("orders", paid, {"O1": stored_detail()})
    assert event.campaign_ids == []


def test_the_campaign_names_read_raw_are_the_models():
    from chalicelib.orders.models import CampaignUseAttribute, OrderDetailModel

    assert OrderDetailModel.get_attributes()["campaign_uses"].attr_name == "cpu"
    assert CampaignUseAttribute.get_attributes()["campaign_id"].attr_name == "c"
    assert r.CAMPAIGN_NAMES == {"campaign_uses": "cpu", "campaign_id": "c"}


def campaign_image(**over) -> dict:
    base = {"campaign_id": "CMP1", "budget_fen": 10_000, "left_fen": 1_900, "state": "live"}
    return {**base, **over}


def test_setting_alerted_at_gives_one_campaign_budget_alert():
    from chalicelib.events import types as t

    rec = record("MODIFY", campaign_image(alerted_at="2026-11-11T06:12:09Z"), campaign_image())
    (event,) = r.events_of("campaigns", rec)
    assert event == t.CampaignBudgetAlert(
        event_id="campaign.budget_alert:CMP1",
        occurred_at="2026-11-11T06:12:09Z",
        campaign_id="CMP1",
        budget_fen=10_000,
        left_fen=1_900,
        percent=81,
    )


def test_other_campaign_writes_give_no_event():
    at = "2026-11-11T06:12:09Z"
    spent = record("MODIFY", campaign_image(left_fen=1_400), campaign_image())
    after = record(
        "MODIFY", campaign_image(left_fen=1_400, alerted_at=at), campaign_image(alerted_at=at)
    )
    created = record("INSERT", campaign_image())
    assert [r.events_of("campaigns", x) for x in (spent, after, created)] == [[], [], []]
    # the Lambda filter asks for the same: MODIFY, alerted_at in the new image, not the old
    (f,) = r.STREAM_FILTERS["campaigns"]
    assert f["eventName"] == ["MODIFY"]
    assert f["dynamodb"]["OldImage"] == {"alerted_at": [{"exists": False}]}
