"""Storefront traffic figures as plain numbers (no AWS): what a store's day counted."""

from __future__ import annotations

from dataclasses import dataclass, fields

COUNTERS = (
    "visits",
    "visitors",
    "product_views",
    "carts",
    "cart_visitors",
    "checkouts",
    "checkout_visitors",
)


@dataclass
class Counts:
    """A store's day of storefront events (or a sum of them)."""

    visits: int = 0
    visitors: int = 0  # distinct devices that visited (进店量)
    product_views: int = 0
    carts: int = 0
    cart_visitors: int = 0  # distinct devices that added to cart
    checkouts: int = 0
    checkout_visitors: int = 0

    def add(self, other: Counts) -> Counts:
        """In place, returning self: sums are built with ``total.add(day)``."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self
