"""Staff distribution (员工分销, issue 15 item 5) as plain Python: who may bind a member,
what a bound member's first and second completed orders earn, what a later refund
reverses. docs/segments.md, "Staff distribution".

The binding is ONE record on the member's aggregates item (``member_stats``, attribute
``ds``): the order's completion already reads and writes that item, so deciding "first or
second order of a bound member" costs nothing for members without a binding. It also
holds the commissions accrued on the member's orders (at most two) and what their
refunds reversed, written in the same conditional update as the aggregates: the entries
written afterwards (keyed by order and kind) are re-derived from it on redelivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.customers.rules import TZ, local_date

COMMISSIONED_ORDERS = (1, 2)  # the member's first and second completed orders


@dataclass(frozen=True)
class Terms:
    """The settings the rules need (customers/schemas.py DistributionSettings)."""

    binding: str = "permanent"  # permanent | days
    binding_days: int = 30
    protection_days: int = 7
    mode: str = "fixed"  # fixed | rate
    first_order_fen: int = 500
    second_order_fen: int = 200
    rate_bp: int = 0
    level2_first_order_fen: int = 0
    level2_second_order_fen: int = 0
    level2_rate_bp: int = 0


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(_at("2000-01-01T00:00:00Z").tzinfo).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_month(at: str) -> str:
    return local_date(at)[:7]


def new_binding(staff: str, store_id: str, at: str, terms: Terms) -> dict[str, Any]:
    """The binding record of ``staff`` from ``at``: ``until`` (None: permanent) and the
    protection's end ``protect``."""
    start = _at(at)
    until = None if terms.binding == "permanent" else _iso(start + timedelta(terms.binding_days))
    return {
        "staff": staff,
        "store": store_id,
        "at": at,
        "until": until,
        "protect": _iso(start + timedelta(terms.protection_days)),
    }


def is_valid(binding: dict[str, Any] | None, at: str) -> bool:
    """The binding holds at ``at``: made before it and not expired."""
    if not binding or not binding.get("staff"):
        return False
    if _at(binding["at"]) > _at(at):
        return False
    until = binding.get("until")
    return until is None or _at(at) < _at(until)


def may_bind(binding: dict[str, Any] | None, staff: str, at: str) -> tuple[bool, str]:
    """Whether ``staff`` may take the member at ``at``: (allowed, why). Nobody bound, or
    the binding expired: yes. The same staff member: nothing to do. Within the
    protection days: no. A permanent binding never moves; one "for N days" may be taken
    by another staff member once its protection is over (and by anyone once expired)."""
    if not binding or not binding.get("staff"):
        return True, "new"
    if _at(binding["at"]) > _at(at):
        return False, "bound"  # a claim older than the binding (a late event) never moves it
    if not is_valid(binding, at):
        return True, "expired"
    if binding["staff"] == staff:
        return False, "same"
    if binding.get("protect") and _at(at) < _at(binding["protect"]):
        return False, "protected"
    if binding.get("until") is None:
        return False, "permanent"
    return True, "unprotected"


def amounts(terms: Terms, nth: int, kept_fen: int) -> tuple[int, int]:
    """Level 1 and level 2 commission (fen) on the member's ``nth`` completed order that
    kept ``kept_fen``: fixed amounts, or basis points of what the order kept (rounded
    down). Nothing beyond the second order."""
    if nth not in COMMISSIONED_ORDERS:
        return 0, 0
    if terms.mode == "rate":
        return (
            max(0, kept_fen) * terms.rate_bp // 10000,
            max(0, kept_fen) * terms.level2_rate_bp // 10000,
        )
    if nth == 1:
        return terms.first_order_fen, terms.level2_first_order_fen
    return terms.second_order_fen, terms.level2_second_order_fen


def accrual(
    order_id: str,
    nth: int,
    completed_at: str,
    kept_fen: int,
    refunded_fen: int,
    levels: list[tuple[str, str, int]],
    available_at: str,
) -> dict[str, Any]:
    """The record of an accrual kept on the member's item: per level (staff, store,
    amount, reversed so far), the order's refunded total when counted, the reversals."""
    return {
        "n": nth,
        "at": completed_at,
        "month": local_month(completed_at),
        "kept": kept_fen,
        "ref": refunded_fen,
        "avail": available_at,
        "levels": [[s, st, amt, 0] for s, st, amt in levels],
        "rev": [],  # [refunded_total, at, month, [delta per level]]
    }


def reverse(record: dict[str, Any], refunded_now: int, at: str) -> bool:
    """Bring an accrual's reversal up to the order's refunded total now: in full once
    what was refunded since the completion reaches what the order kept, proportionally
    (rounded down) before; the delta becomes a negative entry dated ``at``. False:
    nothing new (redelivered, or covered by another refund's handling)."""
    since = refunded_now - int(record["ref"])
    kept = int(record["kept"])
    if since <= 0:
        return False
    deltas = []
    for level in record["levels"]:
        amount, done = int(level[2]), int(level[3])
        target = amount if since >= kept or kept <= 0 else amount * since // kept
        deltas.append(max(0, target - done))
        level[3] = done + deltas[-1]
    if not any(deltas):
        return False
    record["rev"].append([refunded_now, at, local_month(at), deltas])
    return True


def available_at(completed_at: str, pending_days: int) -> str:
    return _iso(_at(completed_at) + timedelta(days=pending_days))


def previous_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def today_month(now: datetime) -> str:
    return now.astimezone(TZ).strftime("%Y-%m")


@dataclass(frozen=True)
class GuideLevel:
    name: str
    min_gmv_fen: int
    min_new_members: int
    min_share_efficiency_bp: int


def share_efficiency_bp(new_members: int, ordered: int) -> int:
    """Bound members who ordered ÷ new members, in basis points (0 without new members)."""
    return ordered * 10000 // new_members if new_members else 0


def guide_level(levels: list[GuideLevel], gmv_fen: int, new_members: int, eff_bp: int) -> str:
    """The highest level whose three thresholds are all met ('' : none)."""
    best = ""
    for lv in sorted(levels, key=lambda x: (x.min_gmv_fen, x.min_new_members)):
        if (
            gmv_fen >= lv.min_gmv_fen
            and new_members >= lv.min_new_members
            and eff_bp >= lv.min_share_efficiency_bp
        ):
            best = lv.name
    return best
