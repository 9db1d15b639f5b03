"""A promotion or coupon template created inside a campaign (issue 18 item 1): the
campaign it names must be a draft (its contents are what the launch checklist judges),
the new item takes a copy of the campaign's default stacking policy when it has none of
its own, and the campaign lists it in the same transaction as the item's write (the
item and the campaign name each other, as when the campaign's PUT links it).

Below promotions and coupons (both create through it); admin writes only, never on the
checkout path."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.db.transactions import Tx
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, ValidationFailed, field_error

MAX_CONTENTS = {"promotion_ids": 50, "coupon_template_ids": 50, "member_day_ids": 20}
LINK_LABEL = "campaign"


def campaign_for_new(
    campaign_id: str, contents: str, what: str, item_id: str | None = None
) -> CampaignModel:
    """The draft campaign a new item names (``contents``: the campaign's list it joins);
    422 for an unknown or full campaign, 409 ``campaign_not_draft`` once it is scheduled.
    A retried create (``item_id`` listed already) passes: its write answers the replay."""
    try:
        m = CampaignModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        raise ValidationFailed(
            f"The {what} is not valid.",
            details=[field_error("campaign_id", f"no campaign {campaign_id!r}")],
        ) from None
    if item_id is not None and item_id in getattr(m, contents):
        return m
    if m.state != "draft":
        raise not_draft(campaign_id, str(m.state))
    if len(getattr(m, contents)) >= MAX_CONTENTS[contents]:
        raise ValidationFailed(
            f"The {what} is not valid.",
            details=[
                field_error("campaign_id", f"the campaign holds {MAX_CONTENTS[contents]} already")
            ],
        )
    return m


def not_draft(campaign_id: str, state: str) -> Conflict:
    return Conflict(
        f"Campaign {campaign_id!r} is {state}: its contents change only in draft "
        "(unschedule it first, or create this outside the campaign).",
        code="campaign_not_draft",
        details={"campaign_id": campaign_id, "state": state},
    )


def link_new(tx: Tx, campaign_id: str, contents: str, item_id: str) -> None:
    """List the new item on its campaign, on condition the campaign is still a draft.
    The version moves, so an editor holding the old list gets 409 instead of unlinking
    it by saving."""
    C = CampaignModel
    attr: Any = getattr(C, contents)
    tx.update(
        C(campaign_id),
        actions=[
            attr.set(attr.append([item_id])),
            C.version.add(1),
            C.updated_at.set(clock.now_iso()),
        ],
        condition=(C.state == "draft") & C.campaign_id.exists(),
        label=LINK_LABEL,
    )


def link_failed(campaign_id: str) -> Conflict:
    """The campaign was scheduled (or removed) between the read and the write."""
    try:
        state = str(CampaignModel.get(campaign_id).state)
    except DoesNotExist:
        state = "gone"
    return not_draft(campaign_id, state)


def draft_to_join(campaign_id: str | None, contents: str, item_id: str) -> CampaignModel | None:
    """The campaign a copy of one of its items may join: a draft with room (or one that
    lists ``item_id`` already: a retried copy). None otherwise: a copy made for a later
    window does not name a campaign that is scheduled, running or over, whose budget
    and window would leave it out at checkout (campaign_not_live)."""
    if campaign_id is None:
        return None
    try:
        m = CampaignModel.get(campaign_id, consistent_read=True)
    except DoesNotExist:
        return None
    listed = getattr(m, contents)
    if item_id in listed:
        return m
    return m if m.state == "draft" and len(listed) < MAX_CONTENTS[contents] else None
