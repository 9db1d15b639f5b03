import pytest
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel, OtpChallengeModel

PHONE = "13912345678"


@pytest.fixture
def staff(stores):
    """A manager of sh-a, created through the service (as head office would)."""
    from chalicelib.identity.schemas import StaffCreate
    from chalicelib.identity.service import create_staff

    create_staff(
        StaffCreate(
            username="sh-a-manager",
            password="manager-password-1",
            role="store_manager",
            store_id="sh-a",
            display_name="店长",
        )
    )
    return ("sh-a-manager", "manager-password-1")


def sign_in(api, phone=PHONE, **extra):
    status, sent = api.call("POST", "/auth/otp", {"phone": phone})
    assert status == 200, sent
    return api.call("POST", "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"], **extra})


def test_first_sign_in_registers_the_member_with_its_source(api, stores):
    from chalicelib.auth.principal import Principal
    from chalicelib.members.schemas import QrCodeCreate
    from chalicelib.members.sources import create_qr_code

    hq = Principal("hq-admin", "hq_admin", None)
    code = create_qr_code(QrCodeCreate(kind="store", label="门口", store_id="sh-a"), hq).code
    status, body = sign_in(api, source=code, nickname="王女士")
    assert status == 200
    assert body["customer"]["new_member"] is True
    assert body["customer"]["phone_masked"] == "139****5678"
    member = CustomerModel.get(body["customer"]["customer_id"])
    assert (member.source, member.home_store_id, member.phone) == (code, "sh-a", PHONE)
    status, me = api.call("GET", "/me", token=body["token"])
    assert status == 200 and me == {
        "subject": member.customer_id,
        "role": "customer",
        "store_id": None,
    }


def test_second_sign_in_is_the_same_member(api, aws, monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "OTP_RESEND_S", 0)
    _, first = sign_in(api)
    _, second = sign_in(api)
    assert second["customer"]["new_member"] is False
    assert second["customer"]["customer_id"] == first["customer"]["customer_id"]
    assert CustomerModel.count() == 1


def test_a_code_works_once(api, aws):
    _, sent = api.call("POST", "/auth/otp", {"phone": PHONE})
    ok, _ = api.call("POST", "/auth/otp/verify", {"phone": PHONE, "code": sent["dev_code"]})
    again, body = api.call("POST", "/auth/otp/verify", {"phone": PHONE, "code": sent["dev_code"]})
    assert (ok, again) == (200, 401) and body["error"]["code"] == "otp_invalid"


def test_codes_are_not_resent_within_a_minute(api, aws):
    assert api.call("POST", "/auth/otp", {"phone": PHONE})[0] == 200
    status, body = api.call("POST", "/auth/otp", {"phone": PHONE})
    assert status == 429 and body["error"]["details"]["retry_after_s"] == 60


def test_the_code_is_stored_hashed(api, aws):
    _, sent = api.call("POST", "/auth/otp", {"phone": PHONE})
    stored = OtpChallengeModel.get(PHONE)
    assert sent["dev_code"] not in stored.code_hash


def test_five_wrong_codes_lock_the_phone_even_for_the_right_code(api, aws):
    _, sent = api.call("POST", "/auth/otp", {"phone": PHONE})
    wrong = "000000" if sent["dev_code"] != "000000" else "111111"
    for _ in range(5):
        status, _ = api.call("POST", "/auth/otp/verify", {"phone": PHONE, "code": wrong})
        assert status == 401
    status, body = api.call("POST", "/auth/otp/verify", {"phone": PHONE, "code": sent["dev_code"]})
    assert status == 429 and body["error"]["code"] == "locked_out"
    assert CustomerPhoneModel.count() == 0


def test_the_code_is_not_exposed_outside_the_local_stage(api, aws, monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "STAGE", "prod")
    status, body = api.call("POST", "/auth/otp", {"phone": PHONE})
    assert status == 200 and body["dev_code"] is None


def test_bad_phone_is_422(api, aws):
    status, body = api.call("POST", "/auth/otp", {"phone": "12345"})
    assert status == 422 and body["error"]["details"][0]["field"] == "phone"


def test_staff_sign_in_carries_role_and_store(api, staff):
    status, body = api.call("POST", "/auth/login", {"username": staff[0], "password": staff[1]})
    assert status == 200
    assert body["staff"] == {
        "username": "sh-a-manager",
        "role": "store_manager",
        "store_id": "sh-a",
        "display_name": "店长",
        "active": True,
    }
    _, me = api.call("GET", "/me", token=body["token"])
    assert me == {"subject": "sh-a-manager", "role": "store_manager", "store_id": "sh-a"}


def test_wrong_password_and_unknown_user_look_the_same(api, staff):
    a = api.call("POST", "/auth/login", {"username": staff[0], "password": "nope"})
    b = api.call("POST", "/auth/login", {"username": "ghost-user", "password": "nope"})
    assert (
        a
        == b
        == (
            401,
            {
                "error": {
                    "code": "bad_credentials",
                    "message": "Wrong username or password.",
                    "details": None,
                }
            },
        )
    )


def test_five_wrong_passwords_lock_the_account(api, staff):
    for _ in range(5):
        assert api.call("POST", "/auth/login", {"username": staff[0], "password": "nope"})[0] == 401
    status, body = api.call("POST", "/auth/login", {"username": staff[0], "password": staff[1]})
    assert status == 429 and body["error"]["details"]["retry_after_s"] > 0


def test_disabled_account_cannot_sign_in(api, staff, tokens_):
    status, _ = api.call("PATCH", f"/admin/staff/{staff[0]}", {"active": False}, tokens_["hq"])
    assert status == 200
    status, body = api.call("POST", "/auth/login", {"username": staff[0], "password": staff[1]})
    assert status == 403 and body["error"]["code"] == "account_disabled"


def test_head_office_creates_accounts_and_managers_see_their_store(api, stores, tokens_):
    new = {
        "username": "sh-b-picker",
        "password": "picker-password-1",
        "role": "store_staff",
        "store_id": "sh-b",
        "display_name": "拣货员",
    }
    assert api.call("POST", "/admin/staff", new, tokens_["manager_a"])[0] == 403
    status, body = api.call("POST", "/admin/staff", new, tokens_["hq"])
    assert status == 201 and "password" not in body
    assert api.call("POST", "/admin/staff", new, tokens_["hq"])[0] == 409
    status, body = api.call("GET", "/admin/staff?store_id=sh-b", token=tokens_["hq"])
    assert [a["username"] for a in body["items"]] == ["sh-b-picker"]
    assert api.call("GET", "/admin/staff?store_id=sh-b", token=tokens_["manager_a"])[0] == 403
    assert (
        api.call("PATCH", "/admin/staff/sh-b-picker", {"active": False}, tokens_["manager_a"])[0]
        == 403
    )


def test_store_accounts_need_a_real_store(api, stores, tokens_):
    base = {"username": "someone", "password": "a-long-password", "display_name": "x"}
    status, body = api.call("POST", "/admin/staff", dict(base, role="store_staff"), tokens_["hq"])
    assert status == 422 and body["error"]["details"][0]["field"] == "store_id"
    status, body = api.call(
        "POST", "/admin/staff", dict(base, role="store_staff", store_id="sh-zz"), tokens_["hq"]
    )
    assert status == 404
    status, body = api.call(
        "POST", "/admin/staff", dict(base, role="hq_admin", store_id="sh-a"), tokens_["hq"]
    )
    assert status == 422


def test_bad_and_expired_tokens_get_json_401(api, aws):
    from chalicelib.auth import tokens

    expired, _ = tokens.issue("x", "customer", None, -5)
    status, body = api.call("GET", "/me", token=expired)
    assert status == 401 and body["error"]["code"] == "token_expired"
    status, body = api.call("GET", "/me", token="not-a-jwt")
    assert status == 401 and body["error"]["code"] == "token_invalid"
    status, body = api.call("GET", "/me", headers={"Authorization": "Basic abc"})
    assert status == 401 and body["error"]["code"] == "token_missing"


def test_no_sms_provider_is_503_and_nothing_is_logged(api, aws, monkeypatch, caplog):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "STAGE", "prod")
    monkeypatch.setattr(config, "SMS_PROVIDER", "")
    status, body = api.call("POST", "/auth/otp", {"phone": PHONE})
    assert status == 503 and body["error"]["code"] == "sms_unavailable"
    assert not any(r.getMessage().count("code is") for r in caplog.records)
    assert OtpChallengeModel.count() == 0  # nothing recorded: a retry is not blocked
