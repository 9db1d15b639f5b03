"""Draft, approve, publish and clone promotions (issue 18 item 5; rules in
kernel/approvals.py, docs/promotions.md "Draft, approval and simulation").

A promotion is created as a ``draft``: the by_status index holds it under "draft" or
"pending", so ``active_for`` (which reads "active") never prices it, and a draft flash
sale's shards are closed until it is published. Approving writes the approval (and, on
the last one, ``active`` and the shards opened) in one transaction conditioned on the
version read and the status read: an edit made meanwhile (the figures approved are the
figures published) or another approver at the same moment makes it re-read (or 409
with ``expected_version``). An approval does not change ``version``: it counts changes
of the content, which approvals are not."""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

import msgspec

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import approval_settings
from chalicelib.campaign_budgets import contents as campaign_contents
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import approvals, clock
from chalicelib.kernel.errors import Conflict, ValidationFailed, field_error
from chalicelib.promotions import schemas as s
from chalicelib.promotions import service
from chalicelib.promotions.models import ApprovalAttribute, FlashShardModel, PromotionModel
from chalicelib.promotions.repo import get_promotion, shard_items

RETRIES = 5  # re-reads when another approver wrote first (no expected_version given)


def _changed(latest: PromotionModel) -> Conflict:
    return Conflict(
        "Someone else changed this promotion since you opened it; reload it and check "
        "their change before you approve.",
        code="promotion_changed",
        details={"version": int(latest.version or 0)},
    )


def _state(m: PromotionModel) -> dict[str, Any]:
    return {
        "status": m.status,
        "approvals": [a.by for a in m.approvals or []],
        "rejected_reason": m.rejected_reason,
    }


def _decide(
    principal: Principal, promotion_id: str, expected: int | None, decide: Any
) -> s.Promotion:
    """Read, decide (a function of the promotion answering actions, audit action and
    after-state, and whether it publishes), write conditioned on the version read; on a
    race without ``expected`` re-read and decide again."""
    p = PromotionModel
    for _ in range(RETRIES):
        promo = get_promotion(promotion_id)
        version = int(promo.version or 0)
        if expected is not None and version != expected:
            raise _changed(promo)
        actions, action, after, publishing = decide(promo)
        now = clock.now_iso()
        actions = [*actions, p.updated_at.set(now)]
        condition = service._at_version(version) & (p.status == promo.status)
        entry = audit.new_entry(
            principal,
            action,
            audit.Target("promotion", promotion_id),
            _state(promo),
            after,
            always=True,
        )

        try:
            transact(
                partial(
                    _write,
                    promo=promo,
                    actions=actions,
                    condition=condition,
                    entry=entry,
                    publishing=publishing,
                )
            )
        except TransactionCancelled as exc:
            if "promotion" not in exc.failed:
                raise
            if expected is not None:
                raise _changed(get_promotion(promotion_id)) from None
            continue
        service.forget_active_cache()
        return service.view(get_promotion(promotion_id))
    raise _changed(get_promotion(promotion_id))


def _write(
    tx: Tx, promo: PromotionModel, actions: list, condition: Any, entry: Any, publishing: bool
) -> None:
    """The decision's update, its audit entry and, on publishing a flash sale, its shards
    opened: one transaction."""
    tx.update(promo, actions=actions, condition=condition, label="promotion")
    if entry is not None:
        audit.piece_of(entry).add_to(tx)
    if publishing and promo.kind == "flash_sale":
        for shard in shard_items(promo):
            tx.update(
                FlashShardModel(shard.shard_key),
                actions=[FlashShardModel.open.set(1)],
                condition=FlashShardModel.shard_key.exists(),
                label=f"flash_shard:{shard.shard_key}",
            )


def approve(principal: Principal, promotion_id: str, body: s.ApproveRequest) -> s.Promotion:
    """Record ``principal``'s approval; publish (``active``) once it has the approvals
    it needs. 409 ``not_a_draft``, ``already_approved_by_you``, ``promotion_changed``;
    422 when its window is over (nothing to publish)."""
    p = PromotionModel

    def decide(promo: PromotionModel) -> tuple[list, str, dict, bool]:
        now = clock.now_iso()
        try:
            status, after = approvals.approve(
                status=str(promo.status),
                approvals=[approvals.Approval(a.by, a.at) for a in promo.approvals or []],
                who=principal.subject,
                at=now,
                budget_fen=service.exposure_fen(promo),
                threshold_fen=approval_settings.threshold_fen(),  # head office's setting
            )
        except approvals.Refused as why:
            raise Conflict(why.message, code=why.code) from None
        actions = [
            p.status.set(status),
            p.approvals.set([ApprovalAttribute(by=a.by, at=a.at) for a in after]),
        ]
        state = {
            "status": status,
            "approvals": [a.by for a in after],
            "rejected_reason": promo.rejected_reason,
        }
        action = "promotion.publish" if status == "active" else "promotion.approve"
        return actions, action, state, status == "active"

    return _decide(principal, promotion_id, body.expected_version, decide)


def reject(principal: Principal, promotion_id: str, body: s.RejectRequest) -> s.Promotion:
    """Back to ``draft`` with the reason; its approvals are cleared. 409 ``not_a_draft``."""
    p = PromotionModel

    def decide(promo: PromotionModel) -> tuple[list, str, dict, bool]:
        try:
            status = approvals.reject(str(promo.status))
        except approvals.Refused as why:
            raise Conflict(why.message, code=why.code) from None
        actions = [p.status.set(status), p.approvals.set([]), p.rejected_reason.set(body.reason)]
        after = {"status": status, "approvals": [], "rejected_reason": body.reason}
        return actions, "promotion.reject", after, False

    return _decide(principal, promotion_id, body.expected_version, decide)


# --- clone -----------------------------------------------------------------------------


def _clone_hash(source_id: str, body: Any, campaign_id: str | None) -> str:
    raw = msgspec.json.encode([source_id, msgspec.to_builtins(body), campaign_id])
    return hashlib.sha256(raw).hexdigest()


def clone_model(
    source: PromotionModel,
    new_id: str,
    starts_at: str,
    ends_at: str,
    name: str | None,
    principal: Principal,
    request_hash: str,
    campaign_id: str | None,
) -> PromotionModel:
    """A draft copy of ``source``: same rules, new id and window, no approvals, nothing
    spent (its budget whole again)."""
    copy = PromotionModel.from_raw_data(source.serialize())
    now = clock.now_iso()
    copy.promotion_id = new_id
    copy.name = name or source.name
    copy.starts_at, copy.ends_at = starts_at, ends_at
    copy.ends_key = f"{ends_at}#{new_id}"
    copy.status = "draft"
    copy.approvals = []
    copy.rejected_reason = None
    copy.budget_left_fen = source.budget_fen
    copy.request_hash = request_hash
    copy.created_by = principal.subject
    copy.created_at = copy.updated_at = now
    copy.version = None
    copy.campaign_id = campaign_id
    return copy


def window(starts_at: str, ends_at: str) -> tuple[str, str]:
    """The clone's window in UTC, or 422."""
    errors: list[dict[str, str]] = []
    starts = service._utc(starts_at, "starts_at", errors)
    ends = service._utc(ends_at, "ends_at", errors)
    if not errors and ends <= starts:
        errors.append(field_error("ends_at", "must be after starts_at"))
    if errors:
        raise ValidationFailed("The window is not valid.", details=errors)
    return starts, ends


def clone(principal: Principal, promotion_id: str, body: s.PromotionClone) -> s.Promotion:
    """A draft copy with a new window (and name). The same ``promotion_id`` and body
    again answers the copy already made; another body under that id is 409
    ``promotion_exists``."""
    source = get_promotion(promotion_id)
    starts, ends = window(body.starts_at, body.ends_at)
    digest = _clone_hash(promotion_id, body, source.campaign_id)
    # the copy joins its source's campaign while that is a draft (listed in the same
    # write); a campaign already scheduled or over is not the copy's
    joins = campaign_contents.draft_to_join(source.campaign_id, "promotion_ids", body.promotion_id)
    campaign_id = joins.campaign_id if joins is not None else None
    copy = clone_model(
        source, body.promotion_id, starts, ends, body.name, principal, digest, campaign_id
    )
    return save_clone(principal, copy, promotion_id, "promotion_ids" if joins else None)


def save_clone(
    principal: Principal, copy: PromotionModel, source_id: str, campaign_list: str | None = None
) -> s.Promotion:
    """Write the copy (and a flash sale's closed shards) with its audit entry; a replay
    answers the copy already made."""
    shards = list(shard_items(copy)) if copy.kind == "flash_sale" else []
    entry = audit.new_entry(
        principal,
        "promotion.clone",
        audit.Target("promotion", copy.promotion_id),
        {},
        {"source": source_id, "name": copy.name, "starts_at": copy.starts_at},
        key="create",
    )

    existing = service.save_new(copy, shards, entry, campaign_list)
    if existing is not None:
        return service.view(existing)
    return service.view(copy, remaining=int(copy.quantity) if shards else None)
