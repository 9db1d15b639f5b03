"""Campaigns: head office creates, lists, edits, launches, ends and reviews them.

A campaign's contents (promotions, member days, coupon templates) name it back
(``campaign_id`` on their items) in the same transaction as the campaign's write, so an
item belongs to at most one campaign. Every change of state is recorded on the campaign
(db/transitions entries) and every edit in the audit log."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any, cast

import msgspec
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.campaign_budgets import live
from chalicelib.campaign_budgets.models import CampaignModel, GoalAttribute, starts_key
from chalicelib.campaigns import rules
from chalicelib.campaigns import schemas as s
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.db.transitions import Actor, Who, entry
from chalicelib.kernel import clock
from chalicelib.kernel import stacking as kstack
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.states import CAMPAIGN
from chalicelib.promotions.models import PromotionModel
from chalicelib.stores.models import StoreModel

log = logging.getLogger(__name__)

TICK = Who("campaigns_tick", "system")


def get_model(campaign_id: str, consistent: bool = True) -> CampaignModel:
    try:
        return CampaignModel.get(campaign_id, consistent_read=consistent)
    except DoesNotExist:
        raise NotFound(f"No campaign {campaign_id!r}.", code="campaign_not_found") from None


# --- views ----------------------------------------------------------------------------


def _goal(g: GoalAttribute | None) -> s.GoalOut:
    def n(v: Any) -> int | None:
        return None if v is None else int(v)

    if g is None:
        return s.GoalOut(gmv_fen=None, orders=None, new_members=None, aov_fen=None)
    return s.GoalOut(
        gmv_fen=n(g.gmv_fen), orders=n(g.orders), new_members=n(g.new_members), aov_fen=n(g.aov_fen)
    )


def view(m: CampaignModel, now_iso: str | None = None) -> s.Campaign:
    now_iso = now_iso or clock.now_iso()
    budget, left = int(m.budget_fen or 0), int(m.left_fen or 0)
    spent = budget - left
    return s.Campaign(
        campaign_id=m.campaign_id,
        name=m.name,
        grade=cast(Any, m.grade),
        state=cast(Any, rules.effective_state(m.state, m.starts_at, m.ends_at, now_iso)),
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        stores_mode=cast(Any, m.stores_mode),
        stores=list(m.stores),
        store_tiers=list(m.store_tiers),
        segment_id=m.segment_id,
        goal=_goal(m.goal),
        plan_notes=m.plan_notes,
        budget=s.BudgetOut(
            hq_fen=int(m.budget_hq_fen or 0),
            store_fen=int(m.budget_store_fen or 0),
            supplier_fen=int(m.budget_supplier_fen or 0),
        ),
        budget_fen=budget,
        left_fen=left,
        spent_fen=spent,
        used_percent=round(100 * spent / budget, 1) if budget else 0.0,
        node_id=m.node_id,
        promotion_ids=list(m.promotion_ids),
        coupon_template_ids=list(m.coupon_template_ids),
        member_day_ids=list(m.member_day_ids),
        mechanic_ids=list(m.mechanic_ids),
        default_stacking=kstack.view(m.default_stacking) if m.default_stacking else None,
        review_note=m.review_note,
        next_goal=None if m.next_goal is None else _goal(m.next_goal),
        history=[
            s.TransitionOut(
                at=h.at,
                actor=h.actor,
                role=h.role,
                action=h.action,
                from_state=h.from_state,
                to_state=h.to_state,
                reason=h.reason,
            )
            for h in m.history or []
        ],
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=int(m.version or 0),
    )


def _audited(m: CampaignModel) -> dict[str, Any]:
    """What the audit log compares: the fields head office writes."""
    v = msgspec.to_builtins(view(m))
    return {k: v[k] for k in (*rules.DRAFT_ONLY, *rules.ALWAYS, *rules.UNTIL_ENDED)}


# --- reading --------------------------------------------------------------------------


def _visible(principal: Principal, m: CampaignModel) -> bool:
    """Head office sees every campaign; a store manager those that include the store."""
    return principal.role == HQ_ADMIN or rules.includes_store(
        m.stores_mode, list(m.stores), principal.store_id
    )


def get(principal: Principal, campaign_id: str) -> s.Campaign:
    m = get_model(campaign_id, consistent=False)
    if not _visible(principal, m):
        raise NotFound(f"No campaign {campaign_id!r}.", code="campaign_not_found")
    return view(m)


def list_campaigns(
    principal: Principal, year: int | None, state: str | None, grade: str | None
) -> s.CampaignList:
    """One Query of the by_listing index (a local year's starts, or every campaign),
    filtered by state as of now and grade."""
    if year is not None:
        lo, hi = rules.year_bounds(year)
        models = CampaignModel.by_listing.query(
            "campaigns", CampaignModel.starts_key.between(lo, hi)
        )
    else:
        models = CampaignModel.by_listing.query("campaigns")
    now_iso = clock.now_iso()
    items = []
    for m in models:
        if year is not None and not (m.starts_at < rules.year_bounds(year)[1]):
            continue
        v = view(m, now_iso)
        if (state and v.state != state) or (grade and v.grade != grade):
            continue
        if _visible(principal, m):
            items.append(v)
    return s.CampaignList(items=items)


# --- writing --------------------------------------------------------------------------


def _utc(value: str, name: str, errors: list[dict[str, str]]) -> str:
    try:
        dt = clock.parse(value)
    except ValueError:
        errors.append(field_error(name, "not an ISO-8601 time"))
        return value
    if dt.tzinfo is None:
        errors.append(field_error(name, "needs a time zone, e.g. 'Z' or '+08:00'"))
        return value
    return clock.iso(dt)


def _dupes(errors: list[dict[str, str]], name: str, values: Sequence[str]) -> None:
    if len(set(values)) != len(values):
        errors.append(field_error(name, "listed twice"))


def _validate(body: s.CampaignBody) -> tuple[str, str, list[dict[str, str]]]:
    """The body's own rules, every problem at once."""
    errors: list[dict[str, str]] = []
    starts = _utc(body.starts_at, "starts_at", errors)
    ends = _utc(body.ends_at, "ends_at", errors)
    if not errors:
        errors += [field_error(f, r) for f, r in rules.window_errors(starts, ends)]
    if body.stores_mode == "list" and not body.stores:
        errors.append(field_error("stores", "list at least one store"))
    if body.stores_mode != "list" and body.stores:
        errors.append(field_error("stores", "only with stores_mode list"))
    if body.stores_mode == "tiers" and not body.store_tiers:
        errors.append(field_error("store_tiers", "give at least one tier"))
    if body.stores_mode != "tiers" and body.store_tiers:
        errors.append(field_error("store_tiers", "only with stores_mode tiers"))
    for name in ("stores", "store_tiers", "promotion_ids", "coupon_template_ids", "member_day_ids"):
        _dupes(errors, name, getattr(body, name))
    both = set(body.promotion_ids) & set(body.member_day_ids)
    if both:
        errors.append(field_error("member_day_ids", f"also in promotion_ids: {sorted(both)}"))
    return starts, ends, errors


def _check_references(
    campaign_id: str, body: s.CampaignBody, errors: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The stores, segment, promotions, member days and templates exist (one
    BatchGetItem, and the segment); returns the contents already in another campaign."""
    pids = [*body.promotion_ids, *body.member_day_ids]
    keys: dict[Any, list[dict[str, Any]]] = {
        StoreModel: [{"store_id": sid} for sid in body.stores],
        PromotionModel: [{"promotion_id": p} for p in pids],
        CouponTemplateModel: [{"template_id": t} for t in body.coupon_template_ids],
    }
    got = batch_get(keys) if any(keys.values()) else None
    taken: list[dict[str, Any]] = []
    if got is not None:
        stores = {m.store_id for m in got[StoreModel]}
        errors += [field_error("stores", f"no store {x!r}") for x in body.stores if x not in stores]
        promos = {m.promotion_id: m for m in got[PromotionModel]}
        for name, ids in (
            ("promotion_ids", body.promotion_ids),
            ("member_day_ids", body.member_day_ids),
        ):
            for pid in ids:
                p = promos.get(pid)
                if p is None:
                    errors.append(field_error(name, f"no promotion {pid!r}"))
                elif (p.kind == "member_day") != (name == "member_day_ids"):
                    where = "member_day_ids" if p.kind == "member_day" else "promotion_ids"
                    errors.append(field_error(name, f"{pid!r} is a {p.kind}: list it in {where}"))
                elif p.campaign_id and p.campaign_id != campaign_id:
                    taken.append({"type": "promotion", "id": pid, "campaign_id": p.campaign_id})
        templates = {m.template_id: m for m in got[CouponTemplateModel]}
        for tid in body.coupon_template_ids:
            t = templates.get(tid)
            if t is None:
                errors.append(field_error("coupon_template_ids", f"no template {tid!r}"))
            elif t.campaign_id and t.campaign_id != campaign_id:
                taken.append({"type": "coupon_template", "id": tid, "campaign_id": t.campaign_id})
    if body.segment_id is not None:
        from chalicelib.customers import segments

        try:
            segments.get_segment(body.segment_id)
        except NotFound:
            errors.append(field_error("segment_id", f"no saved segment {body.segment_id!r}"))
    return taken


def _taken_by_labels(labels: list[str]) -> list[dict[str, Any]]:
    """The contents whose link failed in the transaction (taken meanwhile)."""
    out = []
    for label in labels:
        kind, _, item_id = label.partition(":")
        if kind == "promotion":
            p = PromotionModel.get(item_id)
            out.append({"type": "promotion", "id": item_id, "campaign_id": p.campaign_id})
        elif kind == "template":
            t = CouponTemplateModel.get(item_id)
            out.append({"type": "coupon_template", "id": item_id, "campaign_id": t.campaign_id})
    return out


def _already_in_campaign(taken: list[dict[str, Any]]) -> Conflict:
    return Conflict(
        "A promotion or coupon template belongs to another campaign already; remove it "
        "there first.",
        code="already_in_campaign",
        details={"items": taken},
    )


def _link_pieces(
    tx: Tx, campaign_id: str, before: CampaignModel | None, body: s.CampaignBody
) -> None:
    """Name the campaign on the contents added and clear it on those removed, each
    conditioned on belonging to no other campaign (or to this one, to clear it)."""
    old_p = set(before.promotion_ids) | set(before.member_day_ids) if before else set()
    old_t = set(before.coupon_template_ids) if before else set()
    new_p = set(body.promotion_ids) | set(body.member_day_ids)
    new_t = set(body.coupon_template_ids)
    P, T = PromotionModel, CouponTemplateModel
    for pid in sorted(new_p - old_p):
        tx.update(
            P(pid),
            actions=[P.campaign_id.set(campaign_id)],
            condition=P.promotion_id.exists()
            & (P.campaign_id.does_not_exist() | (P.campaign_id == campaign_id)),
            label=f"promotion:{pid}",
        )
    for pid in sorted(old_p - new_p):
        tx.update(
            P(pid),
            actions=[P.campaign_id.remove()],
            condition=P.campaign_id == campaign_id,
            label=f"promotion:{pid}",
        )
    for tid in sorted(new_t - old_t):
        tx.update(
            T(tid),
            actions=[T.campaign_id.set(campaign_id)],
            condition=T.template_id.exists()
            & (T.campaign_id.does_not_exist() | (T.campaign_id == campaign_id)),
            label=f"template:{tid}",
        )
    for tid in sorted(old_t - new_t):
        tx.update(
            T(tid),
            actions=[T.campaign_id.remove()],
            condition=T.campaign_id == campaign_id,
            label=f"template:{tid}",
        )


def _goal_attr(g: s.Goal) -> GoalAttribute:
    return GoalAttribute(
        gmv_fen=g.gmv_fen, orders=g.orders, new_members=g.new_members, aov_fen=g.aov_fen
    )


def _request_hash(body: s.CampaignCreate) -> str:
    return hashlib.sha256(msgspec.json.encode(body)).hexdigest()


def _contents_failed(exc: TransactionCancelled) -> bool:
    return any(label.startswith(("promotion:", "template:")) for label in exc.failed)


def create(principal: Principal, body: s.CampaignCreate) -> s.Campaign:
    """A draft campaign and its contents' links in one transaction. With a
    ``campaign_id`` chosen by the caller, the same body again answers the same
    campaign; a different body under that id is 409 ``campaign_exists``."""
    cid = body.campaign_id or f"C{uuid.uuid4().hex[:16]}"
    starts, ends, errors = _validate(body)
    taken = _check_references(cid, body, errors) if not errors else []
    if errors:
        raise ValidationFailed("The campaign is not valid.", details=errors)
    now = clock.now_iso()
    b = body.budget
    total = b.hq_fen + b.store_fen + b.supplier_fen
    m = CampaignModel(
        cid,
        name=body.name,
        grade=body.grade,
        state="draft",
        starts_at=starts,
        ends_at=ends,
        stores_mode=body.stores_mode,
        stores=list(body.stores),
        store_tiers=list(body.store_tiers),
        segment_id=body.segment_id,
        goal=_goal_attr(body.goal),
        plan_notes=body.plan_notes,
        budget_hq_fen=b.hq_fen,
        budget_store_fen=b.store_fen,
        budget_supplier_fen=b.supplier_fen,
        budget_fen=total,
        left_fen=total,
        promotion_ids=list(body.promotion_ids),
        coupon_template_ids=list(body.coupon_template_ids),
        member_day_ids=list(body.member_day_ids),
        node_id=body.node_id,
        default_stacking=kstack.stored(body.default_stacking),
        listing="campaigns",
        starts_key=starts_key(starts, cid),
        request_hash=_request_hash(body),
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
        version=0,
        history=[],
    )
    log = audit.new_entry(
        principal, "campaign.create", audit.Target("campaign", cid), {}, _audited(m), key="create"
    )

    def build(tx: Tx) -> None:
        tx.save(m, condition=CampaignModel.campaign_id.does_not_exist(), label="campaign")
        _link_pieces(tx, cid, None, body)
        audit.with_entry(tx, log)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "campaign" in exc.failed:
            existing = get_model(cid)
            if existing.request_hash != m.request_hash:
                raise Conflict(
                    f"A different campaign with id {cid!r} exists.", code="campaign_exists"
                ) from None
            return view(existing)
        if _contents_failed(exc):
            raise _already_in_campaign(taken or _taken_by_labels(exc.failed)) from None
        raise
    if taken:  # cannot happen: the transaction's conditions refuse these
        raise _already_in_campaign(taken)
    return view(m)


def _changed(m: CampaignModel, body: s.CampaignBody, starts: str, ends: str) -> set[str]:
    b = body.budget
    now = {
        "name": body.name,
        "grade": body.grade,
        "starts_at": starts,
        "ends_at": ends,
        "stores_mode": body.stores_mode,
        "stores": list(body.stores),
        "store_tiers": list(body.store_tiers),
        "segment_id": body.segment_id,
        "plan_notes": body.plan_notes,
        "node_id": body.node_id,
        "promotion_ids": sorted(body.promotion_ids),
        "coupon_template_ids": sorted(body.coupon_template_ids),
        "member_day_ids": sorted(body.member_day_ids),
        "goal": msgspec.to_builtins(body.goal),
        "budget": [b.hq_fen, b.store_fen, b.supplier_fen],
        "default_stacking": kstack.stored(body.default_stacking),
    }
    v = view(m)
    was = {
        **{k: getattr(v, k) for k in now if k not in ("goal", "budget", "default_stacking")},
        "promotion_ids": sorted(m.promotion_ids),
        "coupon_template_ids": sorted(m.coupon_template_ids),
        "member_day_ids": sorted(m.member_day_ids),
        "goal": {k: val for k, val in msgspec.to_builtins(v.goal).items() if val is not None},
        "budget": [v.budget.hq_fen, v.budget.store_fen, v.budget.supplier_fen],
        "default_stacking": kstack.stored(kstack.spec(m.default_stacking)),
    }
    now["goal"] = {k: val for k, val in now["goal"].items() if val is not None}
    if m.stores_mode == "tiers" and m.state != "draft":
        was["stores"] = now["stores"]  # resolved at launch: not the body's to send
    return {k for k in now if now[k] != was[k]}


def update(principal: Principal, campaign_id: str, body: s.CampaignUpdate) -> s.Campaign:
    """Replace what head office writes, at ``version``: 409 ``campaign_changed`` when
    someone else changed it since. What each state lets change: campaigns/rules.py.
    The budget's change moves ``left_fen`` by the same amount (ADD), never below what is
    spent."""
    m = get_model(campaign_id)
    starts, ends, errors = _validate(body)
    if errors:
        raise ValidationFailed("The campaign is not valid.", details=errors)
    if int(m.version or 0) != body.version:
        raise _changed_conflict(m)
    now_iso = clock.now_iso()
    state = rules.effective_state(m.state, m.starts_at, m.ends_at, now_iso)
    changed = _changed(m, body, starts, ends)
    frozen = rules.frozen_fields(state, changed)
    if frozen:
        raise ValidationFailed(
            "The change is not allowed.", details=[field_error(f, r) for f, r in frozen]
        )
    taken = _check_references(campaign_id, body, errors)
    if errors:
        raise ValidationFailed("The campaign is not valid.", details=errors)
    if taken:
        raise _already_in_campaign(taken)
    b = body.budget
    total = b.hq_fen + b.store_fen + b.supplier_fen
    delta = total - int(m.budget_fen or 0)
    spent = int(m.budget_fen or 0) - int(m.left_fen or 0)
    if total < spent:
        raise ValidationFailed(
            "The change is not allowed.",
            details=[field_error("budget", f"below the {spent} spent")],
        )
    C = CampaignModel
    default = kstack.stored(body.default_stacking)
    actions: list[Any] = [
        C.name.set(body.name),
        C.default_stacking.set(default) if default else C.default_stacking.remove(),
        C.plan_notes.set(body.plan_notes) if body.plan_notes is not None else C.plan_notes.remove(),
        C.goal.set(_goal_attr(body.goal)),
        C.budget_hq_fen.set(b.hq_fen),
        C.budget_store_fen.set(b.store_fen),
        C.budget_supplier_fen.set(b.supplier_fen),
        C.budget_fen.set(total),
        C.updated_at.set(now_iso),
        C.version.add(1),
    ]
    condition = C.version == body.version
    if delta:
        # ADD: orders spending the budget meanwhile are not overwritten; never below zero
        actions.append(C.left_fen.add(delta))
        if delta < 0:
            condition &= C.left_fen >= -delta
    if state == "draft":
        actions += [
            C.grade.set(body.grade),
            C.starts_at.set(starts),
            C.ends_at.set(ends),
            C.starts_key.set(starts_key(starts, campaign_id)),
            C.stores_mode.set(body.stores_mode),
            C.stores.set(list(body.stores)),
            C.store_tiers.set(list(body.store_tiers)),
            C.segment_id.set(body.segment_id) if body.segment_id else C.segment_id.remove(),
            C.node_id.set(body.node_id) if body.node_id else C.node_id.remove(),
            C.promotion_ids.set(list(body.promotion_ids)),
            C.coupon_template_ids.set(list(body.coupon_template_ids)),
            C.member_day_ids.set(list(body.member_day_ids)),
        ]
        condition &= C.state == "draft"
    before = _audited(m)
    after = dict(before)
    for f in changed:
        after[f] = (
            msgspec.to_builtins(getattr(body, f))
            if f not in ("starts_at", "ends_at")
            else (starts if f == "starts_at" else ends)
        )
    log = audit.new_entry(
        principal, "campaign.update", audit.Target("campaign", campaign_id), before, after
    )

    def build(tx: Tx) -> None:
        tx.update(C(campaign_id), actions=actions, condition=condition, label="campaign")
        if state == "draft":
            _link_pieces(tx, campaign_id, m, body)
        audit.with_entry(tx, log)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "campaign" in exc.failed:
            latest = get_model(campaign_id)
            if int(latest.version or 0) == body.version and delta < 0:
                spent = int(latest.budget_fen or 0) - int(latest.left_fen or 0)
                raise ValidationFailed(
                    "The change is not allowed.",
                    details=[field_error("budget", f"below the {spent} spent")],
                ) from None
            raise _changed_conflict(latest) from None
        if _contents_failed(exc):
            raise _already_in_campaign(_taken_by_labels(exc.failed)) from None
        raise
    return view(get_model(campaign_id))


def _changed_conflict(latest: CampaignModel) -> Conflict:
    return Conflict(
        "Someone else changed this campaign since you opened it; reload it and make your "
        "change again.",
        code="campaign_changed",
        details={"version": int(latest.version or 0)},
    )


# --- states ---------------------------------------------------------------------------


def _move(
    m: CampaignModel,
    actions_taken: list[str],
    actor: Actor,
    extra: Sequence[Any] = (),
    reason: str | None = None,
    condition: Any = None,
) -> None:
    """Write the campaign through ``actions_taken`` (from its stored state) with one
    history entry per step, on condition it is still in that state; 409 on an illegal
    step or when it moved meanwhile."""
    path = CAMPAIGN.walk(actions_taken, m.state)
    C = CampaignModel
    entries = [
        entry(a, frm, to, actor, reason if a == actions_taken[-1] else None) for a, frm, to in path
    ]
    cond = C.state == m.state
    if condition is not None:
        cond &= condition
    actions = [
        C.state.set(path[-1][2]),
        C.history.set(C.history.append(entries)),
        C.updated_at.set(clock.now_iso()),
        *extra,
    ]
    try:
        C(m.campaign_id).update(actions=actions, condition=cond)
        live.forget_cache()  # this container prices the new state at once
    except UpdateError as exc:  # a ConditionalCheckFailed: moved (or edited) meanwhile
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        latest = get_model(m.campaign_id)
        raise Conflict(
            "The campaign changed meanwhile; reload it.",
            code="campaign_changed",
            details={"version": int(latest.version or 0), "state": latest.state},
        ) from None


def _act(principal: Principal, campaign_id: str, action: str, **kw: Any) -> CampaignModel:
    m = get_model(campaign_id)
    steps = rules.catch_up(m.state, m.starts_at, m.ends_at, clock.now_iso())
    _move(m, [*steps, action], principal, **kw)
    return get_model(campaign_id)


def resolve_stores(m: CampaignModel) -> list[str]:
    """The stores of a tiers campaign: those in its tiers now (store_tiers/)."""
    from chalicelib.store_tiers import service as tiers

    return sorted(tiers.stores_in_tiers(list(m.store_tiers)))


def launch(principal: Principal, campaign_id: str) -> s.Campaign:
    """Run the checklist; schedule only if every blocking check passes (422
    ``campaign_checklist_failed`` with the checks), resolving a tiers campaign's stores.
    The write is conditioned on the version the checklist judged."""
    from chalicelib.campaigns import checklist

    m = get_model(campaign_id)
    CAMPAIGN.target("launch", m.state)
    result = checklist.run(m)
    if not result.ok:
        raise ValidationFailed(
            "The launch checklist failed; fix the failing checks and launch again.",
            code="campaign_checklist_failed",
            details={"checks": msgspec.to_builtins(result.checks)},
        )
    C = CampaignModel
    extra: list[Any] = [C.version.add(1)]
    if m.stores_mode == "tiers":
        extra.append(C.stores.set(resolve_stores(m)))
    _move(m, ["launch"], principal, extra, condition=C.version == int(m.version or 0))
    return view(get_model(campaign_id))


def unschedule(principal: Principal, campaign_id: str) -> s.Campaign:
    return view(_act(principal, campaign_id, "unschedule"))


def end(principal: Principal, campaign_id: str) -> s.Campaign:
    m = _act(principal, campaign_id, "end", reason="ended early")
    _freeze(campaign_id)
    return view(m)


def review_note(principal: Principal, campaign_id: str, body: s.ReviewNote) -> s.Campaign:
    if all(v is None for v in msgspec.to_builtins(body.next_goal).values()):
        raise ValidationFailed(
            "Give the next goal.", details=[field_error("next_goal", "at least one number")]
        )
    C = CampaignModel
    m = _act(
        principal,
        campaign_id,
        "review",
        extra=[C.review_note.set(body.note), C.next_goal.set(_goal_attr(body.next_goal))],
    )
    audit.record(
        principal,
        "campaign.review",
        audit.Target("campaign", campaign_id),
        {},
        {"review_note": body.note, "next_goal": msgspec.to_builtins(body.next_goal)},
    )
    return view(m)


def tick(now_iso: str | None = None) -> int:
    """The campaigns_tick job: write the state the window has moved each scheduled or
    live campaign to (they already show it on read). One Query of the campaigns that
    started within the longest window; a rerun changes nothing. Returns the moves."""
    from datetime import timedelta

    now_iso = now_iso or clock.now_iso()
    earliest = clock.iso(clock.parse(now_iso) - timedelta(days=rules.MAX_WINDOW_DAYS + 1))
    C = CampaignModel
    moved = 0
    for m in C.by_listing.query(
        "campaigns",
        C.starts_key.between(earliest, f"{now_iso}~"),
        filter_condition=C.state.is_in("scheduled", "live"),
    ):
        steps = rules.catch_up(m.state, m.starts_at, m.ends_at, now_iso)
        if not steps:
            continue
        try:
            _move(m, steps, TICK, reason="window")
            moved += 1
        except Conflict:
            continue  # moved by someone else meanwhile (head office, another run)
        if steps[-1] == "end":
            _freeze(m.campaign_id)
    return moved


def _freeze(campaign_id: str) -> None:
    """Freeze the review of a campaign that just ended. Best effort: the review route
    freezes an ended campaign lazily when this failed (freezing twice keeps the first)."""
    from chalicelib.campaigns import review

    try:
        review.freeze(campaign_id)
    except Exception:  # logged; the next read of the review freezes it
        log.exception("campaign %s: review not frozen at its end", campaign_id)
