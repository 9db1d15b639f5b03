"""Member day (会员日, issue 15 item 6): head office schedules it through the promotions
routes (kind ``member_day``); the storefront lists it with its next dates; checkout
gives its member price only on the day and only to its audience, through the engine's
member-price hook (the best of level, member day and card per SKU); its points
multiplier is recorded on the order; its coupon pack is claimed once per member per day.

The store sh-a (tests/api/conftest.py): SKU "100" (水果/柑橘) 1000 fen, "101" (水果/苹果梨)
1001, "102" (蔬菜/叶菜) 1002; delivery fee ¥5. Default levels: V1 no member price, V3 980‰."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from chalicelib.coupons.models import CouponModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.loyalty import growth
from chalicelib.loyalty import member_day as member_day_pack
from chalicelib.orders.models import OrderModel
from chalicelib.promotions import service as promotion_service

from tests.api.conftest import token_for
from tests.api.test_orders_api import cart, place
from tests.publishing import create_promotion, create_template

QUOTE = "/orders/quote"
ON_THE_18TH = datetime(2026, 12, 18, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
THE_17TH_LATE = datetime(2026, 12, 17, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
THE_18TH_AT_MIDNIGHT = datetime(2026, 12, 17, 16, 0, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    class Clock:
        at = ON_THE_18TH

    c = Clock()
    monkeypatch.setattr(clock, "now", lambda: c.at)
    return c


@pytest.fixture
def members(aws, catalogue, now):
    """c-1 at V3 (2 000 growth), c-2 at V1."""
    promotion_service.forget_active_cache()
    for cid, phone in (("c-1", "13800000001"), ("c-2", "13800000002")):
        CustomerModel(customer_id=cid, phone=phone, created_at="2026-11-01T00:00:00Z").save()
    growth.add_growth("c-1", 2_000, ref="task:seed:once", kind="task", reason="seed")
    growth.add_growth("c-2", 100, ref="task:seed:once", kind="task", reason="seed")
    return {c: token_for(c, "customer") for c in ("c-1", "c-2")}


def hq():
    return token_for("hq-admin", "hq_admin")


def member_day(api, pid="md-18", scope=None, **spec):
    body = {
        "promotion_id": pid,
        "kind": "member_day",
        "name": "18号会员日",
        "stores": [],
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2027-12-01T00:00:00+08:00",
        "member_day": {"recurrence": "monthly", "days": [18], **spec},
    }
    if scope is not None:
        body["scope"] = scope
    status, got = create_promotion(api, body, token=hq())
    assert status == 201, got
    return got


def explained(q):
    return [(d["code"], d["kind"], d["label"], d["amount_fen"]) for d in q["discounts"]]


def test_head_office_creates_a_member_day_listed_with_its_next_dates(api, members, now):
    got = member_day(
        api, scope={"categories": ["水果"], "skus": []}, points_multiplier=2, percent_off=5
    )
    md = got["member_day"]
    assert (md["percent_off"], md["points_multiplier"], md["audience"]) == (5, 2.0, "members")
    assert md["on_now"] and md["today"] == "2026-12-18"
    assert md["next_dates"] == ["2026-12-18", "2027-01-18", "2027-02-18"]
    status, listed = api.call("GET", "/admin/promotions?status=active", token=hq())
    assert status == 200 and [p["promotion_id"] for p in listed["items"]] == ["md-18"]
    now.at = THE_17TH_LATE
    status, shown = api.call("GET", "/stores/sh-a/promotions")
    assert status == 200
    [item] = shown["items"]
    assert item["kind"] == "member_day" and item["member_day"]["on_now"] is False
    assert item["member_day"]["next_dates"][0] == "2026-12-18"


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ({"audience": "segment", "segment_id": "s1", "percent_off": 5}, ["member_day.percent_off"]),
        ({"audience": "level", "percent_off": 5}, ["member_day.min_level"]),
        ({"audience": "members", "min_level": "V2", "percent_off": 5}, ["member_day.min_level"]),
        ({}, ["member_day"]),
        ({"points_multiplier": 1.55}, ["member_day.points_multiplier"]),
        ({"recurrence": "weekly", "days": [9], "percent_off": 5}, ["member_day.days[0]"]),
    ],
)
def test_a_member_day_is_validated(api, members, spec, fields):
    body = {
        "kind": "member_day",
        "name": "会员日",
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2027-12-01T00:00:00+08:00",
        "member_day": {"recurrence": "monthly", "days": [18], **spec},
    }
    status, got = create_promotion(api, body, token=hq())
    assert status == 422, got
    assert [d["field"] for d in got["error"]["details"]] == fields


def test_the_member_price_applies_on_the_day_only_and_to_members_only(api, members, now):
    member_day(api, scope={"categories": ["蔬菜"], "skus": []}, percent_off=5)
    body = cart(("100", 1), ("102", 2))  # "102" is 蔬菜: 1002 -> 952 (50.1 off, rounded down)
    status, q = api.call("POST", QUOTE, body, members["c-2"])  # V1: no level price
    assert status == 200, q
    assert explained(q) == [("member_day:md-18", "member_price", "18号会员日", 2 * 50)]
    assert [line["paid_fen"] for line in q["lines"]] == [1000, 2 * 952]
    # the last second of the 17th in Shanghai: no member day
    now.at = THE_17TH_LATE
    status, q = api.call("POST", QUOTE, body, members["c-2"])
    assert status == 200 and q["discounts"] == []
    now.at = THE_18TH_AT_MIDNIGHT
    status, q = api.call("POST", QUOTE, body, members["c-2"])
    assert [d["code"] for d in q["discounts"]] == ["member_day:md-18"]


def test_the_member_day_price_and_the_level_price_never_stack(api, members, now):
    # 5 % off 水果 on the day; V3 is 2 % off everything: V3 members get 5 % on 水果, 2 % else
    member_day(api, scope={"categories": ["水果"], "skus": []}, percent_off=5)
    status, q = api.call("POST", QUOTE, cart(("100", 2), ("102", 1)), members["c-1"])
    assert status == 200, q
    assert explained(q) == [
        ("member_day:md-18", "member_price", "18号会员日", 2 * 50),
        ("member_price:level:V3", "member_price", "V3 会员价", 1002 - 981),
    ]


def test_a_level_audience_gets_it_from_that_level_up(api, members):
    member_day(
        api, audience="level", min_level="V3", member_prices=[{"sku": "101", "price_fen": 800}]
    )
    _, q3 = api.call("POST", QUOTE, cart(("101", 1)), members["c-1"])
    assert explained(q3) == [("member_day:md-18", "member_price", "18号会员日", 201)]
    _, q1 = api.call("POST", QUOTE, cart(("101", 1)), members["c-2"])
    assert q1["discounts"] == [] and q1["points_multiplier"] is None


def test_the_multiplier_is_explained_and_recorded_on_the_order_in_two_calls(
    api, members, now, aws_calls
):
    member_day(api, points_multiplier=2)
    body = cart(("100", 3), coupon_ids=[])
    status, q = api.call("POST", QUOTE, body, members["c-2"])
    assert status == 200, q
    assert q["points_multiplier"] == {
        "code": "member_day:md-18",
        "label": "18号会员日",
        "promotion_id": "md-18",
        "multiplier": 2.0,
    }
    aws_calls.clear()
    status, order = place(api, members["c-2"], {**body, "expected_total_fen": q["total_fen"]})
    assert status == 201, order
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]
    assert OrderModel.get(order["order_id"]).points_multiplier == "2"
    assert order["points_multiplier"] == 2.0  # the member sees it on the order
    status, again = api.call("GET", f"/orders/{order['order_id']}", token=members["c-2"])
    assert (status, again["points_multiplier"]) == (200, 2.0)
    # the day after, no multiplier on a new order
    now.at = datetime(2026, 12, 18, 16, 0, tzinfo=UTC)
    status, order = place(api, members["c-2"], body, key="key-00000002")
    assert status == 201, order
    assert OrderModel.get(order["order_id"]).points_multiplier is None
    assert order["points_multiplier"] is None


def test_a_segment_member_day_gives_nothing_at_checkout(api, members):
    member_day(api, audience="segment", segment_id="vip", coupon_template_ids=["T-md"])
    _, q = api.call("POST", QUOTE, cart(("100", 1)), members["c-1"])
    assert [d["kind"] for d in q["discounts"]] == ["member_price"]  # V3's, not the day's
    assert q["points_multiplier"] is None


def coupon_template(api, tid="T-md"):
    body = {
        "template_id": tid,
        "name": "会员日满50减10",
        "kind": "amount_off",
        "threshold_fen": 5000,
        "amount_off_fen": 1000,
        "days_after_claim": 1,
        "per_customer_limit": 100,  # one per member day: the limit counts every month's
        "claimable": False,
    }
    status, got = create_template(api, body, token=hq())
    assert status == 201, got
    return got


def test_the_pack_is_claimed_once_per_member_per_day(api, members, now):
    coupon_template(api)
    member_day(api, coupon_template_ids=["T-md"])
    path = "/members/me/member-days/md-18/claim"
    status, got = api.call("POST", path, {}, members["c-1"])
    assert status == 200, got
    assert got["issued"] == ["T-md:md-md-18-20261218:c-1"] and got["day"] == "2026-12-18"
    status, again = api.call("POST", path, {}, members["c-1"])
    assert again["issued"] == [] and again["already_issued"] == got["issued"]
    now.at = datetime(2027, 1, 18, 2, tzinfo=UTC)  # next month's member day: a new pack
    status, jan = api.call("POST", path, {}, members["c-1"])
    assert jan["issued"] == ["T-md:md-md-18-20270118:c-1"]
    now.at = datetime(2027, 1, 19, 2, tzinfo=UTC)
    status, off = api.call("POST", path, {}, members["c-1"])
    assert status == 409 and off["error"]["code"] == "member_day_not_on"


def test_concurrent_claims_issue_one_coupon(api, members):
    coupon_template(api)
    member_day(api, coupon_template_ids=["T-md"])
    results = []

    def claim():
        results.append(member_day_pack.claim("c-2", "md-18"))

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert sum(len(r.issued) for r in results) == 1
    assert sum(len(r.already_issued) for r in results) == 5
    coupons = list(CouponModel.by_customer.query("c-2"))
    assert [c.coupon_id for c in coupons] == ["T-md:md-md-18-20261218:c-2"]


def test_level_and_segment_audiences_on_claim(api, members):
    coupon_template(api)
    member_day(api, "md-v3", audience="level", min_level="V3", coupon_template_ids=["T-md"])
    path = "/members/me/member-days/md-v3/claim"
    status, got = api.call("POST", path, {}, members["c-2"])
    assert status == 409 and got["error"]["code"] == "member_day_not_for_you"
    status, got = api.call("POST", path, {}, members["c-1"])
    assert status == 200 and len(got["issued"]) == 1
    member_day(api, "md-seg", audience="segment", segment_id="vip", coupon_template_ids=["T-md"])
    status, got = api.call("POST", "/members/me/member-days/md-seg/claim", {}, members["c-1"])
    assert status == 409 and got["error"]["code"] == "member_day_not_for_you"
    # the segment's job issues through the hook, idempotently
    first = member_day_pack.issue_member_day_pack("md-seg", "20261218", ["c-1", "c-2"])
    again = member_day_pack.issue_member_day_pack("md-seg", "20261218", ["c-1", "c-2"])
    assert len(first.issued) == 2 and again.issued == [] and len(again.already_issued) == 2
    status, got = api.call("POST", "/members/me/member-days/nope/claim", {}, members["c-1"])
    assert status == 404


def test_rules_change_only_while_no_member_day_is_on_audited_and_versioned(api, members, now):
    member_day(api, percent_off=5)
    change = {
        "member_day": {"recurrence": "weekly", "days": [6], "percent_off": 8},
        "expected_version": 0,
    }
    status, got = api.call("PATCH", "/admin/promotions/md-18", change, token=hq())
    assert status == 422 and got["error"]["details"][0]["field"] == "member_day"
    now.at = THE_17TH_LATE
    status, got = api.call("PATCH", "/admin/promotions/md-18", change, token=hq())
    assert status == 200, got
    assert got["version"] == 1 and got["member_day"]["recurrence"] == "weekly"
    assert got["member_day"]["percent_off"] == 8
    status, stale = api.call("PATCH", "/admin/promotions/md-18", change, token=hq())
    assert status == 409 and stale["error"]["code"] == "promotion_changed"
    status, audit = api.call(
        "GET", "/admin/audit?target_type=promotion&target_id=md-18", token=hq()
    )
    assert status == 200, audit
    assert "promotion.update" in [e["action"] for e in audit["items"]]
    status, ended = api.call("PATCH", "/admin/promotions/md-18", {"status": "ended"}, token=hq())
    assert status == 200 and ended["member_day"]["next_dates"] == []


def test_roles_on_the_member_day_routes(api, members):
    member_day(api, percent_off=5)
    for who in ("store_staff", "store_manager"):
        tok = token_for("x", who, "sh-a")
        status, _ = create_promotion(api, {}, token=tok)
        assert status == 403
        status, _ = api.call("POST", "/members/me/member-days/md-18/claim", {}, token=tok)
        assert status == 403
    status, _ = api.call("POST", "/members/me/member-days/md-18/claim", {}, token=hq())
    assert status == 403
    status, _ = api.call("POST", "/members/me/member-days/md-18/claim", {})
    assert status == 401
