"""What may change in a promotion, and when. Plain Python.

* ``name``: any time (it is only a label);
* ``budget_fen`` (tiered): not below what was spent; a promotion created without a
  budget gets one only before it starts (spending is not counted without one);
* ``ends_at``: while the promotion has not ended; later than now and than
  ``starts_at``. Bringing it forward is allowed (ending early is, too); orders already
  placed keep their price;
* ``tiers`` (tiered): only before the promotion starts, so two customers in one
  promotion never get different tiers.
* An ended promotion is final: nothing but the name changes.
* A draft (issue 18 item 5) has sold nothing: tiers and budget change whatever its
  start; a change of its money fields clears its approvals (promotions/service.py).
"""

from __future__ import annotations

from collections.abc import Sequence


def tier_errors(
    tiers: Sequence[tuple[int, int]], *, units: bool = False, percent: bool = False
) -> list[tuple[str, str]]:
    """(field, reason) for each problem of (threshold_fen, off_fen) tiers. ``units``: the
    thresholds count units (满件减, at most 999); ``percent``: each off is a percentage
    (满N件M折, 1-99); otherwise an amount off stays below its threshold in fen."""
    errors: list[tuple[str, str]] = []
    if not tiers:
        errors.append(("tiers", "required: at least one tier"))
    for i, (threshold, off) in enumerate(tiers):
        if units and threshold > 999:
            errors.append((f"tiers[{i}].threshold_fen", "units: at most 999"))
        if percent and off > 99:
            errors.append((f"tiers[{i}].off_fen", "percent: 1 to 99"))
        if not units and not percent and off >= threshold:
            errors.append((f"tiers[{i}].off_fen", "must be below its threshold"))
        if i and threshold <= tiers[i - 1][0]:
            errors.append((f"tiers[{i}].threshold_fen", "thresholds must strictly increase"))
        if i and off < tiers[i - 1][1]:
            errors.append((f"tiers[{i}].off_fen", "a higher tier cannot give less"))
    return errors


def edit_errors(
    *,
    kind: str,
    status: str,
    starts_at: str,
    ends_at: str,
    has_budget: bool,
    now: str,
    new_ends_at: str | None,
    new_tiers: Sequence[tuple[int, int]] | None,
    new_budget: int | None,
    draft: bool = False,
    units: bool = False,
    percent: bool = False,
) -> list[tuple[str, str]]:
    """Every reason the edit is refused, as (field, reason); times are UTC ISO strings.
    A ``draft`` (not published) sells nothing yet: its tiers and budget change freely."""
    errors: list[tuple[str, str]] = []
    started = starts_at <= now and not draft
    if status == "ended" and (new_ends_at, new_tiers, new_budget) != (None, None, None):
        field = "ends_at" if new_ends_at else "tiers" if new_tiers is not None else "budget_fen"
        return [(field, "the promotion has ended: create a new one")]
    if new_ends_at is not None:
        if new_ends_at <= now:
            errors.append(("ends_at", "must be in the future (to stop now, end it)"))
        elif new_ends_at <= starts_at:
            errors.append(("ends_at", "must be after starts_at"))
        elif ends_at <= now:
            errors.append(("ends_at", "the promotion's window is over: create a new one"))
    if new_tiers is not None:
        if kind != "tiered":
            errors.append(("tiers", f"not used by a {kind} promotion"))
        elif started:
            errors.append(("tiers", f"the promotion started at {starts_at}: tiers are fixed"))
        else:
            errors += tier_errors(new_tiers, units=units, percent=percent)
    if new_budget is not None:
        if kind != "tiered":
            errors.append(("budget_fen", f"not used by a {kind} promotion"))
        elif not has_budget and started:
            errors.append(
                ("budget_fen", "a promotion without a budget gets one only before it starts")
            )
    return errors
