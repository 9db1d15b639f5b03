"""Zones through the API (issue 17 item 4): head office curates add-on and fixed-price
zones; the quote says the next 满减 tier and the free-delivery gap and suggests add-on
products that close the smaller one (in stock, in scope, cheapest first); a fixed-price
zone prices through the engine (kind fixed_price) in its window, within its
per-customer limit (given back on cancel), spending its campaign's budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.campaign_budgets import live
from chalicelib.campaign_budgets.models import CampaignModel, starts_key
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import clock
from chalicelib.orders import order_flow
from chalicelib.promotions import service as promotion_service
from chalicelib.zones import service
from chalicelib.zones.models import ZoneBuyerModel

from tests.api.test_orders_api import cart, place
from tests.publishing import create_promotion


@pytest.fixture(autouse=True)
def fresh_caches():
    service.forget_cache()
    promotion_service.forget_active_cache()
    live.forget_cache()
    yield
    service.forget_cache()
    promotion_service.forget_active_cache()
    live.forget_cache()


def at(hours: float) -> str:
    return clock.iso(clock.now() + timedelta(hours=hours))


def zone(api, tokens_, status=201, **body):
    s, z = api.call("POST", "/admin/zones", body, token=tokens_["hq"])
    assert s == status, z
    service.forget_cache()
    return z


def add_on(api, tokens_, skus, **over):
    return zone(api, tokens_, kind="add_on", name="凑单专区", skus=skus, **over)


def fixed(api, tokens_, skus, **over):
    body = {
        "kind": "fixed_price",
        "name": "9.9元专区",
        "skus": skus,
        "starts_at": at(-1),
        "ends_at": at(24),
        "price_fen": 500,
        **over,
    }
    return zone(api, tokens_, **body)


def tiered(api, tokens_, threshold, off, categories=()):
    body = {
        "kind": "tiered",
        "name": f"满{threshold // 100}减{off // 100}",
        "starts_at": at(-1),
        "ends_at": at(24),
        "tiers": [{"threshold_fen": threshold, "off_fen": off}],
        "scope": {"categories": list(categories), "skus": []},
    }
    s, p = create_promotion(api, body, token=tokens_["hq"])
    assert s == 201, p
    promotion_service.forget_active_cache()
    return p


def quote(api, tokens_, body):
    s, q = api.call("POST", "/orders/quote", body, tokens_["customer"])
    assert s == 200, q
    return q


def campaign(campaign_id="CMPZ", budget_fen=100_000, state="live"):
    now = clock.now()
    starts = clock.iso(now - timedelta(hours=1))
    CampaignModel(
        campaign_id,
        name="9.9 节",
        grade="A",
        state=state,
        starts_at=starts,
        ends_at=clock.iso(now + timedelta(days=1)),
        starts_key=starts_key(starts, campaign_id),
        budget_hq_fen=budget_fen,
        budget_fen=budget_fen,
        left_fen=budget_fen,
        created_by="hq-admin",
        created_at=clock.iso(now),
        updated_at=clock.iso(now),
    ).save()
    live.forget_cache()


# Catalogue (tests/api/conftest.py): SKU "1NN" is product i = NN at 1000 + i fen at sh-a,
# stock 10; i % 3 == 2 is 蔬菜 (102, 108, 111, 114, ...), the rest 水果; 105 is inactive.


def test_head_office_creates_lists_and_edits_zones(api, tokens_, catalogue):
    z = add_on(api, tokens_, ["110", "111"], stores=["sh-a"])
    assert (z["kind"], z["status"], z["live"], z["skus"], z["version"]) == (
        "add_on",
        "active",
        True,
        ["110", "111"],
        0,
    )
    f = fixed(api, tokens_, ["103"], per_customer_limit=2)
    s, listed = api.call("GET", "/admin/zones", None, token=tokens_["manager_a"])
    assert s == 200 and {x["zone_id"] for x in listed["items"]} == {z["zone_id"], f["zone_id"]}
    body = {k: z[k] for k in ("kind", "name", "skus", "stores")} | {"version": 0}
    body["skus"] = ["111", "110", "114"]
    s, edited = api.call("PUT", f"/admin/zones/{z['zone_id']}", body, token=tokens_["hq"])
    assert s == 200 and edited["skus"] == ["111", "110", "114"] and edited["version"] == 1
    s, err = api.call("PUT", f"/admin/zones/{z['zone_id']}", body, token=tokens_["hq"])
    assert (s, err["error"]["code"]) == (409, "zone_changed")
    body |= {"version": 1, "status": "ended"}
    s, ended = api.call("PUT", f"/admin/zones/{z['zone_id']}", body, token=tokens_["hq"])
    assert s == 200 and (ended["status"], ended["live"]) == ("ended", False)
    s, err = api.call("PUT", "/admin/zones/nope", body, token=tokens_["hq"])
    assert (s, err["error"]["code"]) == (404, "zone_not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fixed_price", "name": "x", "skus": ["100"]}, "price_fen"),
        ({"kind": "add_on", "name": "x", "skus": ["100"], "price_fen": 990}, "price_fen"),
        ({"kind": "add_on", "name": "x", "skus": ["999"]}, "skus"),
        ({"kind": "add_on", "name": "x", "skus": ["100", "100"]}, "skus"),
        ({"kind": "add_on", "name": "x", "skus": ["100"], "stores": ["nope"]}, "stores"),
        (
            {
                "kind": "fixed_price",
                "name": "x",
                "skus": ["100"],
                "price_fen": 990,
                "starts_at": "2026-11-25T00:00:00Z",
                "ends_at": "2026-11-26T00:00:00Z",
                "campaign_id": "nope",
            },
            "campaign_id",
        ),
    ],
)
def test_bad_zones_are_refused_naming_the_field(api, tokens_, catalogue, body, field):
    s, err = api.call("POST", "/admin/zones", body, token=tokens_["hq"])
    assert s == 422 and field in {d["field"] for d in err["error"]["details"]}, err
    s, listed = api.call("GET", "/admin/zones", None, token=tokens_["hq"])
    assert listed["items"] == []


def test_the_quote_suggests_what_closes_the_free_delivery_gap(api, tokens_, catalogue):
    add_on(api, tokens_, ["110", "111", "114"])
    # goods 2 x 1000 + 1002 = 3002: free delivery (5900) needs 2898
    q = quote(api, tokens_, cart(("100", 2), ("102", 1)))
    assert q["next_tier"] is None
    assert q["free_delivery"] == {"threshold_fen": 5900, "gap_fen": 5900 - 3002}
    sug = q["add_on_suggestions"]
    assert sug and all(s["closes"] == "free_delivery" and s["gap_fen"] == 2898 for s in sug)
    assert all(s["total_fen"] >= 2898 for s in sug)
    # three units of the cheapest (110 at 1010) is the cheapest way to 2898
    assert [(i["sku"], i["qty"]) for i in sug[0]["items"]] == [("110", 3)]
    assert [s["total_fen"] for s in sug] == [3030, 3031, 3032]
    # pickup: no free-delivery gap, no tier: nothing to close
    q = quote(api, tokens_, cart(("100", 2), ("102", 1), fulfilment="pickup"))
    assert q["free_delivery"] is None and q["add_on_suggestions"] == []


def test_the_smaller_gap_is_the_tiers_and_only_its_scope_closes_it(api, tokens_, catalogue):
    tiered(api, tokens_, 2500, 500, categories=["蔬菜"])
    add_on(api, tokens_, ["110", "111", "114"])
    # the 蔬菜 base is 1002: the tier needs 1498, free delivery 2898
    q = quote(api, tokens_, cart(("100", 2), ("102", 1)))
    assert q["next_tier"]["gap_fen"] == 1498 and q["next_tier"]["off_fen"] == 500
    assert q["next_tier"]["base_fen"] == 1002 and q["free_delivery"]["gap_fen"] == 2898
    sug = q["add_on_suggestions"]
    assert all(s["closes"] == "tiered" for s in sug)
    # 110 (水果, 1010) is the cheapest product but outside the tier's scope
    assert [([(i["sku"], i["qty"]) for i in s["items"]], s["total_fen"]) for s in sug] == [
        ([("111", 2)], 2022),
        ([("111", 1), ("114", 1)], 2025),
        ([("114", 2)], 2028),
    ]
    # taking the first suggestion reaches the tier
    q = quote(api, tokens_, cart(("100", 2), ("102", 1), ("111", 2)))
    assert any(d["kind"] == "tiered" and d["amount_fen"] == 500 for d in q["discounts"])
    assert q["next_tier"] is None


def test_out_of_stock_products_are_never_suggested(api, tokens_, catalogue):
    tiered(api, tokens_, 1500, 100)
    add_on(api, tokens_, ["110", "111"])
    StoreItemModel("sh-a", "110").update(actions=[StoreItemModel.stock.set(0)])
    q = quote(api, tokens_, cart(("100", 1), fulfilment="pickup"))  # gap 500
    assert [[i["sku"] for i in s["items"]] for s in q["add_on_suggestions"]] == [["111"]]


def test_no_gap_no_suggestion(api, tokens_, catalogue):
    add_on(api, tokens_, ["110"])
    q = quote(api, tokens_, cart(("100", 6)))  # 6000 >= 5900: free delivery reached
    assert q["free_delivery"] == {"threshold_fen": 5900, "gap_fen": 0}
    assert q["next_tier"] is None and q["add_on_suggestions"] == []


def test_a_fixed_price_zone_prices_in_its_window_only(api, tokens_, catalogue):
    fixed(api, tokens_, ["103"], starts_at=at(1), ends_at=at(3))
    q = quote(api, tokens_, cart(("103", 1), fulfilment="pickup"))
    assert q["discounts"] == [] and q["total_fen"] == 1003
    fixed(api, tokens_, ["103"])
    q = quote(api, tokens_, cart(("103", 1), fulfilment="pickup"))
    [d] = q["discounts"]
    assert (d["kind"], d["amount_fen"], q["total_fen"]) == ("fixed_price", 503, 500)
    s, shelf = api.call("GET", "/stores/sh-a/zones", None)
    assert s == 200
    [live_zone] = shelf["zones"]
    assert [(p["sku"], p["list_price_fen"], p["price_fen"]) for p in live_zone["products"]] == [
        ("103", 1003, 500)
    ]


def test_the_per_customer_limit_holds_and_comes_back_on_cancel(api, tokens_, catalogue):
    campaign()
    z = fixed(api, tokens_, ["103"], per_customer_limit=2, campaign_id="CMPZ")
    assert "Z" in z["zone_id"] and z["zone_id"] in CampaignModel.get("CMPZ").mechanic_ids
    q = quote(api, tokens_, cart(("103", 3), fulfilment="pickup"))
    assert [d["amount_fen"] for d in q["discounts"]] == [2 * 503]  # 2 units at 5.00
    s, order = place(api, tokens_["customer"], cart(("103", 3), fulfilment="pickup"))
    assert s == 201, order
    assert order["total_fen"] == 2 * 500 + 1003
    # the campaign paid the discount, in the order's transaction
    c = CampaignModel.get("CMPZ", consistent_read=True)
    assert int(c.left_fen) == 100_000 - 2 * 503
    assert [u.units for u in order_flow.get(order["order_id"]).zone_uses] == [2]
    assert int(ZoneBuyerModel.get(f"{z['zone_id']}#103#c-1").units) == 2
    # the limit is reached: no fixed price now
    q = quote(api, tokens_, cart(("103", 1), fulfilment="pickup"))
    assert q["discounts"] == []
    s, _ = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert s == 200
    assert int(ZoneBuyerModel.get(f"{z['zone_id']}#103#c-1", consistent_read=True).units) == 0
    live.forget_cache()
    assert int(CampaignModel.get("CMPZ", consistent_read=True).left_fen) == 100_000
    q = quote(api, tokens_, cart(("103", 1), fulfilment="pickup"))
    assert [d["kind"] for d in q["discounts"]] == ["fixed_price"]


def test_a_fixed_price_zone_of_a_campaign_not_spending_gives_nothing(api, tokens_, catalogue):
    campaign(state="draft")
    fixed(api, tokens_, ["103"], campaign_id="CMPZ")
    q = quote(api, tokens_, cart(("103", 1), fulfilment="pickup"))
    assert q["discounts"] == []


def test_head_office_previews_a_zones_suggestions(api, tokens_, catalogue):
    z = add_on(api, tokens_, ["110", "111", "114"])
    s, p = api.call(
        "GET",
        f"/admin/zones/{z['zone_id']}/suggestions?store_id=sh-a&gap_fen=2000",
        None,
        token=tokens_["hq"],
    )
    assert s == 200, p
    assert [(sg["total_fen"], [i["sku"] for i in sg["items"]]) for sg in p["suggestions"]] == [
        (2020, ["110"]),
        (2021, ["110", "111"]),
        (2022, ["111"]),
    ]


def test_the_quote_makes_no_call_of_its_own_for_zones(api, tokens_, catalogue, aws_calls):
    """Within the zones caches a quote with a gap and suggestions makes the calls a
    quote makes without zones: the wallet's Query and the cart's BatchGetItem."""
    add_on(api, tokens_, ["110", "111"])
    fixed(api, tokens_, ["120"])
    body = cart(("100", 3))
    quote(api, tokens_, body)  # fills the caches
    aws_calls.clear()
    q = quote(api, tokens_, body)
    assert q["add_on_suggestions"] and q["free_delivery"]["gap_fen"] > 0
    assert aws_calls == ["Query", "BatchGetItem"]


def test_a_create_with_its_own_id_is_a_replay(api, tokens_, catalogue):
    first = add_on(api, tokens_, ["110"], zone_id="demo-add-on")
    again = add_on(api, tokens_, ["110"], zone_id="demo-add-on")
    assert first == again
    s, err = api.call(
        "POST",
        "/admin/zones",
        {"kind": "add_on", "name": "凑单专区", "skus": ["111"], "zone_id": "demo-add-on"},
        token=tokens_["hq"],
    )
    assert (s, err["error"]["code"]) == (409, "zone_exists")


def test_the_demo_seed_makes_both_zones_once(api, tokens_, catalogue, monkeypatch, aws_calls):
    from chalicelib.zones.models import ZoneModel

    from infra.local import seed

    zones = [dict(z, skus=["110", "111"]) for z in seed.DEMO_ZONES]
    monkeypatch.setattr(seed, "DEMO_ZONES", tuple(zones))
    seed._seed_zones()
    made = {z.zone_id: z.kind for z in ZoneModel.scan()}
    assert made == {"demo-add-on": "add_on", "demo-9-9": "fixed_price"}
    aws_calls.clear()
    seed._seed_zones()
    assert "TransactWriteItems" not in aws_calls and "PutItem" not in aws_calls
