"""Coupon templates' redemption limits through the API (issue 18 item 3): head office
sets ``limits`` {per_customer_per_day, per_customer_per_week, per_store_per_day} on a
template; each coupon issued carries them; the quote judges a coupon whose template's
limit is used up ``limit_reached`` and does not suggest it; the order adds one to the
template's counters and cancelling or expiry gives it back; a racing order past the
limit is 409 and writes nothing; a coupon without limits reads and writes no counter."""

from __future__ import annotations

import pytest
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.kernel import clock
from chalicelib.orders import order_flow
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderModel
from chalicelib.promotions import limits as promo_limits
from chalicelib.promotions.models import LimitCounterModel

from tests.api.conftest import token_for
from tests.api.test_checkout import fresh_caches as fresh_caches  # autouse: caches cleared
from tests.api.test_checkout import template as checkout_template
from tests.api.test_orders_api import cart, place


def template(api, tokens_, limits, **over):
    """满30减5, up to 5 coupons per customer, with these ``limits``."""
    return checkout_template(api, tokens_, limits=limits, **over)


def claim(api, token, t, request_id="r-1"):
    body = {"template_id": t["template_id"], "request_id": request_id}
    status, c = api.call("POST", "/coupons/claim", body, token=token)
    assert status == 201, c
    return c["coupon_id"]


def quote(api, token, body):
    status, q = api.call("POST", "/orders/quote", body, token)
    assert status == 200, q
    return q


def verdict(q, coupon_id):
    return next(v for v in q["coupons"] if v["coupon_id"] == coupon_id)


def counter(key):
    return int(LimitCounterModel.get(key, consistent_read=True).used)


def day_key(tid, customer="c-1"):
    return f"t#{tid}#c#{customer}#d{promo_limits.local_day(clock.now())}"


def test_limits_are_stored_shown_and_copied_onto_each_coupon(api, tokens_, catalogue):
    t = template(api, tokens_, {"per_customer_per_day": 1, "per_store_per_day": 200})
    assert t["limits"] == {
        "per_customer_per_day": 1,
        "per_customer_per_week": None,
        "per_store_per_day": 200,
    }
    cid = claim(api, tokens_["customer"], t)
    assert CouponModel.get(cid).limits.as_dict() == {
        "per_customer_per_day": 1,
        "per_store_per_day": 200,
    }
    plain = template(api, tokens_, None, name="不限")
    assert plain["limits"] is None
    assert CouponTemplateModel.get(plain["template_id"]).limits is None
    assert CouponModel.get(claim(api, tokens_["customer"], plain, "r-2")).limits is None


def test_limits_change_only_while_no_coupon_was_issued(api, tokens_, catalogue):
    t = template(api, tokens_, {"per_customer_per_day": 1})
    path = f"/admin/coupon-templates/{t['template_id']}"
    status, edited = api.call(
        "PATCH", path, {"limits": {"per_customer_per_week": 3}}, tokens_["hq"]
    )
    assert status == 200 and edited["limits"]["per_customer_per_week"] == 3, edited
    assert edited["limits"]["per_customer_per_day"] is None  # replaced, not merged
    claim(api, tokens_["customer"], t)
    status, err = api.call("PATCH", path, {"limits": {}}, tokens_["hq"])
    assert status == 422, err
    assert [d["field"] for d in err["error"]["details"]] == ["limits"]
    assert CouponTemplateModel.get(t["template_id"]).limits.as_dict() == {
        "per_customer_per_week": 3
    }
    # the same limits again change nothing, so they are not refused
    status, _ = api.call("PATCH", path, {"limits": {"per_customer_per_week": 3}}, tokens_["hq"])
    assert status == 200


@pytest.mark.parametrize("limits", [{"per_customer_per_day": 0}, {"per_order_units": 2}])
def test_bad_limits_are_422_and_nothing_is_written(api, tokens_, limits):
    body = {"name": "满30减5", "kind": "amount_off", "amount_off_fen": 500, "days_after_claim": 7}
    body["limits"] = limits
    status, err = api.call("POST", "/admin/coupon-templates", body, token=tokens_["hq"])
    assert status == 422, err
    assert list(CouponTemplateModel.scan()) == []


def test_a_per_customer_day_limit_judges_the_next_coupon_limit_reached_until_cancelled(
    api, tokens_, catalogue
):
    t = template(api, tokens_, {"per_customer_per_day": 1})
    first = claim(api, tokens_["customer"], t, "r-1")
    second = claim(api, tokens_["customer"], t, "r-2")
    body = cart(("100", 3))  # 3 x 10.00: reaches 满30
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 500 and len(q["suggested_coupon_ids"]) == 1
    status, order = place(api, tokens_["customer"], body)
    assert status == 201 and order["discount_fen"] == 500, order
    key = day_key(t["template_id"])
    assert counter(key) == 1
    assert order_flow.get(order["order_id"]).limit_uses == [key]

    q = quote(api, tokens_["customer"], body)
    left = second if CouponModel.get(first).state == "locked" else first
    v = verdict(q, left)
    assert (v["applies"], v["reason"], v["message"]) == (
        False,
        "limit_reached",
        "Its limit is used up",
    )
    assert q["suggested_coupon_ids"] == [] and q["discount_fen"] == 0
    # choosing it anyway is refused with the same reason, nothing written
    status, err = place(
        api, tokens_["customer"], {**body, "coupon_ids": [left]}, key="key-00000002"
    )
    assert status == 422 and err["error"]["details"][0]["reason"] == "limit_reached", err
    assert OrderModel.count() == 1 and counter(key) == 1
    # another customer's coupon of the template is not limited by c-1's day
    other = token_for("c-2", "customer")
    claim(api, other, t, "r-9")
    assert quote(api, other, body)["discount_fen"] == 500

    status, _ = api.call("POST", f"/orders/{order['order_id']}/cancel", {}, tokens_["customer"])
    assert status == 200
    assert counter(key) == 0
    q = quote(api, tokens_["customer"], body)
    assert q["discount_fen"] == 500 and q["suggested_coupon_ids"]


def test_expiry_gives_a_per_week_use_back(api, tokens_, catalogue):
    t = template(api, tokens_, {"per_customer_per_week": 1})
    claim(api, tokens_["customer"], t)
    _, order = place(api, tokens_["customer"], cart(("100", 3)))
    assert order["discount_fen"] == 500
    [row] = list(LimitCounterModel.scan())
    assert row.limit_key.startswith(f"t#{t['template_id']}#c#c-1#w") and int(row.used) == 1
    assert orders.expire_due(now_epoch=2**40) == 1
    assert counter(row.limit_key) == 0


def test_placing_on_a_stale_read_past_the_store_limit_is_409_and_writes_nothing(
    api, tokens_, catalogue
):
    t = template(api, tokens_, {"per_store_per_day": 1})
    claim(api, tokens_["customer"], t)
    other = token_for("c-2", "customer")
    theirs = claim(api, other, t)
    _, first = place(api, tokens_["customer"], cart(("100", 3)))
    assert first["discount_fen"] == 500
    # a racing order read the counter before the first one's commit: simulate by
    # pricing against an out-of-date read (no count read)
    from chalicelib.checkout import service as checkout

    real = checkout.promo_limits.counts_of
    checkout.promo_limits.counts_of = lambda rows: {}
    try:
        status, err = place(
            api, other, {**cart(("100", 3)), "coupon_ids": [theirs]}, key="key-00000002"
        )
    finally:
        checkout.promo_limits.counts_of = real
    assert status == 409 and err["error"]["code"] == "coupon_limit_reached", err
    assert OrderModel.count() == 1
    assert CouponModel.get(theirs, consistent_read=True).state == "available"
    store_key = f"t#{t['template_id']}#s#sh-a#d{promo_limits.local_day(clock.now())}"
    assert counter(store_key) == 1


def test_a_coupon_without_limits_reads_and_writes_no_counter(api, tokens_, catalogue):
    t = template(api, tokens_, None)
    cid = claim(api, tokens_["customer"], t)
    _, order = place(api, tokens_["customer"], {**cart(("100", 3)), "coupon_ids": [cid]})
    assert order["discount_fen"] == 500
    assert list(LimitCounterModel.scan()) == []
    assert not order_flow.get(order["order_id"]).limit_uses


@pytest.mark.parametrize("chosen", [False, True])
def test_a_limited_coupon_adds_no_aws_call(api, tokens_, catalogue, monkeypatch, chosen):
    """The template's counters ride in the cart's one BatchGetItem (wallet coupons carry
    their limits; a chosen coupon's template counters are read with it) and the order's
    one TransactWriteItems: the quote is the wallet's Query and one BatchGetItem, placing
    one BatchGetItem and one TransactWriteItems."""
    import botocore.client

    t = template(api, tokens_, {"per_customer_per_day": 1, "per_store_per_day": 9})
    cid = claim(api, tokens_["customer"], t)
    body = {**cart(("100", 3)), **({"coupon_ids": [cid]} if chosen else {})}
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, op, params):
        calls.append((op, str(params)))
        return original(self, op, params)

    def batch_and_writes():
        # the per-container caches' Queries (promotions, zones) and the session check's
        # GetItem aside: what the request itself reads and writes
        return [(op, p) for op, p in calls if op in ("BatchGetItem", "TransactWriteItems")]

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    assert quote(api, tokens_["customer"], body)["discount_fen"] == 500
    [(op, read)] = batch_and_writes()
    assert op == "BatchGetItem" and f"t#{t['template_id']}#c#c-1#d" in read
    wallet = [p for op, p in calls if op == "Query" and "daojia-test-coupons" in p]
    assert len(wallet) == (0 if chosen else 1)
    calls.clear()
    status, order = place(api, tokens_["customer"], body)
    assert status == 201 and order["discount_fen"] == 500, order
    [(read_op, _), (write_op, write)] = batch_and_writes()
    assert (read_op, write_op) == ("BatchGetItem", "TransactWriteItems")
    assert f"t#{t['template_id']}#s#sh-a#d" in write
