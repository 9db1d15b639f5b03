"""Campaign budgets (issue 16 item 2): head office reads a campaign's live budget."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.campaign_budgets import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.campaign_budgets.service")

area = Area(
    "campaign_budgets", __name__, "Campaign budgets (活动预算): spent live, never exceeded."
)


@area.route(
    "/admin/campaigns/{campaign_id}/budget",
    "GET",
    summary="A campaign's budget: left, spent by funder and kind, the 80 % alert",
    roles={HQ_ADMIN},
    response=s.CampaignBudget,
    errors=(403, 404),
    response_example=s.EXAMPLE,
)
def campaign_budget(campaign_id: str, principal: Principal) -> s.CampaignBudget:
    """Live: discounts are taken in each order's transaction and given back on cancel,
    expiry or full refund; costs after the fact (points, commissions, prizes) are
    accrued by their subscribers. ``alerted_at`` is set once, when 80 % was reached;
    ``exhausted``: the campaign's discounts have stopped (docs/campaigns.md)."""
    return service.budget(campaign_id)
