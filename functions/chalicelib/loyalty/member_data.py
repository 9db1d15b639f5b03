"""The member's loyalty data for their data export (PIPL Art. 45), named in
members/providers.py: points (balance and every entry) and level (growth, benefits,
level history). Ledgers are kept when a member deletes their account (accounting), and
hold no personal data beyond the member id."""

from __future__ import annotations

from typing import Any

import msgspec

from chalicelib.loyalty import growth, points


def export_points(customer_id: str) -> dict[str, Any]:
    return points.export_data(customer_id)


def export_level(customer_id: str) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(growth.my_level(customer_id, history_limit=1000))
    return out
