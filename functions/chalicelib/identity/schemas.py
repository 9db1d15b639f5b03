"""Sign-in, tokens and staff accounts."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from chalicelib.kernel.schema import Out, Phone, Schema, StoreId, Timestamp

OtpCode = Annotated[str, Meta(pattern=r"^\d{6}$", examples=["123456"])]
Username = Annotated[
    str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,39}$", examples=["sh-jingan-manager"])
]
Password = Annotated[str, Meta(min_length=1, max_length=200)]
NewPassword = Annotated[
    str, Meta(min_length=10, max_length=200, description="At least 10 characters.")
]
StaffRole = Literal["store_staff", "store_manager", "hq_admin"]
Source = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9._-]{4,120}$",
        description="Where the member came from: the code of the parameterised QR code they "
        "scanned (head office creates them: /admin/members/qr-codes), or the member token of "
        "a receipt ticket's QR code. Recorded on first sign-in only; an unknown code is 422 "
        "``unknown_source`` (the sign-in code is not used up: retry without it).",
        examples=["Q7K2M9XA"],
    ),
]


class OtpRequest(Schema, kw_only=True):
    phone: Phone


class OtpSent(Out, kw_only=True):
    sent: bool = True
    expires_in_s: int
    resend_after_s: int
    dev_code: str | None = None  # only in the local stage, where no SMS is sent


class OtpVerify(Schema, kw_only=True):
    phone: Phone
    code: OtpCode
    source: Source | None = None
    nickname: Annotated[str, Meta(min_length=1, max_length=30)] | None = None


class CustomerSummary(Out, kw_only=True):
    customer_id: str
    phone_masked: str
    nickname: str | None = None
    new_member: bool = False


class CustomerSession(Out, kw_only=True):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: Timestamp  # when the token stops working
    customer: CustomerSummary


class StaffLogin(Schema, kw_only=True):
    username: Username
    password: Password


class StaffAccount(Out, kw_only=True):
    username: str
    role: str
    store_id: str | None = None
    display_name: str
    active: bool = True


class StaffSession(Out, kw_only=True):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: Timestamp  # when the token stops working
    staff: StaffAccount


class Me(Out, kw_only=True):
    subject: str
    role: str
    store_id: str | None = None


class StaffCreate(Schema, kw_only=True):
    username: Username
    password: NewPassword
    role: StaffRole
    store_id: StoreId | None = None
    display_name: Annotated[str, Meta(min_length=1, max_length=40)]


class StaffUpdate(Schema, kw_only=True):
    password: NewPassword | UnsetType = UNSET
    display_name: Annotated[str, Meta(min_length=1, max_length=40)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class StaffQuery(Schema, kw_only=True):
    store_id: Annotated[str, Meta(description="A store id, or 'hq' for head-office accounts.")]


class StaffList(Out, kw_only=True):
    items: list[StaffAccount]
