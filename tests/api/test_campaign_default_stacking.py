"""A campaign's default stacking policy (issue 18 item 1, docs/promotions.md "Stacking
policy"): set on the campaign, copied onto the promotions and templates created in it
without their own, re-applied on request to its drafts that follow it; published ones
and those with their own policy keep theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.kernel import clock
from chalicelib.promotions import service as promotions
from chalicelib.promotions.models import PromotionModel

from tests.api.test_promotions import tiered
from tests.publishing import create_promotion

NOW = clock.now().replace(microsecond=0)
EXCLUSIVE = {"exclusive": True, "priority": 10, "stack_group": "store"}
DEFAULTS = {
    "exclusive": False,
    "priority": 0,
    "not_with_tiered": False,
    "not_with_member_price": False,
    "stack_group": None,
}


def at(hours: float) -> str:
    return clock.iso(NOW + timedelta(hours=hours))


@pytest.fixture(autouse=True)
def fresh_cache():
    promotions.forget_active_cache()
    yield
    promotions.forget_active_cache()


def campaign(api, tokens_, **over):
    b = {
        "name": "双11 全城狂欢",
        "grade": "S",
        "starts_at": at(24),
        "ends_at": at(24 * 5),
        "budget": {"hq_fen": 30000},
        **over,
    }
    status, c = api.call("POST", "/admin/campaigns", b, token=tokens_["hq"])
    assert status == 201, c
    return c


def draft_promotion(api, tokens_, **over):
    """A draft (not approved): what apply-default-stacking reaches."""
    b = tiered(starts_at=at(23), ends_at=at(24 * 6), **over)
    status, p = api.call("POST", "/admin/promotions", b, token=tokens_["hq"])
    assert status == 201, p
    return p


def draft_template(api, tokens_, **over):
    b = {"name": "满100减20", "kind": "amount_off", "threshold_fen": 10000}
    b |= {"amount_off_fen": 2000, "days_after_claim": 7, "per_customer_limit": 1, **over}
    status, t = api.call("POST", "/admin/coupon-templates", b, token=tokens_["hq"])
    assert status == 201, t
    return t


def put_campaign(api, tokens_, c, **over):
    keys = ("name", "grade", "starts_at", "ends_at", "promotion_ids", "coupon_template_ids")
    b = {k: c[k] for k in keys} | {"budget": {"hq_fen": 30000}, "version": c["version"], **over}
    return api.call("PUT", f"/admin/campaigns/{c['campaign_id']}", b, token=tokens_["hq"])


def apply(api, tokens_, cid, who="hq"):
    return api.call("POST", f"/admin/campaigns/{cid}/apply-default-stacking", None, tokens_[who])


def test_the_default_is_set_on_create_and_update_and_shown(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    assert c["default_stacking"] == {**DEFAULTS, **EXCLUSIVE}
    stored = CampaignModel.get(c["campaign_id"]).default_stacking.as_dict()
    assert stored == {**DEFAULTS, **EXCLUSIVE}

    status, c = put_campaign(api, tokens_, c, default_stacking={"not_with_tiered": True})
    assert status == 200, c
    assert c["default_stacking"] == {**DEFAULTS, "not_with_tiered": True}
    status, c = put_campaign(api, tokens_, c, default_stacking=None)  # the whole of it: none
    assert status == 200 and c["default_stacking"] is None
    assert CampaignModel.get(c["campaign_id"]).default_stacking is None


@pytest.mark.parametrize(
    "policy, field",
    [
        ({"priority": 101}, "default_stacking.priority"),
        ({"stack_group": "Store Coupons"}, "default_stacking.stack_group"),
        ({"exclusive": "yes"}, "default_stacking.exclusive"),
    ],
)
def test_a_bad_default_is_422_and_writes_nothing(api, tokens_, policy, field):
    b = {"name": "坏", "grade": "B", "starts_at": at(24), "ends_at": at(48)}
    b |= {"campaign_id": "C-bad-policy", "default_stacking": policy}
    status, got = api.call("POST", "/admin/campaigns", b, token=tokens_["hq"])
    assert status == 422, got
    assert field in str(got["error"]), got
    status, _ = api.call("GET", "/admin/campaigns/C-bad-policy", token=tokens_["hq"])
    assert status == 404


def test_created_in_a_campaign_takes_a_copy_of_its_default(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    cid = c["campaign_id"]
    p = draft_promotion(api, tokens_, campaign_id=cid)
    # promotions take no stack group: the rest of the default is copied
    assert p["stacking"] == {**DEFAULTS, "exclusive": True, "priority": 10}
    assert p["stacking_source"] == "campaign" and p["campaign_id"] == cid
    stored = PromotionModel.get(p["promotion_id"])
    # the promotion holds the copy: checkout reads it as before
    no_group = {k: v for k, v in DEFAULTS.items() if k != "stack_group"}
    assert stored.stacking.as_dict() == {**no_group, "exclusive": True, "priority": 10}
    t = draft_template(api, tokens_, campaign_id=cid)
    assert t["stacking"] == {**DEFAULTS, **EXCLUSIVE} and t["stacking_source"] == "campaign"
    fd = draft_template(api, tokens_, name="免运费", kind="free_delivery", campaign_id=cid,
                        threshold_fen=0, amount_off_fen=None)  # fmt: skip
    assert fd["stacking"]["stack_group"] is None and fd["stacking"]["exclusive"] is True

    # the campaign lists them (the same write), and its version moved
    got = CampaignModel.get(cid)
    assert list(got.promotion_ids) == [p["promotion_id"]]
    assert list(got.coupon_template_ids) == [t["template_id"], fd["template_id"]]
    assert int(got.version) == 3


def test_a_retried_create_in_a_campaign_answers_the_same_and_lists_it_once(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    b = tiered(promotion_id="P-retry", campaign_id=c["campaign_id"], starts_at=at(23))
    first = api.call("POST", "/admin/promotions", b, token=tokens_["hq"])
    # scheduled meanwhile: the retry still answers the promotion written
    CampaignModel(c["campaign_id"]).update(actions=[CampaignModel.state.set("scheduled")])
    again = api.call("POST", "/admin/promotions", b, token=tokens_["hq"])
    assert first[0] == 201 and again[0] in (200, 201), again
    assert again[1]["promotion_id"] == "P-retry" and again[1]["stacking_source"] == "campaign"
    assert list(CampaignModel.get(c["campaign_id"]).promotion_ids) == ["P-retry"]


def test_its_own_policy_wins(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    own = {"not_with_member_price": True}
    p = draft_promotion(api, tokens_, campaign_id=c["campaign_id"], stacking=own)
    assert p["stacking"] == {**DEFAULTS, **own} and p["stacking_source"] == "own"
    # even the defaults, sent: the marketer chose the matrix for this one
    t = draft_template(api, tokens_, campaign_id=c["campaign_id"], stacking={})
    assert t["stacking"] == DEFAULTS and t["stacking_source"] == "own"
    # outside a campaign, nothing is inherited
    alone = draft_promotion(api, tokens_)
    assert alone["stacking"] == DEFAULTS and alone["stacking_source"] == "matrix"


def test_a_campaign_that_is_not_a_draft_takes_no_new_contents(api, tokens_):
    status, got = api.call(
        "POST", "/admin/promotions", tiered(campaign_id="C-nope"), token=tokens_["hq"]
    )
    assert status == 422 and "campaign_id" in str(got["error"]["details"])
    c = campaign(api, tokens_)
    CampaignModel(c["campaign_id"]).update(actions=[CampaignModel.state.set("scheduled")])
    b = tiered(promotion_id="P-late", campaign_id=c["campaign_id"])
    status, got = api.call("POST", "/admin/promotions", b, token=tokens_["hq"])
    assert status == 409 and got["error"]["code"] == "campaign_not_draft"
    status, _ = api.call("GET", "/admin/promotions/P-late", token=tokens_["hq"])
    assert status == 404  # nothing half-written


def test_apply_reaches_the_drafts_that_follow_the_campaign_only(api, tokens_, catalogue):
    c = campaign(api, tokens_)  # no default yet
    cid = c["campaign_id"]
    follows = draft_promotion(api, tokens_, campaign_id=cid)
    own = draft_promotion(api, tokens_, campaign_id=cid, stacking={"priority": 3})
    t = draft_template(api, tokens_, campaign_id=cid)
    status, live = create_promotion(  # published: in customers' carts
        api, tiered(campaign_id=cid, starts_at=at(23), ends_at=at(24 * 6)), tokens_["hq"]
    )
    assert status == 201 and live["status"] == "active" and live["stacking_source"] == "campaign"
    half = draft_promotion(api, tokens_, kind="second_half_price", tiers=None, campaign_id=cid)
    flash_like = {"kind": "flash_sale", "name": "秒杀", "sku": "101", "tiers": None}
    flash_like |= {"scope": None, "flash_price_fen": 100, "quantity": 5, "per_customer_limit": 1}
    flash = draft_promotion(api, tokens_, campaign_id=cid, **flash_like)

    c = api.call("GET", f"/admin/campaigns/{cid}", token=tokens_["hq"])[1]
    status, c = put_campaign(api, tokens_, c, default_stacking=EXCLUSIVE)
    assert status == 200, c
    # changing the default alone changes no item
    assert (
        api.call("GET", f"/admin/promotions/{follows['promotion_id']}", token=tokens_["hq"])[1][
            "stacking"
        ]
        == DEFAULTS
    )

    status, got = apply(api, tokens_, cid)
    assert status == 200, got
    assert {(r["type"], r["id"]) for r in got["updated"]} == {
        ("promotion", follows["promotion_id"]),
        ("promotion", half["promotion_id"]),
        ("coupon_template", t["template_id"]),
    }
    kept = {r["id"]: r["reason"] for r in got["kept"]}
    assert kept == {
        own["promotion_id"]: "has its own policy",
        live["promotion_id"]: "active: keeps its policy until edited",
        flash["promotion_id"]: "takes no stacking policy",
    }
    read = lambda pid: api.call("GET", f"/admin/promotions/{pid}", token=tokens_["hq"])[1]  # noqa: E731
    assert read(follows["promotion_id"])["stacking"] == {**DEFAULTS, "exclusive": True,
                                                         "priority": 10}  # fmt: skip
    assert read(own["promotion_id"])["stacking"]["priority"] == 3
    assert read(live["promotion_id"])["stacking"] == DEFAULTS  # live: unchanged
    tv = api.call("GET", f"/admin/coupon-templates/{t['template_id']}", token=tokens_["hq"])[1]
    assert tv["stacking"] == {**DEFAULTS, **EXCLUSIVE} and tv["stacking_source"] == "campaign"

    # again: the same result, nothing else moves
    status, again = apply(api, tokens_, cid)
    assert status == 200 and again["updated"] == got["updated"]

    # an edit of its own policy takes it out of the campaign's reach
    status, edited = api.call(
        "PATCH",
        f"/admin/promotions/{follows['promotion_id']}",
        {"stacking": {"priority": 1}},
        token=tokens_["hq"],
    )
    assert status == 200 and edited["stacking_source"] == "own", edited
    status, got = apply(api, tokens_, cid)
    assert follows["promotion_id"] not in {r["id"] for r in got["updated"]}


def test_apply_is_head_office_only_and_not_after_the_end(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    status, _ = apply(api, tokens_, c["campaign_id"], who="manager_a")
    assert status == 403
    status, _ = apply(api, tokens_, "C-missing")
    assert status == 404
    CampaignModel(c["campaign_id"]).update(actions=[CampaignModel.state.set("ended")])
    status, got = apply(api, tokens_, c["campaign_id"])
    assert status == 409 and got["error"]["code"] == "campaign_ended"


def test_a_cloned_campaign_keeps_its_default_and_its_copies_their_source(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    p = draft_promotion(api, tokens_, campaign_id=c["campaign_id"])
    body = {"campaign_id": "C-copy-stacking", "starts_at": at(24 * 30), "ends_at": at(24 * 31)}
    status, copy = api.call(
        "POST", f"/admin/campaigns/{c['campaign_id']}/clone", body, token=tokens_["hq"]
    )
    assert status == 201, copy
    assert copy["default_stacking"] == c["default_stacking"]
    (pid,) = copy["promotion_ids"]
    assert pid != p["promotion_id"]
    got = api.call("GET", f"/admin/promotions/{pid}", token=tokens_["hq"])[1]
    assert got["stacking"] == p["stacking"] and got["stacking_source"] == "campaign"


def test_a_promotion_cloned_alone_joins_its_campaign_only_while_that_is_a_draft(api, tokens_):
    c = campaign(api, tokens_, default_stacking=EXCLUSIVE)
    p = draft_promotion(api, tokens_, campaign_id=c["campaign_id"])
    path = f"/admin/promotions/{p['promotion_id']}/clone"
    body = {"promotion_id": "P-solo-copy", "starts_at": at(24 * 2), "ends_at": at(24 * 3)}
    status, copy = api.call("POST", path, body, token=tokens_["hq"])
    assert status == 201 and copy["campaign_id"] == c["campaign_id"], copy
    assert api.call("POST", path, body, token=tokens_["hq"])[0] in (200, 201)  # a retry
    listed = CampaignModel.get(c["campaign_id"]).promotion_ids
    assert listed == [p["promotion_id"], "P-solo-copy"]  # listed once, so apply reaches it
    # the campaign is over: a copy for a later window stands alone (an ended campaign's
    # promotion would be left out at checkout, campaign_not_live)
    CampaignModel(c["campaign_id"]).update(actions=[CampaignModel.state.set("ended")])
    later = dict(body, promotion_id="P-solo-later")
    status, copy = api.call("POST", path, later, token=tokens_["hq"])
    assert status == 201 and copy["campaign_id"] is None, copy
    assert copy["stacking"] == p["stacking"]  # the rules are its source's
    assert CampaignModel.get(c["campaign_id"]).promotion_ids == listed
