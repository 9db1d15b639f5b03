"""Members: a member's own profile, addresses, consent, ticket binding, export and
deletion; head office's member list, member profile and QR codes."""

from __future__ import annotations

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.members import schemas as s

service = lazy_module("chalicelib.members.service")
sources = lazy_module("chalicelib.members.sources")
privacy = lazy_module("chalicelib.members.privacy")
admin = lazy_module("chalicelib.members.admin")

area = Area("members", __name__, "Members (会员): profile, addresses, consent, their data.")
ME = {CUSTOMER}
ADMINS = {HQ_ADMIN, STORE_MANAGER}

ADDRESS_EXAMPLE = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号 5楼",
    "lat": 31.2236,
    "lng": 121.4457,
    "label": "家",
    "default": True,
}
PROFILE_EXAMPLE = {
    "customer_id": "c-0123456789abcdef",
    "phone_masked": "138****0001",
    "nickname": "王女士",
    "birthday": "03-15",
    "gender": "female",
    "home_store_id": "sh-jingan",
    "marketing_consent": "granted",
    "source_kind": "staff",
    "registered_at": "2026-11-24T02:30:00Z",
}


@area.route(
    "/members/me",
    "GET",
    summary="Your member profile",
    roles=ME,
    response=s.MemberProfile,
    errors=(404,),
    response_example=PROFILE_EXAMPLE,
)
def get_profile(principal: Principal) -> s.MemberProfile:
    return service.get_profile(principal.subject)


@area.route(
    "/members/me",
    "PATCH",
    summary="Change your nickname, birthday or gender",
    roles=ME,
    body=s.ProfileUpdate,
    response=s.MemberProfile,
    errors=(404, 409, 422),
    request_example={"nickname": "王女士", "birthday": "03-15", "gender": "female"},
    response_example=PROFILE_EXAMPLE,
)
def update_profile(body: s.ProfileUpdate, principal: Principal) -> s.MemberProfile:
    """The birthday ('MM-DD', '02-29' allowed) is set once: a different one later is 409
    ``birthday_locked`` (the birthday gift is once a year; customer service corrects it)."""
    return service.update_profile(principal.subject, body)


@area.route(
    "/members/me",
    "DELETE",
    summary="Delete your account",
    roles=ME,
    body=s.DeleteAccount,
    response=s.Deleted,
    errors=(404, 422),
    request_example={"confirm": "DELETE"},
    response_example={"deleted": True, "erased_at": "2026-11-24T02:30:00.123Z"},
)
def delete_account(body: s.DeleteAccount, principal: Principal) -> s.Deleted:
    """Erases your phone, nickname, birthday, gender and addresses, and the receiver and
    address on your orders; ends every session. Orders keep their amounts (accounting);
    your phone can register again as a new member. docs/loyalty.md says what is kept."""
    return privacy.delete_account(principal.subject)


@area.route(
    "/members/me/export",
    "GET",
    summary="All your data, as JSON",
    roles=ME,
    response=s.MemberExport,
    errors=(404,),
)
def export(principal: Principal) -> s.MemberExport:
    """Profile, source, addresses, consent history, and one section per kind of data
    (orders, coupons, points and stored value ledgers)."""
    return privacy.export(principal.subject)


@area.route(
    "/members/me/addresses",
    "GET",
    summary="Your saved addresses",
    roles=ME,
    response=s.AddressList,
    errors=(404,),
)
def list_addresses(principal: Principal) -> s.AddressList:
    return service.list_addresses(principal.subject)


@area.route(
    "/members/me/addresses",
    "POST",
    summary="Save an address",
    roles=ME,
    body=s.AddressIn,
    response=s.Address,
    status=201,
    errors=(404, 409, 422),
    request_example=ADDRESS_EXAMPLE,
    response_example={"address_id": "a-0123456789ab", **ADDRESS_EXAMPLE},
)
def add_address(body: s.AddressIn, principal: Principal) -> s.Address:
    """At most 20 (409 ``too_many_addresses``); the first one is the default. Coordinates
    must be in China (422)."""
    return service.add_address(principal.subject, body)


@area.route(
    "/members/me/addresses/{address_id}",
    "PATCH",
    summary="Change a saved address",
    roles=ME,
    body=s.AddressUpdate,
    response=s.Address,
    errors=(404, 422),
    request_example={"line": "南京西路1618号 6楼", "default": True},
)
def update_address(address_id: str, body: s.AddressUpdate, principal: Principal) -> s.Address:
    return service.update_address(principal.subject, address_id, body)


@area.route(
    "/members/me/addresses/{address_id}",
    "DELETE",
    summary="Delete a saved address",
    roles=ME,
    status=204,
    errors=(404, 409),
)
def delete_address(address_id: str, principal: Principal) -> None:
    service.delete_address(principal.subject, address_id)


@area.route(
    "/members/me/consent",
    "GET",
    summary="Your marketing consent and its history",
    roles=ME,
    response=s.ConsentState,
    errors=(404,),
)
def get_consent(principal: Principal) -> s.ConsentState:
    return service.get_consent(principal.subject)


@area.route(
    "/members/me/consent",
    "PUT",
    summary="Grant or revoke marketing consent",
    roles=ME,
    body=s.ConsentUpdate,
    response=s.ConsentState,
    errors=(404, 422),
    request_example={"granted": False, "channel": "storefront"},
)
def set_consent(body: s.ConsentUpdate, principal: Principal) -> s.ConsentState:
    """PIPL Art. 24: you can refuse marketing at any time. Each change is kept with its
    time and channel; marketing reaches only members whose consent is ``granted``."""
    return service.set_consent(principal.subject, body)


@area.route(
    "/members/me/bind-ticket",
    "POST",
    summary="Make a receipt ticket's store your home store",
    roles=ME,
    body=s.BindTicket,
    response=s.Binding,
    errors=(404, 422),
    request_example={"token": "tk1.sh-jingan.261124ABCDEFGH.0123456789abcdef0123"},
    response_example={"home_store_id": "sh-jingan", "bound": True, "source_kind": "ticket"},
)
def bind_ticket(body: s.BindTicket, principal: Principal) -> s.Binding:
    """With the token of a ticket's member QR code, or the code of one of your own orders
    (404 for anyone else's). Only a member without a home store is bound; nothing about
    the order is shown or attached to you."""
    return sources.bind_ticket(principal.subject, body)


@area.route(
    "/members/me/invite",
    "GET",
    summary="Your invitation code and link to share",
    roles=ME,
    response=s.Invite,
    errors=(404,),
    response_example={
        "code": "iv1.c-0123456789abcdef.5f2a9e01b7c44d10",
        "link": "https://m.daojia.example/join?invite=iv1.c-0123456789abcdef.5f2a9e01b7c44d10",
    },
)
def my_invite(principal: Principal) -> s.Invite:
    """A friend signing in for the first time with the code as ``source`` (the link opens
    the storefront with it) is recorded as invited by you, and the invite task rewards you
    once per friend. Your own code at your own sign-in is 422 ``self_invite``."""
    return sources.my_invite(principal.subject)


@area.route(
    "/admin/members",
    "GET",
    summary="Members: search by phone, filter by level, source and registration dates",
    roles=ADMINS,
    query=s.MemberQuery,
    response=s.MemberPage,
    errors=(400, 403, 422),
)
def list_members(query: s.MemberQuery, principal: Principal) -> s.MemberPage:
    """Newest first, ``limit`` a page (``next_cursor`` for the next). Without dates: the
    last 365 days; a window spans at most 24 months. Store managers see members whose
    home store is theirs, with phones masked. ``level``: members at that level (each row
    shows its member's level; null is the lowest, before any growth)."""
    return admin.listing(principal, query)


@area.route(
    "/admin/members/qr-codes",
    "GET",
    summary="The QR codes members register through",
    roles=ADMINS,
    query=s.QrCodeQuery,
    response=s.QrCodeList,
    errors=(403,),
)
def list_qr_codes(query: s.QrCodeQuery, principal: Principal) -> s.QrCodeList:
    return sources.list_qr_codes(principal, query.store_id)


@area.route(
    "/admin/members/qr-codes",
    "POST",
    summary="Create a store, shelf, staff or campaign QR code",
    roles={HQ_ADMIN},
    body=s.QrCodeCreate,
    response=s.QrCode,
    status=201,
    errors=(404, 422),
    request_example={
        "kind": "staff",
        "label": "静安寺店 导购 李",
        "store_id": "sh-jingan",
        "staff_username": "sh-jingan-li",
    },
)
def create_qr_code(body: s.QrCodeCreate, principal: Principal) -> s.QrCode:
    """The QR code holds the returned ``code``; the storefront passes it as ``source`` at
    sign-in, and a new member records its kind, store, shelf, staff or campaign."""
    return sources.create_qr_code(body, principal)


@area.route(
    "/admin/members/qr-codes/{code}",
    "PATCH",
    summary="Switch a QR code off or on again",
    roles={HQ_ADMIN},
    body=s.QrCodeUpdate,
    response=s.QrCode,
    errors=(404, 422),
    request_example={"active": False},
)
def update_qr_code(code: str, body: s.QrCodeUpdate, principal: Principal) -> s.QrCode:
    """A switched-off code registers nobody (sign-in with it is 422 ``unknown_source``,
    also for a registration already under way); the members it brought keep their source
    and it keeps its count. Audited."""
    return sources.set_qr_active(code, body, principal)


@area.route(
    "/admin/members/{customer_id}",
    "GET",
    summary="A member's profile with recent orders and coupons",
    roles=ADMINS,
    response=s.MemberDetail,
    errors=(403, 404),
)
def member_detail(customer_id: str, principal: Principal) -> s.MemberDetail:
    return admin.detail(principal, customer_id)
