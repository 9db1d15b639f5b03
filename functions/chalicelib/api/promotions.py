"""Checkout promotions: tiered spend discounts, second item half price, flash sales."""

from __future__ import annotations

from chalicelib.api.routing import Area

area = Area("promotions", __name__, "Checkout promotions: tiered discounts, flash sales.")
