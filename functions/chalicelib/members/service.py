"""A member's own profile, saved addresses and marketing consent."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from msgspec import UnsetType
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.privacy import mask_phone
from chalicelib.members import rules
from chalicelib.members import schemas as s
from chalicelib.members.models import MemberAddressModel, MemberConsentModel


def _unset(value: Any) -> bool:
    return isinstance(value, type(s.UNSET))


def member(customer_id: str) -> CustomerModel:
    """The member (404 ``member_not_found`` when absent or deleted)."""
    try:
        m = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        m = None
    if m is None or m.erased_at:
        raise NotFound("No such member.", code="member_not_found")
    return m


def _live() -> Any:
    """The condition every member write carries: the member exists and is not deleted."""
    return CustomerModel.customer_id.exists() & CustomerModel.erased_at.does_not_exist()


def profile_view(m: CustomerModel) -> s.MemberProfile:
    return s.MemberProfile(
        customer_id=m.customer_id,
        phone_masked=mask_phone(m.phone or ""),
        nickname=m.nickname,
        birthday=m.birthday,
        gender=m.gender,
        home_store_id=m.home_store_id,
        marketing_consent=m.marketing_consent,
        source_kind=m.source_kind,
        registered_at=m.created_at,
    )


def get_profile(customer_id: str) -> s.MemberProfile:
    return profile_view(member(customer_id))


def update_profile(customer_id: str, body: s.ProfileUpdate) -> s.MemberProfile:
    """Nickname and gender change freely; the birthday is set once (409 afterwards unless
    unchanged): changing it at will would collect a birthday gift every month."""
    actions: list[Action] = []
    condition = _live()
    if not isinstance(body.nickname, UnsetType):
        actions.append(
            CustomerModel.nickname.set(body.nickname)
            if body.nickname is not None
            else CustomerModel.nickname.remove()
        )
    if not isinstance(body.gender, UnsetType):
        actions.append(
            CustomerModel.gender.set(body.gender)
            if body.gender is not None
            else CustomerModel.gender.remove()
        )
    if not isinstance(body.birthday, UnsetType):
        birthday = rules.check_birthday(body.birthday)
        actions.append(CustomerModel.birthday.set(birthday))
        condition &= CustomerModel.birthday.does_not_exist() | (CustomerModel.birthday == birthday)
    if not actions:
        return get_profile(customer_id)
    try:
        CustomerModel(customer_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        member(customer_id)  # 404 when gone
        raise Conflict(
            "The birthday is already set; ask customer service to correct it.",
            code="birthday_locked",
            details={"field": "birthday"},
        ) from None
    return get_profile(customer_id)


# --- addresses -------------------------------------------------------------------------


def address_view(a: MemberAddressModel, default_id: str | None) -> s.Address:
    return s.Address(
        address_id=a.address_id,
        name=a.name,
        phone=a.phone,
        line=a.line,
        lat=float(a.lat),
        lng=float(a.lng),
        label=a.label,
        default=a.address_id == default_id,
    )


def address_models(customer_id: str) -> list[MemberAddressModel]:
    return list(MemberAddressModel.query(customer_id, consistent_read=True))


def list_addresses(customer_id: str) -> s.AddressList:
    m = member(customer_id)
    return s.AddressList(
        items=[address_view(a, m.default_address_id) for a in address_models(customer_id)],
        max_addresses=rules.MAX_ADDRESSES,
    )


def _address(customer_id: str, address_id: str) -> MemberAddressModel:
    try:
        return MemberAddressModel.get(customer_id, address_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such address.", code="address_not_found") from None


def add_address(customer_id: str, body: s.AddressIn) -> s.Address:
    """At most MAX_ADDRESSES: the member's count is added to under a condition in the
    address's transaction, so racing adds cannot pass the cap. The first is the default."""
    rules.check_coordinates(body.lat, body.lng)
    m = member(customer_id)
    now = clock.now_iso()
    address = MemberAddressModel(
        customer_id,
        f"a-{uuid.uuid4().hex[:12]}",
        name=body.name,
        phone=body.phone,
        line=body.line,
        lat=body.lat,
        lng=body.lng,
        label=body.label,
        created_at=now,
        updated_at=now,
    )
    make_default = body.default or not m.default_address_id
    actions: list[Action] = [CustomerModel.address_count.add(1)]
    if make_default:
        actions.append(CustomerModel.default_address_id.set(address.address_id))
    below_cap = CustomerModel.address_count.does_not_exist() | (
        CustomerModel.address_count < rules.MAX_ADDRESSES
    )

    def write(tx: Tx) -> None:
        tx.update(
            CustomerModel(customer_id),
            actions=actions,
            condition=_live() & below_cap,
            label="member",
        )
        tx.save(address, condition=MemberAddressModel.address_id.does_not_exist(), label="address")

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "member" in exc.failed:
            member(customer_id)
            raise Conflict(
                f"At most {rules.MAX_ADDRESSES} addresses; delete one first.",
                code="too_many_addresses",
                details={"max_addresses": rules.MAX_ADDRESSES},
            ) from None
        raise
    return address_view(address, address.address_id if make_default else m.default_address_id)


def update_address(customer_id: str, address_id: str, body: s.AddressUpdate) -> s.Address:
    address = _address(customer_id, address_id)
    lat = address.lat if isinstance(body.lat, UnsetType) else body.lat
    lng = address.lng if isinstance(body.lng, UnsetType) else body.lng
    rules.check_coordinates(float(lat), float(lng))
    actions: list[Action] = [MemberAddressModel.updated_at.set(clock.now_iso())]
    for field in ("name", "phone", "line", "lat", "lng"):
        value = getattr(body, field)
        if not _unset(value):
            actions.append(getattr(MemberAddressModel, field).set(value))
    if not isinstance(body.label, UnsetType):
        actions.append(
            MemberAddressModel.label.set(body.label)
            if body.label is not None
            else MemberAddressModel.label.remove()
        )

    def write(tx: Tx) -> None:
        tx.update(
            address,
            actions=actions,
            condition=MemberAddressModel.address_id.exists(),
            label="address",
        )
        if body.default is True:
            tx.update(
                CustomerModel(customer_id),
                actions=[CustomerModel.default_address_id.set(address_id)],
                condition=_live(),
                label="member",
            )

    try:
        transact(write)
    except TransactionCancelled:
        _address(customer_id, address_id)
        member(customer_id)
        raise
    address.refresh(consistent_read=True)
    return address_view(address, member(customer_id).default_address_id)


def delete_address(customer_id: str, address_id: str) -> None:
    """Delete it and count it off; deleting the default leaves no default (the next
    address added becomes it). Retried when the default changes meanwhile."""
    for _ in range(3):
        m = member(customer_id)
        _address(customer_id, address_id)
        was_default = m.default_address_id == address_id
        actions: list[Action] = [CustomerModel.address_count.add(-1)]
        if was_default:
            actions.append(CustomerModel.default_address_id.remove())
            cond = _live() & (CustomerModel.default_address_id == address_id)
        else:
            cond = _live() & (
                CustomerModel.default_address_id.does_not_exist()
                | (CustomerModel.default_address_id != address_id)
            )

        def write(tx: Tx, actions: list[Action] = actions, cond: Any = cond) -> None:
            tx.delete(
                MemberAddressModel(customer_id, address_id),
                condition=MemberAddressModel.address_id.exists(),
                label="address",
            )
            tx.update(CustomerModel(customer_id), actions=actions, condition=cond, label="member")

        try:
            transact(write)
            return
        except TransactionCancelled as exc:
            if "address" in exc.failed:
                raise NotFound("No such address.", code="address_not_found") from None
            if "member" not in exc.failed:
                raise
    raise Conflict("The addresses changed meanwhile; try again.", code="concurrent_change")


# --- marketing consent -----------------------------------------------------------------


def consent_view(m: CustomerModel) -> s.Consent:
    return s.Consent(
        marketing_consent=m.marketing_consent, at=m.consent_at, channel=m.consent_channel
    )


def consent_history(customer_id: str) -> list[s.ConsentChange]:
    return [
        s.ConsentChange(granted=bool(c.granted), channel=c.channel, at=c.at, actor=c.actor)
        for c in MemberConsentModel.query(customer_id, consistent_read=True)
    ]


def get_consent(customer_id: str) -> s.ConsentState:
    m = member(customer_id)
    return s.ConsentState(**_consent_fields(m), history=consent_history(customer_id))


def _consent_fields(m: CustomerModel) -> dict[str, Any]:
    v = consent_view(m)
    return {"marketing_consent": v.marketing_consent, "at": v.at, "channel": v.channel}


def consent_change_pieces(
    tx: Tx, customer_id: str, granted: bool, channel: str, actor: str, at: str
) -> None:
    """The state on the member and its history entry, in the caller's transaction."""
    state = "granted" if granted else "revoked"
    tx.update(
        CustomerModel(customer_id),
        actions=[
            CustomerModel.marketing_consent.set(state),
            CustomerModel.consent_at.set(at),
            CustomerModel.consent_channel.set(channel),
        ],
        condition=_live(),
        label="member",
    )
    entry = MemberConsentModel(
        customer_id,
        f"{at}#{secrets.token_hex(4)}",
        granted=granted,
        channel=channel,
        at=at,
        actor=actor,
    )
    tx.save(entry, condition=MemberConsentModel.at_id.does_not_exist(), label="consent")


def set_consent(customer_id: str, body: s.ConsentUpdate) -> s.ConsentState:
    """Grant or revoke; every change (even to the same state: the member confirmed it
    again, on that channel) is appended to the history with the member state."""
    at = clock.now_iso_ms()
    try:
        transact(
            lambda tx: consent_change_pieces(
                tx, customer_id, body.granted, body.channel, "customer", at
            )
        )
    except TransactionCancelled as exc:
        if "member" in exc.failed:
            member(customer_id)
        raise
    return get_consent(customer_id)


def check_one_of(token: str | None, order_code: str | None) -> None:
    if (token is None) == (order_code is None):
        raise ValidationFailed(
            "Give either the ticket's token or an order code, not both.",
            details=[field_error("token", "exactly one of token, order_code")],
        )
