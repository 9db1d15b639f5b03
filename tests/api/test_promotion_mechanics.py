"""Issue 18's mechanics through the API: a bundle (一口价) and a 满件减 priced in one quote;
a gift with purchase (满赠) shown in the quote, placed as a line at price 0 with its stock
taken, printed on the ticket as 赠品, and left out (the order still placed) when out of
stock; a product coupon template (商品券)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import clock
from chalicelib.orders.models import OrderModel
from chalicelib.printing import dispatch as print_dispatch
from chalicelib.printing import messages as print_messages
from chalicelib.promotions import service

from print_relay import tickets
from print_relay.virtual_printer import text_preview
from tests import publishing
from tests.api.test_orders_api import cart, place, stock
from tests.api.test_print_jobs import drain, pay


def at(hours: float) -> str:
    return clock.iso(clock.now() + timedelta(hours=hours))


@pytest.fixture(autouse=True)
def no_cache():
    service.forget_active_cache()
    yield
    service.forget_active_cache()


def _create_promotion(api, tokens_, body):
    """Every promotion of this file is created here (one place for an approval step)."""
    status, p = publishing.create_promotion(
        api,
        {"name": body.pop("name", "x"), "starts_at": at(-1), "ends_at": at(24), **body},
        tokens_["hq"],
    )
    assert status == 201, p
    return p


def _create_template(api, tokens_, body):
    status, t = publishing.create_template(api, body, tokens_["hq"])
    return status, t


def quote(api, tokens_, *items):
    status, q = api.call("POST", "/orders/quote", cart(*items), tokens_["customer"])
    assert status == 200, q
    return q


def test_a_bundle_and_a_units_tier_in_one_quote(api, tokens_, catalogue):
    # SKUs 100..103 cost ¥10.00, ¥10.01, ¥10.02, ¥10.03 at sh-a
    _create_promotion(
        api,
        tokens_,
        {
            "kind": "bundle",
            "name": "任选3件25元",
            "bundle_units": 3,
            "price_fen": 2500,
            "scope": {"skus": ["100", "101", "102"]},
        },
    )
    p = _create_promotion(
        api,
        tokens_,
        {
            "kind": "tiered",
            "name": "满4件减5元",
            "basis": "units",
            "tiers": [{"threshold_fen": 4, "off_fen": 500}],
        },
    )
    assert (p["basis"], p["every"], p["percent"]) == ("units", False, False)
    q = quote(api, tokens_, ("100", 1), ("101", 1), ("102", 1), ("103", 1))
    codes = {d["kind"]: d["amount_fen"] for d in q["discounts"]}
    # the bundle: ¥30.03 of three units for ¥25 (¥5.03 off); the tier: 4 units, ¥5 off
    assert codes == {"bundle": 503, "tiered": 500}
    assert q["discount_fen"] == 1003
    assert sum(line["discount_fen"] for line in q["lines"]) == 1003
    assert q["subtotal_fen"] - q["discount_fen"] == 3003
    # one unit fewer: the bundle stays, the tier is one unit away (in units, not fen)
    q = quote(api, tokens_, ("100", 1), ("101", 1), ("102", 1))
    assert {d["kind"] for d in q["discounts"]} == {"bundle"}
    assert q["next_tier"]["basis"] == "units" and q["next_tier"]["gap_fen"] == 1


def test_every_100_off_10_with_a_cap(api, tokens_, catalogue):
    _create_promotion(
        api,
        tokens_,
        {
            "kind": "tiered",
            "name": "每满20减2 最多减4",
            "every": True,
            "cap_fen": 400,
            "tiers": [{"threshold_fen": 2000, "off_fen": 200}],
        },
    )
    q = quote(api, tokens_, ("100", 7))  # ¥70: 3 x ¥2 = ¥6, capped at ¥4
    assert [(d["kind"], d["amount_fen"]) for d in q["discounts"]] == [("tiered", 400)]


def test_bad_mechanics_are_refused_naming_the_field(api, tokens_, catalogue):
    for body, field in (
        ({"kind": "bundle", "price_fen": 1000, "bundle_units": 3}, "scope"),
        ({"kind": "gift", "sku": "110"}, "threshold_fen"),
        (
            {"kind": "tiered", "every": True, "tiers": [{"threshold_fen": 1, "off_fen": 1}] * 2},
            "tiers",
        ),
        (
            {"kind": "tiered", "cap_fen": 100, "tiers": [{"threshold_fen": 900, "off_fen": 1}]},
            "cap_fen",
        ),
        ({"kind": "second_half_price", "bundle_units": 3}, "bundle_units"),
    ):
        status, err = api.call(
            "POST",
            "/admin/promotions",
            {"name": "x", "starts_at": at(-1), "ends_at": at(24), **body},
            token=tokens_["hq"],
        )
        assert status == 422, (body, err)
        assert field in {d["field"] for d in err["error"]["details"]}, err


def gift_promotion(api, tokens_):
    return _create_promotion(
        api,
        tokens_,
        {"kind": "gift", "name": "满20赠商品10", "sku": "110", "threshold_fen": 2000},
    )


def test_a_gift_is_quoted_placed_at_price_0_and_printed_as_a_gift(api, tokens_, catalogue):
    p = gift_promotion(api, tokens_)
    q = quote(api, tokens_, ("100", 2))
    (gift,) = q["gifts"]
    assert (gift["promotion_id"], gift["sku"], gift["units"], gift["in_stock"]) == (
        p["promotion_id"],
        "110",
        1,
        True,
    )
    assert gift["value_fen"] == 1010
    assert {"kind": "gift", "amount_fen": 1010} in [
        {"kind": d["kind"], "amount_fen": d["amount_fen"]} for d in q["discounts"]
    ]
    assert q["discount_fen"] == 0  # the gift costs the customer nothing, and cuts no line

    status, order = place(api, tokens_["customer"], cart(("100", 2)), "gift-key-0001")
    assert status == 201, order
    assert order["total_fen"] == q["total_fen"]
    lines = {x["sku"]: x for x in order["lines"]}
    g = lines["110"]
    assert (g["gift"], g["qty"], g["unit_price_fen"], g["paid_fen"]) == (True, 1, 0, 0)
    assert lines["100"]["gift"] is False
    assert stock("110") == 9 and stock("100") == 8

    pay(api, tokens_, order["order_id"])
    (job_id,) = OrderModel.get(order["order_id"]).print_job_ids
    assert print_dispatch.dispatch(job_id) is True
    (message,) = drain()
    msg = print_messages.decode(message["Body"])
    assert [(x.sku, x.gift, x.amount_fen) for x in msg.lines] == [
        ("100", False, 2000),
        ("110", True, 0),
    ]
    assert msg.discounts == []  # the gift is its line, not a discount off the goods
    assert msg.amounts.discount_fen == 0
    as_dict = msgspec.to_builtins(msg)
    for copy in ("picking", "delivery"):
        text = text_preview(tickets.render(as_dict, copy, 58))
        assert "商品10 【赠品】" in text, text
        assert "商品0 【赠品】" not in text


def test_a_gift_out_of_stock_the_order_goes_through_without_it(api, tokens_, catalogue):
    gift_promotion(api, tokens_)
    item = StoreItemModel.get("sh-a", "110")
    item.update(actions=[StoreItemModel.stock.set(0)])
    q = quote(api, tokens_, ("100", 2))
    assert q["gifts"][0]["in_stock"] is False
    assert any("out of stock" in n for n in q["notes"])
    assert "gift" not in {d["kind"] for d in q["discounts"]}
    status, order = place(api, tokens_["customer"], cart(("100", 2)), "gift-key-0002")
    assert status == 201, order
    assert [x["sku"] for x in order["lines"]] == ["100"]


def test_a_gift_of_a_sku_in_the_cart_takes_its_stock_once(api, tokens_, catalogue):
    _create_promotion(
        api,
        tokens_,
        {"kind": "gift", "name": "买满赠一", "sku": "100", "threshold_fen": 2000},
    )
    status, order = place(api, tokens_["customer"], cart(("100", 2)), "gift-key-0003")
    assert status == 201, order
    assert [(x["sku"], x["qty"], x["gift"]) for x in order["lines"]] == [
        ("100", 2, False),
        ("100", 1, True),
    ]
    assert stock("100") == 7
    # cancelled before payment: both lines' units go back in one update of the item
    status, cancelled = api.call(
        "POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"]
    )
    assert status == 200, cancelled
    assert stock("100") == 10


def test_a_product_coupon_template(api, tokens_, catalogue):
    status, t = _create_template(
        api,
        tokens_,
        {
            "name": "免费商品0",
            "kind": "product",
            "product_sku": "100",
            "product_price_fen": 0,
            "days_after_claim": 7,
        },
    )
    assert status == 201, t
    assert (t["kind"], t["product_sku"], t["product_price_fen"]) == ("product", "100", 0)
    status, err = _create_template(
        api, tokens_, {"name": "x", "kind": "product", "days_after_claim": 7}
    )
    assert status == 422 and "product_sku" in {d["field"] for d in err["error"]["details"]}
    status, err = _create_template(
        api,
        tokens_,
        {
            "name": "x",
            "kind": "amount_off",
            "amount_off_fen": 100,
            "product_sku": "100",
            "days_after_claim": 7,
        },
    )
    assert status == 422 and "product_sku" in {d["field"] for d in err["error"]["details"]}


def test_reevaluate_on_returns_is_refused_for_unit_percent_and_every_tiers(api, tokens_):
    """Re-evaluation knows amount thresholds only: a 满件减, 满N件M折 or 每满减 that asked
    for it would be re-priced as if its thresholds were fen."""
    for extra in ({"basis": "units"}, {"percent": True}, {"every": True, "cap_fen": 5000}):
        status, err = api.call(
            "POST",
            "/admin/promotions",
            {
                "kind": "tiered",
                "name": "x",
                "starts_at": at(-1),
                "ends_at": at(24),
                "tiers": [{"threshold_fen": 3, "off_fen": 20}],
                "returns_policy": "reevaluate",
                **extra,
            },
            token=tokens_["hq"],
        )
        assert status == 422, (extra, err)
        assert "returns_policy" in {d["field"] for d in err["error"]["details"]}


def test_a_draft_unit_tier_promotion_takes_new_unit_tiers(api, tokens_):
    """满件减's tiers count units: an edit is checked as units (3 items, ¥5 off), not as
    an amount off that must stay below a threshold in fen."""
    status, p = api.call(
        "POST",
        "/admin/promotions",
        {
            "kind": "tiered",
            "name": "满3件减5",
            "basis": "units",
            "starts_at": at(1),
            "ends_at": at(24),
            "tiers": [{"threshold_fen": 3, "off_fen": 500}],
        },
        token=tokens_["hq"],
    )
    assert status == 201, p
    status, got = api.call(
        "PATCH",
        f"/admin/promotions/{p['promotion_id']}",
        {"tiers": [{"threshold_fen": 2, "off_fen": 300}, {"threshold_fen": 4, "off_fen": 800}]},
        token=tokens_["hq"],
    )
    assert status == 200, got
    assert got["tiers"] == [
        {"threshold_fen": 2, "off_fen": 300},
        {"threshold_fen": 4, "off_fen": 800},
    ]
    status, err = api.call(
        "PATCH",
        f"/admin/promotions/{p['promotion_id']}",
        {"tiers": [{"threshold_fen": 1000, "off_fen": 300}]},
        token=tokens_["hq"],
    )
    assert status == 422 and err["error"]["details"][0]["field"] == "tiers[0].threshold_fen"
