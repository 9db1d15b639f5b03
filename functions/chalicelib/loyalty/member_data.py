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


def at_level(customer_id: str, min_level: str) -> bool:
    """Whether the member is at ``min_level`` or above (issue 18 item 4: coupon templates
    for a level, checked by coupons/targeting.py when a coupon is claimed)."""
    from chalicelib.loyalty import levels
    from chalicelib.loyalty.programme_settings import levels_settings

    settings = levels_settings()
    level = growth.current_level(customer_id)
    return levels.rank(level.code, settings) >= levels.rank(min_level, settings)
