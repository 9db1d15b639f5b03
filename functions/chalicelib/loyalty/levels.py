"""Member levels (会员等级) and growth value (成长值): the pure rules (no AWS), and the two
hooks other parts ask: ``multiplier`` (the order-completion earn) and
``member_prices_for`` (the promotion engine's ``MemberPrices``).

A level is reached by growth; with the downgrade rule "recent_growth" a member keeps
the highest level the growth of the last N calendar months reaches (growth itself is
never spent nor reset: only the level can fall, after a notice)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from chalicelib.loyalty.programme_schemas import Level, LevelsSettings

MONTHS_KEPT = 37  # month buckets kept on the account (the rule's window is ≤ 36)


def ordered(settings: LevelsSettings) -> list[Level]:
    return sorted(settings.levels, key=lambda lv: (lv.threshold, lv.code))


def lowest(settings: LevelsSettings) -> Level:
    return ordered(settings)[0]


def rank(code: str | None, settings: LevelsSettings) -> int:
    """Position of a level (0: the lowest; an unknown or absent level is the lowest)."""
    codes = [lv.code for lv in ordered(settings)]
    return codes.index(code) if code in codes else 0


def find(code: str | None, settings: LevelsSettings) -> Level:
    levels = ordered(settings)
    return levels[rank(code, settings)]


def level_for(growth: int, settings: LevelsSettings) -> Level:
    """The highest level whose threshold ``growth`` reaches."""
    reached = [lv for lv in ordered(settings) if lv.threshold <= growth]
    return reached[-1] if reached else lowest(settings)


def next_level(code: str | None, settings: LevelsSettings) -> Level | None:
    levels = ordered(settings)
    i = rank(code, settings)
    return levels[i + 1] if i + 1 < len(levels) else None


def growth_for_order(kept_fen: int, growth_per_yuan: int) -> int:
    """``floor(kept fen × growth per yuan / 100)``: what the customer kept paying for."""
    if kept_fen <= 0:
        return 0
    return kept_fen * growth_per_yuan // 100


def refund_share(growth: int, refunded_since_fen: int, base_fen: int) -> int:
    """Growth to take back once ``refunded_since_fen`` of the order's ``base_fen`` came
    back: ``floor(growth × refunded / base)``, cumulative (each refund takes the
    difference to what was taken), so all refunds together take back exactly the order's
    growth when everything is refunded."""
    if base_fen <= 0 or refunded_since_fen <= 0:
        return 0
    return min(growth, growth * min(refunded_since_fen, base_fen) // base_fen)


# --- month buckets (the downgrade window) ---------------------------------------------
def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_add(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    k = y * 12 + (m - 1) + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def add_to_months(months: Mapping[str, int], month: str, delta: int) -> dict[str, int]:
    """The buckets with ``delta`` added to ``month`` (never below 0), the oldest pruned."""
    out = {k: int(v) for k, v in months.items() if k > month_add(month, -MONTHS_KEPT)}
    out[month] = max(0, out.get(month, 0) + delta)
    if out[month] == 0:
        del out[month]
    return out


def recent_growth(months: Mapping[str, int], this_month: str, n: int) -> int:
    """Growth earned in the last ``n`` calendar months, this one included."""
    first = month_add(this_month, -(n - 1))
    return sum(int(v) for k, v in months.items() if first <= k <= this_month)


def qualifying_growth(
    total: int, months: Mapping[str, int], this_month: str, settings: LevelsSettings
) -> int:
    """The growth that decides the level: all of it, or the recent window's."""
    if settings.downgrade.mode == "none":
        return total
    return min(total, recent_growth(months, this_month, settings.downgrade.months))


def level_after_change(
    current: str | None,
    delta: int,
    total: int,
    months: Mapping[str, int],
    this_month: str,
    settings: LevelsSettings,
) -> Level:
    """The level after growth changed by ``delta`` (``total`` and ``months`` already
    include it). Earning never lowers a level (only the review does, after a notice);
    a refund's reversal lowers it to what the total growth still reaches."""
    now = find(current, settings)
    if delta >= 0:
        target = level_for(qualifying_growth(total, months, this_month, settings), settings)
        return target if rank(target.code, settings) > rank(now.code, settings) else now
    cap = level_for(total, settings)
    return cap if rank(cap.code, settings) < rank(now.code, settings) else now


def levels_between(old: str | None, new: str, settings: LevelsSettings) -> list[Level]:
    """The levels above ``old`` up to ``new`` (each reached once: its level-up gift)."""
    levels = ordered(settings)
    return levels[rank(old, settings) + 1 : rank(new, settings) + 1]


def review_target(
    current: str | None,
    total: int,
    months: Mapping[str, int],
    this_month: str,
    settings: LevelsSettings,
) -> Level:
    """What the review would set: never above the current level."""
    target = level_for(qualifying_growth(total, months, this_month, settings), settings)
    now = find(current, settings)
    return target if rank(target.code, settings) < rank(now.code, settings) else now


# --- benefits ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LevelPrices:
    """The promotion engine's ``MemberPrices`` hook for one member: ``permille`` of the
    list price, rounded down to the fen (None: no member price, e.g. permille 1000)."""

    permille: int
    list_prices: Mapping[str, int]

    def unit_price(self, sku: str) -> int | None:
        price = self.list_prices.get(sku)
        if price is None or self.permille >= 1000:
            return None
        return price * self.permille // 1000

    def with_list_prices(self, list_prices: Mapping[str, int]) -> LevelPrices:
        return LevelPrices(self.permille, list_prices)


def exact_multiplier(value: float) -> Fraction:
    """The multiplier as its decimal text (1.2, not 1.19999...)."""
    return Fraction(str(value))


# --- the hooks other parts call ---------------------------------------------------------
def multiplier(customer_id: str) -> float:
    """The points multiplier of the member's level (one GetItem of the growth account,
    one of the levels settings)."""
    from chalicelib.loyalty import growth

    return growth.current_level(customer_id).points_multiplier


def member_prices_for(
    customer_id: str, list_prices: Mapping[str, int] | None = None
) -> LevelPrices:
    """The member's level price for the promotion engine (``MemberPrices``): give it the
    cart's list prices (sku -> fen), here or with ``with_list_prices``. Checkout can
    also build it without a read from the account it batch-reads: ``LevelPrices(
    level.discount_permille, prices)`` with ``growth.level_of(account, settings)``."""
    from chalicelib.loyalty import growth

    level = growth.current_level(customer_id)
    return LevelPrices(level.discount_permille, dict(list_prices or {}))
