"""Requests and responses of the points routes (members' points, head office's ledger,
adjustments and the points settings)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

Points = Annotated[int, Meta(description="Integer points (积分).")]
RequestId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
        description="Client-chosen id making the request idempotent (8-64 of A-Z a-z 0-9 _ . : -).",
        examples=["adj-2026-11-24-0001"],
    ),
]


class PointsSettings(Schema, kw_only=True):
    """Points rules (head office). Absent: these defaults."""

    points_per_yuan: Annotated[
        int,
        Meta(
            ge=0, le=100, description="Points earned per yuan kept (after discounts and refunds)."
        ),
    ] = 1
    expiry_policy: Annotated[
        Literal["fixed_months", "end_of_next_year"],
        Meta(
            description="fixed_months: a lot expires expiry_months after it is earned; "
            "end_of_next_year: on 31 December of the year after."
        ),
    ] = "fixed_months"
    expiry_months: Annotated[int, Meta(ge=1, le=60)] = 12
    pending_days: Annotated[
        int, Meta(ge=0, le=90, description="Days an order's points stay pending after completion.")
    ] = 7
    cash_points_per_yuan: Annotated[
        int, Meta(ge=1, le=100_000, description="Points as cash at checkout: points per ¥1.")
    ] = 100
    cash_cap_percent: Annotated[
        int, Meta(ge=0, le=100, description="Points pay at most this share of the goods.")
    ] = 50
    allow_negative_adjustments: Annotated[
        bool,
        Meta(
            description="A deduction by head office may exceed the spendable points "
            "(the rest becomes debt); otherwise it is refused with 409."
        ),
    ] = False


class PointsBalance(Out, kw_only=True):
    customer_id: str
    spendable: Annotated[Points, Meta(description="Can be spent now.")]
    pending: Annotated[
        Points, Meta(description="Earned from orders, available after the pending days.")
    ]
    locked: Annotated[Points, Meta(description="Held by unpaid orders.")]
    debt: Annotated[
        Points, Meta(description="Taken back after being spent: repaid from future points.")
    ]
    balance: Annotated[
        Points, Meta(description="spendable + locked + pending - debt: the sum of the entries.")
    ]
    next_expiry_at: Timestamp | None
    next_expiry_points: Points


class LotUse(Out, kw_only=True):
    lot_id: Annotated[str, Meta(description="The entry that earned the lot.")]
    points: Points


class PointsEntry(Out, kw_only=True):
    """One line of the points history."""

    entry_key: Annotated[str, Meta(description="What caused it, e.g. earn:order:<id>.")]
    kind: Literal["earn", "spend", "reverse", "return", "expire", "adjust", "mature", "repay"]
    delta: Annotated[Points, Meta(description="Change of the balance (mature, repay: 0).")]
    debt: Annotated[Points, Meta(description="Change of the debt.")]
    balance_after: Points
    at: Timestamp
    reason: str | None
    order_id: str | None
    expires_at: Annotated[Timestamp | None, Meta(description="Of the lot this entry earned.")]
    available_at: Annotated[Timestamp | None, Meta(description="Pending until (earned lots).")]
    lots: Annotated[list[LotUse], Meta(description="Lots the points came from or went to.")]
    actor: Annotated[
        str | None, Meta(description="Head office adjustments: who (admin views only).")
    ]


class EntriesQuery(Schema, kw_only=True):
    cursor: str | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class EntriesPage(Out, kw_only=True):
    items: list[PointsEntry]
    cursor: Annotated[str | None, Meta(description="Pass it back for the next (older) page.")]


class PointsAdjustment(Schema, kw_only=True):
    """A head-office adjustment. ``request_id`` makes it idempotent: the same id again
    answers the entry already written."""

    delta: Annotated[
        int, Meta(ge=-1_000_000, le=1_000_000, description="Points to add (+) or take (-); not 0.")
    ]
    reason: Annotated[
        str, Meta(min_length=1, max_length=200, description="Why (shown to the member).")
    ]
    request_id: RequestId


_BALANCE = {
    "customer_id": "c-3f2a9b1c4d5e6f70",
    "spendable": 1240,
    "pending": 86,
    "locked": 0,
    "debt": 0,
    "balance": 1326,
    "next_expiry_at": "2026-12-31T16:00:00Z",
    "next_expiry_points": 300,
}
_ENTRY = {
    "entry_key": "earn:order:261124K7M2Q9XD",
    "kind": "earn",
    "delta": 76,
    "debt": 0,
    "balance_after": 1326,
    "at": "2026-11-24T05:00:00Z",
    "reason": "订单完成",
    "order_id": "261124K7M2Q9XD",
    "expires_at": "2027-11-24T16:00:00Z",
    "available_at": "2026-12-01T05:00:00Z",
    "lots": [{"lot_id": "earn:order:261124K7M2Q9XD", "points": 76}],
    "actor": None,
}
EXAMPLES: dict[str, Any] = {
    "PointsBalance": _BALANCE,
    "EntriesPage": {"items": [_ENTRY], "cursor": None},
    "PointsEntry": {
        **_ENTRY,
        "entry_key": "adjust:adj-2026-11-24-0001",
        "kind": "adjust",
        "delta": -50,
        "reason": "duplicate goodwill credit",
        "order_id": None,
        "expires_at": None,
        "available_at": None,
        "lots": [{"lot_id": "earn:order:261020A1B2C3D4", "points": 50}],
        "actor": "hq-admin",
    },
    "PointsAdjustment": {
        "delta": -50,
        "reason": "duplicate goodwill credit",
        "request_id": "adj-2026-11-24-0001",
    },
    "PointsSettings": {
        "points_per_yuan": 1,
        "expiry_policy": "fixed_months",
        "expiry_months": 12,
        "pending_days": 7,
        "cash_points_per_yuan": 100,
        "cash_cap_percent": 50,
        "allow_negative_adjustments": False,
    },
}
