"""Issue 14 item 10's end-to-end, through the API and the event dispatcher: a member
registers -> orders with points as cash and stored value -> pays -> the order completes ->
its points are earned, pending, then spendable after the pending days -> a partial refund
-> the points earned on the refunded part are taken back and the points spent on it come
back, in proportion; the balance gets its share back, principal and bonus as taken. Every
figure is checked exactly; a second delivery of every event changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.kernel import clock
from chalicelib.loyalty import points
from chalicelib.loyalty.programme_settings import tasks_settings

from tests.api.conftest import token_for
from tests.event_steps import deliver_events
from tests.order_steps import complete, open_return, pick

PHONE = "13900001414"


def register(api, hq: str) -> tuple[str, str]:
    """A first sign-in through a store picker's QR code (员工码) registers the member with
    that source (issue 14 item 1)."""
    from chalicelib.identity.models import CustomerModel
    from chalicelib.identity.schemas import StaffCreate
    from chalicelib.identity.service import create_staff

    create_staff(
        StaffCreate(
            username="sh-a-e2e",
            password="a-long-password",
            role="store_staff",
            store_id="sh-a",
            display_name="导购 王",
        )
    )
    qr = {"kind": "staff", "label": "导购 王", "store_id": "sh-a", "staff_username": "sh-a-e2e"}
    status, code = api.call("POST", "/admin/members/qr-codes", qr, hq)
    assert status == 201, code
    status, sent = api.call("POST", "/auth/otp", {"phone": PHONE})
    assert status == 200, sent
    status, body = api.call(
        "POST",
        "/auth/otp/verify",
        {"phone": PHONE, "code": sent["dev_code"], "source": code["code"]},
    )
    assert status == 200 and body["customer"]["new_member"] is True, body
    member = CustomerModel.get(body["customer"]["customer_id"])
    assert (member.source_kind, member.source_staff, member.home_store_id) == (
        "staff",
        "sh-a-e2e",
        "sh-a",
    )
    return body["customer"]["customer_id"], body["token"]


def test_register_order_with_points_and_balance_pay_complete_earn_refund(
    api, catalogue, monkeypatch
):
    hq = token_for("hq-admin", "hq_admin")
    member, token = register(api, hq)
    status, _ = api.call(
        "POST",
        f"/admin/members/{member}/points/adjustments",
        {"delta": 3000, "reason": "开卡礼", "request_id": f"e2e-{uuid.uuid4().hex[:12]}"},
        hq,
    )
    assert status in (200, 201)
    status, _ = api.call(
        "POST",
        f"/admin/stored-value/members/{member}/adjustments",
        {
            "principal_fen": 1000,
            "bonus_fen": 500,
            "reason": "储值",
            "request_id": f"e2e-{uuid.uuid4().hex[:12]}",
        },
        hq,
    )
    assert status in (200, 201)

    # Goods 3 × ¥10.00 + 2 × ¥10.01 = 5002 fen, pickup (no fee); the cap: 50 % = 2501 fen.
    cart = {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": "100", "qty": 3}, {"sku": "101", "qty": 2}],
        "coupon_ids": [],
    }
    status, quote = api.call("POST", "/orders/quote", cart, token)
    assert status == 200, quote
    assert quote["total_fen"] == 5002
    assert quote["points"]["spendable"] == 3000
    assert (quote["points"]["max_points"], quote["points"]["max_fen"]) == (2501, 2501)

    # 2000 points pay ¥20.00 (split over the lines 1200 / 800 by what each paid), then
    # ¥12.00 of balance (bonus 1200 × 500/1500 = 400, principal 800), the provider the rest.
    status, order = api.call(
        "POST",
        "/orders",
        dict(cart, points_to_use=2000, stored_value_fen=1200, expected_total_fen=5002),
        token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert status == 201, order
    oid = order["order_id"]
    assert (order["points_used"], order["points_fen"], order["total_fen"]) == (2000, 2000, 3002)
    assert [line["points_fen"] for line in order["lines"]] == [1200, 800]
    assert [line["paid_fen"] for line in order["lines"]] == [1800, 1202]
    assert (order["stored_value_principal_fen"], order["stored_value_bonus_fen"]) == (800, 400)
    assert order["payment"]["amount_fen"] == 1802
    status, mine = api.call("GET", "/members/me/points", None, token)
    assert (mine["spendable"], mine["locked"]) == (1000, 2000)

    status, ack = api.call("POST", f"/local/payments/{oid}/complete", None, token)
    assert status == 200, ack
    deliver_events()  # order.paid: the locked points are spent
    status, mine = api.call("GET", "/members/me/points", None, token)
    assert (mine["spendable"], mine["locked"], mine["balance"]) == (1000, 0, 1000)

    pick(oid)
    complete(oid, customer=Principal(member, CUSTOMER))
    deliver_events()  # order.completed: 1 point per yuan of money paid, pending 7 days
    earned = 3002 // 100
    # the first-order task (loyalty/tasks.py) rewards its points at once, not pending
    task = sum(t.points for t in tasks_settings().tasks if t.active and t.kind == "first_order")
    b = points.balance(member)
    assert (b.spendable, b.pending) == (1000 + task, earned)

    later = clock.now() + timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert points.settle_due() == 0  # maturing writes nothing on its own
    assert points.balance(member).spendable == 1000 + task + earned

    # A fresh-goods return of 1 unit of line 100 (it paid 1800 for 3): 600 fen back, of
    # which stored value ceil(600 × 1200/3002) = 240 (bonus 240 × 400/1200 = 80).
    open_return(oid, {"100": 1}, who=Principal(member, CUSTOMER))
    deliver_events()  # refund.succeeded
    taken_back = earned * 600 // 3002  # 5 of the 30 earned
    returned = 2000 * 600 // 3002  # 399 of the 2000 spent
    status, mine = api.call("GET", "/members/me/points", None, token)
    assert (mine["spendable"], mine["pending"], mine["locked"], mine["debt"]) == (
        1000 + task + earned - taken_back + returned,
        0,
        0,
        0,
    )
    status, page = api.call("GET", "/members/me/points/entries?limit=10", None, token)
    seen = [(e["kind"], e["delta"]) for e in page["items"]]
    assert seen[:2] == [
        ("return", returned),  # newest first
        ("reverse", -taken_back),  # (the lot that matured meanwhile has no entry)
    ]
    # the order's earn and the first-order task's, from the same order.completed
    assert sorted(seen[2:4]) == sorted([("earn", earned), ("earn", task)])
    assert seen[4:] == [("spend", -2000), ("adjust", 3000)]
    assert sum(e["delta"] for e in page["items"]) == mine["balance"]
    status, balance = api.call("GET", "/members/me/stored-value", None, token)
    assert (balance["principal_fen"], balance["bonus_fen"]) == (1000 - 800 + 160, 500 - 400 + 80)

    deliver_events()  # every event again: nothing twice
    status, again = api.call("GET", "/members/me/points", None, token)
    assert again == mine
    status, again = api.call("GET", "/members/me/stored-value", None, token)
    assert again == balance


def test_points_that_matured_since_the_last_change_pay_for_an_order(api, catalogue, monkeypatch):
    """Maturing writes nothing (decisions.md entry 30): 8 days after an order's points
    were earned pending, the account as written still holds them pending. The quote
    offers them, and placing writes the matured lots before its lock (whose condition
    reads the written spendable points)."""
    from chalicelib.events.types import OrderCompleted
    from chalicelib.loyalty import programme_subscribers
    from chalicelib.loyalty.models import LoyaltyAccountModel

    member, token = register(api, token_for("hq-admin", "hq_admin"))
    programme_subscribers.order_completion(
        OrderCompleted(
            event_id="order.completed:261124MATURE01",
            occurred_at=clock.now_iso(),
            order_id="261124MATURE01",
            customer_id=member,
            store_id="sh-a",
            paid_fen=300_000,
            refunded_fen=0,
            lines=[],
        )
    )
    task = sum(t.points for t in tasks_settings().tasks if t.active and t.kind == "first_order")
    later = clock.now() + timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)
    written = LoyaltyAccountModel.get(member)
    assert (int(written.pending), int(written.spendable)) == (3000, task)
    assert points.needs_settle(written)

    cart = {
        "store_id": "sh-a",
        "fulfilment": "pickup",
        "items": [{"sku": "100", "qty": 3}, {"sku": "101", "qty": 2}],
        "coupon_ids": [],
    }
    status, quote = api.call("POST", "/orders/quote", cart, token)
    assert status == 200 and quote["points"]["spendable"] == 3000 + task, quote
    status, order = api.call(
        "POST",
        "/orders",
        dict(cart, points_to_use=2000, expected_total_fen=quote["total_fen"]),
        token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert status == 201, order
    assert order["points_used"] == 2000
    status, mine = api.call("GET", "/members/me/points", None, token)
    assert (mine["spendable"], mine["pending"], mine["locked"]) == (1000 + task, 0, 2000)
    assert not points.needs_settle(LoyaltyAccountModel.get(member))
