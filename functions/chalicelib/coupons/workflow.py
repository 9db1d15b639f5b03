"""Draft, approve, publish coupon templates (issue 18 item 5; rules in
kernel/approvals.py, docs/promotions.md "Draft, approval and simulation").

A template is created as a ``draft``: issuing needs ``status = active`` (coupons/repo.py
conditions every issue on it), the public list shows active ones only, and the
automatic-issue index key (``auto_key``) is set only when it is published. Approving
writes the approval (and, on the last one, ``active``) in one update conditioned on the
version read and the status read: an edit made meanwhile (the figures approved are the
figures published) or another approver at the same moment makes it re-read (or 409
with ``expected_version``). An approval does not change ``version``: it counts changes
of the content, which approvals are not."""

from __future__ import annotations

from functools import partial
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import approval_settings
from chalicelib.coupons import schemas as s
from chalicelib.coupons import service
from chalicelib.coupons.models import CouponTemplateModel, TemplateApprovalAttribute
from chalicelib.coupons.repo import get_template
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import approvals, clock
from chalicelib.kernel.errors import Conflict

RETRIES = 5  # re-reads when another approver wrote first (no expected_version given)


def _changed(latest: CouponTemplateModel) -> Conflict:
    return Conflict(
        "Someone else changed this coupon template since you opened it; reload it and "
        "check their change before you approve.",
        code="coupon_template_changed",
        details={"version": int(latest.version or 0)},
    )


def _state(m: CouponTemplateModel) -> dict[str, Any]:
    return {
        "status": m.status,
        "approvals": [a.by for a in m.approvals or []],
        "rejected_reason": m.rejected_reason,
    }


def _write(tx: Tx, template_id: str, actions: list, condition: Any, entry: Any) -> None:
    tx.update(
        CouponTemplateModel(template_id), actions=actions, condition=condition, label="template"
    )
    audit.with_entry(tx, entry)


def _decide(
    principal: Principal, template_id: str, expected: int | None, decide: Any
) -> s.CouponTemplate:
    t = CouponTemplateModel
    for _ in range(RETRIES):
        current = get_template(template_id)
        version = int(current.version or 0)
        if expected is not None and version != expected:
            raise _changed(current)
        actions, action, after = decide(current)
        actions = [*actions, t.updated_at.set(clock.now_iso())]
        condition = service._at_version(version) & (t.status == current.status)
        entry = audit.new_entry(
            principal,
            action,
            audit.Target("coupon_template", template_id),
            _state(current),
            after,
            always=True,
        )
        try:
            transact(
                partial(
                    _write,
                    template_id=template_id,
                    actions=actions,
                    condition=condition,
                    entry=entry,
                )
            )
        except TransactionCancelled as exc:
            if "template" not in exc.failed:
                raise
            if expected is not None:
                raise _changed(get_template(template_id)) from None
            continue
        service.forget_auto_cache()
        return service.template_view(get_template(template_id))
    raise _changed(get_template(template_id))


def approve(
    principal: Principal, template_id: str, body: s.TemplateApproveRequest
) -> s.CouponTemplate:
    """Record ``principal``'s approval; publish (``active``) once it has the approvals
    it needs. 409 ``not_a_draft``, ``already_approved_by_you``,
    ``coupon_template_changed``."""
    t = CouponTemplateModel

    def decide(m: CouponTemplateModel) -> tuple[list, str, dict]:
        now = clock.now_iso()
        try:
            status, after = approvals.approve(
                status=str(m.status),
                approvals=[approvals.Approval(a.by, a.at) for a in m.approvals or []],
                who=principal.subject,
                at=now,
                budget_fen=service.exposure_fen(m),
                threshold_fen=approval_settings.threshold_fen(),  # head office's setting
            )
        except approvals.Refused as why:
            raise Conflict(why.message, code=why.code) from None
        actions = [
            t.status.set(status),
            t.approvals.set([TemplateApprovalAttribute(by=a.by, at=a.at) for a in after]),
        ]
        if status == "active" and m.auto_issue:
            actions.append(t.auto_key.set(m.auto_issue))  # now issued automatically
        state = {
            "status": status,
            "approvals": [a.by for a in after],
            "rejected_reason": m.rejected_reason,
        }
        action = "coupon_template.publish" if status == "active" else "coupon_template.approve"
        return actions, action, state

    return _decide(principal, template_id, body.expected_version, decide)


def reject(
    principal: Principal, template_id: str, body: s.TemplateRejectRequest
) -> s.CouponTemplate:
    """Back to ``draft`` with the reason; approvals cleared. 409 ``not_a_draft``."""
    t = CouponTemplateModel

    def decide(m: CouponTemplateModel) -> tuple[list, str, dict]:
        try:
            status = approvals.reject(str(m.status))
        except approvals.Refused as why:
            raise Conflict(why.message, code=why.code) from None
        actions = [t.status.set(status), t.approvals.set([]), t.rejected_reason.set(body.reason)]
        after = {"status": status, "approvals": [], "rejected_reason": body.reason}
        return actions, "coupon_template.reject", after

    return _decide(principal, template_id, body.expected_version, decide)


# --- clone (a campaign's clone copies its templates) ------------------------------------


def clone_model(
    source: CouponTemplateModel,
    new_id: str,
    starts_at: str | None,
    ends_at: str | None,
    principal: Principal,
    request_hash: str,
    campaign_id: str | None,
) -> CouponTemplateModel:
    """A draft copy of ``source``: same terms, new id and (fixed) window, nothing issued,
    used or spent, no approvals."""
    copy = CouponTemplateModel.from_raw_data(source.serialize())
    now = clock.now_iso()
    copy.template_id = new_id
    copy.starts_at, copy.ends_at = starts_at, ends_at
    copy.status = "draft"
    copy.approvals = []
    copy.rejected_reason = None
    copy.issued_count = copy.used_count = copy.spent_fen = 0
    copy.budget_left_fen = int(source.budget_fen or 0)
    copy.auto_key = None  # set when published
    copy.created_key = f"{clock.now_iso_ms()}#{new_id}"
    copy.request_hash = request_hash
    copy.created_by = principal.subject
    copy.created_at = copy.updated_at = now
    copy.version = None
    copy.campaign_id = campaign_id
    return copy


def save_clone(principal: Principal, copy: CouponTemplateModel, source_id: str) -> None:
    """Write the copy with its audit entry; a replay (same request hash) is fine, another
    template under that id is 409 ``coupon_template_exists``."""
    entry = audit.new_entry(
        principal,
        "coupon_template.clone",
        audit.Target("coupon_template", copy.template_id),
        {},
        {"source": source_id, "name": copy.name, "starts_at": copy.starts_at},
        key="create",
    )
    try:
        transact(
            lambda tx: audit.with_entry(
                tx,
                entry,
                tx.save(
                    copy,
                    condition=CouponTemplateModel.template_id.does_not_exist(),
                    label="template",
                ),
            )
        )
    except TransactionCancelled as exc:
        if "template" not in exc.failed:
            raise
        if get_template(copy.template_id).request_hash != copy.request_hash:
            raise Conflict(
                f"A different coupon template with id {copy.template_id!r} exists.",
                code="coupon_template_exists",
            ) from None
