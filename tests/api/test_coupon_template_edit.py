"""PATCH /admin/coupon-templates/{id}: editing validity end and scope with the rules that
protect coupons already issued, and the version that keeps two editors from losing each
other's changes."""

from __future__ import annotations

import pytest
from chalicelib.coupons import service
from chalicelib.coupons.models import CouponModel, CouponTemplateModel

from tests.api.test_coupons import amount_off, at, claim, create


@pytest.fixture(autouse=True)
def no_cache():
    service.forget_auto_cache()
    yield
    service.forget_auto_cache()


def window(api, tokens_, **over):
    body = amount_off(days_after_claim=None, starts_at=at(-1), ends_at=at(10), **over)
    status, t = create(api, tokens_, body)
    assert status == 201, t
    return t


def patch(api, tokens_, template_id, body, who="hq"):
    return api.call("PATCH", f"/admin/coupon-templates/{template_id}", body, token=tokens_[who])


def test_an_edit_bumps_the_version_and_a_stale_one_is_a_409(api, tokens_):
    t = window(api, tokens_)
    assert t["version"] == 0
    status, a = patch(api, tokens_, t["template_id"], {"name": "甲", "expected_version": 0})
    assert (status, a["name"], a["version"]) == (200, "甲", 1)
    status, err = patch(api, tokens_, t["template_id"], {"name": "乙", "expected_version": 0})
    assert (status, err["error"]["code"]) == (409, "coupon_template_changed")
    assert err["error"]["details"] == {"version": 1}
    assert CouponTemplateModel.get(t["template_id"]).name == "甲"


def test_ends_at_extends_after_issue_but_never_shortens(api, tokens_):
    t = window(api, tokens_)
    tid = t["template_id"]
    status, shorter = patch(api, tokens_, tid, {"ends_at": at(5)})
    assert status == 200  # nothing issued yet
    assert claim(api, tokens_["customer"], tid)[0] == 201
    held = next(iter(CouponModel.by_customer.query("c-1"))).valid_until
    status, err = patch(api, tokens_, tid, {"ends_at": at(3)})
    assert status == 422 and err["error"]["details"][0]["field"] == "ends_at"
    assert "only be extended" in err["error"]["details"][0]["reason"]
    status, longer = patch(api, tokens_, tid, {"ends_at": at(30)})
    assert status == 200 and longer["ends_at"] > shorter["ends_at"]
    # the coupon held keeps the end it was issued with
    assert next(iter(CouponModel.by_customer.query("c-1"))).valid_until == held
    for bad in (at(-1), "2026-13-01T00:00:00Z"):
        assert patch(api, tokens_, tid, {"ends_at": bad})[0] == 422


def test_ends_at_of_a_days_after_claim_template_is_refused(api, tokens_):
    _, t = create(api, tokens_, amount_off())
    status, err = patch(api, tokens_, t["template_id"], {"ends_at": at(3)})
    assert status == 422 and "no end date" in err["error"]["details"][0]["reason"]


def test_scope_is_free_before_issue_and_only_widens_after(api, tokens_):
    t = window(api, tokens_, scope={"categories": ["水果"]})
    tid = t["template_id"]
    status, got = patch(api, tokens_, tid, {"scope": {"categories": ["蔬菜"]}})
    assert status == 200 and got["scope"]["categories"] == ["蔬菜"]
    assert claim(api, tokens_["customer"], tid)[0] == 201
    status, err = patch(api, tokens_, tid, {"scope": {"categories": ["水果"]}})
    assert status == 422 and err["error"]["details"][0]["field"] == "scope"
    status, got = patch(api, tokens_, tid, {"scope": {"categories": ["蔬菜", "水果"]}})
    assert status == 200 and got["scope"]["categories"] == ["水果", "蔬菜"]
    status, got = patch(api, tokens_, tid, {"scope": {}})
    assert status == 200 and got["scope"] == {"categories": [], "skus": [], "stores": []}


def test_one_refused_field_changes_nothing(api, tokens_):
    t = window(api, tokens_, scope={"categories": ["水果"]})
    tid = t["template_id"]
    assert claim(api, tokens_["customer"], tid)[0] == 201
    body = {"name": "新名字", "ends_at": at(1), "scope": {"categories": ["蔬菜"]}}
    status, err = patch(api, tokens_, tid, body)
    assert status == 422
    assert [d["field"] for d in err["error"]["details"]] == ["ends_at", "scope"]
    after = CouponTemplateModel.get(tid)
    assert (after.name, after.version) == ("满99减20", None)


@pytest.mark.parametrize("who", ["manager_a", "staff_a", "customer", "relay_a"])
def test_only_head_office_edits(api, tokens_, who):
    t = window(api, tokens_)
    assert patch(api, tokens_, t["template_id"], {"name": "x"}, who=who)[0] == 403


@pytest.mark.parametrize(
    "body",
    [
        {"expected_version": 0},
        {"expected_version": -1, "name": "x"},
        {"expected_version": "1", "name": "x"},
        {"scope": {"categories": ["x"] * 51}},
        {"scope": {"skus": ["../"]}},
        {"ends_at": 12},
        {"name": "x" * 61},
    ],
)
def test_bad_bodies(api, tokens_, body):
    t = window(api, tokens_)
    assert patch(api, tokens_, t["template_id"], body)[0] == 422
    assert CouponTemplateModel.get(t["template_id"]).version is None
