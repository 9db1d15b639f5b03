"""Returns re-price by the promotion's stated policy (issue 18 item 2), through the API:
order, pay, deliver, return; the refund shows the deduction as its own line; an
ordinary order keeps nothing more; after-payment gifts follow a partial return."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.coupons import service as coupon_service
from chalicelib.coupons.models import CouponModel
from chalicelib.kernel import clock
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderDetailModel, RefundModel
from chalicelib.promotions import service as promotion_service

from tests import publishing
from tests.api.test_orders_api import cart, place
from tests.event_steps import deliver_events
from tests.order_steps import complete, pick


@pytest.fixture(autouse=True)
def fresh_caches():
    promotion_service.forget_active_cache()
    coupon_service.forget_auto_cache()
    yield
    promotion_service.forget_active_cache()
    coupon_service.forget_auto_cache()


def _create_promotion(api, tokens_, body):
    """The one place promotions are created in this file (drafts: the approval step)."""
    now = clock.now()
    body = {
        "starts_at": clock.iso(now - timedelta(minutes=1)),
        "ends_at": clock.iso(now + timedelta(hours=2)),
        **body,
    }
    status, got = publishing.create_promotion(api, body, tokens_["hq"])
    assert status == 201, got
    promotion_service.forget_active_cache()
    return got


def _create_template(api, tokens_, body):
    """The one place coupon templates are created in this file."""
    status, got = publishing.create_template(api, body, tokens_["hq"])
    assert status == 201, got
    coupon_service.forget_auto_cache()
    return got


def tiered(policy=None):
    body = {"kind": "tiered", "name": "满40减6", "tiers": [{"threshold_fen": 4000, "off_fen": 600}]}
    if policy:
        body["returns_policy"] = policy
    return body


def delivered(api, tokens_, items, key):
    """Order through the API, pay, pick and complete: the order id."""
    status, order = place(api, tokens_["customer"], cart(*items), key)
    assert status == 201, order
    status, ack = api.call(
        "POST", f"/local/payments/{order['order_id']}/complete", {}, tokens_["customer"]
    )
    assert status == 200 and ack["code"] == "SUCCESS", ack
    deliver_events()
    pick(order["order_id"])
    complete(order["order_id"])
    return order["order_id"]


def ret(api, tokens_, oid, lines, key):
    body = {"lines": [{"sku": s, "units": u} for s, u in lines.items()], "reason": "不要了"}
    headers = {"Idempotency-Key": key}
    path = f"/orders/{oid}/returns"
    status, got = api.call("POST", path, body, tokens_["customer"], headers=headers)
    assert status == 201, got
    return got["items"][0]


def test_a_reevaluated_tiered_discount_is_deducted_when_the_kept_unit_no_longer_reaches_it(
    api, catalogue, tokens_
):
    made = _create_promotion(api, tokens_, tiered("reevaluate"))
    assert made["returns_policy"] == "reevaluate"
    # 4 x ¥10 reaches 满40减6: ¥34 paid for the goods, ¥8.50 a unit
    oid = delivered(api, tokens_, [("100", 4)], "key-rp-00001")
    assert order_flow.get(oid).lines[0].paid_fen == 3400
    r1 = ret(api, tokens_, oid, {"100": 3}, "key-rp-ret01")
    # ¥25.50 paid share of the 3 units, less the ¥1.50 the kept unit carried of the ¥6
    assert r1["lines"][0]["refund_fen"] == 2550
    assert r1["refund"]["amount_fen"] == 2400
    assert r1["refund_deducted_fen"] == 150
    assert r1["refund_deduction"] == "优惠不再满足: -¥1.50"
    status, seen = api.call("GET", f"/orders/{oid}", token=tokens_["customer"])
    assert status == 200
    [refund] = seen["refunds"]
    assert refund["amount_fen"] == 2400
    assert seen["refund_deductions"] == [
        {
            "refund_id": refund["refund_id"],
            "deducted_fen": 150,
            "deduction": "优惠不再满足: -¥1.50",
        }
    ]
    assert order_flow.get(oid).detail.reprice_clawed_fen == 150
    # the last unit back: the deduction comes back with it, everything paid is refunded
    r2 = ret(api, tokens_, oid, {"100": 1}, "key-rp-ret02")
    assert r2["refund"]["amount_fen"] == 850 + 150
    assert r2["refund_deduction"] == "优惠扣除退回: +¥1.50"
    order = order_flow.get(oid)
    assert int(order.refunded_fen) == 3400 and order.detail.reprice_clawed_fen == 0


def test_proportional_by_default_and_an_ordinary_order_keeps_nothing_more(api, catalogue, tokens_):
    made = _create_promotion(api, tokens_, tiered())
    assert made["returns_policy"] == "proportional"
    oid = delivered(api, tokens_, [("100", 4)], "key-rp-00002")
    raw = OrderDetailModel.get(oid).serialize()
    assert "rp" not in raw and "rpc" not in raw  # the detail is the size it was
    r1 = ret(api, tokens_, oid, {"100": 3}, "key-rp-ret03")
    assert r1["refund"]["amount_fen"] == 2550
    assert (r1["refund_deducted_fen"], r1["refund_deduction"]) == (0, None)
    assert RefundModel.get(r1["refund"]["refund_id"]).deducted_fen is None


def test_a_reevaluated_coupon_template_and_second_half_price(api, catalogue, tokens_):
    _create_promotion(
        api,
        tokens_,
        {"kind": "second_half_price", "name": "第二件半价", "returns_policy": "reevaluate"},
    )
    # ¥10.01 x 4 ("101"): two pairs, ¥5.00 off each (half of 1001, rounded down)
    oid = delivered(api, tokens_, [("101", 4)], "key-rp-00003")
    assert order_flow.get(oid).lines[0].paid_fen == 3004
    r1 = ret(api, tokens_, oid, {"101": 1}, "key-rp-ret04")
    # 3 units kept: one pair (¥25.03 afresh) and the ¥7.51 unit back less what the
    # third kept unit carried of the lost pair's half (¥2.50)
    assert r1["refund"]["amount_fen"] == 3004 - (3 * 1001 - 500) == 751 - 250
    status, err = api.call(
        "POST",
        "/admin/coupon-templates",
        {
            "name": "免运费",
            "kind": "free_delivery",
            "days_after_claim": 7,
            "returns_policy": "reevaluate",
        },
        token=tokens_["hq"],
    )
    assert status == 422 and err["error"]["details"][0]["field"] == "returns_policy"


def test_a_partial_return_voids_the_gifts_whose_minimum_the_rest_no_longer_reaches(
    api, catalogue, tokens_
):
    def gift(name, minimum):
        return _create_template(
            api,
            tokens_,
            {
                "name": name,
                "kind": "amount_off",
                "threshold_fen": 0,
                "amount_off_fen": 500,
                "days_after_claim": 7,
                "per_customer_limit": 10,
                "claimable": False,
                "auto_issue": "after_payment",
                "after_payment_min_fen": minimum,
            },
        )

    high, low = gift("满30送5", 3000), gift("满10送5", 1000)
    oid = delivered(api, tokens_, [("100", 4)], "key-rp-00004")  # ¥40 of goods paid

    def state(t):
        return CouponModel.get(f"{t['template_id']}:order:{oid}", consistent_read=True).state

    assert (state(high), state(low)) == ("available", "available")
    ret(api, tokens_, oid, {"100": 1}, "key-rp-ret05")  # still ¥30 (+ fee) kept
    assert (state(high), state(low)) == ("available", "available")
    ret(api, tokens_, oid, {"100": 2}, "key-rp-ret06")  # ¥10 (+ fee) kept: below ¥30
    assert (state(high), state(low)) == ("voided", "available")


def test_two_returns_at_once_deduct_exactly_the_benefit_lost(api, catalogue, tokens_, monkeypatch):
    """Both read the order before either writes: the second transaction fails its
    condition on the order's version and re-plans on what the first wrote, so the
    running deduction is never computed twice from the same state."""
    import threading

    from chalicelib.orders import returns

    from tests.order_steps import open_return

    _create_promotion(api, tokens_, tiered("reevaluate"))
    oid = delivered(api, tokens_, [("100", 4)], "key-rp-00005")  # ¥34 paid, ¥8.50 a unit
    both_read = threading.Barrier(2)
    real_load = returns.load
    first = threading.local()

    def load(order_id):
        got = real_load(order_id)
        if not getattr(first, "done", False):
            first.done = True
            both_read.wait(timeout=10)
        return got

    monkeypatch.setattr(returns, "load", load)
    errors: list[BaseException] = []

    def one(key):
        try:
            open_return(oid, {"100": 1}, key=key)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(f"key-race-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    order = order_flow.get(oid)
    # two units kept at ¥10 (no longer 满40): they carry ¥3 of the ¥6, deducted once
    assert order.detail.reprice_clawed_fen == 300
    assert int(order.refunded_fen) == 3400 - 2 * 1000
    amounts = sorted(int(r.amount_fen) for r in RefundModel.scan())
    assert amounts == [400, 1000]  # the first loses ¥4.50, the second gets ¥1.50 back


def test_the_policy_is_edited_for_orders_placed_from_then_on(api, catalogue, tokens_):
    made = _create_promotion(api, tokens_, tiered())
    path = f"/admin/promotions/{made['promotion_id']}"
    status, got = api.call("PATCH", path, {"returns_policy": "reevaluate"}, tokens_["hq"])
    assert status == 200 and got["returns_policy"] == "reevaluate", got
    promotion_service.forget_active_cache()
    oid = delivered(api, tokens_, [("100", 4)], "key-rp-00006")
    assert ret(api, tokens_, oid, {"100": 3}, "key-rp-ret07")["refund"]["amount_fen"] == 2400
    status, got = api.call("PATCH", path, {"returns_policy": "proportional"}, tokens_["hq"])
    assert status == 200 and got["returns_policy"] == "proportional"
    t = _create_template(
        api,
        tokens_,
        {"name": "免运费", "kind": "free_delivery", "days_after_claim": 7},
    )
    status, err = api.call(
        "PATCH",
        f"/admin/coupon-templates/{t['template_id']}",
        {"returns_policy": "reevaluate"},
        tokens_["hq"],
    )
    assert status == 422 and err["error"]["details"][0]["field"] == "returns_policy"
