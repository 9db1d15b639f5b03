"""Campaigns in the API: head office creates, lists, reads and edits them (409 on a
stale version), links and unlinks their promotions and templates atomically, launches
them through the checklist, and moves them through their states (the window on read
and by the campaigns_tick job); store managers read the campaigns of their store."""

from __future__ import annotations

import sys
import types
from datetime import timedelta

import pytest
from chalicelib import jobs
from chalicelib.audit.models import AuditEntryModel
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.campaigns import service as campaigns
from chalicelib.campaigns.review_models import CampaignReviewModel
from chalicelib.catalogue.models import ProductModel
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.kernel import clock
from chalicelib.promotions import service as promotions
from chalicelib.promotions.models import PromotionModel

from tests.api.test_promotions import tiered
from tests.publishing import create_promotion, create_template

NOW = clock.now().replace(microsecond=0)


def at(hours: float) -> str:
    return clock.iso(NOW + timedelta(hours=hours))


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """Time stands at NOW unless a test moves it (``move``); ``clock.as_of`` (the test
    order's moment) still applies."""
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: clock._as_of.get() or moment["now"])
    promotions.forget_active_cache()
    yield moment
    promotions.forget_active_cache()


def move(frozen, hours):
    frozen["now"] = NOW + timedelta(hours=hours)
    promotions.forget_active_cache()


def body(**over):
    return {
        "name": "双11 全城狂欢",
        "grade": "S",
        "starts_at": at(24),
        "ends_at": at(24 * 5),
        "goal": {"gmv_fen": 5_000_000},
        "budget": {"hq_fen": 30000, "store_fen": 10000, "supplier_fen": 0},
        **over,
    }


def create(api, tokens_, b):
    return api.call("POST", "/admin/campaigns", b, token=tokens_["hq"])


def put(api, tokens_, cid, b):
    return api.call("PUT", f"/admin/campaigns/{cid}", b, token=tokens_["hq"])


def post(api, tokens_, cid, what, b=None, who="hq"):
    return api.call("POST", f"/admin/campaigns/{cid}/{what}", b, token=tokens_[who])


def promo(api, tokens_, **over):
    status, p = create_promotion(
        api,
        tiered(starts_at=at(23), ends_at=at(24 * 6), **over),
        token=tokens_["hq"],
    )
    assert status == 201, p
    return p["promotion_id"]


def template(api, tokens_, **over):
    b = {
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "days_after_claim": 7,
        **over,
    }
    status, t = create_template(api, b, token=tokens_["hq"])
    assert status == 201, t
    return t["template_id"]


def fields(err):
    return [d["field"] for d in err["error"]["details"]]


def test_create_read_list_and_replay(api, tokens_, stores):
    status, c = create(api, tokens_, body(campaign_id="c-1111", plan_notes="计划"))
    assert status == 201
    assert c["state"] == "draft" and c["version"] == 0
    assert (c["budget_fen"], c["left_fen"], c["spent_fen"]) == (40000, 40000, 0)
    assert c["budget"] == {"hq_fen": 30000, "store_fen": 10000, "supplier_fen": 0}
    # a retry with the same body is a replay; a different body under the id is 409
    status, again = create(api, tokens_, body(campaign_id="c-1111", plan_notes="计划"))
    assert status == 201 and again == c
    assert CampaignModel.count() == 1
    status, err = create(api, tokens_, body(campaign_id="c-1111", name="别的"))
    assert status == 409 and err["error"]["code"] == "campaign_exists"
    assert api.call("GET", "/admin/campaigns/c-1111", token=tokens_["hq"]) == (200, c)
    create(api, tokens_, body(grade="B", starts_at=at(24 * 400), ends_at=at(24 * 401)))
    status, listing = api.call(
        "GET", f"/admin/campaigns?year={NOW.year}&grade=S", token=tokens_["hq"]
    )
    assert status == 200 and [x["campaign_id"] for x in listing["items"]] == ["c-1111"]
    status, listing = api.call("GET", "/admin/campaigns?state=draft", token=tokens_["hq"])
    assert len(listing["items"]) == 2
    # both creates are audited once (the replay is not); a scan has no order
    audited = AuditEntryModel.scan(AuditEntryModel.action == "campaign.create")
    assert sorted(e.target_id for e in audited) == sorted(
        x["campaign_id"] for x in listing["items"]
    )


def test_validation_names_each_field(api, tokens_, stores):
    status, err = create(
        api,
        tokens_,
        body(
            ends_at=at(1),
            stores_mode="list",
            store_tiers=["S"],
            segment_id="seg-nope",
            promotion_ids=["nope"],
        ),
    )
    assert status == 422
    assert set(fields(err)) == {"ends_at", "stores", "store_tiers"}
    status, err = create(
        api,
        tokens_,
        body(segment_id="seg-nope", promotion_ids=["nope"], stores_mode="list", stores=["sh-z"]),
    )
    assert status == 422
    assert set(fields(err)) == {"segment_id", "promotion_ids", "stores"}
    status, err = create(api, tokens_, body(starts_at="2026-11-01T00:00:00"))
    assert status == 422 and fields(err) == ["starts_at"]
    status, err = create(api, tokens_, body(budget={"hq_fen": -1}))
    assert status == 422


def test_roles_and_a_store_managers_view(api, tokens_, stores):
    _, mine = create(api, tokens_, body(stores_mode="list", stores=["sh-a"]))
    _, theirs = create(api, tokens_, body(stores_mode="list", stores=["sh-b"]))
    _, every = create(api, tokens_, body())
    status, listing = api.call("GET", "/admin/campaigns", token=tokens_["manager_a"])
    assert status == 200
    assert {x["campaign_id"] for x in listing["items"]} == {
        mine["campaign_id"],
        every["campaign_id"],
    }
    path = f"/admin/campaigns/{theirs['campaign_id']}"
    status, err = api.call("GET", path, token=tokens_["manager_a"])
    assert status == 404 and err["error"]["code"] == "campaign_not_found"
    assert (
        api.call("GET", f"/admin/campaigns/{mine['campaign_id']}", token=tokens_["manager_a"])[0]
        == 200
    )
    for who in ("customer", "staff_a", "relay_a"):
        assert api.call("GET", "/admin/campaigns", token=tokens_[who])[0] == 403
    assert api.call("POST", "/admin/campaigns", body(), token=tokens_["manager_a"])[0] == 403
    status, _ = put(api, tokens_, mine["campaign_id"], {**body(), "version": 0})
    assert status == 200
    assert api.call("PUT", path, {**body(), "version": 0}, token=tokens_["manager_b"])[0] == 403


def test_version_conflict_and_budget_delta(api, tokens_, stores):
    _, c = create(api, tokens_, body())
    cid = c["campaign_id"]
    status, got = put(api, tokens_, cid, {**body(name="改名"), "version": 0})
    assert status == 200 and got["name"] == "改名" and got["version"] == 1
    status, err = put(api, tokens_, cid, {**body(name="旧版本"), "version": 0})
    assert status == 409 and err["error"]["code"] == "campaign_changed"
    assert err["error"]["details"] == {"version": 1}
    # orders spent 15000 meanwhile: the edit moves left_fen by the delta, never sets it
    CampaignModel(cid).update(actions=[CampaignModel.left_fen.add(-15000)])
    b = body(name="改名", budget={"hq_fen": 50000, "store_fen": 10000})
    status, got = put(api, tokens_, cid, {**b, "version": 1})
    assert status == 200 and (got["budget_fen"], got["left_fen"]) == (60000, 45000)
    b = body(name="改名", budget={"hq_fen": 10000})
    status, err = put(api, tokens_, cid, {**b, "version": 2})
    assert status == 422 and err["error"]["details"] == [
        {"field": "budget", "reason": "below the 15000 spent"}
    ]


def test_budget_edit_adds_under_concurrent_spending(api, tokens_, stores, monkeypatch):
    """An order's spend that lands between the edit's read and its write is kept: the
    write ADDs the delta to left_fen instead of setting it from what was read."""
    _, c = create(api, tokens_, body())
    cid = c["campaign_id"]
    real = campaigns.get_model

    def read_then_spend(campaign_id, consistent=True):
        m = real(campaign_id, consistent)
        CampaignModel(cid).update(actions=[CampaignModel.left_fen.add(-1000)])
        monkeypatch.setattr(campaigns, "get_model", real)
        return m

    monkeypatch.setattr(campaigns, "get_model", read_then_spend)
    b = body(budget={"hq_fen": 40000, "store_fen": 10000})
    status, got = put(api, tokens_, cid, {**b, "version": 0})
    assert status == 200 and (got["budget_fen"], got["left_fen"]) == (50000, 49000)


def test_contents_link_and_unlink_atomically(api, tokens_, catalogue):
    p1, p2 = promo(api, tokens_), promo(api, tokens_)
    t1 = template(api, tokens_)
    _, a = create(api, tokens_, body(promotion_ids=[p1], coupon_template_ids=[t1]))
    assert PromotionModel.get(p1).campaign_id == a["campaign_id"]
    assert CouponTemplateModel.get(t1).campaign_id == a["campaign_id"]
    # p1 belongs to a: another campaign cannot take it, and nothing of b is written
    status, err = create(api, tokens_, body(campaign_id="c-b", promotion_ids=[p2, p1]))
    assert status == 409 and err["error"]["code"] == "already_in_campaign"
    assert err["error"]["details"] == {
        "items": [{"type": "promotion", "id": p1, "campaign_id": a["campaign_id"]}]
    }
    assert PromotionModel.get(p2).campaign_id is None
    assert CampaignModel.count("c-b") == 0
    # swap p1 for p2 and drop the template: one transaction
    b = body(promotion_ids=[p2], coupon_template_ids=[])
    status, got = put(api, tokens_, a["campaign_id"], {**b, "version": 0})
    assert status == 200 and got["promotion_ids"] == [p2]
    assert PromotionModel.get(p1).campaign_id is None
    assert PromotionModel.get(p2).campaign_id == a["campaign_id"]
    assert CouponTemplateModel.get(t1).campaign_id is None


def test_a_race_for_one_promotion_links_it_once(api, tokens_, catalogue, monkeypatch):
    """The check before the write saw the promotion free; another campaign took it
    before the transaction: the transaction's condition refuses, nothing is written."""
    p1 = promo(api, tokens_)
    real = campaigns._check_references

    def then_taken(cid, b, errors):
        out = real(cid, b, errors)
        PromotionModel(p1).update(actions=[PromotionModel.campaign_id.set("c-other")])
        return out

    monkeypatch.setattr(campaigns, "_check_references", then_taken)
    status, err = create(api, tokens_, body(campaign_id="c-late", promotion_ids=[p1]))
    assert status == 409 and err["error"]["code"] == "already_in_campaign"
    assert err["error"]["details"]["items"][0]["campaign_id"] == "c-other"
    assert CampaignModel.count("c-late") == 0
    assert PromotionModel.get(p1).campaign_id == "c-other"


def test_member_days_go_in_their_own_list(api, tokens_, catalogue):
    p1 = promo(api, tokens_)
    status, err = create(api, tokens_, body(member_day_ids=[p1]))
    assert status == 422 and fields(err) == ["member_day_ids"]
    assert "tiered" in err["error"]["details"][0]["reason"]


def launchable(api, tokens_):
    """A draft that passes the checklist: a tiered promotion on 水果 at both stores."""
    ProductModel("100").update(actions=[ProductModel.cost_fen.set(500)])
    p = promo(api, tokens_)
    _, c = create(api, tokens_, body(promotion_ids=[p]))
    return c["campaign_id"]


def test_every_transition_and_the_illegal_ones(api, tokens_, catalogue, frozen):
    cid = launchable(api, tokens_)
    for what in ("unschedule", "end"):
        status, err = post(api, tokens_, cid, what)
        assert status == 409 and err["error"]["code"] == "illegal_transition"
    status, err = post(api, tokens_, cid, "review-note", {"note": "x", "next_goal": {"orders": 1}})
    assert status == 409
    status, c = post(api, tokens_, cid, "launch")
    assert status == 200 and c["state"] == "scheduled" and c["version"] == 1
    assert post(api, tokens_, cid, "launch")[0] == 409
    status, c = post(api, tokens_, cid, "unschedule")
    assert status == 200 and c["state"] == "draft"
    assert post(api, tokens_, cid, "launch")[1]["state"] == "scheduled"
    move(frozen, 25)  # the window started: live on read, before any job
    status, c = api.call("GET", f"/admin/campaigns/{cid}", token=tokens_["hq"])
    assert status == 200 and c["state"] == "live" and CampaignModel.get(cid).state == "scheduled"
    assert post(api, tokens_, cid, "unschedule")[0] == 409
    status, c = post(api, tokens_, cid, "end")
    assert status == 200 and c["state"] == "ended"
    assert [(h["action"], h["from_state"], h["to_state"]) for h in c["history"]] == [
        ("launch", "draft", "scheduled"),
        ("unschedule", "scheduled", "draft"),
        ("launch", "draft", "scheduled"),
        ("start", "scheduled", "live"),
        ("end", "live", "ended"),
    ]
    assert c["history"][-1]["actor"] == "hq-admin" and c["history"][-1]["reason"] == "ended early"
    status, err = post(api, tokens_, cid, "review-note", {"note": "x", "next_goal": {}})
    assert status == 422 and fields(err) == ["next_goal"]
    status, c = post(
        api, tokens_, cid, "review-note", {"note": "客单价未达标", "next_goal": {"aov_fen": 9000}}
    )
    assert status == 200 and c["state"] == "reviewed"
    assert c["review_note"] == "客单价未达标" and c["next_goal"]["aov_fen"] == 9000
    assert post(api, tokens_, cid, "end")[0] == 409


def test_fields_frozen_by_state(api, tokens_, catalogue, frozen):
    cid = launchable(api, tokens_)
    c = post(api, tokens_, cid, "launch")[1]
    b = {k: c[k] for k in ("name", "grade", "starts_at", "ends_at", "promotion_ids")}
    b |= {"goal": {"gmv_fen": 5_000_000}, "budget": c["budget"]}
    status, err = put(api, tokens_, cid, {**b, "ends_at": at(24 * 6), "version": 1})
    assert status == 422 and fields(err) == ["ends_at"]
    assert "unschedule it first" in err["error"]["details"][0]["reason"]
    status, got = put(api, tokens_, cid, {**b, "name": "改名", "version": 1})
    assert status == 200 and got["name"] == "改名"


def test_launch_refused_by_a_failing_check(api, tokens_, catalogue):
    _, c = create(api, tokens_, body(budget={}, goal={}))
    status, err = post(api, tokens_, c["campaign_id"], "launch")
    assert status == 422 and err["error"]["code"] == "campaign_checklist_failed"
    failed = {x["id"] for x in err["error"]["details"]["checks"] if not x["ok"]}
    assert failed == {"budget", "goal"}
    assert CampaignModel.get(c["campaign_id"]).state == "draft"


def test_the_checklist_route_and_the_test_order(api, tokens_, catalogue):
    cid = launchable(api, tokens_)
    status, got = api.call("GET", f"/admin/campaigns/{cid}/checklist", token=tokens_["hq"])
    assert status == 200 and got["ok"] is True
    order = next(x for x in got["checks"] if x["id"] == "test_order")
    assert order["ok"] and order["details"]["discount_fen"] > 0
    assert order["details"]["at"] == clock.iso(NOW + timedelta(hours=24, seconds=1))
    assert any(d.startswith("tiered:") for d in order["details"]["discounts"])


def test_tiers_resolved_at_launch(api, tokens_, catalogue, monkeypatch):
    asked = []
    fake = types.ModuleType("chalicelib.store_tiers.service")

    def stores_in_tiers(tiers):
        asked.append(list(tiers))
        return ["sh-b"]

    fake.stores_in_tiers = stores_in_tiers
    import chalicelib.store_tiers as package

    monkeypatch.setitem(sys.modules, "chalicelib.store_tiers.service", fake)
    monkeypatch.setattr(package, "service", fake, raising=False)
    ProductModel("100").update(actions=[ProductModel.cost_fen.set(500)])
    p = promo(api, tokens_)
    _, c = create(
        api, tokens_, body(stores_mode="tiers", store_tiers=["S", "A"], promotion_ids=[p])
    )
    status, got = post(api, tokens_, c["campaign_id"], "launch")
    assert status == 200, got
    assert got["stores"] == ["sh-b"] and ["S", "A"] in asked
    assert CampaignModel.get(c["campaign_id"]).stores == ["sh-b"]


def test_the_tick_job_moves_states_and_is_idempotent(api, tokens_, catalogue, frozen):
    cid = launchable(api, tokens_)
    post(api, tokens_, cid, "launch")
    _, draft = create(api, tokens_, body())
    jobs.campaigns_tick()
    assert CampaignModel.get(cid).state == "scheduled"
    move(frozen, 25)
    jobs.campaigns_tick()
    jobs.campaigns_tick()
    m = CampaignModel.get(cid)
    assert m.state == "live" and [h.action for h in m.history] == ["launch", "start"]
    assert m.history[-1].actor == "campaigns_tick"
    move(frozen, 24 * 6)
    assert campaigns.tick() == 1 and campaigns.tick() == 0
    m = CampaignModel.get(cid)
    assert m.state == "ended" and [h.action for h in m.history] == ["launch", "start", "end"]
    assert CampaignModel.get(draft["campaign_id"]).state == "draft"


def test_a_late_tick_takes_a_scheduled_campaign_through_live_to_ended(
    api, tokens_, catalogue, frozen
):
    cid = launchable(api, tokens_)
    post(api, tokens_, cid, "launch")
    move(frozen, 24 * 6)
    status, c = api.call("GET", f"/admin/campaigns/{cid}", token=tokens_["hq"])
    assert status == 200 and c["state"] == "ended"
    assert CampaignReviewModel.count() == 0
    assert campaigns.tick() == 1
    assert [h.action for h in CampaignModel.get(cid).history] == ["launch", "start", "end"]
    # the end froze the review (the review route would otherwise freeze it on read)
    assert [r.campaign_id for r in CampaignReviewModel.scan()] == [cid]


# --- concurrency ----------------------------------------------------------------------


def test_concurrent_ticks_move_a_campaign_once(api, tokens_, catalogue, frozen):
    from concurrent.futures import ThreadPoolExecutor

    cid = launchable(api, tokens_)
    post(api, tokens_, cid, "launch")
    move(frozen, 25)
    with ThreadPoolExecutor(max_workers=6) as pool:
        moved = list(pool.map(lambda _: campaigns.tick(), range(6)))
    assert sum(moved) == 1
    assert [h.action for h in CampaignModel.get(cid).history] == ["launch", "start"]


def test_two_campaigns_racing_for_one_promotion_one_gets_it(api, tokens_, catalogue):
    """Both creates see the promotion free; the transactions' conditions let one link
    it and refuse the other whole (no campaign half made)."""
    from concurrent.futures import ThreadPoolExecutor

    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.campaigns import schemas as s
    from chalicelib.kernel.errors import Conflict

    p1 = promo(api, tokens_)
    hq = Principal("hq-admin", "hq_admin")

    def make(n):
        b = msgspec.convert(body(campaign_id=f"c-race-{n}", promotion_ids=[p1]), s.CampaignCreate)
        try:
            return campaigns.create(hq, b).campaign_id
        except Conflict as exc:
            assert exc.code == "already_in_campaign"
            return None

    with ThreadPoolExecutor(max_workers=6) as pool:
        got = [c for c in pool.map(make, range(6)) if c is not None]
    assert len(got) == 1
    assert PromotionModel.get(p1).campaign_id == got[0]
    assert CampaignModel.count() == 1


def test_concurrent_end_ends_once(api, tokens_, catalogue, frozen):
    from concurrent.futures import ThreadPoolExecutor

    cid = launchable(api, tokens_)
    post(api, tokens_, cid, "launch")
    move(frozen, 25)
    hq = campaigns.TICK._replace(subject="hq-admin", role="hq_admin")

    def end(_):
        try:
            campaigns.end(hq, cid)
            return "ended"
        except Exception as exc:
            return getattr(exc, "code", repr(exc))

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = sorted(pool.map(end, range(4)))
    assert got.count("ended") == 1
    assert set(got) <= {"ended", "campaign_changed", "illegal_transition"}
    actions = [h.action for h in CampaignModel.get(cid).history]
    assert actions == ["launch", "start", "end"]


def test_an_edit_during_the_checklist_stops_the_launch(api, tokens_, catalogue, monkeypatch):
    """Launch schedules the version the checklist judged: an edit meanwhile is a 409."""
    from chalicelib.campaigns import checklist

    cid = launchable(api, tokens_)
    real = checklist.run

    def then_edited(m):
        out = real(m)
        CampaignModel(cid).update(actions=[CampaignModel.version.add(1)])
        return out

    monkeypatch.setattr(checklist, "run", then_edited)
    status, err = post(api, tokens_, cid, "launch")
    assert status == 409 and err["error"]["code"] == "campaign_changed"
    assert CampaignModel.get(cid).state == "draft"
