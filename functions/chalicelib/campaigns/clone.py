"""Clone a campaign (issue 18 item 5): the campaign as a new draft with a new window,
and each of its promotions, member days and coupon templates copied as a draft (new
ids, linked to the copy; their windows moved by as much as the campaign's).

Idempotent with the client's ``campaign_id``: the copies' ids derive from it and the
source's ids, each copy is written only if absent (a replay with the same request
answers it), and the campaign is created last through ``service.create`` (a replay of
the same body answers the same campaign). A retry after a crash half-way completes it."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, cast

import msgspec

from chalicelib.auth.principal import Principal
from chalicelib.campaigns import schemas as s
from chalicelib.campaigns import service
from chalicelib.coupons import workflow as template_workflow
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import clock
from chalicelib.kernel import stacking as kstack
from chalicelib.promotions import workflow as promotion_workflow
from chalicelib.promotions.models import PromotionModel


def copy_id(prefix: str, campaign_id: str, source_id: str) -> str:
    """The copy's id: the same for the same new campaign and source (retries)."""
    return prefix + hashlib.sha256(f"{campaign_id}|{source_id}".encode()).hexdigest()[:16]


GOALS = ("gmv_fen", "orders", "new_members", "aov_fen")


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _moved(value: str | None, by: timedelta) -> str | None:
    return None if value is None else clock.iso(clock.parse(value) + by)


def clone(principal: Principal, campaign_id: str, body: s.CampaignClone) -> s.Campaign:
    source = service.get_model(campaign_id)
    starts, ends = promotion_workflow.window(body.starts_at, body.ends_at)
    by = clock.parse(starts) - clock.parse(source.starts_at)
    new = body.campaign_id
    digest = hashlib.sha256(
        msgspec.json.encode([campaign_id, msgspec.to_builtins(body)])
    ).hexdigest()
    pids = [*source.promotion_ids, *source.member_day_ids]
    got = batch_get(
        {
            PromotionModel: [{"promotion_id": p} for p in pids],
            CouponTemplateModel: [{"template_id": t} for t in source.coupon_template_ids],
        }
    )
    new_ids: dict[str, str] = {}
    for p in sorted(got[PromotionModel], key=lambda m: m.promotion_id):
        pid = copy_id("P", new, p.promotion_id)
        new_ids[p.promotion_id] = pid
        copy = promotion_workflow.clone_model(
            p,
            pid,
            str(_moved(p.starts_at, by)),
            str(_moved(p.ends_at, by)),
            None,
            principal,
            digest,
            new,
        )
        promotion_workflow.save_clone(principal, copy, p.promotion_id)
    for t in sorted(got[CouponTemplateModel], key=lambda m: m.template_id):
        tid = copy_id("T", new, t.template_id)
        new_ids[t.template_id] = tid
        tcopy = template_workflow.clone_model(
            t, tid, _moved(t.starts_at, by), _moved(t.ends_at, by), principal, digest, new
        )
        template_workflow.save_clone(principal, tcopy, t.template_id)
    goal = source.goal
    create = s.CampaignCreate(
        campaign_id=new,
        name=body.name or source.name,
        grade=cast(Any, source.grade),
        starts_at=starts,
        ends_at=ends,
        stores_mode=cast(Any, source.stores_mode),
        stores=list(source.stores),
        store_tiers=cast(Any, list(source.store_tiers)),
        segment_id=source.segment_id,
        goal=s.Goal(**{k: _int(getattr(goal, k, None)) for k in GOALS}),
        plan_notes=source.plan_notes,
        budget=s.Budget(
            hq_fen=int(source.budget_hq_fen or 0),
            store_fen=int(source.budget_store_fen or 0),
            supplier_fen=int(source.budget_supplier_fen or 0),
        ),
        promotion_ids=[new_ids[p] for p in source.promotion_ids if p in new_ids],
        coupon_template_ids=[new_ids[t] for t in source.coupon_template_ids if t in new_ids],
        member_day_ids=[new_ids[p] for p in source.member_day_ids if p in new_ids],
        default_stacking=kstack.spec(source.default_stacking),
    )
    return service.create(principal, create)
