"""Simulate a coupon template before publishing it (issue 18 item 5): each cart priced as
today, then as if its customer held one coupon of the template (threshold, scope, stores,
stacking policy, product coupons, margin floor as at checkout); nothing written; head
office only; a free-delivery template is 422. docs/promotions.md, "Draft, approval and
simulation"."""

from __future__ import annotations

import pytest
from chalicelib.coupons.models import CouponModel
from chalicelib.promotions import service as promotions

from tests.api.test_promotions import tiered
from tests.api.test_workflow import last_weeks_orders, simulated_last_week
from tests.publishing import create_promotion


@pytest.fixture(autouse=True)
def fresh_cache():
    promotions.forget_active_cache()
    yield
    promotions.forget_active_cache()


def post(api, path, body, token):
    return api.call("POST", path, body, token=token)


def draft_template(api, tokens_, **over):
    body = {
        "name": "水果满30减5",
        "kind": "amount_off",
        "threshold_fen": 3000,
        "amount_off_fen": 500,
        "scope": {"categories": ["水果"]},
        "days_after_claim": 7,
        "funded_by": "supplier",
        "funder": "佳沛",
        **over,
    }
    status, t = post(api, "/admin/coupon-templates", body, tokens_["hq"])
    assert status == 201 and t["status"] == "draft", t
    return t


def cart(*lines, store="sh-a"):
    return {"store_id": store, "lines": [{"sku": s, "qty": q} for s, q in lines]}


def set_cost(sku: str, cost_fen: int) -> None:
    from chalicelib.catalogue.models import ProductModel

    ProductModel(sku).update(actions=[ProductModel.cost_fen.set(cost_fen)])


def test_sample_carts_give_exact_figures_and_nothing_is_written(api, tokens_, catalogue):
    set_cost("100", 600)  # 水果 ¥10.00 at sh-a
    set_cost("103", 950)  # 水果 ¥10.03: ¥5 off three would sell below cost
    t = draft_template(api, tokens_)
    carts = {
        "carts": [
            cart(("100", 3)),  # 水果 3,000: reaches 满30, -5.00
            cart(("102", 5)),  # 蔬菜 5,010: out of scope
            cart(("101", 1)),  # 水果 1,001: below the threshold
            cart(("103", 3)),  # 水果 3,009: below the margin floor, refused
            cart(("100", 3), store="sh-b"),  # 水果 3,075 at sh-b: -5.00
        ]
    }
    path = f"/admin/coupon-templates/{t['template_id']}/simulate"
    status, got = post(api, path, carts, tokens_["hq"])
    assert status == 200, got
    sh_b = 3 * 1025  # sh-b's prices follow sh-a's 25 products
    assert {k: v for k, v in got.items() if k != "examples"} == {
        "template_id": t["template_id"],
        "carts": 5,
        "carts_changed": 2,
        "revenue_before_fen": 3000 + 5010 + 1001 + 3009 + sh_b,
        "revenue_after_fen": 2500 + 5010 + 1001 + 3009 + sh_b - 500,
        "discount_before_fen": 0,
        "discount_after_fen": 1000,
        "discount_cost_fen": 1000,
        "by_funder": {"supplier": 1000},
        "margin_before_fen": (3000 - 1800) + (3009 - 2850) + (sh_b - 1800),
        "margin_after_fen": (2500 - 1800) + (3009 - 2850) + (sh_b - 500 - 1800),
        "lines_without_cost": 2,
    }
    assert [(e["cart"], e["total_before_fen"], e["total_after_fen"]) for e in got["examples"]] == [
        (0, 3000, 2500),
        (4, sh_b, sh_b - 500),
    ]
    assert got["examples"][0]["discounts_after"] == ["水果满30减5"]
    # read-only: still a draft at version 0, nothing issued, no coupon written
    _, after = api.call("GET", f"/admin/coupon-templates/{t['template_id']}", token=tokens_["hq"])
    assert (after["status"], after["version"], after["issued_count"]) == ("draft", 0, 0)
    assert list(CouponModel.scan()) == []


def test_a_template_for_one_store_changes_only_its_carts(api, tokens_, catalogue):
    t = draft_template(api, tokens_, scope={"categories": ["水果"], "stores": ["sh-b"]})
    carts = {"carts": [cart(("100", 3)), cart(("100", 3), store="sh-b")]}
    path = f"/admin/coupon-templates/{t['template_id']}/simulate"
    status, got = post(api, path, carts, tokens_["hq"])
    assert status == 200, got
    assert (got["carts_changed"], [e["cart"] for e in got["examples"]]) == (1, [1])


def test_stacking_policy_and_a_product_coupon_against_a_live_exclusive_promotion(
    api, tokens_, catalogue
):
    body = tiered(tiers=[{"threshold_fen": 3000, "off_fen": 800}], stacking={"exclusive": True})
    status, p = create_promotion(api, dict(body, name="满30减8 独享"), tokens_["hq"])
    assert status == 201 and p["status"] == "active", p
    carts = {"carts": [cart(("100", 3))]}  # 3,000: the live 满30减8 takes 800
    # a ¥5 coupon cannot stack with an exclusive promotion saving more: no change
    coupon = draft_template(api, tokens_)
    path = f"/admin/coupon-templates/{coupon['template_id']}/simulate"
    status, got = post(api, path, carts, tokens_["hq"])
    assert status == 200, got
    assert (got["carts_changed"], got["discount_before_fen"], got["discount_cost_fen"]) == (
        0,
        800,
        0,
    )
    # a free unit of SKU 100 (¥10.00) saves more than the 满30减8 it displaces
    free = draft_template(
        api,
        tokens_,
        name="免费商品0",
        kind="product",
        product_sku="100",
        product_price_fen=0,
        threshold_fen=0,
        amount_off_fen=None,
        scope=None,
        funded_by="hq",
        funder=None,
    )
    path = f"/admin/coupon-templates/{free['template_id']}/simulate"
    status, got = post(api, path, carts, tokens_["hq"])
    assert status == 200, got
    assert got["carts_changed"] == 1 and got["discount_cost_fen"] == 1000 - 800
    assert got["by_funder"] == {"hq": 200}  # +1,000 coupon, -800 promotion displaced
    assert got["examples"][0]["discounts_after"] == ["免费商品0"]


def test_last_weeks_orders(api, tokens_, catalogue, monkeypatch):
    last_weeks_orders(monkeypatch, "sh-b")  # sh-a: one reaches 满30减5; sh-b: not its store
    t = draft_template(api, tokens_, scope={"categories": ["水果"], "stores": ["sh-a"]})
    path = f"/admin/coupon-templates/{t['template_id']}/simulate"
    assert simulated_last_week(api, tokens_, path) == (2, 1, 500)


def test_refusals(api, tokens_, catalogue):
    t = draft_template(api, tokens_)
    path = f"/admin/coupon-templates/{t['template_id']}/simulate"
    carts = {"carts": [cart(("100", 3))]}
    assert post(api, path, carts, tokens_["manager_a"])[0] == 403
    assert post(api, "/admin/coupon-templates/nope/simulate", carts, tokens_["hq"])[0] == 404
    status, err = post(api, path, {}, tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "carts"  # or source
    bad = {"carts": [cart(("nope", 1)), cart(("100", 1), store="sh-x")]}
    status, err = post(api, path, bad, tokens_["hq"])
    assert status == 422
    assert [d["field"] for d in err["error"]["details"]] == [
        "carts[0].lines[0].sku",
        "carts[1].store_id",
    ]
    delivery = draft_template(
        api,
        tokens_,
        name="免运费",
        kind="free_delivery",
        threshold_fen=0,
        amount_off_fen=None,
        funded_by="hq",
        funder=None,
    )
    path = f"/admin/coupon-templates/{delivery['template_id']}/simulate"
    status, err = post(api, path, carts, tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "template_id", err
    assert "delivery" in err["error"]["details"][0]["reason"]
