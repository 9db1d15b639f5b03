"""The points mall (issue 14 item 3): head office's rewards and members redeeming coupon
rewards. In-process moto; the races are in tests/service/test_mall_concurrency.py."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.auth.principal import Principal
from chalicelib.coupons import schemas as cs
from chalicelib.coupons import service as coupons
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.loyalty import points
from chalicelib.loyalty.models import (
    MallCounterModel,
    MallRedemptionModel,
    MallRewardModel,
    PointsEntryModel,
)

from tests.api.conftest import token_for
from tests.publishing import publish_template

HQ = Principal("hq-admin", "hq_admin")
KEY = {"Idempotency-Key": "redeem-0001"}


def template(**over) -> str:
    body = {"name": "满99减20", "kind": "amount_off", "threshold_fen": 9900,
            "amount_off_fen": 2000, "days_after_claim": 30, "per_customer_limit": 5,
            "claimable": False, **over}  # fmt: skip
    return publish_template(
        coupons.create_template(HQ, msgspec.convert(body, cs.TemplateCreate))
    ).template_id


@pytest.fixture
def member(aws):
    CustomerModel(customer_id="c-1", phone="13800000001", created_at="2026-11-01T00:00:00Z").save()
    points.award("c-1", 1000, ref="task:seed", kind="earn", reason="seed",
                 occurred_at=clock.now_iso())  # fmt: skip
    return "c-1"


def hq():
    return token_for("hq-admin", "hq_admin")


def me():
    return token_for("c-1", "customer")


def create(api, **over):
    body = {"reward_id": "rw-1", "kind": "coupon", "name": "满99减20券",
            "template_id": over.pop("template_id", None) or template(), "points": 300,
            "stock": 2, "per_member_limit": 2, **over}  # fmt: skip
    status, reward = api.call("POST", "/admin/loyalty/mall/rewards", body, hq())
    assert status == 201, reward
    return reward


def test_head_office_lists_a_reward_audited(api, member):
    reward = create(api)
    assert reward["stock"] == 2 and reward["redeemed_count"] == 0 and reward["version"] == 1
    status, page = api.call("GET", "/admin/loyalty/mall/rewards", None, hq())
    assert status == 200 and [r["reward_id"] for r in page["items"]] == ["rw-1"]
    actions = {e.action for e in AuditEntryModel.scan()}
    assert "mall.reward_create" in actions
    # the same id again is a conflict, nothing half-written
    status, err = api.call("POST", "/admin/loyalty/mall/rewards",
                           {"reward_id": "rw-1", "kind": "coupon", "name": "x",
                            "template_id": reward["template_id"], "points": 1, "stock": 1},
                           hq())  # fmt: skip
    assert status == 409 and err["error"]["code"] == "reward_exists"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "coupon", "name": "x", "points": 1, "stock": 1}, "template_id"),
        ({"kind": "product", "name": "x", "points": 1, "stock": 1}, "sku"),
        (
            {
                "kind": "coupon",
                "name": "x",
                "points": 1,
                "stock": 1,
                "template_id": "t",
                "cash_fen": 100,
            },
            "cash_fen",
        ),
        (
            {
                "kind": "product",
                "name": "x",
                "points": 1,
                "stock": 1,
                "sku": "1",
                "starts_at": "2026-12-02T00:00:00Z",
                "ends_at": "2026-12-01T00:00:00Z",
            },
            "ends_at",
        ),
    ],
)
def test_hostile_rewards_are_refused_and_nothing_written(api, member, body, field):
    status, err = api.call("POST", "/admin/loyalty/mall/rewards", body, hq())
    assert status == 422, err
    assert field in {d["field"] for d in err["error"]["details"]}
    assert list(MallRewardModel.scan()) == []


def test_unknown_coupon_template_is_404(api, member):
    status, err = api.call("POST", "/admin/loyalty/mall/rewards",
                           {"kind": "coupon", "name": "x", "points": 1, "stock": 1,
                            "template_id": "nope"}, hq())  # fmt: skip
    assert status == 404 and err["error"]["code"] == "coupon_template_not_found"


def test_redeeming_a_coupon_takes_points_stock_and_issues_the_coupon(api, member):
    reward = create(api)
    status, r = api.call("POST", "/members/me/mall/redemptions", {"reward_id": "rw-1"}, me(),
                         headers=KEY)  # fmt: skip
    assert status == 201, r
    assert r["state"] == "done" and r["points"] == 300
    coupon = CouponModel.get(r["coupon_id"])
    assert coupon.customer_id == "c-1" and coupon.source == "mall"
    assert coupon.template_id == reward["template_id"]
    assert points.balance("c-1").spendable == 700
    spend = PointsEntryModel.get("c-1", f"mall:{r['redemption_id']}")
    assert int(spend.delta) == -300 and spend.kind == "spend"
    stored = MallRewardModel.get("rw-1")
    assert (int(stored.stock), int(stored.redeemed_count)) == (1, 1)
    assert int(CouponTemplateModel.get(reward["template_id"]).issued_count) == 1

    # the same key and body again: the same redemption, nothing taken twice
    status, again = api.call("POST", "/members/me/mall/redemptions", {"reward_id": "rw-1"},
                             me(), headers=KEY)  # fmt: skip
    assert status == 200 and again == r
    assert points.balance("c-1").spendable == 700
    assert int(MallRewardModel.get("rw-1").stock) == 1
    # the same key, another body: refused
    status, err = api.call("POST", "/members/me/mall/redemptions",
                           {"reward_id": "rw-1", "fulfilment": "delivery"}, me(),
                           headers=KEY)  # fmt: skip
    assert status == 422 and err["error"]["code"] == "idempotency_key_reused"


def test_no_key_is_400(api, member):
    create(api)
    status, err = api.call("POST", "/members/me/mall/redemptions", {"reward_id": "rw-1"}, me())
    assert status == 400 and err["error"]["code"] == "idempotency_key_required"


def redeem(api, key):
    return api.call("POST", "/members/me/mall/redemptions", {"reward_id": "rw-1"}, me(),
                    headers={"Idempotency-Key": key})  # fmt: skip


def test_per_member_limit_and_stock_hold_and_refusals_take_nothing(api, member):
    create(api, stock=5, per_member_limit=2)
    assert redeem(api, "key-000001")[0] == 201
    assert redeem(api, "key-000002")[0] == 201
    status, err = redeem(api, "key-000003")
    assert status == 409 and err["error"]["code"] == "reward_limit_reached"
    assert points.balance("c-1").spendable == 400
    assert int(MallCounterModel.get("rw-1#c-1").redeemed) == 2
    assert int(MallRewardModel.get("rw-1").stock) == 3
    assert MallRedemptionModel.count() == 2


def test_sold_out_and_unaffordable(api, member):
    create(api, stock=1, per_member_limit=5, points=600)
    assert redeem(api, "key-000001")[0] == 201
    status, err = redeem(api, "key-000002")
    assert status == 409 and err["error"]["code"] == "reward_sold_out"
    api.call("POST", "/admin/loyalty/mall/rewards/rw-1/stock", {"delta": 3}, hq())
    status, err = redeem(api, "key-000003")  # 400 points left, 600 needed
    assert status == 409 and err["error"]["code"] == "insufficient_points"
    assert err["error"]["details"]["spendable"] == 400
    assert int(MallRewardModel.get("rw-1").stock) == 3
    assert len(list(CouponModel.by_customer.query("c-1"))) == 1


def test_a_price_changed_after_reading_is_refused(api, member, monkeypatch):
    """The transaction checks the points the member was shown: an edit landing between
    the read and the write refuses the redemption rather than charging the new price."""
    from chalicelib.loyalty import mall

    create(api)
    real = mall.get_reward

    def stale(reward_id, consistent=True):
        m = real(reward_id, consistent)
        m.points = 100  # what the member saw before head office raised it to 300
        return m

    monkeypatch.setattr(mall, "get_reward", stale)
    status, err = redeem(api, "key-000001")
    monkeypatch.setattr(mall, "get_reward", real)
    assert status == 409 and err["error"]["code"] == "reward_changed"
    assert points.balance("c-1").spendable == 1000


def test_inactive_or_ended_rewards_are_not_on_offer(api, member):
    reward = create(api)
    status, upd = api.call("PATCH", "/admin/loyalty/mall/rewards/rw-1",
                           {"version": 1, "active": False}, hq())  # fmt: skip
    assert status == 200 and upd["active"] is False and upd["version"] == 2
    status, err = redeem(api, "key-000001")
    assert status == 409 and err["error"]["code"] == "reward_not_available"
    status, view = api.call("GET", "/members/me/mall", None, me())
    assert status == 200 and view["items"] == [] and view["spendable_points"] == 1000
    # a stale version is refused
    status, err = api.call("PATCH", "/admin/loyalty/mall/rewards/rw-1",
                           {"version": 1, "active": True}, hq())  # fmt: skip
    assert status == 409 and err["error"]["code"] == "reward_changed"
    del reward


def test_the_mall_shows_what_the_member_can_afford(api, member):
    create(api, reward_id="rw-1", points=300)
    create(api, reward_id="rw-2", points=5000)
    create(api, reward_id="rw-3", points=10, stock=0)
    status, view = api.call("GET", "/members/me/mall", None, me())
    assert status == 200
    got = {i["reward_id"]: (i["affordable"], i["in_stock"]) for i in view["items"]}
    assert got == {"rw-1": (True, True), "rw-2": (False, True), "rw-3": (False, False)}
    redeem(api, "key-000001")
    _, view = api.call("GET", "/members/me/mall", None, me())
    assert {i["reward_id"]: i["redeemed_by_me"] for i in view["items"]}["rw-1"] == 1
    status, mine = api.call("GET", "/members/me/mall/redemptions", None, me())
    assert status == 200 and len(mine["items"]) == 1


def test_stock_withdrawal_never_goes_below_zero(api, member):
    create(api, stock=2)
    status, err = api.call("POST", "/admin/loyalty/mall/rewards/rw-1/stock", {"delta": -3}, hq())
    assert status == 409 and err["error"]["code"] == "stock_too_low"
    assert err["error"]["details"]["stock"] == 2
    status, r = api.call("POST", "/admin/loyalty/mall/rewards/rw-1/stock", {"delta": -2}, hq())
    assert status == 200 and r["stock"] == 0


def test_the_coupon_templates_own_limit_is_a_limit_reached(api, member):
    """A member holding as many of the template's coupons as it allows is at a limit,
    whatever the reward's own limit says; nothing is taken."""
    create(api, template_id=template(per_customer_limit=1), per_member_limit=3)
    assert redeem(api, "key-000001")[0] == 201
    status, err = redeem(api, "key-000002")
    assert status == 409 and err["error"]["code"] == "reward_limit_reached"
    assert points.balance("c-1").spendable == 700
    assert int(MallRewardModel.get("rw-1").stock) == 1


def test_the_demo_mall_seeds_once_with_a_living_programme(aws):
    """./daojia up seeds 4 rewards through create_reward: coupons for points, a product
    for points and one for points + cash; a second run writes nothing."""
    from chalicelib.catalogue.imports import apply_products
    from chalicelib.catalogue.rules import parse_product

    from infra.local import demo_data
    from infra.local.seed import SeedReport, _seed_mall

    wanted = {r["sku"] for r in demo_data.mall_rewards() if r["kind"] == "product"}
    apply_products(
        [parse_product(p, i) for i, p in enumerate(demo_data.products()) if p["sku"] in wanted]
    )
    for raw in demo_data.coupon_templates():
        publish_template(coupons.create_template(HQ, msgspec.convert(raw, cs.TemplateCreate)))
    first, second = SeedReport(), SeedReport()
    _seed_mall(first)
    _seed_mall(second)
    assert (first.mall_rewards.created, second.mall_rewards.unchanged) == (4, 4)
    kinds = sorted((r.kind, r.cash_fen > 0) for r in mall_list())
    assert kinds == [("coupon", False), ("coupon", False), ("product", False), ("product", True)]


def mall_list():
    from chalicelib.loyalty import mall

    return mall.list_rewards().items


def test_an_edit_changes_only_what_it_sends_and_null_clears_the_end(api, member):
    create(api, ends_at="2027-01-01T00:00:00Z")
    status, r = api.call("PATCH", "/admin/loyalty/mall/rewards/rw-1",
                         {"version": 1, "points": 250}, hq())  # fmt: skip
    assert status == 200, r
    assert (r["points"], r["ends_at"], r["name"], r["version"]) == (
        250, "2027-01-01T00:00:00Z", "满99减20券", 2)  # fmt: skip
    status, r = api.call("PATCH", "/admin/loyalty/mall/rewards/rw-1",
                         {"version": 2, "ends_at": None}, hq())  # fmt: skip
    assert status == 200 and r["ends_at"] is None and r["points"] == 250
    actions = [e.action for e in AuditEntryModel.scan()]
    assert actions.count("mall.reward_update") == 2
