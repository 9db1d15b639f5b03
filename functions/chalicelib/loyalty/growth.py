"""Growth value (成长值) and levels persisted: the growth account, its entries (keyed by
cause), the level history, level-up and birthday gifts and the downgrade review
(loyalty/levels.py holds the rules).

Every change is one TransactWriteItems: the entry (``attribute_not_exists`` on its
cause's key, so a replayed event earns nothing twice), the account's update under its
``version`` (it holds the level and the month buckets; retried on conflict; ``total``
moves by ADD) and, only when the level changes, a ``level:`` history entry and the copy
of the level on the member item (``CustomerModel.level``, the admin list's level filter:
members/ cannot read loyalty's tables, and its ``by_level`` index answers without a scan;
the lowest level is copied at registration)."""

from __future__ import annotations

import functools
import logging
import random
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as day_time
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.db.connection import connection
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict
from chalicelib.loyalty import history as entries_history
from chalicelib.loyalty import levels as rules
from chalicelib.loyalty import programme_schemas as s
from chalicelib.loyalty.models import REVIEW_SHARDS, LoyaltyAccountModel, PointsEntryModel
from chalicelib.loyalty.programme_models import GrowthEntryModel
from chalicelib.loyalty.programme_schemas import Level, LevelsSettings
from chalicelib.loyalty.programme_settings import levels_settings

log = logging.getLogger("daojia.growth")
TZ = ZoneInfo("Asia/Shanghai")  # months and birthdays are the chain's local ones
ATTEMPTS = 8


def _account(customer_id: str, consistent: bool = True) -> LoyaltyAccountModel | None:
    try:
        return LoyaltyAccountModel.get(customer_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def _months(account: LoyaltyAccountModel | None) -> dict[str, int]:
    raw = None if account is None else account.months
    if raw is None:
        return {}
    values = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return {k: int(v) for k, v in values.items()}


def local_today(at: str | None = None) -> date:
    return clock.parse(at or clock.now_iso()).astimezone(TZ).date()


def level_of(account: LoyaltyAccountModel | None, settings: LevelsSettings) -> Level:
    """The member's level from their account (absent: the lowest). A level head office
    has since removed reads as the level the member's growth reaches, not the lowest."""
    if account is None:
        return rules.lowest(settings)
    if account.level not in {lv.code for lv in settings.levels}:
        return rules.level_for(int(account.total or 0), settings)
    return rules.find(account.level, settings)


def account_of(customer_id: str) -> LoyaltyAccountModel | None:
    """The member's growth account, eventually consistent (views)."""
    return _account(customer_id, consistent=False)


def current_level(customer_id: str) -> Level:
    return level_of(_account(customer_id, consistent=False), levels_settings())


def _review_at(at: str) -> str:
    """The first instant of the next local month: when the window moves on."""
    today = local_today(at)
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return clock.iso(datetime.combine(first, day_time(), TZ))


def review_shard(customer_id: str) -> str:
    return f"r{zlib.crc32(customer_id.encode()) % REVIEW_SHARDS}"


# --- one change -------------------------------------------------------------------------
class PieceFailed(Exception):
    """A piece the caller added to the change failed its condition: the caller reads
    again and decides."""


def add_growth(
    customer_id: str,
    delta: int,
    *,
    ref: str,
    kind: str,
    reason: str,
    extra: dict[str, Any] | None = None,
    pieces: Any = None,
) -> bool:
    """Add (or, negative, take back) growth once per ``ref``: True when this call wrote
    it, False when ``ref`` was written before. ``pieces(account) -> [TxPiece]`` joins
    the transaction (a refund's progress on the order's entry). Level-up gifts follow."""
    if delta == 0:
        return False
    settings = levels_settings()
    mirror = True  # False once the member item turned out absent or erased
    for _attempt in range(ATTEMPTS):
        account = _account(customer_id)
        at = clock.now_iso()
        month = rules.month_of(local_today(at))
        old_total = 0 if account is None else int(account.total or 0)
        delta_applied = max(delta, -old_total)  # growth never goes below 0
        total = old_total + delta_applied
        months = rules.add_to_months(_months(account), month, delta_applied)
        old = level_of(account, settings)
        new = rules.level_after_change(old.code, delta_applied, total, months, month, settings)
        version = 0 if account is None else int(account.version or 0)
        m = LoyaltyAccountModel
        actions: list[Any] = [
            m.total.add(delta_applied),
            m.months.set(months),
            m.version.add(1),
            m.updated_at.set(at),
        ]
        changed = new.code != old.code
        member = None
        if changed or account is None or account.level is None:
            actions.append(m.level.set(new.code))
        if changed and mirror:
            # the member item holds the lowest level from registration on
            # (set_initial_level): copy only a real change, not every first growth
            member = member_level_piece(customer_id, new.code, version + 1)
        if changed:
            actions += [m.level_since.set(at), m.notice_level.remove(), m.notice_at.remove()]
        actions += _review_actions(customer_id, account, new, settings, at, changed)
        condition = m.customer_id.does_not_exist() if account is None else m.version == version
        at_ms = clock.now_iso_ms()
        entry = GrowthEntryModel(
            customer_id,
            ref,
            at=at,
            at_key=f"{at_ms}#0#{ref}",
            kind=kind,
            delta=delta_applied,
            total_after=total,
            reason=reason,
            **(extra or {}),
        )
        history = (
            _history(customer_id, old.code, new.code, total, at, reason, at_ms) if changed else None
        )
        extra_pieces: list[TxPiece] = list(pieces(account) if pieces else [])
        if member is not None:
            extra_pieces.append(member)

        build = functools.partial(
            _build,
            customer_id=customer_id,
            entry=entry,
            actions=actions,
            condition=condition,
            history=history,
            pieces=extra_pieces,
        )
        try:
            transact(build)
        except TransactionCancelled as exc:
            if "entry" in exc.failed:
                # its cause was applied before; a crash after that commit may have kept
                # its level-up gift from being issued: make sure (a read when gifted)
                ensure_level_gifts(customer_id)
                return False
            if exc.failed == [MEMBER_LABEL]:
                mirror = False  # no member item to copy the level to (erased): go on
                continue
            if set(exc.failed) - {"account", "history", MEMBER_LABEL}:
                raise PieceFailed(exc.failed) from None
            if exc.failed:
                # another change got there first: read again, after a short random
                # pause so that a crowd of writers (a burst of completions) spreads out
                time.sleep(random.uniform(0, 0.01 * (_attempt + 1)))
                continue
            raise
        if rules.rank(new.code, settings) > rules.rank(old.code, settings):
            ensure_level_gifts(customer_id)
        return True
    raise Conflict("The growth account is busy; try again.", code="growth_account_busy")


# --- one change without a transaction (an order's completion) --------------------------
@dataclass
class Part:
    """One growth entry of a change: ``order:<id>`` or ``task:<task>:<period>``."""

    key: str
    kind: str
    delta: int
    reason: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What a cause does to the account: its entries (the cause's own LAST: it is written
    last, so its presence means the whole change is written), more account actions, and
    JSON-able rewards handed to ``finish`` (task points and records)."""

    parts: list[Part]
    actions: list[Any] = field(default_factory=list)
    rewards: list[Any] = field(default_factory=list)
    condition: Any = None  # more conditions of the update (the points' ones)
    # points entries (attributes by key) written in the same item as the growth entry of
    # that key (an order's completion)
    merged: dict[str, Any] = field(default_factory=dict)


Planner = Callable[[LoyaltyAccountModel | None, str], Plan | None]
Finisher = Callable[[str, list[Any], str], None]


def apply_once(customer_id: str, ref: str, plan: Planner, finish: Finisher) -> bool:
    """Apply the cause ``ref`` once, without a transaction: ONE UpdateItem of the account
    under its ``version`` (total by ADD, the month bucket, the level, ``plan``'s actions,
    and ``growth_last_change``: this change in full), then its writes one by one (entries with
    ``attribute_not_exists``, the level history, ``finish(rewards)``, the member's level
    copy, level-up gifts), the cause's own entry last. Exact: a cause is applied iff it is
    ``growth_last_change`` or its entry exists, because a change writes what its
    predecessor left unwritten (a crash) before it replaces it; a redelivery of the last
    change writes what is missing. ``plan(account, month)`` None: nothing to do.
    True when this call applied it."""
    settings = levels_settings()
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, 0.01 * attempt))  # a crowd of writers spreads out
        account = _account(customer_id)
        last = _last_change(account)
        if last is not None and last["ref"] == ref:
            _complete(customer_id, last, finish)  # a redelivery: write what is missing
            return False
        if account is not None:
            keys = [ref] + ([last["ref"]] if last is not None else [])
            found = _entries_present(customer_id, keys)
            if ref in found:
                return False  # applied before, and completely written
            if last is not None and last["ref"] not in found:
                _complete(customer_id, last, finish)  # a crash left it half written
        at = clock.now_iso()
        month = rules.month_of(local_today(at))
        planned = plan(account, month)
        if planned is None:
            return False
        old_total = 0 if account is None else int(account.total or 0)
        delta = sum(p.delta for p in planned.parts)
        total = old_total + delta
        months = rules.add_to_months(_months(account), month, delta)
        old = level_of(account, settings)
        new = rules.level_after_change(old.code, delta, total, months, month, settings)
        changed = new.code != old.code
        up = rules.rank(new.code, settings) > rules.rank(old.code, settings)
        version = 0 if account is None else int(account.version or 0)
        at_ms = clock.now_iso_ms()
        running = old_total
        entries = []
        for i, p in enumerate(planned.parts):
            running += p.delta
            entries.append([p.key, p.kind, p.delta, running, p.reason, p.extra, i])
        change = {
            "ref": ref,
            "v": version + 1,
            "at": at,
            "ms": at_ms,
            "e": entries,
            "lv": [old.code, new.code, up] if changed else None,
            "r": planned.rewards,
            "m": planned.merged,
        }
        m = LoyaltyAccountModel
        actions: list[Any] = [
            m.total.add(delta),
            m.months.set(months),
            m.version.add(1),
            m.updated_at.set(at),
            m.growth_last_change.set(change),
            *planned.actions,
        ]
        if changed or account is None or account.level is None:
            actions.append(m.level.set(new.code))
        if changed:
            actions += [m.level_since.set(at), m.notice_level.remove(), m.notice_at.remove()]
        actions += _review_actions(customer_id, account, new, settings, at, changed)
        condition = m.customer_id.does_not_exist() if account is None else m.version == version
        if account is not None and planned.condition is not None:
            condition &= planned.condition
        try:
            LoyaltyAccountModel(customer_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            continue  # another change got there first: read again
        _complete(customer_id, change, finish)
        return True
    raise Conflict("The growth account is busy; try again.", code="growth_account_busy")


def _last_change(account: LoyaltyAccountModel | None) -> dict[str, Any] | None:
    if account is None or not account.growth_last_change:
        return None
    return cast(dict[str, Any], account.growth_last_change)


def _entries_present(customer_id: str, keys: list[str]) -> set[str]:
    """Which of the entry keys exist (one BatchGetItem, strongly consistent)."""
    found = GrowthEntryModel.batch_get(
        [(customer_id, k) for k in dict.fromkeys(keys)],
        consistent_read=True,
        attributes_to_get=["customer_id", "entry_key"],
    )
    return {e.entry_key for e in found}


def _complete(customer_id: str, change: dict[str, Any], finish: Finisher) -> None:
    """Write a change's pieces after its account update; each is idempotent (keys fixed
    by the change, ``attribute_not_exists``), the cause's own entry last. An entry whose
    key is in ``change["m"]`` is written as one item with that points entry (an order's
    completion: its earn and its tasks, decisions.md entry 32)."""
    at, at_ms = change["at"], change["ms"]
    entries = change["e"]
    merged = change.get("m") or {}
    total = entries[-1][3] if entries else 0
    lv = change.get("lv")
    for row in entries[:-1]:
        _put_row(customer_id, row, at, at_ms, merged)
    if lv is not None:
        _put_once(
            customer_id,
            f"level:{at_ms}",
            at,
            f"{at_ms}#1#level",
            "level",
            0,
            total,
            entries[-1][4] if entries else "",
            {"level_from": lv[0], "level_to": lv[1]},
        )
    if change.get("r"):
        finish(customer_id, change["r"], at)
    if lv is not None:
        copy_member_level(customer_id, lv[1], int(change["v"]))
        if lv[2]:
            ensure_level_gifts(customer_id)
    if entries:
        _put_row(customer_id, entries[-1], at, at_ms, merged)


def _put_row(customer_id: str, row: list[Any], at: str, at_ms: str, merged: dict[str, Any]) -> None:
    key, kind, delta, total_after, reason, extra, i = row
    # listed newest first: the change's entries in order, then its level change
    _put_once(
        customer_id,
        key,
        at,
        f"{at_ms}#0{i}#{key}",
        kind,
        delta,
        total_after,
        reason,
        extra,
        merged.get(key),
    )


def _put_once(
    customer_id: str,
    key: str,
    at: str,
    at_key: str,
    kind: str,
    delta: int,
    total_after: int,
    reason: str,
    extra: dict[str, Any],
    points: dict[str, Any] | None = None,
) -> None:
    """Put a growth entry once; with ``points`` (a points entry's attributes, the same
    cause) as one item holding both."""
    entry = GrowthEntryModel(
        customer_id,
        key,
        at=at,
        at_key=at_key,
        kind=kind,
        delta=delta,
        total_after=total_after,
        reason=reason,
        **extra,
    )
    if points is not None:
        both = PointsEntryModel(customer_id, key, **points).serialize()
        both.update(entry.serialize())
        _put_item_once(both)
        return
    try:
        entry.save(condition=GrowthEntryModel.entry_key.does_not_exist())
    except PutError as exc:
        if not is_condition_failure(exc):
            raise


def _put_item_once(item: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    try:
        connection().client.put_item(
            TableName=GrowthEntryModel.Meta.table_name,
            Item=item,
            ConditionExpression="attribute_not_exists(entry_key)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def copy_member_level(customer_id: str, code: str, version: int) -> None:
    """The level copied onto the member item after the account's update: only a live
    member (an update must not create a member item, nor put an erased one back in the
    list's index), and only a newer copy than the one there (``level_version``: the
    account's version of the change), so copies arriving out of order keep the last."""
    c = CustomerModel
    try:
        CustomerModel(customer_id).update(
            actions=[c.level.set(code), c.level_version.set(version)],
            condition=c.customer_id.exists()
            & c.erased_at.does_not_exist()
            & (c.level_version.does_not_exist() | (c.level_version < version)),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


def _build(
    tx: Tx,
    customer_id: str,
    entry: GrowthEntryModel,
    actions: list[Any],
    condition: Any,
    history: GrowthEntryModel | None,
    pieces: list[TxPiece],
) -> None:
    tx.save(entry, condition=GrowthEntryModel.entry_key.does_not_exist(), label="entry")
    tx.update(
        LoyaltyAccountModel(customer_id), actions=actions, condition=condition, label="account"
    )
    if history is not None:
        tx.save(history, condition=GrowthEntryModel.entry_key.does_not_exist(), label="history")
    for piece in pieces:
        piece.add_to(tx)


MEMBER_LABEL = "member-level"


def member_level_piece(customer_id: str, code: str, version: int) -> TxPiece:
    """The level copied onto the member item, in the level change's transaction (with the
    account's new ``version``, see copy_member_level). Only a live member: an update must
    not create a member item, nor put an erased one back in the list's index."""
    c = CustomerModel
    return TxPiece(
        CustomerModel(customer_id),
        {
            "actions": [c.level.set(code), c.level_version.set(version)],
            "condition": c.customer_id.exists() & c.erased_at.does_not_exist(),
        },
        MEMBER_LABEL,
    )


def set_initial_level(customer_id: str) -> bool:
    """A new member is at the lowest level before any growth: copy it onto the member
    item unless a level is there already (written by a growth change that came first).
    True when this call wrote it."""
    c = CustomerModel
    try:
        CustomerModel(customer_id).update(
            actions=[c.level.set(rules.lowest(levels_settings()).code)],
            condition=c.customer_id.exists()
            & c.erased_at.does_not_exist()
            & c.level.does_not_exist(),
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
        return False
    return True


def _review_actions(
    customer_id: str,
    account: LoyaltyAccountModel | None,
    level: Level,
    settings: LevelsSettings,
    at: str,
    changed: bool,
) -> list[Any]:
    """Accounts above the lowest level are in the review index while a downgrade rule is
    on (review at the next month's start, or the notice's date)."""
    m = LoyaltyAccountModel
    if settings.downgrade.mode == "none" or rules.rank(level.code, settings) == 0:
        if account is not None and account.review_at is not None:
            return [m.review_at.remove(), m.review_shard.remove()]
        return []
    if not changed and account is not None and account.review_at is not None:
        return []
    return [m.review_shard.set(review_shard(customer_id)), m.review_at.set(_review_at(at))]


def _history(
    customer_id: str, old: str, new: str, total: int, at: str, reason: str, at_ms: str = ""
) -> GrowthEntryModel:
    """A level change; listed after the growth entry that caused it (same instant)."""
    at_ms = at_ms or clock.now_iso_ms()
    return GrowthEntryModel(
        customer_id,
        f"level:{at_ms}",
        at=at,
        at_key=f"{at_ms}#1#level",
        kind="level",
        delta=0,
        total_after=total,
        reason=reason,
        level_from=old,
        level_to=new,
    )


# --- gifts ------------------------------------------------------------------------------
def _issue(template_id: str, customer_id: str, coupon_id: str, source: str) -> bool:
    from chalicelib.coupons.repo import get_template
    from chalicelib.coupons.service import IssueRefused, issue
    from chalicelib.kernel.errors import NotFound

    try:
        _, created = issue(get_template(template_id), customer_id, coupon_id, source)
    except (IssueRefused, NotFound) as err:
        log.warning("no %s coupon %s for %s: %s", source, template_id, customer_id, err)
        return False
    return created


def ensure_level_gifts(customer_id: str) -> list[str]:
    """Issue the level-up gift of every level reached and not yet gifted (coupon ids
    ``<template>:level:<level>:<member>``: once per level, even after a downgrade and a
    new rise), then record the gifted level. A crash between the two only re-runs
    issues that answer their existing coupons."""
    settings = levels_settings()
    account = _account(customer_id)
    if account is None:
        return []
    level = level_of(account, settings)
    gifted = account.gifted_level
    if rules.rank(level.code, settings) <= rules.rank(gifted, settings) and gifted:
        return []
    issued = []
    for lv in rules.levels_between(gifted, level.code, settings):
        if lv.level_up_template_id:
            cid = f"{lv.level_up_template_id}:level:{lv.code}:{customer_id}"
            if _issue(lv.level_up_template_id, customer_id, cid, "level_up"):
                issued.append(cid)
    m = LoyaltyAccountModel
    try:
        LoyaltyAccountModel(customer_id).update(
            actions=[m.gifted_level.set(level.code)],
            condition=m.gifted_level.does_not_exist()
            if gifted is None
            else m.gifted_level == gifted,
        )
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise
    return issued


def birthday_gifts(today: date | None = None) -> int:
    """The daily job: members whose birthday ("MM-DD") is today (local) get their
    level's birthday coupon, once a year (coupon id ``<template>:birthday:<year>:<member>``;
    the account records the year). 02-29 birthdays are celebrated on 02-28 in other
    years. One Query of the sparse by_birthday index per day, no scan."""
    day = today or local_today()
    keys = [f"{day.month:02d}-{day.day:02d}"]
    leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
    if (day.month, day.day) == (2, 28) and not leap:
        keys.append("02-29")
    settings = levels_settings()
    n = 0
    for key in keys:
        for member in CustomerModel.by_birthday.query(key):
            try:
                n += _birthday_gift(member.customer_id, day.year, settings)
            except Exception:
                log.exception("birthday gift of %s failed", member.customer_id)
    return n


def _birthday_gift(customer_id: str, year: int, settings: LevelsSettings) -> int:
    account = _account(customer_id)
    if account is not None and account.birthday_year == str(year):
        return 0
    level = level_of(account, settings)
    created = False
    if level.birthday_template_id:
        cid = f"{level.birthday_template_id}:birthday:{year}:{customer_id}"
        created = _issue(level.birthday_template_id, customer_id, cid, "birthday")
    m = LoyaltyAccountModel
    LoyaltyAccountModel(customer_id).update(actions=[m.birthday_year.set(str(year))])
    return int(created)


# --- the downgrade review ---------------------------------------------------------------
def review_levels(now: str | None = None, limit: int = 500) -> int:
    """The daily job (downgrade rule "recent_growth"): accounts whose review is due
    (sparse index, one Query per shard). A member whose recent growth no longer reaches
    their level gets a notice (seen in GET /members/me/level) ``notice_days`` before;
    at the notice's date, still short, the level falls to what the growth reaches.
    Returns the levels lowered."""
    at = now or clock.now_iso()
    settings = levels_settings()
    lowered = 0
    for shard in range(REVIEW_SHARDS):
        for key in LoyaltyAccountModel.by_review.query(
            f"r{shard}", LoyaltyAccountModel.review_at <= at, limit=limit
        ):
            try:
                lowered += _review(key.customer_id, at, settings)
            except Exception:
                log.exception("level review of %s failed", key.customer_id)
    return lowered


def _review(customer_id: str, at: str, settings: LevelsSettings) -> int:
    account = _account(customer_id)
    if account is None:
        return 0
    m = LoyaltyAccountModel
    version = int(account.version or 0)
    month = rules.month_of(local_today(at))
    current = level_of(account, settings)
    total = int(account.total or 0)
    target = rules.review_target(current.code, total, _months(account), month, settings)
    condition = m.version == version
    if settings.downgrade.mode == "none" or rules.rank(current.code, settings) == 0:
        actions = [
            m.review_at.remove(),
            m.review_shard.remove(),
            m.notice_level.remove(),
            m.notice_at.remove(),
            m.version.add(1),
        ]
        _update(customer_id, actions, condition)
        return 0
    if target.code == current.code:  # still qualifies: look again next month
        actions = [
            m.review_at.set(_review_at(at)),
            m.notice_level.remove(),
            m.notice_at.remove(),
            m.version.add(1),
        ]
        _update(customer_id, actions, condition)
        return 0
    if account.notice_at is None or account.notice_at > at:
        if account.notice_at is None:
            on = clock.iso(clock.parse(at) + timedelta(days=settings.downgrade.notice_days))
            actions = [
                m.notice_level.set(target.code),
                m.notice_at.set(on),
                m.review_at.set(on),
                m.version.add(1),
            ]
            _update(customer_id, actions, condition)
        return 0
    # the notice's date has come and the growth is still short: lower the level
    history = _history(customer_id, current.code, target.code, total, at, "downgrade")
    actions = [
        m.level.set(target.code),
        m.level_since.set(at),
        m.notice_level.remove(),
        m.notice_at.remove(),
        m.version.add(1),
    ]
    if rules.rank(target.code, settings) == 0:
        actions += [m.review_at.remove(), m.review_shard.remove()]
    else:
        actions.append(m.review_at.set(_review_at(at)))

    def build(tx: Tx, mirror: bool = True) -> None:
        tx.update(
            LoyaltyAccountModel(customer_id), actions=actions, condition=condition, label="account"
        )
        tx.save(history, condition=GrowthEntryModel.entry_key.does_not_exist(), label="history")
        if mirror:
            member_level_piece(customer_id, target.code, version + 1).add_to(tx)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed == [MEMBER_LABEL]:  # the member was erased: lower the account alone
            try:
                transact(functools.partial(build, mirror=False))
            except TransactionCancelled as again:
                if again.failed:
                    return 0
                raise
            return 1
        if exc.failed:
            return 0  # changed meanwhile (growth came): the next run looks again
        raise
    return 1


def _update(customer_id: str, actions: list[Any], condition: Any) -> None:
    try:
        LoyaltyAccountModel(customer_id).update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not is_condition_failure(exc):
            raise


# --- the member's view ------------------------------------------------------------------
def step(level: Level) -> s.LevelStep:
    return s.LevelStep(
        code=level.code,
        name=level.name,
        threshold=level.threshold,
        benefits=s.LevelBenefits(
            discount_permille=level.discount_permille,
            points_multiplier=level.points_multiplier,
            free_delivery_min_fen=level.free_delivery_min_fen,
            birthday_template_id=level.birthday_template_id,
            level_up_template_id=level.level_up_template_id,
        ),
    )


def history(customer_id: str, limit: int = 20) -> list[s.GrowthEntry]:
    shown, _ = entries_history.page(GrowthEntryModel, customer_id, None, limit)
    return [entry_view(e) for e in shown]


def entry_view(e: GrowthEntryModel) -> s.GrowthEntry:
    return s.GrowthEntry(
        entry_key=e.entry_key,
        kind=e.kind,  # type: ignore[arg-type]
        delta=int(e.delta or 0),
        total_after=int(e.total_after or 0),
        at=e.at,
        reason=e.reason,
        level_from=e.level_from,
        level_to=e.level_to,
    )


def my_level(customer_id: str, history_limit: int = 20) -> s.MyLevel:
    """Level, benefits, growth, how far to the next level, a pending downgrade notice,
    and the latest history (one GetItem, one Query, the settings)."""
    settings = levels_settings()
    account = _account(customer_id, consistent=False)
    level = level_of(account, settings)
    total = 0 if account is None else int(account.total or 0)
    nxt = rules.next_level(level.code, settings)
    notice = None
    if account is not None and account.notice_level and account.notice_at:
        month = rules.month_of(local_today())
        keep = rules.recent_growth(_months(account), month, settings.downgrade.months)
        notice = s.LevelNotice(
            level_to=account.notice_level,
            on=account.notice_at,
            growth_needed=max(0, level.threshold - keep),
        )
    return s.MyLevel(
        level=step(level),
        growth=total,
        next_level=step(nxt) if nxt else None,
        growth_to_next=max(0, nxt.threshold - total) if nxt else None,
        notice=notice,
        history=history(customer_id, history_limit),
    )


# --- orders -----------------------------------------------------------------------------
def reverse_for_refund(customer_id: str, order_id: str, refund_id: str, refunded_fen: int) -> int:
    """A refund after completion takes back the order's growth on the part refunded,
    cumulative over the order's refunds (from its total ``refunded_fen``), advancing the
    order entry's ``reversed_growth`` in the same transaction. Returns growth taken."""
    for _attempt in range(ATTEMPTS):
        try:
            earned = GrowthEntryModel.get(
                customer_id, order_entry_key(order_id), consistent_read=True
            )
        except DoesNotExist:
            return 0
        if earned.kind is None:
            return 0  # the item has no growth part
        done = int(earned.reversed_growth or 0)
        since = refunded_fen - int(earned.refunded_base_fen or 0)
        want = rules.refund_share(int(earned.delta), since, int(earned.base_fen or 0)) - done
        if want <= 0:
            return 0
        e = GrowthEntryModel
        progress = TxPiece(
            GrowthEntryModel(customer_id, earned.entry_key),
            {
                "actions": [e.reversed_growth.add(want)],
                "condition": (e.reversed_growth == done)
                if done
                else (e.reversed_growth.does_not_exist() | (e.reversed_growth == 0)),
            },
            label="progress",
        )
        try:
            wrote = add_growth(
                customer_id,
                -want,
                ref=f"refund:{refund_id}",
                kind="refund",
                reason="refund",
                extra={"order_id": order_id},
                pieces=lambda _account, p=progress: [p],
            )
        except PieceFailed:
            continue  # another refund of the order advanced it meanwhile
        return want if wrote else 0
    return 0


def order_entry_key(order_id: str) -> str:
    """An order's growth entry: the same item as its points earn (decisions.md 32)."""
    return f"earn:order:{order_id}"


def has_entry(customer_id: str, ref: str) -> bool:
    """Whether the growth part of entry ``ref`` is written."""
    try:
        entry = GrowthEntryModel.get(customer_id, ref, consistent_read=True)
    except DoesNotExist:
        return False
    return entry.kind is not None
