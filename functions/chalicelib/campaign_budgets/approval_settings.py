"""The two-approver threshold as a head-office setting (issue 18 item 5; docs/promotions.md,
"Draft, approval and simulation"): one item ("approvals") in ``marketing_settings``,
versioned and audited like the loyalty programme's settings; absent, the deployment's
``DAOJIA_TWO_APPROVERS_ABOVE_FEN`` (kernel/config.py) applies.

Read only on admin paths: an approval reads it consistently (the rule that publishes);
views (``approvals_needed`` in lists) use a copy kept VIEW_CACHE_S in this container,
dropped when this container writes it. Checkout never reads it."""

from __future__ import annotations

import json
import time

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets import schemas as s
from chalicelib.campaign_budgets.models import MarketingSettingsModel
from chalicelib.kernel import config
from chalicelib.kernel.errors import Conflict

AREA = "approvals"
VIEW_CACHE_S = 30.0
_view_cache: tuple[float, int] | None = None


def _item() -> MarketingSettingsModel | None:
    try:
        return MarketingSettingsModel.get(AREA, consistent_read=True)
    except DoesNotExist:
        return None


def _threshold_of(item: MarketingSettingsModel | None) -> int:
    if item is None:
        return config.TWO_APPROVERS_ABOVE_FEN
    return int(json.loads(item.data)["two_approvers_above_fen"])


def threshold_fen() -> int:
    """The threshold now (one consistent GetItem): what an approval is judged by."""
    global _view_cache
    value = _threshold_of(_item())
    _view_cache = (time.monotonic(), value)
    return value


def threshold_for_views() -> int:
    """The threshold for ``approvals_needed`` in views (at most VIEW_CACHE_S old)."""
    cached = _view_cache
    if cached is not None and time.monotonic() - cached[0] < VIEW_CACHE_S:
        return cached[1]
    return threshold_fen()


def forget() -> None:
    global _view_cache
    _view_cache = None


def _out(item: MarketingSettingsModel | None) -> s.ApprovalSettingsOut:
    return s.ApprovalSettingsOut(
        two_approvers_above_fen=_threshold_of(item),
        default_fen=config.TWO_APPROVERS_ABOVE_FEN,
        is_default=item is None,
        version=0 if item is None else int(item.version),
        updated_at=None if item is None else item.updated_at,
        updated_by=None if item is None else item.updated_by,
    )


def get(principal: Principal) -> s.ApprovalSettingsOut:
    return _out(_item())


def put(principal: Principal, body: s.ApprovalSettings) -> s.ApprovalSettingsOut:
    """Set the threshold, audited in the same transaction; with ``expected_version`` (or
    when someone wrote between this read and write) a concurrent change is a 409
    ``settings_changed``, never lost. Drafts already approved keep their status; the
    next approval of any draft is judged by the new threshold."""
    item = _item()
    version = 0 if item is None else int(item.version)
    if body.expected_version is not None and body.expected_version != version:
        raise Conflict(
            "The approval settings were changed meanwhile; reload them and try again.",
            code="settings_changed",
            details={"version": version},
        )
    before = {"two_approvers_above_fen": _threshold_of(item)}
    after = {"two_approvers_above_fen": body.two_approvers_above_fen}
    entry = audit.new_entry(
        principal,
        "marketing.approval_settings",
        audit.Target("marketing_settings", AREA),
        before,
        after,
    )
    if entry is None and item is not None:
        return _out(item)  # nothing changed
    try:
        new = audit.save_settings(
            MarketingSettingsModel,
            AREA,
            item,
            msgspec.json.encode(after).decode(),
            principal,
            entry,
            "approval",
        )
    finally:
        forget()
    return _out(new)
