"""Members: profile, addresses, consent, QR codes, export and deletion, the admin list."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from chalicelib.kernel.schema import Latitude, Longitude, Out, Phone, Schema, StoreId, Timestamp

Nickname = Annotated[str, Meta(min_length=1, max_length=30, examples=["王女士"])]
Birthday = Annotated[
    str,
    Meta(
        pattern=r"^\d\d-\d\d$",
        description="Month and day, 'MM-DD' (no year; '02-29' is allowed). Set once: "
        "changing it later is 409 ``birthday_locked`` (the birthday gift is once a year).",
        examples=["03-15"],
    ),
]
Gender = Literal["female", "male", "unspecified"]
Channel = Literal["storefront", "store", "ticket_qr"]
SourceKind = Literal["store", "shelf", "staff", "campaign", "ticket", "invite"]
QrKind = Literal["store", "shelf", "staff", "campaign"]
Label = Annotated[str, Meta(min_length=1, max_length=40)]


class MemberProfile(Out, kw_only=True):
    customer_id: str
    phone_masked: str
    nickname: str | None = None
    birthday: str | None = None
    gender: str | None = None
    home_store_id: str | None = None
    marketing_consent: str | None = None  # granted | revoked | None (never asked)
    source_kind: str | None = None
    registered_at: Timestamp


class ProfileUpdate(Schema, kw_only=True):
    """Fields left out stay as they are; ``null`` clears nickname or gender."""

    nickname: Nickname | UnsetType | None = UNSET
    birthday: Birthday | UnsetType = UNSET
    gender: Gender | UnsetType | None = UNSET


class AddressIn(Schema, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=20, examples=["王女士"])]
    phone: Phone
    line: Annotated[str, Meta(min_length=1, max_length=120, examples=["南京西路1618号 5楼"])]
    lat: Latitude
    lng: Longitude
    label: Annotated[str, Meta(min_length=1, max_length=10, examples=["家"])] | None = None
    default: bool = False


class AddressUpdate(Schema, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    line: Annotated[str, Meta(min_length=1, max_length=120)] | UnsetType = UNSET
    lat: Latitude | UnsetType = UNSET
    lng: Longitude | UnsetType = UNSET
    label: Annotated[str, Meta(min_length=1, max_length=10)] | UnsetType | None = UNSET
    default: Literal[True] | UnsetType = UNSET  # make it the default (another one stops being)


class Address(Out, kw_only=True):
    address_id: str
    name: str
    phone: str
    line: str
    lat: float
    lng: float
    label: str | None = None
    default: bool = False


class AddressList(Out, kw_only=True):
    items: list[Address]
    max_addresses: int


class ConsentUpdate(Schema, kw_only=True):
    granted: bool
    channel: Channel = "storefront"


class Consent(Out, kw_only=True):
    marketing_consent: str | None = None  # granted | revoked | None (never asked)
    at: Timestamp | None = None
    channel: str | None = None


class ConsentChange(Out, kw_only=True):
    granted: bool
    channel: str
    at: Timestamp
    actor: str


class ConsentState(Consent, kw_only=True):
    history: list[ConsentChange]


class BindTicket(Schema, kw_only=True):
    """Exactly one of the two: the token of a receipt ticket's member QR code, or the
    code of one of your own orders."""

    token: Annotated[str, Meta(min_length=10, max_length=120)] | None = None
    order_code: Annotated[str, Meta(pattern=r"^[A-Za-z0-9]{6,32}$")] | None = None


class Binding(Out, kw_only=True):
    home_store_id: str | None = None
    bound: bool  # true when this call set the home store
    source_kind: str | None = None


class DeleteAccount(Schema, kw_only=True):
    confirm: Annotated[
        Literal["DELETE"],
        Meta(description="Must be the word DELETE: deletion cannot be undone."),
    ]


class Deleted(Out, kw_only=True):
    deleted: bool = True
    erased_at: Timestamp


class MemberSource(Out, kw_only=True):
    kind: str | None = None
    code: str | None = None
    invited_by: str | None = None  # the inviting member's id (kind "invite")
    store_id: str | None = None
    shelf: str | None = None
    staff_username: str | None = None
    campaign_id: str | None = None
    order_id: str | None = None
    at: Timestamp | None = None


class MemberExport(Out, kw_only=True):
    """Everything Daojia holds on the member (PIPL Art. 45)."""

    exported_at: Timestamp
    profile: MemberProfile
    source: MemberSource
    addresses: list[Address]
    consent_history: list[ConsentChange]
    # One entry per data provider (members/providers.py): orders, coupons, and the
    # loyalty and stored-value ledgers once those parts add theirs.
    sections: dict[str, Any]


class QrCodeCreate(Schema, kw_only=True):
    kind: QrKind
    label: Label
    store_id: StoreId | None = None
    shelf: Annotated[str, Meta(pattern=r"^[A-Za-z0-9-]{1,20}$", examples=["A3"])] | None = None
    staff_username: Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,39}$")] | None = None
    campaign_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None


class QrCode(Out, kw_only=True):
    code: str
    kind: str
    label: str
    store_id: str | None = None
    shelf: str | None = None
    staff_username: str | None = None
    campaign_id: str | None = None
    active: bool = True
    registered: int = 0  # members registered through it
    link: str  # what the printed QR code holds: the storefront's join page with the code
    created_at: Timestamp
    created_by: str
    updated_at: Timestamp | None = None
    updated_by: str | None = None


class QrCodeUpdate(Schema, kw_only=True):
    active: Annotated[
        bool,
        Meta(
            description="false: the code stops registering members (422 ``unknown_source`` "
            "at sign-in); members it brought keep their source. true: it works again."
        ),
    ]


class Invite(Out, kw_only=True):
    code: Annotated[
        str,
        Meta(
            description="Your invitation code: a friend who signs in for the first time with "
            "it as ``source`` is recorded as invited by you (the invite task rewards you once "
            "per friend). The same code every time."
        ),
    ]
    link: Annotated[str, Meta(description="The link to share: the storefront's join page.")]


class QrCodeQuery(Schema, kw_only=True):
    store_id: StoreId | None = None


class QrCodeList(Out, kw_only=True):
    items: list[QrCode]


class MemberQuery(Schema, kw_only=True):
    phone: Phone | None = None
    source_kind: SourceKind | None = None
    registered_from: (
        Annotated[str, Meta(pattern=r"^\d{4}-\d\d-\d\d$", description="UTC date, inclusive.")]
        | None
    ) = None
    registered_to: (
        Annotated[str, Meta(pattern=r"^\d{4}-\d\d-\d\d$", description="UTC date, inclusive.")]
        | None
    ) = None
    store_id: StoreId | None = None  # head office: members of one home store
    level: (
        Annotated[
            str,
            Meta(
                pattern=r"^[A-Za-z0-9_-]{1,20}$",
                description="Members at this level (e.g. V3; codes: GET /admin/loyalty/levels).",
                examples=["V3"],
            ),
        ]
        | None
    ) = None
    # Members with this manual tag (issue 15 item 2), by member id: with store_id (or a
    # store's own members), source_kind and level, not with phone or registration dates.
    tag: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=20,
                description="Members with this manual tag (标签), in member id order.",
                examples=["爱买榴莲"],
            ),
        ]
        | None
    ) = None
    cursor: str | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class MemberRow(Out, kw_only=True):
    customer_id: str
    phone: str  # in full for head office, masked for store staff
    nickname: str | None = None
    home_store_id: str | None = None
    source_kind: str | None = None
    marketing_consent: str | None = None
    level: str | None = None  # None: the lowest (no growth yet, or not copied yet)
    registered_at: Timestamp


class MemberPage(Out, kw_only=True):
    items: list[MemberRow]
    next_cursor: str | None = None


class MemberOrderSummary(Out, kw_only=True):
    order_id: str
    store_id: str
    status: str
    total_fen: int
    refunded_fen: int = 0
    created_at: Timestamp


class MemberCouponSummary(Out, kw_only=True):
    coupon_id: str
    name: str
    state: str
    valid_until: Timestamp


class MemberDetail(Out, kw_only=True):
    customer_id: str
    phone: str
    nickname: str | None = None
    birthday: str | None = None
    gender: str | None = None
    home_store_id: str | None = None
    marketing_consent: str | None = None
    consent_at: Timestamp | None = None
    consent_channel: str | None = None
    source: MemberSource
    registered_at: Timestamp
    erased: bool = False
    recent_orders: list[MemberOrderSummary]
    coupons: list[MemberCouponSummary]
