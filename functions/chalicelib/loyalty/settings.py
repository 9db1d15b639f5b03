"""Loyalty programme settings: one item per area in ``loyalty_settings`` (this module
reads and writes the "points" area; other parts add theirs), defaults from code.

Every area is read through ``data``: one consistent GetItem, or, inside a memo scope (a
stream batch, a job run: kernel/memo.py), one BatchGetItem of every area on the first
read, the later reads of the scope answered from it (one order.completed event read the
table 7 to 9 times). Writers ``forget(MEMO_KEY)`` once written."""

from __future__ import annotations

import json

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import memo
from chalicelib.loyalty.models import LoyaltySettingsModel
from chalicelib.loyalty.schemas import PointsSettings

POINTS = "points"
# Every area of the table (programme_settings, paid_membership): read together in a memo
# scope. stored_value's settings have their own table (stored_value/models.py).
AREAS = (POINTS, "levels", "checkin", "tasks", "paid_membership")
MEMO_KEY = "loyalty_settings"


def _item(area: str) -> LoyaltySettingsModel | None:
    try:
        return LoyaltySettingsModel.get(area, consistent_read=True)
    except DoesNotExist:
        return None


def data(area: str) -> str | None:
    """An area's settings as stored (JSON), None when head office set none."""
    if not memo.active() or area not in AREAS:
        return None if (item := _item(area)) is None else item.data
    return memo.get(MEMO_KEY, _every_area)[area]


def _every_area() -> dict[str, str | None]:
    # Eventually consistent (half the read units): a batch of events has no "just after
    # head office's PUT" to honour; a change reaches the next batches within a second.
    got = batch_get({LoyaltySettingsModel: [{"area": a} for a in AREAS]}, consistent=False)
    found = {item.area: item.data for item in got.of(LoyaltySettingsModel)}
    return {a: found.get(a) for a in AREAS}


def written() -> None:
    """A writer of any area calls this once written: this scope reads the areas again."""
    memo.forget(MEMO_KEY)


def points_settings() -> PointsSettings:
    """The points rules (one GetItem, or once per memo scope); the defaults when head
    office set none."""
    raw = data(POINTS)
    return PointsSettings() if raw is None else msgspec.json.decode(raw, type=PointsSettings)


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
    try:
        audit.save_settings(
            LoyaltySettingsModel,
            POINTS,
            item,
            msgspec.json.encode(body).decode(),
            principal,
            entry,
            "points",
        )
    finally:
        written()  # also after an error: whether it was written is not known
    return body
