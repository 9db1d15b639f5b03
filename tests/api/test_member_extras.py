"""Members, issue 14 leftovers: invite a friend, the admin list's level filter, QR codes
that can be switched off (with their registration counts), the join link in config."""

from __future__ import annotations

import pytest
from chalicelib.identity.models import CustomerModel

from tests.api.test_members import qr, sign_in


@pytest.fixture
def resend(monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "OTP_RESEND_S", 0)


# --- the join link ---------------------------------------------------------------------


def test_the_ticket_qr_link_comes_from_configuration(aws, monkeypatch):
    from chalicelib.kernel import config
    from chalicelib.members.sources import ticket_qr_payload

    default = ticket_qr_payload("sh-b", "261124ABCDEFGH")
    assert default.startswith("https://m.daojia.example/join?ticket=tk1.sh-b.261124ABCDEFGH.")
    monkeypatch.setattr(config, "MEMBER_JOIN_URL", "https://shop.example.cn/m/join?from=qr")
    link = ticket_qr_payload("sh-b", "261124ABCDEFGH")
    assert link.startswith("https://shop.example.cn/m/join?from=qr&ticket=tk1.sh-b.")
    assert link.split("ticket=", 1)[1] == default.split("ticket=", 1)[1]


# --- invite a friend -------------------------------------------------------------------


def _invite_of(api, token):
    status, body = api.call("GET", "/members/me/invite", token=token)
    assert status == 200, body
    return body


def test_a_friend_registered_through_an_invite_rewards_the_inviter_once(api, stores, resend):
    from chalicelib.loyalty import growth, points

    from tests.event_steps import deliver_events

    status, a = sign_in(api, phone="13900000001")
    assert status == 200
    inviter = a["customer"]["customer_id"]
    invite = _invite_of(api, a["token"])
    assert invite == _invite_of(api, a["token"])  # the same code every time
    assert invite["link"] == f"https://m.daojia.example/join?invite={invite['code']}"

    status, b = sign_in(api, phone="13900000002", source=invite["code"])
    assert status == 200 and b["customer"]["new_member"] is True
    friend = CustomerModel.get(b["customer"]["customer_id"])
    assert (friend.source_kind, friend.invited_by, friend.source) == (
        "invite",
        inviter,
        f"invite:{inviter}",
    )
    assert friend.home_store_id is None

    deliver_events()
    deliver_events()  # every event again (a redelivery): rewarded once
    assert points.balance(inviter).spendable == 100
    assert growth.my_level(inviter).growth == 30
    status, mine = api.call("GET", "/members/me/tasks", token=a["token"])
    invite_task = next(t for t in mine["items"] if t["kind"] == "invite")
    assert invite_task["progress"] == 1

    # the friend's export and head office's profile say who invited them
    status, export = api.call("GET", "/members/me/export", token=b["token"])
    assert export["source"]["kind"] == "invite" and export["source"]["invited_by"] == inviter

    # signing in again with another invitation changes nothing: recorded once
    status, c = sign_in(api, phone="13900000003")
    status, _ = sign_in(api, phone="13900000002", source=_invite_of(api, c["token"])["code"])
    assert status == 200 and CustomerModel.get(friend.customer_id).invited_by == inviter


def test_the_registered_event_carries_the_inviter_and_a_replay_rewards_once(aws):
    from chalicelib.events.types import MemberRegistered
    from chalicelib.kernel import clock
    from chalicelib.loyalty import points, programme_subscribers

    CustomerModel(customer_id="c-1", phone="13800000001", created_at=clock.now_iso()).save()
    event = MemberRegistered(
        event_id="member.registered:c-2",
        occurred_at=clock.now_iso(),
        customer_id="c-2",
        source="invite:c-1",
        home_store_id=None,
        invited_by="c-1",
    )
    programme_subscribers.tasks_on_registration(event)
    programme_subscribers.tasks_on_registration(event)
    assert points.balance("c-1").spendable == 100


def test_own_and_unknown_invitations_are_422_and_the_code_stays_usable(api, stores, resend):
    from chalicelib.identity.models import CustomerPhoneModel

    status, a = sign_in(api, phone="13900000001")
    code = _invite_of(api, a["token"])["code"]
    _, sent = api.call("POST", "/auth/otp", {"phone": "13900000001"})
    body = {"phone": "13900000001", "code": sent["dev_code"]}
    status, err = api.call("POST", "/auth/otp/verify", {**body, "source": code})
    assert status == 422 and err["error"]["code"] == "self_invite"
    assert api.call("POST", "/auth/otp/verify", body)[0] == 200  # the code was not used up

    inviter = a["customer"]["customer_id"]
    forged = [
        code[:-4] + ("0000" if not code.endswith("0000") else "1111"),  # wrong MAC
        code.replace(inviter, "c-0000000000000000"),  # another member's id, same MAC
        "iv1.nobody",
        "iv1..x",
    ]
    for i, bad in enumerate(forged):
        phone = f"1390000010{i}"
        status, err = sign_in(api, phone=phone, source=bad)
        assert status == 422 and err["error"]["code"] == "unknown_source", bad
        with pytest.raises(CustomerPhoneModel.DoesNotExist):
            CustomerPhoneModel.get(phone)

    # an inviter who deleted their account invites nobody
    assert api.call("DELETE", "/members/me", {"confirm": "DELETE"}, a["token"])[0] == 200
    status, err = sign_in(api, phone="13900000002", source=code)
    assert status == 422 and err["error"]["code"] == "unknown_source"


def test_an_inviter_leaving_during_the_registration_writes_nothing(aws):
    from chalicelib.auth import tokens
    from chalicelib.identity.models import CustomerPhoneModel
    from chalicelib.identity.service import register_customer, resolve_source
    from chalicelib.kernel.errors import ValidationFailed
    from chalicelib.members import privacy, rules

    inviter, _ = register_customer("13900000001")
    code = rules.invite_code(tokens.signing_key(), inviter.customer_id)
    attrs = resolve_source(code, phone="13900000002")
    privacy.delete_account(inviter.customer_id)  # between the check and the write
    with pytest.raises(ValidationFailed) as err:
        register_customer("13900000002", source_attrs=attrs)
    assert err.value.code == "unknown_source"
    with pytest.raises(CustomerPhoneModel.DoesNotExist):
        CustomerPhoneModel.get("13900000002")
    assert [m.customer_id for m in CustomerModel.scan()] == [inviter.customer_id]


# --- QR codes switched off, and their counts -------------------------------------------


def test_a_switched_off_qr_code_registers_nobody_and_counts_its_members(
    api, tokens_, stores, resend
):
    from chalicelib.audit.models import AuditEntryModel

    made = qr(api, tokens_, kind="store", label="门口", store_id="sh-a")
    code = made["code"]
    assert made["registered"] == 0 and made["active"] is True
    assert made["link"] == f"https://m.daojia.example/join?source={code}"
    assert sign_in(api, phone="13900000001", source=code)[0] == 200
    assert sign_in(api, phone="13900000001", source=code)[0] == 200  # not new: not counted

    status, off = api.call(
        "PATCH", f"/admin/members/qr-codes/{code}", {"active": False}, tokens_["hq"]
    )
    assert status == 200 and off["active"] is False and off["registered"] == 1
    assert off["updated_by"] == "hq-admin"
    status, err = sign_in(api, phone="13900000002", source=code)
    assert status == 422 and err["error"]["code"] == "unknown_source"
    # the member it brought keeps their source
    status, page = api.call("GET", "/admin/members?source_kind=store", token=tokens_["hq"])
    assert [r["phone"] for r in page["items"]] == ["13900000001"]

    status, on = api.call(
        "PATCH", f"/admin/members/qr-codes/{code}", {"active": True}, tokens_["hq"]
    )
    assert status == 200 and on["active"] is True
    assert sign_in(api, phone="13900000002", source=code)[0] == 200
    status, listed = api.call("GET", "/admin/members/qr-codes", token=tokens_["manager_a"])
    assert [(q["code"], q["registered"], q["active"]) for q in listed["items"]] == [(code, 2, True)]

    # setting what is already set is no change (nothing audited)
    assert (
        api.call("PATCH", f"/admin/members/qr-codes/{code}", {"active": True}, tokens_["hq"])[0]
        == 200
    )
    entries = [e for e in AuditEntryModel.scan() if e.target_id == code]
    assert sorted(e.action for e in entries) == ["member_qr.create"] + ["member_qr.update"] * 2


def test_switching_a_qr_code_is_head_office_only_and_checks_its_input(api, tokens_, stores):
    from chalicelib.members.models import MemberQrCodeModel

    code = qr(api, tokens_, kind="store", label="门口", store_id="sh-a")["code"]
    path = f"/admin/members/qr-codes/{code}"
    for role in ("manager_a", "staff_a", "customer"):
        assert api.call("PATCH", path, {"active": False}, tokens_[role])[0] == 403
    for bad in ({}, {"active": "no"}, {"active": None}, {"active": False, "label": "x"}):
        assert api.call("PATCH", path, bad, tokens_["hq"])[0] in (400, 422), bad
    status, err = api.call(
        "PATCH", "/admin/members/qr-codes/NOPE2345", {"active": False}, tokens_["hq"]
    )
    assert status == 404 and err["error"]["code"] == "qr_code_not_found"
    assert MemberQrCodeModel.get(code).active is True
    with pytest.raises(MemberQrCodeModel.DoesNotExist):
        MemberQrCodeModel.get("NOPE2345")  # the 404 created nothing


def test_a_code_switched_off_during_a_registration_writes_nothing(api, tokens_, stores):
    from chalicelib.identity.models import CustomerPhoneModel
    from chalicelib.identity.service import register_customer, resolve_source
    from chalicelib.kernel.errors import ValidationFailed
    from chalicelib.members.models import MemberQrCodeModel

    code = qr(api, tokens_, kind="store", label="门口", store_id="sh-a")["code"]
    attrs = resolve_source(code, phone="13900000001")  # still active here
    assert (
        api.call("PATCH", f"/admin/members/qr-codes/{code}", {"active": False}, tokens_["hq"])[0]
        == 200
    )
    with pytest.raises(ValidationFailed) as err:
        register_customer("13900000001", source_attrs=attrs)
    assert err.value.code == "unknown_source"
    with pytest.raises(CustomerPhoneModel.DoesNotExist):
        CustomerPhoneModel.get("13900000001")
    assert list(CustomerModel.scan()) == [] and not MemberQrCodeModel.get(code).registered


# --- the level filter ------------------------------------------------------------------


@pytest.fixture
def levelled(api, tokens_, stores, resend):
    """Three members: one of sh-a at V3, one of sh-a at V1 (registered, no growth), one
    of sh-b at V3; the events delivered as the worker does."""
    from chalicelib.loyalty import growth

    from tests.event_steps import deliver_events

    ids = []
    for phone in ("13900000001", "13900000002", "13900000003"):
        _, body = sign_in(api, phone=phone)
        ids.append(body["customer"]["customer_id"])
    for cid, store in zip(ids, ("sh-a", "sh-a", "sh-b"), strict=True):
        CustomerModel(cid).update(actions=[CustomerModel.home_store_id.set(store)])
    growth.add_growth(ids[0], 2500, ref="task:seed:once", kind="task", reason="seed")
    deliver_events()  # member.registered: the lowest level for the ones without growth
    growth.add_growth(ids[2], 2100, ref="task:seed:once", kind="task", reason="seed")
    return ids


def test_the_level_is_copied_onto_the_member_in_the_level_change(levelled):
    a, b, c = (CustomerModel.get(cid) for cid in levelled)
    # the registration's copy (V1) did not overwrite the level growth wrote before it
    assert (a.level, b.level, c.level) == ("V3", "V1", "V3")


def test_the_admin_list_filters_by_level_without_a_scan(api, tokens_, levelled, aws_calls):
    status, page = api.call("GET", "/admin/members?level=V3", token=tokens_["hq"])
    assert status == 200
    # newest first (registered within the same second here: order not asserted)
    assert sorted(r["customer_id"] for r in page["items"]) == sorted([levelled[2], levelled[0]])
    assert {r["level"] for r in page["items"]} == {"V3"}
    status, page = api.call("GET", "/admin/members", token=tokens_["hq"])
    assert {r["customer_id"]: r["level"] for r in page["items"]} == dict(
        zip(levelled, ("V3", "V1", "V3"), strict=True)
    )
    status, page = api.call("GET", "/admin/members?level=V3&limit=1", token=tokens_["hq"])
    assert len(page["items"]) == 1 and page["next_cursor"]
    status, more = api.call(
        "GET", f"/admin/members?level=V3&limit=1&cursor={page['next_cursor']}", token=tokens_["hq"]
    )
    both = {page["items"][0]["customer_id"], more["items"][0]["customer_id"]}
    assert both == {levelled[0], levelled[2]}
    # a cursor of one level does not page another
    status, err = api.call(
        "GET", f"/admin/members?level=V1&limit=1&cursor={page['next_cursor']}", token=tokens_["hq"]
    )
    assert status == 400 and err["error"]["code"] == "bad_cursor"
    # a store manager: their store's members at that level; by phone too
    status, page = api.call("GET", "/admin/members?level=V3", token=tokens_["manager_a"])
    assert [r["customer_id"] for r in page["items"]] == [levelled[0]]
    status, page = api.call("GET", "/admin/members?level=V1&phone=13900000001", token=tokens_["hq"])
    assert page["items"] == []
    status, page = api.call("GET", "/admin/members?level=V5", token=tokens_["hq"])
    assert page["items"] == []
    assert "Scan" not in aws_calls


@pytest.mark.parametrize("bad", ["V3;drop", "", "x" * 21, "V%203"])
def test_a_bad_level_is_422(api, tokens_, stores, bad):
    status, _ = api.call("GET", f"/admin/members?level={bad}", token=tokens_["hq"])
    assert status == 422


def test_a_downgrade_and_an_erasure_follow_on_the_member_item(api, tokens_, levelled):
    from datetime import timedelta

    from chalicelib.kernel import clock
    from chalicelib.loyalty import growth
    from chalicelib.members import privacy

    _, current = api.call("GET", "/admin/loyalty/levels", token=tokens_["hq"])
    current["downgrade"] = {"mode": "recent_growth", "months": 1, "notice_days": 7}
    assert api.call("PUT", "/admin/loyalty/levels", current, tokens_["hq"])[0] == 200
    growth.add_growth(levelled[1], 600, ref="task:x:once", kind="task", reason="x")  # V2
    assert CustomerModel.get(levelled[1]).level == "V2"
    start = clock.now()
    for days in (40, 48):
        at = start + timedelta(days=days)
        growth.review_levels(clock.iso(at))
    assert growth.my_level(levelled[1]).level.code == "V1"
    assert CustomerModel.get(levelled[1]).level == "V1"

    privacy.delete_account(levelled[0])
    assert CustomerModel.get(levelled[0]).level is None  # out of the level index
    # growth for an erased member (a late refund) does not put them back
    growth.add_growth(levelled[0], 5000, ref="task:y:once", kind="task", reason="y")
    assert CustomerModel.get(levelled[0]).level is None
    assert growth.my_level(levelled[0]).level.code == "V4"


def test_growth_of_a_member_without_an_item_creates_none(aws):
    from chalicelib.loyalty import growth

    assert growth.add_growth("c-ghost", 600, ref="task:x:once", kind="task", reason="x")
    assert list(CustomerModel.scan()) == []
    assert growth.set_initial_level("c-ghost") is False
