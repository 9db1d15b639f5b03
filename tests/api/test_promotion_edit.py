"""PATCH /admin/promotions/{id}: name, budget, window end and (before it starts) tiers,
each refusal naming its field; the version that keeps two editors apart."""

from __future__ import annotations

import pytest
from chalicelib.promotions import service
from chalicelib.promotions.edit_rules import edit_errors, tier_errors
from chalicelib.promotions.models import FlashShardModel, PromotionModel

from tests.api.test_promotions import at, create, flash, tiered

TIERS = [{"threshold_fen": 5000, "off_fen": 500}, {"threshold_fen": 9900, "off_fen": 1500}]


@pytest.fixture(autouse=True)
def no_cache():
    service.forget_active_cache()
    yield
    service.forget_active_cache()


def patch(api, tokens_, pid, body, who="hq"):
    return api.call("PATCH", f"/admin/promotions/{pid}", body, token=tokens_[who])


def fields(err):
    return [d["field"] for d in err["error"]["details"]]


def test_tiers_change_before_the_start_only(api, tokens_, catalogue):
    _, future = create(api, tokens_, tiered(starts_at=at(2), ends_at=at(30)))
    status, p = patch(api, tokens_, future["promotion_id"], {"tiers": TIERS, "expected_version": 0})
    assert status == 200 and p["tiers"] == TIERS and p["version"] == 1
    _, live = create(api, tokens_, tiered())
    status, err = patch(api, tokens_, live["promotion_id"], {"tiers": TIERS})
    assert status == 422 and fields(err) == ["tiers"]
    assert "tiers are fixed" in err["error"]["details"][0]["reason"]
    bad = [{"threshold_fen": 500, "off_fen": 600}]
    status, err = patch(api, tokens_, future["promotion_id"], {"tiers": bad})
    assert status == 422 and fields(err) == ["tiers[0].off_fen"]


def test_window_end_moves_and_a_flash_sales_shards_follow(api, tokens_, catalogue):
    _, p = create(api, tokens_, flash())
    later = at(5)
    status, got = patch(api, tokens_, p["promotion_id"], {"ends_at": later})
    assert status == 200 and got["ends_at"] == later
    shards = [FlashShardModel.get(f"{p['promotion_id']}#{k}") for k in range(3)]
    assert {s.ends_at for s in shards} == {later}
    assert PromotionModel.get(p["promotion_id"]).ends_key.startswith(later)
    for bad in (at(-0.5), "not a time"):
        status, err = patch(api, tokens_, p["promotion_id"], {"ends_at": bad})
        assert status == 422 and fields(err) == ["ends_at"]


def test_an_ended_promotion_is_final(api, tokens_, catalogue):
    _, p = create(api, tokens_, tiered())
    assert patch(api, tokens_, p["promotion_id"], {"status": "ended"})[0] == 200
    status, err = patch(api, tokens_, p["promotion_id"], {"ends_at": at(48)})
    assert status == 422 and "has ended" in err["error"]["details"][0]["reason"]
    assert patch(api, tokens_, p["promotion_id"], {"name": "改名"})[0] == 200


def test_budget_not_below_spent(api, tokens_, catalogue):
    _, p = create(api, tokens_, tiered(budget_fen=10000))
    PromotionModel(p["promotion_id"]).update(actions=[PromotionModel.budget_left_fen.set(4000)])
    status, err = patch(api, tokens_, p["promotion_id"], {"budget_fen": 5000})
    assert status == 422 and err["error"]["details"] == [
        {"field": "budget_fen", "reason": "below the 6000 spent"}
    ]
    status, got = patch(api, tokens_, p["promotion_id"], {"budget_fen": 20000})
    assert status == 200 and (got["budget_fen"], got["spent_fen"]) == (20000, 6000)
    _, no_budget = create(api, tokens_, tiered())
    status, err = patch(api, tokens_, no_budget["promotion_id"], {"budget_fen": 5000})
    assert status == 422 and fields(err) == ["budget_fen"]
    _, half = create(api, tokens_, {**tiered(), "kind": "second_half_price", "tiers": None})
    status, err = patch(api, tokens_, half["promotion_id"], {"budget_fen": 5000})
    assert status == 422 and "not used by" in err["error"]["details"][0]["reason"]


def test_a_stale_version_is_a_409_and_changes_nothing(api, tokens_, catalogue):
    _, p = create(api, tokens_, tiered())
    assert patch(api, tokens_, p["promotion_id"], {"name": "甲", "expected_version": 0})[0] == 200
    status, err = patch(api, tokens_, p["promotion_id"], {"name": "乙", "expected_version": 0})
    assert (status, err["error"]["code"]) == (409, "promotion_changed")
    assert PromotionModel.get(p["promotion_id"]).name == "甲"


@pytest.mark.parametrize("who", ["manager_a", "staff_a", "customer", "relay_a"])
def test_only_head_office_edits(api, tokens_, catalogue, who):
    _, p = create(api, tokens_, tiered())
    assert patch(api, tokens_, p["promotion_id"], {"name": "x"}, who=who)[0] == 403


@pytest.mark.parametrize(
    "body",
    [
        {"expected_version": 1},
        {"tiers": [{"threshold_fen": "1", "off_fen": 1}]},
        {"tiers": [TIERS[0]] * 11},
        {"budget_fen": 0},
        {"ends_at": None, "name": None},
        {"stores": ["sh-a"]},
    ],
)
def test_bad_bodies(api, tokens_, catalogue, body):
    _, p = create(api, tokens_, tiered())
    assert patch(api, tokens_, p["promotion_id"], body)[0] == 422


def test_rules():
    assert tier_errors([]) == [("tiers", "required: at least one tier")]
    base = {
        "kind": "tiered",
        "status": "active",
        "starts_at": "2026-12-01T00:00:00Z",
        "ends_at": "2026-12-31T00:00:00Z",
        "has_budget": True,
        "now": "2026-11-30T00:00:00Z",
        "new_ends_at": None,
        "new_tiers": None,
        "new_budget": None,
    }
    assert edit_errors(**{**base, "new_tiers": [(100, 10)]}) == []
    started = {**base, "now": "2026-12-02T00:00:00Z"}
    assert edit_errors(**{**started, "new_tiers": [(100, 10)]})[0][0] == "tiers"
    assert edit_errors(**{**started, "new_ends_at": "2026-12-03T00:00:00Z"}) == []
    assert edit_errors(**{**started, "new_ends_at": "2026-12-01T00:00:00Z"})[0][0] == "ends_at"
    assert edit_errors(**{**started, "has_budget": False, "new_budget": 5})[0][0] == "budget_fen"
    over = {**base, "now": "2027-01-02T00:00:00Z", "new_ends_at": "2027-02-01T00:00:00Z"}
    assert "window is over" in edit_errors(**over)[0][1]
