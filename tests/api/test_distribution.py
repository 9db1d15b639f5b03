"""Staff distribution (issue 15 items 5 and 9): binding rules and protection, one binding
when two staff QR codes claim a member at once, commission on the 1st and 2nd completed
orders only, rate mode, reversal on refund (full, partial), after payout a negative
balance carried, two levels at most, redelivery writes nothing twice, roles."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, STORE_STAFF, Principal
from chalicelib.customers import aggregates, distribution
from chalicelib.customers import distribution_schemas as s
from chalicelib.customers.distribution_models import DistributionModel
from chalicelib.events.types import OrderCompleted, OrderLine, RefundSucceeded
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ValidationFailed

HQ = Principal("hq-admin", HQ_ADMIN)
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


def staff(username: str, store: str = "sh-a", name: str = "李") -> str:
    from chalicelib.identity.models import StaffModel

    StaffModel(
        username,
        role="store_staff",
        store_id=store,
        store_scope=store,
        display_name=name,
        password_hash="x",
        active=True,
        created_at="2026-11-01T00:00:00Z",
        updated_at="2026-11-01T00:00:00Z",
    ).save()
    return username


@pytest.fixture
def people(stores, now):
    for u in ("sh-a-li", "sh-a-wang", "sh-a-zhao"):
        staff(u)
    return ("sh-a-li", "sh-a-wang", "sh-a-zhao")


def member(phone: str = "13900000077") -> str:
    from chalicelib.identity.service import register_customer

    m, _ = register_customer(phone, home_store_id="sh-a")
    return m.customer_id


def code_of(username: str) -> str:
    return distribution.my_qr(Principal(username, STORE_STAFF, "sh-a")).code


def scan(customer_id: str, username: str) -> s.StaffBindingResult:
    return distribution.bind_by_code(Principal(customer_id, CUSTOMER), code_of(username))


_n = {"order": 0}


def completed(
    customer_id: str, fen: int = 10000, at: datetime | None = None, campaigns: tuple = ()
) -> str:
    _n["order"] += 1
    order_id = f"OD{_n['order']:06d}"
    event = OrderCompleted(
        event_id=f"order.completed:{order_id}",
        occurred_at=clock.iso(at or clock.now()),
        order_id=order_id,
        customer_id=customer_id,
        store_id="sh-a",
        paid_fen=fen,
        refunded_fen=0,
        lines=[OrderLine(sku="100", qty=1, paid_fen=fen, category1="水果")],
        campaign_ids=list(campaigns),
    )
    aggregates.on_completed(event)
    _completed[order_id] = event
    return order_id


_completed: dict[str, OrderCompleted] = {}


def refund(order_id: str, refunded_total: int, at: datetime | None = None) -> None:
    e = _completed[order_id]
    view = aggregates.OrderView(
        customer_id=e.customer_id,
        status="completed",
        completed_at=e.occurred_at,
        refunded_fen=refunded_total,
        lines=[],
    )
    aggregates.on_refund(
        RefundSucceeded(
            event_id=f"refund.succeeded:R{order_id}{refunded_total}",
            occurred_at=clock.iso(at or clock.now()),
            refund_id=f"R{order_id}{refunded_total}",
            order_id=order_id,
            reason="return",
            amount_fen=refunded_total,
            delivery_fee_fen=0,
            lines=[],
            completes_order=False,
        ),
        read=lambda _id: view,
    )


def entries(username: str) -> list[tuple[str, int]]:
    got = DistributionModel.query(f"s#{username}", DistributionModel.sk.startswith("e#"))
    return sorted((str(x.kind), int(x.amount_fen)) for x in got)


def month(username: str, m: str = "2026-11") -> DistributionModel:
    return DistributionModel.get(f"m#{m}", username)


def put(**changes):
    distribution.put_settings(HQ, s.DistributionSettings(**changes))


# --- binding ---------------------------------------------------------------------------


def test_registration_through_a_staff_qr_binds_the_member_once(people, now):
    li = people[0]
    c = member()
    distribution.on_registered(c, code_of(li), clock.now_iso())
    distribution.on_registered(c, code_of(li), clock.now_iso())  # redelivered
    inv = distribution.inviter(c)
    assert inv is not None and (inv.display_name, inv.store_id) == ("李", "sh-a")
    assert int(month(li).new_members) == 1
    assert distribution.inviter(member("13900000078")) is None


def test_protection_keeps_the_first_staff_member_then_days_lets_another_take_over(people, now):
    li, wang, _ = people
    put(binding="days", binding_days=30, protection_days=7)
    c = member()
    assert scan(c, li).bound
    now["now"] = NOW + timedelta(days=6)
    got = scan(c, wang)
    assert (got.bound, got.reason) == (False, "protected")
    assert distribution.inviter(c).bound_at == clock.iso(NOW)
    now["now"] = NOW + timedelta(days=8)  # protection over: "days" lets another take it
    assert scan(c, wang).reason == "unprotected"
    now["now"] = NOW + timedelta(days=8 + 31)  # expired
    assert distribution.inviter(c) is None
    assert scan(c, li).reason == "expired"
    # li bound the member again: counted once as li's new member, wang's once
    assert (int(month(li).new_members), int(month(wang, "2026-11").new_members)) == (1, 1)


def test_a_permanent_binding_never_moves(people, now):
    li, wang, _ = people
    put(binding="permanent", protection_days=7)
    c = member()
    scan(c, li)
    now["now"] = NOW + timedelta(days=3650)
    got = scan(c, wang)
    assert (got.bound, got.reason) == (False, "permanent")
    assert int(month(li).new_members) == 1
    with pytest.raises(DistributionModel.DoesNotExist):
        month(wang)


def test_two_staff_qr_codes_claiming_a_new_member_at_once_give_one_binding(people, now):
    li, wang, zhao = people
    put(binding="days", protection_days=7)
    codes = {u: code_of(u) for u in people}
    for round_ in range(3):
        c = member(f"1390000010{round_}")
        barrier = threading.Barrier(3)
        results: dict[str, bool] = {}

        def claim(
            u: str,
            c: str = c,
            barrier: threading.Barrier = barrier,
            results: dict[str, bool] = results,
        ) -> None:
            barrier.wait()
            results[u] = distribution.bind_by_code(Principal(c, CUSTOMER), codes[u]).bound

        threads = [threading.Thread(target=claim, args=(u,)) for u in (li, wang, zhao)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(results.values()) == 1, results
        winner = next(u for u, ok in results.items() if ok)
        from chalicelib.customers.models import MemberStatsModel

        assert MemberStatsModel.get(c).distribution["b"]["staff"] == winner
    assert sum(int(month(u).new_members or 0) for u in people if _has_month(u)) == 3


def _has_month(u: str) -> bool:
    try:
        month(u)
        return True
    except DistributionModel.DoesNotExist:
        return False


# --- commission ------------------------------------------------------------------------


def test_commission_on_the_first_and_second_orders_only_and_once_per_order(people, now):
    li = people[0]
    c = member()
    scan(c, li)
    first = completed(c, 8000)
    aggregates.on_completed(_completed[first])  # redelivered: nothing twice
    completed(c, 5000)
    completed(c, 9000)  # third: none
    assert entries(li) == [("accrued", 200), ("accrued", 500)]
    m = month(li)
    assert (int(m.accrued_fen), int(m.orders), int(m.gmv_fen), int(m.ordered_members)) == (
        700,
        2,
        13000,
        1,
    )


def test_a_campaign_orders_commission_is_a_cost_of_the_campaign_once(people, now):
    """The commission of an order that spent a campaign's budget is accrued to that
    campaign (once, whatever the redeliveries); an order of no campaign charges none."""
    from chalicelib.campaign_budgets.models import CampaignModel

    CampaignModel(
        "cmp-a",
        name="双12",
        grade="S",
        starts_at=clock.iso(NOW),
        ends_at=clock.iso(NOW + timedelta(days=7)),
        starts_key="x",
        budget_fen=100000,
        left_fen=100000,
        created_by="hq",
        created_at=clock.iso(NOW),
        updated_at=clock.iso(NOW),
    ).save()
    li = people[0]
    c = member()
    scan(c, li)
    first = completed(c, 8000, campaigns=("cmp-a",))
    aggregates.on_completed(_completed[first])  # redelivered: charged once
    completed(c, 5000)  # the 2nd order is of no campaign
    got = CampaignModel.get("cmp-a")
    assert (int(got.commission_fen), int(got.left_fen)) == (500, 100000 - 500)
    assert entries(li) == [("accrued", 200), ("accrued", 500)]


def test_orders_before_the_binding_or_after_it_expired_earn_nothing(people, now):
    li = people[0]
    put(binding="days", binding_days=10, protection_days=1)
    c = member()
    completed(c, 8000, at=NOW - timedelta(days=1))  # before any binding
    scan(c, li)
    completed(c, 5000, at=NOW + timedelta(days=11))  # 2nd order, binding expired
    assert entries(li) == []


def test_rate_mode_pays_basis_points_of_what_the_order_kept(people, now):
    li = people[0]
    put(mode="rate", rate_bp=300)
    c = member()
    scan(c, li)
    completed(c, 12345)
    assert entries(li) == [("accrued", 370)]  # 3 % of 123.45, rounded down


def test_a_refund_reverses_in_full_or_in_proportion(people, now):
    li = people[0]
    c = member()
    scan(c, li)
    first = completed(c, 10000)
    second = completed(c, 10000)
    refund(first, 10000)  # all of it
    refund(first, 10000)  # redelivered
    refund(second, 2500)  # a quarter of 200
    refund(second, 5000)  # half in all: another quarter
    assert entries(li) == [
        ("accrued", 200),
        ("accrued", 500),
        ("reversed", -500),
        ("reversed", -50),
        ("reversed", -50),
    ]
    assert int(month(li).reversed_fen) == 600


def test_a_reversal_after_payout_carries_a_negative_balance(people, now):
    li = people[0]
    c = member()
    scan(c, li)
    first = completed(c, 10000)
    now["now"] = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # November's return window over
    line, replayed = distribution.payout(
        HQ, s.PayoutBody(month="2026-11", username=li, request_id="pay-nov-li")
    )
    assert (line.payable_fen, line.paid_fen, replayed) == (500, 500, False)
    assert distribution.payout(
        HQ, s.PayoutBody(month="2026-11", username=li, request_id="pay-nov-li")
    )[1]
    refund(first, 10000)  # in December, after the payout
    dec = distribution.staff_statement(HQ, li, "2026-12")
    assert (dec.line.carried_fen, dec.line.net_fen, dec.line.payable_fen) == (0, -500, -500)
    now["now"] = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    jan = distribution.staff_statement(HQ, li, "2027-01")
    assert jan.line.carried_fen == -500 and jan.line.payable_fen == -500  # never clamped


def test_pending_until_the_return_window_ends(people, now):
    li = people[0]
    c = member()
    scan(c, li)
    completed(c, 10000)
    nov = distribution.staff_statement(HQ, li, "2026-11")
    assert (nov.line.pending_fen, nov.line.payable_fen) == (500, 0)
    assert nov.entries[0].pending
    now["now"] = NOW + timedelta(days=8)
    assert distribution.staff_statement(HQ, li, "2026-11").line.payable_fen == 500


# --- two levels ------------------------------------------------------------------------


def test_level_two_goes_to_the_upline_and_never_further(people, now):
    li, wang, zhao = people
    put(level2_first_order_fen=100, level2_second_order_fen=50)
    distribution.set_upline(HQ, li, s.StaffProfileBody(upline=wang))
    with pytest.raises(ValidationFailed):  # wang has a downline: cannot get an upline
        distribution.set_upline(HQ, wang, s.StaffProfileBody(upline=zhao))
    with pytest.raises(ValidationFailed):  # li has an upline: cannot be one
        distribution.set_upline(HQ, zhao, s.StaffProfileBody(upline=li))
    with pytest.raises(ValidationFailed):  # a cycle of one
        distribution.set_upline(HQ, zhao, s.StaffProfileBody(upline=zhao))
    c = member()
    scan(c, li)
    completed(c)
    completed(c)
    assert entries(li) == [("accrued", 200), ("accrued", 500)]
    assert entries(wang) == [("accrued", 50), ("accrued", 100)]
    assert entries(zhao) == []
    # removing the upline frees wang to get one
    distribution.set_upline(HQ, li, s.StaffProfileBody(upline=None))
    distribution.set_upline(HQ, wang, s.StaffProfileBody(upline=zhao))


def test_leaderboard_and_cost_per_member(people, now):
    li, wang, _ = people
    scan(member("13900000201"), li)
    c = member("13900000202")
    scan(c, li)
    completed(c, 6000)
    scan(member("13900000203"), wang)
    board = distribution.leaderboard(HQ, s.MonthQuery(month="2026-11"))
    rows = {x.username: x for x in board.items}
    assert (rows[li].new_members, rows[li].orders, rows[li].gmv_fen) == (2, 1, 6000)
    assert rows[li].share_efficiency_bp == 5000
    assert (board.new_members, board.commission_fen, board.cost_per_member_fen) == (3, 500, 166)


# --- routes ----------------------------------------------------------------------------


def test_routes_qr_inviter_binding_settings_payout_and_store_scope(api, tokens_, people, now):
    from tests.api.conftest import token_for

    li = people[0]
    li_token = token_for(li, "store_staff", "sh-a")
    status, qr = api.call("GET", "/staff/me/distribution-qr", token=li_token)
    assert status == 200 and qr["code"] == code_of(li) and "source=" in qr["link"]
    assert api.call("GET", "/staff/me/distribution-qr", token=li_token)[1]["code"] == qr["code"]
    c = member()
    me = token_for(c, "customer")
    assert api.call("GET", "/members/me/inviter", token=me) == (200, {"inviter": None})
    status, got = api.call("POST", "/members/me/staff-binding", {"code": qr["code"]}, token=me)
    assert status == 200 and got["bound"] and got["inviter"]["display_name"] == "李"
    assert "commission" not in str(got)
    status, inv = api.call("GET", "/members/me/inviter", token=me)
    assert status == 200 and inv["inviter"]["store_id"] == "sh-a"
    status, err = api.call("POST", "/members/me/staff-binding", {"code": "NOPE1234"}, token=me)
    assert status == 422 and err["error"]["code"] == "unknown_source"
    status, cfg = api.call(
        "PUT", "/admin/distribution/settings", {"first_order_fen": 800}, token=tokens_["hq"]
    )
    assert status == 200 and cfg["first_order_fen"] == 800
    assert api.call("GET", "/admin/distribution/settings", token=tokens_["manager_a"])[0] == 403
    completed(c, 10000)
    q = "/admin/distribution/statements?month=2026-11"
    status, st = api.call("GET", q, token=tokens_["manager_a"])
    assert status == 200 and [x["username"] for x in st["items"]] == [li]
    assert st["items"][0]["pending_fen"] == 800
    assert api.call("GET", q, token=tokens_["manager_b"])[1]["items"] == []
    assert api.call("GET", q + "&store_id=sh-a", token=tokens_["manager_b"])[0] == 403
    status, _ = api.call(
        "GET", f"/admin/distribution/statements/{li}?month=2026-11", token=tokens_["manager_b"]
    )
    assert status == 403
    status, csv = api.call(
        "GET", "/admin/distribution/statements-csv?month=2026-11", token=tokens_["hq"]
    )
    assert status == 200 and f"2026-11,{li},sh-a,800,0,800,800,0,0" in csv["csv"]
    pay = {"month": "2026-11", "username": li, "request_id": "pay-2026-11-li"}
    assert (
        api.call("POST", "/admin/distribution/payouts", pay, token=tokens_["manager_a"])[0] == 403
    )
    assert api.call("POST", "/admin/distribution/payouts", pay, token=tokens_["hq"])[0] == 201
    assert api.call("POST", "/admin/distribution/payouts", pay, token=tokens_["hq"])[0] == 200
    other = dict(pay, request_id="pay-2026-11-li-again")
    status, err = api.call("POST", "/admin/distribution/payouts", other, token=tokens_["hq"])
    assert status == 409 and err["error"]["code"] == "already_paid"
    status, board = api.call(
        "GET", "/admin/distribution/leaderboard?month=2026-11", token=tokens_["manager_a"]
    )
    assert status == 200 and board["items"][0]["new_members"] == 1
    assert board["benchmark_fen"] == [3000, 3500]
    status, err = api.call(
        "PUT", f"/admin/distribution/staff/{li}", {"upline": li}, token=tokens_["hq"]
    )
    assert status == 422 and err["error"]["code"] == "distribution_levels"


# --- through the real streams ----------------------------------------------------------


def test_through_the_streams_registration_binds_and_the_first_order_earns(api, catalogue):
    """Sign-in with the staff QR code as ``source`` -> member.registered -> the binding;
    an order placed, picked short (refunded before completion) and completed ->
    order.completed -> commission on what it kept (the subscribers' wiring; redelivery
    and refunds after completion are tested above on the same handlers)."""
    from chalicelib.orders.models import OrderModel

    from tests.event_steps import deliver_events
    from tests.order_steps import complete, pick, place_paid

    li = staff("sh-a-li")
    put(mode="rate", rate_bp=1000)  # 10 % of what the order kept
    status, sent = api.call("POST", "/auth/otp", {"phone": "13900000301"})
    body = {"phone": "13900000301", "code": sent["dev_code"], "source": code_of(li)}
    status, session = api.call("POST", "/auth/otp/verify", body)
    assert status == 200, session
    c = session["customer"]["customer_id"]
    deliver_events()
    assert distribution.inviter(c) is not None
    me = Principal(c, CUSTOMER)
    order_id = place_paid([("100", 2), ("101", 1)], customer=me)
    pick(order_id, picked={"100": 2, "101": 0})  # a shortage: refunded before completion
    complete(order_id, customer=me)
    deliver_events()
    order = OrderModel.get(order_id)
    kept = int(order.paid_fen) - int(order.refunded_fen)
    assert int(order.refunded_fen) > 0
    assert entries(li) == [("accrued", kept * 1000 // 10000)]
