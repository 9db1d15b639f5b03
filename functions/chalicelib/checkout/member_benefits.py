"""A member's benefits at checkout: the level's (loyalty/levels.py) and the paid card's
(loyalty/paid_rules.py) combined into the promotion engine's one ``MemberPrices`` hook
and its member free delivery. Plain Python, no I/O: checkout builds it from what the
cart's one BatchGetItem read.

Per SKU the member gets the lower of the level price and the card's price (the card's
own best of its member price and its discount), never two stacked; on a tie the level's
counts, so the card's refund rule ("benefit used") is not triggered by a saving the
level gave anyway. A member day's price (会员日, promotions/member_day.py) is one more
option of the same choice: a member gets the lowest of level, member day and card per
SKU, never two stacked. Free delivery: the level's from its threshold on the goods after
discounts, else the card's (always); the level's is tried first for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chalicelib.checkout.pricing import CartLine
from chalicelib.checkout.promotion_engine import (
    AppliedDiscount,
    MemberDelivery,
    PointsMultiplier,
    Scope,
)
from chalicelib.kernel.money import percent_off
from chalicelib.loyalty.levels import LevelPrices
from chalicelib.loyalty.levels import rank as level_rank
from chalicelib.loyalty.paid_rules import CardBenefits
from chalicelib.loyalty.programme_schemas import Level, LevelsSettings
from chalicelib.promotions.service import MemberDay

FREE_DELIVERY_LABEL = "会员免配送费"
CARD_PRICE_LABEL = "付费会员价"
CARD = "card"


def level_price_label(level: Level) -> str:
    return f"{level.code} 会员价"


@dataclass(frozen=True)
class MemberBenefits:
    """``prices``: sku -> (unit fen, code, label) of the member's best price;
    ``delivery``: the member's free delivery rules, in the order tried."""

    prices: Mapping[str, tuple[int, str, str]]
    delivery: tuple[MemberDelivery, ...] = ()

    def unit_price(self, sku: str) -> int | None:
        got = self.prices.get(sku)
        return None if got is None else got[0]

    def source_of(self, sku: str) -> tuple[str, str]:
        _, code, label = self.prices[sku]
        return code, label

    @staticmethod
    def card_used(applied: Sequence[AppliedDiscount]) -> bool:
        """Whether the priced cart owes anything to the card (its refund rule)."""
        return any(
            a.code.startswith(("member_price:card:", "member_free_delivery:card:")) for a in applied
        )


def member_days_for(
    days: Sequence[MemberDay],
    level: Level | None,
    levels: LevelsSettings | None,
    at: datetime,
) -> list[MemberDay]:
    """The member days on at ``at`` whose checkout benefits this member gets: a member
    (``level`` known: a signed-in customer), on the day, in the audience (every member,
    or the level or above; a segment audience gets only its coupon pack, never here)."""
    if level is None or levels is None:
        return []
    out = []
    for d in days:
        if d.on_at(at) is None or d.audience == "segment":
            continue
        if d.audience == "level" and level_rank(level.code, levels) < level_rank(
            d.min_level, levels
        ):
            continue
        out.append(d)
    return out


def member_day_prices(
    lines: Sequence[CartLine], days: Sequence[MemberDay]
) -> dict[str, tuple[int, str, str]]:
    """sku -> (unit fen, code, label): the lowest member-day price of each line's SKU
    (a per-SKU member price, or its percent off on the day's scope, rounded in the
    customer's favour to the fen below), where one is below the list price."""
    out: dict[str, tuple[int, str, str]] = {}
    for d in sorted(days, key=lambda d: d.promotion_id):
        fixed = dict(d.prices)
        scope = Scope(d.categories, d.skus)
        for line in lines:
            unit = line.unit_price_fen
            options = []
            if line.sku in fixed:
                options.append(fixed[line.sku])
            if d.percent_off is not None and scope.covers(line):
                options.append(unit - percent_off(unit, d.percent_off * 100))
            if not options or min(options) >= unit:
                continue
            best = out.get(line.sku)
            if best is None or min(options) < best[0]:
                out[line.sku] = (min(options), f"member_day:{d.promotion_id}", d.name)
    return out


def points_multipliers(days: Sequence[MemberDay]) -> list[PointsMultiplier]:
    return [
        PointsMultiplier(f"member_day:{d.promotion_id}", d.name, d.promotion_id, m)
        for d in days
        if (m := d.points_multiplier) is not None
    ]


def combine(
    list_prices: Mapping[str, int],
    level: Level | None,
    card: CardBenefits | None,
    member_day: Mapping[str, tuple[int, str, str]] | None = None,
) -> MemberBenefits:
    """The member's benefits on a cart whose list prices are ``list_prices`` (sku ->
    fen), with their ``level`` (None: not a member / not applicable), running ``card``
    (None: none) and the member day's prices on now (``member_day_prices``)."""
    prices: dict[str, tuple[int, str, str]] = {}
    for sku, fen in list_prices.items():
        # (price, preference, code, label): the lowest price; on a tie the level, then
        # the member day, then the card (so the card's refund rule is not triggered).
        options: list[tuple[int, int, str, str]] = []
        if level is not None:
            p = LevelPrices(level.discount_permille, {sku: fen}).unit_price(sku)
            if p is not None and p < fen:
                code = f"member_price:level:{level.code}"
                options.append((p, 0, code, level_price_label(level)))
        if member_day and sku in member_day:
            p, code, label = member_day[sku]
            options.append((p, 1, code, label))
        if card is not None:
            p = card.unit_price(sku, fen)
            if p is not None:
                options.append((p, 2, f"member_price:card:{card.plan_id}", CARD_PRICE_LABEL))
        if options:
            price, _, code, label = min(options)
            prices[sku] = (price, code, label)
    delivery: list[MemberDelivery] = []
    if level is not None and level.free_delivery_min_fen is not None:
        delivery.append(
            MemberDelivery(
                f"member_free_delivery:level:{level.code}",
                FREE_DELIVERY_LABEL,
                int(level.free_delivery_min_fen),
            )
        )
    if card is not None and card.free_delivery:
        delivery.append(
            MemberDelivery(f"member_free_delivery:card:{card.plan_id}", FREE_DELIVERY_LABEL, 0)
        )
    return MemberBenefits(prices, tuple(delivery))
