"""Targeting (issue 18 item 4): shareable codes (通用码) redeemed by many customers under
the template's rules, recurring weekly windows on promotions and coupons (Wednesdays
18:00-21:00 Shanghai time), and level/segment audiences.

The store sh-a (tests/api/conftest.py) is open all day: SKU "100" (水果) 1000 fen, "101"
1001, "102" (蔬菜) 1002. Default levels: c-1 at V3, c-2 at V1 (seeded growth)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.auth.principal import Principal
from chalicelib.coupons import codes
from chalicelib.coupons import schemas as cs
from chalicelib.coupons import service as coupon_service
from chalicelib.coupons.models import CouponCodeModel, CouponModel, CouponTemplateModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.loyalty import growth
from chalicelib.promotions import service as promotion_service

from tests import publishing
from tests.api.conftest import token_for
from tests.api.test_orders_api import cart

QUOTE = "/orders/quote"
REDEEM = "/coupons/redeem-code"
# 2026-12-16 is a Wednesday: 18:30 and 21:00 in Shanghai
WED_1830 = datetime(2026, 12, 16, 10, 30, tzinfo=UTC)
WED_2100 = datetime(2026, 12, 16, 13, 0, tzinfo=UTC)
WED_1759 = datetime(2026, 12, 16, 9, 59, 59, tzinfo=UTC)
WEDNESDAY_EVENING = {"weekdays": [3], "start": "18:00", "end": "21:00"}


@pytest.fixture
def members(aws, catalogue):
    """c-1 at V3 (2 000 growth), c-2 at V1."""
    promotion_service.forget_active_cache()
    coupon_service.forget_auto_cache()
    for cid, phone in (("c-1", "13800000001"), ("c-2", "13800000002")):
        CustomerModel(customer_id=cid, phone=phone, created_at="2026-11-01T00:00:00Z").save()
    growth.add_growth("c-1", 2_000, ref="task:seed:once", kind="task", reason="seed")
    growth.add_growth("c-2", 100, ref="task:seed:once", kind="task", reason="seed")
    yield {c: token_for(c, "customer") for c in ("c-1", "c-2", "c-3", "c-4")}
    promotion_service.forget_active_cache()


def hq():
    return token_for("hq-admin", "hq_admin")


def _create_template(api, body):
    """The one place tests of this file create a template (drafts: the lead adds the
    approval step here)."""
    return publishing.create_template(api, body, hq())


def _create_promotion(api, body):
    """The one place tests of this file create a promotion."""
    return publishing.create_promotion(api, body, hq())


def template(**over):
    return {
        "template_id": "spring-20",
        "name": "春季满99减20",
        "kind": "amount_off",
        "threshold_fen": 0,
        "amount_off_fen": 200,
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2027-06-01T00:00:00+08:00",
        **over,
    }


def tiered(**over):
    return {
        "promotion_id": "wed-night",
        "kind": "tiered",
        "name": "周三晚满10减3",
        "starts_at": "2026-12-01T00:00:00+08:00",
        "ends_at": "2027-06-01T00:00:00+08:00",
        "tiers": [{"threshold_fen": 1000, "off_fen": 300}],
        **over,
    }


def redeem(api, token, code="spring2027", request_id="r-1"):
    return api.call("POST", REDEEM, {"code": code, "request_id": request_id}, token=token)


# --- shareable codes -------------------------------------------------------------------


def test_a_code_is_redeemed_under_the_templates_rules_and_idempotently(api, members):
    status, t = _create_template(
        api, template(code="Spring2027", total_quantity=2, per_customer_limit=1)
    )
    assert status == 201, t
    assert t["code"] == "SPRING2027"
    status, c = redeem(api, members["c-1"])
    assert status == 201, c
    assert c["coupon_id"] == "spring-20:code:c-1:r-1" and c["source"] == "code"
    assert (c["valid_from"], c["valid_until"]) == ("2026-11-30T16:00:00Z", "2027-05-31T16:00:00Z")
    status, again = redeem(api, members["c-1"], code="  spring2027 ")
    assert status == 200 and again["coupon_id"] == c["coupon_id"]  # a retry: the same coupon
    status, got = redeem(api, members["c-1"], request_id="r-2")
    assert status == 409 and got["error"]["code"] == "code_limit_reached"
    status, _ = redeem(api, members["c-2"])
    assert status == 201
    status, got = redeem(api, members["c-3"])
    assert status == 409 and got["error"]["code"] == "code_used_up"
    assert int(CouponTemplateModel.get("spring-20").issued_count) == 2


@pytest.mark.parametrize("code", ["NOPE1234", "x", "spring 2027", "春天快乐码码"])
def test_an_unknown_or_malformed_code_is_one_404(api, members, code):
    _create_template(api, template(code="SPRING2027"))
    status, got = redeem(api, members["c-1"], code=code)
    assert status == 404 and got["error"]["code"] == "unknown_code"
    assert got["error"]["message"] == "No coupon has this code."


def test_a_paused_or_ended_code_answers_like_an_unknown_one(api, members):
    _create_template(api, template(code="SPRING2027"))
    status, _ = api.call(
        "PATCH", "/admin/coupon-templates/spring-20", {"status": "paused"}, token=hq()
    )
    assert status == 200
    status, got = redeem(api, members["c-1"])
    assert status == 404 and got["error"] == {
        "code": "unknown_code",
        "message": "No coupon has this code.",
        "details": None,
    }
    _create_template(
        api,
        template(
            template_id="ended",
            code="ENDED2026",
            starts_at="2026-01-01T00:00:00Z",
            ends_at="2026-02-01T00:00:00Z",
        ),
    )
    status, got = redeem(api, members["c-1"], code="ENDED2026")
    assert status == 404 and got["error"]["code"] == "unknown_code"
    assert list(CouponModel.by_customer.query("c-1")) == []


def test_a_code_is_unique_across_templates_and_nothing_is_half_written(api, members):
    status, _ = _create_template(api, template(code="SPRING2027"))
    assert status == 201
    status, got = _create_template(api, template(template_id="copy", code="spring2027"))
    assert status == 409 and got["error"]["code"] == "coupon_code_taken"
    status, _ = api.call("GET", "/admin/coupon-templates/copy", token=hq())
    assert status == 404
    assert CouponCodeModel.get("SPRING2027").template_id == "spring-20"
    # a retried create of the same body is still a replay, code and all
    status, again = _create_template(api, template(code="SPRING2027"))
    assert status == 201 and again["template_id"] == "spring-20"


def test_a_code_template_is_neither_listed_nor_claimable(api, members):
    _create_template(api, template(code="SPRING2027"))
    _create_template(api, template(template_id="open"))
    status, listed = api.call("GET", "/coupon-templates")
    assert status == 200 and [t["template_id"] for t in listed["items"]] == ["open"]
    status, got = api.call(
        "POST",
        "/coupons/claim",
        {"template_id": "spring-20", "request_id": "r-1"},
        token=members["c-1"],
    )
    assert status == 409 and got["error"]["code"] == "template_not_claimable"


@pytest.mark.parametrize(
    ("over", "fields"),
    [
        ({"code": "AB1"}, ["code"]),
        ({"code": "SPRING-27"}, ["code"]),
        ({"code": "SPRING27", "sale_price_fen": 100}, ["code"]),
        ({"recurrence": {"weekdays": [3], "start": "22:00", "end": "02:00"}}, ["recurrence.end"]),
        (
            {"recurrence": {"weekdays": [3, 3], "start": "18:00", "end": "21:00"}},
            ["recurrence.weekdays"],
        ),
        (
            {"recurrence": {"weekdays": [3], "start": "25:00", "end": "26:00"}},
            ["recurrence.start", "recurrence.end"],
        ),
        ({"audience": {"min_level": "V3", "segment_id": "vip"}}, ["audience"]),
        ({"audience": {}}, ["audience"]),
    ],
)
def test_targeting_fields_of_a_template_are_validated(api, members, over, fields):
    status, got = _create_template(api, template(**over))
    assert status == 422, got
    assert [d["field"] for d in got["error"]["details"]] == fields
    assert CouponTemplateModel.count() == 0


def test_storm_of_redeems_issues_exactly_the_quantity(api, members):
    status, _ = _create_template(
        api, template(code="STORM10", total_quantity=10, per_customer_limit=1)
    )
    assert status == 201
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def one(i: int) -> None:
        who = Principal(subject=f"c-storm-{i}", role="customer")
        start.wait()
        try:
            codes.redeem(who, cs.RedeemCodeRequest(code="storm10", request_id="r-1"))
            got = "issued"
        except ApiError as err:
            got = err.code
        with lock:
            outcomes.append(got)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("issued") == 10
    assert outcomes.count("code_used_up") == 40
    assert int(CouponTemplateModel.get("spring-20").issued_count) == 10
    issued = [c for c in CouponModel.scan() if c.template_id == "spring-20"]
    assert len(issued) == 10


# --- audiences ---------------------------------------------------------------------------


def test_a_level_template_is_for_that_level_up(api, members):
    _create_template(api, template(template_id="v3-only", audience={"min_level": "V3"}))
    body = {"template_id": "v3-only", "request_id": "r-1"}
    status, got = api.call("POST", "/coupons/claim", body, token=members["c-2"])
    assert status == 409 and got["error"]["code"] == "not_for_you"
    status, got = api.call("POST", "/coupons/claim", body, token=members["c-1"])
    assert status == 201, got
    status, listed = api.call("GET", "/coupon-templates")
    assert listed["items"] == []  # not listed to everyone
    _create_template(
        api, template(template_id="v3-code", code="VIPONLY", audience={"min_level": "V3"})
    )
    status, got = redeem(api, members["c-2"], code="VIPONLY")
    assert status == 409 and got["error"]["code"] == "not_for_you"
    status, _ = redeem(api, members["c-1"], code="VIPONLY")
    assert status == 201


def test_a_segment_template_asks_the_segments_snapshot(api, members, monkeypatch):
    from chalicelib.customers import segments

    _create_template(api, template(template_id="seg", audience={"segment_id": "vip"}))
    body = {"template_id": "seg", "request_id": "r-1"}
    # no snapshot yet: nobody is in the segment
    status, got = api.call("POST", "/coupons/claim", body, token=members["c-1"])
    assert status == 409 and got["error"]["code"] == "not_for_you"
    asked = []

    def member(segment_id, customer_id):
        asked.append((segment_id, customer_id))
        return customer_id == "c-1"

    monkeypatch.setattr(segments, "is_member", member)
    status, got = api.call("POST", "/coupons/claim", body, token=members["c-2"])
    assert status == 409 and got["error"]["code"] == "not_for_you"
    status, got = api.call("POST", "/coupons/claim", body, token=members["c-1"])
    assert status == 201
    assert asked == [("vip", "c-2"), ("vip", "c-1")]


def test_a_level_promotion_applies_to_that_level_up_and_is_not_listed(api, members):
    status, p = _create_promotion(
        api, tiered(promotion_id="v3-tiered", audience={"min_level": "V3"})
    )
    assert status == 201, p
    assert p["audience"] == {"min_level": "V3", "segment_id": None}
    with clock.as_of(WED_1830):
        _, q3 = api.call("POST", QUOTE, cart(("102", 2)), members["c-1"])
        _, q1 = api.call("POST", QUOTE, cart(("102", 2)), members["c-2"])
        _, guest = api.call("GET", "/stores/sh-a/promotions")
    assert [d["code"] for d in q3["discounts"] if d["kind"] == "tiered"] == ["tiered:v3-tiered"]
    assert [d for d in q1["discounts"] if d["kind"] == "tiered"] == []
    assert guest["items"] == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (tiered(audience={"segment_id": "vip"}), ["audience.segment_id"]),
        (
            {
                "kind": "member_day",
                "name": "会员日",
                "starts_at": "2026-12-01T00:00:00+08:00",
                "ends_at": "2027-12-01T00:00:00+08:00",
                "member_day": {"recurrence": "monthly", "days": [18], "percent_off": 5},
                "recurrence": WEDNESDAY_EVENING,
            },
            ["recurrence"],
        ),
        (
            tiered(recurrence={"weekdays": [3], "start": "21:00", "end": "18:00"}),
            ["recurrence.end"],
        ),
    ],
)
def test_targeting_fields_of_a_promotion_are_validated(api, members, body, fields):
    status, got = _create_promotion(api, body)
    assert status == 422, got
    assert [d["field"] for d in got["error"]["details"]] == fields


# --- recurring windows -----------------------------------------------------------------


def test_a_wednesday_evening_promotion_prices_at_1830_and_not_at_2100(api, members):
    status, p = _create_promotion(api, tiered(recurrence=WEDNESDAY_EVENING))
    assert status == 201, p
    assert p["recurrence"]["text"] == "Wednesdays 18:00–21:00"
    body = cart(("102", 1))

    def tiered_codes():
        promotion_service.forget_active_cache()
        status, q = api.call("POST", QUOTE, body, members["c-2"])
        assert status == 200, q
        return [d["code"] for d in q["discounts"] if d["kind"] == "tiered"]

    with clock.as_of(WED_1830):
        assert tiered_codes() == ["tiered:wed-night"]
        _, shown = api.call("GET", "/stores/sh-a/promotions")
    [item] = shown["items"]
    assert item["next_window"] == ["2026-12-16T10:00:00Z", "2026-12-16T13:00:00Z"]
    with clock.as_of(WED_2100):
        assert tiered_codes() == []
        _, shown = api.call("GET", "/stores/sh-a/promotions")
    # listed with when it is on next: the following Wednesday
    assert shown["items"][0]["next_window"] == ["2026-12-23T10:00:00Z", "2026-12-23T13:00:00Z"]
    with clock.as_of(WED_1759):
        assert tiered_codes() == []


def test_a_coupon_with_a_window_is_usable_only_inside_it(api, members):
    status, _ = _create_template(api, template(code="WEDNIGHT", recurrence=WEDNESDAY_EVENING))
    assert status == 201
    with clock.as_of(WED_2100):
        status, c = redeem(api, members["c-1"], code="wednight")
    assert status == 201 and c["recurrence"]["weekdays"] == [3]
    stored = CouponModel.get(c["coupon_id"])
    assert (stored.rec_start, stored.rec_end) == ("18:00", "21:00")
    body = cart(("102", 1), coupon_ids=[c["coupon_id"]])
    with clock.as_of(WED_1830):
        status, q = api.call("POST", QUOTE, body, members["c-1"])
    assert status == 200, q
    assert [d["code"] for d in q["discounts"] if d["kind"] == "coupon"] == [
        f"coupon:{c['coupon_id']}"
    ]
    with clock.as_of(WED_2100):
        status, q = api.call("POST", QUOTE, cart(("102", 1)), members["c-1"])
    [v] = q["coupons"]
    assert (v["applies"], v["reason"], v["message"]) == (
        False,
        "outside_window",
        "Usable Wednesdays 18:00–21:00",
    )
    # an ordinary coupon carries no window: no bigger item
    _create_template(api, template(template_id="plain", code="PLAIN2027"))
    with clock.as_of(WED_1830):
        _, plain = redeem(api, members["c-1"], code="PLAIN2027")
    assert "rec_weekdays" not in CouponModel.get(plain["coupon_id"]).attribute_values


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff_a", "manager_a", "hq"])
def test_only_customers_redeem_codes(api, tokens_, who):
    status, got = api.call(
        "POST", REDEEM, {"code": "SPRING2027", "request_id": "r-1"}, token=tokens_[who]
    )
    assert status == 403, got
    status, _ = api.call("POST", REDEEM, {"code": "SPRING2027", "request_id": "r-1"})
    assert status == 401


# --- targeting edited while draft ------------------------------------------------------


def test_a_draft_promotions_window_and_audience_change_and_approval_fixes_them(api, members):
    status, draft = api.call("POST", "/admin/promotions", tiered(), token=hq())
    assert status == 201 and draft["status"] == "draft", draft
    path = f"/admin/promotions/{draft['promotion_id']}"
    change = {"recurrence": WEDNESDAY_EVENING, "audience": {"min_level": "V3"}}
    status, edited = api.call("PATCH", path, change, token=hq())
    assert status == 200, edited
    assert edited["recurrence"]["text"] == "Wednesdays 18:00–21:00"
    assert edited["audience"] == {"min_level": "V3", "segment_id": None}
    # null removes one, absent keeps the other
    status, edited = api.call("PATCH", path, {"recurrence": None}, token=hq())
    assert status == 200 and edited["recurrence"] is None and edited["audience"], edited
    removed = _changes(draft["promotion_id"], "promotion.update")[-1]["recurrence"]
    assert removed == [WEDNESDAY_EVENING, None]
    # a bad window is a field error, nothing written
    bad = {"recurrence": {"weekdays": [3], "start": "21:00", "end": "18:00"}}
    status, err = api.call("PATCH", path, bad, token=hq())
    assert status == 422 and [d["field"] for d in err["error"]["details"]] == ["recurrence.end"]
    published = publishing.publish_draft(api, path, edited, hq())
    assert published["status"] == "active"
    # approved: the targeting is part of what was approved
    status, err = api.call("PATCH", path, {"audience": None}, token=hq())
    assert status == 422, err
    (detail,) = err["error"]["details"]
    assert detail["field"] == "audience" and "approved" in detail["reason"]
    assert api.call("GET", path, token=hq())[1]["audience"]["min_level"] == "V3"
    # the level applies at checkout as if it had been set at create
    with clock.as_of(WED_1830):
        promotion_service.forget_active_cache()
        _, q3 = api.call("POST", QUOTE, cart(("102", 2)), members["c-1"])
        _, q1 = api.call("POST", QUOTE, cart(("102", 2)), members["c-2"])
    assert [d["kind"] for d in q3["discounts"] if d["kind"] == "tiered"] == ["tiered"]
    assert [d for d in q1["discounts"] if d["kind"] == "tiered"] == []


def test_retargeting_a_pending_promotion_clears_its_first_approval(api, members):
    # no budget: two approvers needed, the first one leaves it pending
    status, draft = api.call("POST", "/admin/promotions", tiered(), token=hq())
    path = f"/admin/promotions/{draft['promotion_id']}"
    status, pending = api.call("POST", f"{path}/approve", {}, token=hq())
    assert status == 200 and pending["status"] == "pending", pending
    status, edited = api.call("PATCH", path, {"audience": {"min_level": "V2"}}, token=hq())
    assert status == 200 and edited["status"] == "draft" and edited["approvals"] == [], edited


def test_a_draft_templates_code_window_and_audience_change_and_the_old_code_is_freed(api, members):
    status, draft = api.call("POST", "/admin/coupon-templates", template(code="OLD2027"), hq())
    assert status == 201 and draft["status"] == "draft", draft
    path = "/admin/coupon-templates/spring-20"
    change = {
        "code": "new2027",
        "recurrence": WEDNESDAY_EVENING,
        "audience": {"segment_id": "vip-lapsed"},
    }
    status, edited = api.call("PATCH", path, change, token=hq())
    assert status == 200, edited
    assert edited["code"] == "NEW2027"
    assert edited["recurrence"]["weekdays"] == [3]
    assert edited["audience"] == {"min_level": None, "segment_id": "vip-lapsed"}
    assert CouponCodeModel.get("NEW2027").template_id == "spring-20"
    assert CouponCodeModel.count("OLD2027") == 0  # free for another template
    status, other = api.call(
        "POST", "/admin/coupon-templates", template(template_id="other", code="OLD2027"), hq()
    )
    assert status == 201, other
    # another template's code: 409, nothing of the edit written
    status, err = api.call("PATCH", path, {"code": "OLD2027", "audience": None}, token=hq())
    assert status == 409 and err["error"]["code"] == "coupon_code_taken", err
    got = api.call("GET", path, token=hq())[1]
    assert got["code"] == "NEW2027" and got["audience"]["segment_id"] == "vip-lapsed"
    assert CouponCodeModel.get("NEW2027").template_id == "spring-20"
    # null removes the code (and frees it)
    status, edited = api.call("PATCH", path, {"code": None, "audience": None}, token=hq())
    assert status == 200 and edited["code"] is None and edited["audience"] is None, edited
    assert CouponCodeModel.count("NEW2027") == 0
    published = publishing.publish_draft(api, path, edited, hq())
    assert published["status"] == "active"
    status, err = api.call("PATCH", path, {"code": "LATE2027"}, token=hq())
    assert status == 422 and err["error"]["details"][0]["field"] == "code", err
    assert CouponCodeModel.count("LATE2027") == 0


def _changes(target_id, action):
    """The audit entries' {field: [before, after]} of ``action`` on ``target_id``, oldest
    first."""
    entries = sorted(
        (e for e in AuditEntryModel.scan() if e.target_id == target_id and e.action == action),
        key=lambda e: e.at_id,
    )
    return [json.loads(e.changes) for e in entries]
