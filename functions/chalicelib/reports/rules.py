"""The arithmetic of the daily rollups and of the sales report. Plain Python: the service
reads orders (by_store_day), the lines the order.paid events carried, the first tickets
and the catalogue's categories, and hands their figures here.

Definitions (the route's documentation repeats them):

* an order belongs to the business day it was created on (store time zone), as on the
  dashboard; it is a **sale** when it was paid and not cancelled since (a cancelled paid
  order is refunded whole: neither its payment nor that refund is a sale's figure);
* ``paid_fen``: what the sales paid; ``refunded_fen`` / ``refund_orders``: what has been
  refunded so far on them and how many of them had a refund; ``aov_fen`` = paid // orders;
  ``refund_rate`` = refunded / paid;
* categories and products: units and paid amount of the sales' lines as paid (refunds of
  single lines are not subtracted there);
* print latency: seconds from payment to the first ticket's ``printed_at``, counted in a
  small histogram (``LATENCY_BOUNDS_S``) so days and stores add up; percentiles are read
  from it by linear interpolation inside the bucket;
* missed prints: paid orders of the day whose first ticket was missed (漏单), resolved
  since or not;
* punctuality (store TOP tiers, docs/campaigns.md): of the sales whose outcome is known
  (``timed``), those picked within ``PICK_WITHIN_S`` of payment and delivered (or ready for
  pickup) within ``DELIVER_WITHIN_S`` (``PICKUP_WITHIN_S``) of it (``on_time``). An order
  still under way and not yet late is not counted yet.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

# Upper bounds (seconds) of the latency buckets; the last bucket is "more than 600 s".
LATENCY_BOUNDS_S: tuple[float, ...] = (2, 5, 10, 20, 30, 60, 120, 300, 600)
TOP_KEPT = 20  # products kept per day: a range's top 10 is read from the days' top 20
MAX_RANGE_DAYS = 366
# The promised times (from payment) that punctuality is measured against.
PICK_WITHIN_S = 20 * 60
DELIVER_WITHIN_S = 60 * 60
PICKUP_WITHIN_S = 30 * 60


@dataclass(frozen=True)
class Line:
    sku: str
    qty: int
    paid_fen: int


@dataclass(frozen=True)
class DayOrder:
    """What a day's rollup needs of one order of that day."""

    paid: bool
    paid_fen: int
    refunded_fen: int
    cancelled: bool
    lines: tuple[Line, ...] = ()
    latency_s: float | None = None  # None: first ticket not printed (yet)
    missed: bool = False  # its first ticket was missed (漏单)
    on_time: bool | None = None  # punctuality: None = not known (yet), or not read
    disc: tuple[tuple[str, int], ...] = ()  # its discounts by source (order.paid)
    waiting: bool = False  # a group-buy order paid and waiting for its group
    # effect reports (issue 18): the customer had no completed order before the order's
    # day (None: not read, e.g. an order without a discount)
    new_customer: bool | None = None


@dataclass
class DayFigures:
    """One (store, day) rollup, or several added up."""

    orders: int = 0
    paid_fen: int = 0
    refunded_fen: int = 0
    refund_orders: int = 0
    cancelled: int = 0
    printed: int = 0
    missed: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS_S) + 1))
    categories: dict[str, list[int]] = field(default_factory=dict)  # name -> [fen, units]
    products: dict[str, list[int]] = field(default_factory=dict)  # sku -> [units, fen]
    on_time: int = 0  # sales picked and delivered within the promised times
    timed: int = 0  # sales whose punctuality is known
    placed: int = 0  # orders created that day, paid or not
    # group-buy orders paid and waiting for their group (held, not refunded): not sales
    # until the group succeeds (issue 17)
    waiting: int = 0
    waiting_fen: int = 0
    new_members: int = 0  # members registered with the store as home store that day
    disc: dict[str, list[int]] = field(default_factory=dict)  # source -> [orders, fen]
    # effect reports (issue 18): source -> [gmv_fen, net_fen, new_customers] of the sales
    # carrying it (EFFECT_FIELDS); ``disc`` keeps its two numbers (campaign reviews)
    eff: dict[str, list[int]] = field(default_factory=dict)

    def add(self, other: DayFigures) -> None:
        for source, figures in other.eff.items():
            got = self.eff.setdefault(source, [0] * len(EFFECT_FIELDS))
            for i, value in enumerate(figures[: len(EFFECT_FIELDS)]):
                got[i] += value
        self.placed += other.placed
        self.waiting += other.waiting
        self.waiting_fen += other.waiting_fen
        self.new_members += other.new_members
        for source, (n, fen) in other.disc.items():
            got = self.disc.setdefault(source, [0, 0])
            got[0] += n
            got[1] += fen
        self.orders += other.orders
        self.paid_fen += other.paid_fen
        self.refunded_fen += other.refunded_fen
        self.refund_orders += other.refund_orders
        self.cancelled += other.cancelled
        self.printed += other.printed
        self.missed += other.missed
        self.on_time += other.on_time
        self.timed += other.timed
        self.hist = [a + b for a, b in zip(self.hist, other.hist, strict=True)]
        for name, (fen, units) in other.categories.items():
            got = self.categories.setdefault(name, [0, 0])
            got[0] += fen
            got[1] += units
        for sku, (units, fen) in other.products.items():
            got = self.products.setdefault(sku, [0, 0])
            got[0] += units
            got[1] += fen


EFFECT_FIELDS = ("gmv_fen", "net_fen", "new_customers")


def net_discount(fen: int, paid_fen: int, refunded_fen: int) -> int:
    """An order's discount from one source net of its refunds: the share of the discount
    on what the customer kept, ``fen × (paid − refunded) ÷ paid`` rounded down (a refund
    returns the paid share of the units, so the discount on them is not given; an order
    refunded in full keeps none). An order paid 0 (wholly discounted) keeps it all."""
    if refunded_fen <= 0 or paid_fen <= 0:
        return fen
    return fen * max(paid_fen - refunded_fen, 0) // paid_fen


# --- the lines an order.paid event carried, kept compact ------------------------------


def encode_lines(lines: Iterable[Line]) -> str:
    """``sku:qty:fen`` joined by ``;``: the smallest form (one write unit per order)."""
    return ";".join(f"{ln.sku}:{ln.qty}:{ln.paid_fen}" for ln in lines)


def encode_disc(discounts: dict[str, int]) -> str | None:
    """``source=fen`` joined by ``;`` (None when the order had no discount)."""
    return ";".join(f"{k}={v}" for k, v in sorted(discounts.items()) if v) or None


def decode_disc(text: str | None) -> tuple[tuple[str, int], ...]:
    if not text:
        return ()
    return tuple((k, int(v)) for k, _, v in (part.rpartition("=") for part in text.split(";")))


def decode_lines(text: str | None) -> tuple[Line, ...]:
    if not text:
        return ()
    out = []
    for part in text.split(";"):
        sku, qty, fen = part.rsplit(":", 2)
        out.append(Line(sku, int(qty), int(fen)))
    return tuple(out)


# --- a day -----------------------------------------------------------------------------


def bucket(latency_s: float) -> int:
    """Index of the histogram bucket holding ``latency_s``."""
    return bisect.bisect_left(LATENCY_BOUNDS_S, latency_s)


def day_figures(orders: Iterable[DayOrder], category_of: dict[str, str]) -> DayFigures:
    """The rollup of one store's day. ``category_of``: sku -> category1 (unknown skus
    count under "")."""
    f = DayFigures()
    for o in orders:
        f.placed += 1
        if o.waiting:
            f.waiting += 1
            f.waiting_fen += o.paid_fen - o.refunded_fen
        if not o.paid:
            continue
        if o.missed:
            f.missed += 1
        if o.latency_s is not None:
            f.printed += 1
            f.hist[bucket(o.latency_s)] += 1
        if o.cancelled:
            f.cancelled += 1
            continue
        f.orders += 1
        f.paid_fen += o.paid_fen
        f.refunded_fen += o.refunded_fen
        f.refund_orders += 1 if o.refunded_fen > 0 else 0
        if o.on_time is not None:
            f.timed += 1
            f.on_time += 1 if o.on_time else 0
        for source, fen in o.disc:
            got = f.disc.setdefault(source, [0, 0])
            got[0] += 1
            got[1] += fen
            eff = f.eff.setdefault(source, [0] * len(EFFECT_FIELDS))
            eff[0] += o.paid_fen - o.refunded_fen
            eff[1] += net_discount(fen, o.paid_fen, o.refunded_fen)
            eff[2] += 1 if o.new_customer else 0
        for ln in o.lines:
            cat = f.categories.setdefault(category_of.get(ln.sku, ""), [0, 0])
            cat[0] += ln.paid_fen
            cat[1] += ln.qty
            prod = f.products.setdefault(ln.sku, [0, 0])
            prod[0] += ln.qty
            prod[1] += ln.paid_fen
    f.products = dict(top_products(f.products, TOP_KEPT))
    return f


def on_time(
    fulfilment: str,
    paid_s: float,
    picked_s: float | None,
    done_s: float | None,
    now_s: float,
) -> bool | None:
    """Whether an order (times as epoch seconds; ``done``: delivered or ready for pickup)
    kept its promised times: True, False (late, known as soon as a promise has passed
    unkept), or None (under way and not late yet)."""
    done_within = PICKUP_WITHIN_S if fulfilment == "pickup" else DELIVER_WITHIN_S
    for at, within in ((picked_s, PICK_WITHIN_S), (done_s, done_within)):
        if (at if at is not None else now_s) - paid_s > within:
            return False
    return None if picked_s is None or done_s is None else True


def top_products(products: dict[str, list[int]], n: int) -> list[tuple[str, list[int]]]:
    """The ``n`` products with the largest paid amount (then units, then sku)."""
    ranked = sorted(products.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
    return ranked[:n]


def aov_fen(paid_fen: int, orders: int) -> int:
    return paid_fen // orders if orders else 0


def refund_rate(refunded_fen: int, paid_fen: int) -> float:
    """Share of the paid amount refunded, to 4 decimals (0 without sales)."""
    return round(refunded_fen / paid_fen, 4) if paid_fen else 0.0


def hist_percentile(hist: Sequence[int], p: float) -> float | None:
    """The ``p``-th percentile (0..100) of the histogram, interpolated linearly inside
    its bucket (the first bucket starts at 0; the open last one is read as its lower
    bound), to 0.1 s; None when empty."""
    total = sum(hist)
    if not total:
        return None
    target = total * p / 100
    seen = 0
    for i, count in enumerate(hist):
        if count and seen + count >= target:
            lo = LATENCY_BOUNDS_S[i - 1] if i > 0 else 0.0
            if i >= len(LATENCY_BOUNDS_S):
                return float(lo)
            hi = LATENCY_BOUNDS_S[i]
            return round(lo + (hi - lo) * (target - seen) / count, 1)
        seen += count
    return float(LATENCY_BOUNDS_S[-1])


# --- storage form (one item per store and day, kept under 1 KB) -------------------------


def dump_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str | None, default: object) -> object:
    return json.loads(text) if text else default


# --- ranges ----------------------------------------------------------------------------


def days_between(first: date, last: date) -> list[str]:
    """Every day from ``first`` to ``last`` inclusive, as YYYY-MM-DD."""
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period of the same length that ends the day before ``first``."""
    length = (last - first).days + 1
    return first - timedelta(days=length), first - timedelta(days=1)
