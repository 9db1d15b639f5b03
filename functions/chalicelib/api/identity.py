"""Sign-in for customers (phone + code) and staff (password); staff accounts."""

from __future__ import annotations

from chalicelib.api.routing import Area
from chalicelib.auth.principal import ALL_ROLES, HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.errors import Forbidden
from chalicelib.schemas import identity as s
from chalicelib.services import identity as service

area = Area(
    "identity", __name__, "Sign-in and accounts. Send the token as 'Authorization: Bearer <token>'."
)


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
    return service.request_otp(body.phone)


@area.route(
    "/auth/otp/verify",
    "POST",
    summary="Sign a customer in with the code",
    body=s.OtpVerify,
    response=s.CustomerSession,
    errors=(401, 422, 429),
    request_example={"phone": "13800000001", "code": "123456", "source": "store:sh-jingan"},
)
def verify_code(body: s.OtpVerify) -> s.CustomerSession:
    """Registers the member on first sign-in (``new_member: true``), recording ``source``
    from the QR code they came through. Five wrong codes lock the phone for 15 minutes."""
    return service.verify_otp(body)


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
    """Five wrong passwords lock the account for 15 minutes."""
    return service.staff_login(body)


@area.route("/me", "GET", summary="Who the token belongs to", roles=ALL_ROLES, response=s.Me)
def me(principal: Principal) -> s.Me:
    return s.Me(subject=principal.subject, role=principal.role, store_id=principal.store_id)


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
    return service.create_staff(body)


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
    errors=(403, 404, 422),
)
def update_staff(username: str, body: s.StaffUpdate, principal: Principal) -> s.StaffAccount:
    return service.update_staff(username, body, principal)
