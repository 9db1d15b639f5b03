"""A member's level benefits at checkout (issue 14 item 5, "benefits applied
automatically"), with the paid card's (item 6): per SKU the better member price, never
both; the level's free delivery from its threshold on the goods after discounts; both
explained in the quote; placing is what was quoted, in the same 2 AWS calls.

The store sh-a (tests/api/conftest.py): delivery fee ¥5, free from ¥59, minimum ¥20;
SKU "100" costs 1000 fen there, "101" 1001 fen. Default levels: V3 at 2 000 growth,
member price 980‰ of the list price."""

from __future__ import annotations

import pytest
from chalicelib.identity.models import CustomerModel
from chalicelib.loyalty import growth
from chalicelib.loyalty.paid_models import PaidCardModel
from chalicelib.promotions import service as promotion_service

from tests.api.conftest import token_for
from tests.api.test_orders_api import cart, place
from tests.api.test_paid_membership import bought, plan

QUOTE = "/orders/quote"


@pytest.fixture
def v3(aws, catalogue):
    """c-1 at V3 (2 000 growth); c-2 a member at V1."""
    promotion_service.forget_active_cache()
    for cid, phone in (("c-1", "13800000001"), ("c-2", "13800000002")):
        CustomerModel(customer_id=cid, phone=phone, created_at="2026-11-01T00:00:00Z").save()
    growth.add_growth("c-1", 2_000, ref="task:seed:once", kind="task", reason="seed")
    growth.add_growth("c-2", 100, ref="task:seed:once", kind="task", reason="seed")
    assert growth.current_level("c-1").code == "V3"
    assert growth.current_level("c-2").code == "V1"
    return token_for("c-1", "customer")


def hq():
    return token_for("hq-admin", "hq_admin")


def level_free_delivery(api, code, min_fen):
    status, body = api.call("GET", "/admin/loyalty/levels", token=hq())
    assert status == 200
    for level in body["levels"]:
        if level["code"] == code:
            level["free_delivery_min_fen"] = min_fen
    status, saved = api.call("PUT", "/admin/loyalty/levels", body, token=hq())
    assert status == 200, saved


def explained(q):
    return [(d["code"], d["kind"], d["label"], d["amount_fen"]) for d in q["discounts"]]


def test_a_v3_member_sees_v3_prices_and_a_v1_member_does_not(api, v3):
    status, q = api.call("POST", QUOTE, cart(("100", 3)), v3)
    assert status == 200, q
    assert explained(q) == [("member_price:level:V3", "member_price", "V3 会员价", 60)]
    assert q["lines"][0]["paid_fen"] == 3 * 980 and q["total_fen"] == 2940 + 500
    status, q1 = api.call("POST", QUOTE, cart(("100", 3)), token_for("c-2", "customer"))
    assert status == 200, q1
    assert q1["discounts"] == [] and q1["total_fen"] == 3000 + 500


def test_card_and_level_give_the_better_price_per_sku_never_both(api, v3):
    # The card: 950 on "100" (better than V3's 980), nothing on "101" (V3: 980).
    p = plan(api, hq(), free_delivery=False, discount_permille=0, member_prices={"100": 950})
    bought(api, v3, p["plan_id"])
    status, q = api.call("POST", QUOTE, cart(("100", 2), ("101", 2)), v3)
    assert status == 200, q
    assert explained(q) == [
        (f"member_price:card:{p['plan_id']}", "member_price", "付费会员价", 2 * 50),
        ("member_price:level:V3", "member_price", "V3 会员价", 2 * 21),  # 1001 -> 980
    ]
    assert [line["paid_fen"] for line in q["lines"]] == [2 * 950, 2 * 980]
    status, order = place(api, v3, cart(("100", 2), ("101", 2)))
    assert status == 201, order
    assert order["total_fen"] == q["total_fen"]
    assert PaidCardModel.get("c-1").benefit_used_at is not None  # the card gave on "100"


def test_a_card_the_level_beats_everywhere_is_not_used(api, v3):
    """A card 1 % off and V3 2 % off: the level's price on every line, not both, and the
    card's refund rule does not count a benefit it did not give."""
    p = plan(api, hq(), free_delivery=False, discount_permille=10, member_prices={})
    bought(api, v3, p["plan_id"])
    status, q = api.call("POST", QUOTE, cart(("100", 3)), v3)
    assert status == 200, q
    assert explained(q) == [("member_price:level:V3", "member_price", "V3 会员价", 60)]
    status, order = place(api, v3, cart(("100", 3)))
    assert status == 201, order
    assert order["total_fen"] == q["total_fen"] == 2940 + 500
    assert PaidCardModel.get("c-1").benefit_used_at is None


def test_the_level_waives_delivery_from_its_threshold_on_the_goods_after_discounts(api, v3):
    level_free_delivery(api, "V3", 2940)
    status, q = api.call("POST", QUOTE, cart(("100", 3)), v3)  # 2 940 after the V3 price
    assert status == 200, q
    assert (q["delivery_fee_fen"], q["delivery_fee_waived_fen"], q["total_fen"]) == (0, 500, 2940)
    waiver = ("member_free_delivery:level:V3", "free_delivery", "会员免配送费", 500)
    assert explained(q)[-1] == waiver
    # One fen more: the list price (3 000) reaches it, the goods after discounts do not.
    level_free_delivery(api, "V3", 2941)
    status, q = api.call("POST", QUOTE, cart(("100", 3)), v3)
    assert status == 200, q
    assert (q["delivery_fee_fen"], q["delivery_fee_waived_fen"], q["total_fen"]) == (500, 0, 3440)
    assert [d["kind"] for d in q["discounts"]] == ["member_price"]
    # Pickup has no fee to waive; V1 has no threshold.
    level_free_delivery(api, "V3", 2940)
    status, q = api.call("POST", QUOTE, cart(("100", 3), fulfilment="pickup"), v3)
    assert [d["kind"] for d in q["discounts"]] == ["member_price"]
    status, q = api.call("POST", QUOTE, cart(("100", 3)), token_for("c-2", "customer"))
    assert q["delivery_fee_fen"] == 500


def test_the_level_waives_before_the_card_so_the_card_stays_unused(api, v3):
    level_free_delivery(api, "V3", 2000)
    p = plan(api, hq(), free_delivery=True, discount_permille=0, member_prices={})
    bought(api, v3, p["plan_id"])
    status, q = api.call("POST", QUOTE, cart(("100", 3)), v3)
    assert status == 200, q
    assert explained(q)[-1][0] == "member_free_delivery:level:V3"
    status, order = place(api, v3, cart(("100", 3)))
    assert status == 201 and order["total_fen"] == q["total_fen"] == 2940
    assert PaidCardModel.get("c-1").benefit_used_at is None
    # Below the level's threshold the card's free delivery waives it (and is used).
    level_free_delivery(api, "V3", 5000)
    status, q = api.call("POST", QUOTE, cart(("100", 3)), v3)
    assert explained(q)[-1][0] == f"member_free_delivery:card:{p['plan_id']}"
    status, order = place(api, v3, cart(("100", 3)), key="key-00000002")
    assert status == 201 and order["total_fen"] == q["total_fen"] == 2940
    assert PaidCardModel.get("c-1").benefit_used_at is not None


def test_placing_with_level_benefits_is_what_was_quoted_in_two_aws_calls(api, v3, aws_calls):
    level_free_delivery(api, "V3", 2940)
    p = plan(api, hq(), free_delivery=False, discount_permille=0, member_prices={"100": 950})
    bought(api, v3, p["plan_id"])
    body = cart(("100", 3), ("101", 1), coupon_ids=[])  # no wallet Query
    status, q = api.call("POST", QUOTE, body, v3)
    assert status == 200, q
    aws_calls.clear()
    status, order = place(api, v3, {**body, "expected_total_fen": q["total_fen"]})
    assert status == 201, order
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]
    assert order["total_fen"] == q["total_fen"]
    assert order["delivery_fee_waived_fen"] == q["delivery_fee_waived_fen"] == 500
    assert explained(order) == explained(q)
    assert [line["paid_fen"] for line in order["lines"]] == [
        line["paid_fen"] for line in q["lines"]
    ]
