"""Stored-value movements as transaction pieces: the account's conditional ADD, the
ledger entry (put only if its ref is new) and the store's liability ADD. Whoever causes
a movement adds these three pieces to its own transaction (the order's placing,
cancellation and refund transactions, the top-up's payment, a withdrawal, an
adjustment), so a balance changes exactly when its entry is written.

A part that goes down carries the condition ``part >= amount``: under any concurrency
a balance never goes below zero; DynamoDB refuses the whole transaction instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.db.transactions import TxPiece
from chalicelib.kernel import clock
from chalicelib.stored_value.models import (
    NO_STORE,
    StoredValueAccountModel,
    StoredValueEntryModel,
    StoredValueTotalsModel,
)
from chalicelib.stored_value.rules import Split

ACCOUNT_LABEL = "stored_value:account"
ENTRY_LABEL = "stored_value:entry"
TOTALS_LABEL = "stored_value:totals"
SCOPE = "stores"


@dataclass(frozen=True)
class Movement:
    """One change of a member's balance: signed parts, why, and the store whose
    liability it moves (the account's store)."""

    customer_id: str
    ref: str  # deterministic from the cause: "pay:<order id>", "topup:<id>", ...
    kind: str
    delta: Split
    reason: str
    store_id: str = NO_STORE
    order_id: str | None = None
    actor: str | None = None
    bonus_spent_fen: int = 0  # what it adds to the bonus spent since the last withdrawal
    paid_out_fen: int | None = None  # a withdrawal: what it pays back
    refund_ids: tuple[str, ...] = ()


def pieces(
    m: Movement,
    *,
    exact: StoredValueAccountModel | None = None,
    cap_fen: int | None = None,
) -> list[TxPiece]:
    """The three writes of a movement. ``exact``: the account as read, which the update
    requires unchanged (a withdrawal closes exactly what it quoted). ``cap_fen``: the
    balance after the movement may not exceed it (a top-up)."""
    a = StoredValueAccountModel
    now_iso = clock.now_iso_ms()
    actions = [
        a.principal_fen.add(m.delta.principal_fen),
        a.bonus_fen.add(m.delta.bonus_fen),
        a.balance_fen.add(m.delta.total_fen),
        a.store_id.set(a.store_id | m.store_id),  # the first movement fixes the store
        a.updated_at.set(now_iso),
    ]
    if m.bonus_spent_fen:
        actions.append(a.bonus_spent_fen.add(m.bonus_spent_fen))
    condition = None
    if m.delta.principal_fen < 0:
        condition = a.principal_fen >= -m.delta.principal_fen
    if m.delta.bonus_fen < 0:
        c = a.bonus_fen >= -m.delta.bonus_fen
        condition = c if condition is None else condition & c
    if cap_fen is not None:
        room = cap_fen - m.delta.total_fen
        within = a.balance_fen <= room
        # No account yet holds nothing: it fits when the movement alone does.
        fits = (a.balance_fen.does_not_exist() | within) if room >= 0 else within
        condition = fits if condition is None else condition & fits
    if exact is not None:
        c = (
            (a.principal_fen == int(exact.principal_fen))
            & (a.bonus_fen == int(exact.bonus_fen))
            & (a.bonus_spent_fen == int(exact.bonus_spent_fen))
        )
        condition = c if condition is None else condition & c
    kwargs: dict = {"actions": actions}
    if condition is not None:
        kwargs["condition"] = condition
    entry = StoredValueEntryModel(
        m.customer_id,
        m.ref,
        kind=m.kind,
        principal_fen=m.delta.principal_fen,
        bonus_fen=m.delta.bonus_fen,
        reason=m.reason,
        order_id=m.order_id,
        actor=m.actor,
        paid_out_fen=m.paid_out_fen,
        refund_ids=list(m.refund_ids) or None,
        created_at=now_iso,
        created_key=f"{now_iso}#{m.ref}",
    )
    t = StoredValueTotalsModel
    return [
        TxPiece(StoredValueAccountModel(m.customer_id), kwargs, ACCOUNT_LABEL),
        TxPiece(
            entry,
            {"condition": StoredValueEntryModel.ref.does_not_exist()},
            ENTRY_LABEL,
            op="save",
        ),
        TxPiece(
            StoredValueTotalsModel(SCOPE, m.store_id),
            {
                "actions": [
                    t.principal_fen.add(m.delta.principal_fen),
                    t.bonus_fen.add(m.delta.bonus_fen),
                ]
            },
            TOTALS_LABEL,
        ),
    ]
