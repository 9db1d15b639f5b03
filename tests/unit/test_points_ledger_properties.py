"""Property tests of the points ledger (issue 14 item 10): for any sequence of earns,
locks, spends, reversals, adjustments and expiries, the balance is the sum of the
entries, nothing is created or lost, spends never use expired or pending lots, debt is
never clamped, and refund reversal is proportional and exact to the point."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from chalicelib.loyalty.points_ledger import (
    Entry,
    InsufficientPoints,
    Ledger,
    proportional_share,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def t(day: int) -> str:
    """A time that compares like the ISO strings the ledger gets."""
    return f"2026-T{day:06d}"


op = st.one_of(
    st.tuples(
        st.just("earn"),
        st.integers(1, 500),
        st.integers(0, 5),  # pending days
        st.integers(1, 30),  # expiry days
        st.integers(0, 4),  # order number (0: none)
    ),
    st.tuples(st.just("lock"), st.integers(1, 300), st.integers(1, 6)),
    st.tuples(st.just("release"), st.integers(1, 6)),
    st.tuples(st.just("consume"), st.integers(1, 6)),
    st.tuples(st.just("spend"), st.integers(1, 300)),
    st.tuples(st.just("reverse"), st.integers(1, 300), st.integers(0, 4)),
    st.tuples(st.just("deduct"), st.integers(1, 300), st.booleans()),
    st.tuples(st.just("advance"), st.integers(0, 10)),
)


def check(ledger: Ledger, entries: list[Entry]) -> None:
    matured = sum(x.left for x in ledger.lots if x.available_at is None)
    pending = sum(x.left for x in ledger.lots if x.available_at is not None)
    assert matured == ledger.spendable + ledger.locked
    assert pending == ledger.pending
    assert ledger.locked == sum(ledger.locks.values())
    assert min(ledger.spendable, ledger.locked, ledger.pending, ledger.debt) >= 0
    assert all(x.left > 0 for x in ledger.lots)
    # Nothing created or lost: the balance is the sum of the entries...
    assert ledger.net == sum(e.delta for e in entries)
    # ...and the debt is the sum of the entries' debt changes (never clamped).
    assert ledger.debt == sum(e.debt for e in entries)
    assert len({e.ref for e in entries}) == len(entries), "entry refs are unique"


@settings(max_examples=400, deadline=None)
@given(st.lists(op, max_size=60))
def test_any_sequence_keeps_the_ledger_exact(ops: list[tuple]) -> None:
    ledger, entries, day, n = Ledger(), [], 0, 0

    def settle() -> None:
        nonlocal n
        n += 1
        entries.extend(ledger.settle(t(day), tag=str(n)))
        # points still in expired lots are only ever points a lock holds
        expired = sum(x.left for x in ledger.lots if x.expires_at <= t(day))
        assert expired <= ledger.locked

    for step in ops:
        n += 1
        settle()  # points.py settles before every change
        kind = step[0]
        if kind == "earn":
            _, points, pend, exp, order = step
            entries.append(
                ledger.earn(
                    f"earn:{n}",
                    points,
                    t(day),
                    t(day + pend + exp),
                    available_at=t(day + pend) if pend else None,
                    order_id=f"o{order}" if order else None,
                )
            )
        elif kind == "lock":
            _, points, order = step
            try:
                ledger.lock(f"L{order}", points)
            except InsufficientPoints as exc:
                assert exc.spendable < points
        elif kind == "release":
            ledger.release(f"L{step[1]}")
            if ledger.debt and ledger.spendable:
                assert ledger.next_due(t(day)) == t(day)
        elif kind == "consume":
            entry = ledger.consume(f"spend:{n}", f"L{step[1]}", t(day))
            if entry:
                entries.append(entry)
        elif kind == "spend":
            live = {x.lot_id for x in ledger.lots if x.available_at is None}
            live -= {x.lot_id for x in ledger.lots if x.expires_at <= t(day)}
            try:
                entry = ledger.spend(f"spend:{n}", step[1], t(day))
            except InsufficientPoints as exc:
                assert exc.spendable < step[1]
            else:
                entries.append(entry)
                # spends never use expired or pending lots
                assert {lot for lot, _ in entry.lots} <= live
                assert sum(p for _, p in entry.lots) == step[1]
        elif kind == "reverse":
            _, points, order = step
            before = ledger.debt
            entry = ledger.take_back(
                f"reverse:{n}", points, t(day), order_id=f"o{order}" if order else None
            )
            entries.append(entry)
            # what the lots did not cover became debt, exactly
            assert sum(p for _, p in entry.lots) + (ledger.debt - before) == points
        elif kind == "deduct":
            _, points, allow = step
            spendable = ledger.spendable
            try:
                entries.append(
                    ledger.take_back(f"adjust:{n}", points, t(day), kind="adjust", allow_debt=allow)
                )
            except InsufficientPoints:
                assert not allow and spendable < points
                assert ledger.spendable == spendable
        else:
            day += step[1]
        check(ledger, entries)
    # Let everything mature and expire: released locks leave nothing behind.
    for order in list(ledger.locks):
        ledger.release(order)
    day += 100
    settle()
    check(ledger, entries)
    assert ledger.lots == [] and ledger.spendable == ledger.pending == 0
    assert ledger.net == -ledger.debt


@given(
    total=st.integers(0, 10_000),
    whole=st.integers(1, 100_000),
    cuts=st.lists(st.integers(0, 100_000), max_size=8),
)
def test_reversal_is_proportional_and_exact(total: int, whole: int, cuts: list[int]) -> None:
    points = sorted({min(c, whole) for c in cuts} | {0, whole})
    shares = [proportional_share(total, a, b, whole) for a, b in itertools.pairwise(points)]
    assert sum(shares) == total  # refunds of the whole take back every point, no more
    for (a, b), share in zip(itertools.pairwise(points), shares, strict=True):
        exact = Fraction(total * (b - a), whole)
        assert abs(share - exact) < 1  # each within a point of its exact share


def test_debt_is_repaid_before_new_points_can_be_spent() -> None:
    ledger = Ledger()
    ledger.earn("earn:1", 100, t(0), t(30))
    ledger.spend("spend:1", 100, t(1))
    entry = ledger.take_back("reverse:1", 60, t(2), order_id="o1")
    assert entry.debt == 60 and ledger.net == -60  # never clamped at zero
    earned = ledger.earn("earn:2", 50, t(3), t(40))
    assert earned.debt == -50 and ledger.debt == 10 and ledger.spendable == 0
    ledger.earn("earn:3", 30, t(4), t(40))
    assert ledger.debt == 0 and ledger.spendable == 20


def test_pending_points_of_the_order_are_taken_back_first() -> None:
    ledger = Ledger()
    ledger.earn("earn:old", 100, t(0), t(30))
    ledger.earn("earn:o1", 40, t(1), t(31), available_at=t(8), order_id="o1")
    entry = ledger.take_back("reverse:r1", 30, t(2), order_id="o1")
    assert entry.lots == (("earn:o1", 30),)
    assert ledger.pending == 10 and ledger.spendable == 100


def test_locked_points_do_not_expire_before_the_lock_resolves() -> None:
    ledger = Ledger()
    ledger.earn("earn:1", 100, t(0), t(10))
    ledger.lock("order-1", 80)
    expired = ledger.settle(t(10), tag="1")
    assert [e.delta for e in expired] == [-20] and ledger.locked == 80
    spent = ledger.consume("spend:order-1", "order-1", t(11))
    assert spent is not None and spent.lots == (("earn:1", 80),)
    assert ledger.lots == []


def test_a_released_lock_lets_the_held_points_expire() -> None:
    ledger = Ledger()
    ledger.earn("earn:1", 100, t(0), t(10))
    ledger.lock("order-1", 80)
    ledger.settle(t(10), tag="1")
    ledger.release("order-1")
    expired = ledger.settle(t(11), tag="2")
    assert [e.delta for e in expired] == [-80] and ledger.net == 0


def test_check_ins_with_the_same_expiry_share_one_lot() -> None:
    ledger = Ledger()
    for day in range(20):
        ledger.earn(f"checkin:{day}", 5, t(day), t(400))
    assert len(ledger.lots) == 1 and ledger.lots[0].left == 100


def test_points_must_be_positive_integers() -> None:
    with pytest.raises(ValueError):
        Ledger().earn("earn:x", 0, t(0), t(1))
