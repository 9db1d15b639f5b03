"""Promotions: tiered discounts, second item half price, sharded flash sales."""
