"""What other features hold on a member, for export, deletion and the admin profile.

The extension point of the member's data (PIPL Arts. 45/47): each entry is
(section name, "module:function"), imported by name when used, as events imports
subscriber modules, because the features holding the data (orders, coupons, loyalty,
stored value) sit above members. The loyalty and stored-value parts add their ledgers
here:

    EXPORT_PROVIDERS += (("points", "chalicelib.loyalty.member_data:export_points"),)

- an export provider takes the customer id and returns JSON-able data (its section of
  ``GET /members/me/export``);
- an eraser takes the customer id and erases or anonymises the personal data it holds,
  keeping what accounting needs; it must be idempotent (deletion may be retried);
- ``PROFILE_PROVIDERS``: what the admin member profile shows (recent orders, coupons);
  each takes (customer_id, store_id or None for head office) and returns a list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

EXPORT_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("orders", "chalicelib.orders.member_data:export_orders"),
    ("coupons", "chalicelib.coupons.member_data:export_coupons"),
    ("points", "chalicelib.loyalty.member_data:export_points"),
    ("level", "chalicelib.loyalty.member_data:export_level"),
    ("stored_value", "chalicelib.stored_value.member_data:export_stored_value"),
)
ERASERS: tuple[tuple[str, str], ...] = (
    ("orders", "chalicelib.orders.member_data:anonymise_orders"),
    # the saved segments the member is in (promotions for a segment): deleted at once
    ("segment_memberships", "chalicelib.customers.segment_memberships:erase"),
)
PROFILE_PROVIDERS: dict[str, str] = {
    "recent_orders": "chalicelib.orders.member_data:recent_orders",
    "coupons": "chalicelib.coupons.member_data:coupon_summaries",
}
# Members with a manual tag (customers' by_tag index, issue 15 item 2): (tag, after
# member id or None, count) -> (member ids, the last id read when more may follow).
TAGGED = "chalicelib.customers.tags:tagged"
# The store of one of the member's own orders (None: not theirs, or no such order).
OWN_ORDER_STORE = "chalicelib.orders.member_data:store_of_own_order"


def load(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn
