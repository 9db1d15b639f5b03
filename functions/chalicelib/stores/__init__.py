"""Stores: create and edit stores, hours, delivery radius, which stores deliver to an address."""
