"""A member's benefits at checkout: the level's (loyalty/levels.py) and the paid card's
(loyalty/paid_rules.py) combined into the promotion engine's one ``MemberPrices`` hook
and its member free delivery. Plain Python, no I/O: checkout builds it from what the
cart's one BatchGetItem read.

Per SKU the member gets the lower of the level price and the card's price (the card's
own best of its member price and its discount), never two stacked; on a tie the level's
counts, so the card's refund rule ("benefit used") is not triggered by a saving the
level gave anyway. Free delivery: the level's from its threshold on the goods after
discounts, else the card's (always); the level's is tried first for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chalicelib.checkout.promotion_engine import AppliedDiscount, MemberDelivery
from chalicelib.loyalty.levels import LevelPrices
from chalicelib.loyalty.paid_rules import CardBenefits
from chalicelib.loyalty.programme_schemas import Level

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


def combine(
    list_prices: Mapping[str, int], level: Level | None, card: CardBenefits | None
) -> MemberBenefits:
    """The member's benefits on a cart whose list prices are ``list_prices`` (sku ->
    fen), with their ``level`` (None: not a member / not applicable) and running
    ``card`` (None: none)."""
    prices: dict[str, tuple[int, str, str]] = {}
    for sku, fen in list_prices.items():
        # (price, preference, code, label): the lowest price, the level on a tie.
        options: list[tuple[int, int, str, str]] = []
        if level is not None:
            p = LevelPrices(level.discount_permille, {sku: fen}).unit_price(sku)
            if p is not None and p < fen:
                code = f"member_price:level:{level.code}"
                options.append((p, 0, code, level_price_label(level)))
        if card is not None:
            p = card.unit_price(sku, fen)
            if p is not None:
                options.append((p, 1, f"member_price:card:{card.plan_id}", CARD_PRICE_LABEL))
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
