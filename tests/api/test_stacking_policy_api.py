"""Stacking policy through the API (issue 18 item 1): created on promotions and coupon
templates, shown in their views, and applied by the quote (docs/promotions.md
"Stacking policy")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.catalogue.models import ProductModel
from chalicelib.coupons import service as coupon_service
from chalicelib.kernel import clock
from chalicelib.promotions import service as promotion_service

from tests import publishing
from tests.api.test_orders_api import cart, place


@pytest.fixture(autouse=True)
def fresh_caches():
    promotion_service.forget_active_cache()
    coupon_service.forget_auto_cache()
    yield
    promotion_service.forget_active_cache()


def _create_promotion(api, tokens_, body):
    """The one place this file creates a promotion (drafts may add an approval here)."""
    now = clock.now()
    body = {
        "starts_at": clock.iso(now - timedelta(minutes=1)),
        "ends_at": clock.iso(now + timedelta(hours=2)),
        **body,
    }
    status, p = publishing.create_promotion(api, body, tokens_["hq"])
    assert status == 201, p
    promotion_service.forget_active_cache()
    return p


def _create_template(api, tokens_, body):
    """The one place this file creates a coupon template."""
    body = {"kind": "amount_off", "days_after_claim": 7, "per_customer_limit": 5, **body}
    status, t = publishing.create_template(api, body, tokens_["hq"])
    assert status == 201, t
    return t


def _claim(api, tokens_, t, request_id):
    body = {"template_id": t["template_id"], "request_id": request_id}
    status, c = api.call("POST", "/coupons/claim", body, token=tokens_["customer"])
    assert status == 201, c
    return c["coupon_id"]


def _quote(api, tokens_, body):
    status, q = api.call("POST", "/orders/quote", body, tokens_["customer"])
    assert status == 200, q
    return q


def test_defaults_are_shown_and_store_nothing(api, catalogue, tokens_):
    p = _create_promotion(
        api,
        tokens_,
        {"kind": "tiered", "name": "满30减3", "tiers": [{"threshold_fen": 3000, "off_fen": 300}]},
    )
    assert p["stacking"] == {
        "exclusive": False,
        "priority": 0,
        "not_with_tiered": False,
        "not_with_member_price": False,
        "stack_group": None,
    }
    assert p["margin_floor"] == "refuse"
    from chalicelib.promotions.models import PromotionModel

    stored = PromotionModel.get(p["promotion_id"])
    assert stored.stacking is None and stored.margin_floor is None


def test_a_policy_is_refused_where_it_means_nothing(api, catalogue, tokens_):
    now = clock.now()
    body = {
        "kind": "flash_sale",
        "name": "秒杀",
        "sku": "100",
        "flash_price_fen": 100,
        "quantity": 3,
        "per_customer_limit": 1,
        "starts_at": clock.iso(now),
        "ends_at": clock.iso(now + timedelta(hours=1)),
        "stacking": {"exclusive": True},
        "margin_floor": "exclude",
    }
    status, err = api.call("POST", "/admin/promotions", body, token=tokens_["hq"])
    assert status == 422
    fields = {d["field"] for d in err["error"]["details"]}
    assert {"stacking", "margin_floor"} <= fields
    status, err = api.call(
        "POST",
        "/admin/coupon-templates",
        {
            "name": "免运费",
            "kind": "free_delivery",
            "days_after_claim": 7,
            "stacking": {"stack_group": "store"},
        },
        token=tokens_["hq"],
    )
    assert status == 422 and err["error"]["details"][0]["field"] == "stacking.stack_group"


def test_exclude_mode_keeps_the_tiered_discount_on_the_other_lines(api, catalogue, tokens_):
    # "100" costs ¥10.00 at a thin margin (cost ¥9.90); "101" ¥10.01 has no known cost.
    ProductModel("100").update(actions=[ProductModel.cost_fen.set(990)])
    body = {"kind": "tiered", "name": "满30减3", "tiers": [{"threshold_fen": 3000, "off_fen": 300}]}
    refuse = _create_promotion(api, tokens_, body)
    q = _quote(api, tokens_, cart(("100", 3), ("101", 3)))
    assert q["discount_fen"] == 0
    assert any("would sell 100 below cost" in n for n in q["notes"])
    # switched to "exclude": the 满减 stays on the other line (3 x ¥10.01 reaches ¥30)
    status, p = api.call(
        "PATCH",
        f"/admin/promotions/{refuse['promotion_id']}",
        {"margin_floor": "exclude"},
        token=tokens_["hq"],
    )
    assert status == 200 and p["margin_floor"] == "exclude", p
    promotion_service.forget_active_cache()
    q = _quote(api, tokens_, cart(("100", 3), ("101", 3)))
    [d] = q["discounts"]
    assert (d["amount_fen"], d["base_fen"]) == (300, 3003)
    assert "100 excluded (margin floor)" in d["base"]
    assert [line["discount_fen"] for line in q["lines"]] == [0, 300]
    assert any("100 left out of its base (margin floor)" in n for n in q["notes"])


def test_two_coupons_of_different_stack_groups_apply_together_and_exclusive_wins_alone(
    api, catalogue, tokens_
):
    store = _create_template(
        api,
        tokens_,
        {"name": "门店券", "amount_off_fen": 300, "stacking": {"stack_group": "store"}},
    )
    supplier = _create_template(
        api,
        tokens_,
        {
            "name": "供应商券",
            "amount_off_fen": 200,
            "funded_by": "supplier",
            "funder": "Acme",
            "stacking": {"stack_group": "supplier"},
        },
    )
    assert supplier["stacking"]["stack_group"] == "supplier"
    a = _claim(api, tokens_, store, "r-a")
    b = _claim(api, tokens_, supplier, "r-b")
    q = _quote(api, tokens_, cart(("100", 3)))
    assert sorted(q["applied_coupon_ids"]) == sorted([a, b])
    assert q["discount_fen"] == 500
    # placing takes both, in the order's one transaction; cancelling gives both back
    from chalicelib.coupons.models import CouponModel

    status, order = place(api, tokens_["customer"], cart(("100", 3), coupon_ids=[a, b]))
    assert status == 201 and order["discount_fen"] == 500, order
    assert {CouponModel.get(c, consistent_read=True).state for c in (a, b)} == {"locked"}
    api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert {CouponModel.get(c, consistent_read=True).state for c in (a, b)} == {"available"}
    # an exclusive tiered promotion saving more takes the order alone
    _create_promotion(
        api,
        tokens_,
        {
            "kind": "tiered",
            "name": "满30减8 独享",
            "tiers": [{"threshold_fen": 3000, "off_fen": 800}],
            "stacking": {"exclusive": True},
        },
    )
    q = _quote(api, tokens_, cart(("100", 3)))
    assert [d["kind"] for d in q["discounts"]] == ["tiered"]
    assert q["discount_fen"] == 800 and q["applied_coupon_ids"] == []
    assert any("is exclusive" in n for n in q["notes"])
    verdicts = {v["coupon_id"]: v for v in q["coupons"]}
    assert verdicts[a]["applies"] is True  # on its own it still would
