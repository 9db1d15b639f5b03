"""Points (issue 14 item 2): the ledger persisted, its routes, its subscribers, its
settling job. In-process moto; races are in tests/service/test_points_concurrency.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.db.transactions import TransactionCancelled, transact
from chalicelib.events.types import (
    OrderCancelled,
    OrderCompleted,
    OrderPaid,
    RefundSucceeded,
)
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.loyalty import points, programme_subscribers, subscribers
from chalicelib.loyalty.models import LoyaltyAccountModel, PointsEntryModel

from tests.api.conftest import token_for

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    """The clock, movable: ``now.move(days=8)``."""

    class Clock:
        at = T0

        def move(self, **delta):
            self.at += timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(clock, "now", lambda: c.at)
    return c


@pytest.fixture(autouse=True)
def no_order_tasks(aws):
    """These tests count an order's own points: the default first-order and monthly
    tasks, which earn in the same change (tests/api/test_levels.py), are off."""
    import msgspec
    from chalicelib.loyalty.models import LoyaltySettingsModel
    from chalicelib.loyalty.programme_schemas import TasksSettings

    data = msgspec.json.encode(TasksSettings(tasks=[])).decode()
    LoyaltySettingsModel("tasks", data=data).save()


@pytest.fixture
def member(aws):
    CustomerModel(customer_id="c-1", phone="13800000001", created_at="2026-11-01T00:00:00Z").save()
    return "c-1"


def hq():
    return token_for("hq-admin", "hq_admin")


def completed(order_id="261124AAAA0001", paid=10_000, refunded=0, customer="c-1"):
    return OrderCompleted(
        event_id=f"order.completed:{order_id}",
        occurred_at=clock.now_iso(),
        order_id=order_id,
        customer_id=customer,
        store_id="sh-a",
        paid_fen=paid,
        refunded_fen=refunded,
        lines=[],
    )


def refund(refund_id, order_id="261124AAAA0001", amount=2_500):
    return RefundSucceeded(
        event_id=f"refund.succeeded:{refund_id}",
        occurred_at=clock.now_iso(),
        refund_id=refund_id,
        order_id=order_id,
        reason="return",
        amount_fen=amount,
        delivery_fee_fen=0,
        lines=[],
        completes_order=False,
    )


def save_order(order_id, status, paid, refunded, customer="c-1"):
    """The order head as the refund subscriber reads it (by table name)."""
    from chalicelib.db.connection import connection
    from chalicelib.kernel import config

    connection().client.put_item(
        TableName=config.table_name("orders"),
        Item={
            "order_id": {"S": order_id},
            "customer_id": {"S": customer},
            "status": {"S": status},
            "paid_fen": {"N": str(paid)},
            "refunded_fen": {"N": str(refunded)},
        },
    )


def test_completion_earns_pending_points_once(api, member, now):
    event = completed(paid=12_345, refunded=345)
    programme_subscribers.order_completion(event)
    programme_subscribers.order_completion(event)  # redelivered: earns nothing twice
    status, body = api.call("GET", "/members/me/points", token=token_for("c-1", "customer"))
    assert status == 200
    assert (body["pending"], body["spendable"], body["balance"]) == (120, 0, 120)
    status, page = api.call("GET", "/members/me/points/entries", token=token_for("c-1", "customer"))
    assert status == 200 and [e["entry_key"] for e in page["items"]] == [
        "earn:order:261124AAAA0001"
    ]
    entry = page["items"][0]
    assert entry["available_at"] == "2026-12-01T02:00:00Z"  # 7 pending days
    assert entry["expires_at"] == "2027-11-24T16:00:00Z"  # end of the Shanghai day, 12 months on
    # the pending days pass: the points are spendable with nothing written (no job,
    # no entry: the earn entry said when); the account's next change writes it
    assert LoyaltyAccountModel.get("c-1").next_due_at == "2027-11-24T16:00:00Z"  # expiry
    now.move(days=7, minutes=1)
    assert points.settle_due() == 0
    b = points.balance("c-1")
    assert (b.pending, b.spendable, b.balance) == (0, 120, 120)
    account = LoyaltyAccountModel.get("c-1")
    assert (account.pending, account.spendable) == (120, 0)  # as last written
    assert points.needs_settle(account)
    points.settle_now("c-1")
    account = LoyaltyAccountModel.get("c-1")
    assert (account.pending, account.spendable) == (0, 120)
    assert not points.needs_settle(account)
    assert [e.kind for e in points.entries("c-1", None, 10).items] == ["earn"]


def test_expiry_writes_an_entry_and_the_job_reads_only_due_accounts(member, now):
    points.award("c-1", 50, ref="checkin:2026-11-24", kind="earn", reason="check-in",
                 occurred_at=clock.now_iso())  # fmt: skip
    account = LoyaltyAccountModel.get("c-1")
    assert account.next_due_at == "2027-11-24T16:00:00Z"
    now.move(days=366)
    assert points.settle_due() == 1
    assert points.balance("c-1").balance == 0
    kinds = [e.kind for e in points.entries("c-1", None, 10).items]
    assert kinds == ["expire", "earn"]
    assert LoyaltyAccountModel.get("c-1").next_due_at is None  # out of the due index


def test_partial_refunds_reverse_exactly_in_proportion(member, now):
    save_order("261124AAAA0001", "completed", 10_000, 0)
    programme_subscribers.order_completion(completed(paid=10_000))  # 100 points
    shares = []
    for i, amount in enumerate((3_333, 3_333, 3_334)):
        save_order("261124AAAA0001", "completed", 10_000, sum((3_333, 3_333, 3_334)[: i + 1]))
        subscribers.reverse_on_refund(refund(f"r{i}", amount=amount))
        subscribers.reverse_on_refund(refund(f"r{i}", amount=amount))  # replayed
        shares.append(-points.entries("c-1", None, 1).items[0].delta)
    assert shares == [33, 33, 34] and points.balance("c-1").balance == 0


def test_a_refund_before_completion_is_left_to_the_completion(member, now):
    save_order("261124AAAA0001", "delivered", 10_000, 4_000)
    subscribers.reverse_on_refund(refund("r1", amount=4_000))  # nothing to reverse yet
    save_order("261124AAAA0001", "completed", 10_000, 4_000)
    programme_subscribers.order_completion(completed(paid=10_000, refunded=4_000))
    subscribers.reverse_on_refund(refund("r1", amount=4_000))  # redelivered late: nothing
    assert points.balance("c-1").balance == 60


def test_a_refund_of_a_completed_order_waits_for_its_earn(member, now):
    save_order("261124AAAA0001", "completed", 10_000, 5_000)
    with pytest.raises(subscribers.EarnNotYetWritten):
        subscribers.reverse_on_refund(refund("r1", amount=5_000))


def test_reversal_of_spent_points_makes_debt_repaid_by_later_points(member, now):
    save_order("261124AAAA0001", "completed", 10_000, 0)
    programme_subscribers.order_completion(completed(paid=10_000))
    now.move(days=8)
    points.settle_now("c-1")  # what placing does before a lock (checkout.takes)
    transact(lambda tx: points.lock_piece("c-1", 100, "261201BBBB0001").add_to(tx))
    assert points.consume("c-1", "261201BBBB0001")
    save_order("261124AAAA0001", "completed", 10_000, 10_000)
    subscribers.reverse_on_refund(refund("r1", amount=10_000))
    b = points.balance("c-1")
    assert (b.spendable, b.debt, b.balance) == (0, 100, -100)  # never clamped at zero
    points.award("c-1", 30, ref="task:profile", kind="earn", reason="task",
                 occurred_at=clock.now_iso())  # fmt: skip
    b = points.balance("c-1")
    assert (b.spendable, b.debt, b.balance) == (0, 70, -70)


def test_lock_consume_release_and_refund_returns_spent_points(member, now):
    points.award("c-1", 500, ref="adjust:seed", kind="adjust", reason="seed",
                 occurred_at=clock.now_iso())  # fmt: skip
    transact(lambda tx: points.lock_piece("c-1", 300, "o-1").add_to(tx))
    with pytest.raises(TransactionCancelled) as exc:  # only 200 left to lock
        transact(lambda tx: points.lock_piece("c-1", 300, "o-2").add_to(tx))
    assert exc.value.failed == ["points"]
    b = points.balance("c-1")
    assert (b.spendable, b.locked, b.balance) == (200, 300, 500)
    # paid: the order.paid subscriber spends the lock (once)
    paid = OrderPaid(event_id="order.paid:o-1", occurred_at=clock.now_iso(), order_id="o-1",
                     customer_id="c-1", store_id="sh-a", fulfilment="delivery", paid_fen=7_000,
                     payment_id="p", lines=[])  # fmt: skip
    subscribers.consume_on_paid(paid)
    subscribers.consume_on_paid(paid)
    b = points.balance("c-1")
    assert (b.spendable, b.locked, b.balance) == (200, 0, 200)
    # another order locks and is cancelled unpaid: the points come back
    transact(lambda tx: points.lock_piece("c-1", 150, "o-2").add_to(tx))
    cancel = OrderCancelled(event_id="order.cancelled:o-2", occurred_at=clock.now_iso(),
                            order_id="o-2", customer_id="c-1", store_id="sh-a",
                            from_status="awaiting_payment", paid_fen=0, reason=None)  # fmt: skip
    subscribers.release_on_cancel(cancel)
    subscribers.release_on_cancel(cancel)
    assert points.balance("c-1").spendable == 200
    # a refund of half of o-1 gives back half the points it spent
    save_order("o-1", "completed", 7_000, 3_500)
    subscribers.reverse_on_refund(refund("r-o1", order_id="o-1", amount=3_500))
    assert points.balance("c-1").spendable == 350


def test_admin_adjusts_with_a_reason_audited_and_idempotent(api, member, now):
    path = "/admin/members/c-1/points/adjustments"
    body = {"delta": 200, "reason": "goodwill", "request_id": "adj-00000001"}
    status, entry = api.call("POST", path, body, token=hq())
    assert status == 201 and entry["delta"] == 200 and entry["actor"] == "hq-admin"
    status, again = api.call("POST", path, body, token=hq())
    assert status == 201 and again == entry
    assert points.balance("c-1").balance == 200
    status, err = api.call("POST", path, {**body, "delta": 5}, token=hq())
    assert status == 409 and err["error"]["code"] == "request_id_reused"
    # a deduction beyond the spendable points: refused with the spendable amount
    take = {"delta": -300, "reason": "duplicate credit", "request_id": "adj-00000002"}
    status, err = api.call("POST", path, take, token=hq())
    assert status == 409 and err["error"]["details"] == {"spendable": 200}
    assert points.balance("c-1").balance == 200  # nothing half-written
    # ... unless the settings allow debt
    status, settings = api.call("GET", "/admin/loyalty/points-settings", token=hq())
    assert status == 200 and settings["allow_negative_adjustments"] is False
    settings["allow_negative_adjustments"] = True
    status, _ = api.call("PUT", "/admin/loyalty/points-settings", settings, token=hq())
    assert status == 200
    status, entry = api.call("POST", path, take, token=hq())
    assert status == 201 and entry["debt"] == 100
    b = points.balance("c-1")
    assert (b.spendable, b.debt, b.balance) == (0, 100, -100)
    status, audit = api.call(
        "GET",
        "/admin/audit?target_type=member&target_id=c-1&date_from=2026-11-24&date_to=2026-11-24",
        token=hq(),
    )
    assert status == 200
    assert sorted(x["action"] for x in audit["items"]) == ["points.adjust", "points.adjust"]
    assert {x["actor"] for x in audit["items"]} == {"hq-admin"}
    # the admin sees the ledger with who adjusted
    status, page = api.call("GET", "/admin/members/c-1/points/entries", token=hq())
    assert status == 200 and [e["delta"] for e in page["items"]] == [-300, 200]


def test_adjustment_input_is_checked(api, member):
    path = "/admin/members/c-1/points/adjustments"
    for body in (
        {"delta": 0, "reason": "x", "request_id": "adj-00000001"},
        {"delta": 10, "reason": "", "request_id": "adj-00000001"},
        {"delta": 10, "request_id": "adj-00000001"},
        {"delta": 10, "reason": "x", "request_id": "bad id!"},
    ):
        status, _ = api.call("POST", path, body, token=hq())
        assert status == 422
    status, err = api.call(
        "POST", "/admin/members/c-404/points/adjustments",
        {"delta": 10, "reason": "x", "request_id": "adj-00000001"}, token=hq(),
    )  # fmt: skip
    assert status == 404 and err["error"]["code"] == "member_not_found"
    assert PointsEntryModel.count() == 0


def test_history_pages_newest_first_with_a_cursor(api, member, now):
    for i in range(5):
        points.award("c-1", 10 + i, ref=f"task:{i}", kind="earn", reason="task",
                     occurred_at=clock.now_iso())  # fmt: skip
        now.move(seconds=1)
    token = token_for("c-1", "customer")
    status, page = api.call("GET", "/members/me/points/entries?limit=3", token=token)
    assert [e["delta"] for e in page["items"]] == [14, 13, 12] and page["cursor"]
    status, rest = api.call(
        "GET", f"/members/me/points/entries?limit=3&cursor={page['cursor']}", token=token
    )
    assert [e["delta"] for e in rest["items"]] == [11, 10]
    # another member's cursor is refused
    status, _ = api.call(
        "GET",
        f"/members/me/points/entries?cursor={page['cursor']}",
        token=token_for("c-2", "customer"),
    )
    assert status == 400


def test_export_data_holds_balance_and_entries(member, now):
    points.award("c-1", 10, ref="task:x", kind="earn", reason="task", occurred_at=clock.now_iso())
    data = points.export_data("c-1")
    assert data["balance"]["balance"] == 10 and len(data["entries"]) == 1


def test_demo_points_seed_twice_earns_once(aws):
    from infra.local import demo_data
    from infra.local.seed import SeedReport, _seed_points

    first, second = SeedReport(), SeedReport()
    _seed_points(first)
    _seed_points(second)
    assert first.points_entries.created == len(demo_data.points_history()) > 0
    assert second.points_entries.created == 0
    b = points.balance("c-demo-01")
    assert b.spendable == 105 and b.pending == 47  # welcome + one daily; an order pending


def test_a_released_lock_is_settled_once_then_leaves_the_due_index(member, now):
    points.award("c-1", 100, ref="task:seed", kind="earn", reason="seed",
                 occurred_at=clock.now_iso())  # fmt: skip
    transact(lambda tx: points.lock_piece("c-1", 40, "o-9").add_to(tx))
    assert points.release("c-1", "o-9") == 40
    assert points.release("c-1", "o-9") == 0  # once
    assert LoyaltyAccountModel.get("c-1").next_due_at == clock.now_iso()  # due now
    assert points.settle_due() == 1  # nothing to write but the next due time
    assert LoyaltyAccountModel.get("c-1").next_due_at == "2027-11-24T16:00:00Z"
    assert points.settle_due() == 0


def test_an_earn_cut_by_a_crash_is_completed_once(member, now, monkeypatch):
    """An earn is the account's update, then its entry (one item with the order's growth
    entry): a crash between them is finished by the redelivery, or by the member's next
    change; never earned twice."""
    from chalicelib.loyalty import growth

    real = growth._put_item_once

    def crash(*_a):
        raise RuntimeError("the function died")

    monkeypatch.setattr(growth, "_put_item_once", crash)
    with pytest.raises(RuntimeError):
        programme_subscribers.order_completion(completed("261124AAAA0001", paid=10_000))
    monkeypatch.setattr(growth, "_put_item_once", real)
    assert not points.has_entry("c-1", "earn:order:261124AAAA0001")
    programme_subscribers.order_completion(completed("261124AAAA0001", paid=10_000))  # redelivered
    assert points.has_entry("c-1", "earn:order:261124AAAA0001")
    assert points.balance("c-1").pending == 100
    # cut again, then another order's earn comes first: it writes the lost entry
    monkeypatch.setattr(growth, "_put_item_once", crash)
    with pytest.raises(RuntimeError):
        programme_subscribers.order_completion(completed("261124AAAA0002", paid=20_000))
    monkeypatch.setattr(growth, "_put_item_once", real)
    programme_subscribers.order_completion(completed("261124AAAA0003", paid=30_000))
    assert points.has_entry("c-1", "earn:order:261124AAAA0002")
    programme_subscribers.order_completion(completed("261124AAAA0002", paid=20_000))  # late
    entries = [e for e in PointsEntryModel.query("c-1") if e.kind is not None]  # points parts
    assert points.balance("c-1").pending == 600 == sum(int(e.delta) for e in entries)
    assert len(entries) == 3
