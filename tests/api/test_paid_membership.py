"""Paid membership (付费会员卡, issue 14 item 6) through the API: plans (audited), buying
through the provider, activation once whatever the notices, renewal from the end, the
trial once (by head office or a large top-up), refunds, the monthly coupon pack, and
the card's benefits for checkout. Roles: tests/api/test_authorization.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.audit.models import AuditEntryModel
from chalicelib.coupons.models import CouponModel
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.loyalty import paid_membership as paid
from chalicelib.loyalty import paid_rules as rules
from chalicelib.loyalty.paid_models import PaidCardEntryModel, PaidCardModel, PaidPurchaseModel
from chalicelib.orders.models import RefundModel
from chalicelib.orders.payment_providers import provider

from tests.publishing import create_template, publish_template

ME = "/members/me/paid-membership"
PLANS = "/admin/loyalty/paid-plans"
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    class Clock:
        at = T0

        def move(self, **delta):
            self.at += timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(clock, "now", lambda: c.at)
    monkeypatch.setattr(clock, "now_iso", lambda: clock.iso(c.at))
    return c


@pytest.fixture
def member(aws):
    CustomerModel(customer_id="c-1", phone="13800000001", created_at="2026-11-01T00:00:00Z").save()
    return "c-1"


def plan(api, hq, **over):
    body = {
        "name": "月卡",
        "period": "month",
        "price_fen": 1500,
        "free_delivery": True,
        "discount_permille": 50,
        "member_prices": {"100": 990},
        **over,
    }
    status, p = api.call("POST", PLANS, body, hq)
    assert status == 201, p
    return p


def buy(api, token, plan_id, key="pm-key-0001"):
    return api.call(
        "POST", f"{ME}/purchases", {"plan_id": plan_id}, token, headers={"Idempotency-Key": key}
    )


def notify(api, purchase_id, amount):
    headers, body = provider("local").make_notification(purchase_id, amount)
    return api.call("POST", "/payments/notify/local", headers=headers, raw=body.decode())


def bought(api, token, plan_id, key="pm-key-0001"):
    status, p = buy(api, token, plan_id, key)
    assert status == 201, p
    status, ack = api.call("POST", f"/local/payments/{p['purchase_id']}/complete", {}, token)
    assert (status, ack["message"]) == (200, "paid"), ack
    return p


def test_plans_are_audited_and_versioned(api, tokens_, now):
    hq = tokens_["hq"]
    p = plan(api, hq)
    assert (p["version"], p["active_members"]) == (1, 0)
    status, bad = api.call("POST", PLANS, {"name": "x", "period": "week", "price_fen": 1}, hq)
    assert status == 422
    status, bad = api.call(
        "POST",
        PLANS,
        {"name": "x", "period": "month", "price_fen": 1, "coupon_template_ids": ["t-none"]},
        hq,
    )
    assert status == 422 and bad["error"]["code"] == "coupon_template_not_found"
    body = {
        k: p[k]
        for k in (
            "name",
            "period",
            "price_fen",
            "free_delivery",
            "discount_permille",
            "member_prices",
            "coupon_template_ids",
            "active",
        )
    }
    status, edited = api.call(
        "PUT", f"{PLANS}/{p['plan_id']}", dict(body, price_fen=1800, version=1), hq
    )
    assert (status, edited["price_fen"], edited["version"]) == (200, 1800, 2)
    status, stale = api.call("PUT", f"{PLANS}/{p['plan_id']}", dict(body, version=1), hq)
    assert status == 409 and stale["error"]["code"] == "plan_changed"
    actions = sorted(e.action for e in AuditEntryModel.scan())
    assert actions == ["loyalty.paid_plan", "loyalty.paid_plan_created"]
    status, on_sale = api.call("GET", f"{ME}/plans", token=tokens_["customer"])
    assert [x["price_fen"] for x in on_sale["items"]] == [1800]


def test_duplicate_notifications_activate_once_and_renewal_extends_from_the_end(
    api, tokens_, member, now
):
    c, hq = tokens_["customer"], tokens_["hq"]
    p = plan(api, hq)
    status, pur = buy(api, c, p["plan_id"])
    assert status == 201 and pur["purchase_id"].startswith("PM")
    assert pur["payment"]["amount_fen"] == 1500
    assert buy(api, c, p["plan_id"]) == (200, pur)  # a retry: the same purchase
    for _ in range(3):  # the provider retries
        status, ack = notify(api, pur["purchase_id"], 1500)
        assert status == 200 and ack["code"] == "SUCCESS"
    entries = list(PaidCardEntryModel.query("c-1"))
    assert [e.ref for e in entries] == [f"buy:{pur['purchase_id']}"]
    card = PaidCardModel.get("c-1")
    assert card.ends_at == "2026-12-24T02:00:00Z"
    # Renewal ten days later extends from the end, not from today.
    now.move(days=10)
    second = bought(api, c, p["plan_id"], key="pm-key-0002")
    assert PaidCardModel.get("c-1").ends_at == "2027-01-24T02:00:00Z"
    assert PaidPurchaseModel.get(second["purchase_id"]).starts_at == "2026-12-24T02:00:00Z"
    status, me = api.call("GET", ME, token=c)
    assert (me["active"], me["benefits"]["free_delivery"], len(me["history"])) == (True, True, 2)
    status, listed = api.call("GET", PLANS, token=hq)
    assert listed["items"][0]["active_members"] == 1
    # After the end, a purchase starts a new membership from its payment.
    now.move(days=70)
    assert api.call("GET", ME, token=c)[1]["active"] is False
    bought(api, c, p["plan_id"], key="pm-key-0003")
    card = PaidCardModel.get("c-1")
    assert (card.started_at, card.ends_at) == ("2027-02-12T02:00:00Z", "2027-03-12T02:00:00Z")


def test_a_wrong_amount_or_a_late_payment_is_refunded(api, tokens_, member, now):
    c = tokens_["customer"]
    p = plan(api, tokens_["hq"])
    _, pur = buy(api, c, p["plan_id"])
    _, ack = notify(api, pur["purchase_id"], 1)
    assert ack["code"] == "SUCCESS" and "refunded" in ack["message"]
    now.move(minutes=20)  # expired
    _status, ack = notify(api, pur["purchase_id"], 1500)
    assert "refunded" in ack["message"]
    assert PaidCardModel.count() == 0
    assert sorted(r.reason for r in RefundModel.scan()) == ["amount_mismatch", "late_payment"]


def test_other_members_purchase_is_not_found(api, tokens_, member, now):
    from tests.api.conftest import token_for

    p = plan(api, tokens_["hq"])
    status, pur = buy(api, tokens_["customer"], p["plan_id"])
    other = token_for("c-2", "customer")
    status, err = api.call("GET", f"{ME}/purchases/{pur['purchase_id']}", token=other)
    assert status == 404 and err["error"]["code"] == "paid_purchase_not_found"
    status, mine = api.call(
        "GET", f"{ME}/purchases/{pur['purchase_id']}", token=tokens_["customer"]
    )
    assert status == 200 and mine["status"] == "awaiting_payment"


def test_trial_once_by_head_office(api, tokens_, member, now):
    hq = tokens_["hq"]
    plan(api, hq)
    url = "/admin/members/c-1/paid-membership/trial"
    status, m = api.call("POST", url, {"reason": "开业活动"}, hq)
    assert status == 201 and (m["active"], m["trial"]) == (True, True)
    assert m["ends_at"] == "2026-12-01T02:00:00Z"
    status, again = api.call("POST", url, {"reason": "again"}, hq)
    assert status == 409 and again["error"]["code"] in ("trial_used", "already_member")
    now.move(days=10)
    status, again = api.call("POST", url, {"reason": "again"}, hq)
    assert status == 409 and again["error"]["code"] == "trial_used"
    assert any(e.action == "loyalty.paid_trial" for e in AuditEntryModel.scan())
    status, nobody = api.call(
        "POST", "/admin/members/c-nobody/paid-membership/trial", {"reason": "x"}, hq
    )
    assert status == 404 and nobody["error"]["code"] == "member_not_found"
    assert PaidCardModel.count("c-nobody") == 0


def test_a_large_top_up_grants_the_trial_once(api, tokens_, member, now):
    from chalicelib.stored_value.models import StoredValueSettingsModel
    from chalicelib.stored_value.service import settings_item

    hq, c = tokens_["hq"], tokens_["customer"]
    plan(api, hq)
    item = settings_item()
    item.trial_threshold_fen = 50000
    StoredValueSettingsModel.save(item)
    _, small = api.call(
        "POST",
        "/members/me/stored-value/top-ups",
        {"amount_fen": 10000},
        c,
        headers={"Idempotency-Key": "topup-small-1"},
    )
    api.call("POST", f"/local/payments/{small['top_up_id']}/complete", {}, c)
    assert PaidCardModel.count() == 0
    _, big = api.call(
        "POST",
        "/members/me/stored-value/top-ups",
        {"amount_fen": 50000},
        c,
        headers={"Idempotency-Key": "topup-big-1"},
    )
    headers, body = provider("local").make_notification(big["top_up_id"], 50000)
    for _ in range(2):
        _status, ack = api.call(
            "POST", "/payments/notify/local", headers=headers, raw=body.decode()
        )
        assert ack["code"] == "SUCCESS"
    card = PaidCardModel.get("c-1")
    assert card.trial and card.trial_used_at
    assert [e.ref for e in PaidCardEntryModel.query("c-1")] == ["trial"]


def test_refund_in_full_within_the_days_else_pro_rata(api, tokens_, member, now):
    c, hq = tokens_["customer"], tokens_["hq"]
    p = plan(api, hq)
    bought(api, c, p["plan_id"])
    status, q = api.call("POST", f"{ME}/refund-quote", {}, c)
    assert (q["refund_fen"], q["benefit_used"]) == (1500, False)
    status, r = api.call(
        "POST", f"{ME}/refunds", {"request_id": "pm-refund-0001", "expected_refund_fen": 1500}, c
    )
    assert status == 201 and r["refund_fen"] == 1500 and r["membership"]["active"] is False
    assert (
        api.call(
            "POST",
            f"{ME}/refunds",
            {"request_id": "pm-refund-0001", "expected_refund_fen": 1500},
            c,
        )[1]["refund_fen"]
        == 1500
    )
    assert [x.amount_fen for x in RefundModel.scan()] == [1500]
    # A second membership, a benefit used, refunded on day 10 of 30: 20 days back.
    bought(api, c, p["plan_id"], key="pm-key-0002")
    card = PaidCardModel.get("c-1")
    assert card.ends_at == "2026-12-24T02:00:00Z"
    from chalicelib.db.transactions import transact

    transact(lambda tx: paid.benefit_used_piece("c-1", "261124AAAA0001").add_to(tx))
    now.move(days=9, hours=1)
    status, q = api.call("POST", f"{ME}/refund-quote", {}, c)
    assert (q["refund_fen"], q["benefit_used"]) == (1500 * 20 // 30, True)
    status, stale = api.call(
        "POST", f"{ME}/refunds", {"request_id": "pm-refund-0002", "expected_refund_fen": 1500}, c
    )
    assert status == 409 and stale["error"]["code"] == "quote_changed"
    status, r = api.call(
        "POST", f"{ME}/refunds", {"request_id": "pm-refund-0002", "expected_refund_fen": 1000}, c
    )
    assert status == 201 and r["refund_fen"] == 1000
    assert sorted(x.amount_fen for x in RefundModel.scan()) == [1000, 1500]
    status, none = api.call(
        "POST", f"{ME}/refunds", {"request_id": "pm-refund-0003", "expected_refund_fen": 0}, c
    )
    assert status == 409 and none["error"]["code"] == "no_membership"


def test_monthly_pack_once_per_membership_month_from_the_sparse_index(api, tokens_, member, now):
    hq, c = tokens_["hq"], tokens_["customer"]
    status, t = create_template(
        api,
        {
            "name": "满39减5",
            "kind": "amount_off",
            "threshold_fen": 3900,
            "amount_off_fen": 500,
            "days_after_claim": 30,  # per_customer_limit 1: a claim limit, not the pack's
        },
        hq,
    )
    assert status == 201, t
    p = plan(api, hq, period="quarter", price_fen=4000, coupon_template_ids=[t["template_id"]])
    bought(api, c, p["plan_id"])
    assert paid.issue_packs() == 1
    assert paid.issue_packs() == 0  # the next month is not due
    now.move(days=31)
    assert paid.issue_packs() == 1
    now.move(days=31)
    assert paid.issue_packs() == 1
    now.move(days=31)
    assert paid.issue_packs() == 0  # three months: the card left the index
    card = PaidCardModel.get("c-1")
    assert (card.packs_issued, card.next_pack_at) == (3, None)
    assert CouponModel.count() == 3
    assert len([e for e in PaidCardEntryModel.query("c-1") if e.kind == "pack"]) == 3


def test_card_benefits_member_price_or_discount_never_both(aws, now):
    assert paid.card_benefits(None, T0) is None
    card = PaidCardModel(
        "c-1",
        plan_id="p",
        plan_name="月卡",
        free_delivery=True,
        discount_permille=100,
        member_prices={"100": 950, "200": 100},
        started_at="2026-11-24T02:00:00Z",
        ends_at="2026-12-24T02:00:00Z",
    )
    b = paid.card_benefits(card, T0)
    assert b is not None and b.free_delivery
    book = b.prices_for({"100": 1000, "200": 1000, "300": 999})
    assert book.unit_price("100") == 900  # 10 % off beats the member price 950
    assert book.unit_price("200") == 100  # the member price beats 10 % off
    assert book.unit_price("300") == 900  # 999 - 99 (the discount rounds down)
    assert paid.card_benefits(card, T0 + timedelta(days=31)) is None


def test_rules_add_months_clamps_and_refund_bounds():
    assert rules.add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    start, end = T0, rules.add_months(T0, 1)
    assert (
        rules.refund_fen(
            1500, start, end, T0, T0 - timedelta(days=1), benefit_used=True, full_refund_days=7
        )
        == 1500
    )
    assert rules.refund_fen(1500, start, end, T0, end, benefit_used=False, full_refund_days=7) == 0
    assert (
        rules.refund_fen(
            1500, start, end, T0, T0 + timedelta(days=1), benefit_used=False, full_refund_days=7
        )
        == 1500
    )


def test_demo_seed_twice_makes_three_plans_and_cards_once(aws):
    import msgspec
    from chalicelib.auth.principal import Principal
    from chalicelib.coupons import service as coupons
    from chalicelib.coupons.schemas import TemplateCreate
    from chalicelib.loyalty.paid_models import PaidPlanModel

    from infra.local import demo_data
    from infra.local.seed import _seed_paid_membership

    hq = Principal("hq-admin", "hq_admin")
    for raw in demo_data.coupon_templates():
        if raw["template_id"] in ("demo-30off5", "demo-free-delivery"):
            publish_template(coupons.create_template(hq, msgspec.convert(raw, TemplateCreate)))
    for raw in demo_data.members()[:4]:
        CustomerModel(
            customer_id=raw["customer_id"], phone=raw["phone"], created_at="2026-11-01T00:00:00Z"
        ).save()
    _seed_paid_membership()
    _seed_paid_membership()
    assert sorted(p.period for p in PaidPlanModel.scan()) == ["month", "quarter", "year"]
    entries = [e.ref.split(":")[0] for e in PaidCardEntryModel.scan()]
    assert sorted(entries) == ["buy", "buy", "buy", "buy", "trial"]
    renewed = PaidCardModel.get(demo_data.members()[1]["customer_id"])
    assert rules.add_months(clock.parse(renewed.started_at), 2) == clock.parse(renewed.ends_at)


def test_checkout_gives_the_cards_member_price_and_free_delivery_and_marks_it_used(
    api, catalogue, tokens_
):
    """Wired through checkout/service.py (the card read in the cart's BatchGetItem, the
    member-price hook, the delivery rule): a quote without the card pays list price and
    the fee; with it the discount (item level) and no fee; placing marks the card used."""
    from chalicelib.promotions import service as promotion_service

    from tests.api.test_orders_api import cart, place

    promotion_service.forget_active_cache()
    c = tokens_["customer"]
    status, before = api.call("POST", "/orders/quote", cart(("100", 3)), c)
    assert status == 200 and before["delivery_fee_fen"] == 500 and before["discount_fen"] == 0
    p = plan(api, tokens_["hq"], discount_permille=100, member_prices={})
    bought(api, c, p["plan_id"])
    status, q = api.call("POST", "/orders/quote", cart(("100", 3)), c)
    assert status == 200, q
    assert q["delivery_fee_fen"] == 0 and q["delivery_fee_waived_fen"] == 500
    assert [(d["kind"], d["label"], d["amount_fen"]) for d in q["discounts"]] == [
        ("member_price", "付费会员价", before["subtotal_fen"] // 10),
        ("free_delivery", "会员免配送费", 500),  # explained, as a coupon's waiver is
    ]
    assert q["total_fen"] == before["subtotal_fen"] - before["subtotal_fen"] // 10
    assert PaidCardModel.get("c-1").benefit_used_at is None  # a quote uses nothing
    status, order = place(api, c, cart(("100", 3)))
    assert status == 201, order
    assert order["total_fen"] == q["total_fen"]
    assert PaidCardModel.get("c-1").benefit_used_at is not None
    status, quote_ = api.call("POST", f"{ME}/refund-quote", {}, c)
    assert quote_["benefit_used"] is True


@pytest.mark.parametrize("path", [f"{ME}/plans", ME, PLANS])
def test_reads_use_keys_and_indexes_only(api, tokens_, member, aws_calls, path):
    plan(api, tokens_["hq"])
    aws_calls.clear()
    token = tokens_["hq"] if path == PLANS else tokens_["customer"]
    status, _ = api.call("GET", path, token=token)
    assert status == 200 and aws_calls
    assert set(aws_calls) <= {"GetItem", "Query", "BatchGetItem"}
