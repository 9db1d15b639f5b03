"""Where members come from: head office's parameterised QR codes, the receipt ticket's
member QR code, and the home store they imply."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth import tokens
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled, TxPiece, transact
from chalicelib.identity.models import CustomerModel, StaffModel
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.members import providers, rules
from chalicelib.members import schemas as s
from chalicelib.members.models import MemberQrCodeModel
from chalicelib.members.service import check_one_of, member

# A member who registered less than this long ago and binds a ticket without a source
# yet is counted as brought by the ticket (they scanned it, then signed up).
JUST_REGISTERED = timedelta(minutes=30)


def _unknown(code: str) -> ValidationFailed:
    return ValidationFailed(
        "This QR code is unknown or no longer in use; sign in without it.",
        code="unknown_source",
        details=[field_error("source", "unknown code")],
    )


def attributes_for_registration(code: str, *, phone: str | None = None) -> dict[str, Any]:
    """What a new member records for the QR code, ticket token or invite code ``code``
    (called by identity's sign-in, by name): the code, its kind, store, shelf, staff,
    campaign, the home store it implies, the inviter. 422 ``unknown_source`` for a code
    nobody made, a switched-off QR code or an inviter who left; 422 ``self_invite`` when
    ``phone`` (the one signing in) is the inviter's own."""
    if rules.is_invite_code(code):
        return _invitation(code, phone)
    if rules.is_ticket_token(code):
        found = rules.read_ticket_token(tokens.signing_key(), code)
        if found is None:
            raise _unknown(code)
        store_id, order_id = found
        return {
            "source": f"ticket:{order_id}",
            "source_kind": "ticket",
            "source_store_id": store_id,
            "source_order_id": order_id,
            "home_store_id": store_id,
        }
    try:
        qr = MemberQrCodeModel.get(code)
    except DoesNotExist:
        raise _unknown(code) from None
    if not qr.active:
        raise _unknown(code)
    return {
        "source": qr.code,
        "source_kind": qr.kind,
        "source_store_id": qr.store_id,
        "source_shelf": qr.shelf,
        "source_staff": qr.staff_username,
        "source_campaign": qr.campaign_id,
        "home_store_id": qr.store_id,
    }


def _invitation(code: str, phone: str | None) -> dict[str, Any]:
    inviter = rules.read_invite_code(tokens.signing_key(), code)
    if inviter is None:
        raise _unknown(code)
    try:
        m = CustomerModel.get(inviter)
    except DoesNotExist:
        raise _unknown(code) from None
    if m.erased_at:
        raise _unknown(code)
    if phone is not None and m.phone == phone:
        raise ValidationFailed(
            "You cannot accept your own invitation; share it with a friend.",
            code="self_invite",
            details=[field_error("source", "your own invitation")],
        )
    return {"source": f"invite:{inviter}", "source_kind": "invite", "invited_by": inviter}


def registration_pieces(attrs: dict[str, Any]) -> list[TxPiece]:
    """The writes that join a new member's registration transaction (identity, by name):
    a QR code's count, ADDed under "still active" (switched off since it was resolved:
    the registration fails and writes nothing); an inviter still a member."""
    if attrs.get("source_kind") == "invite":
        c = CustomerModel
        return [
            TxPiece(
                c,
                {
                    "hash_key": attrs["invited_by"],
                    "condition": c.customer_id.exists() & c.erased_at.does_not_exist(),
                },
                "source:inviter",
                op="condition_check",
            )
        ]
    if attrs.get("source_kind") in rules.QR_KINDS:
        q = MemberQrCodeModel
        return [
            TxPiece(
                MemberQrCodeModel(attrs["source"]),
                {"actions": [q.registered.add(1)], "condition": q.active == True},  # noqa: E712
                "source:qr",
            )
        ]
    return []


def my_invite(customer_id: str) -> s.Invite:
    """The member's invitation code and the link to share (the same every time)."""
    m = member(customer_id)
    code = rules.invite_code(tokens.signing_key(), m.customer_id)
    return s.Invite(code=code, link=join_link("invite", code))


def ticket_qr_payload(store_id: str, order_id: str) -> str:
    """What the receipt ticket's member QR code holds (printing/dispatch.py)."""
    token = rules.ticket_token(tokens.signing_key(), store_id, order_id)
    return join_link("ticket", token)


def join_link(param: str, value: str) -> str:
    """The storefront's join page (config.MEMBER_JOIN_URL) with ``param=value``: the
    receipt ticket's QR code, a member's invitation link."""
    base = config.MEMBER_JOIN_URL
    return f"{base}{'&' if '?' in base else '?'}{param}={quote(value, safe='')}"


def bind_ticket(customer_id: str, body: s.BindTicket) -> s.Binding:
    """Bind a member without a home store to the ticket's (or their own order's) store.

    What the token can do: it proves only that its holder saw the ticket printed for
    order X at store S. It sets the holder's home store to S if they have none, and, for a
    member who registered in the last JUST_REGISTERED with no source, records the ticket
    as their source. It never attaches the order to anyone, shows nothing of the order,
    and never changes a home store or source already set. An ``order_code`` works only
    for the caller's own order (404 otherwise: nobody can probe other people's orders)."""
    check_one_of(body.token, body.order_code)
    if body.token is not None:
        found = rules.read_ticket_token(tokens.signing_key(), body.token)
        if found is None:
            raise ValidationFailed(
                "This is not a Daojia ticket code.",
                code="bad_ticket",
                details=[field_error("token", "not genuine")],
            )
        store_id, order_id = found
    else:
        order_id = str(body.order_code)
        store = providers.load(providers.OWN_ORDER_STORE)(customer_id, order_id)
        if store is None:
            raise NotFound("You have no order with this code.", code="order_not_found")
        store_id = store
    m = member(customer_id)
    bound = False
    if not m.home_store_id:
        try:
            CustomerModel(customer_id).update(
                actions=[CustomerModel.home_store_id.set(store_id)],
                condition=CustomerModel.home_store_id.does_not_exist()
                & CustomerModel.erased_at.does_not_exist(),
            )
            bound = True
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    just = clock.now() - clock.parse(m.created_at) <= JUST_REGISTERED
    if just and not m.source_kind:
        try:
            CustomerModel(customer_id).update(
                actions=[
                    CustomerModel.source.set(f"ticket:{order_id}"),
                    CustomerModel.source_kind.set("ticket"),
                    CustomerModel.source_store_id.set(store_id),
                    CustomerModel.source_order_id.set(order_id),
                    CustomerModel.source_at.set(clock.now_iso()),
                ],
                condition=CustomerModel.source_kind.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    after = member(customer_id)
    return s.Binding(home_store_id=after.home_store_id, bound=bound, source_kind=after.source_kind)


# --- head office's QR codes ------------------------------------------------------------


def qr_view(q: MemberQrCodeModel) -> s.QrCode:
    return s.QrCode(
        code=q.code,
        kind=q.kind,
        label=q.label,
        store_id=q.store_id,
        shelf=q.shelf,
        staff_username=q.staff_username,
        campaign_id=q.campaign_id,
        active=q.active is not False,
        registered=int(q.registered or 0),
        link=join_link("source", q.code),
        created_at=q.created_at,
        created_by=q.created_by,
        updated_at=q.updated_at,
        updated_by=q.updated_by,
    )


def create_qr_code(
    body: s.QrCodeCreate, principal: Principal, *, code: str | None = None
) -> s.QrCode:
    """A new code (audited in its transaction). The store must exist; a staff code's
    account must belong to that store."""
    given = {
        "store_id": body.store_id,
        "shelf": body.shelf,
        "staff_username": body.staff_username,
        "campaign_id": body.campaign_id,
    }
    rules.check_qr_fields(body.kind, given)
    if body.store_id:
        from chalicelib.stores.service import get_store_model

        get_store_model(body.store_id)  # 404 for an unknown store
    if body.staff_username:
        try:
            staff = StaffModel.get(body.staff_username)
        except DoesNotExist:
            raise NotFound(f"No account {body.staff_username!r}.", code="staff_not_found") from None
        if staff.store_id != body.store_id:
            raise ValidationFailed(
                "That account belongs to another store.",
                details=[field_error("staff_username", "not of this store")],
            )
    now = clock.now_iso()
    for _ in range(3):
        qr = MemberQrCodeModel(
            code or rules.new_qr_code(),
            kind=body.kind,
            label=body.label,
            store_id=body.store_id,
            shelf=body.shelf,
            staff_username=body.staff_username,
            campaign_id=body.campaign_id,
            active=True,
            listing="qr",
            created_at=now,
            created_by=principal.subject,
        )
        qr.created_key = f"{now}#{qr.code}"
        entry = audit.new_entry(
            principal,
            "member_qr.create",
            audit.Target("member_qr", qr.code, body.store_id),
            {},
            {"kind": body.kind, "label": body.label, **{k: v for k, v in given.items() if v}},
            always=True,
        )

        def write(tx: Any, qr: MemberQrCodeModel = qr, entry: Any = entry) -> None:
            tx.save(qr, condition=MemberQrCodeModel.code.does_not_exist(), label="qr")
            audit.with_entry(tx, entry)

        try:
            transact(write)
            return qr_view(qr)
        except TransactionCancelled as exc:
            if "qr" not in exc.failed or code is not None:
                raise
    raise RuntimeError("three random QR codes taken in a row")


def list_qr_codes(principal: Principal, store_id: str | None) -> s.QrCodeList:
    """Head office: every code (or one store's); a store manager: their store's."""
    if not principal.is_hq:
        if store_id is not None and store_id != principal.store_id:
            raise Forbidden("Your account belongs to another store.", code="other_store")
        store_id = principal.store_id
    items = [
        qr_view(q)
        for q in MemberQrCodeModel.by_created.query("qr", scan_index_forward=False)
        if store_id is None or q.store_id == store_id
    ]
    return s.QrCodeList(items=items)


def set_qr_active(code: str, body: s.QrCodeUpdate, principal: Principal) -> s.QrCode:
    """Switch a code off (it stops registering members) or on again; audited in the
    change's transaction. Members it brought keep their source."""
    try:
        qr = MemberQrCodeModel.get(code, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No QR code {code!r}.", code="qr_code_not_found") from None
    before = qr.active is not False
    if before == body.active:
        return qr_view(qr)
    now = clock.now_iso()
    q = MemberQrCodeModel
    entry = audit.new_entry(
        principal,
        "member_qr.update",
        audit.Target("member_qr", code, qr.store_id),
        {"active": before},
        {"active": body.active},
    )

    def write(tx: Any) -> None:
        tx.update(
            MemberQrCodeModel(code),
            actions=[
                q.active.set(body.active),
                q.updated_at.set(now),
                q.updated_by.set(principal.subject),
            ],
            condition=q.code.exists(),
            label="qr",
        )
        audit.with_entry(tx, entry)

    transact(write)
    qr.refresh(consistent_read=True)
    return qr_view(qr)
