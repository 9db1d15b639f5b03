"""A campaign's live budget as head office reads it (GET /admin/campaigns/{id}/budget)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

SignedFen = Annotated[int, Meta(description="Integer fen (分), CNY; may be negative.")]


class SpentByFunder(Out, kw_only=True):
    hq_fen: SignedFen
    store_fen: SignedFen
    supplier_fen: SignedFen


class SpentByKind(Out, kw_only=True):
    discounts_fen: Annotated[
        SignedFen, Meta(description="Coupon and promotion discounts of orders holding them.")
    ]
    points_fen: Annotated[
        SignedFen, Meta(description="Extra points from member-day multipliers, valued as cash.")
    ]
    commission_fen: SignedFen
    prizes_fen: SignedFen


class CampaignBudget(Out, kw_only=True):
    """The budget, what is left and what was spent, live (docs/campaigns.md, "Budgets")."""

    campaign_id: str
    state: str
    budget_fen: SignedFen
    left_fen: Annotated[
        SignedFen, Meta(description="Below zero when costs after the fact passed the budget.")
    ]
    spent_fen: Annotated[SignedFen, Meta(description="budget_fen - left_fen.")]
    percent: Annotated[int, Meta(description="Spent as a whole percent of the budget.")]
    by_funder: SpentByFunder
    by_kind: SpentByKind
    spending_orders: Annotated[int, Meta(description="Orders holding a discount of it now.")]
    alerted_at: Annotated[
        Timestamp | None, Meta(description="When 80 % was reached (alerted once); null: not yet.")
    ] = None
    exhausted: Annotated[
        bool, Meta(description="Nothing left: the campaign's discounts have stopped.")
    ]


EXAMPLE = {
    "campaign_id": "cmp-2026-1111",
    "state": "live",
    "budget_fen": 5_000_000,
    "left_fen": 860_000,
    "spent_fen": 4_140_000,
    "percent": 82,
    "by_funder": {"hq_fen": 3_000_000, "store_fen": 640_000, "supplier_fen": 500_000},
    "by_kind": {
        "discounts_fen": 3_900_000,
        "points_fen": 240_000,
        "commission_fen": 0,
        "prizes_fen": 0,
    },
    "spending_orders": 2_741,
    "alerted_at": "2026-11-11T06:12:09Z",
    "exhausted": False,
}


# --- the approval threshold (issue 18 item 5) ------------------------------------------


class ApprovalSettings(Schema, kw_only=True):
    """Head office's approval rule: a promotion or coupon template whose budget (a flash
    sale's: the most it can give away) is above this needs two approvers."""

    two_approvers_above_fen: Annotated[
        int,
        Meta(
            ge=0,
            le=10_000_000_000,
            description="Budgets above this (fen) need two different approvers; at or "
            "below it, one. Unbounded budgets always need two.",
            examples=[5_000_000],
        ),
    ]
    expected_version: Annotated[int, Meta(ge=0, le=1_000_000_000)] | None = None


class ApprovalSettingsOut(Out, kw_only=True):
    two_approvers_above_fen: int
    default_fen: Annotated[
        int, Meta(description="The deployment's default (DAOJIA_TWO_APPROVERS_ABOVE_FEN).")
    ]
    is_default: bool  # head office set none: the default applies
    version: int
    updated_at: Timestamp | None
    updated_by: str | None


APPROVAL_SETTINGS_EXAMPLE = {
    "two_approvers_above_fen": 2_000_000,
    "default_fen": 5_000_000,
    "is_default": False,
    "version": 1,
    "updated_at": "2026-12-05T08:00:00Z",
    "updated_by": "hq-admin",
}
