"""A campaign's live budget as writes: the order's spend and its give-back as
TransactWriteItems pieces (the order flow adds them to the order's own transaction),
costs accrued after the fact (points multipliers, commissions, lottery prizes) with a
marker per key, and the 80 % alert recorded once. Rules: docs/campaigns.md, "Budgets"."""

from __future__ import annotations

from collections.abc import Mapping

from pynamodb.exceptions import UpdateError

from chalicelib.campaign_budgets.live import SPENDING_STATES
from chalicelib.campaign_budgets.models import FUNDERS, AccrualModel, CampaignModel
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.kernel import clock

ALERT_PERCENT = 80
# What a cost after the fact is, and the attribute it adds to.
KINDS = {
    "points": CampaignModel.points_cost_fen,
    "commission": CampaignModel.commission_fen,
    "prize": CampaignModel.prizes_fen,
    # issue 17: a subscription plan's discount against list prices, accrued when paid
    "discount": CampaignModel.discounts_fen,
}
_SPENT = {
    "hq": CampaignModel.spent_hq_fen,
    "store": CampaignModel.spent_store_fen,
    "supplier": CampaignModel.spent_supplier_fen,
}


def _funder(name: str) -> str:
    return name if name in FUNDERS else "hq"


def spend_piece(campaign_id: str, amount_fen: int, funders: Mapping[str, int]) -> TxPiece:
    """Spend ``amount_fen`` of the campaign's budget with the order (``funders``: the
    same amount split by who funds each discount). Fails the transaction
    (ConditionalCheckFailed) rather than go past the budget, or when the campaign stopped
    spending (ended, or its window passed) since the cache was read."""
    m = CampaignModel
    now_iso = clock.now_iso()
    actions = [
        m.left_fen.add(-amount_fen),
        m.discounts_fen.add(amount_fen),
        m.spending_orders.add(1),
    ]
    actions += [_SPENT[_funder(f)].add(x) for f, x in funders.items() if x]
    return TxPiece(
        CampaignModel(campaign_id),
        {
            "actions": actions,
            "condition": (m.left_fen >= amount_fen)
            & m.state.is_in(*SPENDING_STATES)
            & (m.starts_at <= now_iso)
            & (m.ends_at > now_iso),
        },
        f"campaign_budget:{campaign_id}",
    )


def give_back_piece(campaign_id: str, amount_fen: int, funders: Mapping[str, int]) -> TxPiece:
    """Give an order's spend back (cancelled, expired unpaid, refunded in full): in the
    transaction that moves the order out of its state, so a replay gives back nothing.
    Unconditional on the state: an ended campaign takes its spend back too (the review
    reads it)."""
    m = CampaignModel
    actions = [
        m.left_fen.add(amount_fen),
        m.discounts_fen.add(-amount_fen),
        m.spending_orders.add(-1),
    ]
    actions += [_SPENT[_funder(f)].add(-x) for f, x in funders.items() if x]
    return TxPiece(
        CampaignModel(campaign_id),
        {"actions": actions, "condition": m.campaign_id.exists()},
        f"campaign_budget:{campaign_id}",
    )


def accrue(
    campaign_id: str, kind: str, amount_fen: int, key: str, funder: str = "hq"
) -> CampaignModel | None:
    """Accrue a cost after the fact (``kind``: "points", "commission" or "prize") once per
    ``key`` (e.g. "points:<order id>"): a marker item created in the same transaction as
    the unconditional ``ADD left_fen -amount`` (it may take left_fen below zero: the
    discounts stop then). Returns the campaign as updated, or None when ``key`` was
    already accrued (a replay) or the amount is not positive. Issue 17's lottery prizes
    and commissions call this."""
    if amount_fen <= 0:
        return None
    attr = KINDS[kind]
    m = CampaignModel
    marker = AccrualModel(
        f"{campaign_id}#{key}",
        campaign_id=campaign_id,
        kind=kind,
        amount_fen=amount_fen,
        created_at=clock.now_iso(),
    )

    def build(tx: Tx) -> None:
        tx.save(marker, condition=AccrualModel.accrual_key.does_not_exist(), label="marker")
        tx.update(
            CampaignModel(campaign_id),
            actions=[
                m.left_fen.add(-amount_fen),
                attr.add(amount_fen),
                _SPENT[_funder(funder)].add(amount_fen),
            ],
            condition=m.campaign_id.exists(),
            label="campaign",
        )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "marker" in exc.failed:
            return None
        raise
    campaign = CampaignModel.get(campaign_id, consistent_read=True)
    from chalicelib.campaign_budgets import alerts

    alerts.check(campaign_id, campaign)  # the cost may take the spend past 80 %
    return campaign


def spent_percent(c: CampaignModel) -> int:
    """What share of the budget is spent, in whole percent (rounded down)."""
    budget = int(c.budget_fen or 0)
    if budget <= 0:
        return 0
    return (budget - int(c.left_fen or 0)) * 100 // budget


def alert_due(c: CampaignModel) -> bool:
    return c.alerted_at is None and int(c.budget_fen or 0) > 0 and spent_percent(c) >= ALERT_PERCENT


def record_alert(campaign_id: str) -> str | None:
    """Record the 80 % alert once: a conditional write that only the first caller wins
    (``alerted_at`` absent and the spend still at 80 % or more as stored). Returns the
    time recorded, or None when another caller recorded it (or the spend went back
    under 80 % meanwhile)."""
    m = CampaignModel
    c = CampaignModel(campaign_id)
    at = clock.now_iso()
    try:
        c.update(
            actions=[m.alerted_at.set(at)],
            condition=m.alerted_at.does_not_exist() & m.campaign_id.exists(),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return None
        raise
    return at
