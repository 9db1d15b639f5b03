"""Catalogue: products, categories, per-store price and stock, ERP imports."""
