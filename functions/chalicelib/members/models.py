"""Members' own tables: saved addresses, the marketing-consent history, the parameterised
QR codes members register through. The member item is identity's CustomerModel."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta


class MemberAddressModel(Model):
    """A saved address (at most MAX_ADDRESSES per member: the member item's
    ``address_count`` is added to under a condition in the same transaction)."""

    Meta = _meta("member_addresses")

    customer_id = UnicodeAttribute(hash_key=True)
    address_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    phone = UnicodeAttribute()
    line = UnicodeAttribute()
    lat = NumberAttribute()
    lng = NumberAttribute()
    label = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class MemberConsentModel(Model):
    """One change of a member's marketing consent (PIPL Art. 24), append-only. A table and
    not a list on the member item: the history only grows, and the member item is read on
    every sign-in and order, so it stays small; written in the change's transaction."""

    Meta = _meta("member_consents")

    customer_id = UnicodeAttribute(hash_key=True)
    at_id = UnicodeAttribute(range_key=True)  # "<at>#<random>": in time order
    granted = BooleanAttribute()
    channel = UnicodeAttribute()
    at = UnicodeAttribute()
    actor = UnicodeAttribute()  # "customer", or the admin's username


class QrCodesByCreation(GlobalSecondaryIndex):
    """Every QR code, newest first: head office makes hundreds, not millions."""

    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)  # always "qr"
    created_key = UnicodeAttribute(range_key=True)  # "<created_at>#<code>"


class MemberQrCodeModel(Model):
    """A parameterised QR code that brings members in: its opaque code is what the QR
    holds, and what the storefront passes as ``source`` at sign-in."""

    Meta = _meta("member_qr_codes")

    code = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()  # store | shelf | staff | campaign
    store_id = UnicodeAttribute(null=True)
    shelf = UnicodeAttribute(null=True)
    staff_username = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    label = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    # Members registered through it: ADDed in each registration's transaction, under the
    # condition that the code is still active (members/sources.py registration_pieces).
    registered = NumberAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    listing = UnicodeAttribute(default="qr")
    created_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_by = UnicodeAttribute()

    by_created = QrCodesByCreation()


MEMBER_MODELS: tuple[type[Model], ...] = (MemberAddressModel, MemberConsentModel, MemberQrCodeModel)
