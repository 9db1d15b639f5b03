"""Growth value and levels, check-in and tasks (issue 14 items 4 and 5): persisted,
through their routes and subscribers. In-process moto; the check-in race is in
tests/service/test_checkin_concurrency.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from chalicelib.coupons import service as coupon_service
from chalicelib.coupons.models import CouponModel
from chalicelib.events.types import MemberRegistered, OrderCompleted, RefundSucceeded
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.loyalty import checkin, growth, levels, points, programme_subscribers, tasks
from chalicelib.loyalty.models import LoyaltyAccountModel

from tests.api.conftest import token_for
from tests.publishing import create_template

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Tuesday


@pytest.fixture
def now(monkeypatch):
    class Clock:
        at = T0

        def move(self, **delta):
            self.at += timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(clock, "now", lambda: c.at)
    return c


@pytest.fixture
def member(aws):
    CustomerModel(customer_id="c-1", phone="13800000001", created_at="2026-11-01T00:00:00Z").save()
    return "c-1"


@pytest.fixture(autouse=True)
def no_cache():
    coupon_service.forget_auto_cache()
    yield


def hq():
    return token_for("hq-admin", "hq_admin")


def me(cid="c-1"):
    return token_for(cid, "customer")


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


def save_order(order_id, status, paid, refunded, customer="c-1"):
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


def template(api, name="升级礼", **over):
    body = {
        "name": name,
        "kind": "amount_off",
        "threshold_fen": 5000,
        "amount_off_fen": 1000,
        "days_after_claim": 30,
        **over,
    }
    status, t = create_template(api, body, token=hq())
    assert status == 201, t
    return t["template_id"]


def put_levels(api, **over):
    status, current = api.call("GET", "/admin/loyalty/levels", token=hq())
    assert status == 200
    body = {**current, **over}
    return api.call("PUT", "/admin/loyalty/levels", body, token=hq())


# --- growth and levels -------------------------------------------------------------------
def test_completion_earns_growth_once_and_levels_up_with_one_gift(api, member, now):
    gift = template(api)
    status, body = api.call("GET", "/admin/loyalty/levels", token=hq())
    body["levels"][1]["level_up_template_id"] = gift  # V2 at 500
    status, _ = api.call("PUT", "/admin/loyalty/levels", body, token=hq())
    assert status == 200
    event = completed(paid=60_000)  # ¥600 -> 600 growth
    programme_subscribers.order_completion(event)
    programme_subscribers.order_completion(event)  # redelivered: nothing twice
    status, mine = api.call("GET", "/members/me/level", token=me())
    assert status == 200
    # + 50: the first-order task, in the order's change (one growth change per event)
    assert (mine["growth"], mine["level"]["code"], mine["next_level"]["code"]) == (650, "V2", "V3")
    assert mine["growth_to_next"] == 1350
    assert [h["kind"] for h in mine["history"]] == ["level", "order", "task"]
    assert mine["history"][0]["level_from"] == "V1" and mine["history"][0]["level_to"] == "V2"
    gifts = [c for c in CouponModel.by_customer.query("c-1") if c.template_id == gift]
    assert len(gifts) == 1 and gifts[0].source == "level_up"
    assert growth.ensure_level_gifts("c-1") == []  # gifted once per level
    assert levels.multiplier("c-1") == 1.2


def test_the_level_multiplies_the_order_points(member, now):

    growth.add_growth("c-1", 2_000, ref="task:seed:once", kind="task", reason="seed")  # V3 x1.5
    programme_subscribers.order_completion(completed(paid=10_001))
    assert points.balance("c-1").pending == 150  # floor(100.01 × 1.5)


def test_member_prices_follow_the_level_permille(member, now):
    prices = levels.member_prices_for("c-1", {"100231": 3990})
    assert prices.unit_price("100231") is None  # V1: no member price
    growth.add_growth("c-1", 5_000, ref="task:seed:once", kind="task", reason="seed")  # V4 960‰
    prices = levels.member_prices_for("c-1", {"100231": 3990})
    assert prices.unit_price("100231") == 3830  # floor(3990 × 0.96)
    assert prices.unit_price("unknown") is None


def test_refunds_after_completion_take_growth_back_exactly(member, now):
    save_order("261124AAAA0001", "completed", 10_000, 0)
    programme_subscribers.order_completion(completed(paid=10_000))  # 100
    for i, total in enumerate((3_333, 6_666, 10_000)):
        save_order("261124AAAA0001", "completed", 10_000, total)
        r = RefundSucceeded(
            event_id=f"refund.succeeded:r{i}",
            occurred_at=clock.now_iso(),
            refund_id=f"r{i}",
            order_id="261124AAAA0001",
            reason="return",
            amount_fen=0,
            delivery_fee_fen=0,
            lines=[],
            completes_order=False,
        )
        programme_subscribers.growth_on_refund(r)
        programme_subscribers.growth_on_refund(r)  # replayed
    assert growth.my_level("c-1").growth == 50  # all of the order's; the first-order task stays


def test_a_refund_waits_for_the_completions_growth(member, now):
    save_order("261124AAAA0001", "completed", 10_000, 5_000)
    r = RefundSucceeded(
        event_id="refund.succeeded:r1",
        occurred_at=clock.now_iso(),
        refund_id="r1",
        order_id="261124AAAA0001",
        reason="return",
        amount_fen=5_000,
        delivery_fee_fen=0,
        lines=[],
        completes_order=False,
    )
    with pytest.raises(programme_subscribers.GrowthNotYetWritten):
        programme_subscribers.growth_on_refund(r)


def test_downgrade_notice_then_lowered_level(api, member, now):
    status, _ = put_levels(api, downgrade={"mode": "recent_growth", "months": 1, "notice_days": 7})
    assert status == 200
    growth.add_growth("c-1", 600, ref="task:seed:once", kind="task", reason="seed")  # V2
    assert growth.review_levels() == 0  # not due before next month
    now.move(days=40)  # January: November's growth is out of a 1-month window
    assert growth.review_levels() == 0  # a notice first
    notice = growth.my_level("c-1").notice
    assert notice is not None and notice.level_to == "V1" and notice.growth_needed == 500
    now.move(days=8)
    assert growth.review_levels() == 1
    mine = growth.my_level("c-1")
    assert mine.level.code == "V1" and mine.notice is None and mine.growth == 600
    assert mine.history[0].kind == "level" and mine.history[0].reason == "downgrade"
    assert LoyaltyAccountModel.get("c-1").review_at is None  # out of the review index


def test_growth_before_the_notice_date_keeps_the_level(api, member, now):
    put_levels(api, downgrade={"mode": "recent_growth", "months": 1, "notice_days": 7})
    growth.add_growth("c-1", 600, ref="task:seed:once", kind="task", reason="seed")
    now.move(days=40)
    growth.review_levels()
    growth.add_growth("c-1", 500, ref="task:more:once", kind="task", reason="more")
    now.move(days=8)
    assert growth.review_levels() == 0
    assert growth.my_level("c-1").level.code == "V2"


def test_birthday_coupon_once_a_year_by_the_birthday_index(api, member, now):
    gift = template(api, name="生日礼")
    _status, body = api.call("GET", "/admin/loyalty/levels", token=hq())
    body["levels"][0]["birthday_template_id"] = gift
    api.call("PUT", "/admin/loyalty/levels", body, token=hq())
    CustomerModel(
        customer_id="c-2", phone="13800000002", created_at="2026-11-01T00:00:00Z", birthday="11-25"
    ).save()
    m = CustomerModel.get("c-1")
    m.update(actions=[CustomerModel.birthday.set("11-24")])
    assert growth.birthday_gifts(date(2026, 11, 24)) == 1
    assert growth.birthday_gifts(date(2026, 11, 24)) == 0  # the job runs hourly
    mine = [c for c in CouponModel.by_customer.query("c-1") if c.template_id == gift]
    assert len(mine) == 1 and mine[0].source == "birthday"
    assert not list(CouponModel.by_customer.query("c-2"))


def test_levels_settings_are_validated_and_audited(api, member, now):
    status, _ = put_levels(
        api,
        levels=[
            {"code": "V1", "name": "普通", "threshold": 0},
            {"code": "V2", "name": "白银", "threshold": 0},
        ],
    )
    assert status == 422
    status, _body = put_levels(
        api,
        levels=[
            {"code": "V1", "name": "普通", "threshold": 0},
            {"code": "V2", "name": "白银", "threshold": 800, "discount_permille": 980},
        ],
    )
    assert status == 200
    status, got = api.call("GET", "/admin/loyalty/levels", token=hq())
    assert got["levels"][1]["threshold"] == 800
    status, log = api.call("GET", "/admin/audit?target_type=loyalty_settings", token=hq())
    assert status == 200 and log["items"][0]["action"] == "loyalty.levels_settings"
    status, _ = api.call("PUT", "/admin/loyalty/levels", got, token=me())
    assert status == 403


# --- check-in ---------------------------------------------------------------------------
def test_check_in_once_a_day_with_streak_and_cumulative_rewards(api, member, now):
    status, r = api.call("POST", "/members/me/check-ins", token=me())
    assert status == 201
    assert (r["points"], r["streak"], r["rewards"]) == (5, 1, ["daily"])
    assert r["next_reward"] == {"day": 3, "points": 10}
    status, err = api.call("POST", "/members/me/check-ins", token=me())
    assert status == 409 and err["error"]["code"] == "already_checked_in"
    now.move(days=1)
    api.call("POST", "/members/me/check-ins", token=me())
    now.move(days=1)
    status, r = api.call("POST", "/members/me/check-ins", token=me())
    assert (r["points"], r["streak"], r["rewards"]) == (15, 3, ["daily", "streak:3"])
    now.move(days=2)  # a day missed: the streak starts again
    status, r = api.call("POST", "/members/me/check-ins", token=me())
    assert (r["streak"], r["month_days"]) == (1, 4)
    assert points.balance("c-1").spendable == 5 + 5 + 15 + 5
    status, cal = api.call("GET", "/members/me/check-ins?month=2026-11", token=me())
    assert status == 200
    assert [d["day"] for d in cal["days"]] == [
        "2026-11-24",
        "2026-11-25",
        "2026-11-26",
        "2026-11-28",
    ]
    assert cal["checked_in_today"] and cal["streak"] == 1


def test_the_local_day_decides_not_utc(api, member, now):
    now.at = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    assert api.call("POST", "/members/me/check-ins", token=me())[1]["day"] == "2026-11-24"
    now.move(minutes=31)  # 00:01 on the 25th in Shanghai, still the 24th in UTC
    status, r = api.call("POST", "/members/me/check-ins", token=me())
    assert status == 201 and (r["day"], r["streak"]) == ("2026-11-25", 2)


def test_weekly_boundary_restarts_the_streak(api, member, now):
    status, body = api.call("GET", "/admin/loyalty/checkin-settings", token=hq())
    status, _ = api.call(
        "PUT", "/admin/loyalty/checkin-settings", {**body, "streak_reset": "weekly"}, token=hq()
    )
    assert status == 200
    now.at = datetime(2026, 11, 29, 2, tzinfo=UTC)  # Sunday
    api.call("POST", "/members/me/check-ins", token=me())
    now.move(days=1)  # Monday
    assert api.call("POST", "/members/me/check-ins", token=me())[1]["streak"] == 1
    status, _ = api.call(
        "PUT", "/admin/loyalty/checkin-settings", {**body, "timezone": "Mars/Olympus"}, token=hq()
    )
    assert status == 422


def test_outcome_rules():
    from chalicelib.loyalty.programme_schemas import CheckinSettings

    st = CheckinSettings(streak_reset="monthly")
    o = checkin.outcome(date(2026, 12, 1), date(2026, 11, 30), 6, "2026-11", 20, st)
    assert (o.streak, o.month_days, o.points) == (1, 1, 5)  # 1st: both restart
    o = checkin.outcome(date(2026, 11, 30), date(2026, 11, 29), 6, "2026-11", 19, st)
    assert (o.streak, o.month_days, o.points, o.rewards) == (
        7,
        20,
        5 + 30 + 50,
        ["daily", "streak:7", "cumulative:20"],
    )


# --- tasks ------------------------------------------------------------------------------
def test_order_tasks_reward_once_per_period(api, member, now):
    for i in range(5):
        event = completed(order_id=f"261124AAAA000{i}", paid=100)
        programme_subscribers.order_completion(event)
        programme_subscribers.order_completion(event)  # redelivered: counted once
    _status, mine = api.call("GET", "/members/me/tasks", token=me())
    by_id = {t["task_id"]: t for t in mine["items"]}
    assert by_id["first-order"]["done"] and by_id["monthly-4"]["done"]
    assert by_id["monthly-4"]["progress"] == 4 and by_id["monthly-4"]["period"] == "2026-11"
    assert points.balance("c-1").spendable == 100 + 80
    assert growth.my_level("c-1").growth == 5 * 1 + 50 + 40  # ¥1 orders: 1 growth each
    now.move(days=10)  # December: a new period
    programme_subscribers.order_completion(completed(order_id="261204AAAA0001", paid=100))
    by_id = {t["task_id"]: t for t in api.call("GET", "/members/me/tasks", token=me())[1]["items"]}
    assert by_id["monthly-4"]["progress"] == 1 and not by_id["monthly-4"]["done"]


def test_profile_task_is_claimed_once_when_complete(api, member, now):
    status, err = api.call("POST", "/members/me/tasks/profile/claim", token=me())
    assert status == 409 and err["error"]["code"] == "task_not_done"
    CustomerModel.get("c-1").update(
        actions=[CustomerModel.nickname.set("王女士"), CustomerModel.birthday.set("03-15")]
    )
    status, r = api.call("POST", "/members/me/tasks/profile/claim", token=me())
    assert status == 200 and r["rewarded"]
    status, r = api.call("POST", "/members/me/tasks/profile/claim", token=me())
    assert status == 200 and not r["rewarded"]
    assert points.balance("c-1").spendable == 50
    assert api.call("POST", "/members/me/tasks/nope/claim", token=me())[0] == 404
    assert api.call("POST", "/members/me/tasks/first-order/claim", token=me())[0] == 409


def test_invite_rewards_the_inviter_per_friend(member, now):
    tasks.on_registered("c-9", "c-1", clock.now_iso())
    tasks.on_registered("c-9", "c-1", clock.now_iso())  # the same friend again
    tasks.on_registered("c-8", "c-1", clock.now_iso())
    assert points.balance("c-1").spendable == 200
    # a member registered without an invitation: nothing happens
    programme_subscribers.tasks_on_registration(
        MemberRegistered(
            event_id="member.registered:c-7",
            occurred_at=clock.now_iso(),
            customer_id="c-7",
            source=None,
            home_store_id=None,
        )
    )


def test_tasks_settings_reject_duplicate_ids(api, member):
    _status, body = api.call("GET", "/admin/loyalty/tasks", token=hq())
    body["tasks"].append(dict(body["tasks"][0]))
    assert api.call("PUT", "/admin/loyalty/tasks", body, token=hq())[0] == 422


def test_demo_programme_seeds_once(api, now):
    from infra.local import seed

    seed.seed_programme()
    seed.seed_programme()  # a second run changes nothing
    _, body = api.call("GET", "/admin/loyalty/levels", token=hq())
    assert [lv["name"] for lv in body["levels"]][:2] == ["普通会员", "白银会员"]
    assert growth.my_level("c-demo-01").level.code == "V5"
    assert growth.my_level("c-demo-04").growth == 720
    gifts = {c.template_id for c in CouponModel.by_customer.query("c-demo-01")}
    assert {"demo-levelup-v2", "demo-levelup-v5"} <= gifts
    assert len(api.call("GET", "/admin/loyalty/tasks", token=hq())[1]["tasks"]) == 4


def test_a_gift_lost_to_a_crash_is_issued_on_the_redelivery(api, member, now, monkeypatch):
    gift = template(api)
    _, body = api.call("GET", "/admin/loyalty/levels", token=hq())
    body["levels"][1]["level_up_template_id"] = gift
    api.call("PUT", "/admin/loyalty/levels", body, token=hq())
    event = completed(paid=60_000)

    def crash(_customer_id):
        raise RuntimeError("the function died after the growth's commit")

    original = growth.ensure_level_gifts
    monkeypatch.setattr(growth, "ensure_level_gifts", crash)
    with pytest.raises(RuntimeError):
        programme_subscribers.order_completion(event)
    monkeypatch.setattr(growth, "ensure_level_gifts", original)
    programme_subscribers.order_completion(event)  # the dispatcher's retry
    assert [c.template_id for c in CouponModel.by_customer.query("c-1")] == [gift]


def test_a_removed_level_reads_as_the_level_the_growth_reaches(api, member, now):
    growth.add_growth("c-1", 13_000, ref="task:seed:once", kind="task", reason="seed")  # V5
    _, body = api.call("GET", "/admin/loyalty/levels", token=hq())
    body["levels"] = body["levels"][:4]  # V5 removed
    assert api.call("PUT", "/admin/loyalty/levels", body, token=hq())[0] == 200
    assert growth.my_level("c-1").level.code == "V4"


def test_the_member_item_is_written_only_when_the_level_changes(member, now, monkeypatch):
    """The level copy on the member item (the list's level filter) costs a write in the
    growth transaction: an order that leaves the level as it was must not pay it."""
    copies = []
    piece, copy = growth.member_level_piece, growth.copy_member_level
    monkeypatch.setattr(
        growth,
        "member_level_piece",
        lambda cid, code, v: copies.append(code) or piece(cid, code, v),
    )
    monkeypatch.setattr(
        growth, "copy_member_level", lambda cid, code, v: copies.append(code) or copy(cid, code, v)
    )
    growth.set_initial_level("c-1")
    programme_subscribers.order_completion(completed("261124AAAA0001", paid=10_000))
    assert copies == []  # ¥100 (+ 50 first order): still V1, the member item says V1
    programme_subscribers.order_completion(completed("261124AAAA0002", paid=50_000))
    assert copies == ["V2"]
    assert CustomerModel.get("c-1").level == "V2"
    now.move(seconds=1)  # level history entries are keyed by their instant
    growth.add_growth("c-1", -600, ref="adjust:1", kind="task", reason="test")  # back to V1
    assert copies == ["V2", "V1"] and CustomerModel.get("c-1").level == "V1"


def test_a_late_level_copy_does_not_overwrite_a_newer_one(member, now):
    """Copies made after the account's update can arrive out of order (two orders of a
    member completing at once): the member item keeps the newest change's level."""
    growth.copy_member_level("c-1", "V3", 7)
    growth.copy_member_level("c-1", "V2", 6)  # the older change's copy, late
    assert CustomerModel.get("c-1").level == "V3"
    CustomerModel.get("c-1").update(actions=[CustomerModel.erased_at.set(clock.now_iso())])
    growth.copy_member_level("c-1", "V4", 8)  # an erased member is not put back in the list
    assert CustomerModel.get("c-1").level == "V3"


def test_a_crash_after_the_growth_update_is_written_whole_by_the_redelivery(
    api, member, now, monkeypatch
):
    """An order's change is one UpdateItem then its writes one by one: a crash between
    them is completed by the redelivery, without adding the growth again."""
    real = growth._complete

    def crash(*args):
        raise RuntimeError("the function died after the account's update")

    monkeypatch.setattr(growth, "_complete", crash)
    with pytest.raises(RuntimeError):
        programme_subscribers.order_completion(completed("261124AAAA0001", paid=60_000))
    monkeypatch.setattr(growth, "_complete", real)
    assert not growth.has_entry("c-1", "earn:order:261124AAAA0001")
    programme_subscribers.order_completion(completed("261124AAAA0001", paid=60_000))
    mine = growth.my_level("c-1")
    assert (mine.growth, mine.level.code) == (600 + 50, "V2")
    assert [h.kind for h in mine.history] == ["level", "order", "task"]
    assert points.balance("c-1").spendable == 100  # the first-order task's points, once
    assert CustomerModel.get("c-1").level == "V2"


def test_the_next_order_writes_what_a_crash_left_and_the_cause_stays_applied_once(
    member, now, monkeypatch
):
    real = growth._complete
    monkeypatch.setattr(growth, "_complete", lambda *a: (_ for _ in ()).throw(RuntimeError()))
    with pytest.raises(RuntimeError):
        programme_subscribers.order_completion(completed("261124AAAA0001", paid=10_000))
    monkeypatch.setattr(growth, "_complete", real)
    now.move(seconds=1)
    programme_subscribers.order_completion(completed("261124AAAA0002", paid=10_000))
    assert growth.has_entry("c-1", "earn:order:261124AAAA0001")  # written by the next change
    # the first order's redelivery, no longer the account's last change: applied already
    programme_subscribers.order_completion(completed("261124AAAA0001", paid=10_000))
    assert growth.my_level("c-1").growth == 100 + 100 + 50
    assert points.balance("c-1").spendable == 100
    by_id = {t.task_id: t for t in tasks.progress("c-1").items}
    assert by_id["first-order"].done and by_id["monthly-4"].progress == 2
