"""Identity tables: staff accounts, customers and their phones, sign-in codes,
the sign-in guard's counters. Times are UTC ISO-8601."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta


class StaffByStore(GlobalSecondaryIndex):
    """Accounts of one store, or of head office (scope "hq")."""

    class Meta:
        index_name = "by_store"
        projection = AllProjection()

    store_scope = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute(range_key=True)


class StaffModel(Model):
    """A head-office or store account that signs in with a password."""

    Meta = _meta("staff")

    username = UnicodeAttribute(hash_key=True)
    role = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)
    store_scope = UnicodeAttribute()  # store_id, or "hq" for head office
    display_name = UnicodeAttribute()
    password_hash = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Tokens carry the generation they were issued under; bumping it (disable, enable,
    # password reset, sign out everywhere) revokes every older token (auth/sessions.py).
    token_gen = NumberAttribute(default=0)
    # Part of the per-client sign-in guard keys: bumping it (unlock, password reset)
    # forgets every client's failures at once (identity/signin_guard.py).
    signin_epoch = NumberAttribute(default=0)

    by_store = StaffByStore()


class CustomersByBirthday(GlobalSecondaryIndex):
    """Sparse: members with a birthday, by "MM-DD" (the daily birthday-coupon job
    queries one day, never scans). Added by the levels part of issue 14; the members
    part owns ``birthday`` itself."""

    class Meta:
        index_name = "by_birthday"
        projection = KeysOnlyProjection()

    birthday = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CustomersByRegistration(GlobalSecondaryIndex):
    """Members by registration month, newest first: the admin member list pages through
    the months of its date range (one Query per month, never a scan). Sparse: an erased
    member leaves it (members/privacy.py)."""

    class Meta:
        index_name = "by_registration"
        projection = AllProjection()

    reg_month = UnicodeAttribute(hash_key=True)  # "YYYY-MM" (UTC)
    created_at = UnicodeAttribute(range_key=True)


class CustomersByHomeStore(GlobalSecondaryIndex):
    """A store's members, newest first (a store manager's member list)."""

    class Meta:
        index_name = "by_home_store"
        projection = AllProjection()

    home_store_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class CustomersByLevel(GlobalSecondaryIndex):
    """Members at one level (会员等级), newest first: the admin list's level filter (one
    Query, never a scan). ``level`` is loyalty's copy of the growth account's level,
    written in the level change's transaction (loyalty/growth.py); an erased member
    leaves it (members/privacy.py)."""

    class Meta:
        index_name = "by_level"
        projection = AllProjection()

    level = UnicodeAttribute(hash_key=True)  # e.g. "V3"
    created_at = UnicodeAttribute(range_key=True)


class CustomerModel(Model):
    """A member (会员), registered by phone on first sign-in. The member's profile,
    consent and source live here too (members/), all nullable, so one GetItem reads a
    member."""

    Meta = _meta("customers")
    # Domain events come from this stream (events/records.py: STREAM_VIEWS)
    Meta.stream_view_type = "NEW_IMAGE"

    customer_id = UnicodeAttribute(hash_key=True)
    phone = UnicodeAttribute()
    nickname = UnicodeAttribute(null=True)
    source = UnicodeAttribute(null=True)  # from a parameterised QR code, e.g. "store:sh-jingan"
    home_store_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    token_gen = NumberAttribute(default=0)  # "sign out everywhere" bumps it (auth/sessions.py)
    by_birthday = CustomersByBirthday()
    reg_month = UnicodeAttribute(null=True)  # "YYYY-MM" of created_at (by_registration)
    # Profile (members/service.py): birthday is "MM-DD" (no year: the birthday gift only).
    birthday = UnicodeAttribute(null=True)
    gender = UnicodeAttribute(null=True)  # female | male | unspecified
    # Saved addresses live in member_addresses; the count caps them under a condition.
    address_count = NumberAttribute(null=True)
    default_address_id = UnicodeAttribute(null=True)
    # Marketing consent (PIPL Art. 24): the current state; every change is also in
    # member_consents. Marketing reaches only members whose state is "granted".
    marketing_consent = UnicodeAttribute(null=True)  # granted | revoked (None: never asked)
    consent_at = UnicodeAttribute(null=True)
    consent_channel = UnicodeAttribute(null=True)
    # Where the member came from, recorded once at registration (members/sources.py);
    # ``source`` keeps the QR code (or "ticket:<order_id>").
    source_kind = UnicodeAttribute(null=True)  # store | shelf | staff | campaign | ticket | invite
    source_store_id = UnicodeAttribute(null=True)
    source_shelf = UnicodeAttribute(null=True)
    source_staff = UnicodeAttribute(null=True)
    source_campaign = UnicodeAttribute(null=True)
    source_order_id = UnicodeAttribute(null=True)
    source_at = UnicodeAttribute(null=True)
    # The member whose invitation brought them (source_kind "invite"), written once with
    # the member; member.registered carries it (the inviter's invite task).
    invited_by = UnicodeAttribute(null=True)
    # Set when the member deleted their account (PIPL Art. 47): personal data erased.
    erased_at = UnicodeAttribute(null=True)
    # The member's level, copied by loyalty (loyalty/growth.py) in the transaction that
    # changes the growth account's level, and the lowest level at registration; read by
    # the admin member list (members/ does not import loyalty). None: not yet copied.
    level = UnicodeAttribute(null=True)
    # The growth account's version of the change that wrote ``level`` (copies made after
    # the account's update may arrive out of order: only a newer one is written)
    level_version = NumberAttribute(null=True)

    by_registration = CustomersByRegistration()
    by_home_store = CustomersByHomeStore()
    by_level = CustomersByLevel()


class CustomerPhoneModel(Model):
    """Phone -> customer: written with the customer in one transaction, so one phone is
    one member even when two first sign-ins race."""

    Meta = _meta("customer_phones")

    phone = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()


class OtpChallengeModel(Model):
    """The one-time code last sent to a phone (stored as a keyed hash, never in clear)."""

    Meta = _meta("otp_challenges")

    phone = UnicodeAttribute(hash_key=True)
    code_hash = UnicodeAttribute()
    sent_at = NumberAttribute()
    # Not counted: wrong codes are capped per phone over all clients by the sign-in guard
    # (identity/signin_guard.py, MAX_FAILED_CODES_PER_PHONE), which outlives the code.
    attempts = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class SigninGuardModel(Model):
    """Failed sign-ins for one account or phone, and the lockout they caused."""

    Meta = _meta("signin_guards")

    key = UnicodeAttribute(hash_key=True)  # "staff:<username>" or "otp:<phone>"
    failures = NumberAttribute(default=0)
    locked_until = NumberAttribute(default=0)
    expires_at = TTLAttribute()


IDENTITY_MODELS: tuple[type[Model], ...] = (
    StaffModel,
    CustomerModel,
    CustomerPhoneModel,
    OtpChallengeModel,
    SigninGuardModel,
)
