"""The 80 % alert: recorded once per campaign when its spend reaches 80 % of the budget
(docs/campaigns.md, "The 80 % alert")."""

from __future__ import annotations

import logging

from chalicelib.campaign_budgets import repo
from chalicelib.campaign_budgets.models import CampaignModel

log = logging.getLogger(__name__)


def check(campaign_id: str, campaign: CampaignModel | None = None) -> str | None:
    """Record the alert if the campaign (as given, else read) is at 80 % or more and not
    alerted yet. Returns the time recorded by THIS call, None otherwise (not due, already
    alerted, or another caller won the race)."""
    if campaign is None:
        try:
            campaign = CampaignModel.get(campaign_id, consistent_read=True)
        except CampaignModel.DoesNotExist:
            return None
    if not repo.alert_due(campaign):
        return None
    at = repo.record_alert(campaign_id)
    if at is not None:
        log.warning(
            "campaign %s reached %s%% of its budget",
            campaign_id,
            repo.spent_percent(campaign),
        )
    return at
