"""Paid membership (付费会员卡) rules: plain Python, no I/O.

- A plan lasts whole calendar months (month 1, quarter 3, year 12); a purchase extends
  the card from its current end when it is still running, else from the payment.
- The monthly coupon pack falls due at the start of each membership month:
  ``started_at + k months`` for k = 0, 1, ... while before the card's end.
- A refund pays back each paid period not yet over: in full within ``full_refund_days``
  of its payment when no benefit was used, else the unused whole days pro rata (rounded
  down to the fen, like every proportional amount).
- At checkout the card gives free delivery and/or an item-level member price: the
  plan's member price or its discount, whichever is lower, never both.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Period = Literal["month", "quarter", "year"]
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
DAY = timedelta(days=1)


def add_months(at: datetime, months: int) -> datetime:
    """``at`` plus whole calendar months; the day clamps to the month's last (31 Jan + 1
    month = 28 or 29 Feb)."""
    index = at.month - 1 + months
    year, month = at.year + index // 12, index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def extension(
    current_end: datetime | None, now: datetime, months: int
) -> tuple[datetime, datetime]:
    """(start, end) of a period bought at ``now``: from the card's end while it runs
    (renewal never loses a day), else from now."""
    start = current_end if current_end is not None and current_end > now else now
    return start, add_months(start, months)


def pack_due(started_at: datetime, k: int) -> datetime:
    """When the k-th monthly coupon pack (k = 0 first) of a membership falls due."""
    return add_months(started_at, k)


def next_pack(started_at: datetime, issued: int, ends_at: datetime) -> datetime | None:
    """The next pack's due time, or None when the membership ends first."""
    due = pack_due(started_at, issued)
    return due if due < ends_at else None


def refund_fen(
    price_fen: int,
    start: datetime,
    end: datetime,
    paid_at: datetime,
    now: datetime,
    *,
    benefit_used: bool,
    full_refund_days: int,
) -> int:
    """What a paid period gives back when the card is refunded at ``now``.

    Not started yet (a renewal ahead): all of it. Within ``full_refund_days`` of its
    payment and no benefit used: all of it. Over: nothing. Else the unused whole days
    (from the start of tomorrow's day count, i.e. today counts as used) pro rata."""
    if now >= end:
        return 0
    if now <= start:
        return price_fen
    if not benefit_used and now < paid_at + full_refund_days * DAY:
        return price_fen
    total_days = max(1, (end - start).days)
    used_days = (now - start).days + 1  # the day begun counts as used
    unused = max(0, total_days - used_days)
    return price_fen * unused // total_days


@dataclass(frozen=True)
class CardBenefits:
    """What a running card gives at checkout. ``discount_permille``: permille taken off
    the list price (50 = 5 % off, 95折), rounded down to the fen as every percentage
    discount; ``member_prices``: the plan's unit price per SKU."""

    plan_id: str
    free_delivery: bool = False
    discount_permille: int = 0
    member_prices: Mapping[str, int] = field(default_factory=dict)

    def unit_price(self, sku: str, list_fen: int) -> int | None:
        """The card's unit price for a SKU, or None when it gives none: the better for
        the customer of the member price and the discount (never both applied)."""
        options = []
        if sku in self.member_prices:
            options.append(int(self.member_prices[sku]))
        if self.discount_permille > 0:
            options.append(list_fen - list_fen * self.discount_permille // 1000)
        best = min(options, default=None)
        return best if best is not None and 0 <= best < list_fen else None

    def prices_for(self, list_prices: Mapping[str, int]) -> MemberPriceBook:
        """The checkout's MemberPrices hook (checkout/promotion_engine.py) for a cart
        whose list prices are ``list_prices``."""
        return MemberPriceBook(
            {
                sku: p
                for sku, fen in list_prices.items()
                if (p := self.unit_price(sku, fen)) is not None
            }
        )


@dataclass(frozen=True)
class MemberPriceBook:
    """Unit prices per SKU: satisfies checkout's ``MemberPrices`` protocol."""

    prices: Mapping[str, int]

    def unit_price(self, sku: str) -> int | None:
        return self.prices.get(sku)
