"""Coupons: templates, issuance, the customer's wallet, budgets, expiry reminders."""

from __future__ import annotations

from chalicelib.api.routing import Area

area = Area("coupons", __name__, "Coupons: templates, issuance, wallet, budgets.")
