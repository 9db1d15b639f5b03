"""Coupons: head office's templates, issuance (claim, staff QR, bulk, registration,
after payment), the customer's wallet and budgets.

Storage and the transaction pieces the order flow uses live in coupons/repo.py; the
hooks are re-exported here: ``redemption_items``, ``release_items``, ``mark_used_items``,
``return_items``, ``issue_items``. Checkout reads coupons itself (checkout/service.py),
in the same BatchGetItem as the cart.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, SupportsInt, cast

import msgspec
from chalice import Response
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import approval_settings
from chalicelib.campaign_budgets import contents as campaign_contents
from chalicelib.coupons import edit_rules, targeting
from chalicelib.coupons import schemas as s
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.coupons.repo import (  # noqa: F401  (re-exported hooks)
    AVAILABLE,
    get_coupon,
    get_template,
    issue_items,
    mark_used_items,
    redemption_failure,
    redemption_items,
    release_items,
    return_items,
)
from chalicelib.db.transactions import TransactionCancelled, Tx, add_all, batch_get, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel, StaffModel
from chalicelib.kernel import approvals, clock
from chalicelib.kernel import period_limits as kperiod
from chalicelib.kernel import stacking as kstack
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.privacy import mask_phone
from chalicelib.orders.models import OrderModel

log = logging.getLogger("daojia.coupons")
AUTO_CACHE_S = 30.0  # how stale the auto-issue template list may be in one container

# --- templates ------------------------------------------------------------------------


def _utc(value: str | None, name: str, errors: list[dict[str, str]]) -> str | None:
    """Normalise to 'YYYY-MM-DDTHH:MM:SSZ' so stored times compare as strings."""
    if value is None:
        return None
    try:
        dt = clock.parse(value)
    except ValueError:
        errors.append(field_error(name, "not an ISO-8601 time"))
        return value
    if dt.tzinfo is None:
        errors.append(field_error(name, "needs a time zone, e.g. 'Z' or '+08:00'"))
        return value
    return clock.iso(dt)


KIND_FIELDS = {
    "amount_off": {"amount_off_fen"},
    "percent_off": {"percent_off", "cap_fen"},
    "free_delivery": set(),
    "product": set(),
}


def _validate(body: s.TemplateCreate) -> tuple[str | None, str | None, list[dict[str, str]]]:
    """Kind-, validity- and issuance-specific rules; every problem at once."""
    errors: list[dict[str, str]] = []
    for f in sorted({"amount_off_fen", "percent_off", "cap_fen"} - KIND_FIELDS[body.kind]):
        if getattr(body, f) is not None:
            errors.append(field_error(f, f"not used by a {body.kind} coupon"))
    if body.kind == "amount_off":
        if body.amount_off_fen is None:
            errors.append(field_error("amount_off_fen", "required for an amount_off coupon"))
        elif body.threshold_fen and body.amount_off_fen > body.threshold_fen:
            errors.append(field_error("amount_off_fen", "cannot exceed threshold_fen"))
    if body.kind == "percent_off" and body.percent_off is None:
        errors.append(field_error("percent_off", "required for a percent_off coupon (1..99)"))
    starts = _utc(body.starts_at, "starts_at", errors)
    ends = _utc(body.ends_at, "ends_at", errors)
    fixed = starts is not None or ends is not None
    if fixed and body.days_after_claim is not None:
        errors.append(field_error("days_after_claim", "give a fixed window or days, not both"))
    elif fixed and (starts is None or ends is None):
        errors.append(field_error("ends_at" if ends is None else "starts_at", "both ends needed"))
    elif not fixed and body.days_after_claim is None:
        errors.append(field_error("days_after_claim", "give starts_at/ends_at or days_after_claim"))
    elif starts and ends and not errors and ends <= starts:
        errors.append(field_error("ends_at", "must be after starts_at"))
    if body.auto_issue == "after_payment" and body.after_payment_min_fen is None:
        errors.append(field_error("after_payment_min_fen", "required for after_payment"))
    if body.auto_issue != "after_payment" and body.after_payment_min_fen is not None:
        errors.append(field_error("after_payment_min_fen", "only for auto_issue=after_payment"))
    if body.returns_policy == "reevaluate" and body.kind == "free_delivery":
        errors.append(field_error("returns_policy", "reevaluate: amount_off or percent_off"))
    if body.funded_by == "supplier" and not body.funder:
        errors.append(field_error("funder", "name the supplier that funds it"))
    errors += targeting.errors(
        body.code,
        body.recurrence,
        body.audience,
        for_sale=body.sale_price_fen is not None,
        auto_issue=body.auto_issue,
    )
    errors += _stacking_errors(body.kind, body.stacking, body.margin_floor)
    errors += _product_errors(body)
    return starts, ends, errors


def _product_errors(body: s.TemplateCreate) -> list[dict[str, str]]:
    """A product coupon (商品券) names its SKU; other kinds take neither product field."""
    if body.kind == "product":
        if body.product_sku is None:
            return [field_error("product_sku", "required for a product coupon")]
        return []
    return [
        field_error(f, f"not used by a {body.kind} coupon")
        for f in ("product_sku", "product_price_fen")
        if getattr(body, f) is not None
    ]


def _product_fields(m: Any) -> dict[str, Any]:
    """A template's or coupon's product fields for its view."""
    return {"product_sku": m.product_sku, "product_price_fen": _n(m.product_price_fen)}


def create_template(principal: Principal, body: s.TemplateCreate) -> s.CouponTemplate:
    """Create a template. With a caller-chosen ``template_id``, a retry with the same
    body answers the template already made; a different body under that id is 409."""
    starts, ends, errors = _validate(body)
    if errors:
        raise ValidationFailed("The coupon template is not valid.", details=errors)
    campaign = (
        campaign_contents.campaign_for_new(
            body.campaign_id, "coupon_template_ids", "coupon template", body.template_id
        )
        if body.campaign_id
        else None
    )
    now = clock.now_iso()
    tid = body.template_id or f"T{uuid.uuid4().hex[:16]}"
    scope = body.scope or s.CouponScope()
    digest = hashlib.sha256(msgspec.json.encode(body)).hexdigest()
    m = CouponTemplateModel(
        tid,
        name=body.name,
        kind=body.kind,
        threshold_fen=body.threshold_fen,
        amount_off_fen=body.amount_off_fen,
        percent_off=body.percent_off,
        cap_fen=body.cap_fen,
        scope_categories=list(scope.categories),
        scope_skus=list(scope.skus),
        scope_stores=list(scope.stores),
        starts_at=starts,
        ends_at=ends,
        days_after_claim=body.days_after_claim,
        total_quantity=body.total_quantity,
        issued_count=0,
        per_customer_limit=body.per_customer_limit,
        funded_by=body.funded_by,
        funder=body.funder,
        budget_fen=body.budget_fen,
        budget_left_fen=body.budget_fen or 0,
        spent_fen=0,
        used_count=0,
        claimable=body.claimable,
        auto_issue=body.auto_issue,
        auto_key=None,  # set when published (coupons/workflow.py): drafts issue nothing
        after_payment_min_fen=body.after_payment_min_fen,
        sale_price_fen=body.sale_price_fen,
        returns_policy=_returns_policy_of(body.returns_policy),
        status="draft",  # published by approval (coupons/workflow.py)
        created_key=f"{clock.now_iso_ms()}#{tid}",
        request_hash=digest,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    targeting.apply(m, body.code, body.recurrence, body.audience)
    m.stacking, m.margin_floor = _stacking_stored(body.stacking, body.margin_floor)
    if campaign is not None:
        m.campaign_id = campaign.campaign_id
    if body.stacking is not None:
        m.stacking_source = "own"
    elif campaign is not None:  # follows the campaign: a copy of its default, goods only
        m.stacking_source = "campaign"
        m.stacking = kstack.inherited(
            campaign.default_stacking, takes_group=body.kind != "free_delivery"
        )
    m.limits = kperiod.stored(body.limits)
    if body.kind == "product":
        m.product_sku, m.product_price_fen = body.product_sku, body.product_price_fen or 0
    entry = audit.new_entry(
        principal,
        "coupon_template.create",
        audit.Target("coupon_template", tid),
        {},
        msgspec.to_builtins(template_view(m)),
        key="create",  # a retry with the same template_id reproduces it
    )

    def build(tx: Tx) -> None:
        tx.save(m, condition=CouponTemplateModel.template_id.does_not_exist(), label="template")
        targeting.add_code(tx, m, now)
        if campaign is not None:
            campaign_contents.link_new(tx, campaign.campaign_id, "coupon_template_ids", tid)
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "template" not in exc.failed:
            if campaign is not None and campaign_contents.LINK_LABEL in exc.failed:
                raise campaign_contents.link_failed(campaign.campaign_id) from None
            if targeting.CODE_LABEL in exc.failed:
                raise Conflict(
                    f"Another coupon template has the code {m.code!r}.",
                    code="coupon_code_taken",
                ) from None
            raise
        existing = get_template(tid)
        if existing.request_hash != digest:
            raise Conflict(
                f"A different coupon template with id {tid!r} exists.",
                code="coupon_template_exists",
            ) from None
        return template_view(existing)
    forget_auto_cache()
    return template_view(m)


def _n(v: SupportsInt | None) -> int | None:
    return None if v is None else int(v)


def _scope(m: CouponTemplateModel | CouponModel) -> s.CouponScopeOut:
    return s.CouponScopeOut(
        categories=list(m.scope_categories), skus=list(m.scope_skus), stores=list(m.scope_stores)
    )


def template_view(m: CouponTemplateModel) -> s.CouponTemplate:
    budget = _n(m.budget_fen)
    spent = int(m.spent_fen or 0)
    return s.CouponTemplate(
        template_id=m.template_id,
        name=m.name,
        # The str columns hold the schema's literals (checked when written): cast.
        kind=cast(Any, m.kind),
        threshold_fen=int(m.threshold_fen or 0),
        amount_off_fen=_n(m.amount_off_fen),
        percent_off=_n(m.percent_off),
        cap_fen=_n(m.cap_fen),
        scope=_scope(m),
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        days_after_claim=_n(m.days_after_claim),
        total_quantity=_n(m.total_quantity),
        issued_count=int(m.issued_count or 0),
        per_customer_limit=int(m.per_customer_limit),
        funded_by=cast(Any, m.funded_by),
        funder=m.funder,
        budget_fen=budget,
        spent_fen=spent,
        remaining_budget_fen=None if budget is None else budget - spent,
        used_count=int(m.used_count or 0),
        claimable=bool(m.claimable),
        auto_issue=cast(Any, m.auto_issue),
        after_payment_min_fen=_n(m.after_payment_min_fen),
        sale_price_fen=_n(m.sale_price_fen),
        status=cast(Any, m.status),
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=int(m.version or 0),
        code=m.code,
        recurrence=targeting.recurrence_view(m),
        audience=targeting.audience_view(m),
        stacking=kstack.view(m.stacking),
        stacking_source=kstack.source_of(m.stacking_source, m.stacking),
        campaign_id=m.campaign_id,
        margin_floor=cast(Any, m.margin_floor or "refuse"),
        **_product_fields(m),
        returns_policy=cast(Any, m.returns_policy or "proportional"),
        limits=kperiod.view(m.limits),
        **workflow_fields(m),
    )


def workflow_fields(m: CouponTemplateModel) -> dict[str, Any]:
    """The view's workflow fields (issue 18 item 5): approvals, how many, rejection."""
    return {
        "approvals": [s.TemplateApproval(by=a.by, at=a.at) for a in m.approvals or []],
        "approvals_needed": approvals.approvals_needed(
            exposure_fen(m), approval_settings.threshold_for_views()
        ),
        "rejected_reason": m.rejected_reason,
    }


def exposure_fen(m: CouponTemplateModel) -> int | None:
    """What the template may cost at most, for the approval rule (kernel/approvals.py)."""
    return approvals.template_budget(
        budget_fen=_n(m.budget_fen),
        total_quantity=_n(m.total_quantity),
        kind=str(m.kind),
        amount_off_fen=_n(m.amount_off_fen),
        cap_fen=_n(m.cap_fen),
    )


def _returns_policy_of(policy: str | None) -> str | None:
    """Stored only when not the default (proportional): other templates stay as they
    were (issue 18 item 2, docs/promotions.md "Refund rule")."""
    return policy if policy == "reevaluate" else None


def _all_templates() -> list[CouponTemplateModel]:
    """Every template, newest first: one Query of the listing index (never a Scan)."""
    return list(CouponTemplateModel.by_created.query("templates", scan_index_forward=False))


def list_templates(principal: Principal) -> s.TemplateList:
    return s.TemplateList(items=[template_view(m) for m in _all_templates()])


def get_template_view(principal: Principal, template_id: str) -> s.CouponTemplate:
    return template_view(get_template(template_id))


def _at_version(version: int) -> Any:
    """The template is still at ``version`` (0: never edited, the attribute is absent)."""
    t = CouponTemplateModel
    return (
        (t.version == version) | t.version.does_not_exist()
        if version == 0
        else t.version == version
    )


def update_template(
    principal: Principal, template_id: str, body: s.TemplateUpdate
) -> s.CouponTemplate:
    """Edit a template in one conditional update (rules: coupons/edit_rules.py). The
    condition carries every rule that depends on counters moving at the same time (the
    budget not below what is spent, the quantity not below what is issued, ends_at
    brought forward and scope narrowed only while none is issued) and, with
    ``expected_version``, the version the editor saw: two editors never lose each
    other's changes (409 ``coupon_template_changed``)."""
    changing = [f for f in body.__struct_fields__ if f != "expected_version"]
    edit = targeting.Edit(body.code, body.recurrence, body.audience)
    # targeting fields are absent as UNSET (null removes them), the others as None
    plain = [f for f in changing if f not in ("code", "recurrence", "audience")]
    if all(getattr(body, f) is None for f in plain) and not edit.sent:
        raise ValidationFailed(
            "Nothing to change.",
            details=[field_error("(body)", f"send one of {', '.join(changing)}")],
        )
    current = get_template(template_id)
    t = CouponTemplateModel
    now = clock.now_iso()
    issued = int(current.issued_count or 0)
    errors: list[dict[str, str]] = []
    actions: list[Action] = [t.updated_at.set(now), t.version.add(1)]
    condition = t.template_id.exists()
    if body.expected_version is not None:
        condition &= _at_version(body.expected_version)
    if body.name is not None:
        actions.append(t.name.set(body.name))
    draft = current.status in approvals.DRAFT_STATES
    if body.status is not None and draft:
        errors.append(field_error("status", "a draft is published by approval (POST .../approve)"))
    elif body.status is not None:
        actions.append(t.status.set(body.status))
        if current.auto_issue:
            if body.status == "active":
                actions.append(t.auto_key.set(current.auto_issue))
            else:
                actions.append(t.auto_key.remove())
    if body.budget_fen is not None:
        old = int(current.budget_fen or 0)
        delta = body.budget_fen - old
        actions += [t.budget_fen.set(body.budget_fen), t.budget_left_fen.add(delta)]
        # unchanged since read, and new budget >= spent (left + delta >= 0)
        condition &= (
            t.budget_fen.does_not_exist() if current.budget_fen is None else t.budget_fen == old
        )
        condition &= t.budget_left_fen >= -delta
    if body.returns_policy is not None:  # for orders placed from now on
        if body.returns_policy == "reevaluate" and current.kind == "free_delivery":
            errors.append(field_error("returns_policy", "reevaluate: amount_off or percent_off"))
        policy = _returns_policy_of(body.returns_policy)
        actions.append(t.returns_policy.set(policy) if policy else t.returns_policy.remove())
    if body.total_quantity is not None:
        actions.append(t.total_quantity.set(body.total_quantity))
        condition &= t.issued_count <= body.total_quantity
    if body.ends_at is not None:
        ends = _utc(body.ends_at, "ends_at", errors)
        if ends is not None and not errors:
            problem = edit_rules.ends_at_problem(
                current=current.ends_at,
                starts_at=current.starts_at,
                days_after_claim=_n(current.days_after_claim),
                issued=issued,
                new=ends,
                now=now,
            )
            if problem:
                errors.append(field_error("ends_at", problem))
            elif ends != current.ends_at:
                actions.append(t.ends_at.set(ends))
                condition &= t.ends_at == current.ends_at
                if current.ends_at is not None and ends < current.ends_at:
                    condition &= t.issued_count == 0  # a coupon issued meanwhile: refused
    if body.scope is not None:
        old_scope = edit_rules.Scope(
            frozenset(current.scope_categories),
            frozenset(current.scope_skus),
            frozenset(current.scope_stores),
        )
        new_scope = edit_rules.Scope(
            frozenset(body.scope.categories),
            frozenset(body.scope.skus),
            frozenset(body.scope.stores),
        )
        problem = edit_rules.scope_problem(old_scope, new_scope, issued)
        if problem:
            errors.append(field_error("scope", problem))
        elif new_scope != old_scope:
            actions += [
                t.scope_categories.set(sorted(new_scope.categories)),
                t.scope_skus.set(sorted(new_scope.skus)),
                t.scope_stores.set(sorted(new_scope.stores)),
            ]
            # read-modify-write of three lists: refused if they moved meanwhile, and a
            # narrowing only while nothing is issued (the rule was judged on `issued`)
            condition &= _at_version(int(current.version or 0))
            if edit_rules.scope_problem(old_scope, new_scope, 1):
                condition &= t.issued_count == 0
    errors += _stacking_errors(str(current.kind), body.stacking, body.margin_floor)
    actions += _stacking_actions(body)
    if body.limits is not None:
        new_limits = kperiod.stored(body.limits)
        if new_limits != (kperiod.as_dict(current.limits) or None):
            # issued coupons carry the limits they were issued with: changing them then
            # would make two coupons of one template count differently
            if issued:
                errors.append(
                    field_error(
                        "limits",
                        f"{issued} coupons were issued with the current limits; create a "
                        "new template for other limits",
                    )
                )
            actions.append(t.limits.set(new_limits) if new_limits else t.limits.remove())
            condition &= t.issued_count == 0  # a coupon issued meanwhile: refused
    errors += targeting.edit_errors(current, draft, edit)
    if errors:
        raise ValidationFailed("The change is not allowed.", details=errors)
    code = targeting.new_code(current, edit)
    if edit.sent:  # a draft's only: approved meanwhile, the write is refused (409)
        actions += targeting.edit_actions(edit, code)
        condition &= t.status.is_in(*approvals.DRAFT_STATES)
    before, after = _audited(current, body)
    # a draft's money or targeting changed: the approvals given to the old terms no
    # longer count
    money = (body.budget_fen, body.total_quantity)
    if draft and current.approvals and (any(v is not None for v in money) or edit.sent):
        actions += [t.approvals.set([]), t.status.set("draft")]
        condition &= t.status == current.status
        before["approvals"], after["approvals"] = [a.by for a in current.approvals], []
        after["status"] = "draft"
    for f in ("name", "status"):  # the entry's "before" is what the update replaced
        if f in after:
            condition &= getattr(t, f) == before[f]
    action = {"paused": "coupon_template.pause", "active": "coupon_template.resume"}.get(
        str(after["status"]) if after.get("status", before["status"]) != before["status"] else "",
        "coupon_template.update",
    )
    entry = audit.new_entry(
        principal, action, audit.Target("coupon_template", template_id), before, after
    )

    def build(tx: Tx) -> None:
        tx.update(
            CouponTemplateModel(template_id), actions=actions, condition=condition, label="template"
        )
        targeting.move_code(tx, current, code, now)
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "template" not in exc.failed:
            if targeting.CODE_LABEL in exc.failed:
                raise Conflict(
                    f"Another coupon template has the code {code!r}.", code="coupon_code_taken"
                ) from None
            raise
        latest = get_template(template_id)
        details = []
        if body.budget_fen is not None and body.budget_fen < int(latest.spent_fen or 0):
            details.append(field_error("budget_fen", f"below the {int(latest.spent_fen)} spent"))
        if body.total_quantity is not None and body.total_quantity < int(latest.issued_count):
            details.append(
                field_error("total_quantity", f"below the {int(latest.issued_count)} issued")
            )
        if body.limits is not None and int(latest.issued_count or 0) > 0:
            details.append(field_error("limits", "coupons were issued meanwhile"))
        if details:
            raise ValidationFailed("The change is not allowed.", details=details) from None
        raise Conflict(
            "Someone else changed this coupon template since you opened it; reload it, "
            "check their change and make yours again.",
            code="coupon_template_changed",
            details={"version": int(latest.version or 0)},
        ) from None
    forget_auto_cache()
    return template_view(get_template(template_id))


def _audited(current: CouponTemplateModel, body: s.TemplateUpdate) -> tuple[dict, dict]:
    """The fields a template update sends, before and after (money in fen)."""
    before: dict[str, Any] = {
        "name": current.name,
        "status": current.status,
        "budget_fen": _n(current.budget_fen),
        "total_quantity": _n(current.total_quantity),
        "ends_at": current.ends_at,
        "scope": _scope_fields(current.scope_categories, current.scope_skus, current.scope_stores),
    }
    after = {f: getattr(body, f) for f in before if getattr(body, f) is not None}
    if body.scope is not None:
        after["scope"] = _scope_fields(body.scope.categories, body.scope.skus, body.scope.stores)
    if body.stacking is not None or body.margin_floor is not None:
        before["stacking"] = msgspec.to_builtins(kstack.view(current.stacking))
        before["margin_floor"] = current.margin_floor or "refuse"
        if body.stacking is not None:
            after["stacking"] = msgspec.to_builtins(body.stacking)
        if body.margin_floor is not None:
            after["margin_floor"] = body.margin_floor
    if body.returns_policy is not None:
        before["returns_policy"] = current.returns_policy or "proportional"
        after["returns_policy"] = body.returns_policy
    if body.limits is not None:
        before["limits"] = kperiod.as_dict(current.limits)
        after["limits"] = kperiod.stored(body.limits) or {}
    sent = targeting.Edit(body.code, body.recurrence, body.audience).sent
    if sent:
        was = targeting.audited(current)
        before.update(was)
        for f in ("code", "recurrence", "audience"):
            value = getattr(body, f)
            after[f] = was[f] if f not in sent else msgspec.to_builtins(value)
        if isinstance(body.code, str):
            after["code"] = targeting.normalise(body.code)
    return before, after


# --- stacking policy (issue 18 item 1) -------------------------------------------------


def _stacking_errors(
    kind: str, stacking: kstack.Stacking | None, margin_floor: str | None
) -> list[dict[str, str]]:
    """Stack groups and the margin floor mode are about goods coupons."""
    errors: list[dict[str, str]] = []
    if kind == "free_delivery" and stacking is not None and stacking.stack_group is not None:
        errors.append(field_error("stacking.stack_group", "for goods coupons only"))
    if kind == "free_delivery" and margin_floor is not None:
        errors.append(field_error("margin_floor", "for goods coupons only"))
    return errors


def _stacking_stored(
    stacking: kstack.Stacking | None, margin_floor: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """What the item holds: nothing for the defaults (no bigger item)."""
    return kstack.stored(stacking), None if margin_floor in (None, "refuse") else margin_floor


def _stacking_actions(body: s.TemplateUpdate) -> list[Action]:
    t = CouponTemplateModel
    policy, floor = _stacking_stored(body.stacking, body.margin_floor)
    out: list[Action] = []
    if body.stacking is not None:
        out.append(t.stacking.set(policy) if policy else t.stacking.remove())
        out.append(t.stacking_source.set("own"))  # set here: it no longer follows a campaign
    if body.margin_floor is not None:
        out.append(t.margin_floor.set(floor) if floor else t.margin_floor.remove())
    return out


def _scope_fields(categories: Any, skus: Any, stores: Any) -> dict[str, list[str]]:
    return {
        "categories": sorted(categories or []),
        "skus": sorted(skus or []),
        "stores": sorted(stores or []),
    }


# --- issuing --------------------------------------------------------------------------


class IssueRefused(Conflict):
    pass


REFUSALS = {
    "sold_out": "This coupon is all gone.",
    "limit_reached": "You already have as many of this coupon as allowed.",
    "template_not_active": "This coupon cannot be issued now.",
}


def issue(
    template: CouponTemplateModel,
    customer_id: str,
    coupon_id: str,
    source: str,
    *,
    staff_username: str | None = None,
    now: datetime | None = None,
) -> tuple[CouponModel, bool]:
    """Issue one coupon with a deterministic id in one transaction; (coupon, created).
    A replay (the id exists) answers the existing coupon with created=False. Refusals
    raise ``IssueRefused`` (409) with code sold_out, limit_reached or
    template_not_active."""
    now = now or clock.now()
    pieces = issue_items(
        template, customer_id, coupon_id, source, now, staff_username=staff_username
    )
    coupon, template_piece, counter = pieces
    try:
        transact(lambda tx: add_all(tx, pieces))
    except TransactionCancelled as exc:
        if coupon.label in exc.failed:
            existing = get_coupon(coupon_id)
            if existing.customer_id != customer_id:
                raise Conflict("That request id is taken.", code="coupon_id_taken") from None
            return existing, False
        if template_piece.label in exc.failed:
            latest = get_template(template.template_id)
            # The condition is: active, window not ended, quantity left. Active with its
            # window open leaves the quantity (a re-read count may already be lower
            # again: a refunded sale gives a unit back).
            ended = latest.ends_at is not None and latest.ends_at <= clock.iso(now)
            reason = "template_not_active" if latest.status != "active" or ended else "sold_out"
            raise IssueRefused(REFUSALS[reason], code=reason) from None
        if counter.label in exc.failed:
            raise IssueRefused(REFUSALS["limit_reached"], code="limit_reached") from None
        raise
    return coupon.item, True


def claim(principal: Principal, body: s.ClaimRequest) -> Response:
    """A customer claims a coupon (领券), maybe through a staff member's QR code. 201
    with the new coupon; the same request_id again: 200 with the same coupon."""
    template = get_template(body.template_id)
    if not template.claimable:
        raise Conflict("This coupon cannot be claimed.", code="template_not_claimable")
    if template.sale_price_fen is not None:
        # Sold coupons (一元买百元券) are bought through POST /coupon-sales, never free.
        raise Conflict(
            "This coupon is sold, not given away: buy it with POST /coupon-sales.",
            code="template_for_sale",
        )
    # Targeting: a code's coupons are redeemed with the code only; an audience's only
    # by its members (409 not_for_you).
    if template.code is not None:
        raise Conflict("This coupon cannot be claimed.", code="template_not_claimable")
    if not targeting.in_audience(template, principal.subject):
        raise Conflict("This coupon is not for you.", code="not_for_you")
    # A paused or ended template is refused by the transaction's condition, after a
    # retried claim has been answered with its coupon.
    source = "claim"
    if body.staff_username is not None:
        try:
            staff = StaffModel.get(body.staff_username)
        except DoesNotExist:
            staff = None
        if staff is None or not staff.active:
            raise ValidationFailed(
                "The staff QR code is not valid.",
                details=[field_error("staff_username", "no active staff account")],
            )
        source = "staff_qr"
    coupon_id = f"{template.template_id}:claim:{principal.subject}:{body.request_id}"
    coupon, created = issue(
        template, principal.subject, coupon_id, source, staff_username=body.staff_username
    )
    return Response(
        body=msgspec.json.encode(coupon_view(coupon)).decode(),
        status_code=201 if created else 200,
        headers={"Content-Type": "application/json"},
    )


def bulk_issue(principal: Principal, template_id: str, body: s.IssueRequest) -> s.IssueResult:
    """Head office issues to a list of members (bulk). Coupon ids are
    "<template>:<batch>:<customer>", so the same batch again issues nothing new. Unknown
    customers, sold out and per-customer limits are refused per customer."""
    template = get_template(template_id)
    ids = list(dict.fromkeys(body.customer_ids))
    known: set[str] = set()
    for start in range(0, len(ids), 100):
        got = batch_get({CustomerModel: [{"customer_id": c} for c in ids[start : start + 100]]})
        known |= {m.customer_id for m in got[CustomerModel]}
    now = clock.now()

    def one(cid: str) -> tuple[str, str]:
        if cid not in known:
            return cid, "unknown_customer"
        try:
            _, created = issue(
                template, cid, f"{template_id}:{body.batch_id}:{cid}", "bulk", now=now
            )
        except IssueRefused as err:
            return cid, err.code
        return cid, "issued" if created else "already_issued"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, ids))
    refused = [
        s.Refusal(customer_id=c, reason=cast(Any, r))  # unknown_customer or a REFUSALS code
        for c, r in outcomes
        if r not in ("issued", "already_issued")
    ]
    issued = sum(r == "issued" for _, r in outcomes)
    # Many coupons, one per transaction: the entry follows them, keyed by the batch (a
    # retried batch reproduces its id; it is written once, with the first run's count).
    audit.record(
        principal,
        "coupon_template.issue",
        audit.Target("coupon_template", template_id),
        {},
        {"batch_id": body.batch_id, "customers": len(ids), "issued": issued},
        key=f"issue:{body.batch_id}",
    )
    return s.IssueResult(
        issued=issued,
        already_issued=sum(r == "already_issued" for _, r in outcomes),
        refused=refused,
    )


_auto_cache: dict[str, tuple[float, list[CouponTemplateModel]]] = {}


def forget_auto_cache() -> None:
    """Drop this container's cache of auto-issue templates (after a change, in tests)."""
    _auto_cache.clear()


def _auto_templates(trigger: str) -> list[CouponTemplateModel]:
    """Active templates issued on ``trigger``: one Query of a sparse index, cached for
    AUTO_CACHE_S — a registration or payment costs no read at all most of the time."""
    hit = _auto_cache.get(trigger)
    if hit is not None and time.monotonic() - hit[0] < AUTO_CACHE_S:
        return hit[1]
    models = list(CouponTemplateModel.by_auto_issue.query(trigger))
    _auto_cache[trigger] = (time.monotonic(), models)
    return models


def _auto_issue(
    trigger: str,
    customer_id: str,
    key: str,
    min_paid: int | None,
    as_of: str | None = None,
) -> list[str]:
    """Issue the active ``trigger`` templates. ``as_of`` (the event's time): templates
    created after it are not for this event — a redelivered event (its subscribers run
    again, events/dispatch.py) must not earn a gift that did not exist when it happened."""
    now = clock.now()
    event_time = None if as_of is None else clock.parse(as_of)
    issued: list[str] = []
    for t in _auto_templates(trigger):
        if t.status != "active" or (t.ends_at is not None and t.ends_at <= clock.iso(now)):
            continue
        if event_time is not None and clock.parse(t.created_at).replace(microsecond=0) > event_time:
            continue
        if min_paid is not None and int(t.after_payment_min_fen or 0) > min_paid:
            continue
        coupon_id = f"{t.template_id}:{key}"
        try:
            _, created = issue(t, customer_id, coupon_id, trigger, now=now)
        except IssueRefused as err:
            log.info("no %s coupon %s for %s: %s", trigger, t.template_id, customer_id, err.code)
            continue
        if created:
            issued.append(coupon_id)
    return issued


def issue_on_registration(customer_id: str, as_of: str | None = None) -> list[str]:
    """新人礼: issue every active registration template to a new member. Idempotent (ids
    "<template>:reg:<customer>"); returns the coupon ids newly issued. Cheap when no
    such template exists (a cached Query of a sparse index)."""
    return _auto_issue("registration", customer_id, f"reg:{customer_id}", None, as_of)


def issue_after_payment(
    order_id: str, customer_id: str, paid_fen: int, as_of: str | None = None
) -> list[str]:
    """支付有礼: issue every active after-payment template whose minimum the payment
    reaches. Idempotent per order (ids "<template>:order:<order_id>"); returns the coupon
    ids newly issued. Call after the payment commits."""
    return _auto_issue("after_payment", customer_id, f"order:{order_id}", paid_fen, as_of)


def void_after_payment_gifts(order_id: str, kept_fen: int | None = None) -> list[str]:
    """The order that earned after-payment gifts was refunded in full: they are no longer
    earned. An unused gift is voided now; a locked or used one is marked so that it is
    voided whenever it is given back (the order using it cancelled, expired or refunded in
    full); a used one is otherwise kept — the order that used it was paid. Idempotent.
    Returns the coupon ids voided now. One GetItem and one Query of the wallet.

    ``kept_fen`` (issue 18 item 2: a partial return leaves the order that much paid):
    only the gifts of templates whose ``after_payment_min_fen`` it no longer reaches;
    nothing is read when no after-payment template has a minimum above it (the
    templates' cached Query). A template no longer active is not looked at."""
    templates: set[str] | None = None
    if kept_fen is not None:
        templates = {
            t.template_id
            for t in _auto_templates("after_payment")
            if int(t.after_payment_min_fen or 0) > kept_fen
        }
        if not templates:
            return []
    try:
        order = OrderModel.get(order_id, attributes_to_get=["customer_id", "created_at"])
    except DoesNotExist:
        return []
    m = CouponModel
    now_iso = clock.now_iso()
    suffix = f":order:{order_id}"
    voided = []
    gifts = CouponModel.by_customer.query(
        order.customer_id,
        m.created_at >= order.created_at,
        filter_condition=m.source == "after_payment",
    )
    for gift in gifts:
        if not gift.coupon_id.endswith(suffix):
            continue
        if templates is not None and gift.template_id not in templates:
            continue
        # The mark first: a gift released between the two writes comes back voided.
        CouponModel(gift.coupon_id).update(
            actions=[m.given_back_as.set("voided"), m.updated_at.set(now_iso)],
            condition=m.coupon_id.exists(),
        )
        try:
            CouponModel(gift.coupon_id).update(
                actions=[m.state.set("voided"), m.remind.remove(), m.updated_at.set(now_iso)],
                condition=m.state == AVAILABLE,
            )
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # locked or used (or voided already)
        voided.append(gift.coupon_id)
    if voided:
        log.info("after-payment gifts of %s voided: %s", order_id, voided)
    return voided


# --- the customer's side --------------------------------------------------------------


def effective_state(m: CouponModel, now_iso: str) -> str:
    """An available coupon past its validity reads as expired without being rewritten."""
    if m.state == AVAILABLE and m.valid_until <= now_iso:
        return "expired"
    return m.state


def coupon_view(m: CouponModel, now_iso: str | None = None) -> s.Coupon:
    return s.Coupon(
        coupon_id=m.coupon_id,
        customer_id=m.customer_id,
        template_id=m.template_id,
        name=m.name,
        # The str columns hold the schema's literals (checked when written): cast.
        kind=cast(Any, m.kind),
        threshold_fen=int(m.threshold_fen or 0),
        amount_off_fen=_n(m.amount_off_fen),
        percent_off=_n(m.percent_off),
        cap_fen=_n(m.cap_fen),
        scope=_scope(m),
        state=cast(Any, effective_state(m, now_iso or clock.now_iso())),
        valid_from=m.valid_from,
        valid_until=m.valid_until,
        source=cast(Any, m.source),
        staff_username=m.staff_username,
        order_id=m.order_id,
        discount_fen=_n(m.discount_fen),
        created_at=m.created_at,
        recurrence=targeting.recurrence_view(m),
        **_product_fields(m),
    )


def wallet(customer_id: str, state: str | None = None) -> s.CouponList:
    """A customer's coupons, newest first (one Query of the customer index)."""
    now_iso = clock.now_iso()
    views = [
        coupon_view(m, now_iso)
        for m in CouponModel.by_customer.query(customer_id, scan_index_forward=False)
    ]
    return s.CouponList(items=[v for v in views if state is None or v.state == state])


def public_templates(store_id: str | None) -> s.PublicTemplateList:
    """Active, claimable templates not past their window (and, with a store, scoped to
    it or to every store)."""
    now_iso = clock.now_iso()
    items = []
    for m in _all_templates():
        if m.status != "active" or not m.claimable or targeting.targeted(m):
            continue  # targeted (a code, an audience): not for everyone to see
        if m.ends_at is not None and m.ends_at <= now_iso:
            continue
        if store_id and m.scope_stores and store_id not in m.scope_stores:
            continue
        items.append(
            s.PublicTemplate(
                template_id=m.template_id,
                name=m.name,
                # The str columns hold the schema's literals (checked when written): cast.
                kind=cast(Any, m.kind),
                threshold_fen=int(m.threshold_fen or 0),
                amount_off_fen=_n(m.amount_off_fen),
                percent_off=_n(m.percent_off),
                cap_fen=_n(m.cap_fen),
                scope=_scope(m),
                starts_at=m.starts_at,
                ends_at=m.ends_at,
                days_after_claim=_n(m.days_after_claim),
                per_customer_limit=int(m.per_customer_limit),
                sold_out=m.total_quantity is not None
                and int(m.issued_count) >= int(m.total_quantity),
            )
        )
    return s.PublicTemplateList(items=items)


def find_customer(phone: str) -> s.CustomerFound:
    """Head office looks a member up by phone (two GetItems)."""
    try:
        link = CustomerPhoneModel.get(phone)
        c = CustomerModel.get(link.customer_id)
    except DoesNotExist:
        raise NotFound("No member with that phone.", code="customer_not_found") from None
    return s.CustomerFound(
        customer_id=c.customer_id,
        phone_masked=mask_phone(c.phone),
        nickname=c.nickname,
        created_at=c.created_at,
    )


def budgets() -> s.BudgetList:
    """Spend against budget per template, newest first (one Query)."""
    items = []
    for m in _all_templates():
        budget = _n(m.budget_fen)
        spent = int(m.spent_fen or 0)
        items.append(
            s.Budget(
                template_id=m.template_id,
                name=m.name,
                # The str columns hold the schema's literals (checked when written): cast.
                status=cast(Any, m.status),
                funded_by=cast(Any, m.funded_by),
                funder=m.funder,
                budget_fen=budget,
                spent_fen=spent,
                remaining_fen=None if budget is None else budget - spent,
                issued_count=int(m.issued_count or 0),
                used_count=int(m.used_count or 0),
            )
        )
    return s.BudgetList(items=items)
