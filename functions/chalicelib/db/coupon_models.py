"""Coupons (优惠券): templates head office defines, the coupons customers hold, and the
counters that keep quantities, per-customer limits and budgets. Filled in by the coupon
work of issue #6."""

from __future__ import annotations

from pynamodb.models import Model

COUPON_MODELS: tuple[type[Model], ...] = ()
