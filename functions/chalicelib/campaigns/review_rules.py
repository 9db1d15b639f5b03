"""The campaign review (复盘) as plain arithmetic (no AWS): figures of a window of store
days, the goal attainment, the cost against the budget, and the decomposition of the
change in sales 销售额 = 进店量 × 转化率 × 客单价 against a baseline period.

Definitions (docs/campaigns.md "The review" repeats them):

* GMV = paid − refunded of the window's sales (reports' rollups: paid orders not
  cancelled since, by the business day they were created on), in fen;
* orders = those sales; AOV (客单价) = GMV ÷ orders (net of refunds, so the three
  factors multiply back to GMV exactly);
* visitors (进店量) = the sum over store days of the distinct devices that visited the
  store that day (a device visiting on two days counts twice);
* conversion (转化率) = orders ÷ visitors;
* funnel: visit (visitors) → cart (devices that added to cart) → order (orders placed,
  paid or not) → pay (orders paid, kept or cancelled since);
* new members: members registered with the store as their home store that day;
* refund rate = refunded ÷ paid;
* ROI = (GMV − baseline GMV − cost) ÷ cost: the sales over the baseline that the
  campaign is credited with ("attributable"), less what it cost, per fen spent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

BASELINES = ("before", "last_year")
FACTORS = ("visitors", "conversion", "aov")
GOAL_KEYS = ("gmv_fen", "orders", "new_members", "aov_fen")
FUNDER_KEYS = ("hq", "store", "supplier")
COST_KINDS = ("discounts", "points", "commission", "prizes")
ALERT_SHARE = 0.8  # head office is alerted at 80 % of the budget


@dataclass
class DayFigures:
    """One store's day (or a sum of them): what the review reads of reports and traffic."""

    orders: int = 0  # sales: paid and not cancelled
    paid_fen: int = 0
    refunded_fen: int = 0
    refund_orders: int = 0
    placed: int = 0  # orders created that day, paid or not
    paid_orders: int = 0  # orders paid, cancelled since or not
    new_members: int = 0
    visitors: int = 0
    cart_visitors: int = 0
    # source ("p:<promotion_id>" / "t:<coupon template id>") -> [orders, fen]
    disc: dict[str, list[int]] = field(default_factory=dict)

    def add(self, other: DayFigures) -> DayFigures:
        """In place, returning self."""
        for name in (
            "orders",
            "paid_fen",
            "refunded_fen",
            "refund_orders",
            "placed",
            "paid_orders",
            "new_members",
            "visitors",
            "cart_visitors",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for source, (n, fen) in other.disc.items():
            got = self.disc.setdefault(source, [0, 0])
            got[0] += n
            got[1] += fen
        return self

    @property
    def gmv_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


def total(days: Iterable[DayFigures]) -> DayFigures:
    out = DayFigures()
    for d in days:
        out.add(d)
    return out


# --- periods -------------------------------------------------------------------------


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def shift_year(day: date, years: int = -1) -> date:
    """The same date ``years`` from ``day``; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def baseline_period(first: date, last: date, baseline: str) -> tuple[date, date]:
    """The baseline of the window ``first..last``: ``before``, the same number of days
    just before it; ``last_year``, the same dates one year earlier (last year's node)."""
    if baseline == "before":
        n = (last - first).days + 1
        return first - timedelta(days=n), first - timedelta(days=1)
    if baseline == "last_year":
        return shift_year(first), shift_year(last)
    raise ValueError(f"unknown baseline {baseline!r}")


# --- ratios --------------------------------------------------------------------------


def ratio(num: int | float, den: int | float) -> float | None:
    """num ÷ den, None when den is 0 (shown as "—")."""
    return None if not den else num / den


def aov_fen(gmv_fen: int, orders: int) -> int | None:
    """GMV ÷ orders, rounded down to the fen; None without orders."""
    return None if orders <= 0 else gmv_fen // orders


@dataclass(frozen=True)
class Kpis:
    gmv_fen: int
    paid_fen: int
    refunded_fen: int
    orders: int
    aov_fen: int | None
    visitors: int
    conversion: float | None
    new_members: int
    refund_rate: float | None


def kpis(f: DayFigures) -> Kpis:
    return Kpis(
        gmv_fen=f.gmv_fen,
        paid_fen=f.paid_fen,
        refunded_fen=f.refunded_fen,
        orders=f.orders,
        aov_fen=aov_fen(f.gmv_fen, f.orders),
        visitors=f.visitors,
        conversion=ratio(f.orders, f.visitors),
        new_members=f.new_members,
        refund_rate=ratio(f.refunded_fen, f.paid_fen),
    )


@dataclass(frozen=True)
class FunnelStep:
    step: str  # visit | cart | order | pay
    count: int
    rate: float | None  # of the step before (None for the first, or after a zero)


def funnel(f: DayFigures) -> list[FunnelStep]:
    counts = [
        ("visit", f.visitors),
        ("cart", f.cart_visitors),
        ("order", f.placed),
        ("pay", f.paid_orders),
    ]
    out, before = [], None
    for step, n in counts:
        out.append(FunnelStep(step, n, None if before is None else ratio(n, before)))
        before = n
    return out


@dataclass(frozen=True)
class GoalLine:
    key: str  # GOAL_KEYS
    goal: int | None
    actual: int | None
    attained: float | None  # actual ÷ goal


def goal_attainment(goal: dict[str, int | None], k: Kpis) -> list[GoalLine]:
    actual = {
        "gmv_fen": k.gmv_fen,
        "orders": k.orders,
        "new_members": k.new_members,
        "aov_fen": k.aov_fen,
    }
    out = []
    for key in GOAL_KEYS:
        g = goal.get(key)
        a = actual[key]
        out.append(GoalLine(key, g, a, None if not g or a is None else a / g))
    return out


@dataclass(frozen=True)
class Redemption:
    kind: str  # promotion | coupon_template
    source_id: str
    orders: int
    fen: int


def redemptions(
    disc: dict[str, list[int]], promotion_ids: Sequence[str], template_ids: Sequence[str]
) -> list[Redemption]:
    """The campaign's own sources, each listed even when nothing was redeemed."""
    out = []
    for kind, prefix, ids in (
        ("promotion", "p:", promotion_ids),
        ("coupon_template", "t:", template_ids),
    ):
        for sid in ids:
            n, fen = disc.get(prefix + sid, [0, 0])
            out.append(Redemption(kind, sid, n, fen))
    return out


@dataclass(frozen=True)
class Cost:
    budget_fen: int
    spent_fen: int
    used: float | None  # spent ÷ budget
    alert: bool  # at or over 80 %
    by_funder: dict[str, list[int]]  # funder -> [budget, spent]
    by_kind: dict[str, int]


def cost(budget: dict[str, int], spent: dict[str, int], by_kind: dict[str, int]) -> Cost:
    """``budget`` and ``spent`` by funder (FUNDER_KEYS), ``by_kind`` by COST_KINDS."""
    b = sum(budget.get(k, 0) for k in FUNDER_KEYS)
    s = sum(spent.get(k, 0) for k in FUNDER_KEYS)
    used = ratio(s, b)
    return Cost(
        budget_fen=b,
        spent_fen=s,
        used=used,
        alert=used is not None and used >= ALERT_SHARE,
        by_funder={k: [budget.get(k, 0), spent.get(k, 0)] for k in FUNDER_KEYS},
        by_kind={k: by_kind.get(k, 0) for k in COST_KINDS},
    )


def roi(gmv_fen: int, baseline_gmv_fen: int, cost_fen: int) -> float | None:
    """(GMV − baseline GMV − cost) ÷ cost; None when nothing was spent."""
    if cost_fen <= 0:
        return None
    return (gmv_fen - baseline_gmv_fen - cost_fen) / cost_fen


# --- the decomposition -------------------------------------------------------------


def largest_remainder(values: Sequence[float], target: int) -> list[int]:
    """Integers, each the floor or ceiling of its value, summing to ``target`` (values
    whose sum is ``target`` up to float error): the units left over go to the largest
    fractional parts (taken from the smallest when the floors overshoot)."""
    floors = [math.floor(v) for v in values]
    left = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    i = 0
    while left > 0:
        floors[order[i % len(order)]] += 1
        left -= 1
        i += 1
    i = 0
    while left < 0:
        floors[order[-1 - (i % len(order))]] -= 1
        left += 1
        i += 1
    return floors


def _log_mean(a: float, b: float) -> float:
    """The logarithmic mean L(a, b) = (a − b) ÷ (ln a − ln b); a when they are equal."""
    if a == b:
        return a
    return (a - b) / (math.log(a) - math.log(b))


@dataclass(frozen=True)
class Decomposition:
    """How the change in GMV splits into the three factors (LMDI): contributions in fen
    summing exactly to ``change_fen``. ``available`` is false when a factor is zero in
    either period (no visitors, no orders, or no GMV): the logarithms do not exist, and
    only the change is shown, with ``reason`` saying why."""

    baseline: str
    baseline_from: str
    baseline_to: str
    gmv_fen: int
    baseline_gmv_fen: int
    change_fen: int
    available: bool
    reason: str | None  # no_visitors | no_orders | no_sales (in either period)
    factors: dict[str, list[float | None]]  # factor -> [baseline, current]
    contributions_fen: dict[str, int]  # factor -> fen (empty when not available)
    moved_most: str | None  # the factor with the largest contribution (absolute)


def _factors(f: DayFigures) -> tuple[float | None, float | None, float | None]:
    v = f.visitors
    c = ratio(f.orders, f.visitors)
    a = ratio(f.gmv_fen, f.orders)
    return float(v), c, a


def decompose(
    current: DayFigures, base: DayFigures, baseline: str, base_from: date, base_to: date
) -> Decomposition:
    s1, s0 = current.gmv_fen, base.gmv_fen
    cur, old = _factors(current), _factors(base)
    factors = {name: [old[i], cur[i]] for i, name in enumerate(FACTORS)}
    reason = None
    if not current.visitors or not base.visitors:
        reason = "no_visitors"
    elif not current.orders or not base.orders:
        reason = "no_orders"
    elif s1 <= 0 or s0 <= 0:
        reason = "no_sales"
    contributions: dict[str, int] = {}
    moved = None
    if reason is None:
        weight = _log_mean(float(s1), float(s0))
        raw = [weight * math.log(cur[i] / old[i]) for i in range(3)]  # type: ignore[operator]
        split = largest_remainder(raw, s1 - s0)
        contributions = dict(zip(FACTORS, split, strict=True))
        moved = max(FACTORS, key=lambda n: (abs(contributions[n]), -FACTORS.index(n)))
    return Decomposition(
        baseline=baseline,
        baseline_from=base_from.isoformat(),
        baseline_to=base_to.isoformat(),
        gmv_fen=s1,
        baseline_gmv_fen=s0,
        change_fen=s1 - s0,
        available=reason is None,
        reason=reason,
        factors=factors,
        contributions_fen=contributions,
        moved_most=moved,
    )
