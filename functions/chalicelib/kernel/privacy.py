"""Personal data shown only as much as needed."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """'13812341234' -> '138****1234' (on tickets, in logs, in lists)."""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
