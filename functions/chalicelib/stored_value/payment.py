"""Paying orders with stored value: the pieces checkout and orders add to the order's own
transactions (placing, cancelling or expiring, refunding). Nothing here reads or
writes on its own: placing stays one BatchGetItem (which reads the account) and one
TransactWriteItems (which takes the balance).

- Placing takes ``pay:<order>`` split as ``rules.split_payment`` says from the account
  as the placing read it; the condition (principal >= p AND bonus >= b) refuses the
  whole order if another order took the balance meanwhile.
- An unpaid order cancelled or expired gives it all back (``release:<order>``).
- A refund gives back its stored-value share (``rules.stored_value_share``), principal
  and bonus in proportion to what the order took (``rules.split_back``):
  ``refund:<refund id>``.
"""

from __future__ import annotations

from typing import Any

from chalicelib.db.transactions import TxPiece
from chalicelib.kernel.money import yuan
from chalicelib.stored_value import ledger, rules
from chalicelib.stored_value.models import NO_STORE, StoredValueAccountModel

ACCOUNT_LABEL = ledger.ACCOUNT_LABEL
PROVIDER = "stored_value"  # the internal payment notice of an order paid wholly by balance


def keys(customer_id: str) -> dict[Any, list[dict[str, Any]]]:
    """The account's key for the placing BatchGetItem."""
    return {StoredValueAccountModel: [{"customer_id": customer_id}]}


def held(account: StoredValueAccountModel | None) -> rules.Split:
    if account is None:
        return rules.ZERO
    return rules.Split(int(account.principal_fen or 0), int(account.bonus_fen or 0))


def store_of(account: StoredValueAccountModel | None) -> str:
    return (account.store_id if account is not None else None) or NO_STORE


def take(
    customer_id: str, order_id: str, account: StoredValueAccountModel | None, amount_fen: int
) -> tuple[rules.Split, list[TxPiece]]:
    """The split of ``amount_fen`` and the pieces that take it for the order. ValueError
    when the account as read does not hold that much (the caller answers 409)."""
    split = rules.split_payment(*_parts(account), amount_fen)
    movement = ledger.Movement(
        customer_id,
        f"pay:{order_id}",
        "pay",
        rules.Split(-split.principal_fen, -split.bonus_fen),
        f"order {order_id}",
        store_id=store_of(account),
        order_id=order_id,
        actor=customer_id,
        bonus_spent_fen=split.bonus_fen,
    )
    return split, ledger.pieces(movement)


def _parts(account: StoredValueAccountModel | None) -> tuple[int, int]:
    h = held(account)
    return h.principal_fen, h.bonus_fen


def release(
    customer_id: str, order_id: str, store_id: str, taken: rules.Split, why: str
) -> list[TxPiece]:
    """Give back all an unpaid order took (cancelled or expired)."""
    movement = ledger.Movement(
        customer_id,
        f"release:{order_id}",
        "release",
        taken,
        f"order {order_id} {why}: {yuan(taken.total_fen)} back",
        store_id=store_id,
        order_id=order_id,
        bonus_spent_fen=-taken.bonus_fen,
    )
    return ledger.pieces(movement)


def refund_back(
    customer_id: str,
    order_id: str,
    refund_id: str,
    store_id: str,
    taken: rules.Split,
    returned_before_fen: int,
    amount_fen: int,
) -> list[TxPiece]:
    """Return ``amount_fen`` of a refund to the balance, principal and bonus in
    proportion to what the order took."""
    back = rules.split_back(taken, returned_before_fen, amount_fen)
    movement = ledger.Movement(
        customer_id,
        f"refund:{refund_id}",
        "refund",
        back,
        f"refund {refund_id} of order {order_id}: {yuan(amount_fen)} back to balance",
        store_id=store_id,
        order_id=order_id,
        bonus_spent_fen=-back.bonus_fen,
    )
    return [p.relabelled(f"{p.label}:refund") for p in ledger.pieces(movement)]
