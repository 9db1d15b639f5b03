"""Reading a campaign's live budget (head office)."""

from __future__ import annotations

from chalicelib.campaign_budgets import repo
from chalicelib.campaign_budgets import schemas as s
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.kernel.errors import NotFound


def budget(campaign_id: str) -> s.CampaignBudget:
    """The campaign's budget as stored now (one consistent GetItem); 404 when unknown."""
    try:
        c = CampaignModel.get(campaign_id, consistent_read=True)
    except CampaignModel.DoesNotExist:
        raise NotFound(f"No campaign {campaign_id}.", code="campaign_not_found") from None
    return view(c)


def view(c: CampaignModel) -> s.CampaignBudget:
    budget_fen, left = int(c.budget_fen or 0), int(c.left_fen or 0)
    return s.CampaignBudget(
        campaign_id=c.campaign_id,
        state=c.state,
        budget_fen=budget_fen,
        left_fen=left,
        spent_fen=budget_fen - left,
        percent=repo.spent_percent(c),
        by_funder=s.SpentByFunder(
            hq_fen=int(c.spent_hq_fen or 0),
            store_fen=int(c.spent_store_fen or 0),
            supplier_fen=int(c.spent_supplier_fen or 0),
        ),
        by_kind=s.SpentByKind(
            discounts_fen=int(c.discounts_fen or 0),
            points_fen=int(c.points_cost_fen or 0),
            commission_fen=int(c.commission_fen or 0),
            prizes_fen=int(c.prizes_fen or 0),
        ),
        spending_orders=int(c.spending_orders or 0),
        alerted_at=c.alerted_at,
        exhausted=left <= 0,
    )
