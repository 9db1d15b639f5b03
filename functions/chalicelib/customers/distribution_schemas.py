"""Staff distribution's request and response bodies (issue 15 item 5)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

Fen = Annotated[int, Meta(ge=0, le=100_000_00, description="Integer fen (分), CNY.")]
SignedFen = Annotated[int, Meta(description="Integer fen (分), CNY; negative when owed back.")]
Bp = Annotated[int, Meta(ge=0, le=5000, description="Basis points (1/100 of a percent).")]
Month = Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]
Username = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9._-]{2,39}$")]
TemplateId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,60}$")]


class GuideLevelRule(Schema, kw_only=True):
    """A guide level (导购等级): reached when all three of the month's figures are met."""

    name: Annotated[str, Meta(min_length=1, max_length=20)]
    min_gmv_fen: Fen = 0
    min_new_members: Annotated[int, Meta(ge=0, le=100000)] = 0
    min_share_efficiency_bp: Annotated[
        int,
        Meta(ge=0, le=10000, description="Bound members who ordered ÷ new members, in bp."),
    ] = 0


class DistributionSettings(Schema, kw_only=True):
    """Head office's distribution rules (one audited settings item)."""

    binding: Literal["permanent", "days"] = "permanent"
    binding_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    protection_days: Annotated[
        int, Meta(ge=0, le=3650, description="No other staff member can take the customer.")
    ] = 7
    mode: Literal["fixed", "rate"] = "fixed"
    first_order_fen: Fen = 500
    second_order_fen: Fen = 200
    rate_bp: Bp = 0
    level2_first_order_fen: Fen = 0
    level2_second_order_fen: Fen = 0
    level2_rate_bp: Bp = 0
    welcome_template_id: Annotated[
        TemplateId | None, Meta(description="Coupon issued to the member at binding.")
    ] = None
    second_template_id: Annotated[
        TemplateId | None,
        Meta(description="Coupon issued to the member at their first completed order."),
    ] = None
    guide_levels: list[GuideLevelRule] = msgspec.field(default_factory=list)


SETTINGS_EXAMPLE = {
    "binding": "days",
    "binding_days": 90,
    "protection_days": 15,
    "mode": "fixed",
    "first_order_fen": 500,
    "second_order_fen": 200,
    "rate_bp": 0,
    "level2_first_order_fen": 100,
    "level2_second_order_fen": 0,
    "level2_rate_bp": 0,
    "welcome_template_id": "T-NEW10",
    "second_template_id": "T-BACK5",
    "guide_levels": [
        {"name": "银牌导购", "min_gmv_fen": 200000, "min_new_members": 10},
        {
            "name": "金牌导购",
            "min_gmv_fen": 1000000,
            "min_new_members": 40,
            "min_share_efficiency_bp": 5000,
        },
    ],
}


class DistributionQr(Out, kw_only=True):
    code: str
    store_id: str
    staff_username: str
    link: Annotated[str, Meta(description="The join link to render as the QR code.")]
    registered: int


QR_EXAMPLE = {
    "code": "S7KQ2MZ9XP4",
    "store_id": "sh-a",
    "staff_username": "sh-a-li",
    "link": "https://m.daojia.example/join?source=S7KQ2MZ9XP4",
    "registered": 12,
}


class Inviter(Out, kw_only=True):
    display_name: str
    store_id: str | None = None
    bound_at: Timestamp


INVITER_EXAMPLE = {"display_name": "小李", "store_id": "sh-a", "bound_at": "2026-11-02T03:00:00Z"}


class MyInviter(Out, kw_only=True):
    inviter: Annotated[Inviter | None, Meta(description="null: bound to nobody now.")] = None


class StaffBindingBody(Schema, kw_only=True):
    code: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._-]{4,120}$")]


class StaffBindingResult(Out, kw_only=True):
    bound: Annotated[bool, Meta(description="True when this scan bound the member.")]
    reason: Annotated[
        str,
        Meta(
            description="new | expired | unprotected (bound now); same | protected | "
            "permanent (the binding stays)."
        ),
    ]
    inviter: Inviter | None = None


BINDING_EXAMPLE = {"bound": True, "reason": "new", "inviter": INVITER_EXAMPLE}


class StaffProfileBody(Schema, kw_only=True):
    upline: Annotated[
        Username | None, Meta(description="Level 2: another staff member without an upline.")
    ] = None


class StaffProfile(Out, kw_only=True):
    username: str
    store_id: str | None = None
    upline: str | None = None


PROFILE_EXAMPLE = {"username": "sh-a-li", "store_id": "sh-a", "upline": "sh-a-manager"}


class MonthQuery(Schema, kw_only=True):
    month: Month
    store_id: Annotated[str, Meta(pattern=r"^[a-z0-9-]{2,40}$")] | None = None


class StatementLine(Out, kw_only=True):
    username: str
    store_id: str | None = None
    accrued_fen: SignedFen
    reversed_fen: Annotated[SignedFen, Meta(description="Negative entries, as a positive sum.")]
    net_fen: SignedFen
    pending_fen: Annotated[
        SignedFen, Meta(description="Accrued this month, still in the return window now.")
    ]
    carried_fen: Annotated[SignedFen, Meta(description="Balance from earlier months.")]
    payable_fen: Annotated[
        SignedFen, Meta(description="carried + net - pending; negative is never clamped.")
    ]
    paid_fen: SignedFen | None = None
    paid_at: Timestamp | None = None


LINE_EXAMPLE = {
    "username": "sh-a-li",
    "store_id": "sh-a",
    "accrued_fen": 2100,
    "reversed_fen": 500,
    "net_fen": 1600,
    "pending_fen": 0,
    "carried_fen": -200,
    "payable_fen": 1400,
    "paid_fen": None,
    "paid_at": None,
}


class Statements(Out, kw_only=True):
    month: str
    items: list[StatementLine]


STATEMENTS_EXAMPLE = {"month": "2026-11", "items": [LINE_EXAMPLE]}


class Entry(Out, kw_only=True):
    kind: Annotated[str, Meta(description="accrued | reversed")]
    level: int
    order_id: str
    nth: Annotated[int, Meta(description="The member's 1st or 2nd completed order.")]
    amount_fen: SignedFen
    at: Timestamp
    available_at: Timestamp | None = None
    pending: bool


ENTRY_EXAMPLE = {
    "kind": "accrued",
    "level": 1,
    "order_id": "O20261102ABCD",
    "nth": 1,
    "amount_fen": 500,
    "at": "2026-11-02T05:00:00Z",
    "available_at": "2026-11-09T05:00:00Z",
    "pending": False,
}


class StaffStatement(Out, kw_only=True):
    month: str
    line: StatementLine
    entries: list[Entry]


STAFF_STATEMENT_EXAMPLE = {"month": "2026-11", "line": LINE_EXAMPLE, "entries": [ENTRY_EXAMPLE]}


class StaffMonthQuery(Schema, kw_only=True):
    month: Month


class PayoutBody(Schema, kw_only=True):
    month: Month
    username: Username
    request_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


PAYOUT_EXAMPLE = {"month": "2026-11", "username": "sh-a-li", "request_id": "pay-2026-11-sh-a-li"}


class LeaderRow(Out, kw_only=True):
    username: str
    store_id: str | None = None
    new_members: int
    ordered_members: int
    orders: Annotated[int, Meta(description="Bound members' 1st and 2nd orders completed.")]
    gmv_fen: SignedFen
    commission_fen: Annotated[SignedFen, Meta(description="Accrued - reversed this month.")]
    share_efficiency_bp: int
    guide_level: str


class Leaderboard(Out, kw_only=True):
    month: str
    store_id: str | None = None
    items: list[LeaderRow]
    new_members: int
    commission_fen: SignedFen
    coupon_face_fen: Annotated[
        SignedFen, Meta(description="Face value of the distribution coupons issued.")
    ]
    cost_per_member_fen: Annotated[
        SignedFen | None, Meta(description="(commission + coupons) ÷ new members.")
    ] = None
    benchmark_fen: Annotated[list[int], Meta(description="The seed's ¥30–35, in fen.")]


LEADERBOARD_EXAMPLE = {
    "month": "2026-11",
    "store_id": None,
    "items": [
        {
            "username": "sh-a-li",
            "store_id": "sh-a",
            "new_members": 24,
            "ordered_members": 15,
            "orders": 26,
            "gmv_fen": 312000,
            "commission_fen": 9100,
            "share_efficiency_bp": 6250,
            "guide_level": "银牌导购",
        }
    ],
    "new_members": 24,
    "commission_fen": 9100,
    "coupon_face_fen": 39000,
    "cost_per_member_fen": 2004,
    "benchmark_fen": [3000, 3500],
}


class StatementsCsv(Out, kw_only=True):
    filename: str
    csv: Annotated[str, Meta(description="UTF-8 CSV with a header row (and a BOM for Excel).")]


CSV_EXAMPLE = {
    "filename": "distribution-2026-11.csv",
    "csv": "\ufeffmonth,username,store_id,accrued_fen,reversed_fen,net_fen,pending_fen,"
    "carried_fen,payable_fen,paid_fen,paid_at\r\n2026-11,sh-a-li,sh-a,2100,500,1600,0,-200,"
    "1400,,\r\n",
}
