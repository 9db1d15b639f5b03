"""Draft, approve, publish: the approval rules of promotions and coupon templates, in
plain Python (docs/promotions.md, "Draft, approval and simulation").

A promotion or template is created as a ``draft``: not priced, not claimable, not
listed. Head-office approvers publish it (status ``active``) once it has the approvals
it needs:

* one approval when its budget is at most the threshold (head office's setting,
  campaign_budgets/approval_settings.py; until set ``DAOJIA_TWO_APPROVERS_ABOVE_FEN``,
  default 5,000,000 fen = ¥50,000); the creator
  may be that approver (small teams: publishing stays a deliberate second step, and
  the audit log names who did it);
* two approvals by two different people when its budget is above the threshold or
  unbounded (no budget, no cap): the creator may be one of them, never both, so at
  least one approver is not the creator (four eyes);
* after the first of two approvals the draft is ``pending``; a change to its money
  fields (budget, tiers, quantities, member-day benefits) clears the approvals and it
  is a ``draft`` again; a rejection (with a reason) does too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

DRAFT_STATES = frozenset({"draft", "pending"})


@dataclass(frozen=True)
class Approval:
    by: str
    at: str  # UTC ISO


class Refused(Exception):
    """Why an approval is refused: ``code`` is the API's 409 code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def approvals_needed(budget_fen: int | None, threshold_fen: int) -> int:
    """1 at or below the threshold; 2 above it or when the budget is unbounded (None)."""
    return 1 if budget_fen is not None and budget_fen <= threshold_fen else 2


def approve(
    *,
    status: str,
    approvals: Sequence[Approval],
    who: str,
    at: str,
    budget_fen: int | None,
    threshold_fen: int,
) -> tuple[str, tuple[Approval, ...]]:
    """The status and approvals after ``who`` approves, or ``Refused``."""
    if status not in DRAFT_STATES:
        raise Refused("not_a_draft", f"It is {status}: only a draft or pending one is approved.")
    if any(a.by == who for a in approvals):
        raise Refused(
            "already_approved_by_you",
            "You approved it already: a second approval must come from someone else.",
        )
    after = (*approvals, Approval(who, at))
    needed = approvals_needed(budget_fen, threshold_fen)
    return ("active" if len(after) >= needed else "pending"), after


def reject(status: str) -> str:
    """A draft or pending one goes back to draft (its approvals cleared)."""
    if status not in DRAFT_STATES:
        raise Refused("not_a_draft", f"It is {status}: only a draft or pending one is rejected.")
    return "draft"


def template_budget(
    *,
    budget_fen: int | None,
    total_quantity: int | None,
    kind: str,
    amount_off_fen: int | None,
    cap_fen: int | None,
) -> int | None:
    """A coupon template's budget for the approval rule: ``budget_fen`` when set, else
    total_quantity × face value (amount off, or a percent coupon's cap), else None
    (unbounded: free delivery or no quantity)."""
    if budget_fen is not None:
        return budget_fen
    face = amount_off_fen if kind == "amount_off" else cap_fen if kind == "percent_off" else None
    if total_quantity is None or face is None:
        return None
    return total_quantity * face
