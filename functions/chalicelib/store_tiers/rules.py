"""Store TOP tiers: the arithmetic (plain Python; docs/campaigns.md "Store TOP tiers").

* T (time online) = up_slots / open_slots: of the 5-minute slots sampled inside the
  store's business hours, those in which it was active with a healthy print relay;
  unknown without a slot (no business hours that month, or opened after it).
* O (order penetration) = online orders (paid, not cancelled) / the month's total
  transactions entered by head office; unknown without a total.
* P (punctuality) = on_time / timed (reports/rules.py on_time); unknown without a timed
  order.
* The tier is the highest of S, A, B whose thresholds every KNOWN figure meets; C
  otherwise, and C when no figure is known (nothing to earn a tier with).
Figures are basis points (integers, 10000 = 100 %); thresholds whole percents.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

TIERS = ("S", "A", "B", "C")
SLOT_S = 300  # the uptime sampler's period


@dataclass(frozen=True)
class Threshold:
    t: int  # percent
    o: int
    p: int


DEFAULTS: dict[str, Threshold] = {
    "S": Threshold(95, 30, 95),
    "A": Threshold(90, 20, 90),
    "B": Threshold(80, 10, 80),
}


@dataclass(frozen=True)
class Inputs:
    open_slots: int = 0
    up_slots: int = 0
    orders: int = 0
    transactions: int | None = None
    on_time: int = 0
    timed: int = 0


@dataclass(frozen=True)
class Score:
    t_bp: int | None
    o_bp: int | None
    p_bp: int | None
    tier: str
    unknown: tuple[str, ...]  # which of "t", "o", "p" were not known


def ratio_bp(part: int, whole: int | None) -> int | None:
    """part / whole in basis points, rounded down; None when whole is unknown or 0."""
    if not whole:
        return None
    return part * 10000 // whole


def meets(value_bp: int | None, percent: int) -> bool:
    return value_bp is None or value_bp >= percent * 100


def score(inputs: Inputs, thresholds: dict[str, Threshold]) -> Score:
    t = ratio_bp(inputs.up_slots, inputs.open_slots)
    o = ratio_bp(inputs.orders, inputs.transactions)
    p = ratio_bp(inputs.on_time, inputs.timed)
    unknown = tuple(name for name, v in (("t", t), ("o", o), ("p", p)) if v is None)
    tier = "C"
    if len(unknown) < 3:
        for name in ("S", "A", "B"):
            th = thresholds[name]
            if meets(t, th.t) and meets(o, th.o) and meets(p, th.p):
                tier = name
                break
    return Score(t, o, p, tier, unknown)


def slot_of(epoch_s: float) -> int:
    return int(epoch_s // SLOT_S)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def months_back(month: str, n: int) -> list[str]:
    """``n`` months ending with ``month``, oldest first."""
    out = [month]
    while len(out) < n:
        out.append(previous_month(out[-1]))
    return out[::-1]


def month_days(month: str) -> tuple[str, str]:
    """The first and last day (YYYY-MM-DD) of a month."""
    year, mon = int(month[:4]), int(month[5:7])
    last = calendar.monthrange(year, mon)[1]
    return f"{month}-01", f"{month}-{last:02d}"


def valid_month(month: str) -> bool:
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
        return False
    return 2000 <= int(month[:4]) <= 2100 and 1 <= int(month[5:]) <= 12
