"""The lottery's draw as a pure function anyone can recompute from the revealed seed
(docs/mechanics.md, "Lottery free order"): each entrant order gets
``score = HMAC-SHA256(seed, order_id)``; winners are the N lowest scores (ties, which
need a SHA-256 collision, are broken by order id). One win per customer: walking the
scores upwards, an order whose holder already won is passed over."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SEED_BYTES = 32


@dataclass(frozen=True)
class Winner:
    order_id: str
    score: str  # hex of the HMAC


def seed_hash(seed: bytes) -> str:
    """What is published before the window opens: sha256(seed), hex."""
    return hashlib.sha256(seed).hexdigest()


def score(seed: bytes, order_id: str) -> str:
    return hmac.new(seed, order_id.encode(), hashlib.sha256).hexdigest()


def draw(
    seed: bytes, order_ids: Sequence[str], n: int, holders: Mapping[str, str] | None = None
) -> list[Winner]:
    """The winners, lowest score first. ``holders`` (order id -> an opaque customer
    token) applies one win per customer; without it every order is its own holder.
    Fewer than ``n`` entrants (or holders): every one wins."""
    scored = sorted((score(seed, o), o) for o in sorted(set(order_ids)))
    won: set[str] = set()
    winners: list[Winner] = []
    for s, o in scored:
        if len(winners) >= n:
            break
        holder = holders.get(o, o) if holders else o
        if holder in won:
            continue
        won.add(holder)
        winners.append(Winner(o, s))
    return winners


def entrants_hash(order_ids: Sequence[str]) -> str:
    """sha256 of the sorted entrant order ids joined by newlines: the proof's list."""
    return hashlib.sha256("\n".join(sorted(order_ids)).encode()).hexdigest()


def holder_token(lottery_id: str, customer_id: str) -> str:
    """The customer as the proof shows it: a token that says "same customer" without
    naming them."""
    return hashlib.sha256(f"{lottery_id}:{customer_id}".encode()).hexdigest()[:12]


def prize_fen(paid_fen: int, refunded_fen: int, cap_fen: int | None) -> int:
    """What the winner gets back: what the order still holds of its payment, up to the
    cap (None: the whole order)."""
    left = max(paid_fen - refunded_fen, 0)
    return left if cap_fen is None else min(left, cap_fen)


def eligible(
    *,
    paid_fen: int,
    refunded_fen: int,
    paid_at: str | None,
    starts_at: str,
    ends_at: str,
    min_fen: int | None,
) -> bool:
    """An order enters when paid inside [starts_at, ends_at), not refunded in full, and
    (with a threshold) still paid at least ``min_fen`` once its refunds are deducted (a
    return below the threshold loses the entry, as it loses an after-payment gift:
    issue 18 item 2). Members-only and segment tests are the service's (they need the
    member's data)."""
    if not paid_at or not (starts_at <= paid_at < ends_at) or paid_fen <= 0:
        return False
    if refunded_fen >= paid_fen:
        return False
    return min_fen is None or paid_fen - refunded_fen >= min_fen
