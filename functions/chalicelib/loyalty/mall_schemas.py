"""Requests and responses of the points mall (积分商城): head office's rewards and the
members' view and redemptions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from chalicelib.kernel.schema import Fen, Out, Schema, Sku, StoreId, Timestamp

RewardKind = Literal["coupon", "product"]
RewardId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$", examples=["rw-tea-voucher"])]
Name = Annotated[str, Meta(min_length=1, max_length=60, examples=["满99减20券"])]
Points = Annotated[int, Meta(ge=1, le=10_000_000, description="Points (积分) it costs.")]
Units = Annotated[int, Meta(ge=0, le=1_000_000)]
Limit = Annotated[int, Meta(ge=1, le=1_000, description="Redemptions per member, ever.")]
TemplateId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class RewardCreate(Schema, kw_only=True):
    """A reward: ``kind`` coupon names a coupon template (``template_id``), product a SKU
    (``sku``, redeemed at a store the member chooses, placed as an order). ``cash_fen`` > 0
    makes it points + cash (paid through the payment provider: products only)."""

    reward_id: Annotated[
        RewardId | None, Meta(description="Optional id; created from the name when absent.")
    ] = None
    kind: RewardKind
    name: Name
    description: Annotated[str, Meta(max_length=200)] | None = None
    template_id: TemplateId | None = None
    sku: Sku | None = None
    points: Points
    cash_fen: Fen = 0
    stock: Annotated[Units, Meta(description="Units on offer.")]
    per_member_limit: Limit = 1
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    active: bool = True


class RewardUpdate(Schema, kw_only=True):
    """Change a reward's terms (not its kind, coupon or SKU; stock moves through
    ``/stock``). ``version``: the version read, so an edit cannot undo another unseen.
    A field left out stays as it is; ``description``, ``starts_at`` and ``ends_at`` sent
    as null are cleared (no end)."""

    version: Annotated[int, Meta(ge=1)]
    name: Name | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET
    points: Points | UnsetType = UNSET
    cash_fen: Fen | UnsetType = UNSET
    per_member_limit: Limit | UnsetType = UNSET
    starts_at: Timestamp | UnsetType | None = UNSET
    ends_at: Timestamp | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class StockChange(Schema, kw_only=True):
    """Units to add (+) or withdraw (-); a withdrawal below 0 units left is refused."""

    delta: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)]


class Reward(Out, kw_only=True):
    reward_id: str
    kind: RewardKind
    name: str
    description: str | None
    template_id: str | None
    sku: str | None
    points: int
    cash_fen: int
    stock: Annotated[int, Meta(description="Units left.")]
    redeemed_count: Annotated[
        int, Meta(description="Redemptions kept (given-back ones not counted).")
    ]
    per_member_limit: int
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    active: bool
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class RewardList(Out, kw_only=True):
    items: list[Reward]


class MallOffer(Out, kw_only=True):
    """A reward on offer to the member, with what they can do."""

    reward_id: str
    kind: RewardKind
    name: str
    description: str | None
    points: int
    cash_fen: int
    in_stock: bool
    redeemed_by_me: int
    per_member_limit: int
    affordable: Annotated[
        bool, Meta(description="Enough spendable points, stock left and under the limit.")
    ]
    ends_at: Timestamp | None


class MallView(Out, kw_only=True):
    spendable_points: int
    items: list[MallOffer]


class AddressIn(Schema, kw_only=True):
    """Delivery address for a product redeemed for delivery (the order's address)."""

    contact_name: Annotated[str, Meta(min_length=1, max_length=40)]
    phone: Annotated[str, Meta(pattern=r"^1[3-9]\d{9}$")]
    line: Annotated[str, Meta(min_length=1, max_length=200)]
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lng: Annotated[float, Meta(ge=-180, le=180)]


class RedemptionRequest(Schema, kw_only=True):
    """Redeem a reward. Products: ``store_id`` (where it is picked) and ``fulfilment``
    (delivery needs ``address``)."""

    reward_id: RewardId
    store_id: StoreId | None = None
    fulfilment: Literal["delivery", "pickup"] = "pickup"
    address: AddressIn | None = None


class Redemption(Out, kw_only=True):
    redemption_id: str
    reward_id: str
    kind: RewardKind
    name: str
    points: int
    cash_fen: int
    state: Literal["done", "placed", "paid", "given_back"]
    coupon_id: Annotated[str | None, Meta(description="Coupon rewards: the coupon issued.")]
    order_id: Annotated[
        str | None, Meta(description="Product rewards: the order (pay it if cash_fen > 0).")
    ]
    store_id: str | None
    created_at: Timestamp


class RedemptionList(Out, kw_only=True):
    items: list[Redemption]


_REWARD = {
    "reward_id": "rw-tea-voucher",
    "kind": "coupon",
    "name": "满99减20券",
    "description": "积分兑换，30天有效",
    "template_id": "t-99-20",
    "sku": None,
    "points": 500,
    "cash_fen": 0,
    "stock": 120,
    "redeemed_count": 30,
    "per_member_limit": 2,
    "starts_at": None,
    "ends_at": "2026-12-31T16:00:00Z",
    "active": True,
    "version": 1,
    "created_at": "2026-11-24T02:00:00Z",
    "updated_at": "2026-11-24T02:00:00Z",
}
_REDEMPTION = {
    "redemption_id": "MR7Q2K9XD4M3A8B2C5D6",
    "reward_id": "rw-tea-voucher",
    "kind": "coupon",
    "name": "满99减20券",
    "points": 500,
    "cash_fen": 0,
    "state": "done",
    "coupon_id": "t-99-20:mall:MR7Q2K9XD4M3A8B2C5D6",
    "order_id": None,
    "store_id": None,
    "created_at": "2026-11-24T05:00:00Z",
}
EXAMPLES: dict[str, Any] = {
    "Reward": _REWARD,
    "RewardList": {"items": [_REWARD]},
    "RewardCreate": {
        "kind": "coupon",
        "name": "满99减20券",
        "template_id": "t-99-20",
        "points": 500,
        "stock": 150,
        "per_member_limit": 2,
        "ends_at": "2026-12-31T16:00:00Z",
    },
    "RewardUpdate": {"version": 1, "points": 450, "active": True},
    "StockChange": {"delta": 50},
    "MallView": {
        "spendable_points": 1240,
        "items": [
            {
                "reward_id": "rw-tea-voucher",
                "kind": "coupon",
                "name": "满99减20券",
                "description": "积分兑换，30天有效",
                "points": 500,
                "cash_fen": 0,
                "in_stock": True,
                "redeemed_by_me": 1,
                "per_member_limit": 2,
                "affordable": True,
                "ends_at": "2026-12-31T16:00:00Z",
            }
        ],
    },
    "RedemptionRequest": {"reward_id": "rw-tea-voucher"},
    "Redemption": _REDEMPTION,
    "RedemptionList": {"items": [_REDEMPTION]},
}
