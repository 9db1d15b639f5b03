"""Points as cash at checkout (积分抵现): pure rules, no AWS.

Points pay after every discount (promotions, coupons, member prices) and before stored
value: they take off the goods as the discounts left them (never the delivery fee), at
``cash_points_per_yuan`` points per ¥1, at most ``cash_cap_percent`` of those goods, and
never all of them (at least 1 fen of goods stays to be paid in money, so that a refund
always has money to count the points it returns in).

Only whole fen: ``points_to_use`` buys ``floor(points × 100 / rate)`` fen, and the order
takes only the points those fen cost (``ceil(fen × rate / 100)``); points that would not
make a whole fen stay with the member (e.g. at 150 points per ¥1, 100 points buy 66 fen
for 99 points, and 1 point stays).

The cash value is split over the lines in proportion to what each paid after discounts
(largest remainder, kernel/money.allocate): each line's ``paid_fen`` is what money paid,
so refunds, stored value's share and the points earned all count money, and the points
spent come back in proportion to the money refunded (loyalty/points.reverse_for_refund).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.kernel.money import allocate


@dataclass(frozen=True)
class Offer:
    """What a member may use on a cart: at most ``points`` (worth ``fen``)."""

    spendable: int
    points: int
    fen: int
    cap_fen: int  # the cap alone (whatever the member holds)


def fen_for(points: int, points_per_yuan: int) -> int:
    """The whole fen ``points`` buy (the rest of a fen is not bought)."""
    return max(points, 0) * 100 // points_per_yuan


def points_for(fen: int, points_per_yuan: int) -> int:
    """The fewest points that buy ``fen``."""
    return -(-max(fen, 0) * points_per_yuan // 100)


def cap_fen(goods_fen: int, cap_percent: int) -> int:
    """The most points may pay of ``goods_fen`` (after discounts): the cap, and at most
    all but 1 fen."""
    if goods_fen <= 0:
        return 0
    return min(goods_fen * cap_percent // 100, goods_fen - 1)


def most_points_within(fen: int, points_per_yuan: int) -> int:
    """The most points that buy at most ``fen`` (when a point is worth more than a fen,
    ``points_for(fen)`` would buy more than ``fen``)."""
    return ((max(fen, 0) + 1) * points_per_yuan - 1) // 100


def offer(spendable: int, goods_fen: int, points_per_yuan: int, cap_percent: int) -> Offer:
    cap = cap_fen(goods_fen, cap_percent)
    most = min(max(spendable, 0), most_points_within(cap, points_per_yuan))
    points, fen = use(most, points_per_yuan)
    return Offer(max(spendable, 0), points, fen, cap)


def use(points_to_use: int, points_per_yuan: int) -> tuple[int, int]:
    """(points taken, fen they pay) for a request of ``points_to_use``: only the points
    whole fen cost are taken."""
    fen = fen_for(points_to_use, points_per_yuan)
    return points_for(fen, points_per_yuan), fen


def split_over_lines(fen: int, line_paid_fen: list[int]) -> list[int]:
    """Each line's share of ``fen`` (largest remainder, by what the line paid after
    discounts): never more than a line paid, summing exactly to ``fen``."""
    if fen <= 0:
        return [0] * len(line_paid_fen)
    return allocate(fen, line_paid_fen)
