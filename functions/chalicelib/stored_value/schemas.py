"""Stored value (储值) in the API: the member's balance, ledger, top-ups and withdrawal;
head office's settings, liability report and adjustments."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Fen, Out, PositiveFen, Schema, StoreId, Timestamp

EntryKind = Literal["top_up", "pay", "release", "refund", "withdraw", "adjust"]
TopUpStatus = Literal["awaiting_payment", "paid", "refunded", "expired"]
CustomerId = Annotated[str, Meta(min_length=1, max_length=64, examples=["c-3f2a9b1c4d5e6f70"])]
Reason = Annotated[str, Meta(min_length=2, max_length=200, examples=["门店补偿：配送延误"])]
SignedFen = Annotated[int, Meta(ge=-5_000_00, le=5_000_00, description="Signed fen.")]


class Balance(Out, kw_only=True):
    """What a member holds: ``balance_fen`` = ``principal_fen`` + ``bonus_fen``.
    ``withdrawable_fen`` is what a withdrawal would pay back now (the unused principal
    less the bonus already spent, docs/loyalty.md)."""

    customer_id: str
    balance_fen: int
    principal_fen: int
    bonus_fen: int
    bonus_spent_fen: int
    withdrawable_fen: int
    cap_fen: int


class Entry(Out, kw_only=True):
    """One movement: signed parts (negative: taken from the balance) and why."""

    ref: str
    kind: EntryKind
    amount_fen: int
    principal_fen: int
    bonus_fen: int
    reason: str
    order_id: str | None
    created_at: str


class EntryPage(Out, kw_only=True):
    items: list[Entry]
    next_cursor: str | None


class EntryQuery(Schema, kw_only=True):
    cursor: Annotated[str, Meta(max_length=2000)] | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class TopUpCreate(Schema, kw_only=True):
    """Top up ``amount_fen``; ``store_id``: the store where the member tops up (its
    liability report), when the account has none yet."""

    amount_fen: PositiveFen
    store_id: StoreId | None = None


class PaymentSheet(Out, kw_only=True):
    """The provider's parameters for the payment sheet (as for an order)."""

    order_id: str
    provider: str
    amount_fen: int
    params: dict[str, str]


class TopUp(Out, kw_only=True):
    """A top-up; ``payment`` holds the payment sheet while it awaits payment. An unpaid
    top-up past ``expires_at`` reads ``expired``."""

    top_up_id: str
    customer_id: str
    amount_fen: int
    bonus_fen: int
    status: TopUpStatus
    created_at: str
    expires_at: str
    paid_at: str | None
    payment: PaymentSheet | None


class WithdrawalQuote(Out, kw_only=True):
    """What closing the stored value would do: pay back ``refund_fen`` (the principal
    less the bonus spent), keep ``deducted_fen`` and forfeit ``bonus_forfeited_fen``."""

    principal_fen: int
    bonus_spent_fen: int
    refund_fen: int
    deducted_fen: int
    bonus_forfeited_fen: int


class WithdrawalRequest(Schema, kw_only=True):
    """``expected_refund_fen``: the quote's ``refund_fen``: if the balance moved since,
    409 ``quote_changed``."""

    expected_refund_fen: Fen
    request_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.:-]{8,64}$")]


class Withdrawal(Out, kw_only=True):
    withdrawal_ref: str
    refund_fen: int
    refund_ids: list[str]
    balance: Balance


class TierIn(Schema, kw_only=True):
    min_fen: PositiveFen
    bonus_fen: Fen


class Tier(Out, kw_only=True):
    min_fen: int
    bonus_fen: int


class Settings(Out, kw_only=True):
    """Top-up bonus tiers (the highest reached applies) and the cap per member on
    principal + bonus."""

    tiers: list[Tier]
    cap_fen: int
    trial_threshold_fen: int | None
    updated_at: str | None
    updated_by: str | None
    version: int


class SettingsUpdate(Schema, kw_only=True):
    tiers: Annotated[list[TierIn], Meta(max_length=20)]
    cap_fen: Annotated[int, Meta(ge=100, le=100_000_00)]
    trial_threshold_fen: Fen | None = None
    version: Annotated[int, Meta(ge=0)]


class StoreLiability(Out, kw_only=True):
    store_id: str
    principal_fen: int
    bonus_fen: int
    total_fen: int


class Liability(Out, kw_only=True):
    """Outstanding prepaid liability: what members hold, per store (the store of the
    member's first top-up; "-" for none) and in total."""

    principal_fen: int
    bonus_fen: int
    total_fen: int
    stores: list[StoreLiability]


class StoredValueAdjustment(Schema, kw_only=True):
    """A head-office adjustment: signed parts, a reason (audited), and ``request_id``
    (a retry with the same id changes nothing)."""

    principal_fen: SignedFen = 0
    bonus_fen: SignedFen = 0
    reason: Reason
    request_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.:-]{8,64}$")]


class AdjustmentResult(Out, kw_only=True):
    entry: Entry
    balance: Balance


TIMESTAMP_EXAMPLE: Timestamp = "2026-11-24T02:30:00Z"
