"""Checkout: pricing a cart, the promotion engine, best coupon; the hub every order goes through."""
