"""Members (issue 14 item 1): profile, addresses, consent, QR sources, ticket binding,
export and deletion, the admin list and profile."""

from __future__ import annotations

import pytest
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel

PHONE = "13912345678"
ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号 5楼",
    "lat": 31.2236,
    "lng": 121.4457,
}


def sign_in(api, phone=PHONE, **extra):
    status, sent = api.call("POST", "/auth/otp", {"phone": phone})
    assert status == 200, sent
    return api.call("POST", "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"], **extra})


@pytest.fixture
def resend(monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "OTP_RESEND_S", 0)


@pytest.fixture
def picker(stores):
    from chalicelib.identity.schemas import StaffCreate
    from chalicelib.identity.service import create_staff

    create_staff(
        StaffCreate(
            username="sh-a-li",
            password="a-long-password",
            role="store_staff",
            store_id="sh-a",
            display_name="导购 李",
        )
    )
    return "sh-a-li"


def qr(api, tokens_, **body):
    status, made = api.call("POST", "/admin/members/qr-codes", body, tokens_["hq"])
    assert status == 201, made
    return made


@pytest.fixture
def member(api, stores):
    status, body = sign_in(api)
    assert status == 200, body
    return body["customer"]["customer_id"], body["token"]


# --- source ----------------------------------------------------------------------------


def test_registering_through_a_staff_qr_records_the_source(api, tokens_, picker, resend):
    code = qr(api, tokens_, kind="staff", label="导购 李", store_id="sh-a", staff_username=picker)
    status, body = sign_in(api, source=code["code"])
    assert status == 200 and body["customer"]["new_member"] is True
    m = CustomerModel.get(body["customer"]["customer_id"])
    assert (m.source, m.source_kind, m.source_store_id, m.source_staff) == (
        code["code"],
        "staff",
        "sh-a",
        "sh-a-li",
    )
    assert m.home_store_id == "sh-a" and m.source_at and m.reg_month == m.created_at[:7]

    # A second sign-in through another QR code changes nothing.
    other = qr(api, tokens_, kind="shelf", label="B2", store_id="sh-b", shelf="B2")
    status, again = sign_in(api, source=other["code"])
    assert status == 200 and again["customer"]["new_member"] is False
    m2 = CustomerModel.get(m.customer_id)
    assert (m2.source, m2.source_kind, m2.home_store_id) == (code["code"], "staff", "sh-a")


def test_an_unknown_qr_code_is_422_and_the_code_stays_usable(api, stores):
    status, sent = api.call("POST", "/auth/otp", {"phone": PHONE})
    body = {"phone": PHONE, "code": sent["dev_code"]}
    status, err = api.call("POST", "/auth/otp/verify", {**body, "source": "NOPE2345"})
    assert status == 422 and err["error"]["code"] == "unknown_source"
    status, ok = api.call("POST", "/auth/otp/verify", body)
    assert status == 200 and ok["customer"]["new_member"] is True


def test_qr_codes_check_their_parameters(api, tokens_, picker):
    bad = [
        {"kind": "shelf", "label": "x", "store_id": "sh-a"},  # no shelf
        {"kind": "store", "label": "x", "store_id": "sh-a", "shelf": "A1"},  # shelf not used
        {"kind": "staff", "label": "x", "store_id": "sh-b", "staff_username": picker},
        {"kind": "campaign", "label": "x"},
        {"kind": "robot", "label": "x"},
    ]
    for body in bad:
        status, err = api.call("POST", "/admin/members/qr-codes", body, tokens_["hq"])
        assert status == 422, (body, err)
    status, err = api.call(
        "POST",
        "/admin/members/qr-codes",
        {"kind": "store", "label": "x", "store_id": "sh-zz"},
        tokens_["hq"],
    )
    assert status == 404
    qr(api, tokens_, kind="store", label="A", store_id="sh-a")
    qr(api, tokens_, kind="store", label="B", store_id="sh-b")
    status, mine = api.call("GET", "/admin/members/qr-codes", token=tokens_["manager_a"])
    assert status == 200 and [q["store_id"] for q in mine["items"]] == ["sh-a"]
    status, err = api.call(
        "GET", "/admin/members/qr-codes?store_id=sh-b", token=tokens_["manager_a"]
    )
    assert status == 403 and err["error"]["code"] == "other_store"
    status, every = api.call("GET", "/admin/members/qr-codes", token=tokens_["hq"])
    assert len(every["items"]) == 2


def test_creating_a_qr_code_is_audited(api, tokens_, stores):
    from chalicelib.audit.models import AuditEntryModel

    made = qr(api, tokens_, kind="store", label="门口", store_id="sh-a")
    entries = [e for e in AuditEntryModel.scan() if e.target_id == made["code"]]
    assert [(e.action, e.actor) for e in entries] == [("member_qr.create", "hq-admin")]


# --- ticket ----------------------------------------------------------------------------


def test_a_ticket_token_registers_and_binds_to_its_store(api, stores):
    from chalicelib.members.sources import ticket_qr_payload

    payload = ticket_qr_payload("sh-b", "261124ABCDEFGH")
    token = payload.split("ticket=", 1)[1]
    status, body = sign_in(api, source=token)
    assert status == 200
    m = CustomerModel.get(body["customer"]["customer_id"])
    assert (m.source_kind, m.source_store_id, m.source_order_id, m.home_store_id) == (
        "ticket",
        "sh-b",
        "261124ABCDEFGH",
        "sh-b",
    )
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    status, err = sign_in(api, phone="13912340000", source=forged)
    assert status == 422 and err["error"]["code"] == "unknown_source"


def test_bind_ticket_sets_only_a_missing_home_store(api, member):
    from chalicelib.members.sources import ticket_qr_payload

    _customer_id, token = member
    tk = ticket_qr_payload("sh-b", "261124ABCDEFGH").split("ticket=", 1)[1]
    status, bound = api.call("POST", "/members/me/bind-ticket", {"token": tk}, token)
    assert status == 200 and bound == {
        "home_store_id": "sh-b",
        "bound": True,
        "source_kind": "ticket",  # registered just now with no source: the ticket brought them
    }
    other = ticket_qr_payload("sh-a", "261124ZZZZZZZZ").split("ticket=", 1)[1]
    status, again = api.call("POST", "/members/me/bind-ticket", {"token": other}, token)
    assert status == 200 and again["home_store_id"] == "sh-b" and again["bound"] is False
    status, err = api.call("POST", "/members/me/bind-ticket", {"token": tk + "x"}, token)
    assert status == 422 and err["error"]["code"] == "bad_ticket"
    status, err = api.call("POST", "/members/me/bind-ticket", {}, token)
    assert status == 422


def test_bind_ticket_by_order_code_needs_your_own_order(api, member):
    _, token = member
    status, err = api.call(
        "POST", "/members/me/bind-ticket", {"order_code": "261124ABCDEFGH"}, token
    )
    assert status == 404 and err["error"]["code"] == "order_not_found"


# --- profile ---------------------------------------------------------------------------


def test_profile_read_and_change(api, member):
    customer_id, token = member
    status, me = api.call("GET", "/members/me", token=token)
    assert status == 200 and me["customer_id"] == customer_id and me["birthday"] is None
    change = {"nickname": "小王", "birthday": "02-29", "gender": "female"}
    status, me = api.call("PATCH", "/members/me", change, token)
    assert status == 200 and (me["nickname"], me["birthday"], me["gender"]) == (
        "小王",
        "02-29",
        "female",
    )
    status, err = api.call("PATCH", "/members/me", {"birthday": "03-01"}, token)
    assert status == 409 and err["error"]["code"] == "birthday_locked"
    status, me = api.call("PATCH", "/members/me", {"birthday": "02-29", "gender": None}, token)
    assert status == 200 and me["gender"] is None


@pytest.mark.parametrize("birthday", ["02-30", "13-01", "00-10", "04-31", "2-3", "1990-01-01"])
def test_a_bad_birthday_is_422_and_nothing_written(api, member, birthday):
    customer_id, token = member
    status, _err = api.call("PATCH", "/members/me", {"birthday": birthday, "nickname": "x"}, token)
    assert status == 422
    m = CustomerModel.get(customer_id)
    assert m.birthday is None and m.nickname is None


def test_bad_profile_fields_are_422(api, member):
    _, token = member
    for body in ({"gender": "robot"}, {"nickname": ""}, {"nickname": "x" * 31}, {"phone": "1"}):
        status, _ = api.call("PATCH", "/members/me", body, token)
        assert status == 422, body


# --- addresses -------------------------------------------------------------------------


def test_addresses_add_list_update_delete(api, member):
    _, token = member
    status, first = api.call("POST", "/members/me/addresses", ADDRESS, token)
    assert status == 201 and first["default"] is True
    status, second = api.call(
        "POST", "/members/me/addresses", {**ADDRESS, "label": "公司", "lat": 31.24}, token
    )
    assert status == 201 and second["default"] is False
    status, changed = api.call(
        "PATCH",
        f"/members/me/addresses/{second['address_id']}",
        {"line": "世纪大道100号", "default": True},
        token,
    )
    assert status == 200 and changed["line"] == "世纪大道100号" and changed["default"] is True
    status, listed = api.call("GET", "/members/me/addresses", token=token)
    assert [a["default"] for a in listed["items"] if a["address_id"] == first["address_id"]] == [
        False
    ]
    status, _ = api.call("DELETE", f"/members/me/addresses/{second['address_id']}", token=token)
    assert status == 204
    status, listed = api.call("GET", "/members/me/addresses", token=token)
    assert [a["address_id"] for a in listed["items"]] == [first["address_id"]]
    status, _err = api.call("DELETE", f"/members/me/addresses/{second['address_id']}", token=token)
    assert status == 404


@pytest.mark.parametrize(
    "coords",
    [{"lat": 0, "lng": 0}, {"lat": 121.4, "lng": 31.2}, {"lat": 91, "lng": 121}, {"lat": "x"}],
)
def test_bad_coordinates_are_422(api, member, coords):
    customer_id, token = member
    status, _ = api.call("POST", "/members/me/addresses", {**ADDRESS, **coords}, token)
    assert status == 422
    assert CustomerModel.get(customer_id).address_count is None


def test_at_most_twenty_addresses(api, member):
    customer_id, token = member
    for _ in range(20):
        status, _ = api.call("POST", "/members/me/addresses", ADDRESS, token)
        assert status == 201
    status, err = api.call("POST", "/members/me/addresses", ADDRESS, token)
    assert status == 409 and err["error"]["code"] == "too_many_addresses"
    status, listed = api.call("GET", "/members/me/addresses", token=token)
    assert len(listed["items"]) == 20 and CustomerModel.get(customer_id).address_count == 20


def test_concurrent_adds_never_pass_the_cap(member):
    """Twenty-five racing adds on a fresh member: exactly twenty are kept."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.kernel.errors import Conflict
    from chalicelib.members import schemas as s
    from chalicelib.members import service
    from chalicelib.members.models import MemberAddressModel

    customer_id, _ = member
    body = s.AddressIn(**ADDRESS)

    def add(_):
        try:
            service.add_address(customer_id, body)
            return True
        except Conflict:
            return False

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(add, range(25)))
    assert results.count(True) == 20
    assert len(list(MemberAddressModel.query(customer_id))) == 20


# --- consent ---------------------------------------------------------------------------


def test_consent_changes_are_kept_with_time_and_channel(api, member):
    customer_id, token = member
    status, state = api.call("GET", "/members/me/consent", token=token)
    assert status == 200 and state["marketing_consent"] is None and state["history"] == []
    api.call("PUT", "/members/me/consent", {"granted": True, "channel": "ticket_qr"}, token)
    status, state = api.call("PUT", "/members/me/consent", {"granted": False}, token)
    assert status == 200 and state["marketing_consent"] == "revoked"
    assert [(h["granted"], h["channel"]) for h in state["history"]] == [
        (True, "ticket_qr"),
        (False, "storefront"),
    ]
    assert CustomerModel.get(customer_id).marketing_consent == "revoked"
    status, _ = api.call("PUT", "/members/me/consent", {"granted": True, "channel": "admin"}, token)
    assert status == 422


# --- export and delete -----------------------------------------------------------------


def test_export_contains_the_members_data(api, member):
    customer_id, token = member
    api.call("PATCH", "/members/me", {"nickname": "小王", "birthday": "03-15"}, token)
    api.call("POST", "/members/me/addresses", ADDRESS, token)
    api.call("PUT", "/members/me/consent", {"granted": True}, token)
    status, data = api.call("GET", "/members/me/export", token=token)
    assert status == 200
    assert data["profile"]["customer_id"] == customer_id
    assert data["profile"]["phone_masked"] == PHONE  # their own data, in full
    assert data["profile"]["birthday"] == "03-15"
    assert data["addresses"][0]["line"] == ADDRESS["line"]
    assert [h["granted"] for h in data["consent_history"]] == [True]
    assert set(data["sections"]) >= {"orders", "coupons", "points", "level", "stored_value"}


def test_export_carries_the_points_and_stored_value_ledgers(api, member):
    from chalicelib.loyalty import points

    customer_id, token = member
    points.award(
        customer_id,
        30,
        ref="test:export",
        kind="adjust",
        reason="welcome",
        occurred_at="2026-12-01T00:00:00Z",
    )
    status, data = api.call("GET", "/members/me/export", token=token)
    assert status == 200
    ledger = data["sections"]["points"]
    assert ledger["balance"]["spendable"] == 30
    assert [e["delta"] for e in ledger["entries"]] == [30]
    assert data["sections"]["stored_value"]["entries"] == []
    assert data["sections"]["level"]["level"]


def test_delete_erases_and_the_phone_registers_anew(api, member, resend):
    customer_id, token = member
    api.call("PATCH", "/members/me", {"nickname": "小王", "birthday": "03-15"}, token)
    api.call("POST", "/members/me/addresses", ADDRESS, token)
    status, _err = api.call("DELETE", "/members/me", {"confirm": "yes"}, token)
    assert status == 422 and CustomerModel.get(customer_id).erased_at is None
    status, gone = api.call("DELETE", "/members/me", {"confirm": "DELETE"}, token)
    assert status == 200 and gone["deleted"] is True
    m = CustomerModel.get(customer_id)
    assert m.erased_at and m.phone == "" and m.nickname is None and m.birthday is None
    assert m.marketing_consent == "revoked" and m.address_count is None
    from chalicelib.members.models import MemberAddressModel

    assert list(MemberAddressModel.query(customer_id)) == []
    with pytest.raises(CustomerPhoneModel.DoesNotExist):
        CustomerPhoneModel.get(PHONE)
    # The old token no longer works.
    status, _ = api.call("GET", "/members/me", token=token)
    assert status == 401
    # Deleting again (a retry) is harmless.
    from chalicelib.members.privacy import delete_account

    assert delete_account(customer_id).erased_at == gone["erased_at"]
    # The phone registers again, as a new member.
    status, again = sign_in(api)
    assert status == 200 and again["customer"]["new_member"] is True
    assert again["customer"]["customer_id"] != customer_id


def test_delete_anonymises_order_addresses(aws):
    from chalicelib.identity.service import register_customer
    from chalicelib.members.privacy import delete_account
    from chalicelib.orders.models import AddressAttribute, OrderDetailModel, OrderModel

    m, _ = register_customer(PHONE)
    for i, with_address in enumerate((True, False)):
        oid = f"261124ORDER00{i}"
        OrderModel(
            oid,
            customer_id=m.customer_id,
            store_id="sh-a",
            fulfilment="delivery" if with_address else "pickup",
            status="completed",
            store_day="sh-a#2026-11-24",
            total_fen=1234,
            paid_fen=1234,
            expires_at="2026-11-24T00:15:00Z",
            created_at=f"2026-11-24T00:0{i}:00Z",
            updated_at="2026-11-24T00:00:00Z",
        ).save()
        OrderDetailModel(
            oid,
            address=AddressAttribute(
                name="王女士", phone=PHONE, line="南京西路1618号", lat=31.2, lng=121.4
            )
            if with_address
            else None,
            remark="打电话 13912345678",
            lines=[],
            subtotal_fen=1234,
        ).save()
    delete_account(m.customer_id)
    d0 = OrderDetailModel.get("261124ORDER000")
    assert (d0.address.name, d0.address.phone, d0.address.line, d0.address.lat) == (
        "已注销",
        "",
        "已注销",
        0,
    )
    assert d0.remark is None and OrderDetailModel.get("261124ORDER001").remark is None
    assert OrderModel.get("261124ORDER000").total_fen == 1234  # amounts kept


# --- admin -----------------------------------------------------------------------------


@pytest.fixture
def many(api, tokens_, stores, resend):
    """Three members: two of sh-a (one through a shelf QR), one of sh-b."""
    shelf = qr(api, tokens_, kind="shelf", label="A3", store_id="sh-a", shelf="A3")
    store_b = qr(api, tokens_, kind="store", label="B", store_id="sh-b")
    ids = []
    for phone, source in (
        ("13900000001", shelf["code"]),
        ("13900000002", None),
        ("13900000003", store_b["code"]),
    ):
        _, body = sign_in(api, phone=phone, **({"source": source} if source else {}))
        ids.append(body["customer"]["customer_id"])
    CustomerModel(ids[1]).update(actions=[CustomerModel.home_store_id.set("sh-a")])
    return ids


def test_admin_list_for_head_office_and_managers(api, tokens_, many):
    status, page = api.call("GET", "/admin/members", token=tokens_["hq"])
    assert status == 200 and {r["customer_id"] for r in page["items"]} == set(many)
    assert {r["phone"] for r in page["items"]} >= {"13900000001"}
    status, page = api.call("GET", "/admin/members", token=tokens_["manager_a"])
    assert status == 200 and {r["customer_id"] for r in page["items"]} == set(many[:2])
    assert all("****" in r["phone"] for r in page["items"])
    status, err = api.call("GET", "/admin/members?store_id=sh-b", token=tokens_["manager_a"])
    assert status == 403 and err["error"]["code"] == "other_store"
    status, page = api.call("GET", "/admin/members?source_kind=shelf", token=tokens_["hq"])
    assert [r["customer_id"] for r in page["items"]] == [many[0]]


def test_admin_search_by_phone(api, tokens_, many):
    status, page = api.call("GET", "/admin/members?phone=13900000003", token=tokens_["hq"])
    assert status == 200 and [r["customer_id"] for r in page["items"]] == [many[2]]
    # a manager does not find another store's member
    status, page = api.call("GET", "/admin/members?phone=13900000003", token=tokens_["manager_a"])
    assert status == 200 and page["items"] == []
    status, page = api.call("GET", "/admin/members?phone=13900000009", token=tokens_["hq"])
    assert page["items"] == []
    status, _ = api.call("GET", "/admin/members?phone=123", token=tokens_["hq"])
    assert status == 422


def test_admin_list_pages_with_a_cursor_and_no_scan(api, tokens_, many, aws_calls):
    status, first = api.call("GET", "/admin/members?limit=2", token=tokens_["hq"])
    assert status == 200 and len(first["items"]) == 2 and first["next_cursor"]
    status, second = api.call(
        "GET", f"/admin/members?limit=2&cursor={first['next_cursor']}", token=tokens_["hq"]
    )
    assert status == 200
    seen = [r["customer_id"] for r in first["items"] + second["items"]]
    assert sorted(seen) == sorted(many)
    assert "Scan" not in aws_calls
    status, err = api.call("GET", "/admin/members?cursor=bm9wZQ", token=tokens_["hq"])
    assert status == 400 and err["error"]["code"] == "bad_cursor"


def test_admin_list_registered_between(api, tokens_, many):
    status, page = api.call(
        "GET",
        "/admin/members?registered_from=2020-01-01&registered_to=2020-01-31",
        token=tokens_["hq"],
    )
    assert status == 200 and page["items"] == []
    for bad in ("registered_from=2020-01-01&registered_to=2026-01-01", "registered_from=2020-13"):
        status, _ = api.call("GET", f"/admin/members?{bad}", token=tokens_["hq"])
        assert status == 422, bad


def test_admin_member_profile(api, tokens_, many):
    status, detail = api.call("GET", f"/admin/members/{many[0]}", token=tokens_["hq"])
    assert status == 200 and detail["source"]["kind"] == "shelf"
    assert detail["source"]["shelf"] == "A3" and detail["phone"] == "13900000001"
    assert detail["recent_orders"] == [] and detail["coupons"] == []
    status, detail = api.call("GET", f"/admin/members/{many[0]}", token=tokens_["manager_a"])
    assert status == 200 and detail["phone"] == "139****0001"
    status, err = api.call("GET", f"/admin/members/{many[2]}", token=tokens_["manager_a"])
    assert status == 403 and err["error"]["code"] == "other_store"
    status, _ = api.call("GET", "/admin/members/c-nobody", token=tokens_["hq"])
    assert status == 404


def test_first_paid_order_sets_a_missing_home_store(aws):
    from chalicelib.events.types import OrderPaid
    from chalicelib.identity.service import register_customer
    from chalicelib.members.subscribers import home_store

    m, _ = register_customer(PHONE)
    event = OrderPaid(
        event_id="order.paid:o1",
        occurred_at="2026-11-24T00:00:00Z",
        order_id="o1",
        customer_id=m.customer_id,
        store_id="sh-b",
        fulfilment="delivery",
        paid_fen=100,
        payment_id=None,
        lines=[],
        coupon_ids=[],
    )
    home_store(event)
    home_store(msgspec_replace(event, store_id="sh-a"))
    assert CustomerModel.get(m.customer_id).home_store_id == "sh-b"


def msgspec_replace(struct, **changes):
    import msgspec

    return msgspec.structs.replace(struct, **changes)


def test_the_demo_data_seeds_qr_codes_and_members_through_them(aws, monkeypatch):
    """What `./daojia up` seeds (infra/local/seed.py), through the functions it calls; a
    second run changes nothing."""
    from chalicelib.kernel import config
    from chalicelib.members.models import MemberQrCodeModel

    from infra.local import seed

    monkeypatch.setattr(config, "is_local", lambda: True)
    report = seed.seed()
    assert report.member_qr_codes.created == 6
    kinds = {q.kind for q in MemberQrCodeModel.by_created.query("qr")}
    assert kinds == {"store", "shelf", "staff"}
    staff_member = CustomerModel.get("c-demo-26")
    assert (staff_member.source_kind, staff_member.source_staff, staff_member.home_store_id) == (
        "staff",
        "sh-jingan-staff",
        "sh-jingan",
    )
    assert (staff_member.birthday, staff_member.marketing_consent) == ("11-08", "revoked")
    assert CustomerModel.get("c-demo-25").source_shelf == "A3"
    assert CustomerModel.get("c-demo-01").source_kind == "store"
    invited = CustomerModel.get("c-demo-28")
    assert (invited.source_kind, invited.invited_by) == ("invite", "c-demo-26")
    assert seed.seed().all_unchanged
