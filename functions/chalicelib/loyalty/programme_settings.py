"""Head office's settings of levels, check-in and tasks: the "levels", "checkin" and
"tasks" items of ``loyalty_settings`` (one GetItem each, or all areas once per memo
scope: settings.data; defaults from code), replaced by an audited, version-conditioned
write."""

from __future__ import annotations

import json
from typing import TypeVar

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.loyalty import settings as stored
from chalicelib.loyalty.models import LoyaltySettingsModel
from chalicelib.loyalty.programme_schemas import CheckinSettings, LevelsSettings, TasksSettings

LEVELS, CHECKIN, TASKS = "levels", "checkin", "tasks"
S = TypeVar("S", bound=msgspec.Struct)  # an area's settings Struct


def _item(area: str) -> LoyaltySettingsModel | None:
    try:
        return LoyaltySettingsModel.get(area, consistent_read=True)
    except DoesNotExist:
        return None


def read(area: str, kind: type[S]) -> S:
    raw = stored.data(area)
    return kind() if raw is None else msgspec.json.decode(raw, type=kind)


def levels_settings() -> LevelsSettings:
    return read(LEVELS, LevelsSettings)


def levels_settings_of(item: LoyaltySettingsModel | None) -> LevelsSettings:
    """The levels settings in an item read elsewhere (checkout reads it with the cart)."""
    return LevelsSettings() if item is None else msgspec.json.decode(item.data, type=LevelsSettings)


def checkin_settings() -> CheckinSettings:
    return read(CHECKIN, CheckinSettings)


def tasks_settings() -> TasksSettings:
    return read(TASKS, TasksSettings)


def put(principal: Principal, area: str, body: S, action: str | None = None) -> S:
    """Replace an area's settings, audited (as ``action``, by default
    ``loyalty.<area>_settings``) in the same transaction; a concurrent edit makes this one
    409 ``settings_changed`` (version condition) instead of lost."""
    item = _item(area)
    before = {} if item is None else json.loads(item.data)
    entry = audit.new_entry(
        principal,
        action or f"loyalty.{area}_settings",
        audit.Target("loyalty_settings", area),
        before,
        msgspec.to_builtins(body),
    )
    if entry is None and item is not None:
        return body
    try:
        audit.save_settings(
            LoyaltySettingsModel,
            area,
            item,
            msgspec.json.encode(body).decode(),
            principal,
            entry,
            area,
        )
    finally:
        stored.written()  # also after an error: whether it was written is not known
    return body
