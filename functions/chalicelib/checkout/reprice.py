"""Re-evaluating discounts on returns (issue 18 item 2; docs/promotions.md "Refund rule").

Plain Python, no I/O. A promotion or coupon template states its ``returns_policy``:

* ``proportional`` (the default, the Taobao norm): the customer keeps each line's
  allocated share; a return refunds the returned units' paid share.
* ``reevaluate`` (Talon.One's ``reevaluateOnReturn``): when the units the customer keeps
  no longer reach the threshold or the pair, the refund deducts the benefit no longer
  earned.

At placing, only for discounts whose policy is ``reevaluate``, the order keeps a compact
snapshot of the rule (:func:`snapshot`, JSON on the order's detail): its tiers or
threshold, the amount granted, and per line its share and the base it was computed on.
Ordinary orders store nothing.

At a return, :func:`target` says what the units still held deserve to lose: per
re-evaluated discount, ``max(0, share carried by the held units - what the rule still
gives on them)``. The order stores what it has deducted so far (``clawed``); a refund
deducts ``target - clawed`` from the paid share of the units it returns, never below 0
(the chain never asks money back; what could not be deducted stays owed to the next
return of the order), and gives back a deduction no longer due (the last units
returned: nothing is held, nothing is owed). So over any sequence of returns, the
customer's refunds add up to what was paid less what the units still held would cost
priced afresh (when that is less than their paid share), and returning everything
refunds exactly what was paid.

Units of a line are refunded head first (money.refund_for_units); a shortage at picking
(the store's fault) refunds the first units, and those units still count as held for
the rule (a shortage never re-evaluates); what the rule still gives on the units held
is the kept units' in proportion to their base. Each line's base and share are spread evenly
over its units (largest remainder); the share is spread with the odd fen on the LAST
units, the paid amount with the odd fen on the first ones, so that for a line with one
discount a unit's paid share plus its discount share is exactly its price.

Hook for new mechanics: :data:`EARNED` maps a snapshot's kind to the function giving
what the rule still gives on a held base/units; a kind missing from it is proportional.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from chalicelib.checkout.promotion_engine import AppliedDiscount
from chalicelib.kernel.money import allocate, percent_off, yuan

PROPORTIONAL = "proportional"
REEVALUATE = "reevaluate"
POLICIES = (PROPORTIONAL, REEVALUATE)
DEDUCTION_LABEL = "优惠不再满足"  # "discount no longer earned", shown on the refund
DEDUCTION_BACK_LABEL = "优惠扣除退回"  # "deduction given back"


@dataclass(frozen=True)
class LineRule:
    """One line's part in a discount: its share (``alloc``) and the base the rule looks
    at (for second item half price: the half taken off one unit)."""

    index: int
    alloc: int
    base: int


@dataclass(frozen=True)
class Rule:
    """A discount re-evaluated on returns."""

    code: str  # "tiered:<id>", "coupon:<id>", "second_half:<id>"
    kind: str  # "tiered" | "coupon" | "second_half" (or a new mechanic's)
    amount_fen: int  # granted at placing: the rule never gives more on fewer units
    lines: tuple[LineRule, ...]
    tiers: tuple[tuple[int, int], ...] = ()  # tiered: (threshold, off)
    threshold_fen: int = 0  # coupon
    amount_off_fen: int = 0  # coupon amount_off
    percent_off: int = 0  # coupon percent_off (15 = 15 %)
    cap_fen: int | None = None  # coupon percent_off cap


@dataclass(frozen=True)
class Held:
    """A line's units as the rule sees them after a refund: ``qty`` bought, the first
    ``shortage`` refunded at picking (still held for the rule), units up to ``refunded``
    refunded in all (returns after the shortage)."""

    qty: int
    shortage: int
    refunded: int

    def units(self) -> list[int]:
        """The indices of the units held for the rule."""
        returned_from = min(self.shortage, self.refunded)
        return [*range(returned_from), *range(self.refunded, self.qty)]


def _spread(total: int, qty: int, last: bool) -> list[int]:
    """``total`` over ``qty`` units, the odd fen on the first units (or the last)."""
    if qty <= 0:
        return []
    shares = allocate(total, [1] * qty)
    return shares[::-1] if last else shares


def _tiered(rule: Rule, base: int, held: Sequence[int]) -> int:
    del held
    off = max((o for t, o in rule.tiers if base >= t), default=0)
    return min(off, base)


def _coupon(rule: Rule, base: int, held: Sequence[int]) -> int:
    del held
    if base <= 0 or base < rule.threshold_fen:
        return 0
    if rule.percent_off:
        amount = percent_off(base, rule.percent_off * 100)
        return amount if rule.cap_fen is None else min(amount, rule.cap_fen)
    return min(rule.amount_off_fen, base)


def _second_half(rule: Rule, base: int, held: Sequence[int]) -> int:
    del base
    return sum((n // 2) * line.base for line, n in zip(rule.lines, held, strict=True))


# kind -> what the rule still gives, from (rule, held base, held units per rule line).
# A new mechanic (满件减, bundle price, ...) adds its kind here and to ``snapshot``.
EARNED: dict[str, Callable[[Rule, int, Sequence[int]], int]] = {
    "tiered": _tiered,
    "coupon": _coupon,
    "second_half": _second_half,
}


def owed(rule: Rule, held: Mapping[int, Held]) -> int:
    """What the units the customer keeps still carry of ``rule`` beyond their part of
    what the rule gives on the units held for it (kept + short at picking)."""
    earned_of = EARNED.get(rule.kind)
    if earned_of is None:
        return 0
    carried, base, base_kept, units = 0, 0, 0, []
    for line in rule.lines:
        h = held[line.index]
        keep = h.units()
        kept = [u for u in keep if u >= h.refunded]  # delivered and not returned
        share = _spread(line.alloc, h.qty, last=True)
        carried += sum(share[u] for u in kept)
        if rule.kind == "second_half":  # a unit's weight: the half it may take off
            per_unit = [line.base] * h.qty
        else:
            per_unit = _spread(line.base, h.qty, last=False)
        base += sum(per_unit[u] for u in keep)
        base_kept += sum(per_unit[u] for u in kept)
        units.append(len(keep))
    earned = min(max(earned_of(rule, base, units), 0), rule.amount_fen)
    if earned >= rule.amount_fen:
        return 0  # nothing lost
    if base > base_kept:
        # units short at picking count for the rule, but what the rule still gives is
        # theirs in proportion: the kept units' part (rounded up: for the customer)
        earned = -(-earned * base_kept // base)
    return max(carried - earned, 0)


def target(rules: Sequence[Rule], held: Mapping[int, Held]) -> int:
    """What the order should have deducted in all once these units are held."""
    return sum(owed(rule, held) for rule in rules)


def step(paid_share: int, target_fen: int, clawed_fen: int) -> tuple[int, int]:
    """(refund of the goods, clawed after) for a return whose units' paid share is
    ``paid_share``: deduct what is newly owed, give back what is no longer, never
    below 0."""
    refund = max(paid_share - (target_fen - clawed_fen), 0)
    return refund, clawed_fen + paid_share - refund


def deduction_line(deducted_fen: int) -> str | None:
    """The refund's own line saying why it is less than the units' paid share."""
    if deducted_fen == 0:
        return None
    if deducted_fen < 0:  # the last units back: an earlier deduction given back
        return f"{DEDUCTION_BACK_LABEL}: +{yuan(-deducted_fen)}"
    return f"{DEDUCTION_LABEL}: {yuan(-deducted_fen)}"


# --- the snapshot kept on the order ---------------------------------------------------


def dumps(rules: Sequence[Rule]) -> str | None:
    """The compact form stored on the order (None: nothing to store)."""
    if not rules:
        return None
    out = []
    for r in rules:
        item: dict[str, object] = {
            "c": r.code,
            "k": r.kind,
            "a": r.amount_fen,
            "l": [[x.index, x.alloc, x.base] for x in r.lines],
        }
        if r.tiers:
            item["t"] = [list(t) for t in r.tiers]
        if r.kind == "coupon":
            item["q"] = [r.threshold_fen, r.amount_off_fen, r.percent_off, r.cap_fen]
        out.append(item)
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> list[Rule]:
    if not text:
        return []
    rules = []
    for item in json.loads(text):
        q = item.get("q") or [0, 0, 0, None]
        rules.append(
            Rule(
                code=item["c"],
                kind=item["k"],
                amount_fen=int(item["a"]),
                lines=tuple(LineRule(int(i), int(a), int(b)) for i, a, b in item["l"]),
                tiers=tuple((int(t), int(o)) for t, o in item.get("t", [])),
                threshold_fen=int(q[0]),
                amount_off_fen=int(q[1]),
                percent_off=int(q[2]),
                cap_fen=None if q[3] is None else int(q[3]),
            )
        )
    return rules


@dataclass(frozen=True)
class Source:
    """A re-evaluated discount's rule as storage knows it, by the applied discount's code."""

    tiers: tuple[tuple[int, int], ...] = ()
    threshold_fen: int = 0
    amount_off_fen: int = 0
    percent_off: int = 0
    cap_fen: int | None = None
    covers: tuple[bool, ...] = ()  # per line: in the rule's scope (empty: where allocated)


def snapshot(
    applied: Sequence[AppliedDiscount],
    qtys: Sequence[int],
    amounts: Sequence[int],
    per_sku_units: Sequence[int],
    sources: Mapping[str, Source],
) -> list[Rule]:
    """The rules to keep for the applied discounts whose code is in ``sources`` (those
    whose policy is reevaluate). ``amounts`` are the lines' list amounts and
    ``per_sku_units`` what each line's flash/fixed-price units cost (left out of an
    order-level base). A line's base is recomputed from the item-level discounts; a
    discount whose recomputed bases do not add up to its recorded base is left
    proportional rather than re-evaluated on a guess."""
    if not sources:
        return []
    item_level = {"flash", "fixed_price", "member_price", "second_half"}
    n = len(qtys)
    item_fen = list(amounts)
    tiered_alloc = [0] * n
    for a in applied:
        if a.kind in item_level:
            item_fen = [x - y for x, y in zip(item_fen, a.allocation, strict=True)]
        if a.kind == "tiered":
            tiered_alloc = list(a.allocation)
    order_base = [x - f for x, f in zip(item_fen, per_sku_units, strict=True)]
    rules = []
    for a in applied:
        src = sources.get(a.code)
        if src is None:
            continue
        alloc = list(a.allocation)
        if a.kind == "second_half":
            bases = [al // (q // 2) if q >= 2 else 0 for al, q in zip(alloc, qtys, strict=True)]
            ok = all(b * (q // 2) == al for b, q, al in zip(bases, qtys, alloc, strict=True))
        elif a.kind in ("tiered", "coupon"):
            full = order_base
            if a.kind == "coupon":
                full = [b - t for b, t in zip(order_base, tiered_alloc, strict=True)]
            covers = src.covers or tuple(bool(al) for al in alloc)
            bases = [b if c else 0 for b, c in zip(full, covers, strict=True)]
            ok = sum(bases) == a.base_fen
        else:
            ok = False  # a kind this module cannot re-evaluate yet: proportional
        if not ok:
            continue
        rules.append(
            Rule(
                code=a.code,
                kind=a.kind,
                amount_fen=int(a.amount_fen),
                lines=tuple(
                    LineRule(i, al, b)
                    for i, (al, b) in enumerate(zip(alloc, bases, strict=True))
                    if al or b
                ),
                tiers=src.tiers,
                threshold_fen=src.threshold_fen,
                amount_off_fen=src.amount_off_fen,
                percent_off=src.percent_off,
                cap_fen=src.cap_fen,
            )
        )
    return rules
