"""Sign-in for customers (phone + code) and staff (password); staff accounts."""

from __future__ import annotations

from chalicelib.auth.principal import (
    ALL_ROLES,
    BACK_OFFICE,
    CUSTOMER,
    HQ_ADMIN,
    STORE_MANAGER,
    Principal,
)
from chalicelib.http.routing import Area, current_request_of
from chalicelib.identity import schemas as s
from chalicelib.kernel.errors import Forbidden
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.identity.service")

area = Area(
    "identity", __name__, "Sign-in and accounts. Send the token as 'Authorization: Bearer <token>'."
)


def _client_ip() -> str | None:
    """The caller's address as API Gateway saw it (not a header the client could set):
    sign-in lockout is counted per account and address (identity/signin_guard.py)."""
    context = current_request_of(area).context or {}
    return (context.get("identity") or {}).get("sourceIp")


@area.route(
    "/auth/otp",
    "POST",
    summary="Send a sign-in code to a phone",
    body=s.OtpRequest,
    response=s.OtpSent,
    errors=(422, 429, 503),
    request_example={"phone": "13800000001"},
    response_example={"sent": True, "expires_in_s": 300, "resend_after_s": 60},
)
def request_code(body: s.OtpRequest) -> s.OtpSent:
    """At most one code per phone a minute. In the local stage the code is also returned
    as ``dev_code`` (no SMS is sent there). 503 ``sms_unavailable`` when no SMS provider
    is configured."""
    return service.request_otp(body.phone, _client_ip())


@area.route(
    "/auth/otp/verify",
    "POST",
    summary="Sign a customer in with the code",
    body=s.OtpVerify,
    response=s.CustomerSession,
    errors=(401, 422, 429),
    request_example={"phone": "13800000001", "code": "123456", "source": "Q7K2M9XA"},
)
def verify_code(body: s.OtpVerify) -> s.CustomerSession:
    """Registers the member on first sign-in (``new_member: true``), recording once where
    they came from: ``source`` is the QR code they scanned (a store, shelf, staff member or
    campaign code) or a receipt ticket's member token; later sign-ins never change it.
    Five wrong codes from one address lock the phone for that address for 15 minutes;
    ten from all addresses together lock it for all."""
    return service.verify_otp(body, _client_ip())


@area.route(
    "/auth/login",
    "POST",
    summary="Sign staff or head office in with a password",
    body=s.StaffLogin,
    response=s.StaffSession,
    errors=(401, 403, 422, 429),
    request_example={"username": "hq-admin", "password": "••••••••••"},
)
def login(body: s.StaffLogin) -> s.StaffSession:
    """Five wrong passwords from one address lock the account for that address for 15
    minutes; fifty from all addresses together lock it for all (head office can unlock)."""
    return service.staff_login(body, _client_ip())


@area.route("/me", "GET", summary="Who the token belongs to", roles=ALL_ROLES, response=s.Me)
def me(principal: Principal) -> s.Me:
    return s.Me(subject=principal.subject, role=principal.role, store_id=principal.store_id)


@area.route(
    "/me/sign-out-everywhere",
    "POST",
    summary="End every session of your own account",
    roles={CUSTOMER, *BACK_OFFICE},
    status=204,
    errors=(404,),
)
def sign_out_everywhere(principal: Principal) -> None:
    """Every token of the caller's account stops working, this one included (within the
    revocation delay stated in the README); sign in again to get a new one."""
    service.sign_out_everywhere(principal)


@area.route(
    "/admin/staff",
    "POST",
    summary="Create a staff or head-office account",
    roles={HQ_ADMIN},
    body=s.StaffCreate,
    response=s.StaffAccount,
    status=201,
    errors=(404, 409, 422),
    request_example={
        "username": "sh-jingan-picker2",
        "password": "a-long-password",
        "role": "store_staff",
        "store_id": "sh-jingan",
        "display_name": "拣货员 李",
    },
)
def create_staff(body: s.StaffCreate, principal: Principal) -> s.StaffAccount:
    return service.create_staff(body, principal=principal)


@area.route(
    "/admin/staff",
    "GET",
    summary="List the accounts of a store (or 'hq')",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.StaffQuery,
    response=s.StaffList,
)
def list_staff(query: s.StaffQuery, principal: Principal) -> s.StaffList:
    """Store managers list their own store's accounts only."""
    if not principal.is_hq and query.store_id != principal.store_id:
        raise Forbidden("Your account belongs to another store.", code="other_store")
    return service.list_staff(query.store_id)


@area.route(
    "/admin/staff/{username}",
    "PATCH",
    summary="Reset a password, rename, disable",
    roles={HQ_ADMIN, STORE_MANAGER},
    body=s.StaffUpdate,
    response=s.StaffAccount,
    errors=(403, 404, 409, 422),
)
def update_staff(username: str, body: s.StaffUpdate, principal: Principal) -> s.StaffAccount:
    """Disabling, re-enabling and a new password end every session of the account; a new
    password also lifts a sign-in lockout. Nobody disables their own account (409
    ``cannot_change_own_account``)."""
    return service.update_staff(username, body, principal)


@area.route(
    "/admin/staff/{username}/unlock",
    "POST",
    summary="Lift a sign-in lockout",
    roles={HQ_ADMIN, STORE_MANAGER},
    response=s.StaffAccount,
    errors=(403, 404),
)
def unlock_staff(username: str, principal: Principal) -> s.StaffAccount:
    """Forgets the account's failed sign-ins from every address, so it can sign in at once."""
    return service.unlock_staff(username, principal)


@area.route(
    "/admin/staff/{username}/sign-out-everywhere",
    "POST",
    summary="End every session of an account",
    roles={HQ_ADMIN},
    response=s.StaffAccount,
    errors=(404,),
)
def sign_out_staff(username: str, principal: Principal) -> s.StaffAccount:
    """Every token of the account stops working (within the revocation delay stated in
    the README); the account stays enabled and may sign in again."""
    return service.sign_out_staff(username, principal)
