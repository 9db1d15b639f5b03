"""Sessions end when access ends (issue 11, item 3) and sign-in lockout cannot be turned
against someone else (item 4): revocation through the token generation checked by the
authorizer, unlock, sign out everywhere, no self-disable, lockout per account and address."""

from __future__ import annotations

import pytest
from chalice.local import LambdaEventConverter
from chalicelib.auth import sessions
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.identity.models import StaffModel
from chalicelib.printing.models import PrintJobModel

from tests.order_steps import place_paid

PICKER = ("sh-a-picker", "picker-password-1")
MANAGER = ("sh-a-boss", "manager-password-1")


def _create(username, password, role, store_id="sh-a"):
    from chalicelib.identity.schemas import StaffCreate
    from chalicelib.identity.service import create_staff

    create_staff(
        StaffCreate(
            username=username,
            password=password,
            role=role,
            store_id=store_id,
            display_name="拣货员 李" if role == "store_staff" else "店长 王",
        )
    )


@pytest.fixture
def accounts(catalogue):
    _create(*PICKER, "store_staff")
    _create(*MANAGER, "store_manager")


def login(api, who, password=None, ip=None, monkeypatch=None):
    if ip is not None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)
    username, default = who
    return api.call("POST", "/auth/login", {"username": username, "password": password or default})


def token_of(api, who):
    status, body = login(api, who)
    assert status == 200, body
    return body["token"]


def refused(api, method, path, token, body=None, code="token_revoked"):
    status, answer = api.call(method, path, body, token)
    assert status == 401, (path, status, answer)
    assert answer["error"]["code"] == code
    return answer


def test_a_disabled_pickers_token_no_longer_reads_changes_stock_or_reprints(api, accounts, tokens_):
    order_id = place_paid([("100", 2), ("101", 1)])
    picker = token_of(api, PICKER)
    assert api.call("GET", f"/admin/orders/{order_id}/print-jobs", token=picker)[0] == 200
    jobs_before = PrintJobModel.count()

    status, body = api.call("PATCH", f"/admin/staff/{PICKER[0]}", {"active": False}, tokens_["hq"])
    assert status == 200 and body["active"] is False

    refused(api, "GET", f"/admin/orders/{order_id}/print-jobs", picker)
    refused(api, "GET", "/admin/stores/sh-a/orders", picker)
    refused(api, "PATCH", "/admin/stores/sh-a/items/100", picker, {"stock": 0})
    refused(api, "POST", f"/admin/orders/{order_id}/reprint", picker, {})
    assert int(StoreItemModel.get("sh-a", "100").stock) == 8  # 10 less the two sold
    assert PrintJobModel.count() == jobs_before


def test_re_enabling_does_not_bring_old_tokens_back(api, accounts, tokens_):
    picker = token_of(api, PICKER)
    for active in (False, True):
        api.call("PATCH", f"/admin/staff/{PICKER[0]}", {"active": active}, tokens_["hq"])
    refused(api, "GET", "/me", picker)
    fresh = token_of(api, PICKER)
    assert api.call("GET", "/me", token=fresh)[0] == 200


def test_a_password_reset_revokes_old_tokens_and_the_new_password_works(api, accounts, tokens_):
    picker = token_of(api, PICKER)
    manager = token_of(api, MANAGER)
    new = "another-password-2"
    status, _ = api.call("PATCH", f"/admin/staff/{PICKER[0]}", {"password": new}, manager)
    assert status == 200
    refused(api, "GET", "/me", picker)
    assert login(api, PICKER)[0] == 401  # the old password is gone
    status, body = login(api, PICKER, new)
    assert status == 200
    assert api.call("GET", "/me", token=body["token"])[0] == 200
    assert api.call("GET", "/me", token=manager)[0] == 200  # only that account's sessions


def test_renaming_keeps_sessions(api, accounts, tokens_):
    picker = token_of(api, PICKER)
    api.call("PATCH", f"/admin/staff/{PICKER[0]}", {"display_name": "拣货员 张"}, tokens_["hq"])
    assert api.call("GET", "/me", token=picker)[0] == 200


def test_head_office_signs_an_account_out_everywhere(api, accounts, tokens_):
    first, second = token_of(api, PICKER), token_of(api, PICKER)
    path = f"/admin/staff/{PICKER[0]}/sign-out-everywhere"
    status, body = api.call("POST", path, {}, token_of(api, MANAGER))
    assert status == 403  # head office only
    status, body = api.call("POST", path, {}, tokens_["hq"])
    assert status == 200 and body["active"] is True
    refused(api, "GET", "/me", first)
    refused(api, "GET", "/me", second)
    assert api.call("GET", "/me", token=token_of(api, PICKER))[0] == 200
    assert (
        api.call("POST", "/admin/staff/nobody-here/sign-out-everywhere", {}, tokens_["hq"])[0]
        == 404
    )


def test_staff_sign_themselves_out_everywhere(api, accounts):
    picker = token_of(api, PICKER)
    assert api.call("POST", "/me/sign-out-everywhere", {}, picker)[0] == 204
    refused(api, "GET", "/me", picker)


def test_a_customer_signs_out_everywhere(api, aws, monkeypatch):
    from chalicelib.kernel import config

    from tests.api.test_identity_api import sign_in

    monkeypatch.setattr(config, "OTP_RESEND_S", 0)
    _, phone_a = sign_in(api)
    _, phone_b = sign_in(api)
    status, _ = api.call("POST", "/me/sign-out-everywhere", {}, phone_a["token"])
    assert status == 204
    refused(api, "GET", "/me", phone_a["token"])
    refused(api, "GET", "/orders", phone_b["token"])
    _, again = sign_in(api)
    assert api.call("GET", "/me", token=again["token"])[0] == 200


def test_a_manager_cannot_disable_their_own_account(api, accounts):
    manager = token_of(api, MANAGER)
    status, body = api.call("PATCH", f"/admin/staff/{MANAGER[0]}", {"active": False}, manager)
    assert status == 409 and body["error"]["code"] == "cannot_change_own_account"
    assert StaffModel.get(MANAGER[0]).active is True
    assert api.call("GET", "/me", token=manager)[0] == 200
    # renaming oneself is fine
    status, _ = api.call("PATCH", f"/admin/staff/{MANAGER[0]}", {"display_name": "店长"}, manager)
    assert status == 200


def test_head_office_cannot_disable_itself_either(api, aws, tokens_):
    _create("hq-ops", "hq-password-123", "hq_admin", None)
    hq = token_of(api, ("hq-ops", "hq-password-123"))
    status, body = api.call("PATCH", "/admin/staff/hq-ops", {"active": False}, hq)
    assert status == 409 and body["error"]["code"] == "cannot_change_own_account"


def _lock(api, who, monkeypatch, ip="203.0.113.7"):
    for _ in range(5):
        assert login(api, who, "wrong-password", ip, monkeypatch)[0] == 401
    status, body = login(api, who, None, ip, monkeypatch)
    assert status == 429 and body["error"]["code"] == "locked_out"


def test_unlock_lets_a_locked_user_sign_in(api, accounts, tokens_, monkeypatch):
    _lock(api, PICKER, monkeypatch)
    status, body = api.call("POST", f"/admin/staff/{PICKER[0]}/unlock", {}, token_of(api, MANAGER))
    assert status == 200 and body["username"] == PICKER[0]
    assert login(api, PICKER, ip="203.0.113.7", monkeypatch=monkeypatch)[0] == 200


def test_a_managers_unlock_is_limited_to_their_store(api, accounts, tokens_):
    _create("sh-b-picker", "picker-password-1", "store_staff", "sh-b")
    status, body = api.call("POST", "/admin/staff/sh-b-picker/unlock", {}, token_of(api, MANAGER))
    assert status == 403 and body["error"]["code"] == "other_store"


def test_a_password_reset_also_lifts_the_lock(api, accounts, tokens_, monkeypatch):
    _lock(api, PICKER, monkeypatch)
    new = "another-password-2"
    assert (
        api.call("PATCH", f"/admin/staff/{PICKER[0]}", {"password": new}, tokens_["hq"])[0] == 200
    )
    assert login(api, PICKER, new, "203.0.113.7", monkeypatch)[0] == 200


def test_failed_sign_ins_from_one_client_do_not_lock_out_another(api, accounts, monkeypatch):
    _lock(api, PICKER, monkeypatch, ip="198.51.100.23")  # a customer who read the username
    status, body = login(api, PICKER, None, "203.0.113.50", monkeypatch)  # the picker's tablet
    assert status == 200, body


def test_many_addresses_together_lock_the_account_for_all(api, accounts, monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "MAX_FAILED_SIGNINS_PER_ACCOUNT", 12)
    for n in range(12):  # three failures each from four addresses: none locked on its own
        assert login(api, PICKER, "wrong-password", f"192.0.2.{n // 3}", monkeypatch)[0] == 401
    status, body = login(api, PICKER, None, "192.0.2.200", monkeypatch)
    assert status == 429 and body["error"]["code"] == "locked_out"
    hq = _hq_token()
    assert api.call("POST", f"/admin/staff/{PICKER[0]}/unlock", {}, hq)[0] == 200
    assert login(api, PICKER, None, "192.0.2.200", monkeypatch)[0] == 200


def _hq_token():
    from tests.api.conftest import token_for

    return token_for("hq-admin", "hq_admin")


def test_wrong_codes_from_one_client_do_not_lock_the_phone_for_another(api, aws, monkeypatch):
    phone = "13912345678"
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "198.51.100.23")
    _, sent = api.call("POST", "/auth/otp", {"phone": phone})
    wrong = "000000" if sent["dev_code"] != "000000" else "111111"
    for _ in range(5):
        assert api.call("POST", "/auth/otp/verify", {"phone": phone, "code": wrong})[0] == 401
    status, _ = api.call("POST", "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]})
    assert status == 429
    monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", "203.0.113.50")
    status, body = api.call("POST", "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]})
    assert status == 200, body


def test_failures_of_an_ended_window_are_not_counted(api, accounts, monkeypatch):
    """DynamoDB deletes expired guard items lazily (moto never): an old window's failures
    must not add up with new ones into a lock."""
    from datetime import UTC, datetime

    from chalicelib.identity.models import SigninGuardModel

    for _ in range(4):
        login(api, PICKER, "wrong-password", "203.0.113.7", monkeypatch)
    for guard in SigninGuardModel.scan():
        guard.update(actions=[SigninGuardModel.expires_at.set(datetime(2020, 1, 1, tzinfo=UTC))])
    for _ in range(4):
        assert login(api, PICKER, "wrong-password", "203.0.113.7", monkeypatch)[0] == 401
    assert login(api, PICKER, None, "203.0.113.7", monkeypatch)[0] == 200


def test_a_token_of_an_account_moved_to_another_store_is_refused(api, accounts):
    picker = token_of(api, PICKER)
    StaffModel(PICKER[0]).update(
        actions=[StaffModel.store_id.set("sh-b"), StaffModel.store_scope.set("sh-b")]
    )
    sessions.clear_cache()
    refused(api, "GET", "/me", picker)


def test_the_authorizer_reads_an_account_once_per_cache_window(api, accounts, monkeypatch):
    """Another container's change (here: written without telling this one's cache) is
    seen once the cached state is older than SESSION_CACHE_S; until then no read."""
    from chalicelib.kernel import config

    now = [1000.0]
    reads = []
    real = sessions.loader
    monkeypatch.setattr(sessions, "clock", lambda: now[0])
    monkeypatch.setattr(sessions, "loader", lambda kind, sub: reads.append(sub) or real(kind, sub))
    picker = token_of(api, PICKER)
    for _ in range(3):
        assert api.call("GET", "/me", token=picker)[0] == 200
    assert reads == [PICKER[0]]
    StaffModel(PICKER[0]).update(
        actions=[StaffModel.active.set(False), StaffModel.token_gen.add(1)]
    )
    now[0] += config.SESSION_CACHE_S - 1
    assert api.call("GET", "/me", token=picker)[0] == 200  # still cached: the stated delay
    now[0] += 1
    refused(api, "GET", "/me", picker)
    assert reads == [PICKER[0], PICKER[0]]


def test_the_revocation_delay_is_about_a_minute_at_most():
    """What the README states: API Gateway's cache of the authorizer's answer plus the
    container's cache of the account."""
    from app import app
    from chalicelib.kernel import config

    assert sessions.AUTHORIZER_TTL_S + config.SESSION_CACHE_S <= 60
    (authorizer,) = app.builtin_auth_handlers
    assert authorizer.ttl_seconds == sessions.AUTHORIZER_TTL_S
