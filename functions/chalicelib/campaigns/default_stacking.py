"""A campaign's default stacking policy reaching its drafts (issue 18 item 1): head
office changed the default after creating the campaign's promotions and templates;
``apply`` copies it onto those still drafts that follow the campaign (no policy of
their own). Published ones keep theirs (campaigns/rules.py default_stacking_kept).
docs/promotions.md, "Stacking policy"."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaigns import rules, service
from chalicelib.campaigns import schemas as s
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import clock
from chalicelib.kernel import stacking as kstack
from chalicelib.kernel.approvals import DRAFT_STATES
from chalicelib.kernel.errors import Conflict
from chalicelib.promotions.models import PromotionModel
from chalicelib.promotions.service import STACKING_KINDS


def _following(model: Any) -> Any:
    """The write's condition: still a draft that follows the campaign (the same rule
    as kernel/stacking.follows_campaign, checked again at the write)."""
    src = model.stacking_source
    return model.status.is_in(*sorted(DRAFT_STATES)) & (
        (src == "campaign") | (src.does_not_exist() & model.stacking.does_not_exist())
    )


def _write(item: Any, model: Any, policy: dict[str, Any] | None) -> bool:
    """Copy the policy onto one item; False when it changed meanwhile (published, or
    given a policy of its own)."""
    actions = [
        model.stacking.set(policy) if policy else model.stacking.remove(),
        model.stacking_source.set("campaign"),
        model.version.add(1),
        model.updated_at.set(clock.now_iso()),
    ]
    try:
        item.update(actions=actions, condition=_following(model))
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def apply(principal: Principal, campaign_id: str) -> s.AppliedDefaultStacking:
    """Copy the campaign's default onto its draft promotions and templates that follow
    it. One conditional write per item (a retry writes the same again): no transaction,
    so a campaign's 100 contents never meet its limit."""
    m = service.get_model(campaign_id)
    state = rules.effective_state(m.state, m.starts_at, m.ends_at, clock.now_iso())
    if state not in rules.OPEN_STATES:
        raise Conflict(
            f"The campaign is {state}: its default stacking policy no longer applies.",
            code="campaign_ended",
        )
    got = batch_get(
        {
            PromotionModel: [{"promotion_id": p} for p in m.promotion_ids],
            CouponTemplateModel: [{"template_id": t} for t in m.coupon_template_ids],
        }
    )
    updated: list[s.ContentRef] = []
    kept: list[s.ContentRef] = []
    items: list[tuple[str, str, Any, Any, bool]] = [
        ("promotion", p.promotion_id, p, PromotionModel, p.kind in STACKING_KINDS)
        for p in sorted(got[PromotionModel], key=lambda x: x.promotion_id)
    ] + [
        ("coupon_template", t.template_id, t, CouponTemplateModel, True)
        for t in sorted(got[CouponTemplateModel], key=lambda x: x.template_id)
    ]
    for kind, item_id, item, model, takes_policy in items:
        reason = rules.default_stacking_kept(
            takes_policy=takes_policy,
            status=str(item.status),
            follows=kstack.follows_campaign(item.stacking_source, item.stacking),
        )
        if reason is None:
            # promotions take no stack group, nor do free-delivery coupons
            groups = kind == "coupon_template" and item.kind != "free_delivery"
            policy = kstack.inherited(m.default_stacking, takes_group=groups)
            if not _write(item, model, policy):
                reason = "changed meanwhile: published or given its own policy"
        ref = s.ContentRef(type=kind, id=item_id, reason=reason)  # type: ignore[arg-type]
        (kept if reason else updated).append(ref)
    default = kstack.view(m.default_stacking) if m.default_stacking else None
    audit.record(
        principal,
        "campaign.apply_default_stacking",
        audit.Target("campaign", campaign_id),
        {},
        {
            "default_stacking": kstack.stored(kstack.spec(m.default_stacking)),
            "updated": [f"{r.type}:{r.id}" for r in updated],
        },
    )
    return s.AppliedDefaultStacking(
        campaign_id=campaign_id, default_stacking=default, updated=updated, kept=kept
    )
