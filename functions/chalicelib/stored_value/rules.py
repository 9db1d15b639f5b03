"""Stored value (储值) rules, plain Python: no AWS. docs/loyalty.md "Stored value" states
them for members; tests/unit/test_stored_value_rules.py proves them for any input.

A member's balance has two parts, always accounted separately:

- principal (本金): money the member paid in; the only part that can be paid back;
- bonus (赠送金): what a top-up tier gave on top; spendable, never paid back.

Every amount is integer fen. Every split below adds up exactly to what it splits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    """An amount of stored value as its principal and bonus parts."""

    principal_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


ZERO = Split(0, 0)


@dataclass(frozen=True)
class Tier:
    """Top up at least ``min_fen`` and get ``bonus_fen`` on top (e.g. ¥500 → ¥50)."""

    min_fen: int
    bonus_fen: int


def bonus_for(amount_fen: int, tiers: Sequence[Tier]) -> int:
    """The bonus of a top-up: the highest tier whose minimum it reaches (0 below all).
    Tiers do not add up: ¥1,000 with tiers ¥500→¥50 and ¥1,000→¥120 gets ¥120."""
    reached = [t.bonus_fen for t in tiers if amount_fen >= t.min_fen]
    return max(reached, default=0)


def split_payment(principal_fen: int, bonus_fen: int, amount_fen: int) -> Split:
    """What paying ``amount_fen`` with balance takes from each part: in proportion to
    the balances the member holds, the bonus part rounded down (the principal takes the
    odd fen). Both parts stay within their balances: bonus = floor(a·B/(P+B)) ≤ B and
    principal = a − bonus = ceil(a·P/(P+B)) ≤ P when a ≤ P+B."""
    if amount_fen < 0 or principal_fen < 0 or bonus_fen < 0:
        raise ValueError("split_payment() takes non-negative amounts")
    total = principal_fen + bonus_fen
    if amount_fen > total:
        raise ValueError("cannot pay more than the balance")
    if amount_fen == 0:
        return ZERO
    bonus = amount_fen * bonus_fen // total
    return Split(amount_fen - bonus, bonus)


def split_back(taken: Split, returned_before_fen: int, amount_fen: int) -> Split:
    """What a refund of ``amount_fen`` more of an order's stored value returns to each
    part, when ``returned_before_fen`` of it was returned already: in proportion to what
    the order took, cumulatively (bonus of the first n fen returned = floor(n·b/(p+b))),
    so partial refunds never drift and returning all of it returns exactly what was
    taken, principal and bonus."""
    total = taken.total_fen
    if amount_fen < 0 or returned_before_fen < 0 or returned_before_fen + amount_fen > total:
        raise ValueError("cannot return more stored value than the order took")
    if amount_fen == 0:
        return ZERO

    def bonus_of(n: int) -> int:
        return n * taken.bonus_fen // total

    after = returned_before_fen + amount_fen
    bonus = bonus_of(after) - bonus_of(returned_before_fen)
    return Split(amount_fen - bonus, bonus)


def stored_value_share(
    stored_value_fen: int, total_fen: int, refunded_before_fen: int, refund_fen: int
) -> int:
    """How much of a refund of ``refund_fen`` (of an order of ``total_fen`` of which
    ``refunded_before_fen`` was refunded) goes back to stored value; the rest goes back
    through the payment provider. In proportion to how the order was paid, cumulatively
    (the same floor rule as ``split_back``), so a refund of everything returns all the
    stored value and all the provider's money."""
    if total_fen <= 0 or stored_value_fen <= 0:
        return 0
    if refund_fen < 0 or refunded_before_fen < 0 or refunded_before_fen + refund_fen > total_fen:
        raise ValueError("cannot refund more than the order's total")

    def share(n: int) -> int:
        # Ceil for the stored-value part: its complement, the provider's, is a floor.
        return -(-n * stored_value_fen // total_fen)

    return share(refunded_before_fen + refund_fen) - share(refunded_before_fen)


def withdrawal_quote(principal_fen: int, bonus_spent_fen: int) -> int:
    """What a member gets back when closing the stored value: the unused principal less
    the bonus already spent (bonus given to a member who does not stay is repaid out of
    the principal), never below zero. The unspent bonus is forfeited."""
    return max(0, principal_fen - max(0, bonus_spent_fen))


def top_up_allowed(balance_fen: int, amount_fen: int, bonus_fen: int, cap_fen: int) -> bool:
    """A top-up may not take the balance (principal + bonus) above the cap per member
    (China's rules cap a registered prepaid card at ¥5,000)."""
    return amount_fen > 0 and balance_fen + amount_fen + bonus_fen <= cap_fen


def check_tiers(tiers: Sequence[Tier]) -> list[str]:
    """What is wrong with a list of tiers (empty: nothing): positive minimums, distinct,
    a bonus that is not negative and smaller than the minimum."""
    problems = []
    seen: set[int] = set()
    for i, t in enumerate(tiers):
        if t.min_fen <= 0:
            problems.append(f"tiers[{i}]: min_fen must be positive")
        if t.min_fen in seen:
            problems.append(f"tiers[{i}]: another tier has the same min_fen")
        seen.add(t.min_fen)
        if t.bonus_fen < 0 or t.bonus_fen >= t.min_fen:
            problems.append(f"tiers[{i}]: bonus_fen must be at least 0 and below min_fen")
    return problems


def apply(balance: Split, delta: Split) -> Split:
    """The balance after a movement (a ledger entry's signed parts): what the account's
    conditional ADD does, refused when a part would go below zero."""
    after = Split(balance.principal_fen + delta.principal_fen, balance.bonus_fen + delta.bonus_fen)
    if after.principal_fen < 0 or after.bonus_fen < 0:
        raise ValueError("a movement may not take a balance below zero")
    return after
