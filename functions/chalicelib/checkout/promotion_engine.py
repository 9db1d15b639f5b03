"""Checkout promotions and coupons: what a cart costs once they are applied.

Plain Python, no I/O. Storage (promotions/service.py, coupons/service.py) converts what
it holds into the types below; :func:`evaluate` prices the cart with them, following
the stacking matrix of docs/promotions.md:

1. item level, on each line's list price: a flash price for the units the customer may
   still buy at it, else a member price (hook: per SKU the best of the member's level
   price and paid card, never both, decided by the caller); second item half price on
   lines without flash units;
2. order level, on the goods after item level with flash-priced units left out: at most
   one tiered discount (满减, the one saving most), then at most one goods coupon
   (amount or percent off) on what is left after the lines' tiered share;
3. a member's free delivery (paid card, or the level's threshold on the goods after
   discounts) waives the delivery fee, so no free-delivery coupon is spent on it; else at
   most one free-delivery coupon (its scope and threshold count every in-scope unit,
   flash-priced ones included).

Every discount is allocated to the lines it was computed on by largest remainder, so
each line knows exactly what was paid for it. Where a SKU's unit cost is known, a margin
floor keeps every line at or above cost: a tiered discount that would break it is left
out, a coupon that would is refused, and the best-combination search never suggests one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Literal, Protocol, runtime_checkable

from chalicelib.checkout.pricing import CartLine, DeliveryRule, Discount, Priced, PricedLine
from chalicelib.kernel.money import allocate, percent_off, yuan

CouponKind = Literal["amount_off", "percent_off", "free_delivery"]
CouponState = Literal["available", "locked", "used", "expired", "voided"]
Funder = Literal["hq", "store", "supplier"]
DiscountKind = Literal[
    "flash", "fixed_price", "member_price", "second_half", "tiered", "coupon", "free_delivery"
]

# Why a coupon does not apply (CouponVerdict.reason).
THRESHOLD_NOT_REACHED = "threshold_not_reached"
OUT_OF_SCOPE = "out_of_scope"
OTHER_STORE = "other_store"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
NOT_AVAILABLE = "not_available"
BUDGET_EXHAUSTED = "budget_exhausted"
BELOW_MARGIN_FLOOR = "below_margin_floor"
NOT_COMBINABLE = "not_combinable"
NO_DELIVERY_FEE = "no_delivery_fee"
NOT_IN_WALLET = "not_in_wallet"
# Why a promotion or coupon of a campaign does not apply (issue 16): its campaign is not
# spending now (draft, ended, outside its window), or the campaign's discounts on this
# cart do not fit in its budget left (the smallest are dropped until they fit).
CAMPAIGN_NOT_LIVE = "campaign_not_live"
CAMPAIGN_BUDGET_EXHAUSTED = "campaign_budget_exhausted"


@dataclass(frozen=True)
class Scope:
    """What a coupon or promotion covers. Categories are "category1" or
    "category1/category2"; no categories and no SKUs means all goods; no stores means
    every store."""

    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()

    def covers(self, line: CartLine) -> bool:
        if not self.categories and not self.skus:
            return True
        return (
            line.sku in self.skus
            or line.category1 in self.categories
            or f"{line.category1}/{line.category2}" in self.categories
        )

    def at_store(self, store_id: str) -> bool:
        return not self.stores or store_id in self.stores


ALL = Scope()


@dataclass(frozen=True)
class CouponOffer:
    """A coupon the customer holds, as storage read it."""

    coupon_id: str
    template_id: str
    name: str
    kind: CouponKind
    valid_from: datetime
    valid_until: datetime
    threshold_fen: int = 0  # 0: no threshold (无门槛)
    amount_off_fen: int = 0  # amount_off
    percent_off: int = 0  # percent_off: 15 means 15 % off; the discount rounds down to the fen
    cap_fen: int | None = None  # percent_off: the most it gives
    scope: Scope = ALL
    state: CouponState = "available"
    funded_by: Funder = "hq"
    # The template's budget still available (None: unlimited); a coupon whose discount
    # would exceed it does not apply.
    budget_left_fen: int | None = None
    campaign_id: str | None = None  # the template's campaign: its budget is shared


@dataclass(frozen=True)
class TieredDiscount:
    """满减: the highest tier reached gives its amount off, e.g. ((9900, 1000), (19900, 3000))
    is 满99减10 / 满199减30. Capped at the campaign's budget left, if it has one."""

    promotion_id: str
    name: str
    tiers: tuple[tuple[int, int], ...]  # (threshold_fen, off_fen)
    starts_at: datetime
    ends_at: datetime
    scope: Scope = ALL
    budget_left_fen: int | None = None
    funded_by: Funder = "hq"
    campaign_id: str | None = None  # the promotion's campaign: its budget is shared


@dataclass(frozen=True)
class SecondItemHalfPrice:
    """第二件半价: every second unit of an in-scope line at half its item price. The half
    taken off rounds down to the fen (the customer pays the odd fen), as every percentage
    discount does."""

    promotion_id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    scope: Scope = ALL
    funded_by: Funder = "hq"
    campaign_id: str | None = None
    units_limit: int | None = None  # issue 18: at most this many half-price units an order


@dataclass(frozen=True)
class FlashPrice:
    """秒杀: ``sku`` at ``price_fen`` for up to ``units_allowed`` units for this customer.
    Storage enforces the quantity and the per-customer limit; it tells the domain how
    many units this customer may still buy at the flash price."""

    promotion_id: str
    name: str
    sku: str
    price_fen: int
    units_allowed: int
    starts_at: datetime
    ends_at: datetime
    stores: frozenset[str] = frozenset()  # empty: every store
    funded_by: Funder = "hq"
    campaign_id: str | None = None


@dataclass(frozen=True)
class FixedPrice:
    """A fixed-price zone's price (9.9元专区): ``sku`` at ``price_fen`` for up to
    ``units_allowed`` units for this customer (the zone's per-customer limit less what
    they bought; storage counts it). A per-SKU price like a flash price: the two never
    combine (the lower wins, ties to the flash sale), it replaces a member price when
    lower, its units are left out of order-level discounts, and it is not applied when
    it would sell the SKU below its unit cost (the margin floor)."""

    promotion_id: str  # the zone's id
    name: str
    sku: str
    price_fen: int
    units_allowed: int
    starts_at: datetime
    ends_at: datetime
    stores: frozenset[str] = frozenset()  # empty: every store
    funded_by: Funder = "hq"
    campaign_id: str | None = None


Promotion = TieredDiscount | SecondItemHalfPrice | FlashPrice | FixedPrice


class MemberPrices(Protocol):
    """Hook for member prices: a member's unit price for a SKU, if any."""

    def unit_price(self, sku: str) -> int | None: ...


@runtime_checkable
class ExplainedMemberPrices(MemberPrices, Protocol):
    """A member-price hook that also says where each SKU's price comes from: (code,
    label), e.g. ("member_price:level:V3", "V3 会员价"); the engine explains each source's
    saving as its own discount. A plain hook's savings are one "member_price"."""

    def source_of(self, sku: str) -> tuple[str, str]: ...


MEMBER_PRICE = ("member_price", "Member price")


@dataclass(frozen=True)
class MemberDelivery:
    """A member's free delivery: the fee is waived when the goods after discounts reach
    ``from_fen`` (0: always). Several are tried in the caller's order; the first that
    applies is the one explained (``code``, ``label``)."""

    code: str
    label: str
    from_fen: int


@dataclass(frozen=True)
class PointsMultiplier:
    """A member day's extra points on this order (会员日 2 倍积分): ``multiplier`` as
    decimal text ("2", "1.5"), on top of the level's. The order records it when placed
    and its completion earns with it (loyalty/tasks.on_order_completed)."""

    code: str  # "member_day:<id>"
    label: str
    source_id: str
    multiplier: str


@dataclass(frozen=True)
class AppliedDiscount:
    """One discount granted, with the amount it was computed on and its share per line
    (``allocation`` is aligned with the cart's lines and sums to ``amount_fen``; a
    free-delivery waiver is on the order, not on lines, so its allocation is all zeros)."""

    # "flash:<id>", "fixed_price:<zone id>", "member_price", "second_half:<id>",
    # "tiered:<id>", "coupon:<id>", "free_delivery:<id>"
    code: str
    label: str
    kind: DiscountKind
    source_id: str  # promotion or coupon id ("" for member prices)
    amount_fen: int
    base_fen: int
    base: str  # the price it was computed on, e.g. "list price", "after tiered discount"
    funded_by: Funder
    allocation: tuple[int, ...]
    note: str = ""  # e.g. "capped at the campaign budget left"
    campaign_id: str | None = None  # the campaign whose budget this discount spends


@dataclass(frozen=True)
class FlashUnits:
    """Units priced at a flash price: storage reserves exactly these when placing."""

    promotion_id: str
    sku: str
    units: int
    price_fen: int


@dataclass(frozen=True)
class NextTier:
    """The tiered discount the cart is working toward: the applied one's next tier, or
    when none applies the live one closest to its first tier. ``base_fen`` is the
    cart's eligible base for it (after item promotions, per-SKU-priced units left out);
    ``gap_fen`` = ``threshold_fen`` - ``base_fen``."""

    promotion_id: str
    name: str
    threshold_fen: int
    off_fen: int
    base_fen: int
    gap_fen: int
    scope: Scope = ALL


@dataclass(frozen=True)
class CouponVerdict:
    """Whether a coupon applies to this cart on its own (and, for a chosen coupon, in the
    chosen combination), why not, and what it would take off alone."""

    coupon_id: str
    applies: bool
    discount_fen: int  # what it would give alone (the fee waived for free delivery); 0 if not
    reason: str | None = None
    message: str = ""
    shortfall_fen: int = 0  # threshold_not_reached: how much more eligible goods are needed


@dataclass(frozen=True)
class Checkout:
    """The priced cart with promotions and coupons, and what storage and the shopper need."""

    priced: Priced
    applied: tuple[AppliedDiscount, ...]
    flash_units: tuple[FlashUnits, ...]
    coupon_verdicts: tuple[CouponVerdict, ...]
    suggested_coupon_ids: tuple[str, ...]
    applied_coupon_ids: tuple[str, ...]
    rejected_coupon_ids: tuple[str, ...] = ()  # chosen but not applied (see the verdicts)
    refusal_reason: str | None = None  # the first rejected coupon's reason code
    refusal: str | None = None  # and its message
    notes: tuple[str, ...] = ()  # promotions left out or capped, and why
    delivery_fee_waived_fen: int = 0
    points_multiplier: PointsMultiplier | None = None  # a member day's, the highest
    fixed_units: tuple[FlashUnits, ...] = ()  # units at a fixed-price zone's price
    next_tier: NextTier | None = None  # what the next 满减 tier needs (None: at the top)
    # SKUs whose units this cart prices at a per-SKU price (flash, fixed price): one more
    # unit of them would not count toward a tiered discount
    per_sku_priced: frozenset[str] = frozenset()

    @property
    def total_fen(self) -> int:
        return self.priced.total_fen

    def verdict(self, coupon_id: str) -> CouponVerdict:
        return next(v for v in self.coupon_verdicts if v.coupon_id == coupon_id)


def _live(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    return starts_at <= now < ends_at


@dataclass
class _Line:
    """Working figures for one cart line."""

    line: CartLine
    unit_fen: int  # the price of a unit not at the flash price: member price or list price
    flash: FlashPrice | FixedPrice | None = None  # the line's per-SKU price, if any
    flash_units: int = 0
    half_off_fen: int = 0
    tiered_fen: int = 0

    @property
    def item_fen(self) -> int:
        """What the line costs after item-level promotions."""
        flash = self.flash.price_fen * self.flash_units if self.flash else 0
        return flash + (self.line.qty - self.flash_units) * self.unit_fen - self.half_off_fen

    @property
    def order_base_fen(self) -> int:
        """The part order-level discounts are computed on: units not at a flash price,
        after item level (second half price is never on a line with flash units)."""
        return (self.line.qty - self.flash_units) * self.unit_fen - self.half_off_fen


def _per_sku_key(p: FlashPrice | FixedPrice) -> tuple[int, int, str]:
    """The per-SKU price that wins: the lowest, ties to the flash sale, then the id."""
    return (p.price_fen, 0 if isinstance(p, FlashPrice) else 1, p.promotion_id)


def _item_level(
    lines: Sequence[CartLine],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    member_prices: MemberPrices | None,
    costs: Mapping[str, int] | None = None,
    notes: list[str] | None = None,
) -> tuple[list[_Line], list[AppliedDiscount], list[FlashUnits], list[FlashUnits]]:
    flash_by_sku: dict[str, FlashPrice | FixedPrice] = {}
    halves: list[SecondItemHalfPrice] = []
    for p in promotions:
        if not _live(p.starts_at, p.ends_at, now):
            continue
        if isinstance(p, FlashPrice | FixedPrice):
            if p.units_allowed <= 0 or (p.stores and store_id not in p.stores):
                continue
            cost = costs.get(p.sku) if costs else None
            if isinstance(p, FixedPrice) and cost is not None and p.price_fen < cost:
                if notes is not None:
                    notes.append(f"{p.name} left out on {p.sku}: it would sell below cost")
                continue
            best = flash_by_sku.get(p.sku)
            if best is None or _per_sku_key(p) < _per_sku_key(best):
                flash_by_sku[p.sku] = p
        elif isinstance(p, SecondItemHalfPrice) and p.scope.at_store(store_id):
            halves.append(p)
    halves.sort(key=lambda h: h.promotion_id)

    work: list[_Line] = []
    flash_left = {sku: f.units_allowed for sku, f in flash_by_sku.items()}
    for line in lines:
        unit = line.unit_price_fen
        member = member_prices.unit_price(line.sku) if member_prices else None
        if member is not None and 0 <= member < unit:
            unit = member
        w = _Line(line, unit)
        flash = flash_by_sku.get(line.sku)
        # Flash (or fixed) and member prices never combine: used only if lower.
        if flash is not None and flash.price_fen < unit and flash_left[line.sku] > 0:
            w.flash = flash
            w.flash_units = min(line.qty, flash_left[line.sku])
            flash_left[line.sku] -= w.flash_units
        work.append(w)

    n = len(lines)
    applied: list[AppliedDiscount] = []
    flash_units: list[FlashUnits] = []
    fixed_units: list[FlashUnits] = []
    by_flash: dict[tuple[str, str], list[int]] = {}
    for i, w in enumerate(work):
        if w.flash:
            kind = "flash" if isinstance(w.flash, FlashPrice) else "fixed_price"
            by_flash.setdefault((kind, w.flash.promotion_id), []).append(i)
    for (kind, pid), idx in sorted(by_flash.items()):
        f = work[idx[0]].flash
        assert f is not None
        alloc = [0] * n
        for i in idx:
            alloc[i] = (work[i].line.unit_price_fen - f.price_fen) * work[i].flash_units
        # Units per SKU (a flash sale has one; lines of the same SKU add up): what
        # storage reserves (flash) or counts against the per-customer limit (fixed).
        per_sku: dict[str, int] = {}
        for i in idx:
            sku = work[i].line.sku
            per_sku[sku] = per_sku.get(sku, 0) + work[i].flash_units
        for sku, count in per_sku.items():
            units = FlashUnits(pid, sku, count, f.price_fen)
            (flash_units if kind == "flash" else fixed_units).append(units)
        applied.append(
            AppliedDiscount(
                code=f"{kind}:{pid}",
                label=f.name,
                kind="flash" if kind == "flash" else "fixed_price",
                source_id=pid,
                amount_fen=sum(alloc),
                base_fen=sum(work[i].line.unit_price_fen * work[i].flash_units for i in idx),
                base="list price",
                funded_by=f.funded_by,
                allocation=tuple(alloc),
                campaign_id=f.campaign_id,
            )
        )
    member_alloc = [
        (w.line.unit_price_fen - w.unit_fen) * (w.line.qty - w.flash_units) for w in work
    ]
    # One discount per source of member prices (level, card), in the cart's order.
    explain = member_prices.source_of if isinstance(member_prices, ExplainedMemberPrices) else None
    sources: dict[tuple[str, str], list[int]] = {}
    for i, (w, a) in enumerate(zip(work, member_alloc, strict=True)):
        if a:
            sources.setdefault(explain(w.line.sku) if explain else MEMBER_PRICE, []).append(i)
    for (code, label), idx in sources.items():
        alloc = [member_alloc[i] if i in idx else 0 for i in range(n)]
        applied.append(
            AppliedDiscount(
                code=code,
                label=label,
                kind="member_price",
                source_id="",
                amount_fen=sum(alloc),
                base_fen=sum(
                    work[i].line.unit_price_fen * (work[i].line.qty - work[i].flash_units)
                    for i in idx
                ),
                base="list price",
                funded_by="hq",
                allocation=tuple(alloc),
            )
        )
    for h in halves:
        alloc = [0] * n
        base = 0
        units_left = h.units_limit  # None: every second unit
        for i, w in enumerate(work):
            if w.flash_units or w.half_off_fen or w.line.qty < 2 or not h.scope.covers(w.line):
                continue
            if units_left is not None and (units_left <= 0 or w.unit_fen < 2):
                continue  # capped: a unit with nothing to halve does not use the cap
            halves_n = _capped_halves(w.line.qty // 2, units_left)
            if units_left is not None:
                units_left -= halves_n
            w.half_off_fen = halves_n * (w.unit_fen // 2)
            alloc[i] = w.half_off_fen
            base += w.unit_fen * w.line.qty
        if any(alloc):
            applied.append(
                AppliedDiscount(
                    code=f"second_half:{h.promotion_id}",
                    label=h.name,
                    kind="second_half",
                    source_id=h.promotion_id,
                    amount_fen=sum(alloc),
                    base_fen=base,
                    base="item price (member price where one applies)",
                    funded_by=h.funded_by,
                    allocation=tuple(alloc),
                    campaign_id=h.campaign_id,
                )
            )
    return work, applied, flash_units, fixed_units


def _capped_halves(pairs: int, units_left: int | None) -> int:
    """Half-price units a line gets: one per pair, within the order's cap left (issue 18
    ``per_order_units``)."""
    return pairs if units_left is None else min(pairs, units_left)


def _below_floor(
    work: Sequence[_Line], shares: Sequence[int], costs: Mapping[str, int] | None
) -> str | None:
    """The first SKU a discount's ``shares`` (on top of what the lines already carry)
    would push below cost, or None. Lines the discount does not touch are not its fault."""
    if not costs:
        return None
    for w, share in zip(work, shares, strict=True):
        cost = costs.get(w.line.sku)
        if share and cost is not None and w.item_fen - w.tiered_fen - share < cost * w.line.qty:
            return w.line.sku
    return None


def _tiered(
    work: list[_Line],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    costs: Mapping[str, int] | None,
    notes: list[str],
) -> AppliedDiscount | None:
    """The tiered discount saving most (ties: the smaller promotion id) that keeps the
    margin floor; its shares are recorded on the lines."""
    candidates: list[tuple[int, str, TieredDiscount, list[int], int, str]] = []
    for p in promotions:
        if not isinstance(p, TieredDiscount) or not _live(p.starts_at, p.ends_at, now):
            continue
        if not p.scope.at_store(store_id):
            continue
        bases = [w.order_base_fen if p.scope.covers(w.line) else 0 for w in work]
        base = sum(bases)
        off = max((o for t, o in p.tiers if base >= t), default=0)
        amount, note = min(off, base), ""
        if p.budget_left_fen is not None and amount > p.budget_left_fen:
            amount = max(0, p.budget_left_fen)
            note = f"capped at the campaign budget left ({yuan(amount)} instead of {yuan(off)})"
            if amount == 0:
                notes.append(f"{p.name}: its campaign budget is spent")
        if amount > 0:
            candidates.append((-amount, p.promotion_id, p, bases, base, note))
    for neg, _pid, p, bases, base, note in sorted(candidates, key=lambda c: c[:2]):
        shares = allocate(-neg, bases)
        sku = _below_floor(work, shares, costs)
        if sku is not None:
            notes.append(f"{p.name} left out: it would sell {sku} below cost")
            continue
        for w, share in zip(work, shares, strict=True):
            w.tiered_fen = share
        return AppliedDiscount(
            code=f"tiered:{p.promotion_id}",
            label=p.name,
            kind="tiered",
            source_id=p.promotion_id,
            amount_fen=-neg,
            base_fen=base,
            base="after item promotions, flash-sale units excluded",
            funded_by=p.funded_by,
            allocation=tuple(shares),
            note=note,
            campaign_id=p.campaign_id,
        )
    return None


def _next_tier(
    work: Sequence[_Line],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    applied: AppliedDiscount | None,
) -> NextTier | None:
    """The applied tiered discount's next tier (None at its top), or when none applies
    the live one whose first tier is closest (ties: the larger amount off, then the id);
    its base is the engine's own (after item promotions, per-SKU-priced units out)."""
    found: list[tuple[int, int, str, NextTier]] = []
    for p in promotions:
        if not isinstance(p, TieredDiscount) or not _live(p.starts_at, p.ends_at, now):
            continue
        if not p.scope.at_store(store_id):
            continue
        if applied is not None and p.promotion_id != applied.source_id:
            continue
        base = sum(w.order_base_fen for w in work if p.scope.covers(w.line))
        nxt = next_tier_of(p.tiers, base)
        if nxt is None:
            continue
        threshold, off = nxt
        tier = NextTier(p.promotion_id, p.name, threshold, off, base, threshold - base, p.scope)
        found.append((tier.gap_fen, -off, p.promotion_id, tier))
    return min(found, key=lambda f: f[:3])[3] if found else None


def next_tier_of(tiers: Sequence[tuple[int, int]], base_fen: int) -> tuple[int, int] | None:
    """The first tier (threshold_fen, off_fen) above ``base_fen``, or None at the top."""
    return next(((t, o) for t, o in sorted(tiers) if base_fen < t), None)


@dataclass(frozen=True)
class _CouponCalc:
    """A coupon evaluated alone: its verdict and, when it applies, its line shares."""

    verdict: CouponVerdict
    offer: CouponOffer
    shares: tuple[int, ...] = ()
    base_fen: int = 0


CAMPAIGN_MESSAGES = {
    CAMPAIGN_NOT_LIVE: "Its campaign is not on now",
    CAMPAIGN_BUDGET_EXHAUSTED: "Its campaign's budget is used up",
}
# Promotions storage leaves out for this customer (issue 18, promotions/limits.py): a
# limit used up, a new-customer benefit for someone else (``left_out`` of ``evaluate``).
LEFT_OUT_MESSAGES = {
    "limit_reached": "Its limit is used up",
    "first_order_only": "It is for a customer's first order only",
    "new_customers_only": "It is for new customers only",
    "new_customer_already_used": "Another account with this device or address already had it",
}
CAMPAIGN_MESSAGES |= LEFT_OUT_MESSAGES


@dataclass
class _CampaignPool:
    """The spending campaigns' budget left (campaign id -> fen), and the promotions and
    coupons left out of this pricing because of their campaign (id -> reason)."""

    left: Mapping[str, int]
    promotions: dict[str, str] = field(default_factory=dict)
    coupons: dict[str, str] = field(default_factory=dict)


def _refuse(c: CouponOffer, reason: str, message: str, **kw: int) -> _CouponCalc:
    return _CouponCalc(CouponVerdict(c.coupon_id, False, 0, reason, message, **kw), c)


def _coupon_alone(
    c: CouponOffer,
    work: Sequence[_Line],
    *,
    store_id: str,
    now: datetime,
    fee_fen: int,
    costs: Mapping[str, int] | None,
    pool: _CampaignPool,
) -> _CouponCalc:
    """Check a coupon on this cart on its own; ``fee_fen`` is the delivery fee the order
    would pay without it (what a free-delivery coupon would waive)."""
    if c.state == "expired":
        return _refuse(c, EXPIRED, f"Expired on {c.valid_until.date().isoformat()}")
    if c.state != "available":
        return _refuse(c, NOT_AVAILABLE, f"This coupon is {c.state}")
    blocked = pool.coupons.get(c.coupon_id)
    if blocked is not None:
        return _refuse(c, blocked, CAMPAIGN_MESSAGES[blocked])
    if not c.scope.at_store(store_id):
        return _refuse(c, OTHER_STORE, "Not valid at this store")
    if now < c.valid_from:
        return _refuse(c, NOT_YET_VALID, f"Valid from {c.valid_from.date().isoformat()}")
    if now >= c.valid_until:
        return _refuse(c, EXPIRED, f"Expired on {c.valid_until.date().isoformat()}")
    if c.kind == "free_delivery":
        # Flash price and free delivery combine (the stacking matrix): its scope and
        # threshold count flash-priced units too, unlike a goods coupon's base.
        bases = [w.item_fen - w.tiered_fen if c.scope.covers(w.line) else 0 for w in work]
    else:
        bases = [w.order_base_fen - w.tiered_fen if c.scope.covers(w.line) else 0 for w in work]
    base = sum(bases)
    if base == 0:
        return _refuse(c, OUT_OF_SCOPE, "No eligible items in the cart")
    if base < c.threshold_fen:
        short = c.threshold_fen - base
        return _refuse(
            c,
            THRESHOLD_NOT_REACHED,
            f"Spend {yuan(short)} more on eligible items",
            shortfall_fen=short,
        )
    if c.kind == "free_delivery":
        if fee_fen == 0:
            return _refuse(c, NO_DELIVERY_FEE, "No delivery fee to waive")
        amount, shares = fee_fen, tuple(0 for _ in work)
    else:
        if c.kind == "amount_off":
            amount = min(c.amount_off_fen, base)
        else:
            amount = percent_off(base, c.percent_off * 100)
            if c.cap_fen is not None:
                amount = min(amount, c.cap_fen)
        if amount <= 0:
            return _refuse(c, OUT_OF_SCOPE, "Gives nothing on the eligible items")
        shares = tuple(allocate(amount, bases))
    if c.budget_left_fen is not None and amount > c.budget_left_fen:
        return _refuse(c, BUDGET_EXHAUSTED, "This coupon's budget is used up")
    if c.campaign_id is not None and amount > pool.left.get(c.campaign_id, 0):
        return _refuse(c, CAMPAIGN_BUDGET_EXHAUSTED, CAMPAIGN_MESSAGES[CAMPAIGN_BUDGET_EXHAUSTED])
    sku = _below_floor(work, shares, costs)
    if sku is not None:
        return _refuse(c, BELOW_MARGIN_FLOOR, f"Cannot be used here: {sku} would sell below cost")
    return _CouponCalc(CouponVerdict(c.coupon_id, True, amount), c, shares, base)


def _fd_candidate(calc: _CouponCalc) -> bool:
    """A free-delivery coupon that passes every check but may have no fee to waive yet."""
    return calc.offer.kind == "free_delivery" and (
        calc.verdict.applies or calc.verdict.reason == NO_DELIVERY_FEE
    )


def _coupon_applied(calc: _CouponCalc, tiered: bool, fee_fen: int, n: int) -> AppliedDiscount:
    c = calc.offer
    if c.kind == "free_delivery":
        return AppliedDiscount(
            code=f"free_delivery:{c.coupon_id}",
            label=c.name,
            kind="free_delivery",
            source_id=c.coupon_id,
            amount_fen=fee_fen,
            base_fen=fee_fen,
            base="delivery fee",
            funded_by=c.funded_by,
            allocation=(0,) * n,
            campaign_id=c.campaign_id,
        )
    return AppliedDiscount(
        code=f"coupon:{c.coupon_id}",
        label=c.name,
        kind="coupon",
        source_id=c.coupon_id,
        amount_fen=calc.verdict.discount_fen,
        base_fen=calc.base_fen,
        base=(
            "after tiered discount, flash-sale units excluded"
            if tiered
            else "after item promotions, flash-sale units excluded"
        ),
        funded_by=c.funded_by,
        allocation=calc.shares,
        campaign_id=c.campaign_id,
    )


def _combo_key(total: int, goods: _CouponCalc | None, fd: _CouponCalc | None) -> tuple[object, ...]:
    """Lowest total first; then fewer coupons; then the coupon expiring first, then the
    smaller coupon id (goods coupon first, then the free-delivery one)."""

    def part(c: _CouponCalc | None) -> tuple[object, ...]:
        return (0, c.offer.valid_until, c.offer.coupon_id) if c else (1,)

    return (total, (goods is not None) + (fd is not None), part(goods), part(fd))


def evaluate(
    lines: Sequence[CartLine],
    *,
    store_id: str,
    now: datetime,
    fulfilment: str,
    delivery: DeliveryRule,
    minimum_order_fen: int,
    coupons: Sequence[CouponOffer] = (),
    promotions: Sequence[Promotion] = (),
    chosen_coupon_ids: Sequence[str] | None = None,
    costs: Mapping[str, int] | None = None,
    member_prices: MemberPrices | None = None,
    member_delivery: Sequence[MemberDelivery] = (),
    points_multipliers: Sequence[PointsMultiplier] = (),
    campaigns: Mapping[str, int] | None = None,
    left_out: Mapping[str, str] | None = None,
) -> Checkout:
    """Price the cart with the promotions on at the store and the customer's coupons.

    ``chosen_coupon_ids`` None: apply the best combination (``suggested_coupon_ids``);
    otherwise apply exactly those coupons that are allowed, in the order given, and list
    the others in ``rejected_coupon_ids`` with their verdict (the caller refuses the
    order). ``costs`` (unit cost per SKU, where known) sets the margin floor.
    ``member_delivery``: the member's free delivery (paid card, level), tried in order.
    ``points_multipliers``: the member days on now for this member; the highest is the
    order's (they do not multiply each other; the level's multiplier does, at earning).
    ``campaigns``: the campaigns spending now, with their budget left (campaign id ->
    fen). A promotion or coupon naming a campaign not in it is not applied
    (``campaign_not_live``); a campaign's discounts on the cart share its budget left:
    while they exceed it, the smallest of them is left out and the cart priced again
    (``campaign_budget_exhausted``; a note or the coupon's verdict says so).
    ``left_out``: promotion id -> reason (``LEFT_OUT_MESSAGES``) for promotions not
    for this cart (a limit used up): not applied, a note says why.
    ``now`` is an aware datetime; windows are instants, so the store's time zone only
    matters to whoever set them.
    """
    pool = _CampaignPool(campaigns or {})
    pool.promotions.update(left_out or {})
    for p in promotions:
        if p.campaign_id is not None:
            left = pool.left.get(p.campaign_id)
            if left is None or left <= 0:
                reason = CAMPAIGN_NOT_LIVE if left is None else CAMPAIGN_BUDGET_EXHAUSTED
                pool.promotions[p.promotion_id] = reason
    for c in coupons:
        if c.campaign_id is not None:
            left = pool.left.get(c.campaign_id)
            if left is None or left <= 0:
                reason = CAMPAIGN_NOT_LIVE if left is None else CAMPAIGN_BUDGET_EXHAUSTED
                pool.coupons[c.coupon_id] = reason
    # Each pass leaves out one more discount: at most one pass per promotion and coupon.
    for _ in range(len(promotions) + len(coupons) + 1):
        checkout = _evaluate(
            lines,
            store_id=store_id,
            now=now,
            fulfilment=fulfilment,
            delivery=delivery,
            minimum_order_fen=minimum_order_fen,
            coupons=coupons,
            promotions=promotions,
            chosen_coupon_ids=chosen_coupon_ids,
            costs=costs,
            member_prices=member_prices,
            member_delivery=member_delivery,
            points_multipliers=points_multipliers,
            pool=pool,
        )
        drop = over_budget(checkout.applied, pool.left)
        if drop is None:
            return checkout
        if drop.kind in ("coupon", "free_delivery"):
            pool.coupons[drop.source_id] = CAMPAIGN_BUDGET_EXHAUSTED
        else:
            pool.promotions[drop.source_id] = CAMPAIGN_BUDGET_EXHAUSTED
    raise AssertionError("unreachable: every campaign discount left out fits")


def campaign_spend(applied: Sequence[AppliedDiscount]) -> dict[str, int]:
    """What the applied discounts spend from each campaign (campaign id -> fen)."""
    out: dict[str, int] = {}
    for a in applied:
        if a.campaign_id is not None and a.amount_fen > 0:
            out[a.campaign_id] = out.get(a.campaign_id, 0) + a.amount_fen
    return out


def over_budget(
    applied: Sequence[AppliedDiscount], left: Mapping[str, int]
) -> AppliedDiscount | None:
    """The discount to leave out when a campaign's discounts exceed its budget left: the
    smallest of the first such campaign's (ties: the smaller code), or None when all fit."""
    for cid, spent in sorted(campaign_spend(applied).items()):
        if spent > left.get(cid, 0):
            mine = [a for a in applied if a.campaign_id == cid and a.amount_fen > 0]
            return min(mine, key=lambda a: (a.amount_fen, a.code))
    return None


def _evaluate(
    lines: Sequence[CartLine],
    *,
    store_id: str,
    now: datetime,
    fulfilment: str,
    delivery: DeliveryRule,
    minimum_order_fen: int,
    coupons: Sequence[CouponOffer] = (),
    promotions: Sequence[Promotion] = (),
    chosen_coupon_ids: Sequence[str] | None = None,
    costs: Mapping[str, int] | None = None,
    member_prices: MemberPrices | None = None,
    member_delivery: Sequence[MemberDelivery] = (),
    points_multipliers: Sequence[PointsMultiplier],
    pool: _CampaignPool,
) -> Checkout:
    """One pricing pass (``evaluate``), with the promotions and coupons ``pool`` leaves
    out."""
    n = len(lines)
    notes: list[str] = []
    if pool.promotions:
        kept: list[Promotion] = []
        for p in promotions:
            reason = pool.promotions.get(p.promotion_id)
            if reason is None:
                kept.append(p)
            else:
                notes.append(f"{p.name} left out: {CAMPAIGN_MESSAGES[reason].lower()} ({reason})")
        promotions = kept
    work, applied, flash_units, fixed_units = _item_level(
        lines, store_id, now, promotions, member_prices, costs, notes
    )
    tiered = _tiered(work, store_id, now, promotions, costs, notes)
    if tiered:
        applied.append(tiered)
    subtotal = sum(line.amount_fen for line in lines)
    before_coupons = sum(w.item_fen - w.tiered_fen for w in work)

    def store_fee(goods: int) -> int:
        return delivery.fee(goods) if fulfilment == "delivery" else 0

    def member_waiver(goods: int) -> MemberDelivery | None:
        """The member's free delivery that waives the fee at ``goods``, if any."""
        if store_fee(goods) == 0:
            return None  # nothing to waive: the store's own threshold, or pickup
        return next((m for m in member_delivery if goods >= m.from_fen), None)

    def fee(goods: int) -> int:
        return 0 if member_waiver(goods) else store_fee(goods)

    calcs = {
        c.coupon_id: _coupon_alone(
            c,
            work,
            store_id=store_id,
            now=now,
            fee_fen=fee(before_coupons),
            costs=costs,
            pool=pool,
        )
        for c in coupons
    }

    def combo_total(g: _CouponCalc | None, fd: _CouponCalc | None) -> tuple[int, int] | None:
        """(total, fee waived) for a goods coupon and a free-delivery coupon, or None if
        the free-delivery coupon's budget cannot cover the fee at that goods amount."""
        goods = before_coupons - (g.verdict.discount_fen if g else 0)
        f = fee(goods)
        if fd is None:
            return goods + f, 0
        budget = fd.offer.budget_left_fen
        if f == 0 or (budget is not None and f > budget):
            return None
        return goods, f

    usable = [k for k in calcs.values() if k.verdict.applies]
    goods_opts: list[_CouponCalc | None] = [
        None,
        *(k for k in usable if k.shares and any(k.shares)),
    ]
    fd_opts: list[_CouponCalc | None] = [None]
    # A free-delivery coupon with no fee to waive now may have one once a goods coupon
    # takes the goods below the free-delivery level: it stays a candidate.
    fd_opts += [k for k in calcs.values() if _fd_candidate(k)]
    best: tuple[tuple[object, ...], _CouponCalc | None, _CouponCalc | None] | None = None
    for g in goods_opts:
        for fd in fd_opts:
            got = combo_total(g, fd)
            if got is None:
                continue
            key = _combo_key(got[0], g, fd)
            if best is None or key < best[0]:
                best = (key, g, fd)
    assert best is not None  # (None, None) always qualifies
    suggested = tuple(k.offer.coupon_id for k in best[1:] if k is not None)

    verdicts = {cid: k.verdict for cid, k in calcs.items()}
    rejected: list[str] = []
    if chosen_coupon_ids is None:
        goods_pick, fd_pick = best[1], best[2]
    else:
        goods_pick = fd_pick = None
        for cid in chosen_coupon_ids:
            k = calcs.get(cid)
            if cid in rejected or (k is not None and k in (goods_pick, fd_pick)):
                continue
            if k is None:
                rejected.append(cid)
                continue
            if not k.verdict.applies and not _fd_candidate(k):
                rejected.append(cid)
            elif k.offer.kind == "free_delivery" and fd_pick is None:
                fd_pick = k
            elif k.offer.kind != "free_delivery" and goods_pick is None:
                goods_pick = k
            else:
                rejected.append(cid)
                other = fd_pick if k.offer.kind == "free_delivery" else goods_pick
                assert other is not None
                verdicts[cid] = CouponVerdict(
                    cid,
                    False,
                    k.verdict.discount_fen,
                    NOT_COMBINABLE,
                    f"Cannot be combined with {other.offer.name}",
                )
        if fd_pick is not None and combo_total(goods_pick, fd_pick) is None:
            cid = fd_pick.offer.coupon_id
            goods = before_coupons - (goods_pick.verdict.discount_fen if goods_pick else 0)
            if fee(goods) == 0:
                verdicts[cid] = CouponVerdict(
                    cid, False, 0, NO_DELIVERY_FEE, "No delivery fee to waive"
                )
            else:
                verdicts[cid] = CouponVerdict(
                    cid, False, 0, BUDGET_EXHAUSTED, "This coupon's budget is used up"
                )
            rejected.append(cid)
            fd_pick = None

    coupon_shares = [0] * n
    applied_ids: list[str] = []
    if goods_pick is not None:
        applied.append(_coupon_applied(goods_pick, tiered is not None, 0, n))
        coupon_shares = list(goods_pick.shares)
        applied_ids.append(goods_pick.offer.coupon_id)
    line_discounts = [
        w.line.amount_fen - w.item_fen + w.tiered_fen + s
        for w, s in zip(work, coupon_shares, strict=True)
    ]
    discount = sum(line_discounts)
    goods = subtotal - discount
    delivery_fee = fee(goods)
    waived = 0
    member_free = member_waiver(goods)
    if member_free is not None:
        waived = store_fee(goods)
        applied.append(
            AppliedDiscount(
                code=member_free.code,
                label=member_free.label,
                kind="free_delivery",
                source_id="",
                amount_fen=waived,
                base_fen=waived,
                base="delivery fee",
                funded_by="hq",
                allocation=(0,) * n,
            )
        )
    if fd_pick is not None:
        waived, delivery_fee = delivery_fee, 0
        applied.append(_coupon_applied(fd_pick, tiered is not None, waived, n))
        applied_ids.append(fd_pick.offer.coupon_id)
        if not fd_pick.verdict.applies and goods_pick is not None:
            # A verdict is about the coupon on its own: this one has a fee to waive only
            # because the goods coupon brings the goods below the free-delivery level.
            cid = fd_pick.offer.coupon_id
            verdicts[cid] = CouponVerdict(
                cid,
                False,
                0,
                NO_DELIVERY_FEE,
                f"No delivery fee to waive on its own; with {goods_pick.offer.name} it "
                f"waives {yuan(waived)}",
            )
    minimum = minimum_order_fen if fulfilment == "delivery" else 0

    priced = Priced(
        lines=[PricedLine(w.line, d) for w, d in zip(work, line_discounts, strict=True)],
        subtotal_fen=subtotal,
        discounts=[
            Discount(a.code, a.label, a.amount_fen) for a in applied if a.kind != "free_delivery"
        ],
        discount_fen=discount,
        delivery_fee_fen=delivery_fee,
        total_fen=goods + delivery_fee,
        minimum_order_fen=minimum,
        shortfall_fen=max(0, minimum - goods),
    )
    first = verdicts.get(rejected[0]) if rejected else None
    return Checkout(
        priced=priced,
        applied=tuple(applied),
        flash_units=tuple(flash_units),
        coupon_verdicts=tuple(verdicts[c.coupon_id] for c in coupons),
        suggested_coupon_ids=suggested,
        applied_coupon_ids=tuple(applied_ids),
        rejected_coupon_ids=tuple(rejected),
        refusal_reason=(first.reason if first else NOT_IN_WALLET) if rejected else None,
        refusal=(
            (first.message if first else f"Coupon {rejected[0]} is not in your wallet")
            if rejected
            else None
        ),
        notes=tuple(notes),
        delivery_fee_waived_fen=waived,
        fixed_units=tuple(fixed_units),
        next_tier=_next_tier(work, store_id, now, promotions, tiered),
        per_sku_priced=frozenset(w.line.sku for w in work if w.flash_units),
        points_multiplier=max(
            points_multipliers,
            key=lambda m: (Fraction(m.multiplier), m.source_id),
            default=None,
        ),
    )
