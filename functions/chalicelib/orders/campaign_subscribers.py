"""Campaign costs known only after the fact (issue 16 item 2), as subscribers of the
orders' events. Here, above loyalty, because the cost of extra points needs the points
rules; the accrual itself is ``campaign_budgets.repo.accrue`` (once per key).

- order.completed of an order that carried a member day's points multiplier from a
  campaign's member day (``points_campaign_id``; other orders are not looked at): the
  extra points the multiplier gives over the base rate, ``order_points(kept, per ¥,
  m) - order_points(kept, per ¥, 1)``, valued at the points-as-cash rate
  (``cash_points_per_yuan``), rounded down to the fen, accrued to the campaign under the
  key ``points:<order id>`` (a redelivery accrues nothing more: ``idempotent=True``).

Staff distribution commissions of campaign orders are accrued by customers/
distribution.py ``charge_campaign``, in the completion's aggregates handling that
decides them (key ``commission:<order id>``, to the first of the order's campaigns)."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import OrderCompleted


def extra_points_fen(
    kept_fen: int, multiplier: str, points_per_yuan: int, cash_points_per_yuan: int
) -> int:
    """What the member day's extra points on ``kept_fen`` are worth as cash, in fen."""
    from fractions import Fraction

    from chalicelib.loyalty.points import order_points

    extra = order_points(kept_fen, points_per_yuan, Fraction(multiplier)) - order_points(
        kept_fen, points_per_yuan, 1
    )
    return max(0, extra) * 100 // cash_points_per_yuan


@subscriber(
    OrderCompleted,
    "campaign_budgets.points_cost",
    when=lambda event: bool(event.points_campaign_id and event.points_multiplier),
    idempotent=True,
)
def points_cost(event: OrderCompleted) -> None:
    from chalicelib.campaign_budgets import repo
    from chalicelib.loyalty.settings import points_settings

    assert event.points_campaign_id and event.points_multiplier
    rules = points_settings()
    fen = extra_points_fen(
        event.paid_fen - event.refunded_fen,
        event.points_multiplier,
        rules.points_per_yuan,
        rules.cash_points_per_yuan,
    )
    repo.accrue(event.points_campaign_id, "points", fen, f"points:{event.order_id}")
