"""Draft, approve, reject, clone (issue 18 item 5): drafts are not priced nor listed;
approvals by the rule of kernel/approvals.py; every error; store roles refused."""

from __future__ import annotations

import json
import threading

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.kernel import clock
from chalicelib.promotions import service as promotions

from tests.api.conftest import token_for
from tests.api.test_promotions import at, flash, tiered


@pytest.fixture(autouse=True)
def fresh_cache():
    promotions.forget_active_cache()
    yield
    promotions.forget_active_cache()


@pytest.fixture
def hq2(aws):
    return token_for("hq-second", "hq_admin")


def post(api, path, body, token):
    return api.call("POST", path, body, token=token)


def draft(api, tokens_, body):
    status, p = post(api, "/admin/promotions", body, tokens_["hq"])
    assert status == 201 and p["status"] == "draft" and p["approvals"] == [], p
    return p


def listed_at(api, store="sh-a"):
    return [p["promotion_id"] for p in api.call("GET", f"/stores/{store}/promotions")[1]["items"]]


def test_a_small_budget_needs_one_approval_and_publishes(api, tokens_, catalogue):
    p = draft(api, tokens_, tiered(starts_at=at(-1), budget_fen=5_000_000))
    assert p["approvals_needed"] == 1 and not p["live"]
    assert listed_at(api) == []  # a draft is neither listed nor priced
    path = f"/admin/promotions/{p['promotion_id']}"
    status, got = post(api, f"{path}/approve", {"expected_version": 0}, tokens_["hq"])
    assert status == 200 and got["status"] == "active" and got["live"]
    assert [a["by"] for a in got["approvals"]] == ["hq-admin"]
    assert listed_at(api) == [p["promotion_id"]]
    status, err = post(api, f"{path}/approve", {}, tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "not_a_draft"
    status, err = post(api, f"{path}/reject", {"reason": "晚了"}, tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "not_a_draft"
    actions = [e.action for e in AuditEntryModel.scan() if e.target_id == p["promotion_id"]]
    assert sorted(actions) == ["promotion.create", "promotion.publish"]


def test_above_the_threshold_two_different_people(api, tokens_, catalogue, hq2):
    p = draft(api, tokens_, tiered(starts_at=at(-1), budget_fen=5_000_001))
    assert p["approvals_needed"] == 2
    path = f"/admin/promotions/{p['promotion_id']}/approve"
    status, got = post(api, path, {}, tokens_["hq"])  # the creator may be one of the two
    assert status == 200 and got["status"] == "pending" and listed_at(api) == []
    status, err = post(api, path, {}, tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "already_approved_by_you"
    status, got = post(api, path, {}, hq2)
    assert status == 200 and got["status"] == "active"
    assert [a["by"] for a in got["approvals"]] == ["hq-admin", "hq-second"]
    assert listed_at(api) == [p["promotion_id"]]


def test_a_money_change_clears_the_approvals_and_reject_returns_to_draft(
    api, tokens_, catalogue, hq2
):
    p = draft(api, tokens_, tiered())  # no budget: unbounded, two approvers
    path = f"/admin/promotions/{p['promotion_id']}"
    assert post(api, f"{path}/approve", {}, hq2)[1]["status"] == "pending"
    status, got = api.call("PATCH", path, {"name": "改名"}, token=tokens_["hq"])
    assert status == 200 and got["status"] == "pending"  # a label keeps the approval
    status, got = api.call(
        "PATCH", path, {"budget_fen": 100_000, "expected_version": 1}, token=tokens_["hq"]
    )
    assert status == 200 and got["status"] == "draft" and got["approvals"] == []
    assert got["approvals_needed"] == 1
    changes = [
        json.loads(e.changes)
        for e in AuditEntryModel.scan()
        if e.target_id == p["promotion_id"] and e.action == "promotion.update"
    ]
    assert {"approvals": [["hq-second"], []], "status": ["pending", "draft"]}.items() <= (
        next(c for c in changes if "approvals" in c).items()
    )
    # a stale version: nothing approved
    status, err = post(api, f"{path}/approve", {"expected_version": 1}, hq2)
    assert status == 409 and err["error"]["code"] == "promotion_changed"
    status, got = post(api, f"{path}/reject", {"reason": "预算不对"}, hq2)
    assert status == 200 and got["status"] == "draft" and got["rejected_reason"] == "预算不对"
    status, err = post(api, f"{path}/reject", {"reason": ""}, hq2)
    assert status == 422
    # PATCH status cannot publish a draft template either: only approval does
    status, err = api.call("GET", "/admin/promotions?status=draft", token=tokens_["hq"])
    assert [x["promotion_id"] for x in err["items"]] == [p["promotion_id"]]


def test_a_draft_flash_sale_takes_no_purchase_until_published(api, tokens_, catalogue):
    from chalicelib.kernel.errors import Conflict
    from chalicelib.promotions import repo
    from chalicelib.promotions.models import FlashShardModel

    p = draft(api, tokens_, flash(starts_at=at(-1)))
    pid = p["promotion_id"]
    assert {s.open for s in FlashShardModel.scan()} == {0}
    with pytest.raises(Conflict):
        repo.reserve(pid, "c-1", 1)
    # ¥10.00 list price, ¥9.90 flash price, 10 units: ¥1.00 at most, one approval
    assert p["approvals_needed"] == 1
    _status, got = post(api, f"/admin/promotions/{pid}/approve", {}, tokens_["hq"])
    assert got["status"] == "active"
    assert {s.open for s in FlashShardModel.scan()} == {1}
    repo.reserve(pid, "c-1", 1)


def test_store_roles_and_customers_are_refused(api, tokens_, catalogue):
    p = draft(api, tokens_, tiered())
    for who in ("customer", "staff_a", "manager_a"):
        for what, body in (("approve", {}), ("reject", {"reason": "x"})):
            status, _ = post(
                api, f"/admin/promotions/{p['promotion_id']}/{what}", body, tokens_[who]
            )
            assert status == 403
    status, _err = post(api, "/admin/promotions/nope/approve", {}, tokens_["hq"])
    assert status == 404


def test_two_approvers_at_once_both_count(api, tokens_, catalogue):
    p = draft(api, tokens_, tiered())
    path = f"/admin/promotions/{p['promotion_id']}/approve"
    barrier, answers = threading.Barrier(2), []

    def approve(who):
        barrier.wait()
        answers.append(post(api, path, {}, token_for(who, "hq_admin")))

    threads = [threading.Thread(target=approve, args=(w,)) for w in ("a1", "a2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in answers) == [200, 200]
    _, got = api.call("GET", f"/admin/promotions/{p['promotion_id']}", token=tokens_["hq"])
    assert got["status"] == "active" and sorted(a["by"] for a in got["approvals"]) == ["a1", "a2"]


def test_clone_is_a_draft_copy_and_idempotent(api, tokens_, catalogue):
    p = draft(api, tokens_, tiered(budget_fen=300_000))
    path = f"/admin/promotions/{p['promotion_id']}/clone"
    body = {"promotion_id": "P-copy", "starts_at": at(48), "ends_at": at(72), "name": "再来一次"}
    status, c = post(api, path, body, tokens_["hq"])
    assert status == 201 and c["status"] == "draft" and c["name"] == "再来一次"
    assert c["tiers"] == p["tiers"] and c["budget_fen"] == 300_000 and c["spent_fen"] == 0
    assert (c["starts_at"], c["ends_at"]) == (body["starts_at"], body["ends_at"])
    status, again = post(api, path, body, tokens_["hq"])
    assert status in (200, 201) and again == c
    status, err = post(api, path, dict(body, name="别的"), tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "promotion_exists"
    status, err = post(api, path, dict(body, promotion_id="P-bad", ends_at=at(1)), tokens_["hq"])
    assert status == 422
    status, _ = post(api, path, body, tokens_["manager_a"])
    assert status == 403


def test_templates_draft_approve_reject(api, tokens_, catalogue, hq2):
    body = {
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "days_after_claim": 7,
        "total_quantity": 3000,  # 3000 × ¥20 = ¥60,000: above the threshold
    }
    status, t = post(api, "/admin/coupon-templates", body, tokens_["hq"])
    assert status == 201 and t["status"] == "draft" and t["approvals_needed"] == 2
    tid = t["template_id"]
    claim = {"template_id": tid, "request_id": "r-1"}
    status, err = post(api, "/coupons/claim", claim, tokens_["customer"])
    assert status == 409  # a draft is not claimable
    path = f"/admin/coupon-templates/{tid}"
    status, err = api.call("PATCH", path, {"status": "active"}, token=tokens_["hq"])
    assert status == 422  # published by approval only
    assert post(api, f"{path}/approve", {}, tokens_["hq"])[1]["status"] == "pending"
    status, err = post(api, f"{path}/approve", {}, tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "already_approved_by_you"
    status, got = api.call("PATCH", path, {"total_quantity": 2000}, token=tokens_["hq"])
    assert got["status"] == "draft" and got["approvals"] == [] and got["approvals_needed"] == 1
    status, got = post(api, f"{path}/reject", {"reason": "面额过高"}, hq2)
    assert got["rejected_reason"] == "面额过高"
    status, got = post(api, f"{path}/approve", {"expected_version": got["version"]}, hq2)
    assert status == 200 and got["status"] == "active"
    status, _ = post(api, "/coupons/claim", claim, tokens_["customer"])
    assert status == 201
    for who in ("staff_a", "manager_a", "customer"):
        assert post(api, f"{path}/approve", {}, tokens_[who])[0] == 403
    status, err = post(api, f"{path}/approve", {}, tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "not_a_draft"


def test_a_campaign_with_a_draft_does_not_launch(api, tokens_, catalogue, hq2):
    from chalicelib.catalogue.models import ProductModel

    ProductModel("100").update(actions=[ProductModel.cost_fen.set(500)])
    p = draft(api, tokens_, tiered(starts_at=at(23), ends_at=at(24 * 6)))
    campaign = {
        "name": "双11",
        "grade": "S",
        "starts_at": at(24),
        "ends_at": at(24 * 5),
        "goal": {"gmv_fen": 5_000_000},
        "budget": {"hq_fen": 30000, "store_fen": 10000, "supplier_fen": 0},
        "promotion_ids": [p["promotion_id"]],
    }
    _, c = post(api, "/admin/campaigns", campaign, tokens_["hq"])
    path = f"/admin/campaigns/{c['campaign_id']}"
    status, err = post(api, f"{path}/launch", None, tokens_["hq"])
    assert status == 422 and err["error"]["code"] == "campaign_checklist_failed"
    check = next(x for x in err["error"]["details"]["checks"] if x["id"] == "published")
    assert not check["ok"] and check["details"][0]["id"] == p["promotion_id"]
    for who in (tokens_["hq"], hq2):
        post(api, f"/admin/promotions/{p['promotion_id']}/approve", {}, who)
    status, got = post(api, f"{path}/launch", None, tokens_["hq"])
    assert status == 200 and got["state"] == "scheduled", got


def test_simulate_on_hand_made_carts_gives_exact_figures(api, tokens_, catalogue):
    from chalicelib.catalogue.models import ProductModel

    ProductModel("100").update(actions=[ProductModel.cost_fen.set(600)])
    body = tiered(
        starts_at=at(2),
        tiers=[{"threshold_fen": 3000, "off_fen": 500}],
        scope={"categories": ["水果"], "skus": []},
    )
    p = draft(api, tokens_, body)
    carts = {
        "carts": [
            {"store_id": "sh-a", "lines": [{"sku": "100", "qty": 3}]},  # 水果 3,000: -5.00
            {"store_id": "sh-a", "lines": [{"sku": "102", "qty": 5}]},  # 蔬菜: out of scope
            {"store_id": "sh-a", "lines": [{"sku": "101", "qty": 1}]},  # 水果 1,001: below
        ]
    }
    path = f"/admin/promotions/{p['promotion_id']}/simulate"
    status, got = post(api, path, carts, tokens_["hq"])
    assert status == 200, got
    assert {k: v for k, v in got.items() if k != "examples"} == {
        "promotion_id": p["promotion_id"],
        "carts": 3,
        "carts_changed": 1,
        "revenue_before_fen": 3000 + 5010 + 1001,
        "revenue_after_fen": 2500 + 5010 + 1001,
        "discount_before_fen": 0,
        "discount_after_fen": 500,
        "discount_cost_fen": 500,
        "by_funder": {"hq": 500},
        "margin_before_fen": 3000 - 3 * 600,
        "margin_after_fen": 2500 - 3 * 600,
        "lines_without_cost": 2,
    }
    assert got["examples"] == [
        {
            "cart": 0,
            "store_id": "sh-a",
            "subtotal_fen": 3000,
            "total_before_fen": 3000,
            "total_after_fen": 2500,
            "discounts_after": [got["examples"][0]["discounts_after"][0]],
        }
    ]
    _, after = api.call("GET", f"/admin/promotions/{p['promotion_id']}", token=tokens_["hq"])
    assert after["status"] == "draft" and after["version"] == 0  # nothing written
    bad = {"carts": [{"store_id": "sh-a", "lines": [{"sku": "nope", "qty": 1}]}]}
    status, err = post(api, path, bad, tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "carts[0].lines[0].sku"
    assert post(api, path, carts, tokens_["manager_a"])[0] == 403
    assert post(api, "/admin/promotions/nope/simulate", carts, tokens_["hq"])[0] == 404


def test_clone_a_campaign_copies_its_contents_as_drafts_idempotently(api, tokens_, catalogue):
    from tests.publishing import create_promotion, create_template

    _, p = create_promotion(api, tiered(starts_at=at(23), ends_at=at(24 * 6)), tokens_["hq"])
    template = {
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "starts_at": at(24),
        "ends_at": at(24 * 5),
        "total_quantity": 100,
    }
    _, t = create_template(api, template, tokens_["hq"])
    campaign = {
        "name": "双11",
        "grade": "S",
        "starts_at": at(24),
        "ends_at": at(24 * 5),
        "goal": {"gmv_fen": 5_000_000},
        "budget": {"hq_fen": 30000, "store_fen": 0, "supplier_fen": 0},
        "promotion_ids": [p["promotion_id"]],
        "coupon_template_ids": [t["template_id"]],
    }
    _, c = post(api, "/admin/campaigns", campaign, tokens_["hq"])
    path = f"/admin/campaigns/{c['campaign_id']}/clone"
    body = {"campaign_id": "C-next", "starts_at": at(24 * 8), "ends_at": at(24 * 12)}
    status, copy = post(api, path, body, tokens_["hq"])
    assert status == 201, copy
    assert copy["campaign_id"] == "C-next" and copy["state"] == "draft"
    assert copy["name"] == "双11" and copy["budget_fen"] == 30000
    (pid,), (tid,) = copy["promotion_ids"], copy["coupon_template_ids"]
    assert pid != p["promotion_id"] and tid != t["template_id"]
    _, pc = api.call("GET", f"/admin/promotions/{pid}", token=tokens_["hq"])
    assert pc["status"] == "draft" and pc["campaign_id"] == "C-next"
    moved = clock.parse(copy["starts_at"]) - clock.parse(c["starts_at"])  # as the campaign
    assert [clock.parse(pc[k]) for k in ("starts_at", "ends_at")] == [
        clock.parse(p[k]) + moved for k in ("starts_at", "ends_at")
    ]
    _, tc = api.call("GET", f"/admin/coupon-templates/{tid}", token=tokens_["hq"])
    assert tc["status"] == "draft" and tc["issued_count"] == 0
    assert [clock.parse(tc[k]) for k in ("starts_at", "ends_at")] == [
        clock.parse(t[k]) + moved for k in ("starts_at", "ends_at")
    ]
    status, again = post(api, path, body, tokens_["hq"])  # a retry: the same copy
    assert status in (200, 201) and again["promotion_ids"] == [pid]
    assert again["coupon_template_ids"] == [tid]
    status, err = post(api, path, dict(body, name="别的"), tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "promotion_exists"  # its copies first
    assert post(api, path, body, tokens_["manager_a"])[0] == 403
    # the source keeps its own, published contents
    _, src = api.call("GET", f"/admin/promotions/{p['promotion_id']}", token=tokens_["hq"])
    assert src["status"] == "active" and src["campaign_id"] == c["campaign_id"]


def last_weeks_orders(monkeypatch, *other_stores: str) -> None:
    """Paid pickup orders today at sh-a (3 × SKU 100, 水果 ¥30.00; 1 × SKU 102, 蔬菜) and
    3 × SKU 100 at each of ``other_stores``; then the clock moves to tomorrow, when
    today's orders are "last week"."""
    from datetime import timedelta

    from tests.order_steps import place_paid

    for store, sold in [("sh-a", ("100", 3)), ("sh-a", ("102", 1))] + [
        (s, ("100", 3)) for s in other_stores
    ]:
        place_paid([sold], fulfilment="pickup", store_id=store)
    tomorrow = clock.now() + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: tomorrow)


def simulated_last_week(api, tokens_, path) -> tuple[int, int, int]:
    """(carts, carts changed, discount cost) of ``path`` on last week's orders."""
    status, got = post(api, path, {"source": "last_week"}, tokens_["hq"])
    assert status == 200, got
    return got["carts"], got["carts_changed"], got["discount_cost_fen"]


def test_simulate_on_last_weeks_real_orders(api, tokens_, catalogue, monkeypatch):
    last_weeks_orders(monkeypatch)  # the fruit order reaches 满30减5, the other is out of scope
    body = tiered(
        stores=["sh-a"],
        starts_at=at(-2),
        ends_at=at(24 * 3),
        tiers=[{"threshold_fen": 3000, "off_fen": 500}],
        scope={"categories": ["水果"], "skus": []},
    )
    p = draft(api, tokens_, body)
    path = f"/admin/promotions/{p['promotion_id']}/simulate"
    assert simulated_last_week(api, tokens_, path) == (2, 1, 500)
    status, err = post(api, path, {}, tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "carts"  # or source
    from chalicelib.campaigns import simulate

    assert len(simulate.last_week(["sh-a"], clock.now(), cap=1)) == 1  # capped
    assert simulate.last_week(["sh-b"], clock.now()) == []


def test_simulate_reads_the_promotion_as_the_quote_would_mechanics_and_options(
    api, tokens_, catalogue
):
    """A draft 满件减 counts units (not fen) and a draft bundle prices its units: the
    simulation reads the promotion through the promotions cache's own view."""
    units = draft(
        api,
        tokens_,
        tiered(
            starts_at=at(-1),
            basis="units",
            tiers=[{"threshold_fen": 4, "off_fen": 500}],  # 4 units: ¥5 off
        ),
    )
    carts = {
        "carts": [
            {"store_id": "sh-a", "lines": [{"sku": "100", "qty": 4}]},  # 4 units, ¥40.00
            {"store_id": "sh-a", "lines": [{"sku": "101", "qty": 3}]},  # 3 units: below
        ]
    }
    status, got = post(
        api, f"/admin/promotions/{units['promotion_id']}/simulate", carts, tokens_["hq"]
    )
    assert status == 200, got
    assert (got["carts_changed"], got["discount_cost_fen"]) == (1, 500)
    bundle = draft(
        api,
        tokens_,
        {
            "kind": "bundle",
            "name": "任选3件25元",
            "bundle_units": 3,
            "price_fen": 2500,
            "scope": {"skus": ["100", "101", "102"]},
            "starts_at": at(-1),
            "ends_at": at(24),
        },
    )
    status, got = post(
        api, f"/admin/promotions/{bundle['promotion_id']}/simulate", carts, tokens_["hq"]
    )
    assert status == 200, got
    # cart 0: three of the four ¥10.00 units for ¥25 (¥5 off); cart 1: ¥30.03 for ¥25
    assert (got["carts_changed"], got["discount_cost_fen"]) == (2, 500 + 503)
