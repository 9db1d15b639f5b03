"""Signing in: customers by phone and one-time code, staff by password."""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.audit import service as audit
from chalicelib.auth import sessions, tokens
from chalicelib.auth.passwords import dummy_hash, hash_password, verify_password
from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.db.writes import save_new
from chalicelib.identity import schemas as s
from chalicelib.identity import signin_guard, sms
from chalicelib.identity.models import (
    CustomerModel,
    CustomerPhoneModel,
    OtpChallengeModel,
    StaffModel,
)
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from chalicelib.kernel.privacy import mask_phone

log = logging.getLogger("daojia.identity")


def _code_hash(phone: str, code: str) -> str:
    key = tokens.signing_key().encode()
    return hmac.new(key, f"otp:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def request_otp(phone: str, client_ip: str | None = None) -> s.OtpSent:
    """Send a sign-in code, at most one per phone every OTP_RESEND_S seconds."""
    signin_guard.ensure_not_locked(signin_guard.for_phone(phone, client_ip))
    sender = sms.provider()  # fail before recording a code that would never be sent
    now = int(time.time())
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = OtpChallengeModel(
        phone,
        code_hash=_code_hash(phone, code),
        sent_at=now,
        attempts=0,
        expires_at=timedelta(seconds=config.OTP_TTL_S),
    )
    try:
        challenge.save(
            condition=OtpChallengeModel.phone.does_not_exist()
            | (OtpChallengeModel.sent_at <= now - config.OTP_RESEND_S)
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise TooManyRequests(
                f"A code was sent less than {config.OTP_RESEND_S} s ago; wait before asking again.",
                code="otp_too_soon",
                details={"retry_after_s": config.OTP_RESEND_S},
            ) from None
        raise
    sender.send_code(phone, code)
    return s.OtpSent(
        expires_in_s=config.OTP_TTL_S,
        resend_after_s=config.OTP_RESEND_S,
        dev_code=code if sms.code_visible_in_response() else None,
    )


def _expiry(exp: int) -> str:
    """A token's ``exp`` (epoch seconds) as the API writes every time: UTC ISO-8601."""
    return clock.iso(datetime.fromtimestamp(exp, UTC))


def verify_otp(body: s.OtpVerify, client_ip: str | None = None) -> s.CustomerSession:
    """Check the code (single use) and sign the customer in, registering on first sign-in.
    ``client_ip``: the caller's address, for the lockout rule (identity/signin_guard.py)."""
    guard_key = signin_guard.for_phone(body.phone, client_ip)
    signin_guard.ensure_not_locked(guard_key)
    # Before the code is used up: an unknown QR code is a 422 the client can retry without.
    source = resolve_source(body.source, phone=body.phone) if body.source else None
    wrong = Unauthorized("The code is wrong or has expired; ask for a new one.", code="otp_invalid")
    try:
        challenge = OtpChallengeModel.get(body.phone, consistent_read=True)
    except DoesNotExist:
        signin_guard.record_failure(guard_key)
        raise wrong from None
    if challenge.expires_at.timestamp() < time.time():  # TTL deletion is lazy: check it
        raise wrong
    if not hmac.compare_digest(challenge.code_hash, _code_hash(body.phone, body.code)):
        signin_guard.record_failure(guard_key)
        raise wrong
    try:  # single use: only one of two racing verifications wins the code
        challenge.delete(condition=OtpChallengeModel.code_hash == challenge.code_hash)
    except Exception:
        raise wrong from None
    signin_guard.clear(guard_key)
    customer, new = _find_or_register(body, source)
    token, exp = tokens.issue(
        customer.customer_id,
        "customer",
        None,
        config.CUSTOMER_TOKEN_TTL_S,
        generation=int(customer.token_gen or 0),
    )
    return s.CustomerSession(
        token=token,
        expires_at=_expiry(exp),
        customer=s.CustomerSummary(
            customer_id=customer.customer_id,
            phone_masked=mask_phone(customer.phone),
            nickname=customer.nickname,
            new_member=new,
        ),
    )


def _find_or_register(
    body: s.OtpVerify, source: Mapping[str, Any] | None
) -> tuple[CustomerModel, bool]:
    try:
        link = CustomerPhoneModel.get(body.phone)
        # Strongly consistent: the token must carry the current generation. An existing
        # member's source never changes: it was recorded once, at registration.
        return CustomerModel.get(link.customer_id, consistent_read=True), False
    except DoesNotExist:
        pass
    return register_customer(body.phone, nickname=body.nickname, source_attrs=source)


# Members (a feature above identity) turn a QR code, ticket token or invite code into the
# attributes a new member records, and give the writes that join the registration's
# transaction (the QR code's count, under its "still active" condition; the inviter still
# a member). Imported by name, as events imports subscriber modules, so identity depends
# on nothing above it.
SOURCE_RESOLVER = "chalicelib.members.sources:attributes_for_registration"
SOURCE_PIECES = "chalicelib.members.sources:registration_pieces"


def _by_name(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def resolve_source(code: str, *, phone: str | None = None) -> dict[str, Any]:
    """The member attributes the source code stands for (422 ``unknown_source``; 422
    ``self_invite`` when ``phone`` is the inviter's own)."""
    resolved: dict[str, Any] = _by_name(SOURCE_RESOLVER)(code, phone=phone)
    return resolved


def _unknown_source() -> ValidationFailed:
    return ValidationFailed(
        "This QR code or invitation is no longer in use; sign in without it.",
        code="unknown_source",
        details=[{"field": "source", "reason": "no longer in use"}],
    )


def register_customer(
    phone: str,
    *,
    nickname: str | None = None,
    source: str | None = None,
    home_store_id: str | None = None,
    customer_id: str | None = None,
    source_attrs: Mapping[str, Any] | None = None,
) -> tuple[CustomerModel, bool]:
    """Create a member and claim its phone in one transaction; if the phone is already
    claimed (a racing sign-in, or a re-run of seeding), return the existing member.
    ``source_attrs``: what ``resolve_source`` gave (the source code, its kind, store,
    shelf, staff, campaign, and the home store it implies). Returns (member, created)."""
    attrs = dict(source_attrs or {})
    if source is not None:
        attrs.setdefault("source", source)
    if home_store_id is not None:
        attrs["home_store_id"] = home_store_id
    now = clock.now_iso()
    if attrs.get("source") and not attrs.get("source_at"):
        attrs["source_at"] = now
    customer = CustomerModel(
        customer_id or f"c-{uuid.uuid4().hex[:16]}",
        phone=phone,
        nickname=nickname,
        created_at=now,
        reg_month=now[:7],
        **attrs,
    )
    link = CustomerPhoneModel(phone, customer_id=customer.customer_id)
    pieces: list[TxPiece] = _by_name(SOURCE_PIECES)(attrs) if attrs.get("source_kind") else []

    def write(tx: Tx) -> None:
        tx.save(customer, condition=CustomerModel.customer_id.does_not_exist(), label="member")
        tx.save(link, condition=CustomerPhoneModel.phone.does_not_exist(), label="phone")
        tx.add(*pieces)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if exc.failed and not {"member", "phone"} & set(exc.failed):
            # the QR code was switched off, or the inviter left, since it was resolved:
            # nothing was written
            raise _unknown_source() from None
        existing = CustomerPhoneModel.get(phone, consistent_read=True)
        return CustomerModel.get(existing.customer_id, consistent_read=True), False
    except TransactWriteError:
        existing = CustomerPhoneModel.get(phone, consistent_read=True)
        return CustomerModel.get(existing.customer_id, consistent_read=True), False
    # 新人礼 and other reactions subscribe to member.registered (the customers stream).
    return customer, True


def staff_login(body: s.StaffLogin, client_ip: str | None = None) -> s.StaffSession:
    """Password sign-in for head office and store staff. ``client_ip``: the caller's
    address, for the lockout rule (identity/signin_guard.py)."""
    try:  # strongly consistent: the token must carry the current generation
        account: StaffModel | None = StaffModel.get(body.username, consistent_read=True)
    except DoesNotExist:
        account = None
    guard_key = signin_guard.for_staff(
        body.username, client_ip, int(account.signin_epoch or 0) if account else 0
    )
    signin_guard.ensure_not_locked(guard_key)
    # Same work whether or not the account exists: timing tells nothing.
    stored = account.password_hash if account else dummy_hash()
    if not verify_password(body.password, stored) or account is None:
        signin_guard.record_failure(guard_key)
        raise Unauthorized("Wrong username or password.", code="bad_credentials")
    if not account.active:
        raise Forbidden("This account is disabled; ask head office.", code="account_disabled")
    signin_guard.clear(guard_key)
    token, exp = tokens.issue(
        account.username,
        account.role,
        account.store_id,
        config.STAFF_TOKEN_TTL_S,
        generation=int(account.token_gen or 0),
    )
    return s.StaffSession(token=token, expires_at=_expiry(exp), staff=staff_view(account))


def staff_view(account: StaffModel) -> s.StaffAccount:
    return s.StaffAccount(
        username=account.username,
        role=account.role,
        store_id=account.store_id,
        display_name=account.display_name,
        active=account.active,
    )


def create_staff(
    body: s.StaffCreate, *, password_hash: str | None = None, principal: Principal | None = None
) -> s.StaffAccount:
    """Create an account. Store roles need a store; head office must not have one. With
    ``principal`` (the admin route; not seeding) the creation is audited in its
    transaction."""
    if body.role == HQ_ADMIN and body.store_id:
        raise ValidationFailed(
            "Head-office accounts belong to no store.",
            details=[{"field": "store_id", "reason": "must be empty for hq_admin"}],
        )
    if body.role != HQ_ADMIN and not body.store_id:
        raise ValidationFailed(
            "Store accounts need a store.",
            details=[{"field": "store_id", "reason": "required for store roles"}],
        )
    if body.store_id:
        from chalicelib.stores.service import get_store_model

        get_store_model(body.store_id)  # 404 for an unknown store
    now = clock.now_iso()
    account = StaffModel(
        body.username,
        role=body.role,
        store_id=body.store_id,
        store_scope=body.store_id or "hq",
        display_name=body.display_name,
        password_hash=password_hash or hash_password(body.password),
        active=True,
        created_at=now,
        updated_at=now,
    )
    taken = Conflict(f"The username {body.username!r} is taken.", code="username_taken")
    if principal is None:
        save_new(account, taken)
        return staff_view(account)
    after = {"role": body.role, "store_id": body.store_id, "display_name": body.display_name}
    after["password"] = "set"  # noqa: S105 - a marker: the log shows ***
    entry = audit.new_entry(
        principal, "staff.create", _staff_target(account), {}, after, always=True
    )
    try:
        _audited_write(account, None, entry, StaffModel.username.does_not_exist())
    except TransactionCancelled as exc:
        if "account" in exc.failed:
            raise taken from None
        raise
    return staff_view(account)


def _staff_target(account: StaffModel) -> audit.Target:
    return audit.Target("staff", account.username, account.store_id)


def _audited_write(
    account: StaffModel, actions: list[Action] | None, entry: Any, condition: Any
) -> None:
    """Save (``actions`` None) or update the account with its audit entry, in one
    transaction."""

    def write(tx: Tx) -> None:
        if actions is None:
            tx.save(account, condition=condition, label="account")
        else:
            tx.update(account, actions=actions, condition=condition, label="account")
        if entry is not None:
            audit.piece_of(entry).add_to(tx)

    transact(write)


def list_staff(scope: str) -> s.StaffList:
    """Accounts of one store, or of head office ('hq')."""
    return s.StaffList(items=[staff_view(a) for a in StaffModel.by_store.query(scope)])


def _managed_account(username: str, principal: Principal) -> StaffModel:
    """The account if the principal may manage it: head office any, a store manager the
    accounts of their own store except head office's (404 / 403 otherwise)."""
    try:
        account = StaffModel.get(username, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No account {username!r}.", code="staff_not_found") from None
    if not principal.is_hq and not principal.can_act_for_store(account.store_id or ""):
        raise Forbidden("That account belongs to another store.", code="other_store")
    if account.role == HQ_ADMIN and not principal.is_hq:
        raise Forbidden("Only head office changes head-office accounts.", code="role_not_allowed")
    return account


def update_staff(username: str, body: s.StaffUpdate, principal: Principal) -> s.StaffAccount:
    """Change an account's password, name or active flag. Disabling, re-enabling and a
    new password end every session of the account; a new password also lifts a lockout."""
    account = _managed_account(username, principal)
    if username == principal.subject and body.active is False:
        raise Conflict(
            "You cannot disable your own account; ask head office or another manager.",
            code="cannot_change_own_account",
            details={"field": "active"},
        )
    actions: list[Action] = [StaffModel.updated_at.set(clock.now_iso())]
    ends_sessions = False
    if not isinstance(body.password, type(s.UNSET)):
        actions.append(StaffModel.password_hash.set(hash_password(body.password)))
        actions.append(StaffModel.signin_epoch.add(1))  # forgets every address's failures
        ends_sessions = True
    if not isinstance(body.display_name, type(s.UNSET)):
        actions.append(StaffModel.display_name.set(body.display_name))
    if not isinstance(body.active, type(s.UNSET)) and body.active != (account.active is not False):
        actions.append(StaffModel.active.set(body.active))
        ends_sessions = True
    if ends_sessions:
        actions.append(StaffModel.token_gen.add(1))
    before = {"display_name": account.display_name, "active": account.active is not False}
    after = {
        f: getattr(body, f)
        for f in ("display_name", "active")
        if not isinstance(getattr(body, f), type(s.UNSET))
    }
    if not isinstance(body.password, type(s.UNSET)):
        before["password"], after["password"] = "old", "new"  # shown as *** (audit.rules)
    entry = audit.new_entry(principal, "staff.update", _staff_target(account), before, after)
    _audited_write(account, actions, entry, StaffModel.username.exists())
    account.refresh(consistent_read=True)
    if not isinstance(body.password, type(s.UNSET)):
        signin_guard.clear_account(signin_guard.for_staff(username, None))
    sessions.forget("staff", username)
    return staff_view(account)


def unlock_staff(username: str, principal: Principal) -> s.StaffAccount:
    """Lift a lockout caused by failed sign-ins, for every address at once."""
    account = _managed_account(username, principal)
    entry = audit.new_entry(principal, "staff.unlock", _staff_target(account), {}, {}, always=True)
    _audited_write(
        account,
        [StaffModel.signin_epoch.add(1), StaffModel.updated_at.set(clock.now_iso())],
        entry,
        StaffModel.username.exists(),
    )
    signin_guard.clear_account(signin_guard.for_staff(username, None))
    return staff_view(account)


def sign_out_staff(username: str, principal: Principal) -> s.StaffAccount:
    """End every session of the account (its tokens stop working; it may sign in again)."""
    account = _managed_account(username, principal)
    entry = audit.new_entry(
        principal, "staff.sign_out_everywhere", _staff_target(account), {}, {}, always=True
    )
    _audited_write(
        account,
        [StaffModel.token_gen.add(1), StaffModel.updated_at.set(clock.now_iso())],
        entry,
        StaffModel.username.exists(),
    )
    sessions.forget("staff", username)
    return staff_view(account)


def sign_out_everywhere(principal: Principal) -> None:
    """The caller ends every session of their own account, this one included."""
    if principal.role == CUSTOMER:
        try:
            CustomerModel(principal.subject).update(
                actions=[CustomerModel.token_gen.add(1)],
                condition=CustomerModel.customer_id.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            raise NotFound("No such member.", code="customer_not_found") from None
        sessions.forget("customer", principal.subject)
        return
    try:
        StaffModel(principal.subject).update(
            actions=[StaffModel.token_gen.add(1), StaffModel.updated_at.set(clock.now_iso())],
            condition=StaffModel.username.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise NotFound("No such account.", code="staff_not_found") from None
    sessions.forget("staff", principal.subject)
