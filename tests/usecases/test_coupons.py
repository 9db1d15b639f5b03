"""Coupons as use cases, without HTTP: a claim retried with its request id gives one
coupon, the per-customer limit holds, and a claimed coupon prices the cart."""

from __future__ import annotations

import json

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.coupons import service as coupons
from chalicelib.coupons.models import CouponModel
from chalicelib.coupons.schemas import ClaimRequest, TemplateCreate
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import service as orders
from chalicelib.orders.schemas import QuoteRequest

from tests.publishing import publish_template

ME = Principal("c-usecase-3", CUSTOMER)
HQ = Principal("hq-admin", HQ_ADMIN)


def new_template(**over) -> str:
    body = {
        "name": "满30减5",
        "kind": "amount_off",
        "threshold_fen": 3000,
        "amount_off_fen": 500,
        "days_after_claim": 7,
        "per_customer_limit": 2,
        **over,
    }
    return publish_template(
        coupons.create_template(HQ, msgspec.convert(body, TemplateCreate))
    ).template_id


def claim(template_id: str, request_id: str) -> dict:
    answer = coupons.claim(ME, ClaimRequest(template_id=template_id, request_id=request_id))
    # claim answers with its HTTP status (201 new, 200 replay) and the coupon
    body = answer.body if isinstance(answer.body, dict) else json.loads(answer.body)
    return {"status": answer.status_code, **body}


def test_a_retried_claim_gives_one_coupon(catalogue):
    t = new_template()
    first = claim(t, "uc-claim-1")
    again = claim(t, "uc-claim-1")
    assert (first["status"], again["status"]) == (201, 200)
    assert first["coupon_id"] == again["coupon_id"]
    assert CouponModel.count() == 1


def test_the_per_customer_limit_holds(catalogue):
    t = new_template()
    claim(t, "uc-claim-2")
    claim(t, "uc-claim-3")
    with pytest.raises(ApiError) as refused:
        claim(t, "uc-claim-4")
    assert refused.value.status in (409, 422)
    assert CouponModel.count() == 2


def test_a_claimed_coupon_prices_the_cart(catalogue):
    coupon_id = claim(new_template(), "uc-claim-5")["coupon_id"]
    cart = {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": "100", "qty": 2}, {"sku": "101", "qty": 1}],
    }
    # no coupon_ids: the quote picks the best of the wallet; [] means none
    plain = orders.quote(ME, msgspec.convert({**cart, "coupon_ids": []}, QuoteRequest))
    best = orders.quote(ME, msgspec.convert(cart, QuoteRequest))
    priced = orders.quote(ME, msgspec.convert({**cart, "coupon_ids": [coupon_id]}, QuoteRequest))
    assert plain.total_fen - priced.total_fen == 500
    assert priced.applied_coupon_ids == best.applied_coupon_ids == [coupon_id]
