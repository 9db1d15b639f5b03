"""The points ledger as plain Python (no AWS): lots, spending, locks, reversal, expiry,
debt. loyalty/points.py loads an account item into a ``Ledger``, applies one operation
and writes the account and the entries the operation returned in one transaction.

An account is:

- ``lots``: earned points not yet spent, each with its own expiry (``expires_at``) and an
  optional ``available_at`` before which it is *pending* (an order's points wait N days
  so a return can still take them back before they are spent);
- ``spendable``: matured points not held by a lock; ``locked``: points an unpaid order
  holds (``locks``: order id -> points); ``pending``: points of pending lots;
- ``debt``: points taken back (refund reversal, head-office adjustment) that were already
  spent. It is never clamped to zero: future points repay it before they can be spent.

Invariants (tests/unit/test_points_ledger_properties.py):
``sum(left of matured lots) == spendable + locked``, ``sum(left of pending lots) ==
pending``, and the net balance ``spendable + locked + pending - debt`` equals the sum
of every entry's ``delta``: nothing is created or lost.

Times are UTC ISO-8601 strings of one format (``kernel.clock.iso``), so they compare as
strings. Spending takes the oldest-expiring lots first (then by lot id).

Locks and expiry: a lock is taken without reading the lots (one conditional ADD in the
order's transaction), so it holds "points", not lots. When a lot expires while locks
hold points, only what is not held expires (``min(lot, spendable)``); the held rest stays
until the lock resolves: paying consumes it first (it is the oldest-expiring), a release
makes it free and the next settle expires it. Expiring points an unpaid order holds would
make its payment fail for a reason the customer could not see when they placed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


class InsufficientPoints(Exception):
    """Fewer spendable points than asked for; ``spendable`` says how many there are."""

    def __init__(self, spendable: int, wanted: int) -> None:
        super().__init__(f"{wanted} points wanted, {spendable} spendable")
        self.spendable = spendable
        self.wanted = wanted


@dataclass
class Lot:
    lot_id: str  # the ref of the entry that earned it (merged lots keep the first)
    left: int
    expires_at: str
    available_at: str | None = None  # pending until then (None: available at once)
    order_id: str | None = None  # the order that earned it, while pending

    def pending_at(self, at: str) -> bool:
        return self.available_at is not None and self.available_at > at


@dataclass(frozen=True)
class Entry:
    """One line of a member's points history. ``delta`` is the change of the net balance
    (earn +, spend/reverse/expire -, mature 0); ``lots`` names the lots it took points
    from or put points in, with how many; ``debt`` the change of the debt."""

    ref: str
    kind: str  # earn | spend | reverse | return | expire | adjust | mature | repay
    delta: int
    at: str
    lots: tuple[tuple[str, int], ...] = ()
    debt: int = 0
    order_id: str | None = None
    expires_at: str | None = None  # of the lot earned
    available_at: str | None = None
    reason: str | None = None


@dataclass
class Ledger:
    lots: list[Lot] = field(default_factory=list)
    spendable: int = 0
    pending: int = 0
    locked: int = 0
    debt: int = 0
    locks: dict[str, int] = field(default_factory=dict)

    # -- reading -------------------------------------------------------------------
    @property
    def net(self) -> int:
        return self.spendable + self.locked + self.pending - self.debt

    def next_due(self, at: str) -> str | None:
        """When settle has something to write next: a lot expiring, a lot maturing while
        there is debt to repay from it, or now when a released lock left points free
        while in debt. A lot maturing without debt is not due: nothing is written for it
        (views and changes settle first). Expired lots held by a lock are not due (their
        release sets the account due)."""
        times = [lot.expires_at for lot in self.lots if lot.expires_at > at]
        if self.debt:
            times += [lot.available_at for lot in self.lots if lot.available_at is not None]
        if self.debt and self.spendable:
            times.append(at)
        return min(times) if times else None

    def next_expiry(self, at: str) -> tuple[str, int] | None:
        """The next expiry time of points not yet expired, and how many expire then."""
        live = [lot for lot in self.lots if lot.expires_at > at]
        if not live:
            return None
        first = min(lot.expires_at for lot in live)
        return first, sum(lot.left for lot in live if lot.expires_at == first)

    # -- changes -------------------------------------------------------------------
    def earn(
        self,
        ref: str,
        points: int,
        at: str,
        expires_at: str,
        *,
        available_at: str | None = None,
        order_id: str | None = None,
        kind: str = "earn",
        reason: str | None = None,
    ) -> Entry:
        """A new lot of ``points``. Pending when ``available_at`` is after ``at``;
        otherwise it repays debt first and the rest is spendable."""
        _positive(points)
        if available_at is not None and available_at > at:
            lot = Lot(ref, points, expires_at, available_at, order_id)
            self.lots.append(lot)
            self.pending += points
            return Entry(
                ref,
                kind,
                points,
                at,
                ((ref, points),),
                0,
                order_id,
                expires_at,
                available_at,
                reason,
            )
        repaid = min(self.debt, points)
        self.debt -= repaid
        kept = points - repaid
        if kept:
            self._add_matured(Lot(ref, kept, expires_at))
            self.spendable += kept
        lots = ((ref, kept),) if kept else ()
        return Entry(ref, kind, points, at, lots, -repaid, order_id, expires_at, None, reason)

    def lock(self, order_id: str, points: int) -> None:
        """An unpaid order holds ``points`` (what lock_piece's conditional ADD does)."""
        _positive(points)
        if order_id in self.locks:
            return  # the same order locks once
        if self.spendable < points:
            raise InsufficientPoints(self.spendable, points)
        self.spendable -= points
        self.locked += points
        self.locks[order_id] = points

    def release(self, order_id: str) -> int:
        """The order was cancelled or expired unpaid: its points are free again."""
        points = self.locks.pop(order_id, 0)
        self.locked -= points
        self.spendable += points
        return points

    def consume(self, ref: str, order_id: str, at: str) -> Entry | None:
        """The order was paid: the points it holds are spent, oldest-expiring lots first
        (an expired lot still holding points is among them: it is the oldest)."""
        points = self.locks.pop(order_id, None)
        if points is None:
            return None
        self.locked -= points
        used = self._take_matured(points)
        return Entry(ref, "spend", -points, at, used, 0, order_id)

    def spend(self, ref: str, points: int, at: str, *, reason: str | None = None) -> Entry:
        """Spend at once (no lock): only spendable, unexpired points."""
        _positive(points)
        if self.spendable < points:
            raise InsufficientPoints(self.spendable, points)
        self.spendable -= points
        used = self._take_matured(points, at=at)
        return Entry(ref, "spend", -points, at, used, 0, None, reason=reason)

    def take_back(
        self,
        ref: str,
        points: int,
        at: str,
        *,
        kind: str = "reverse",
        order_id: str | None = None,
        allow_debt: bool = True,
        reason: str | None = None,
    ) -> Entry:
        """Take ``points`` back: from the order's own pending lot first, then spendable
        points (oldest-expiring lots first), then other pending lots; what is left
        becomes debt (or, without ``allow_debt``, InsufficientPoints when spendable
        points do not cover it). Locked points are never taken."""
        _positive(points)
        if not allow_debt and self.spendable < points:
            raise InsufficientPoints(self.spendable, points)
        used: list[tuple[str, int]] = []
        want = points
        own = [lot for lot in self.lots if order_id and lot.order_id == order_id]
        for lot in own:
            want -= self._take_from(lot, want, used, at)
        free = min(want, self.spendable)
        if free:
            self.spendable -= free
            used += self._take_matured(free, at=at)
            want -= free
        if want and allow_debt:
            for lot in sorted(self._pending(at), key=_order):
                want -= self._take_from(lot, want, used, at)
        self.debt += want
        return Entry(ref, kind, -points, at, tuple(used), want, order_id, reason=reason)

    def settle(self, at: str, tag: str) -> list[Entry]:
        """What time did: pending lots that matured (repaying debt first), lots that
        expired, debt repaid from points a released lock freed. ``tag`` makes the refs of
        expire and repay entries unique (the account's version)."""
        entries: list[Entry] = []
        for lot in sorted([x for x in self.lots if x.available_at is not None], key=_order):
            if lot.available_at is not None and lot.available_at <= at:
                repaying = self._mature(lot, at)
                if repaying is not None:
                    entries.append(repaying)
        for lot in sorted(list(self.lots), key=_order):
            if lot.expires_at > at:
                continue
            if lot.available_at is not None:  # pending past its expiry: all of it goes
                gone = lot.left
                self.pending -= gone
            else:
                gone = min(lot.left, self.spendable)
                self.spendable -= gone
            if gone:
                # a lot can expire in parts (a lock held the rest): the tag tells them apart
                ref = f"expire:{lot.lot_id}:{tag}"
                lot.left -= gone
                entries.append(Entry(ref, "expire", -gone, at, ((lot.lot_id, gone),)))
        self.lots = [lot for lot in self.lots if lot.left > 0]
        if self.debt and self.spendable:
            repaid = min(self.debt, self.spendable)
            self.spendable -= repaid
            self.debt -= repaid
            used = self._take_matured(repaid, at=at)
            entries.append(Entry(f"repay:{tag}", "repay", 0, at, used, -repaid))
        return entries

    # -- helpers -------------------------------------------------------------------
    def _mature(self, lot: Lot, at: str) -> Entry | None:
        """A pending lot's points become spendable. No entry of its own (the earn entry
        says when, ``available_at``, and nothing is written when a lot matures: any
        change or view settles it first) unless they repay debt: that entry is kept."""
        self.lots.remove(lot)
        self.pending -= lot.left
        repaid = min(self.debt, lot.left)
        self.debt -= repaid
        kept = lot.left - repaid
        if kept:
            self._add_matured(Lot(lot.lot_id, kept, lot.expires_at))
            self.spendable += kept
        if not repaid:
            return None
        return Entry(
            f"mature:{lot.lot_id}",
            "mature",
            0,
            at,
            ((lot.lot_id, lot.left),),
            -repaid,
            lot.order_id,
            lot.expires_at,
        )

    def _add_matured(self, new: Lot) -> None:
        """Matured lots with the same expiry are one lot: a member has at most one
        matured lot per expiry time (expiries fall at day ends), which bounds the list."""
        for lot in self.lots:
            if lot.available_at is None and lot.expires_at == new.expires_at:
                lot.left += new.left
                return
        self.lots.append(new)

    def _pending(self, at: str) -> list[Lot]:
        return [lot for lot in self.lots if lot.available_at is not None]

    def _take_from(self, lot: Lot, want: int, used: list[tuple[str, int]], at: str) -> int:
        """Up to ``want`` from one lot (a matured one only from spendable points)."""
        if want <= 0:
            return 0
        if lot.available_at is None:
            n = min(lot.left, want, self.spendable)
            self.spendable -= n
        else:
            n = min(lot.left, want)
            self.pending -= n
        if n:
            lot.left -= n
            used.append((lot.lot_id, n))
            if lot.left == 0:
                self.lots.remove(lot)
        return n

    def _take_matured(self, points: int, at: str | None = None) -> tuple[tuple[str, int], ...]:
        """Remove ``points`` from matured lots, oldest-expiring first (the caller has
        already moved the counters). With ``at``, expired lots are skipped unless
        nothing else is left (they only hold locked points then)."""
        matured = sorted([x for x in self.lots if x.available_at is None], key=_order)
        if at is not None:
            matured = [x for x in matured if x.expires_at > at] + [
                x for x in matured if x.expires_at <= at
            ]
        used: list[tuple[str, int]] = []
        want = points
        for lot in matured:
            if not want:
                break
            n = min(lot.left, want)
            lot.left -= n
            want -= n
            used.append((lot.lot_id, n))
        if want:
            raise AssertionError("matured lots hold fewer points than spendable + locked")
        self.lots = [x for x in self.lots if x.left > 0]
        return tuple(used)


def _order(lot: Lot) -> tuple[str, str]:
    return (lot.expires_at, lot.lot_id)


def _positive(points: int) -> None:
    if not isinstance(points, int) or points <= 0:
        raise ValueError(f"points must be a positive integer, not {points!r}")


def proportional_share(total: int, part_so_far: int, part_after: int, whole: int) -> int:
    """Points of ``total`` that go with the slice ``(part_so_far, part_after]`` of
    ``whole`` (e.g. fen refunded so far and after this refund, out of fen paid).

    Cumulative rounding down: ``floor(total * after / whole) - floor(total * so_far /
    whole)``. Each slice gets its proportional share rounded so that every run of slices
    adds up to the share of their union, and all slices of the whole add up to ``total``
    exactly (the remainders land on the slices that complete a point, as largest-remainder
    allocation would do over a sequence that arrives one refund at a time)."""
    if whole <= 0 or total <= 0:
        return 0
    after = min(max(part_after, 0), whole)
    before = min(max(part_so_far, 0), after)
    return int(Fraction(total * after, whole)) - int(Fraction(total * before, whole))
