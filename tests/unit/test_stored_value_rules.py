"""Stored value rules (stored_value/rules.py), for any input: splits add up exactly,
parts never go below zero, refunds give back exactly what was taken, and for any
sequence of top-ups, payments, refunds and withdrawals the balance is the sum of the
ledger's entries."""

from __future__ import annotations

import pytest
from chalicelib.stored_value import rules as r
from hypothesis import given, settings
from hypothesis import strategies as st

fen = st.integers(min_value=0, max_value=10_000_00)


@given(fen, fen, st.data())
def test_a_payment_splits_within_both_balances_and_adds_up(p, b, data):
    amount = data.draw(st.integers(min_value=0, max_value=p + b))
    split = r.split_payment(p, b, amount)
    assert split.total_fen == amount
    assert 0 <= split.principal_fen <= p
    assert 0 <= split.bonus_fen <= b


def test_a_payment_splits_in_proportion_bonus_rounded_down():
    assert r.split_payment(50000, 5000, 1100) == r.Split(1000, 100)
    assert r.split_payment(2, 1, 1) == r.Split(1, 0)  # the odd fen is principal
    with pytest.raises(ValueError):
        r.split_payment(100, 0, 101)


@given(fen, fen, st.lists(st.integers(min_value=0, max_value=10_000_00), max_size=8))
def test_partial_returns_add_up_to_exactly_what_was_taken(p, b, cuts):
    taken = r.Split(p, b)
    total = taken.total_fen
    points = sorted({min(c, total) for c in cuts} | {total})
    returned, back = 0, r.ZERO
    for point in points:
        part = r.split_back(taken, returned, point - returned)
        assert part.principal_fen >= 0 and part.bonus_fen >= 0
        assert part.total_fen == point - returned
        back = r.Split(back.principal_fen + part.principal_fen, back.bonus_fen + part.bonus_fen)
        returned = point
    assert back == taken


@given(fen, st.integers(min_value=1, max_value=10_000_00), st.lists(fen, max_size=8))
def test_refund_shares_add_up_to_the_stored_value_paid(sv, extra, cuts):
    total = sv + extra
    points = sorted({min(c, total) for c in cuts} | {total})
    before, to_sv = 0, 0
    for point in points:
        share = r.stored_value_share(sv, total, before, point - before)
        assert 0 <= share <= point - before
        to_sv += share
        before = point
    assert to_sv == sv


def test_bonus_tiers_take_the_highest_reached():
    tiers = [r.Tier(50000, 5000), r.Tier(100000, 12000), r.Tier(20000, 1000)]
    assert r.bonus_for(19999, tiers) == 0
    assert r.bonus_for(50000, tiers) == 5000
    assert r.bonus_for(150000, tiers) == 12000
    assert r.check_tiers(tiers) == []
    assert r.check_tiers([r.Tier(100, 100), r.Tier(100, 1)]) != []


def test_withdrawal_quote_deducts_bonus_spent():
    assert r.withdrawal_quote(40000, 3000) == 37000
    assert r.withdrawal_quote(2000, 3000) == 0
    assert r.withdrawal_quote(2000, -5) == 2000


def test_the_cap_counts_principal_and_bonus():
    assert r.top_up_allowed(0, 500000, 0, 500000)
    assert not r.top_up_allowed(0, 500000, 1, 500000)
    assert not r.top_up_allowed(0, 0, 0, 500000)


# A sequence of operations on one member, applied as the service does: each one a
# signed entry; the account is the sum of the entries and never negative.
op = st.one_of(
    st.tuples(st.just("top_up"), st.integers(min_value=1, max_value=100_000)),
    st.tuples(st.just("pay"), st.integers(min_value=0, max_value=200_000)),
    st.tuples(st.just("refund"), st.integers(min_value=0, max_value=200_000)),
    st.tuples(st.just("withdraw"), st.just(0)),
)
TIERS = [r.Tier(10_000, 500), r.Tier(50_000, 5_000)]


@settings(max_examples=300)
@given(st.lists(op, max_size=40))
def test_the_balance_is_the_sum_of_entries_and_never_negative(ops):
    balance, entries = r.ZERO, []
    bonus_spent = 0
    orders: list[tuple[r.Split, int]] = []  # (taken, returned so far)
    paid_in, paid_out, spent = 0, 0, 0
    for kind, amount in ops:
        if kind == "top_up":
            delta = r.Split(amount, r.bonus_for(amount, TIERS))
            paid_in += amount
        elif kind == "pay":
            if amount > balance.total_fen:
                continue  # the conditional update refuses it
            taken = r.split_payment(balance.principal_fen, balance.bonus_fen, amount)
            orders.append((taken, 0))
            delta = r.Split(-taken.principal_fen, -taken.bonus_fen)
            bonus_spent += taken.bonus_fen
            spent += amount
        elif kind == "refund":
            if not orders:
                continue
            taken, returned = orders[-1]
            amount = min(amount, taken.total_fen - returned)
            back = r.split_back(taken, returned, amount)
            orders[-1] = (taken, returned + amount)
            delta = back
            bonus_spent -= back.bonus_fen
            spent -= amount
        else:
            quote = r.withdrawal_quote(balance.principal_fen, bonus_spent)
            paid_out += quote
            delta = r.Split(-balance.principal_fen, -balance.bonus_fen)
            bonus_spent = 0
            orders = []  # a closed balance takes no refunds back (they go to the provider)
        balance = r.apply(balance, delta)
        entries.append(delta)
        assert balance.principal_fen >= 0 and balance.bonus_fen >= 0
        assert balance.principal_fen == sum(e.principal_fen for e in entries)
        assert balance.bonus_fen == sum(e.bonus_fen for e in entries)
        assert bonus_spent >= 0
    assert paid_out <= paid_in
