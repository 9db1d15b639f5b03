"""A member's aggregates as plain Python (no AWS): what an order's completion and a
later refund change, and the figures derived at read time. docs/segments.md, "Member
aggregates".

Exactness without a transaction: the aggregates keep ``applied``, the orders counted,
each with when it completed and the refunds it has been charged for (its cumulative
``refunded_fen``, whole and per category). A completion counts once (its order is in
``applied`` or it is not); a refund brings an applied order up to the order's CURRENT
refunded amounts (read from the order, never the refund's own amount), so refunds handled
in any order, twice, or one handling covering several refunds, subtract exactly what was
refunded since the completion. ``applied`` is bounded: orders completed more than
``KEEP_DAYS`` before the member's newest order, or beyond the newest ``KEEP_ORDERS``, are
dropped and ``horizon`` (the newest completion time dropped) remembers where; a
completion at or before ``horizon`` that is not in ``applied`` is not counted (it cannot
be told from one counted and dropped: docs/segments.md says why that does not happen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")  # order dates are the chain's local ones
KEEP_DAYS = 92  # applied orders and day buckets kept: "in the last 90 days" rules, and
# far beyond any redelivery (stream 24 h, SQS 14 days) or return
KEEP_ORDERS = 40  # at most this many applied orders (a very frequent buyer's item stays small)
NO_CATEGORY = "-"  # lines of events from before the category rode along


@dataclass(frozen=True)
class Line:
    """An order line as the aggregates need it."""

    category1: str | None
    fresh: bool
    qty: int
    paid_fen: int
    refunded_units: int = 0
    refunded_fen: int = 0


@dataclass
class Stats:
    """One member's aggregates (the ``member_stats`` item, decoded)."""

    orders: int = 0
    spend_fen: int = 0  # what the completed orders kept: paid - refunded, refunds after too
    first_date: str | None = None  # local "YYYY-MM-DD" of the first completed order
    last_date: str | None = None
    stores: dict[str, int] = field(default_factory=dict)  # completed orders per store
    categories: dict[str, int] = field(default_factory=dict)  # category1 -> fen kept
    # local day "YYYY-MM-DD" -> [orders, orders with a fresh line kept], last KEEP_DAYS
    days: dict[str, list[int]] = field(default_factory=dict)
    # order id -> [completed_at, refunded_fen charged, {category1: refunded_fen charged},
    # 1 while it counts as a fresh order]
    applied: dict[str, list[Any]] = field(default_factory=dict)
    horizon: str = ""  # applied orders completed at or before this were dropped
    # recall rounds: "<store>#<YYYY-MM the round started from>" -> [first outcome at,
    # the first completion within RECALL_WINDOW_DAYS after it, or ""] (the recall report)
    recalls: dict[str, list[str]] = field(default_factory=dict)


def local_date(at: str) -> str:
    """The chain's local date of a UTC ISO-8601 time."""
    return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(TZ).date().isoformat()


def favourite_store(stats: Stats) -> str | None:
    """The store with the most completed orders (ties: the smallest id, so it is stable)."""
    if not stats.stores:
        return None
    return min(stats.stores, key=lambda s: (-stats.stores[s], s))


def _category(line: Line) -> str:
    return line.category1 or NO_CATEGORY


def _fresh_kept(lines: list[Line]) -> bool:
    """A fresh order: a fresh line the customer kept (not wholly refunded)."""
    return any(x.fresh and x.qty > x.refunded_units for x in lines)


def _refunds_by_category(lines: list[Line]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in lines:
        if x.refunded_fen:
            out[_category(x)] = out.get(_category(x), 0) + x.refunded_fen
    return out


def apply_completion(
    stats: Stats,
    order_id: str,
    store_id: str,
    completed_at: str,
    paid_fen: int,
    refunded_fen: int,
    lines: list[Line],
) -> bool:
    """Count a completed order on what it kept (paid - refunded at completion). False:
    counted already (or too old to tell), nothing changed."""
    if order_id in stats.applied or (stats.horizon and completed_at <= stats.horizon):
        return False
    day = local_date(completed_at)
    stats.orders += 1
    stats.spend_fen += paid_fen - refunded_fen
    stats.stores[store_id] = stats.stores.get(store_id, 0) + 1
    for x in lines:
        c = _category(x)
        stats.categories[c] = stats.categories.get(c, 0) + x.paid_fen - x.refunded_fen
    fresh = _fresh_kept(lines)
    bucket = stats.days.setdefault(day, [0, 0])
    bucket[0] += 1
    bucket[1] += int(fresh)
    stats.first_date = min(stats.first_date or day, day)
    stats.last_date = max(stats.last_date or day, day)
    stats.applied[order_id] = [
        completed_at,
        refunded_fen,
        _refunds_by_category(lines),
        int(fresh),
    ]
    _note_return(stats, completed_at)
    _prune(stats)
    return True


def apply_refunds(stats: Stats, order_id: str, refunded_fen: int, lines: list[Line]) -> bool:
    """Bring an applied order up to its current refunds (the order's ``refunded_fen`` and
    its lines' now): subtract what was refunded since it was last charged, and stop
    counting it as a fresh order once its fresh lines are all refunded. False: nothing
    new (a redelivery, or another refund's handling covered this one)."""
    record = stats.applied[order_id]
    charged, by_category = int(record[1]), dict(record[2])
    changed = False
    if refunded_fen > charged:
        stats.spend_fen -= refunded_fen - charged
        record[1] = refunded_fen
        changed = True
    for c, now in _refunds_by_category(lines).items():
        before = int(by_category.get(c, 0))
        if now > before:
            stats.categories[c] = stats.categories.get(c, 0) - (now - before)
            by_category[c] = now
            changed = True
    record[2] = by_category
    if int(record[3]) and not _fresh_kept(lines):  # its fresh lines all refunded since
        record[3] = 0
        bucket = stats.days.get(local_date(str(record[0])))
        if bucket is not None:  # (pruned: nothing left to correct)
            bucket[1] -= 1
        changed = True
    return changed


def is_before_horizon(stats: Stats, completed_at: str) -> bool:
    """An order completed at or before the horizon: dropped from ``applied``, or never
    counted; either way nothing more is done for it."""
    return bool(stats.horizon) and completed_at <= stats.horizon


def _prune(stats: Stats) -> None:
    """Drop day buckets and applied orders older than KEEP_DAYS before the newest order
    (relative to the newest order, not the clock, so the result does not depend on the
    order events arrive in), and applied orders beyond the newest KEEP_ORDERS."""
    if stats.last_date is None:
        return
    cut = (date.fromisoformat(stats.last_date) - timedelta(days=KEEP_DAYS)).isoformat()
    stats.days = {d: v for d, v in stats.days.items() if d > cut}
    newest = sorted(stats.applied.items(), key=lambda kv: (kv[1][0], kv[0]), reverse=True)
    keep = [kv for kv in newest[:KEEP_ORDERS] if local_date(kv[1][0]) > cut]
    dropped = [kv[1][0] for kv in newest if kv not in keep]
    if dropped:
        stats.horizon = max([stats.horizon, *dropped])
    stats.applied = dict(keep)


# Read-time figures ------------------------------------------------------------------


def average_order_fen(stats: Stats) -> int:
    """Spend per completed order, rounded down to the fen (0 without orders)."""
    return stats.spend_fen // stats.orders if stats.orders else 0


def days_since(day: str | None, today: date) -> int | None:
    return None if day is None else (today - date.fromisoformat(day)).days


def months_between(earlier: str | None, today: date) -> int | None:
    """Whole calendar months from a local date to today (lifecycle stages count months:
    "no order for 3 months" is 3 here from the same day three months later)."""
    if earlier is None:
        return None
    d = date.fromisoformat(earlier)
    months = (today.year - d.year) * 12 + today.month - d.month
    return months - 1 if today.day < d.day else months


def orders_within(stats: Stats, days: int, today: date, *, fresh: bool = False) -> int:
    """Completed orders (with a fresh line kept, when ``fresh``) on the last ``days``
    local days including today: what "bought fresh >= 3 times in 30 days" reads."""
    since = (today - timedelta(days=days - 1)).isoformat()
    end = today.isoformat()
    return sum(v[1 if fresh else 0] for d, v in stats.days.items() if since <= d <= end)


# The recall list (issue 15 item 4) ----------------------------------------------------

RECALL_MONTHS = 3  # "none in the last 3 months" (fixed by the issue)
RECALL_WINDOW_DAYS = 30  # "ordered again within 30 days" of the first recall outcome
KEEP_RECALLS = 6  # recall rounds kept on a member's item (a round is >= 3 months apart)


def recall_cutoff(today: date) -> str:
    """The recall list on ``today`` holds members whose last-order month is before the
    returned "YYYY-MM": no order in today's month nor the ``RECALL_MONTHS`` before it,
    so every member listed has gone at least 3 whole months without an order
    (``months_between`` >= 3); one whose 3 months end mid-month joins on the 1st."""
    months = today.year * 12 + today.month - 1 - RECALL_MONTHS
    return f"{months // 12:04d}-{months % 12 + 1:02d}"


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def came_back_within(first_at: str, completed_at: str) -> bool:
    """An order completed after the first recall outcome, within RECALL_WINDOW_DAYS."""
    start = _at(first_at)
    return start < _at(completed_at) <= start + timedelta(days=RECALL_WINDOW_DAYS)


def _note_return(stats: Stats, completed_at: str) -> None:
    for record in stats.recalls.values():
        first, back = record[0], record[1]
        if came_back_within(first, completed_at) and (not back or completed_at < back):
            record[1] = completed_at


def mark_recalled(stats: Stats, round_key: str, first_at: str) -> bool:
    """Start following a recall round (its first outcome at ``first_at``): an order
    completed after it within RECALL_WINDOW_DAYS marks the member as come back. The
    orders already counted are looked at too (one completed while the outcome was being
    written). False: the round is followed already."""
    if round_key in stats.recalls:
        return False
    back = min(
        (str(v[0]) for v in stats.applied.values() if came_back_within(first_at, str(v[0]))),
        default="",
    )
    stats.recalls[round_key] = [first_at, back]
    if len(stats.recalls) > KEEP_RECALLS:
        newest = sorted(stats.recalls.items(), key=lambda kv: kv[1][0], reverse=True)
        stats.recalls = dict(newest[:KEEP_RECALLS])
    return True
