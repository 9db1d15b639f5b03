"""Checkout promotions: tiered spend discounts (满减), second item half price and flash
sales (秒杀) with their sharded quantity counters. Filled in by issue #6."""

from __future__ import annotations

from pynamodb.models import Model

PROMOTION_MODELS: tuple[type[Model], ...] = ()
