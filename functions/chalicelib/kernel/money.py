"""Money rules. Everything is integer fen (分); no float ever touches an amount.

An order-level discount is allocated to lines by the largest-remainder method, so each
line knows exactly what was paid for it and partial refunds add up to what was paid.
"""

from __future__ import annotations

from collections.abc import Sequence


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` fen over lines in proportion to ``weights`` (largest remainder).

    The shares are whole fen, sum exactly to ``total`` and never exceed a line's weight
    when ``total <= sum(weights)``. Ties in remainders go to the earlier line, so the
    result is deterministic.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate() takes non-negative amounts")
    base = sum(weights)
    if total == 0 or not weights:
        return [0] * len(weights)
    if base == 0:
        raise ValueError("cannot allocate over lines worth nothing")
    shares = [total * w // base for w in weights]
    remainders = [total * w % base for w in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def percent_off(amount: int, percent_off_times_100: int) -> int:
    """A percentage discount, rounded down to the fen (e.g. 12.5 % off = 1250)."""
    return amount * percent_off_times_100 // 10_000


def refund_for_units(
    paid_fen: int, units_bought: int, units_refunded_before: int, units: int
) -> int:
    """What to refund for ``units`` more units of a line of which ``units_refunded_before``
    were refunded already, so that refunding every unit returns exactly ``paid_fen``.

    Each unit's share is the largest-remainder allocation of what the line paid.
    """
    if units < 0 or units_refunded_before < 0 or units_refunded_before + units > units_bought:
        raise ValueError("cannot refund more units than were bought")
    per_unit = allocate(paid_fen, [1] * units_bought)
    return sum(per_unit[units_refunded_before : units_refunded_before + units])


def yuan(fen: int) -> str:
    """Display form: 1290 -> '¥12.90'."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100}.{abs(fen) % 100:02d}"
