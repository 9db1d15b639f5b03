"""Campaign budgets reacting to domain events (events/registry.py).

- order.paid of an order that spent from a campaign (``campaign_ids``; other orders are
  not even looked at): record the 80 % alert when the campaign's spend reached it. Once
  per campaign by construction (``repo.record_alert`` is a conditional write that one
  caller wins), so no done marker is written (``idempotent=True``). Not in the placing
  transaction: an alert is no reason to refuse or slow an order."""

from __future__ import annotations

from chalicelib.events.registry import subscriber
from chalicelib.events.types import OrderPaid


@subscriber(
    OrderPaid,
    "campaign_budgets.budget_alert",
    when=lambda event: bool(event.campaign_ids),
    idempotent=True,
)
def budget_alert(event: OrderPaid) -> None:
    from chalicelib.campaign_budgets import alerts

    for campaign_id in event.campaign_ids:
        alerts.check(campaign_id)
