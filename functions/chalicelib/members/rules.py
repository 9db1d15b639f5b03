"""Members' plain rules: birthdays, delivery coordinates, QR code parameters, the receipt
ticket's member token. No AWS here."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from chalicelib.kernel.errors import ValidationFailed, field_error

MAX_ADDRESSES = 20
SOURCE_KINDS = ("store", "shelf", "staff", "campaign", "ticket", "invite")
QR_KINDS = ("store", "shelf", "staff", "campaign")
# Days in each month, February with 29: a birthday has no year, and 02-29 members get
# their gift on 02-28 in other years (the loyalty part's rule).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# The chain delivers in mainland China: coordinates outside this box are a client bug
# (swapped lat/lng, 0/0), never an address.
CHINA_LAT = (3.0, 54.0)
CHINA_LNG = (73.0, 136.0)


def check_birthday(value: str) -> str:
    """'MM-DD' of a real calendar day (02-29 allowed); 422 otherwise."""
    m = re.fullmatch(r"(\d\d)-(\d\d)", value)
    if m:
        month, day = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]:
            return value
    raise ValidationFailed(
        "The birthday must be a month and day, 'MM-DD' (for example '02-29').",
        details=[field_error("birthday", "not a calendar day")],
    )


def check_coordinates(lat: float, lng: float) -> None:
    """422 unless the point is inside mainland China's box (and lat/lng not swapped)."""
    if not (CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LNG[0] <= lng <= CHINA_LNG[1]):
        raise ValidationFailed(
            "The coordinates are not a delivery address in China (lat 3..54, lng 73..136; "
            "check that lat and lng are not swapped).",
            details=[field_error("lat", "outside China"), field_error("lng", "outside China")],
        )


# What each QR kind needs besides its label: (required fields, allowed fields).
QR_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "store": (frozenset({"store_id"}), frozenset({"store_id"})),
    "shelf": (frozenset({"store_id", "shelf"}), frozenset({"store_id", "shelf"})),
    "staff": (frozenset({"store_id", "staff_username"}), frozenset({"store_id", "staff_username"})),
    "campaign": (frozenset({"campaign_id"}), frozenset({"campaign_id", "store_id"})),
}


def check_qr_fields(kind: str, given: dict[str, str | None]) -> None:
    """422 when a QR code of ``kind`` lacks a field it needs or has one it cannot have."""
    required, allowed = QR_FIELDS[kind]
    present = {k for k, v in given.items() if v is not None}
    problems = [field_error(f, f"required for kind {kind}") for f in sorted(required - present)]
    problems += [field_error(f, f"not used by kind {kind}") for f in sorted(present - allowed)]
    if problems:
        raise ValidationFailed(
            f"A {kind} QR code needs {', '.join(sorted(required))}.", details=problems
        )


_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at a till


def new_qr_code() -> str:
    """An opaque 8-character code (31^8 ≈ 8.5e11: not guessable in bulk)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


# The receipt ticket's member token: "tk1.<store_id>.<order_id>.<mac>". It says only "this
# was printed for order X at store S"; the MAC (keyed with the API's signing key) stops
# anyone from making one for another store or order. It grants no access to the order.
TICKET_PREFIX = "tk1"


def _ticket_mac(key: str, store_id: str, order_id: str) -> str:
    msg = f"member-ticket|{store_id}|{order_id}".encode()
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()[:20]


def ticket_token(key: str, store_id: str, order_id: str) -> str:
    return f"{TICKET_PREFIX}.{store_id}.{order_id}.{_ticket_mac(key, store_id, order_id)}"


def is_ticket_token(value: str) -> bool:
    return value.startswith(TICKET_PREFIX + ".")


def read_ticket_token(key: str, token: str) -> tuple[str, str] | None:
    """(store_id, order_id) of a genuine token, else None."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TICKET_PREFIX:
        return None
    _, store_id, order_id, mac = parts
    if not hmac.compare_digest(mac, _ticket_mac(key, store_id, order_id)):
        return None
    return store_id, order_id


# A member's invitation code: "iv1.<customer_id>.<mac>". Derived from the member id (the
# same code every time, nothing stored); the MAC stops anyone from making one for a member
# id they guessed. It grants nothing but "this member invited you".
INVITE_PREFIX = "iv1"


def _invite_mac(key: str, customer_id: str) -> str:
    return hmac.new(
        key.encode(), f"member-invite|{customer_id}".encode(), hashlib.sha256
    ).hexdigest()[:16]


def invite_code(key: str, customer_id: str) -> str:
    return f"{INVITE_PREFIX}.{customer_id}.{_invite_mac(key, customer_id)}"


def is_invite_code(value: str) -> bool:
    return value.startswith(INVITE_PREFIX + ".")


def read_invite_code(key: str, code: str) -> str | None:
    """The inviter's customer id of a genuine code, else None."""
    head, _, mac = code.rpartition(".")
    prefix, _, customer_id = head.partition(".")
    if prefix != INVITE_PREFIX or not customer_id or not mac:
        return None
    if not hmac.compare_digest(mac, _invite_mac(key, customer_id)):
        return None
    return customer_id
