"""The approval rules of drafts (kernel/approvals.py): one approver at or below the
threshold, two different people above it or without a bound."""

from __future__ import annotations

import pytest
from chalicelib.kernel import approvals as a

T = 5_000_000  # ¥50,000


def approve(status, done, who, budget):
    return a.approve(
        status=status,
        approvals=[a.Approval(w, "2026-11-24T00:00:00Z") for w in done],
        who=who,
        at="2026-11-24T01:00:00Z",
        budget_fen=budget,
        threshold_fen=T,
    )


def test_one_approval_at_or_below_the_threshold_even_by_the_creator():
    status, after = approve("draft", [], "creator", T)
    assert status == "active" and [x.by for x in after] == ["creator"]


@pytest.mark.parametrize("budget", [T + 1, None])
def test_two_different_people_above_the_threshold_or_unbounded(budget):
    status, after = approve("draft", [], "creator", budget)
    assert status == "pending"
    with pytest.raises(a.Refused) as why:
        approve("pending", ["creator"], "creator", budget)
    assert why.value.code == "already_approved_by_you"
    status, after = approve("pending", ["creator"], "second", budget)
    assert status == "active" and [x.by for x in after] == ["creator", "second"]


@pytest.mark.parametrize("status", ["active", "ended", "paused"])
def test_only_a_draft_is_approved_or_rejected(status):
    for act in (lambda: approve(status, [], "x", 1), lambda: a.reject(status)):
        with pytest.raises(a.Refused) as why:
            act()
        assert why.value.code == "not_a_draft"
    assert a.reject("pending") == "draft"


def test_a_templates_budget_is_its_budget_else_quantity_times_face_value():
    def tb(**kw):
        base = dict(budget_fen=None, total_quantity=None, kind="amount_off")
        return a.template_budget(**{**base, "amount_off_fen": None, "cap_fen": None, **kw})

    assert tb(budget_fen=100, total_quantity=10, amount_off_fen=1000) == 100
    assert tb(total_quantity=10_000, amount_off_fen=500) == 5_000_000  # one approver
    assert tb(total_quantity=10, kind="percent_off", cap_fen=2000) == 20_000
    assert tb(amount_off_fen=500) is None  # unlimited quantity: unbounded
    assert tb(total_quantity=10, kind="free_delivery") is None
    assert a.approvals_needed(5_000_000, T) == 1 and a.approvals_needed(5_000_001, T) == 2
