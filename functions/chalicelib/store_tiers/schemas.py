"""Store TOP tiers: what head office and store managers read and send."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

Percent = Annotated[int, Meta(ge=0, le=100, description="A whole percent.")]
Month = Annotated[
    str,
    Meta(
        pattern=r"^20\d\d-(0[1-9]|1[0-2])$", description="A month, YYYY-MM.", examples=["2026-11"]
    ),
]
Tier = Literal["S", "A", "B", "C"]
Bp = Annotated[int, Meta(description="Basis points: 10000 = 100 %.")]


class Threshold(Schema, kw_only=True):
    t: Percent
    o: Percent
    p: Percent


class TierSettings(Schema, kw_only=True):
    """The least T, O and P (percent) of each tier; a store gets the highest tier whose
    thresholds every known figure meets, C otherwise."""

    S: Threshold = msgspec.field(default_factory=lambda: Threshold(t=95, o=30, p=95))
    A: Threshold = msgspec.field(default_factory=lambda: Threshold(t=90, o=20, p=90))
    B: Threshold = msgspec.field(default_factory=lambda: Threshold(t=80, o=10, p=80))


class TierInputs(Out, kw_only=True):
    open_slots: Annotated[int, Meta(description="5-minute slots inside business hours.")]
    up_slots: Annotated[int, Meta(description="Of those, active with a healthy print relay.")]
    orders: Annotated[int, Meta(description="Online sales (paid, not cancelled).")]
    transactions: Annotated[
        int | None, Meta(description="The month's total transactions; null: not entered.")
    ]
    on_time: Annotated[int, Meta(description="Sales picked and delivered in time.")]
    timed: Annotated[int, Meta(description="Sales whose punctuality is known.")]


class StoreTierMonth(Out, kw_only=True):
    store_id: str
    name: str
    month: Month
    tier: Tier
    provisional: Annotated[
        bool, Meta(description="Scored live on read (the month is not over or not scored).")
    ]
    t_bp: Bp | None
    o_bp: Bp | None
    p_bp: Bp | None
    unknown: Annotated[
        list[Literal["t", "o", "p"]],
        Meta(description="Figures not known; the tier was decided on the others."),
    ]
    inputs: TierInputs


class StoreTierPage(Out, kw_only=True):
    month: Month
    thresholds: TierSettings
    distribution: Annotated[dict[str, int], Meta(description="Stores per tier.")]
    stores: list[StoreTierMonth]


class StoreTierHistory(Out, kw_only=True):
    store_id: str
    name: str
    months: Annotated[
        list[StoreTierMonth],
        Meta(description="Up to 12 months, oldest first: the scored ones, and this month live."),
    ]


class TiersQuery(Schema, kw_only=True):
    month: Month | None = None


class Transactions(Schema, kw_only=True):
    transactions: Annotated[
        int, Meta(ge=0, le=10_000_000, description="The store's total transactions that month.")
    ]


class TransactionsView(Out, kw_only=True):
    store_id: str
    month: Month
    transactions: int
    updated_by: str
    updated_at: Timestamp


class ScoreRequest(Schema, kw_only=True):
    month: Month


class ScoreResult(Out, kw_only=True):
    month: Month
    scored: Annotated[int, Meta(description="Stores scored (their items rewritten whole).")]


_ROW = {
    "store_id": "sh-xuhui",
    "name": "徐汇店",
    "month": "2026-10",
    "tier": "A",
    "provisional": False,
    "t_bp": 9612,
    "o_bp": 2250,
    "p_bp": 9300,
    "unknown": [],
    "inputs": {
        "open_slots": 4464,
        "up_slots": 4291,
        "orders": 2700,
        "transactions": 12000,
        "on_time": 2511,
        "timed": 2700,
    },
}
SETTINGS_EXAMPLE = {
    "S": {"t": 95, "o": 30, "p": 95},
    "A": {"t": 90, "o": 20, "p": 90},
    "B": {"t": 80, "o": 10, "p": 80},
}
PAGE_EXAMPLE = {
    "month": "2026-10",
    "thresholds": SETTINGS_EXAMPLE,
    "distribution": {"S": 0, "A": 1, "B": 0, "C": 0},
    "stores": [_ROW],
}
HISTORY_EXAMPLE = {"store_id": "sh-xuhui", "name": "徐汇店", "months": [_ROW]}
TRANSACTIONS_EXAMPLE = {"transactions": 12000}
TRANSACTIONS_VIEW_EXAMPLE = {
    "store_id": "sh-xuhui",
    "month": "2026-10",
    "transactions": 12000,
    "updated_by": "hq-admin",
    "updated_at": "2026-11-01T02:00:00Z",
}
SCORE_EXAMPLE = {"month": "2026-10"}
SCORE_RESULT_EXAMPLE = {"month": "2026-10", "scored": 3}
