"""Coupons in the API: head office creates, lists, reads, pauses and issues templates,
looks members up and watches budgets and reminders; customers claim coupons and read
their wallet; other roles are refused; bad input is a 422 naming the field, with
nothing written; retries are idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from chalicelib.coupons import reminders as coupon_reminders
from chalicelib.coupons import service
from chalicelib.coupons.models import CouponModel, CouponTemplateModel, NotificationModel
from chalicelib.coupons.repo import (
    get_coupon,
    mark_used_items,
    redemption_items,
    release_items,
    return_items,
)
from chalicelib.db.transactions import add_all, transact
from chalicelib.kernel import clock

from tests.api.conftest import token_for
from tests.event_steps import deliver_events
from tests.publishing import create_template


def at(days: float) -> str:
    return clock.iso(clock.now() + timedelta(days=days))


def amount_off(**over):
    return {
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "days_after_claim": 7,
        **over,
    }


@pytest.fixture(autouse=True)
def no_cache():
    service.forget_auto_cache()
    yield
    service.forget_auto_cache()


def create(api, tokens_, body):
    return create_template(api, body, token=tokens_["hq"])


def claim(api, token, template_id, request_id="r-1", **extra):
    body = {"template_id": template_id, "request_id": request_id, **extra}
    return api.call("POST", "/coupons/claim", body, token=token)


# --- templates ---------------------------------------------------------------------


def test_head_office_creates_reads_and_lists_templates(api, tokens_):
    status, t = create(
        api, tokens_, amount_off(budget_fen=100_000, funded_by="supplier", funder="佳沛")
    )
    assert status == 201
    assert t["kind"] == "amount_off" and t["amount_off_fen"] == 2000
    assert (t["issued_count"], t["used_count"], t["spent_fen"]) == (0, 0, 0)
    assert t["remaining_budget_fen"] == 100_000 and t["status"] == "active"
    assert t["funded_by"] == "supplier" and t["funder"] == "佳沛"
    status, pct = create(
        api,
        tokens_,
        {
            "name": "85折",
            "kind": "percent_off",
            "percent_off": 15,
            "cap_fen": 3000,
            "starts_at": "2026-12-01T00:00:00+08:00",
            "ends_at": "2026-12-12T00:00:00+08:00",
            "sale_price_fen": 100,
        },
    )
    assert status == 201
    assert pct["starts_at"] == "2026-11-30T16:00:00Z" and pct["sale_price_fen"] == 100
    status, got = api.call(
        "GET", f"/admin/coupon-templates/{t['template_id']}", token=tokens_["hq"]
    )
    assert status == 200 and got == t
    status, listing = api.call("GET", "/admin/coupon-templates", token=tokens_["hq"])
    assert [x["template_id"] for x in listing["items"]] == [
        pct["template_id"],
        t["template_id"],
    ]


def test_a_retried_create_with_the_same_id_is_a_replay_and_a_different_body_409(api, tokens_):
    s1, a = create(api, tokens_, amount_off(template_id="t-1"))
    s2, b = create(api, tokens_, amount_off(template_id="t-1"))
    assert (s1, s2) == (201, 201) and a == b
    status, err = create(api, tokens_, amount_off(template_id="t-1", amount_off_fen=3000))
    assert status == 409 and err["error"]["code"] == "coupon_template_exists"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"amount_off_fen": None}, "amount_off_fen"),
        ({"percent_off": 10}, "percent_off"),
        ({"amount_off_fen": 20000}, "amount_off_fen"),
        ({"kind": "percent_off", "amount_off_fen": None, "percent_off": 100}, "$.percent_off"),
        ({"kind": "percent_off", "amount_off_fen": None}, "percent_off"),
        ({"kind": "free_delivery", "amount_off_fen": None, "cap_fen": 100}, "cap_fen"),
        ({"starts_at": at(1), "ends_at": at(2)}, "days_after_claim"),
        ({"days_after_claim": None}, "days_after_claim"),
        ({"days_after_claim": None, "starts_at": at(2), "ends_at": at(1)}, "ends_at"),
        ({"days_after_claim": None, "starts_at": at(2)}, "ends_at"),
        ({"auto_issue": "after_payment"}, "after_payment_min_fen"),
        ({"after_payment_min_fen": 100}, "after_payment_min_fen"),
        ({"funded_by": "supplier"}, "funder"),
        ({"funded_by": "bank"}, "$.funded_by"),
    ],
)
def test_invalid_templates_are_refused_naming_the_field(api, tokens_, over, field):
    body = {k: v for k, v in amount_off(**over).items() if v is not None}
    status, err = create(api, tokens_, body)
    assert status == 422
    fields = [d["field"] for d in err["error"]["details"]]
    assert any(f == field or f.endswith(field.lstrip("$.")) for f in fields), fields
    assert list(CouponTemplateModel.by_created.query("templates")) == []


def test_patch_pauses_renames_and_guards_budget_and_quantity(api, tokens_):
    _, t = create(api, tokens_, amount_off(budget_fen=10_000, total_quantity=5))
    tid = t["template_id"]
    status, _ = claim(api, tokens_["customer"], tid)
    assert status == 201
    [coupon] = list(CouponModel.by_customer.query("c-1"))
    pieces = redemption_items(coupon.coupon_id, "c-1", "O1", 2000, tid)
    transact(lambda tx: add_all(tx, pieces))
    path = f"/admin/coupon-templates/{tid}"
    status, err = api.call("PATCH", path, {"budget_fen": 1000}, token=tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "budget_fen"
    status, err = api.call("PATCH", path, {"total_quantity": 0}, token=tokens_["hq"])
    assert status == 422
    status, t2 = api.call(
        "PATCH",
        path,
        {"budget_fen": 2000, "total_quantity": 1, "name": "新名", "status": "paused"},
        token=tokens_["hq"],
    )
    assert status == 200
    assert (t2["budget_fen"], t2["remaining_budget_fen"], t2["total_quantity"]) == (2000, 0, 1)
    assert (t2["name"], t2["status"]) == ("新名", "paused")
    status, err = claim(api, token_for("c-2", "customer"), tid)
    assert status == 409 and err["error"]["code"] == "template_not_active"
    status, again = claim(api, tokens_["customer"], tid)  # a retry still gets its coupon
    assert status == 200 and again["coupon_id"] == coupon.coupon_id
    status, err = api.call("PATCH", path, {}, token=tokens_["hq"])
    assert status == 422
    status, _ = api.call(
        "PATCH", "/admin/coupon-templates/nope", {"name": "x"}, token=tokens_["hq"]
    )
    assert status == 404


# --- claiming and the wallet ---------------------------------------------------------


def test_claim_is_idempotent_per_request_id_and_respects_the_limit(api, tokens_):
    _, t = create(api, tokens_, amount_off(per_customer_limit=2))
    tid = t["template_id"]
    s1, c1 = claim(api, tokens_["customer"], tid, "r-1")
    s2, c2 = claim(api, tokens_["customer"], tid, "r-1")
    assert (s1, s2) == (201, 200) and c1 == c2
    assert c1["state"] == "available" and c1["source"] == "claim"
    assert c1["valid_until"] > c1["valid_from"]
    s3, _ = claim(api, tokens_["customer"], tid, "r-2")
    s4, err = claim(api, tokens_["customer"], tid, "r-3")
    assert s3 == 201 and s4 == 409 and err["error"]["code"] == "limit_reached"
    status, wallet = api.call("GET", "/me/coupons", token=tokens_["customer"])
    assert status == 200 and len(wallet["items"]) == 2
    assert CouponTemplateModel.get(tid).issued_count == 2


def test_claim_through_a_staff_qr_code_records_the_staff_member(api, tokens_, stores):
    from chalicelib.identity.models import StaffModel

    StaffModel(
        "sh-a-li",
        role="store_staff",
        store_id="sh-a",
        store_scope="sh-a",
        display_name="李",
        password_hash="x",
        active=True,
        created_at="2026-11-01T00:00:00Z",
        updated_at="2026-11-01T00:00:00Z",
    ).save()
    _, t = create(api, tokens_, amount_off())
    status, c = claim(api, tokens_["customer"], t["template_id"], staff_username="sh-a-li")
    assert status == 201 and (c["source"], c["staff_username"]) == ("staff_qr", "sh-a-li")
    status, err = claim(api, tokens_["customer"], t["template_id"], "r-2", staff_username="ghost")
    assert status == 422 and err["error"]["details"][0]["field"] == "staff_username"


def test_claims_are_refused_when_sold_out_not_claimable_or_unknown(api, tokens_):
    _, t = create(api, tokens_, amount_off(total_quantity=1))
    assert claim(api, tokens_["customer"], t["template_id"])[0] == 201
    status, err = claim(api, token_for("c-2", "customer"), t["template_id"])
    assert status == 409 and err["error"]["code"] == "sold_out"
    _, hidden = create(api, tokens_, amount_off(claimable=False))
    status, err = claim(api, tokens_["customer"], hidden["template_id"])
    assert status == 409 and err["error"]["code"] == "template_not_claimable"
    _, sold = create(api, tokens_, amount_off(sale_price_fen=100))
    status, err = claim(api, tokens_["customer"], sold["template_id"])
    assert status == 409 and err["error"]["code"] == "template_for_sale"
    status, err = claim(api, tokens_["customer"], "nope")
    assert status == 404


def test_public_list_shows_claimable_active_templates_for_the_store(api, tokens_):
    _, everywhere = create(api, tokens_, amount_off(name="全场"))
    _, only_b = create(api, tokens_, amount_off(name="B店", scope={"stores": ["sh-b"]}))
    create(api, tokens_, amount_off(name="不可领", claimable=False))
    _, paused = create(api, tokens_, amount_off(name="暂停"))
    api.call(
        "PATCH",
        f"/admin/coupon-templates/{paused['template_id']}",
        {"status": "paused"},
        token=tokens_["hq"],
    )
    status, got = api.call("GET", "/coupon-templates?store_id=sh-a")
    assert status == 200
    assert [x["name"] for x in got["items"]] == ["全场"]
    _, got = api.call("GET", "/coupon-templates?store_id=sh-b")
    assert {x["name"] for x in got["items"]} == {"全场", "B店"}
    assert only_b["template_id"] and everywhere["template_id"]


def test_an_expired_coupon_reads_expired_without_a_rewrite(api, tokens_):
    _, t = create(
        api,
        tokens_,
        amount_off(days_after_claim=None, starts_at=at(-3), ends_at=at(1)),
    )
    claim(api, tokens_["customer"], t["template_id"])
    [m] = list(CouponModel.by_customer.query("c-1"))
    m.update(actions=[CouponModel.valid_until.set(at(-1))])
    _, wallet = api.call("GET", "/me/coupons", token=tokens_["customer"])
    assert [c["state"] for c in wallet["items"]] == ["expired"]
    _, avail = api.call("GET", "/me/coupons?state=available", token=tokens_["customer"])
    assert avail["items"] == []
    assert CouponModel.get(m.coupon_id).state == "available"


# --- checkout hooks ------------------------------------------------------------------


def test_lock_use_release_and_return_move_the_coupon_and_the_budget(api, tokens_):
    _, t = create(api, tokens_, amount_off(budget_fen=5000))
    tid = t["template_id"]
    _, c = claim(api, tokens_["customer"], tid)
    cid = c["coupon_id"]
    held = get_coupon(cid)  # a copy of what pricing needs: checkout reads no template
    assert (held.customer_id, held.threshold_fen, held.amount_off_fen) == ("c-1", 9900, 2000)

    transact(lambda tx: add_all(tx, redemption_items(cid, "c-1", "O1", 2000, tid)))
    assert get_coupon(cid).state == "locked"
    assert CouponTemplateModel.get(tid).spent_fen == 2000
    transact(lambda tx: add_all(tx, release_items(get_coupon(cid), "O1")))
    coupon = get_coupon(cid)
    assert (coupon.state, coupon.order_id, coupon.remind) == ("available", None, "available")
    assert CouponTemplateModel.get(tid).spent_fen == 0

    transact(lambda tx: add_all(tx, redemption_items(cid, "c-1", "O2", 1500, tid)))
    transact(lambda tx: add_all(tx, mark_used_items(get_coupon(cid), "O2")))
    after = CouponTemplateModel.get(tid)
    assert (get_coupon(cid).state, after.used_count, after.spent_fen) == ("used", 1, 1500)
    _, budgets = api.call("GET", "/admin/coupon-budgets", token=tokens_["hq"])
    assert budgets["items"][0] | {} == {
        "template_id": tid,
        "name": "满99减20",
        "status": "active",
        "funded_by": "hq",
        "funder": None,
        "budget_fen": 5000,
        "spent_fen": 1500,
        "remaining_fen": 3500,
        "issued_count": 1,
        "used_count": 1,
    }
    transact(lambda tx: add_all(tx, return_items(get_coupon(cid), "O2")))
    after = CouponTemplateModel.get(tid)
    assert (get_coupon(cid).state, after.used_count, after.spent_fen) == ("available", 0, 0)


def test_a_second_lock_or_a_foreign_customer_cannot_take_a_locked_coupon(api, tokens_):
    from pynamodb.exceptions import TransactWriteError

    _, t = create(api, tokens_, amount_off())
    _, c = claim(api, tokens_["customer"], t["template_id"])
    cid, tid = c["coupon_id"], t["template_id"]
    with pytest.raises(TransactWriteError):
        transact(lambda tx: add_all(tx, redemption_items(cid, "c-2", "O1", 100, tid)))
    transact(lambda tx: add_all(tx, redemption_items(cid, "c-1", "O1", 100, tid)))
    with pytest.raises(TransactWriteError):
        transact(lambda tx: add_all(tx, redemption_items(cid, "c-1", "O2", 100, tid)))
    with pytest.raises(TransactWriteError):  # only the locking order may release it
        transact(lambda tx: add_all(tx, release_items(get_coupon(cid), "O2")))


# --- bulk issue, lookup, registration, after payment ----------------------------------


def members(n):
    from chalicelib.identity.service import register_customer

    return [register_customer(f"1390000{i:04d}")[0].customer_id for i in range(n)]


def test_bulk_issue_is_idempotent_and_refuses_per_customer(api, tokens_):
    ids = members(3)
    _, t = create(api, tokens_, amount_off(total_quantity=2))
    path = f"/admin/coupon-templates/{t['template_id']}/issue"
    body = {"batch_id": "b1", "customer_ids": [*ids, "c-ghost"]}
    status, r = api.call("POST", path, body, token=tokens_["hq"])
    assert status == 200
    assert (r["issued"], r["already_issued"]) == (2, 0)
    assert sorted(x["reason"] for x in r["refused"]) == ["sold_out", "unknown_customer"]
    status, again = api.call("POST", path, body, token=tokens_["hq"])
    assert (again["issued"], again["already_issued"]) == (0, 2)
    assert CouponTemplateModel.get(t["template_id"]).issued_count == 2
    status, _ = api.call("POST", path, {"batch_id": "b2", "customer_ids": []}, token=tokens_["hq"])
    assert status == 422
    status, _ = api.call("POST", path, body, token=tokens_["manager_a"])
    assert status == 403


def test_head_office_finds_a_member_by_phone_and_reads_the_wallet(api, tokens_):
    [cid] = members(1)
    status, found = api.call("GET", "/admin/customers?phone=13900000000", token=tokens_["hq"])
    assert status == 200 and found["customer_id"] == cid
    assert found["phone_masked"] == "139****0000"
    status, _ = api.call("GET", "/admin/customers?phone=13900000000", token=tokens_["manager_a"])
    assert status == 200
    status, _ = api.call("GET", "/admin/customers?phone=13911112222", token=tokens_["hq"])
    assert status == 404
    status, _ = api.call("GET", "/admin/customers?phone=123", token=tokens_["hq"])
    assert status == 422
    _, t = create(api, tokens_, amount_off())
    service.issue(CouponTemplateModel.get(t["template_id"]), cid, "x:1", "bulk")
    status, wallet = api.call("GET", f"/admin/customers/{cid}/coupons", token=tokens_["hq"])
    assert status == 200 and [c["coupon_id"] for c in wallet["items"]] == ["x:1"]
    status, _ = api.call("GET", f"/admin/customers/{cid}/coupons", token=tokens_["customer"])
    assert status == 403


def test_registration_issues_the_new_member_gift_once(api, tokens_):
    assert service.issue_on_registration("c-new") == []  # no template: nothing, no error
    _, t = create(api, tokens_, amount_off(auto_issue="registration", claimable=False))
    service.forget_auto_cache()
    assert service.issue_on_registration("c-new") == [f"{t['template_id']}:reg:c-new"]
    assert service.issue_on_registration("c-new") == []
    [c] = list(CouponModel.by_customer.query("c-new"))
    assert c.source == "registration"


def test_first_sign_in_gets_the_registration_coupons(api, tokens_):
    from chalicelib.identity.service import register_customer

    create(api, tokens_, amount_off(auto_issue="registration", claimable=False))
    service.forget_auto_cache()
    member, created = register_customer("13700000001")
    assert created
    assert list(CouponModel.by_customer.query(member.customer_id)) == []  # not on sign-in's path
    deliver_events()  # 新人礼 arrives through member.registered
    assert [c.source for c in CouponModel.by_customer.query(member.customer_id)] == ["registration"]


def test_after_payment_issues_above_the_minimum_once_per_order(api, tokens_):
    _, t = create(
        api,
        tokens_,
        amount_off(auto_issue="after_payment", after_payment_min_fen=10_000, per_customer_limit=5),
    )
    assert service.issue_after_payment("O1", "c-1", 9_999) == []
    assert service.issue_after_payment("O2", "c-1", 10_000) == [f"{t['template_id']}:order:O2"]
    assert service.issue_after_payment("O2", "c-1", 10_000) == []
    assert len(list(CouponModel.by_customer.query("c-1"))) == 1


# --- reminders -----------------------------------------------------------------------


def test_reminders_record_one_notification_per_expiring_coupon(api, tokens_):
    from chalicelib.identity.models import CustomerModel

    [cid] = members(1)
    _, soon = create(api, tokens_, amount_off(days_after_claim=2))
    _, later = create(api, tokens_, amount_off(days_after_claim=30))
    for t in (soon, later):
        service.issue(
            CouponTemplateModel.get(t["template_id"]), cid, f"{t['template_id']}:x", "bulk"
        )
    _, used_t = create(api, tokens_, amount_off(days_after_claim=1))
    used = f"{used_t['template_id']}:x"
    service.issue(CouponTemplateModel.get(used_t["template_id"]), cid, used, "bulk")
    transact(lambda tx: add_all(tx, redemption_items(used, cid, "O1", 1, used_t["template_id"])))

    assert coupon_reminders.run(within_days=3) == 1
    assert coupon_reminders.run(within_days=3) == 0
    [n] = list(NotificationModel.by_kind.query("coupon_expiring"))
    assert n.coupon_id == f"{soon['template_id']}:x" and n.phone_masked == "139****0000"
    assert CustomerModel.get(cid).phone not in n.message
    # The customer reads China time, not UTC: "... 将于 2026-11-27 02:03 到期".
    until = CouponModel.get(n.coupon_id).valid_until
    local = clock.iso(datetime.fromisoformat(until.replace("Z", "+00:00")) + timedelta(hours=8))
    assert f"将于 {local[:10]} {local[11:16]} 到期" in n.message and "Z" not in n.message
    status, listing = api.call("GET", "/admin/notifications", token=tokens_["hq"])
    assert status == 200 and [x["coupon_id"] for x in listing["items"]] == [n.coupon_id]
    status, _ = api.call("GET", "/admin/notifications", token=tokens_["customer"])
    assert status == 403


def test_the_daily_job_is_scheduled():
    from chalicelib.jobs import SCHEDULES

    assert "coupon_reminders" in [name for name, *_ in SCHEDULES]


# --- roles -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["customer", "staff_a", "manager_a", "relay_a"])
def test_only_head_office_manages_templates(api, tokens_, who):
    status, _ = create(api, {"hq": tokens_[who]}, amount_off())
    assert status == 403
    for path in ("/admin/coupon-templates", "/admin/coupon-budgets"):
        assert api.call("GET", path, token=tokens_[who])[0] == 403


@pytest.mark.parametrize("who", ["staff_a", "manager_a", "hq", "relay_a"])
def test_only_customers_claim_and_have_a_wallet(api, tokens_, who):
    _, t = create(api, tokens_, amount_off())
    assert claim(api, tokens_[who], t["template_id"])[0] == 403
    assert api.call("GET", "/me/coupons", token=tokens_[who])[0] == 403


def test_coupon_reads_use_keys_and_indexes_only(api, tokens_, monkeypatch):
    import botocore.client

    _, t = create(api, tokens_, amount_off())
    claim(api, tokens_["customer"], t["template_id"])
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    for path, who in [
        ("/coupon-templates", None),
        ("/me/coupons", "customer"),
        ("/admin/coupon-templates", "hq"),
        ("/admin/coupon-budgets", "hq"),
        ("/admin/customers/c-1/coupons", "hq"),
        ("/admin/notifications", "hq"),
    ]:
        status, _ = api.call("GET", path, token=tokens_[who] if who else None)
        assert status == 200, path
    coupon_reminders.run()
    assert calls and set(calls) <= {"GetItem", "Query", "BatchGetItem", "PutItem"}
