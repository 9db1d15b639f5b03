"""Campaign budgets (issue 16 item 2): head office reads a campaign's live budget."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.campaign_budgets import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.campaign_budgets.service")
approval_settings = lazy_module("chalicelib.campaign_budgets.approval_settings")

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


@area.route(
    "/admin/approval-settings",
    "GET",
    summary="The two-approver threshold for promotions and coupon templates",
    roles={HQ_ADMIN},
    response=s.ApprovalSettingsOut,
    errors=(403,),
    response_example=s.APPROVAL_SETTINGS_EXAMPLE,
)
def get_approval_settings(principal: Principal) -> s.ApprovalSettingsOut:
    """Head office only; ``is_default`` when none was set (the deployment's default)."""
    return approval_settings.get(principal)


@area.route(
    "/admin/approval-settings",
    "PUT",
    summary="Set the two-approver threshold (audited)",
    roles={HQ_ADMIN},
    body=s.ApprovalSettings,
    response=s.ApprovalSettingsOut,
    errors=(403, 409, 422),
    response_example=s.APPROVAL_SETTINGS_EXAMPLE,
)
def put_approval_settings(body: s.ApprovalSettings, principal: Principal) -> s.ApprovalSettingsOut:
    """The next approval of any draft is judged by it; 409 ``settings_changed`` when
    someone else changed it meanwhile."""
    return approval_settings.put(principal, body)
