"""Stored value (储值) through the API: top-up with the bonus of its tier, credited once
whatever the notices; the cap refused before payment and a payment past the cap refunded;
head office's adjustments (a take beyond the balance refused), settings and liability;
a withdrawal that pays back the principal less the bonus spent. The tables are checked,
not only the answers."""

from __future__ import annotations

from chalicelib.orders.models import PaymentModel, RefundModel
from chalicelib.orders.payment_providers import provider
from chalicelib.stored_value.models import StoredValueEntryModel, TopUpModel

from tests.api.conftest import token_for

ME = "/members/me/stored-value"


def top_up(api, token, amount, key="topup-key-1", **extra):
    return api.call(
        "POST",
        f"{ME}/top-ups",
        {"amount_fen": amount, **extra},
        token=token,
        headers={"Idempotency-Key": key},
    )


def pay(api, token, top_up_id):
    return api.call("POST", f"/local/payments/{top_up_id}/complete", {}, token)


def topped_up(api, token, amount, key="topup-key-1", **extra):
    status, t = top_up(api, token, amount, key, **extra)
    assert status == 201, t
    status, ack = pay(api, token, t["top_up_id"])
    assert (status, ack["message"]) == (200, "paid"), ack
    return t


def test_top_up_gets_its_tier_bonus_once_whatever_the_notices(api, tokens_):
    c = tokens_["customer"]
    status, t = top_up(api, c, 50000, store_id="sh-a")
    assert status == 201 and t["top_up_id"].startswith("TU")
    assert (t["bonus_fen"], t["status"]) == (5000, "awaiting_payment")
    assert t["payment"]["amount_fen"] == 50000
    assert top_up(api, c, 50000, store_id="sh-a") == (200, t)  # a retry: the same top-up
    status, again = top_up(api, c, 100)
    assert status == 422 and again["error"]["code"] == "idempotency_key_reused"
    p = provider("local")
    headers, body = p.make_notification(t["top_up_id"], 50000)
    for _ in range(3):  # the provider retries
        status, ack = api.call("POST", "/payments/notify/local", headers=headers, raw=body.decode())
        assert status == 200 and ack["code"] == "SUCCESS"
    status, bal = api.call("GET", ME, token=c)
    assert (bal["principal_fen"], bal["bonus_fen"], bal["balance_fen"]) == (50000, 5000, 55000)
    entries = list(StoredValueEntryModel.query("c-1"))
    assert [e.ref for e in entries] == [f"topup:{t['top_up_id']}"]
    assert TopUpModel.get(t["top_up_id"]).status == "paid"
    status, page = api.call("GET", f"{ME}/entries", token=c)
    assert [(e["kind"], e["principal_fen"], e["bonus_fen"]) for e in page["items"]] == [
        ("top_up", 50000, 5000)
    ]
    status, li = api.call("GET", "/admin/stored-value/liability", token=tokens_["hq"])
    assert status == 200
    assert (li["principal_fen"], li["bonus_fen"]) == (50000, 5000)
    assert [(x["store_id"], x["total_fen"]) for x in li["stores"]] == [("sh-a", 55000)]


def test_the_cap_refuses_before_payment_and_refunds_a_payment_past_it(api, tokens_):
    c = tokens_["customer"]
    status, refused = top_up(api, c, 460000)  # + 12000 bonus = 472000 > cap? no: fits
    assert status == 201, refused
    status, over = top_up(api, c, 500000, key="topup-key-2")  # 500000 + 12000 > 500000
    assert status == 422 and over["error"]["code"] == "stored_value_cap"
    # Two top-ups each allowed alone; the second payment finds the cap reached.
    status, second = top_up(api, c, 40000, key="topup-key-3")
    assert status == 201
    status, ack = pay(api, c, refused["top_up_id"])
    assert ack["message"] == "paid"
    status, ack = pay(api, c, second["top_up_id"])
    assert status == 200 and "refunded" in ack["message"], ack
    assert TopUpModel.get(second["top_up_id"]).status == "refunded"
    refunds = list(RefundModel.by_order.query(second["top_up_id"]))
    assert [(r.amount_fen, r.reason, r.status) for r in refunds] == [
        (40000, "cap_exceeded", "succeeded")
    ]
    status, bal = api.call("GET", ME, token=c)
    assert bal["balance_fen"] == 472000


def test_adjustments_are_audited_and_never_take_below_zero(api, tokens_):
    hq = tokens_["hq"]
    body = {
        "principal_fen": 0,
        "bonus_fen": 1000,
        "reason": "配送延误补偿",
        "request_id": "adj-00001",
    }
    path = "/admin/stored-value/members/c-1/adjustments"
    status, res = api.call("POST", path, body, token=hq)
    assert status == 201, res
    assert res["balance"]["bonus_fen"] == 1000 and res["entry"]["ref"] == "adjust:adj-00001"
    status, again = api.call("POST", path, body, token=hq)  # a retry changes nothing
    assert status == 201 and again["balance"]["bonus_fen"] == 1000
    take = {"principal_fen": 0, "bonus_fen": -1001, "reason": "误发", "request_id": "adj-00002"}
    status, err = api.call("POST", path, take, token=hq)
    assert status == 409 and err["error"]["code"] == "insufficient_stored_value"
    status, bal = api.call("GET", "/admin/stored-value/members/c-1", token=hq)
    assert bal["bonus_fen"] == 1000
    from chalicelib.audit.models import AuditEntryModel

    audited = [(e.action, e.actor, e.target_id) for e in AuditEntryModel.scan()]
    assert audited == [("stored_value.adjust", "hq-admin", "c-1")]
    status, _ = api.call("POST", path, body, token=tokens_["customer"])
    assert status == 403


def test_settings_change_the_tiers_and_the_cap(api, tokens_):
    hq = tokens_["hq"]
    status, st = api.call("GET", "/admin/stored-value/settings", token=hq)
    assert status == 200 and st["version"] == 0 and st["cap_fen"] == 500000
    new = {"tiers": [{"min_fen": 10000, "bonus_fen": 800}], "cap_fen": 20000, "version": 0}
    status, st = api.call("PUT", "/admin/stored-value/settings", new, token=hq)
    assert status == 200 and st["version"] == 1
    status, err = api.call("PUT", "/admin/stored-value/settings", new, token=hq)
    assert status == 409 and err["error"]["code"] == "settings_changed"
    bad = {"tiers": [{"min_fen": 100, "bonus_fen": 100}], "cap_fen": 20000, "version": 1}
    status, err = api.call("PUT", "/admin/stored-value/settings", bad, token=hq)
    assert status == 422
    status, t = top_up(api, tokens_["customer"], 10000)
    assert status == 201 and t["bonus_fen"] == 800
    status, err = top_up(api, tokens_["customer"], 20000, key="topup-key-9")
    assert status == 422 and err["error"]["code"] == "stored_value_cap"


def test_withdrawal_pays_back_principal_less_bonus_spent(api, tokens_):
    c = tokens_["customer"]
    t = topped_up(api, c, 50000)
    # Spend bonus: head office takes 2000 bonus as if an order had spent it.
    from chalicelib.stored_value.models import StoredValueAccountModel as A

    A("c-1").update(actions=[A.bonus_spent_fen.add(2000)])
    status, q = api.call("POST", f"{ME}/withdrawal-quote", {}, token=c)
    assert status == 200
    assert (q["refund_fen"], q["deducted_fen"], q["bonus_forfeited_fen"]) == (48000, 2000, 5000)
    body = {"expected_refund_fen": 47000, "request_id": "withdraw-1"}
    status, err = api.call("POST", f"{ME}/withdrawals", body, token=c)
    assert status == 409 and err["error"]["code"] == "quote_changed"
    body["expected_refund_fen"] = 48000
    status, w = api.call("POST", f"{ME}/withdrawals", body, token=c)
    assert status == 201, w
    assert w["refund_fen"] == 48000 and w["balance"]["balance_fen"] == 0
    assert api.call("POST", f"{ME}/withdrawals", body, token=c) == (201, w)  # a retry
    refunds = list(RefundModel.by_order.query(t["top_up_id"]))
    assert [(r.amount_fen, r.reason, r.status) for r in refunds] == [
        (48000, "withdrawal", "succeeded")
    ]
    assert TopUpModel.get(t["top_up_id"]).withdrawn_fen == 48000
    status, li = api.call("GET", "/admin/stored-value/liability", token=tokens_["hq"])
    assert li["total_fen"] == 0


def test_other_members_see_nothing(api, tokens_):
    t = topped_up(api, tokens_["customer"], 10000)
    other = token_for("c-2", "customer")
    status, _ = api.call("GET", f"{ME}/top-ups/{t['top_up_id']}", token=other)
    assert status == 404
    status, bal = api.call("GET", ME, token=other)
    assert bal["balance_fen"] == 0
    assert [p.order_id for p in PaymentModel.scan()] == [t["top_up_id"]]
