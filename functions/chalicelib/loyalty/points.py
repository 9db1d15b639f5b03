"""Members' points (积分): the interface the other parts call, and the persistence of
the ledger (loyalty/points_ledger.py holds the rules).

Every change is one TransactWriteItems: the account's update and its entries (each
``attribute_not_exists`` on its deterministic key, so a retried cause writes nothing
twice). A change that reads the lots (earn, spend, reversal, adjustment, settling) is
conditional on the account's ``version`` and on ``spendable``/``locked`` being what it
read (a lock piece changes those two without the version), and is retried on conflict;
scalars always move by ADD. A lock is one conditional ADD without a read, to join the
order's placing transaction (issue 14 item 8: placing stays 2 AWS calls).

Every versioned change first applies what time did (``Ledger.settle``: pending lots that
matured, lots that expired), so it never spends expired or pending points.
"""

from __future__ import annotations

import logging
import random
import time as _time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any, cast
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound
from chalicelib.loyalty import history
from chalicelib.loyalty import schemas as s
from chalicelib.loyalty.models import (
    DUE_SHARDS,
    LoyaltyAccountModel,
    PointsEntryModel,
)
from chalicelib.loyalty.points_ledger import Entry, InsufficientPoints, Ledger, Lot
from chalicelib.loyalty.schemas import PointsSettings
from chalicelib.loyalty.settings import points_settings

log = logging.getLogger("daojia.points")
TZ = ZoneInfo("Asia/Shanghai")  # expiries fall at the end of a Shanghai day
ATTEMPTS = 12  # optimistic retries of a versioned change (20 racing writers settle)


class ConflictRetry(Exception):
    """Another change of the same account committed first: read again."""


# --- lots in the account item ----------------------------------------------------------
def encode_lot(lot: Lot) -> str:
    return "|".join(
        [str(lot.left), lot.expires_at, lot.available_at or "", lot.order_id or "", lot.lot_id]
    )


def decode_lot(raw: str) -> Lot:
    left, expires_at, available_at, order_id, lot_id = raw.split("|", 4)
    return Lot(lot_id, int(left), expires_at, available_at or None, order_id or None)


def ledger_of(account: LoyaltyAccountModel | None) -> Ledger:
    if account is None:
        return Ledger()
    return Ledger(
        lots=[decode_lot(x) for x in cast(list[str], account.lots or [])],
        spendable=int(account.spendable or 0),
        pending=int(account.pending or 0),
        locked=int(account.locked or 0),
        debt=int(account.debt or 0),
        locks=_locks(account),
    )


def _locks(account: LoyaltyAccountModel | None) -> dict[str, int]:
    raw = None if account is None else account.locks
    if raw is None:
        return {}
    values = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return {k: int(v) for k, v in values.items()}


def _account(customer_id: str, consistent: bool = True) -> LoyaltyAccountModel | None:
    try:
        return LoyaltyAccountModel.get(customer_id, consistent_read=consistent)
    except DoesNotExist:
        return None


def _holds(attr: Any, value: int) -> Any:
    """``attr == value``; 0 also when absent (an account a growth change created)."""
    return attr == value if value else (attr.does_not_exist() | (attr == 0))


def _lock(order_id: str) -> Any:
    """The path of an order's lock in the account's ``locks`` map (PynamoDB types a map
    element as its value, not as the Path it is)."""
    return cast(Any, LoyaltyAccountModel.locks)[order_id]


def due_shard(customer_id: str) -> str:
    return f"p{zlib.crc32(customer_id.encode()) % DUE_SHARDS}"


# --- expiry -----------------------------------------------------------------------------
def expiry_for(earned_at: str, settings: PointsSettings) -> str:
    """When a lot earned at ``earned_at`` expires: the end of the Shanghai day
    ``expiry_months`` later, or the end of 31 December of the following year."""
    local = clock.parse(earned_at).astimezone(TZ).date()
    if settings.expiry_policy == "end_of_next_year":
        last = date(local.year + 1, 12, 31)
    else:
        month = local.month - 1 + settings.expiry_months
        year, month = local.year + month // 12, month % 12 + 1
        day = min(local.day, _month_days(year, month))
        last = date(year, month, day)
    return clock.iso(datetime.combine(last + timedelta(days=1), time(), TZ))


def _month_days(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


# --- one versioned change ---------------------------------------------------------------
@dataclass
class Change:
    """What an operation did: its entries, and entries' extra attributes by ref."""

    entries: list[Entry]
    extra: dict[str, dict[str, Any]]
    pieces: list[TxPiece]
    # labels of pieces whose failed condition is an answer, not a race to retry (the
    # mall's stock and per-member limit): ``change`` raises PieceRefused naming them
    final: frozenset[str] = frozenset()


Operation = Callable[[Ledger, str], Change | None]


def change(
    customer_id: str, operate: Operation, *, audit_entry: Any = None, once: str | None = None
) -> list[Entry] | None:
    """Read the account, settle it, apply ``operate`` and write account + entries in one
    transaction, retried when another change got there first. Returns the operation's
    entries; None when ``operate`` had nothing to do. Raises ``Replayed`` when the
    operation's first entry exists already (its cause was applied before).

    ``once=<ref>`` (an earn: one entry of its own, no pieces): no transaction. The
    account's UpdateItem (same conditions) records the change in ``last_change``, then
    the entries are put one by one, the cause's own last. ``ref`` is applied iff it is
    ``last_change`` or its entry exists: before replacing ``last_change`` a change puts
    what a crash left of it (decisions.md entry 28)."""
    for attempt in range(ATTEMPTS):
        if attempt:
            _time.sleep(random.uniform(0, 0.005 * attempt))  # spread the retries
        account = _account(customer_id)
        if once is not None:
            _check_once(customer_id, account, once)
        ledger = ledger_of(account)
        before = (ledger.spendable, ledger.pending, ledger.locked, ledger.debt, ledger.net)
        at = clock.now_iso()
        version = 0 if account is None else int(account.version or 0)
        settled = ledger.settle(at, tag=f"v{version + 1}")
        done = operate(ledger, at)
        due_unchanged = account is None or account.next_due_at == ledger.next_due(at)
        # a lot that matured moves points without an entry of its own
        moved = before[:4] != (ledger.spendable, ledger.pending, ledger.locked, ledger.debt)
        if done is None and not settled and not moved and due_unchanged:
            return None
        done = done or Change([], {}, [])
        try:
            _write(
                customer_id, account, version, before, ledger, settled, done, at, audit_entry, once
            )
        except ConflictRetry:
            continue
        return done.entries
    raise Conflict("The points account is busy; try again.", code="points_account_busy")


class Replayed(Exception):
    """The change's entry exists already: it was applied before."""


def _check_once(customer_id: str, account: LoyaltyAccountModel | None, ref: str) -> None:
    """Raise Replayed when ``ref`` was applied (writing what a crash left of it); write
    what a crash left of the account's last change before it is replaced."""
    last = None if account is None else cast(dict[str, Any] | None, account.last_change)
    if last is not None and last["ref"] == ref:
        _complete(customer_id, last)
        raise Replayed()
    keys = [ref] + ([last["ref"]] if last is not None else [])
    found = {
        e.entry_key
        for e in PointsEntryModel.batch_get(
            [(customer_id, k) for k in keys],
            consistent_read=True,
            attributes_to_get=["customer_id", "entry_key"],
        )
    }
    if ref in found:
        raise Replayed()
    if last is not None and last["ref"] not in found:
        _complete(customer_id, last)


def _complete(customer_id: str, last: dict[str, Any]) -> None:
    """Put a change's entries (each ``attribute_not_exists``), the cause's own last."""
    for ref, attrs in last["e"]:
        try:
            PointsEntryModel(customer_id, ref, at=last["at"], **attrs).save(
                condition=PointsEntryModel.entry_key.does_not_exist()
            )
        except PutError as exc:
            if not is_condition_failure(exc):
                raise


class PieceRefused(Exception):
    """A piece in ``Change.final`` failed its condition: nothing was written."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(f"refused by {labels}")
        self.labels = labels


@dataclass
class AccountUpdate:
    """A points change as one UpdateItem of the account: its actions, its condition, the
    entries to put (``rows``: [ref, attributes], the record a crash is healed from)."""

    actions: list[Any]
    condition: Any
    rows: list[list[Any]]


def _account_update(
    customer_id: str,
    account: LoyaltyAccountModel | None,
    version: int,
    before: tuple[int, int, int, int, int],
    ledger: Ledger,
    entries: list[Entry],
    extra: dict[str, dict[str, Any]],
    at: str,
    *,
    bump: bool = True,
) -> AccountUpdate:
    """``ledger`` (changed from the account as read) as the account's update. ``bump``
    False: the caller's own actions bump ``version`` and set ``updated_at`` (a growth
    change made in the same UpdateItem, loyalty/tasks.on_order_completed)."""
    spendable, pending, locked, debt, net = before
    m = LoyaltyAccountModel
    due = ledger.next_due(at)
    actions: list[Any] = [m.lots.set([encode_lot(x) for x in ledger.lots])]
    if bump:
        actions += [m.version.add(1), m.updated_at.set(at)]
    for attr, old, new in (
        (m.spendable, spendable, ledger.spendable),
        (m.pending, pending, ledger.pending),
        (m.locked, locked, ledger.locked),
        (m.debt, debt, ledger.debt),
    ):
        actions.append(attr.add(new - old))
    if due is None:
        actions += [m.next_due_at.remove(), m.due_shard.remove()]
    else:
        actions += [m.next_due_at.set(due), m.due_shard.set(due_shard(customer_id))]
    gone = set(_locks(account)) - set(ledger.locks)
    actions += [_lock(o).remove() for o in sorted(gone)]
    if not gone:
        # lock pieces SET locks.<order>: the map must exist (the account may have been
        # created by a growth change, which has no points attributes)
        actions.append(m.locks.set(cast(Any, m.locks) | {}))
    if account is None:
        condition = m.customer_id.does_not_exist()
    else:
        condition = (
            (m.version == version) & _holds(m.spendable, spendable) & _holds(m.locked, locked)
        )
        for o in sorted(gone):
            condition &= _lock(o).exists()
    rows: list[list[Any]] = []
    running = net
    for i, e in enumerate(entries):
        running += e.delta
        at_ms = clock.now_iso_ms()
        attrs = {
            "at_key": f"{at_ms}#{i:03d}#{e.ref}",
            "kind": e.kind,
            "delta": e.delta,
            "debt": e.debt,
            "balance_after": running,
            "lots": [f"{lot}={n}" for lot, n in e.lots],
            "order_id": e.order_id,
            "expires_at": e.expires_at,
            "available_at": e.available_at,
            "reason": e.reason,
            **extra.get(e.ref, {}),
        }
        rows.append([e.ref, {k: v for k, v in attrs.items() if v is not None}])
    return AccountUpdate(actions, condition, rows)


@dataclass
class Earn:
    """Points to earn as a new lot of their own, keyed ``ref``."""

    ref: str
    points: int
    kind: str
    reason: str
    occurred_at: str  # the expiry and the pending period count from here
    pending_days: int = 0
    order_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def earn_update(
    customer_id: str,
    account: LoyaltyAccountModel | None,
    earns: list[Earn],
    at: str,
    settings: PointsSettings,
) -> AccountUpdate | None:
    """Earning ``earns`` on the account as read (settled first), as actions to join
    another change's UpdateItem (no ``version`` bump: the caller's) and the entries
    the caller puts after it (``complete_rows``). None: nothing to earn."""
    earns = [e for e in earns if e.points > 0]
    if not earns:
        return None
    ledger = ledger_of(account)
    before = (ledger.spendable, ledger.pending, ledger.locked, ledger.debt, ledger.net)
    version = 0 if account is None else int(account.version or 0)
    settled = ledger.settle(at, tag=f"v{version + 1}")
    entries = settled + [
        ledger.earn(
            e.ref,
            e.points,
            at,
            expiry_for(e.occurred_at, settings),
            available_at=_available_at(e.occurred_at, e.pending_days),
            order_id=e.order_id,
            kind=e.kind,
            reason=e.reason,
        )
        for e in earns
    ]
    extra = {e.ref: e.extra for e in earns}
    return _account_update(
        customer_id, account, version, before, ledger, entries, extra, at, bump=False
    )


def complete_rows(customer_id: str, at: str, rows: list[list[Any]]) -> None:
    """Put the entries of an update made elsewhere (``earn_update``), each once."""
    _complete(customer_id, {"at": at, "e": rows})


def _available_at(occurred_at: str, pending_days: int) -> str | None:
    if not pending_days:
        return None
    return clock.iso(clock.parse(occurred_at) + timedelta(days=pending_days))


def _write(
    customer_id: str,
    account: LoyaltyAccountModel | None,
    version: int,
    before: tuple[int, int, int, int, int],
    ledger: Ledger,
    settled: list[Entry],
    done: Change,
    at: str,
    audit_entry: Any,
    once: str | None = None,
) -> None:
    update = _account_update(
        customer_id, account, version, before, ledger, settled + done.entries, done.extra, at
    )
    actions, condition, rows = update.actions, update.condition, update.rows
    m = LoyaltyAccountModel
    models = [
        (f"entry:{i}", PointsEntryModel(customer_id, ref, at=at, **attrs))
        for i, (ref, attrs) in enumerate(rows)
    ]
    first_own = f"entry:{len(settled)}" if done.entries else None
    if once is not None and not done.pieces and audit_entry is None:
        record = {"ref": once, "at": at, "e": rows}
        actions.append(m.last_change.set(record))
        try:
            LoyaltyAccountModel(customer_id).update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
            raise ConflictRetry() from None
        _complete(customer_id, record)
        return

    def build(tx: Tx) -> None:
        tx.update(
            LoyaltyAccountModel(customer_id), actions=actions, condition=condition, label="account"
        )
        for label, item in models:
            tx.save(item, condition=PointsEntryModel.entry_key.does_not_exist(), label=label)
        for piece in done.pieces:
            piece.add_to(tx)
        audit.with_entry(tx, audit_entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if first_own is not None and first_own in exc.failed:
            raise Replayed() from None
        refused = [x for x in exc.failed if x in done.final]
        if refused:
            raise PieceRefused(refused) from None
        if exc.failed or "TransactionConflict" in exc.codes:
            raise ConflictRetry() from None
        raise


# --- the interface ----------------------------------------------------------------------
def order_points(kept_fen: int, points_per_yuan: int, multiplier: float | Fraction) -> int:
    """``floor(kept fen × points per yuan / 100 × level multiplier)``, exact (no float
    rounding: the multiplier is taken as its decimal text, 1.5 not 1.4999...)."""
    if kept_fen <= 0:
        return 0
    exact = multiplier if isinstance(multiplier, Fraction) else Fraction(str(multiplier))
    return int(Fraction(kept_fen * points_per_yuan, 100) * exact)


def award(
    customer_id: str,
    points: int,
    *,
    ref: str,
    kind: str,
    reason: str,
    occurred_at: str,
    pending_days: int = 0,
    order_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Earn ``points`` as a new lot (expiry from the settings' policy, pending for
    ``pending_days`` after ``occurred_at``). Idempotent by ``ref``: True when this call
    earned them, False when ``ref`` had earned them already."""
    if points <= 0:
        return False
    settings = points_settings()
    expires_at = expiry_for(occurred_at, settings)
    available_at = _available_at(occurred_at, pending_days)

    def operate(ledger: Ledger, at: str) -> Change:
        entry = ledger.earn(
            ref,
            points,
            at,
            expires_at,
            available_at=available_at,
            order_id=order_id,
            kind=kind,
            reason=reason,
        )
        return Change([entry], {ref: extra or {}}, [])

    try:
        change(customer_id, operate, once=ref)
    except Replayed:
        return False
    return True


def _member_or_404(customer_id: str) -> None:
    try:
        CustomerModel.get(customer_id)
    except DoesNotExist:
        raise NotFound(f"No member {customer_id!r}.", code="member_not_found") from None


def adjust(
    principal: Principal, customer_id: str, delta: int, reason: str, request_id: str
) -> s.PointsEntry:
    """Head office adds or takes points, with a reason, audited in the same transaction.
    A deduction takes spendable points; beyond them it makes debt only when the settings
    allow it, else 409 ``insufficient_points`` (details: the spendable points). The same
    ``request_id`` again answers the entry already written."""
    _member_or_404(customer_id)
    ref = f"adjust:{request_id}"
    existing = _entry(customer_id, ref)
    if existing is not None:
        return _replay(existing, delta, reason)
    settings = points_settings()
    entry = audit.new_entry(
        principal,
        "points.adjust",
        audit.Target("member", customer_id),
        {},
        {"delta": delta, "reason": reason},
        key=request_id,
    )

    def operate(ledger: Ledger, at: str) -> Change:
        if delta > 0:
            e = ledger.earn(ref, delta, at, expiry_for(at, settings), kind="adjust", reason=reason)
        else:
            e = ledger.take_back(
                ref,
                -delta,
                at,
                kind="adjust",
                allow_debt=settings.allow_negative_adjustments,
                reason=reason,
            )
        return Change([e], {ref: {"actor": principal.subject}}, [])

    try:
        change(customer_id, operate, audit_entry=entry)
    except InsufficientPoints as exc:
        raise Conflict(
            f"The member has {exc.spendable} spendable points; {exc.wanted} cannot be taken.",
            code="insufficient_points",
            details={"spendable": exc.spendable},
        ) from None
    except Replayed:
        pass
    stored = _entry(customer_id, ref)
    assert stored is not None
    return _replay(stored, delta, reason)


def _replay(entry: PointsEntryModel, delta: int, reason: str) -> s.PointsEntry:
    if int(entry.delta) != delta or entry.reason != reason:
        raise Conflict(
            "This request_id was used for a different adjustment.", code="request_id_reused"
        )
    return entry_view(entry, admin=True)


def settled(account: LoyaltyAccountModel | None, at: str | None = None) -> Ledger:
    """The account's points as of now: what time did (pending lots matured, lots
    expired) applied in memory. Maturing is never written on its own (decisions.md
    entry 32): the next change of the account writes it."""
    ledger = ledger_of(account)
    ledger.settle(at or clock.now_iso(), tag="now")
    return ledger


def needs_settle(account: LoyaltyAccountModel | None) -> bool:
    """Whether the account as written holds fewer spendable points than it has now (a
    lot matured since its last change): a lock piece's condition reads the written
    ``spendable``, so a change writes that first (``settle_now``)."""
    if account is None:
        return False
    ledger = ledger_of(account)
    before = (ledger.spendable, ledger.pending, ledger.locked, ledger.debt)
    ledger.settle(clock.now_iso(), tag="now")
    return before != (ledger.spendable, ledger.pending, ledger.locked, ledger.debt)


def settle_now(customer_id: str) -> None:
    """Write what time did to the account (a versioned change with nothing else)."""
    change(customer_id, lambda _ledger, _at: None)


def balance(customer_id: str) -> s.PointsBalance:
    """The member's points now (one GetItem; matured and expired lots settled in
    memory)."""
    account = _account(customer_id, consistent=False)
    ledger = settled(account)
    nxt = ledger.next_expiry(clock.now_iso())
    return s.PointsBalance(
        customer_id=customer_id,
        spendable=ledger.spendable,
        pending=ledger.pending,
        locked=ledger.locked,
        debt=ledger.debt,
        balance=ledger.net,
        next_expiry_at=nxt[0] if nxt else None,
        next_expiry_points=nxt[1] if nxt else 0,
    )


def entries(
    customer_id: str, cursor: str | None, limit: int, *, admin: bool = False
) -> s.EntriesPage:
    """The member's entries, newest first, ``limit`` per page (loyalty/history.py)."""
    shown, nxt = history.page(PointsEntryModel, customer_id, cursor, limit)
    return s.EntriesPage(items=[entry_view(x, admin=admin) for x in shown], cursor=nxt)


def entry_view(e: PointsEntryModel, *, admin: bool = False) -> s.PointsEntry:
    lots = []
    for raw in e.lots or []:
        lot_id, _, n = raw.rpartition("=")
        lots.append(s.LotUse(lot_id=lot_id, points=int(n)))
    return s.PointsEntry(
        entry_key=e.entry_key,
        kind=e.kind,  # type: ignore[arg-type]
        delta=int(e.delta),
        debt=int(e.debt or 0),
        balance_after=int(e.balance_after),
        at=e.at,
        reason=e.reason,
        order_id=e.order_id,
        expires_at=e.expires_at,
        available_at=e.available_at,
        lots=lots,
        actor=e.actor if admin else None,
    )


def has_entry(customer_id: str, ref: str) -> bool:
    return _entry(customer_id, ref) is not None


def _entry(customer_id: str, ref: str) -> PointsEntryModel | None:
    """The points entry ``ref``; None also for an item with a growth part only (an
    order that earned no points: the entries table is shared, decisions.md entry 32)."""
    try:
        entry = PointsEntryModel.get(customer_id, ref, consistent_read=True)
    except DoesNotExist:
        return None
    return entry if entry.kind is not None else None


# --- spending with an order (the checkout engineer's pieces) -----------------------------
def lock_piece(customer_id: str, points: int, order_id: str) -> TxPiece:
    """The order holds ``points`` of the member: a piece of the placing transaction (no
    read, no version). Fails (label ``points``) when fewer are spendable or the order
    holds points already."""
    m = LoyaltyAccountModel
    return TxPiece(
        LoyaltyAccountModel(customer_id),
        {
            "actions": [
                m.spendable.add(-points),
                m.locked.add(points),
                _lock(order_id).set(points),
            ],
            "condition": (m.spendable >= points) & _lock(order_id).does_not_exist(),
        },
        label="points",
    )


def release_piece(customer_id: str, points: int, order_id: str, at: str) -> TxPiece:
    """The unpaid order was cancelled or expired: its points are free again. Sets the
    account due now, so the settling job repays debt from them or expires what the lock
    kept from expiring."""
    m = LoyaltyAccountModel
    return TxPiece(
        LoyaltyAccountModel(customer_id),
        {
            "actions": [
                m.spendable.add(points),
                m.locked.add(-points),
                _lock(order_id).remove(),
                m.next_due_at.set(at),
                m.due_shard.set(due_shard(customer_id)),
            ],
            "condition": _lock(order_id) == points,
        },
        label="points",
    )


def release(customer_id: str, order_id: str) -> int:
    """Release the order's lock on its own (cancelled/expired subscribers); 0 if none."""
    account = _account(customer_id)
    held = ledger_of(account).locks.get(order_id)
    if not held:
        return 0
    try:
        transact(lambda tx: release_piece(customer_id, held, order_id, clock.now_iso()).add_to(tx))
    except TransactionCancelled as exc:
        if "points" in exc.failed:
            return 0  # released or consumed meanwhile
        raise
    return held


def consume(customer_id: str, order_id: str) -> bool:
    """The order was paid: the points it holds are spent (entry ``spend:order:<id>``,
    naming the lots used, oldest-expiring first). Idempotent: False when nothing is
    held for the order any more."""

    if order_id not in _locks(_account(customer_id, consistent=False)):
        return False  # most paid orders locked no points: one read, no write

    def operate(ledger: Ledger, at: str) -> Change | None:
        expiries = {lot.lot_id: lot.expires_at for lot in ledger.lots}
        e = ledger.consume(f"spend:order:{order_id}", order_id, at)
        if e is None:
            return None
        latest = max((expiries.get(lot, "") for lot, _ in e.lots), default="") or None
        return Change([e], {e.ref: {"expires_at": latest, "returned_points": 0}}, [])

    try:
        return bool(change(customer_id, operate))
    except Replayed:
        return False


# --- refunds -----------------------------------------------------------------------------
def reverse_for_refund(
    customer_id: str,
    order_id: str,
    refund_id: str,
    order_paid_fen: int,
    order_refunded_fen: int,
) -> list[Entry]:
    """After a refund of a completed order: take back the points earned on the part
    refunded (in proportion, exact over all refunds) and give back the points spent on
    it. Works from the order's cumulative ``refunded_fen``, so refunds handled in any
    order, or twice, reverse exactly their share; nothing to do answers []."""
    settings = points_settings()

    def operate(ledger: Ledger, at: str) -> Change | None:
        # read on every attempt: another refund may have advanced these meanwhile
        earn = _entry(customer_id, f"earn:order:{order_id}")
        spend = _entry(customer_id, f"spend:order:{order_id}")
        want_reverse = want_return = 0
        pieces: list[TxPiece] = []
        if earn is not None and earn.base_fen:
            since = order_refunded_fen - int(earn.refunded_base_fen or 0)
            done = int(earn.reversed_points or 0)
            want_reverse = _share(int(earn.delta), since, int(earn.base_fen)) - done
            if want_reverse > 0:
                pieces.append(_progress(earn, "reversed_points", done, want_reverse))
        if spend is not None and order_paid_fen > 0:
            done = int(spend.returned_points or 0)
            want_return = _share(-int(spend.delta), order_refunded_fen, order_paid_fen) - done
            if want_return > 0:
                pieces.append(_progress(spend, "returned_points", done, want_return))
        out = []
        if want_reverse > 0:
            out.append(
                ledger.take_back(
                    f"reverse:refund:{refund_id}",
                    want_reverse,
                    at,
                    order_id=order_id,
                    reason="退款",
                )
            )
        if want_return > 0:
            expires_at = (spend.expires_at if spend else None) or expiry_for(at, settings)
            out.append(
                ledger.earn(
                    f"return:refund:{refund_id}",
                    want_return,
                    at,
                    expires_at,
                    kind="return",
                    order_id=order_id,
                    reason="退款",
                )
            )
        return Change(out, {}, pieces) if out else None

    try:
        return change(customer_id, operate) or []
    except Replayed:
        return []


def _share(total: int, part: int, whole: int) -> int:
    from chalicelib.loyalty.points_ledger import proportional_share

    return proportional_share(total, 0, part, whole)


def _progress(entry: PointsEntryModel, attr: str, done: int, more: int) -> TxPiece:
    """Advance an order's earn/spend entry by what this refund reverses, on condition
    that no other refund advanced it meanwhile (the transaction is retried then)."""
    path = getattr(PointsEntryModel, attr)
    condition = (path == done) if done else (path.does_not_exist() | (path == 0))
    return TxPiece(
        PointsEntryModel(entry.customer_id, entry.entry_key),
        {"actions": [path.add(more)], "condition": condition},
        label=f"progress:{attr}",
    )


# --- the settling job --------------------------------------------------------------------
def settle_due(now: str | None = None, limit: int = 500) -> int:
    """Mature pending lots and expire lots due, for the accounts whose ``next_due_at``
    has come (the sparse index, one Query per shard, no scan). Returns accounts settled."""
    at = now or clock.now_iso()
    n = 0
    for shard in range(DUE_SHARDS):
        for key in LoyaltyAccountModel.by_due.query(
            f"p{shard}", LoyaltyAccountModel.next_due_at <= at, limit=limit
        ):
            try:
                change(key.customer_id, lambda _ledger, _at: None)
                n += 1
            except Exception:
                log.exception("settling points of %s failed", key.customer_id)
    return n


def export_data(customer_id: str) -> dict[str, Any]:
    """The member's points for their data export (PIPL Art. 45): balance and every entry."""
    import msgspec

    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = entries(customer_id, cursor, 100)
        items += [msgspec.to_builtins(x) for x in page.items]
        cursor = page.cursor
        if not cursor:
            break
    return {"balance": msgspec.to_builtins(balance(customer_id)), "entries": items}
