"""Pricing a cart at a store: lines, subtotal, discounts, delivery fee, minimum order.

Promotions and coupons (a later issue) plug in as ``PricingRule`` objects: each returns
order-level discounts, which are allocated to lines by largest remainder so every line
knows what was paid for it. The delivery fee is computed on the goods after discounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from chalicelib.kernel.money import allocate


@dataclass(frozen=True)
class CartLine:
    """One line as the store sells it, at the moment of pricing."""

    sku: str
    name: str
    unit: str
    category1: str
    category2: str
    zone: str | None
    shelf: str | None
    fresh: bool
    unit_price_fen: int
    qty: int

    @property
    def amount_fen(self) -> int:
        return self.unit_price_fen * self.qty


@dataclass(frozen=True)
class Discount:
    """An order-level discount from a promotion or coupon (a later issue)."""

    code: str
    label: str
    amount_fen: int


class PricingRule(Protocol):
    def discounts(self, lines: Sequence[CartLine], subtotal_fen: int) -> list[Discount]:
        """Discounts this rule grants on the cart (may be empty)."""


@dataclass(frozen=True)
class DeliveryRule:
    base_fee_fen: int
    free_above_fen: int | None

    def fee(self, goods_fen: int) -> int:
        if self.free_above_fen is not None and goods_fen >= self.free_above_fen:
            return 0
        return self.base_fee_fen


@dataclass(frozen=True)
class PricedLine:
    line: CartLine
    discount_fen: int

    @property
    def paid_fen(self) -> int:
        return self.line.amount_fen - self.discount_fen


@dataclass(frozen=True)
class Priced:
    lines: list[PricedLine]
    subtotal_fen: int
    discounts: list[Discount] = field(default_factory=list)
    discount_fen: int = 0
    delivery_fee_fen: int = 0
    total_fen: int = 0
    minimum_order_fen: int = 0
    shortfall_fen: int = 0  # how much more is needed to reach the minimum order


def price(
    lines: Sequence[CartLine],
    *,
    fulfilment: str,
    delivery: DeliveryRule,
    minimum_order_fen: int,
    rules: Sequence[PricingRule] = (),
) -> Priced:
    """Price the cart. Discounts never exceed the goods; totals are never negative."""
    subtotal = sum(line.amount_fen for line in lines)
    discounts: list[Discount] = []
    for rule in rules:
        discounts.extend(rule.discounts(lines, subtotal))
    discount = min(sum(d.amount_fen for d in discounts), subtotal)
    shares = allocate(discount, [line.amount_fen for line in lines]) if lines else []
    goods = subtotal - discount
    fee = delivery.fee(goods) if fulfilment == "delivery" else 0
    minimum = minimum_order_fen if fulfilment == "delivery" else 0
    return Priced(
        lines=[PricedLine(line, share) for line, share in zip(lines, shares, strict=True)],
        subtotal_fen=subtotal,
        discounts=discounts,
        discount_fen=discount,
        delivery_fee_fen=fee,
        total_fen=goods + fee,
        minimum_order_fen=minimum,
        shortfall_fen=max(0, minimum - goods),
    )
