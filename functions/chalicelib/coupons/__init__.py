"""Coupons: templates, claiming, gifts, bulk issue, sold coupons, wallet, budgets, expiry
reminders."""
