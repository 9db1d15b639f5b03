"""Loyalty programme settings: one item per area in ``loyalty_settings`` (this module
reads and writes the "points" area; other parts add theirs), defaults from code."""

from __future__ import annotations

import json

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict
from chalicelib.loyalty.models import LoyaltySettingsModel
from chalicelib.loyalty.schemas import PointsSettings

POINTS = "points"


def _item(area: str) -> LoyaltySettingsModel | None:
    try:
        return LoyaltySettingsModel.get(area, consistent_read=True)
    except DoesNotExist:
        return None


def points_settings() -> PointsSettings:
    """The points rules (one GetItem); the defaults when head office set none."""
    return points_settings_of(_item(POINTS))


def points_settings_of(item: LoyaltySettingsModel | None) -> PointsSettings:
    """The points rules in an item read elsewhere (checkout reads it with the cart)."""
    if item is None:
        return PointsSettings()
    return msgspec.json.decode(item.data, type=PointsSettings)


def put_points_settings(principal: Principal, body: PointsSettings) -> PointsSettings:
    """Replace the points rules, audited in the same transaction; a concurrent edit
    makes this one fail with 409 (version condition) rather than lose one silently."""
    item = _item(POINTS)
    before = {} if item is None else json.loads(item.data)
    after = msgspec.to_builtins(body)
    entry = audit.new_entry(
        principal,
        "loyalty.points_settings",
        audit.Target("loyalty_settings", POINTS),
        before,
        after,
    )
    if entry is None and item is not None:
        return body  # nothing changed
    version = 0 if item is None else int(item.version)
    new = LoyaltySettingsModel(
        POINTS,
        data=msgspec.json.encode(body).decode(),
        version=version + 1,
        updated_at=clock.now_iso(),
        updated_by=principal.subject,
    )
    condition = (
        LoyaltySettingsModel.area.does_not_exist()
        if item is None
        else LoyaltySettingsModel.version == version
    )
    try:
        transact(
            lambda tx: audit.with_entry(
                tx, entry, tx.save(new, condition=condition, label="settings")
            )
        )
    except TransactionCancelled as exc:
        if "settings" in exc.failed:
            raise Conflict(
                "The points settings were changed meanwhile; reload them and try again.",
                code="settings_changed",
            ) from None
        raise
    return body
