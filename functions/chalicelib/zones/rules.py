"""Add-on suggestions (凑单): which of a zone's products close a gap, cheapest first.

Plain Python, no I/O. A gap is what the cart still needs to reach a tiered discount's
next tier (on that promotion's eligible base) or the store's free-delivery threshold;
a suggestion is a combination of 1 to ``MAX_UNITS`` units of the zone's products (the
same product may be taken twice when the store holds that many) whose prices together
reach the gap. Only minimal combinations are suggested (dropping any unit would leave
the gap open): the cheapest first, ties to fewer units, then the zone's order.

The search is exact within that bound and stays small: products are sorted by price
once; singles, pairs and triples are each found with a binary search for the cheapest
partner, and a branch stops as soon as even its cheapest completion costs more than
the K-th best found (see bench/quote.py, ``addon_search_ms``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

MAX_UNITS = 3  # units in one suggestion
SUGGESTIONS = 3  # suggestions in a quote (K)
MAX_ZONE_ITEMS = 50  # a zone holds at most this many products

GapKind = Literal["tiered", "free_delivery"]


@dataclass(frozen=True)
class ZoneItem:
    """A zone's product at a store, as the search needs it: ``price_fen`` is what one
    more unit adds toward the gap; ``position`` its place in the curated list."""

    sku: str
    price_fen: int
    stock: int
    position: int = 0
    name: str = ""


@dataclass(frozen=True)
class Suggestion:
    """``units``: (sku, qty) in the zone's order of first appearance; ``total_fen`` their
    price together (at least the gap)."""

    units: tuple[tuple[str, int], ...]
    total_fen: int

    @property
    def count(self) -> int:
        return sum(q for _, q in self.units)


def free_delivery_gap(free_above_fen: int | None, goods_fen: int) -> int | None:
    """How much more goods waive the store's delivery fee: 0 when reached, None when the
    store has no threshold."""
    if free_above_fen is None:
        return None
    return max(0, free_above_fen - goods_fen)


def eligible(
    items: Sequence[ZoneItem], counts: Callable[[ZoneItem], bool] | None = None
) -> list[ZoneItem]:
    """The items that can be suggested: in stock, priced, and (``counts``) counting
    toward the gap the way pricing will (in the promotion's scope, not flash-priced)."""
    return [i for i in items if i.stock >= 1 and i.price_fen > 0 and (counts is None or counts(i))]


def suggest(items: Sequence[ZoneItem], gap_fen: int, k: int = SUGGESTIONS) -> list[Suggestion]:
    """Up to ``k`` minimal combinations of 1..3 units of ``items`` (already filtered with
    :func:`eligible`) reaching ``gap_fen``: cheapest first, ties to fewer units, then the
    zone's order. [] when the gap is closed or nothing reaches it."""
    if gap_fen <= 0 or k <= 0:
        return []
    pool = sorted(eligible(items), key=lambda i: (i.price_fen, i.position))
    p = [i.price_fen for i in pool]
    n = len(p)
    if n == 0 or p[-1] * MAX_UNITS < gap_fen:
        return []
    stock = [i.stock for i in pool]
    pos = [i.position for i in pool]
    best: list[tuple[tuple[int, int, tuple[int, ...]], tuple[int, ...]]] = []
    limit = float("inf")  # the k-th best total once k are found: nothing dearer can enter

    def offer(total: int, combo: tuple[int, ...]) -> None:
        nonlocal limit
        if len(best) >= k:
            worst = best[-1][0]
            if (total, len(combo)) > worst[:2]:
                return
        key = (total, len(combo), tuple(sorted(pos[i] for i in combo)))
        if len(best) >= k and key >= best[-1][0]:
            return
        best.append((key, combo))
        best.sort()
        del best[k:]
        if len(best) >= k:
            limit = best[-1][0][0]

    # One unit: the k cheapest products reaching the gap.
    first = bisect_left(p, gap_fen)
    for a in range(first, min(n, first + k)):
        offer(p[a], (a,))
    # Two units a <= b, minimal: p[b] < gap (b alone does not reach it).
    for a in range(n):
        if p[a] >= gap_fen or p[a] * 2 > limit:
            break
        b = max(a, bisect_left(p, gap_fen - p[a], a))
        taken = 0
        while b < n and taken < k and p[b] < gap_fen and p[a] + p[b] <= limit:
            if b != a or stock[a] >= 2:
                offer(p[a] + p[b], (a, b))
                taken += 1
            b += 1
    # Three units a <= b <= c, minimal: p[b] + p[c] < gap (dropping the cheapest, a,
    # leaves it open); then no two of them reach it either.
    top = p[-1]
    for a in range(n):
        pa = p[a]
        if pa * 3 > limit:
            break
        if pa + 2 * top < gap_fen:
            continue
        for b in range(a, n):
            pab = pa + p[b]
            if pab >= gap_fen or max(gap_fen, pab + p[b]) > limit:
                break
            if pab + top < gap_fen or (b == a and stock[a] < 2):
                continue
            c = max(b, bisect_left(p, gap_fen - pab, b))
            taken = 0
            while c < n and taken < k and p[b] + p[c] < gap_fen and pab + p[c] <= limit:
                held = 3 if a == c else 2 if c == b else 1  # units of c's product taken
                if stock[c] >= held:
                    offer(pab + p[c], (a, b, c))
                    taken += 1
                c += 1
    out = []
    for (total, _, _), combo in best:
        qty: dict[int, int] = {}
        for i in sorted(combo, key=lambda i: pool[i].position):
            qty[i] = qty.get(i, 0) + 1
        out.append(Suggestion(tuple((pool[i].sku, q) for i, q in qty.items()), total))
    return out
