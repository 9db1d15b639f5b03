"""Stored value (储值): top-up, bonus tiers, ledger, liability, principal refund."""
