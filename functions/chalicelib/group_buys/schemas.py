"""Group buy (拼团): what head office and the storefront send and read."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

Fen = Annotated[int, Meta(ge=1, description="Integer fen (分).")]


class OfferBody(Schema, kw_only=True):
    """A group-buy offer in a campaign. ``on_timeout``: "fail" (every member refunded in
    full when the group does not fill in time) or "complete" (the chain completes the
    group at the group price with the members it has: shown to customers before joining,
    never with fake members)."""

    campaign_id: Annotated[str, Meta(min_length=1, max_length=64)]
    title: Annotated[str, Meta(min_length=1, max_length=60)]
    sku: Annotated[str, Meta(min_length=1, max_length=32)]
    group_price_fen: Fen
    size: Annotated[int, Meta(ge=2, le=100, description="Seats in a group (2 to 100).")]
    time_limit_min: Annotated[int, Meta(ge=5, le=10080, description="Minutes a group stays open.")]
    per_member_limit: Annotated[int, Meta(ge=1, le=100, description="Seats a member may hold.")]
    stores: Annotated[list[str], Meta(min_length=1, max_length=500)]
    pickup_only: bool = True
    on_timeout: Literal["fail", "complete"] = "fail"
    starts_at: Timestamp
    ends_at: Timestamp


class Offer(Out, kw_only=True):
    offer_id: str
    campaign_id: str
    title: str
    sku: str
    group_price_fen: int
    size: int
    time_limit_min: int
    per_member_limit: int
    stores: list[str]
    pickup_only: bool
    on_timeout: Literal["fail", "complete"]
    starts_at: str
    ends_at: str
    created_at: str


class OfferPage(Out, kw_only=True):
    items: list[Offer]


class Member(Out, kw_only=True):
    name: Annotated[str, Meta(description="Masked: never the member's id or phone.")]
    paid: bool
    joined_at: str


class Group(Out, kw_only=True):
    group_id: str
    offer_id: str
    store_id: str
    state: Literal["open", "succeeded", "failed"]
    size: int
    seats_taken: int
    seats_left: int
    seats_paid: int
    price_fen: int
    on_timeout: Literal["fail", "complete"]
    expires_at: str
    members: list[Member]
    offer: Offer | None = None


class GroupPage(Out, kw_only=True):
    items: list[Group]


class StoreOffer(Out, kw_only=True):
    offer: Offer
    open_groups: list[Group]


class StoreOffers(Out, kw_only=True):
    items: list[StoreOffer]


OFFER_EXAMPLE = {
    "campaign_id": "CP2026DOUBLE12",
    "title": "阳光玫瑰 3人团",
    "sku": "100001",
    "group_price_fen": 2990,
    "size": 3,
    "time_limit_min": 1440,
    "per_member_limit": 1,
    "stores": ["sh-jingan"],
    "pickup_only": True,
    "on_timeout": "fail",
    "starts_at": "2026-12-10T00:00:00Z",
    "ends_at": "2026-12-13T00:00:00Z",
}
OFFER_OUT_EXAMPLE = {
    **OFFER_EXAMPLE,
    "offer_id": "GB3F2A9C10D4",
    "created_at": "2026-12-01T02:00:00Z",
}
GROUP_EXAMPLE = {
    "group_id": "GB3F2A9C10D4-7C1D2E3F4A5B",
    "offer_id": "GB3F2A9C10D4",
    "store_id": "sh-jingan",
    "state": "open",
    "size": 3,
    "seats_taken": 2,
    "seats_left": 1,
    "seats_paid": 1,
    "price_fen": 2990,
    "on_timeout": "fail",
    "expires_at": "2026-12-11T10:00:00Z",
    "members": [{"name": "会员***42", "paid": True, "joined_at": "2026-12-10T10:00:00.000Z"}],
    "offer": OFFER_OUT_EXAMPLE,
}
JOIN_EXAMPLE = {
    "store_id": "sh-jingan",
    "fulfilment": "pickup",
    "items": [{"sku": "100001", "qty": 1}],
}
