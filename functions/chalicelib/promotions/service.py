"""Checkout promotions: head office creates and ends them; the storefront and the
pricing step read what is on at a store.

A flash sale's units live in shards (promotions/repo.py, docs/flash-sales.md); this
module creates them with the promotion in one transaction and sums them for views.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import msgspec

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import approval_settings
from chalicelib.campaign_budgets import contents as campaign_contents
from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.kernel import approvals, clock
from chalicelib.kernel import stacking as kstack
from chalicelib.kernel.errors import Conflict, ValidationFailed, field_error
from chalicelib.promotions import edit_rules, mechanics, targeting
from chalicelib.promotions import limits as promo_limits
from chalicelib.promotions import member_day as md
from chalicelib.promotions import schemas as s
from chalicelib.promotions.models import (
    FlashShardModel,
    PromotionModel,
    SkuPriceAttribute,
    TierAttribute,
)
from chalicelib.promotions.repo import get_promotion, remaining_many, shard_items
from chalicelib.stores.models import StoreModel

MAX_SHARDS = 50
# A transactional write costs 2 write units and an item takes ~1,000 units/s, so a shard
# saturates near 500 purchases/s; plan for half that, as random picks are uneven.
PURCHASES_PER_SHARD_S = 250
DEFAULT_PEAK_PER_S = 250
ACTIVE_CACHE_S = 5.0  # how stale active_for may be inside one Lambda container

KIND_FIELDS = {
    "tiered": {"tiers", "scope", "budget_fen"},
    "second_half_price": {"scope"},
    "flash_sale": {
        "sku",
        "flash_price_fen",
        "quantity",
        "per_customer_limit",
        "shards",
        "expected_peak_per_s",
    },
    "member_day": {"member_day", "scope"},
}
for _kind, _fields in mechanics.KIND_FIELDS.items():  # issue 18, more mechanics
    KIND_FIELDS[_kind] = KIND_FIELDS.get(_kind, set()) | _fields
OPTIONAL_KIND_FIELDS = set().union(*KIND_FIELDS.values())


def shards_for(peak_per_s: int, quantity: int) -> int:
    """Shards for an expected peak of purchases per second: ceil(peak / 250), 1 to 50,
    never more than the units (every shard starts with at least one)."""
    wanted = math.ceil(peak_per_s / PURCHASES_PER_SHARD_S)
    return max(1, min(MAX_SHARDS, wanted, quantity))


def _utc(value: str, name: str, errors: list[dict[str, str]]) -> str:
    """Normalise to 'YYYY-MM-DDTHH:MM:SSZ' so stored times compare as strings."""
    try:
        dt = clock.parse(value)
    except ValueError:
        errors.append(field_error(name, "not an ISO-8601 time"))
        return value
    if dt.tzinfo is None:
        errors.append(field_error(name, "needs a time zone, e.g. 'Z' or '+08:00'"))
        return value
    return clock.iso(dt)


def _validate(body: s.PromotionCreate) -> tuple[str, str, list[dict[str, str]]]:
    """Kind-specific rules; every problem at once, as field errors."""
    errors: list[dict[str, str]] = []
    starts = _utc(body.starts_at, "starts_at", errors)
    ends = _utc(body.ends_at, "ends_at", errors)
    if not errors and ends <= starts:
        errors.append(field_error("ends_at", "must be after starts_at"))
    given = {f for f in OPTIONAL_KIND_FIELDS if getattr(body, f) is not None}
    for f in sorted(given - KIND_FIELDS[body.kind]):
        errors.append(field_error(f, f"not used by a {body.kind} promotion"))
    if body.kind == "tiered" and not mechanics.own_tiers(body):
        pairs = [(t.threshold_fen, t.off_fen) for t in body.tiers or []]
        errors += [field_error(f, r) for f, r in edit_rules.tier_errors(pairs)]
    if body.kind == "flash_sale":
        for f in ("sku", "flash_price_fen", "quantity", "per_customer_limit"):
            if getattr(body, f) is None:
                errors.append(field_error(f, "required for a flash sale"))
        if body.shards is not None and body.expected_peak_per_s is not None:
            errors.append(field_error("shards", "give shards or expected_peak_per_s, not both"))
        if body.shards is not None and body.quantity is not None and body.shards > body.quantity:
            errors.append(field_error("shards", "cannot exceed the quantity"))
    if body.kind == "member_day":
        if body.member_day is None:
            errors.append(field_error("member_day", "required for a member day"))
        else:
            errors += member_day_errors(body.member_day)
    errors += mechanics.errors(body)
    if len(set(body.stores)) != len(body.stores):
        errors.append(field_error("stores", "listed twice"))
    errors += targeting.errors(body.kind, body.recurrence, body.audience)
    errors += stacking_errors(body.kind, body.stacking, body.margin_floor)
    errors += promo_limits.limits_errors(body.kind, body.limits)
    return starts, ends, errors


def member_day_errors(spec: s.MemberDaySpec) -> list[dict[str, str]]:
    """A member day's rules: its recurrence, an audience with what it needs, and at least
    one benefit the audience can get (a segment is not known at checkout: only the
    coupon pack, issued by a job)."""
    errors = [
        field_error(f, r)
        for f, r in md.recurrence_errors(spec.recurrence, spec.days, spec.span_days)
    ]
    if spec.audience == "level" and spec.min_level is None:
        errors.append(field_error("member_day.min_level", "required for a level audience"))
    if spec.audience != "level" and spec.min_level is not None:
        errors.append(field_error("member_day.min_level", "only for a level audience"))
    if spec.audience == "segment" and spec.segment_id is None:
        errors.append(field_error("member_day.segment_id", "required for a segment audience"))
    if spec.audience != "segment" and spec.segment_id is not None:
        errors.append(field_error("member_day.segment_id", "only for a segment audience"))
    checkout_perks = {
        "percent_off": spec.percent_off,
        "member_prices": spec.member_prices,
        "points_multiplier": spec.points_multiplier,
    }
    if spec.audience == "segment":
        for name, value in checkout_perks.items():
            if value is not None:
                errors.append(
                    field_error(
                        f"member_day.{name}",
                        "a segment is not known at checkout: only the coupon pack applies",
                    )
                )
    if spec.points_multiplier == 1.0:
        errors.append(field_error("member_day.points_multiplier", "above 1 (or leave it out)"))
    elif spec.points_multiplier is not None and round(spec.points_multiplier, 1) != (
        spec.points_multiplier
    ):
        errors.append(field_error("member_day.points_multiplier", "one decimal at most"))
    if all(v is None for v in checkout_perks.values()) and not spec.coupon_template_ids:
        errors.append(field_error("member_day", "give at least one benefit"))
    skus = [p.sku for p in spec.member_prices or []]
    if len(set(skus)) != len(skus):
        errors.append(field_error("member_day.member_prices", "a SKU listed twice"))
    if len(set(spec.coupon_template_ids)) != len(spec.coupon_template_ids):
        errors.append(field_error("member_day.coupon_template_ids", "listed twice"))
    return errors


def _set_member_day(promo: PromotionModel, spec: s.MemberDaySpec) -> None:
    promo.md_recurrence = spec.recurrence
    promo.md_days = list(spec.days)
    promo.md_span_days = spec.span_days
    promo.md_audience = spec.audience
    promo.md_min_level = spec.min_level
    promo.md_segment_id = spec.segment_id
    promo.md_percent_off = spec.percent_off
    promo.md_prices = [
        SkuPriceAttribute(sku=p.sku, price_fen=p.price_fen) for p in spec.member_prices or []
    ]
    promo.md_points_multiplier = (
        None if spec.points_multiplier is None else _decimal_text(spec.points_multiplier)
    )
    promo.md_coupon_templates = list(spec.coupon_template_ids)


def _decimal_text(x: float) -> str:
    """2.0 -> "2", 1.5 -> "1.5": the multiplier as exact decimal text (one decimal)."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def recurrence_of(m: PromotionModel) -> md.Recurrence:
    return md.Recurrence(
        str(m.md_recurrence),
        tuple(int(d) for d in m.md_days or []),
        int(m.md_span_days or 1),
        m.starts_at,
        m.ends_at,
    )


def due_segment_member_days(now: datetime) -> list[tuple[str, str]]:
    """(member day id, segment id) of the active member days for a saved segment whose
    occurrence starts on today's local date (their pack is pushed, not claimed)."""
    today = md.local_day(now)
    due = []
    for m in _active_models(clock.iso(now)):
        if m.kind != "member_day" or m.md_audience != "segment" or not m.md_segment_id:
            continue
        if md.occurrence_at(recurrence_of(m), now) == today:
            due.append((m.promotion_id, m.md_segment_id))
    return due


def member_day_view(m: PromotionModel, now: datetime) -> s.MemberDayOut:
    r = recurrence_of(m)
    on = md.occurrence_at(r, now) if m.status == "active" else None
    upcoming = md.next_occurrences(r, now) if m.status == "active" else []
    return s.MemberDayOut(
        recurrence=r.recurrence,
        days=list(r.days),
        span_days=r.span_days,
        audience=str(m.md_audience),
        min_level=m.md_min_level,
        segment_id=m.md_segment_id,
        percent_off=None if m.md_percent_off is None else int(m.md_percent_off),
        member_prices=[
            s.SkuPrice(sku=p.sku, price_fen=int(p.price_fen)) for p in m.md_prices or []
        ],
        points_multiplier=None if m.md_points_multiplier is None else float(m.md_points_multiplier),
        coupon_template_ids=list(m.md_coupon_templates or []),
        on_now=on is not None,
        today=None if on is None else on.isoformat(),
        next_dates=[first.isoformat() for first, _ in upcoming],
    )


def _check_references(body: s.PromotionCreate, errors: list[dict[str, str]]) -> list[int]:
    """The stores and the flash-sale SKU exist: one BatchGetItem. For a flash sale, also
    the SKU's list price at its stores (in the same batch; a sale at every store asks the
    by_sku index which stores sell it first): the prices found."""
    keys: dict = {StoreModel: [{"store_id": sid} for sid in body.stores]}
    if body.kind in ("flash_sale", "add_on", "gift") and body.sku:
        keys[ProductModel] = [{"sku": body.sku}]
    if body.kind == "flash_sale" and body.sku:
        stores = body.stores or [
            i.store_id for i in StoreItemModel.by_sku.query(body.sku, limit=1000)
        ]
        keys[StoreItemModel] = [{"store_id": sid, "sku": body.sku} for sid in stores]
    if not any(keys.values()):
        return []
    got = batch_get(keys)
    found = {m.store_id for m in got[StoreModel]}
    for sid in body.stores:
        if sid not in found:
            errors.append(field_error("stores", f"no store {sid!r}"))
    if ProductModel in keys and not got.get(ProductModel):
        errors.append(field_error("sku", f"no product {body.sku!r}"))
    return [int(i.price_fen) for i in got.of(StoreItemModel)]


def flash_giveaway(list_prices: list[int], flash_price_fen: int, quantity: int) -> int | None:
    """The most a flash sale can give away: every unit sold at its dearest store, (list
    price - flash price) × quantity, never below 0. None when no store sells the SKU
    (unknown: the approval rule treats it as unbounded)."""
    if not list_prices:
        return None
    return max(0, max(list_prices) - flash_price_fen) * quantity


def _request_hash(body: s.PromotionCreate) -> str:
    return hashlib.sha256(msgspec.json.encode(body)).hexdigest()


def create(principal: Principal, body: s.PromotionCreate) -> s.Promotion:
    """Create a promotion (and a flash sale's shards) in one transaction. With a
    ``promotion_id`` chosen by the caller, a retry with the same body answers the
    promotion already made; a different body under that id is 409."""
    starts, ends, errors = _validate(body)
    list_prices = [] if errors else _check_references(body, errors)
    if body.returns_policy == "reevaluate" and body.kind not in ("tiered", "second_half_price"):
        errors.append(field_error("returns_policy", "reevaluate: tiered or second_half_price"))
    elif body.returns_policy == "reevaluate" and (
        body.basis == "units" or body.percent or body.every
    ):
        # re-evaluation knows amount thresholds only (checkout/reprice.py)
        errors.append(
            field_error("returns_policy", "reevaluate: not with basis units, percent or every")
        )
    if errors:
        raise ValidationFailed("The promotion is not valid.", details=errors)
    contents = "member_day_ids" if body.kind == "member_day" else "promotion_ids"
    campaign = (
        campaign_contents.campaign_for_new(
            body.campaign_id, contents, "promotion", body.promotion_id
        )
        if body.campaign_id
        else None
    )
    now = clock.now_iso()
    pid = body.promotion_id or f"P{uuid.uuid4().hex[:16]}"
    scope = body.scope or s.Scope()
    promo = PromotionModel(
        pid,
        kind=body.kind,
        name=body.name,
        stores=list(body.stores),
        starts_at=starts,
        ends_at=ends,
        status="draft",  # published by approval (promotions/workflow.py)
        ends_key=f"{ends}#{pid}",
        tiers=[
            TierAttribute(threshold_fen=t.threshold_fen, off_fen=t.off_fen)
            for t in body.tiers or []
        ],
        scope_categories=list(scope.categories),
        scope_skus=list(scope.skus),
        budget_fen=body.budget_fen,
        budget_left_fen=body.budget_fen,
        request_hash=_request_hash(body),
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    if body.member_day is not None:
        _set_member_day(promo, body.member_day)
    targeting.apply(promo, body.recurrence, body.audience)
    promo.stacking, promo.margin_floor = _stacking_stored(body.stacking, body.margin_floor)
    if campaign is not None:
        promo.campaign_id = campaign.campaign_id
    promo.stacking_source = _stacking_source(body.kind, body.stacking, campaign)
    if promo.stacking_source == "campaign":
        assert campaign is not None
        promo.stacking = kstack.inherited(campaign.default_stacking, takes_group=False)
    mechanics.set_on(promo, body)
    promo.limits = promo_limits.to_attribute(body.limits)
    promo.returns_policy = _returns_policy_of(body.returns_policy)
    shards: list[FlashShardModel] = []
    if body.kind == "flash_sale":
        assert body.quantity is not None  # _validate refused a flash sale without one
        quantity = int(body.quantity)
        promo.sku = body.sku
        promo.flash_price_fen = body.flash_price_fen
        promo.quantity = quantity
        promo.per_customer_limit = body.per_customer_limit
        promo.flash_giveaway_fen = flash_giveaway(
            list_prices, int(body.flash_price_fen or 0), quantity
        )
        promo.shards = body.shards or shards_for(
            body.expected_peak_per_s or DEFAULT_PEAK_PER_S, quantity
        )
        shards = list(shard_items(promo))

    entry = audit.new_entry(
        principal,
        "promotion.create",
        audit.Target("promotion", pid),
        {},
        msgspec.to_builtins(view(promo, remaining=int(promo.quantity) if shards else None)),
        key="create",  # a retry with the same promotion_id reproduces it
    )

    existing = save_new(promo, shards, entry, campaign_list=contents if campaign else None)
    if existing is not None:
        return view(existing)
    forget_active_cache()
    return view(promo, remaining=int(promo.quantity) if shards else None)


def save_new(
    promo: PromotionModel,
    shards: list[FlashShardModel],
    entry: Any,
    campaign_list: str | None = None,
) -> PromotionModel | None:
    """Write a new promotion (created or cloned), a flash sale's shards and the audit
    entry in one transaction; with ``campaign_list``, its campaign (``campaign_id``)
    lists it in that list, on condition it is still a draft. A replay (same id, same
    request) answers the promotion already written; the same id for a different request
    is a 409."""

    def build(tx: Tx) -> None:
        tx.save(promo, condition=PromotionModel.promotion_id.does_not_exist(), label="promotion")
        if campaign_list is not None:
            campaign_contents.link_new(
                tx, str(promo.campaign_id), campaign_list, promo.promotion_id
            )
        if entry is not None:
            audit.piece_of(entry).add_to(tx)
        for shard in shards:
            tx.save(
                shard,
                condition=FlashShardModel.shard_key.does_not_exist(),
                label=f"flash_shard:{shard.shard_key}",
            )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "promotion" not in exc.failed:
            if campaign_contents.LINK_LABEL in exc.failed:
                raise campaign_contents.link_failed(str(promo.campaign_id)) from None
            raise
        existing = get_promotion(promo.promotion_id)
        if existing.request_hash != promo.request_hash:
            raise Conflict(
                f"A different promotion with id {promo.promotion_id!r} exists.",
                code="promotion_exists",
            ) from None
        return existing
    return None


def _spent(m: PromotionModel) -> int | None:
    if m.budget_fen is None:
        return None
    return int(m.budget_fen) - int(m.budget_left_fen or 0)


def _is_live(m: PromotionModel, now_iso: str) -> bool:
    return m.status == "active" and m.starts_at <= now_iso < m.ends_at


def view(
    m: PromotionModel, remaining: int | None = None, now_iso: str | None = None
) -> s.Promotion:
    """Head office's view; ``remaining`` is read from the shards by the caller."""
    flash = m.kind == "flash_sale"
    if flash and remaining is None:
        remaining = remaining_many({m.promotion_id: int(m.shards)})[m.promotion_id]
    now_iso = now_iso or clock.now_iso()
    return s.Promotion(
        promotion_id=m.promotion_id,
        # The str columns hold the schema's literals (checked when written): cast.
        kind=cast(Any, m.kind),
        name=m.name,
        stores=list(m.stores),
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        status=cast(Any, m.status),
        live=_is_live(m, now_iso),
        tiers=_tiers(m),
        scope=s.ScopeOut(categories=list(m.scope_categories), skus=list(m.scope_skus)),
        budget_fen=None if m.budget_fen is None else int(m.budget_fen),
        spent_fen=_spent(m),
        sku=m.sku,
        flash_price_fen=None if m.flash_price_fen is None else int(m.flash_price_fen),
        quantity=None if m.quantity is None else int(m.quantity),
        per_customer_limit=None if m.per_customer_limit is None else int(m.per_customer_limit),
        shards=None if m.shards is None else int(m.shards),
        remaining=remaining if flash else None,
        sold=int(m.quantity) - remaining if flash and remaining is not None else None,
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=int(m.version or 0),
        member_day=member_day_view(m, clock.parse(now_iso)) if m.kind == "member_day" else None,
        recurrence=targeting.recurrence_view(m),
        audience=targeting.audience_view(m),
        stacking=kstack.view(m.stacking) if m.kind in STACKING_KINDS else None,
        stacking_source=(
            kstack.source_of(m.stacking_source, m.stacking) if m.kind in STACKING_KINDS else None
        ),
        margin_floor=cast(Any, m.margin_floor or "refuse"),
        **mechanics.view_fields(m),
        limits=promo_limits.view(m.limits),
        returns_policy=cast(Any, m.returns_policy or "proportional"),
        **workflow_fields(m),
    )


def _returns_policy_of(policy: str | None) -> str | None:
    """Stored only when not the default (proportional), so other promotions stay as
    they were (issue 18 item 2, docs/promotions.md "Refund rule")."""
    return policy if policy == "reevaluate" else None


def workflow_fields(m: PromotionModel) -> dict[str, Any]:
    """The view's workflow fields (issue 18 item 5): approvals, how many, rejection."""
    return {
        "approvals": [s.PromotionApproval(by=a.by, at=a.at) for a in m.approvals or []],
        "approvals_needed": approvals.approvals_needed(
            exposure_fen(m), approval_settings.threshold_for_views()
        ),
        "rejected_reason": m.rejected_reason,
        "campaign_id": m.campaign_id,
    }


def exposure_fen(m: PromotionModel) -> int | None:
    """What the promotion may cost at most, for the approval rule: its budget, a flash
    sale's most it can give away; None (unbounded) without one."""
    if m.kind == "flash_sale":
        return None if m.flash_giveaway_fen is None else int(m.flash_giveaway_fen)
    return None if m.budget_fen is None else int(m.budget_fen)


def _tiers(m: PromotionModel) -> list[s.TierOut]:
    return [s.TierOut(threshold_fen=int(t.threshold_fen), off_fen=int(t.off_fen)) for t in m.tiers]


def _views(models: list[PromotionModel]) -> list[s.Promotion]:
    """Views of several promotions, their flash-sale shards read together."""
    left = remaining_many({m.promotion_id: int(m.shards) for m in models if m.kind == "flash_sale"})
    now_iso = clock.now_iso()
    return [view(m, left.get(m.promotion_id), now_iso) for m in models]


def get(principal: Principal, promotion_id: str) -> s.Promotion:
    return view(get_promotion(promotion_id))


def list_promotions(principal: Principal, status: str | None) -> s.PromotionList:
    """Promotions by status (both when absent), latest ending first; one Query per
    status on the by_status index."""
    statuses = [status] if status else ["draft", "pending", "active", "ended"]
    models: list[PromotionModel] = []
    for st in statuses:
        models.extend(PromotionModel.by_status.query(st, scan_index_forward=False))
    models.sort(key=lambda m: m.ends_key, reverse=True)
    return s.PromotionList(items=_views(models))


def _at_version(version: int) -> Any:
    """The promotion is still at ``version`` (0: never edited, the attribute is absent)."""
    p = PromotionModel
    return (
        (p.version == version) | p.version.does_not_exist()
        if version == 0
        else p.version == version
    )


def update(principal: Principal, promotion_id: str, body: s.PromotionUpdate) -> s.Promotion:
    """Edit (name, budget, window end, tiers before it starts) or end a promotion in one
    transaction (rules: promotions/edit_rules.py). Ending a flash sale closes its shards
    in the same transaction, so no purchase can start after the answer; moving its end
    moves the shards' copy too. Ending twice is fine. With ``expected_version``, an edit
    made by someone else meanwhile is a 409."""
    changing = [f for f in body.__struct_fields__ if f != "expected_version"]
    # targeting fields are absent as UNSET (null removes them), the others as None
    plain = [f for f in changing if f not in ("recurrence", "audience")]
    if all(getattr(body, f) is None for f in plain) and not _targeting_sent(body):
        raise ValidationFailed(
            "Nothing to change.",
            details=[field_error("(body)", f"send one of {', '.join(changing)}")],
        )
    promo = get_promotion(promotion_id)
    now = clock.now_iso()
    errors: list[dict[str, str]] = []
    new_ends = _utc(body.ends_at, "ends_at", errors) if body.ends_at is not None else None
    if errors:
        raise ValidationFailed("The change is not allowed.", details=errors)
    tiers = [(t.threshold_fen, t.off_fen) for t in body.tiers] if body.tiers is not None else None
    draft = promo.status in approvals.DRAFT_STATES
    problems = edit_rules.edit_errors(
        kind=str(promo.kind),
        status=str(promo.status),
        starts_at=promo.starts_at,
        ends_at=promo.ends_at,
        has_budget=promo.budget_fen is not None,
        now=now,
        new_ends_at=new_ends,
        new_tiers=tiers,
        new_budget=body.budget_fen,
        draft=draft,
        units=promo.tier_basis == "units",  # 满件减: thresholds in units
        percent=bool(promo.tier_percent),  # 满N件M折: off in percent
    )
    details = [field_error(f, r) for f, r in problems]
    if body.returns_policy == "reevaluate" and promo.kind not in ("tiered", "second_half_price"):
        details.append(field_error("returns_policy", "reevaluate: tiered or second_half_price"))
    elif body.returns_policy == "reevaluate" and (
        promo.tier_basis == "units" or promo.tier_percent or promo.tier_every
    ):
        details.append(
            field_error("returns_policy", "reevaluate: not with basis units, percent or every")
        )
    if body.member_day is not None:
        details += _member_day_edit_errors(promo, body.member_day, now)
    details += stacking_errors(str(promo.kind), body.stacking, body.margin_floor)
    details += promo_limits.limits_errors(str(promo.kind), body.limits)
    details += targeting.edit_errors(str(promo.kind), draft, body.recurrence, body.audience)
    if details:
        raise ValidationFailed("The change is not allowed.", details=details)
    p = PromotionModel
    actions: list[Any] = [p.updated_at.set(now), p.version.add(1)]
    condition = p.promotion_id.exists()
    if body.expected_version is not None:
        condition &= _at_version(body.expected_version)
    if body.name is not None:
        actions.append(p.name.set(body.name))
    ending = body.status == "ended" and promo.status != "ended"
    if ending:
        actions.append(p.status.set("ended"))
    else:
        condition &= p.status == promo.status  # not ended meanwhile
    if new_ends is not None and new_ends != promo.ends_at:
        actions += [p.ends_at.set(new_ends), p.ends_key.set(f"{new_ends}#{promotion_id}")]
        condition &= p.ends_at == promo.ends_at
    if tiers is not None:
        actions.append(p.tiers.set([TierAttribute(threshold_fen=a, off_fen=b) for a, b in tiers]))
        if not draft:
            condition &= p.starts_at > now  # the rule, judged at the write
    if body.budget_fen is not None:
        old = promo.budget_fen
        delta = body.budget_fen - int(old or 0)
        if old is None:
            actions += [p.budget_fen.set(body.budget_fen), p.budget_left_fen.set(body.budget_fen)]
            condition &= p.budget_fen.does_not_exist()
            if not draft:
                condition &= p.starts_at > now
        else:
            actions += [p.budget_fen.set(body.budget_fen), p.budget_left_fen.add(delta)]
            condition &= (p.budget_fen == int(old)) & (p.budget_left_fen >= -delta)
    if body.member_day is not None:
        actions += _member_day_actions(body.member_day)
    actions += _stacking_actions(promo, body)
    if body.limits is not None:
        new_limits = promo_limits.to_attribute(body.limits)
        actions.append(p.limits.set(new_limits) if new_limits else p.limits.remove())
    if body.returns_policy is not None:  # for orders placed from now on
        policy = _returns_policy_of(body.returns_policy)
        actions.append(p.returns_policy.set(policy) if policy else p.returns_policy.remove())
    retargeted = _targeting_sent(body)
    if retargeted:  # a draft's only: approved meanwhile, the write is refused (409)
        actions += targeting.edit_actions(body.recurrence, body.audience)
        condition &= p.status.is_in(*approvals.DRAFT_STATES)
    # a draft's money or targeting changed: the approvals given to the old terms no
    # longer count
    cleared = (
        draft and not ending and bool(promo.approvals) and (_money_changed(body) or retargeted)
    )
    if cleared:
        actions += [p.approvals.set([]), p.status.set("draft")]
    moved_end = new_ends is not None and new_ends != promo.ends_at
    before = {
        "name": promo.name,
        "status": promo.status,
        "ends_at": promo.ends_at,
        "budget_fen": None if promo.budget_fen is None else int(promo.budget_fen),
        "tiers": [[int(t.threshold_fen), int(t.off_fen)] for t in promo.tiers or []],
    }
    after = {
        "name": body.name or promo.name,
        "status": "ended" if ending else promo.status,
        "ends_at": new_ends if moved_end else promo.ends_at,
        "budget_fen": before["budget_fen"] if body.budget_fen is None else body.budget_fen,
        "tiers": before["tiers"] if tiers is None else [list(t) for t in tiers],
    }
    if body.returns_policy is not None:
        before["returns_policy"] = promo.returns_policy or "proportional"
        after["returns_policy"] = body.returns_policy
    if retargeted:
        was = targeting.audited(promo)
        before.update(was)
        if body.recurrence is not msgspec.UNSET:
            after["recurrence"] = msgspec.to_builtins(body.recurrence)
        if body.audience is not msgspec.UNSET:
            after["audience"] = msgspec.to_builtins(body.audience)
        after.setdefault("recurrence", was["recurrence"])
        after.setdefault("audience", was["audience"])
    if cleared:
        before["approvals"] = [a.by for a in promo.approvals]
        after["approvals"] = []
        after["status"] = "draft"
    if promo.kind == "member_day":
        before["member_day"] = _member_day_rules(promo)
        after["member_day"] = (
            msgspec.to_builtins(body.member_day)
            if body.member_day is not None
            else before["member_day"]
        )
    _stacking_audit(promo, body, before, after)
    entry = audit.new_entry(
        principal,
        "promotion.end" if ending else "promotion.update",
        audit.Target("promotion", promotion_id),
        before,
        after,
    )
    if body.name is not None:
        condition &= p.name == promo.name  # the entry's "before" is what was replaced

    def build(tx: Tx) -> None:
        tx.update(promo, actions=actions, condition=condition, label="promotion")
        if entry is not None:
            audit.piece_of(entry).add_to(tx)
        if promo.kind == "flash_sale" and (ending or moved_end):
            shard_actions: list[Any] = [FlashShardModel.open.set(0)] if ending else []
            if moved_end and new_ends is not None:
                shard_actions.append(FlashShardModel.ends_at.set(new_ends))
            for shard in shard_items(promo):
                tx.update(
                    FlashShardModel(shard.shard_key),
                    actions=shard_actions,
                    condition=FlashShardModel.shard_key.exists(),
                    label=f"flash_shard:{shard.shard_key}",
                )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "promotion" not in exc.failed:
            raise
        latest = get_promotion(promotion_id)
        if latest.status == "ended" and body.name is None and body.status == "ended":
            return view(latest)  # ended by another request meanwhile: ending twice is fine
        if body.budget_fen is not None and latest.budget_fen is not None:
            spent = int(latest.budget_fen) - int(latest.budget_left_fen or 0)
            if body.budget_fen < spent:
                raise ValidationFailed(
                    "The change is not allowed.",
                    details=[field_error("budget_fen", f"below the {spent} spent")],
                ) from None
        raise Conflict(
            "Someone else changed this promotion since you opened it (or it started or "
            "ended); reload it and make your change again.",
            code="promotion_changed",
            details={"version": int(latest.version or 0)},
        ) from None
    forget_active_cache()
    return view(get_promotion(promotion_id))


# --- stacking policy (issue 18 item 1) -------------------------------------------------

STACKING_KINDS = ("tiered", "second_half_price")


def stacking_errors(
    kind: str, stacking: kstack.Stacking | None, margin_floor: str | None
) -> list[dict[str, str]]:
    """A stacking policy is for tiered and half-price promotions, the margin floor mode
    for tiered ones (item promotions never check the floor); stack groups are coupons'."""
    errors: list[dict[str, str]] = []
    if stacking is not None and kind not in STACKING_KINDS:
        errors.append(field_error("stacking", f"not used by a {kind} promotion"))
    if stacking is not None and stacking.stack_group is not None:
        errors.append(field_error("stacking.stack_group", "for coupon templates only"))
    if margin_floor is not None and kind != "tiered":
        errors.append(field_error("margin_floor", f"not used by a {kind} promotion"))
    return errors


def _stacking_stored(
    stacking: kstack.Stacking | None, margin_floor: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """What the item holds: nothing for the defaults (no bigger item)."""
    return kstack.stored(stacking), None if margin_floor in (None, "refuse") else margin_floor


def _stacking_actions(promo: PromotionModel, body: s.PromotionUpdate) -> list[Any]:
    p = PromotionModel
    policy, floor = _stacking_stored(body.stacking, body.margin_floor)
    out: list[Any] = []
    if body.stacking is not None:
        out.append(p.stacking.set(policy) if policy else p.stacking.remove())
        out.append(p.stacking_source.set("own"))  # set here: it no longer follows a campaign
    if body.margin_floor is not None:
        out.append(p.margin_floor.set(floor) if floor else p.margin_floor.remove())
    return out


def _stacking_source(kind: str, stacking: kstack.Stacking | None, campaign: Any) -> str | None:
    """What a new promotion's policy follows: its own when sent; its campaign's default
    (copied) when created in a campaign without one; none otherwise (the matrix)."""
    if kind not in STACKING_KINDS:
        return None
    if stacking is not None:
        return "own"
    return "campaign" if campaign is not None else None


def _stacking_audit(
    promo: PromotionModel, body: s.PromotionUpdate, before: dict[str, Any], after: dict[str, Any]
) -> None:
    if body.stacking is None and body.margin_floor is None:
        return
    old = msgspec.to_builtins(kstack.view(promo.stacking))
    before["stacking"], before["margin_floor"] = old, promo.margin_floor or "refuse"
    after["stacking"] = old if body.stacking is None else msgspec.to_builtins(body.stacking)
    after["margin_floor"] = body.margin_floor or before["margin_floor"]


def _targeting_sent(body: s.PromotionUpdate) -> bool:
    return body.recurrence is not msgspec.UNSET or body.audience is not msgspec.UNSET


def _money_changed(body: s.PromotionUpdate) -> bool:
    """The edit changes what the promotion may cost (its approvals no longer count)."""
    return any(v is not None for v in (body.budget_fen, body.tiers, body.member_day))


def _member_day_rules(m: PromotionModel) -> dict[str, Any]:
    """A member day's rules as stored, for the audit entry's before/after."""
    out = msgspec.to_builtins(member_day_view(m, clock.now()))
    for derived in ("on_now", "today", "next_dates"):
        out.pop(derived, None)
    return cast(dict[str, Any], out)


def _member_day_edit_errors(
    promo: PromotionModel, spec: s.MemberDaySpec, now: str
) -> list[dict[str, str]]:
    """A member day's rules change while no occurrence is on (two members on one member
    day never get different benefits), and only on an active member day."""
    if promo.kind != "member_day":
        return [field_error("member_day", f"not used by a {promo.kind} promotion")]
    if promo.status == "ended":
        return [field_error("member_day", "the promotion has ended: create a new one")]
    on = md.occurrence_at(recurrence_of(promo), clock.parse(now))
    if on is not None and promo.status == "active":  # a draft's rules change freely
        return [
            field_error(
                "member_day", f"a member day is on (since {on.isoformat()}): change it after"
            )
        ]
    return member_day_errors(spec)


def _member_day_actions(spec: s.MemberDaySpec) -> list[Any]:
    staged = PromotionModel("staged")
    _set_member_day(staged, spec)
    p = PromotionModel
    return [
        p.md_recurrence.set(staged.md_recurrence),
        p.md_days.set(staged.md_days),
        p.md_span_days.set(staged.md_span_days),
        p.md_audience.set(staged.md_audience),
        p.md_min_level.set(staged.md_min_level) if staged.md_min_level else p.md_min_level.remove(),
        p.md_segment_id.set(staged.md_segment_id)
        if staged.md_segment_id
        else p.md_segment_id.remove(),
        p.md_percent_off.set(staged.md_percent_off)
        if staged.md_percent_off is not None
        else p.md_percent_off.remove(),
        p.md_prices.set(staged.md_prices),
        p.md_points_multiplier.set(staged.md_points_multiplier)
        if staged.md_points_multiplier is not None
        else p.md_points_multiplier.remove(),
        p.md_coupon_templates.set(staged.md_coupon_templates),
    ]


# --- what is on at a store ------------------------------------------------------------


@dataclass(frozen=True)
class TieredDiscount:
    """满减: the highest tier reached by the in-scope goods gives ``off_fen``."""

    promotion_id: str
    name: str
    tiers: tuple[tuple[int, int], ...]  # (threshold_fen, off_fen), thresholds increasing
    categories: frozenset[str]
    skus: frozenset[str]
    budget_left_fen: int | None  # None: no campaign budget
    starts_at: str = ""
    ends_at: str = ""
    campaign_id: str | None = None  # issue 16: its campaign's budget is shared
    funded_by: str = "hq"
    stacking: kstack.StackingOut | None = None  # issue 18: None = the fixed matrix
    margin_floor: str = "refuse"
    options: mechanics.TierOptions = mechanics.PLAIN_TIERS  # 满件减, 满N件M折, 每满减
    limits: promo_limits.Limits | None = None  # issue 18: None when not limited
    returns_policy: str = "proportional"  # issue 18: "reevaluate" re-prices returns


@dataclass(frozen=True)
class SecondHalfPrice:
    """The second unit of an in-scope SKU at half price."""

    promotion_id: str
    name: str
    categories: frozenset[str]
    skus: frozenset[str]
    starts_at: str = ""
    ends_at: str = ""
    campaign_id: str | None = None
    funded_by: str = "hq"
    stacking: kstack.StackingOut | None = None  # issue 18: None = the fixed matrix
    limits: promo_limits.Limits | None = None  # issue 18: None when not limited
    returns_policy: str = "proportional"  # issue 18: "reevaluate" re-prices returns


@dataclass(frozen=True)
class FlashPrice:
    """A SKU's flash price; the units are taken with ``promotion_repo.reservation_items``."""

    promotion_id: str
    sku: str
    flash_price_fen: int
    per_customer_limit: int
    shards: int
    name: str = ""
    starts_at: str = ""
    ends_at: str = ""
    campaign_id: str | None = None
    funded_by: str = "hq"


@dataclass(frozen=True)
class MemberDay:
    """A member day live at the store (its overall window open); whether today is one of
    its days is ``recurrence`` at the checkout's time (``on_at``)."""

    promotion_id: str
    name: str
    recurrence: md.Recurrence
    audience: str  # "members" | "level" | "segment"
    min_level: str | None
    percent_off: int | None
    categories: frozenset[str]
    skus: frozenset[str]
    prices: tuple[tuple[str, int], ...]  # (sku, member price fen)
    points_multiplier: str | None  # decimal text
    coupon_templates: tuple[str, ...]
    campaign_id: str | None = None  # issue 16: its extra points are the campaign's cost

    def on_at(self, at: datetime) -> str | None:
        """The occurrence on at ``at`` (its first local day, YYYYMMDD), or None."""
        d = md.occurrence_at(self.recurrence, at)
        return None if d is None else md.day_key(d)


@dataclass(frozen=True)
class ActivePromotions:
    tiered: tuple[TieredDiscount, ...]
    second_half: tuple[SecondHalfPrice, ...]
    flash: dict[str, FlashPrice]  # by SKU; the lowest price when two sales overlap
    member_days: tuple[MemberDay, ...] = ()
    # targeting: promotion id -> the lowest level it is for (absent: everyone)
    min_levels: dict[str, str] = field(default_factory=dict)
    mechanics: tuple[mechanics.Mechanic, ...] = ()  # add_on, gift, bundle (issue 18)
    # targeting: promotion id -> the saved segment it is for (absent: everyone); while
    # one is live, checkout reads the member's segment_memberships item with the cart
    segments: dict[str, str] = field(default_factory=dict)


_active_cache: tuple[float, list[PromotionModel]] | None = None


def forget_active_cache() -> None:
    """Drop this container's cache of active promotions (after a change, and in tests)."""
    global _active_cache
    _active_cache = None


def _active_models(now_iso: str) -> list[PromotionModel]:
    """Active promotions not yet ended, for every store: one Query, kept for
    ACTIVE_CACHE_S in this container (a promotion ended elsewhere may still show for
    that long; flash-sale purchases are checked on the shards, never on this cache)."""
    global _active_cache
    cached = _active_cache
    if cached is not None and time.monotonic() - cached[0] < ACTIVE_CACHE_S:
        return [m for m in cached[1] if m.ends_at > now_iso]
    models = list(PromotionModel.by_status.query("active", PromotionModel.ends_key > now_iso))
    _active_cache = (time.monotonic(), models)
    return models


def _live_at(store_id: str, now: datetime) -> list[PromotionModel]:
    now_iso = clock.iso(now)
    return [
        m
        for m in _active_models(now_iso)
        if m.starts_at <= now_iso < m.ends_at and (not m.stores or store_id in m.stores)
    ]


def active_for(store_id: str, now: datetime | None = None) -> ActivePromotions:
    """What the pricing step needs at a store now: tiered discounts, second-half
    promotions and flash prices by SKU. At most one Query (none within the cache)."""
    now = now or clock.now()
    return view_of(m for m in _live_at(store_id, now) if targeting.on_at(m, now))


def view_of(models: Iterable[PromotionModel]) -> ActivePromotions:
    """Promotions as checkout reads them (the cache's view): the live ones at a store,
    or one not yet published that a simulation adds as if live (campaigns/simulate.py).
    A recurring promotion outside its window is the caller's to leave out."""
    tiered, half, days = [], [], []
    more: list[mechanics.Mechanic] = []
    flash: dict[str, FlashPrice] = {}
    min_levels: dict[str, str] = {}
    segments: dict[str, str] = {}
    for m in models:
        if m.aud_min_level is not None:
            min_levels[m.promotion_id] = m.aud_min_level
        if m.aud_segment_id is not None:
            segments[m.promotion_id] = m.aud_segment_id
        cats, skus = frozenset(m.scope_categories), frozenset(m.scope_skus)
        if m.kind == "tiered":
            tiered.append(
                TieredDiscount(
                    m.promotion_id,
                    m.name,
                    tuple((int(t.threshold_fen), int(t.off_fen)) for t in m.tiers),
                    cats,
                    skus,
                    None if m.budget_left_fen is None else int(m.budget_left_fen),
                    m.starts_at,
                    m.ends_at,
                    m.campaign_id,
                    m.funded_by or "hq",
                    kstack.view(m.stacking) if m.stacking else None,
                    m.margin_floor or "refuse",
                    mechanics.tier_options(m),
                    promo_limits.limits_of(m.limits),
                    returns_policy=m.returns_policy or "proportional",
                )
            )
        elif m.kind == "second_half_price":
            half.append(
                SecondHalfPrice(
                    m.promotion_id,
                    m.name,
                    cats,
                    skus,
                    m.starts_at,
                    m.ends_at,
                    m.campaign_id,
                    m.funded_by or "hq",
                    kstack.view(m.stacking) if m.stacking else None,
                    promo_limits.limits_of(m.limits),
                    returns_policy=m.returns_policy or "proportional",
                )
            )
        elif m.kind == "flash_sale":
            price = FlashPrice(
                m.promotion_id,
                m.sku,
                int(m.flash_price_fen),
                int(m.per_customer_limit),
                int(m.shards),
                m.name,
                m.starts_at,
                m.ends_at,
                m.campaign_id,
                m.funded_by or "hq",
            )
            other = flash.get(m.sku)
            if other is None or price.flash_price_fen < other.flash_price_fen:
                flash[m.sku] = price
        elif m.kind == "member_day":
            days.append(member_day_of(m))
        elif m.kind in mechanics.KINDS:
            more.append(mechanics.mechanic_of(m))
    return ActivePromotions(
        tuple(tiered), tuple(half), flash, tuple(days), min_levels, tuple(more), segments
    )


def member_day_of(m: PromotionModel) -> MemberDay:
    return MemberDay(
        m.promotion_id,
        m.name,
        recurrence_of(m),
        str(m.md_audience),
        m.md_min_level,
        None if m.md_percent_off is None else int(m.md_percent_off),
        frozenset(m.scope_categories),
        frozenset(m.scope_skus),
        tuple((p.sku, int(p.price_fen)) for p in m.md_prices or []),
        m.md_points_multiplier,
        tuple(m.md_coupon_templates or []),
        m.campaign_id,
    )


def for_store(store_id: str) -> s.StorePromotions:
    """The storefront's list: promotions on now at the store, flash sales with the
    units left (one GetItem for the store, one Query at most, one BatchGetItem)."""
    from chalicelib.stores.service import get_store_model

    get_store_model(store_id)  # 404 for an unknown store
    now = clock.now()
    # A promotion for an audience (a level, a segment) is not listed here: this list is
    # public (no member, no level); the member's quote applies it.
    models = [m for m in _live_at(store_id, now) if not targeting.targeted(m)]
    left = remaining_many({m.promotion_id: int(m.shards) for m in models if m.kind == "flash_sale"})
    items = []
    for m in sorted(models, key=lambda m: (m.kind, m.ends_at, m.promotion_id)):
        flash = m.kind == "flash_sale"
        units = left.get(m.promotion_id) if flash else None
        items.append(
            s.StorePromotion(
                promotion_id=m.promotion_id,
                # The str columns hold the schema's literals (checked when written): cast.
                kind=cast(Any, m.kind),
                name=m.name,
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                tiers=_tiers(m),
                scope=s.ScopeOut(categories=list(m.scope_categories), skus=list(m.scope_skus)),
                sku=m.sku,
                flash_price_fen=None if m.flash_price_fen is None else int(m.flash_price_fen),
                per_customer_limit=None
                if m.per_customer_limit is None
                else int(m.per_customer_limit),
                remaining=units,
                sold_out=bool(flash and not units),
                member_day=member_day_view(m, now) if m.kind == "member_day" else None,
                recurrence=targeting.recurrence_view(m),
                next_window=targeting.next_window(m, now),
                **mechanics.view_fields(m),
            )
        )
    return s.StorePromotions(store_id=store_id, now=clock.iso(now), items=items)
