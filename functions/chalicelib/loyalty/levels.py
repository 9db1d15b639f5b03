"""Member levels (会员等级): the points multiplier hook the order-completion earn asks.

TODO(levels task, issue 14 item 5): return the member's level's points multiplier; until
the levels part exists every member earns at 1.0."""

from __future__ import annotations


def multiplier(customer_id: str) -> float:
    """The points multiplier of the member's level (1.0: no levels yet)."""
    return 1.0
