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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Literal, Protocol, runtime_checkable

from chalicelib.checkout.pricing import CartLine, DeliveryRule, Discount, Priced, PricedLine
from chalicelib.kernel.money import allocate, percent_off, yuan
from chalicelib.kernel.recurrence import Recurrence, describe, on_at

CouponKind = Literal["amount_off", "percent_off", "free_delivery", "product"]
CouponState = Literal["available", "locked", "used", "expired", "voided"]
Funder = Literal["hq", "store", "supplier"]
DiscountKind = Literal[
    "flash",
    "fixed_price",
    "member_price",
    "second_half",
    "tiered",
    "coupon",
    "free_delivery",
    # issue 18, more mechanics
    "bundle",
    "add_on",
    "gift",
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
# Targeting (issue 18 item 4): a coupon of a template with a recurring window is usable
# only inside it (e.g. Wednesdays 18:00-21:00, Shanghai time).
OUTSIDE_WINDOW = "outside_window"
# Left out by a stacking policy (issue 18): exclusive with another discount, not with 满减,
# not with member price, or a second goods coupon in the same stack group.
NOT_STACKABLE = "not_stackable"


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
class StackingPolicy:
    """How a promotion or coupon stacks (issue 18, docs/promotions.md "Stacking policy").
    The default is the fixed stacking matrix.

    ``exclusive``: when it applies, no other tiered / half-price promotion and no other
    goods coupon applies to the order; per-SKU prices (flash, fixed price), member prices
    and free delivery (member's or coupon) still do. The engine prices the cart with
    each exclusive discount alone and with the best stackable combination, and keeps the
    highest ``priority``, then the lowest total.
    ``priority``: higher wins between two exclusive ones and within a slot (the tiered
    discount, the half price on a line, the goods coupon); ties: the cheaper total.
    ``not_with_tiered``: a coupon does not apply on an order with a 满减 (the engine also
    prices the cart without the 满减 and keeps the cheaper); a half-price promotion's
    lines are left out of the 满减's base.
    ``not_with_member_price``: lines with a member price are left out of its base.
    ``stack_group`` (goods coupons): two goods coupons combine when both name a group
    and the groups differ (a store coupon and a supplier coupon).
    ``margin_floor``: "refuse" leaves the discount out when it would take a line below
    cost; "exclude" takes that SKU out of its base, checks the threshold on what is left
    and computes the discount again."""

    exclusive: bool = False
    priority: int = 0
    not_with_tiered: bool = False
    not_with_member_price: bool = False
    stack_group: str | None = None
    margin_floor: Literal["refuse", "exclude"] = "refuse"


DEFAULT_POLICY = StackingPolicy()


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
    # targeting: usable only inside this recurring window (None: whenever valid)
    recurrence: Recurrence | None = None
    stacking: StackingPolicy = DEFAULT_POLICY  # the template's (issue 18)
    # product (商品券): one unit of ``sku`` at ``price_fen`` (0: free)
    sku: str | None = None
    price_fen: int = 0


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
    stacking: StackingPolicy = DEFAULT_POLICY
    # issue 18, more mechanics (:func:`tier_off`): thresholds count in-scope units
    # (满件减) instead of fen; ``every`` repeats the one tier (每满减) up to ``cap_fen``;
    # ``percent`` reads each tier's off as a percentage of the base (满N件M折: 20 = 8折)
    basis: Literal["amount", "units"] = "amount"
    every: bool = False
    cap_fen: int | None = None
    percent: bool = False


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
    stacking: StackingPolicy = DEFAULT_POLICY
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


@dataclass(frozen=True)
class AddOnPrice:
    """加价购/换购: once the in-scope goods other than ``sku`` reach ``threshold_fen``
    (after item promotions, per-SKU-priced units left out), up to ``max_units`` units of
    ``sku`` in the cart cost ``price_fen`` each. An item-level price like a fixed price:
    used only when below the unit's item price, never on a line with a flash, fixed or
    half price, and its units are left out of order-level discounts."""

    promotion_id: str
    name: str
    sku: str
    price_fen: int
    max_units: int
    threshold_fen: int
    starts_at: datetime
    ends_at: datetime
    scope: Scope = ALL  # what counts toward the threshold (stores: where it is on)
    funded_by: Funder = "hq"
    campaign_id: str | None = None


@dataclass(frozen=True)
class GiftWithPurchase:
    """满赠: once the in-scope goods (after item promotions and the tiered discount,
    per-SKU-priced units left out) reach ``threshold_fen``, ``units`` of ``sku`` are
    added free. ``value_fen`` is the gift's list price (what it costs the funder: the
    campaign's budget counts it); ``in_stock`` False: the order goes through without it
    and the quote says so."""

    promotion_id: str
    name: str
    sku: str
    sku_name: str
    threshold_fen: int
    value_fen: int
    starts_at: datetime
    ends_at: datetime
    units: int = 1
    in_stock: bool = True
    scope: Scope = ALL
    funded_by: Funder = "hq"
    campaign_id: str | None = None


@dataclass(frozen=True)
class BundlePrice:
    """一口价: any ``units`` units of the in-scope goods for ``price_fen``. Units are
    bundled most expensive first (the customer gets the most off); a bundle whose units
    cost no more than ``price_fen`` is not made. Lines with a flash, fixed, add-on or
    half price are not bundled; units left over keep their item price."""

    promotion_id: str
    name: str
    units: int
    price_fen: int
    starts_at: datetime
    ends_at: datetime
    scope: Scope = ALL
    funded_by: Funder = "hq"
    campaign_id: str | None = None
    max_bundles: int | None = None  # issue 18 limits.per_order_units: bundles an order


Promotion = (
    TieredDiscount
    | SecondItemHalfPrice
    | FlashPrice
    | FixedPrice
    | AddOnPrice
    | GiftWithPurchase
    | BundlePrice
)


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
    # "units" (满件减): threshold, base and gap count units, not fen
    basis: Literal["amount", "units"] = "amount"


@dataclass(frozen=True)
class AddOnOffer:
    """A 加价购 the cart can reach or has reached: ``reached`` says whether the threshold
    is met (``gap_fen`` more otherwise); ``units`` priced at it in this cart."""

    promotion_id: str
    name: str
    sku: str
    price_fen: int
    max_units: int
    threshold_fen: int
    base_fen: int
    gap_fen: int
    reached: bool
    units: int


@dataclass(frozen=True)
class Gift:
    """A gift earned by the cart (满赠): placed as a line at price 0 when ``in_stock``."""

    promotion_id: str
    name: str
    sku: str
    sku_name: str
    units: int
    value_fen: int
    in_stock: bool


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
    # issue 18, more mechanics: 加价购 offers live at the store, gifts earned (满赠)
    add_ons: tuple[AddOnOffer, ...] = ()
    gifts: tuple[Gift, ...] = ()

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
    # the line's per-SKU price, if any (an add-on price: 加价购)
    flash: FlashPrice | FixedPrice | AddOnPrice | None = None
    flash_units: int = 0
    half_off_fen: int = 0
    tiered_fen: int = 0
    half_policy: StackingPolicy | None = None  # the half-price promotion's, if one applied

    @property
    def member_priced(self) -> bool:
        """A member price applied to units of this line."""
        return self.unit_fen < self.line.unit_price_fen and self.line.qty > self.flash_units

    bundle_off_fen: int = 0  # 一口价: what bundling took off this line's units

    @property
    def item_fen(self) -> int:
        """What the line costs after item-level promotions."""
        flash = self.flash.price_fen * self.flash_units if self.flash else 0
        return flash + self.order_base_fen

    @property
    def order_base_fen(self) -> int:
        """The part order-level discounts are computed on: units not at a flash price,
        after item level (second half price is never on a line with flash units)."""
        return (
            (self.line.qty - self.flash_units) * self.unit_fen
            - self.half_off_fen
            - self.bundle_off_fen
        )


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
    halves.sort(key=lambda h: (-h.stacking.priority, h.promotion_id))

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
            if h.stacking.not_with_member_price and w.member_priced:
                continue
            if units_left is not None and (units_left <= 0 or w.unit_fen < 2):
                continue  # capped: a unit with nothing to halve does not use the cap
            halves_n = _capped_halves(w.line.qty // 2, units_left)
            if units_left is not None:
                units_left -= halves_n
            w.half_off_fen = halves_n * (w.unit_fen // 2)
            w.half_policy = h.stacking
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
                    base=(
                        "item price, member-priced lines excluded"
                        if h.stacking.not_with_member_price
                        else "item price (member price where one applies)"
                    ),
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


def _tiered_bases(w: _Line, p: TieredDiscount, store_id: str) -> int:
    """A line's part of a tiered discount's base: in scope, and not left out by a policy
    (its own not with member price; the line's half price not with 满减)."""
    if not p.scope.covers(w.line):
        return 0
    if p.stacking.not_with_member_price and w.member_priced:
        return 0
    if w.half_policy is not None and w.half_policy.not_with_tiered:
        return 0
    return w.order_base_fen


def _excluding(
    work: Sequence[_Line],
    bases: list[int],
    prior: Sequence[int],
    costs: Mapping[str, int] | None,
    policy: StackingPolicy,
    amount_of: Callable[[list[int], list[str]], int],
) -> tuple[int, list[int], list[str], str | None]:
    """A discount's amount and line shares on ``bases`` (``prior``: other discounts' shares
    already on the lines), keeping the margin floor by the policy: "refuse" gives the
    offending SKU (amount 0), "exclude" takes its lines out of the base and computes the
    amount again on what is left (``amount_of(bases, excluded)``, 0 when the threshold is no longer
    reached). Returns (amount, shares, SKUs excluded, SKU refused)."""
    excluded: list[str] = []
    while True:
        amount = amount_of(bases, excluded)
        if amount <= 0:
            return 0, [0] * len(bases), excluded, None
        shares = allocate(amount, bases)
        sku = _below_floor(work, [a + b for a, b in zip(shares, prior, strict=True)], costs)
        if sku is None:
            return amount, shares, excluded, None
        if policy.margin_floor != "exclude":
            return 0, shares, excluded, sku
        excluded.append(sku)
        bases = [0 if w.line.sku == sku else b for w, b in zip(work, bases, strict=True)]


def _tiered(
    work: list[_Line],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    costs: Mapping[str, int] | None,
    notes: list[str],
) -> AppliedDiscount | None:
    """The tiered discount with the highest priority, then saving most (ties: the smaller
    promotion id) that keeps the margin floor; its shares are recorded on the lines."""
    candidates: list[tuple[int, int, str, TieredDiscount, list[int], int, str]] = []
    for p in promotions:
        if not isinstance(p, TieredDiscount) or not _live(p.starts_at, p.ends_at, now):
            continue
        if not p.scope.at_store(store_id):
            continue
        bases = [_tiered_bases(w, p, store_id) for w in work]
        base = sum(bases)
        off = tier_off(p, base, _units_in(work, p.scope))
        amount, note = min(off, base), ""
        if p.budget_left_fen is not None and amount > p.budget_left_fen:
            amount = max(0, p.budget_left_fen)
            note = f"capped at the campaign budget left ({yuan(amount)} instead of {yuan(off)})"
            if amount == 0:
                notes.append(f"{p.name}: its campaign budget is spent")
        if amount > 0:
            candidates.append((-p.stacking.priority, -amount, p.promotion_id, p, bases, base, note))
    for _prio, neg, _pid, p, bases, base, note in sorted(candidates, key=lambda c: c[:3]):
        if p.stacking.margin_floor == "exclude":

            def amount_of(
                bs: list[int], out: list[str], p: TieredDiscount = p, first: int = -neg
            ) -> int:
                # what is left counts, in fen or in units (满件减): excluded SKUs are out
                units = sum(
                    w.line.qty - w.flash_units
                    for w in work
                    if p.scope.covers(w.line) and w.line.sku not in out
                )
                return min(tier_off(p, sum(bs), units), sum(bs), first)

            amount, shares, excluded, _ = _excluding(
                work, list(bases), [0] * len(work), costs, p.stacking, amount_of
            )
            if amount <= 0:
                notes.append(
                    f"{p.name} left out: without {', '.join(excluded)} (below cost) its "
                    "threshold is not reached"
                )
                continue
            if excluded:
                notes.append(f"{p.name}: {', '.join(excluded)} left out of its base (margin floor)")
                base = sum(
                    b for w, b in zip(work, bases, strict=True) if w.line.sku not in excluded
                )
                neg = -amount
        else:
            excluded = []
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
            base=_base_text(
                "after item promotions, flash-sale units excluded", p.stacking, excluded
            ),
            funded_by=p.funded_by,
            allocation=tuple(shares),
            note=note,
            campaign_id=p.campaign_id,
        )
    return None


def _base_text(text: str, policy: StackingPolicy, excluded: Sequence[str]) -> str:
    """An applied discount's ``base`` with what its policy left out of it."""
    if policy.not_with_member_price:
        text += ", member-priced lines excluded"
    if excluded:
        text += f", {', '.join(excluded)} excluded (margin floor)"
    return text


def _next_tier(
    work: Sequence[_Line],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    applied: AppliedDiscount | None,
) -> NextTier | None:
    """The applied tiered discount's next tier (None at its top), or when none applies
    the live one whose first tier is closest (ties: the larger amount off, then the id);
    its base is the engine's own (after item promotions, per-SKU-priced units out). A
    满件减's threshold, base and gap count units (``basis``); gaps in fen come first."""
    found: list[tuple[int, int, int, str, NextTier]] = []
    for p in promotions:
        if not isinstance(p, TieredDiscount) or not _live(p.starts_at, p.ends_at, now):
            continue
        if not p.scope.at_store(store_id):
            continue
        if applied is not None and p.promotion_id != applied.source_id:
            continue
        base = sum(_tiered_bases(w, p, store_id) for w in work)
        units = _units_in(work, p.scope)
        nxt = next_tier_of(p, base, units)
        if nxt is None:
            continue
        threshold, off = nxt
        measure = units if p.basis == "units" else base
        tier = NextTier(
            p.promotion_id,
            p.name,
            threshold,
            off,
            measure,
            threshold - measure,
            p.scope,
            p.basis,
        )
        units_first = 1 if p.basis == "units" else 0
        found.append((units_first, tier.gap_fen, -off, p.promotion_id, tier))
    return min(found, key=lambda f: f[:4])[4] if found else None


def _units_in(work: Sequence[_Line], scope: Scope) -> int:
    """In-scope units order-level discounts count (per-SKU-priced units left out)."""
    return sum(w.line.qty - w.flash_units for w in work if scope.covers(w.line))


def tier_off(p: TieredDiscount, base_fen: int, units: int) -> int:
    """What a tiered discount takes off a base of ``base_fen`` made of ``units`` in-scope
    units: the one rule for 满减, 满件减 (``basis`` units), 满N件M折 (``percent``) and
    每满减 (``every``: the one tier as many times as the base holds it, at most
    ``cap_fen``). The caller caps it at the base."""
    measure = units if p.basis == "units" else base_fen
    if p.every:
        step, each = p.tiers[0] if p.tiers else (0, 0)
        times = measure // step if step > 0 else 0
        off = percent_off(base_fen, each * 100) if p.percent and times else times * each
    else:
        reached = [o for t, o in p.tiers if measure >= t]
        best = max(reached, default=0)
        off = percent_off(base_fen, best * 100) if p.percent else best
    if p.cap_fen is not None:
        off = min(off, p.cap_fen)
    return max(0, off)  # _tiered takes at most the base


def next_tier_of(p: TieredDiscount, base_fen: int, units: int) -> tuple[int, int] | None:
    """The next threshold above the cart's (fen, or units for 满件减) and what
    :func:`tier_off` gives there, or None when no threshold gives more. A 每满减's next
    threshold is the next multiple of its step (none once its cap is reached); a unit
    added is priced at the cart's average unit for a percentage."""
    now_off = tier_off(p, base_fen, units)
    measure = units if p.basis == "units" else base_fen
    avg = base_fen // units if units else 0
    if p.every:
        if not p.tiers or p.tiers[0][0] <= 0:
            return None
        step = p.tiers[0][0]
        candidates = [(measure // step + 1) * step]
    else:
        candidates = sorted(t for t, _ in p.tiers if measure < t)
    for t in candidates:
        if p.basis == "units":
            off = tier_off(p, base_fen + (t - units) * avg, t)
        else:
            off = tier_off(p, t, units)
        if off > now_off or (not p.every and not p.percent):
            return t, off
    return None


@dataclass(frozen=True)
class _CouponCalc:
    """A coupon evaluated alone: its verdict and, when it applies, its line shares."""

    verdict: CouponVerdict
    offer: CouponOffer
    shares: tuple[int, ...] = ()
    base_fen: int = 0
    bases: tuple[int, ...] = ()  # its base per line (a second coupon's starts from it)
    excluded: tuple[str, ...] = ()  # SKUs taken out of its base by the margin floor


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
    "new_customer_already_used": (
        "Another account with this device, address or payment account already had it"
    ),
}
CAMPAIGN_MESSAGES |= LEFT_OUT_MESSAGES


@dataclass
class _CampaignPool:
    """The spending campaigns' budget left (campaign id -> fen), and the promotions and
    coupons left out of this pricing because of their campaign (id -> reason)."""

    left: Mapping[str, int]
    promotions: dict[str, str] = field(default_factory=dict)
    coupons: dict[str, str] = field(default_factory=dict)
    # left out by a stacking policy in this pricing (id -> why), issue 18
    stack_promotions: dict[str, str] = field(default_factory=dict)
    stack_coupons: dict[str, str] = field(default_factory=dict)


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
    tiered: AppliedDiscount | None = None,
) -> _CouponCalc:
    """Check a coupon on this cart on its own; ``fee_fen`` is the delivery fee the order
    would pay without it (what a free-delivery coupon would waive); ``tiered`` the 满减
    applied to the order, if any."""
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
    if not on_at(c.recurrence, now):
        assert c.recurrence is not None
        return _refuse(c, OUTSIDE_WINDOW, f"Usable {describe(c.recurrence)}")
    stacked = pool.stack_coupons.get(c.coupon_id)
    if stacked is not None:
        return _refuse(c, NOT_STACKABLE, stacked)
    policy = c.stacking
    if policy.not_with_tiered and tiered is not None:
        return _refuse(c, NOT_STACKABLE, f"Not combinable with {tiered.label} (满减)")
    if c.kind == "free_delivery":
        # Flash price and free delivery combine (the stacking matrix): its scope and
        # threshold count flash-priced units too, unlike a goods coupon's base.
        bases = [w.item_fen - w.tiered_fen if c.scope.covers(w.line) else 0 for w in work]
    else:
        bases = [w.order_base_fen - w.tiered_fen if c.scope.covers(w.line) else 0 for w in work]
    if policy.not_with_member_price:
        bases = [0 if w.member_priced else b for w, b in zip(work, bases, strict=True)]
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
    excluded: list[str] = []
    if c.kind == "free_delivery":
        if fee_fen == 0:
            return _refuse(c, NO_DELIVERY_FEE, "No delivery fee to waive")
        amount, shares = fee_fen, tuple(0 for _ in work)
    elif c.kind == "product":
        got = _product_coupon(c, work)
        if got is None:
            return _refuse(c, OUT_OF_SCOPE, f"{c.sku} is not in the cart")
        amount, shares, base = got
        if amount <= 0:
            return _refuse(c, OUT_OF_SCOPE, "Gives nothing on the eligible items")
    else:
        amount = _goods_amount(c, base)
        if amount <= 0:
            return _refuse(c, OUT_OF_SCOPE, "Gives nothing on the eligible items")
        if policy.margin_floor == "exclude":

            def amount_of(bs: list[int], _out: list[str]) -> int:
                b = sum(bs)
                return _goods_amount(c, b) if b >= c.threshold_fen else 0

            amount, kept_shares, excluded, _ = _excluding(
                work, list(bases), [0] * len(work), costs, policy, amount_of
            )
            if amount <= 0:
                return _refuse(
                    c,
                    BELOW_MARGIN_FLOOR,
                    f"Cannot be used here: without {', '.join(excluded)} (below cost) "
                    "nothing eligible reaches its threshold",
                )
            base = sum(b for w, b in zip(work, bases, strict=True) if w.line.sku not in excluded)
            shares = tuple(kept_shares)
        else:
            shares = tuple(allocate(amount, bases))
    if c.budget_left_fen is not None and amount > c.budget_left_fen:
        return _refuse(c, BUDGET_EXHAUSTED, "This coupon's budget is used up")
    if c.campaign_id is not None and amount > pool.left.get(c.campaign_id, 0):
        return _refuse(c, CAMPAIGN_BUDGET_EXHAUSTED, CAMPAIGN_MESSAGES[CAMPAIGN_BUDGET_EXHAUSTED])
    sku = _below_floor(work, shares, costs)
    if sku is not None:
        return _refuse(c, BELOW_MARGIN_FLOOR, f"Cannot be used here: {sku} would sell below cost")
    return _CouponCalc(
        CouponVerdict(c.coupon_id, True, amount), c, shares, base, tuple(bases), tuple(excluded)
    )


def _goods_amount(c: CouponOffer, base: int) -> int:
    """What a goods coupon takes off ``base``: its amount (at most the base), or its
    percentage rounded down, then its cap."""
    if c.kind == "amount_off":
        return min(c.amount_off_fen, base)
    amount = percent_off(base, c.percent_off * 100)
    return amount if c.cap_fen is None else min(amount, c.cap_fen)


def _pair_order(c: _CouponCalc) -> tuple[int, str]:
    """In a pair of goods coupons the amount-off one comes first (a percentage is taken
    of what it leaves), then the smaller coupon id."""
    return (0 if c.offer.kind == "amount_off" else 1, c.offer.coupon_id)


def _stackable_pair(a: _CouponCalc, b: _CouponCalc) -> bool:
    ga, gb = a.offer.stacking.stack_group, b.offer.stacking.stack_group
    return ga is not None and gb is not None and ga != gb


def _second_coupon(
    first: _CouponCalc, c: _CouponCalc, work: Sequence[_Line], costs: Mapping[str, int] | None
) -> _CouponCalc | None:
    """Goods coupon ``c`` (applying alone) as the second of a pair, computed on its base
    less ``first``'s shares (its threshold was checked alone, on the same base as
    ``first``'s); None when it then gives nothing or would break the margin floor."""
    bases = [max(0, b - s) for b, s in zip(c.bases, first.shares, strict=True)]

    def amount_of(bs: list[int], _out: list[str]) -> int:
        return _goods_amount(c.offer, sum(bs))

    amount, shares, excluded, refused = _excluding(
        work, bases, first.shares, costs, c.offer.stacking, amount_of
    )
    if amount <= 0 or refused is not None:
        return None
    base = sum(b for w, b in zip(work, bases, strict=True) if w.line.sku not in excluded)
    verdict = CouponVerdict(c.offer.coupon_id, True, amount)
    return _CouponCalc(verdict, c.offer, tuple(shares), base, tuple(bases), tuple(excluded))


def _fd_candidate(calc: _CouponCalc) -> bool:
    """A free-delivery coupon that passes every check but may have no fee to waive yet."""
    return calc.offer.kind == "free_delivery" and (
        calc.verdict.applies or calc.verdict.reason == NO_DELIVERY_FEE
    )


def _coupon_applied(
    calc: _CouponCalc, tiered: bool, fee_fen: int, n: int, after: str = ""
) -> AppliedDiscount:
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
        base=_base_text(
            (
                "after tiered discount, flash-sale units excluded"
                if tiered
                else "after item promotions, flash-sale units excluded"
            )
            + (f", after {after}" if after else ""),
            c.stacking,
            calc.excluded,
        ),
        funded_by=c.funded_by,
        allocation=calc.shares,
        campaign_id=c.campaign_id,
    )


Goods = tuple["_CouponCalc", ...]  # the goods coupons of a combination: none, one or a pair


def _combo_key(total: int, goods: Goods, fd: _CouponCalc | None) -> tuple[object, ...]:
    """The highest goods coupon priority first (0 by default); then the lowest total;
    then fewer coupons; then the coupon expiring first, then the smaller coupon id (goods
    coupons first, then the free-delivery one)."""

    def part(c: _CouponCalc | None) -> tuple[object, ...]:
        return (0, c.offer.valid_until, c.offer.coupon_id) if c else (1,)

    prio = max((g.offer.stacking.priority for g in goods), default=0)
    parts = tuple(part(g) for g in goods) if goods else (part(None),)
    return (-prio, total, len(goods) + (fd is not None), parts, part(fd))


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
    coupons_left_out: Mapping[str, str] | None = None,
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
    ``coupons_left_out``: coupon id -> reason (``LEFT_OUT_MESSAGES``) for coupons whose
    template's limit is used up: refused with that reason, never suggested.
    ``now`` is an aware datetime; windows are instants, so the store's time zone only
    matters to whoever set them.
    """
    base_pool = _CampaignPool(campaigns or {})
    base_pool.promotions.update(left_out or {})
    base_pool.coupons.update(coupons_left_out or {})
    pool = base_pool
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

    def priced(stack_promotions: Mapping[str, str], stack_coupons: Mapping[str, str]) -> Checkout:
        pool = _CampaignPool(
            base_pool.left,
            dict(base_pool.promotions),
            dict(base_pool.coupons),
            dict(stack_promotions),
            dict(stack_coupons),
        )
        return _within_budgets(
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

    return _stacked(priced, lines, promotions, coupons, store_id, now, chosen_coupon_ids)


def _within_budgets(
    lines: Sequence[CartLine],
    *,
    store_id: str,
    now: datetime,
    fulfilment: str,
    delivery: DeliveryRule,
    minimum_order_fen: int,
    coupons: Sequence[CouponOffer],
    promotions: Sequence[Promotion],
    chosen_coupon_ids: Sequence[str] | None,
    costs: Mapping[str, int] | None,
    member_prices: MemberPrices | None,
    member_delivery: Sequence[MemberDelivery],
    points_multipliers: Sequence[PointsMultiplier],
    pool: _CampaignPool,
) -> Checkout:
    """Price the cart, leaving out a campaign's smallest discount while its discounts
    exceed its budget left (``evaluate``)."""
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


def _policy_of(x: Promotion | CouponOffer) -> StackingPolicy:
    return getattr(x, "stacking", DEFAULT_POLICY)


def _saving_bound(e: TieredDiscount | SecondItemHalfPrice, lines: Sequence[CartLine]) -> int:
    """The most an exclusive promotion could take off alone: a tiered one's largest tier
    (or its budget left), a half price half the cart."""
    if isinstance(e, TieredDiscount):
        top = max((o for _t, o in e.tiers), default=0)
        return top if e.budget_left_fen is None else min(top, max(0, e.budget_left_fen))
    return sum(line.amount_fen for line in lines) // 2


def _stacked(
    priced: Callable[[Mapping[str, str], Mapping[str, str]], Checkout],
    lines: Sequence[CartLine],
    promotions: Sequence[Promotion],
    coupons: Sequence[CouponOffer],
    store_id: str,
    now: datetime,
    chosen_ids: Sequence[str] | None,
) -> Checkout:
    """The exclusive-or-stackable choice (issue 18). Without an exclusive discount or a
    coupon not with 满减 (the default): one pricing, as the fixed matrix. Otherwise the
    cart is priced with the stackable discounts (the exclusive ones left out); when that
    kept out a coupon not with 满减, again without the 满减; and with each exclusive
    discount alone (the other tiered / half-price promotions and goods coupons left out)
    unless it cannot win: its priority is not above the stackable pricing's and the goods
    after item promotions less the most it could take off are not below that total. The
    pricing kept is, for chosen coupons, one that applies them all, then the one whose
    applied discounts carry the highest priority, then the lowest total (ties: the
    stackable one). Verdicts stay about each coupon on its own."""
    order_promos = [
        p
        for p in promotions
        if isinstance(p, TieredDiscount | SecondItemHalfPrice)
        and _live(p.starts_at, p.ends_at, now)
        and p.scope.at_store(store_id)
    ]
    ex_promos = [p for p in order_promos if p.stacking.exclusive]
    ex_coupons = [c for c in coupons if c.stacking.exclusive and c.state == "available"]
    no_tiered = [c for c in coupons if c.stacking.not_with_tiered and c.state == "available"]
    tiereds = [p for p in order_promos if isinstance(p, TieredDiscount)]
    if not ex_promos and not ex_coupons and not (no_tiered and tiereds):
        return priced({}, {})
    prio = {p.promotion_id: p.stacking.priority for p in order_promos}
    prio.update({c.coupon_id: c.stacking.priority for c in coupons})

    def top(ch: Checkout) -> int:
        return max((prio.get(a.source_id, 0) for a in ch.applied if a.source_id), default=0)

    lose = "it is exclusive, and the discounts that stack are kept (priority, then total)"
    sp = {p.promotion_id: lose for p in ex_promos}
    sc = {c.coupon_id: "exclusive: it applies only alone" for c in ex_coupons}
    runs: list[Checkout] = [priced(sp, sc)]
    stackable = runs[0]
    # Without the 满减 only when it kept out a coupon (else that pricing is this one).
    kept_out = {v.coupon_id for v in stackable.coupon_verdicts if v.reason == NOT_STACKABLE}
    if tiereds and any(c.coupon_id in kept_out for c in no_tiered):
        names = ", ".join(c.name for c in no_tiered)
        sp2 = dict(sp) | {p.promotion_id: f"not combinable with {names}" for p in tiereds}
        sp2.update({p.promotion_id: sp[p.promotion_id] for p in ex_promos if p in tiereds})
        runs.append(priced(sp2, sc))
    item_goods = stackable.priced.subtotal_fen - sum(
        a.amount_fen
        for a in stackable.applied
        if a.kind in ("flash", "fixed_price", "member_price")
    )
    goods_coupons = [c for c in coupons if c.kind != "free_delivery"]
    # what an exclusive pricing may also apply with a priority: free-delivery coupons
    fd_prio = max((c.stacking.priority for c in coupons if c.kind == "free_delivery"), default=0)
    silent: set[str] = set()  # exclusive promotions that would not apply alone: no note
    for e in (*ex_promos, *ex_coupons):
        own = e.coupon_id if isinstance(e, CouponOffer) else e.promotion_id
        if (
            not isinstance(e, CouponOffer)  # a coupon's verdict needs its pricing alone
            and max(e.stacking.priority, fd_prio) <= top(stackable)
            and item_goods - _saving_bound(e, lines) >= stackable.total_fen
        ):
            continue  # it cannot win: not priced
        why = f"{e.name} is exclusive"
        esp = {p.promotion_id: why for p in order_promos if p is not e}
        esc = {c.coupon_id: why for c in goods_coupons if c is not e}
        esc.update({c.coupon_id: why for c in ex_coupons if c is not e})
        got = priced(esp, esc)
        if any(a.source_id == own for a in got.applied) or chosen_ids is not None:
            runs.append(got)
        elif not isinstance(e, CouponOffer):
            silent.add(e.name)

    def key(ch: Checkout) -> tuple[int, int, int]:
        return (1 if ch.rejected_coupon_ids else 0, -top(ch), ch.total_fen)

    best = min(runs, key=key)  # min keeps the first of equals: the stackable pricing
    verdicts = {v.coupon_id: v for v in best.coupon_verdicts}
    notes = [
        n for n in best.notes if not any(n.startswith(f"{x} left out: {lose}") for x in silent)
    ]
    for cid, v in list(verdicts.items()):
        if v.reason != NOT_STACKABLE or cid in best.rejected_coupon_ids:
            continue
        alone = next(
            (o for ch in runs for o in ch.coupon_verdicts if o.coupon_id == cid and o.applies),
            None,
        )
        if alone is not None:
            verdicts[cid] = alone  # on its own it applies: the verdict says so
            name = next(c.name for c in coupons if c.coupon_id == cid)
            notes.append(f"{name} not used: {v.message} ({NOT_STACKABLE})")
    return replace(
        best,
        coupon_verdicts=tuple(verdicts[c.coupon_id] for c in coupons),
        notes=tuple(notes),
    )


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
    if pool.stack_promotions:
        stacked: list[Promotion] = []
        for p in promotions:
            why = pool.stack_promotions.get(p.promotion_id)
            if why is None:
                stacked.append(p)
            elif why and _live(p.starts_at, p.ends_at, now):
                # ("" : an exclusive one that would not apply anyway, left out silently)
                notes.append(f"{p.name} left out: {why} ({NOT_STACKABLE})")
        promotions = stacked
    work, applied, flash_units, fixed_units = _item_level(
        lines, store_id, now, promotions, member_prices, costs, notes
    )
    add_ons = _more_item_level(work, store_id, now, promotions, costs, notes, applied)
    tiered = _tiered(work, store_id, now, promotions, costs, notes)
    if tiered:
        applied.append(tiered)
    gifts = _gifts(work, store_id, now, promotions, notes, applied)
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
            tiered=tiered,
        )
        for c in coupons
    }

    def combo_total(g: Goods, fd: _CouponCalc | None) -> tuple[int, int] | None:
        """(total, fee waived) for goods coupons and a free-delivery coupon, or None if
        the free-delivery coupon's budget cannot cover the fee at that goods amount."""
        goods = before_coupons - sum(k.verdict.discount_fen for k in g)
        f = fee(goods)
        if fd is None:
            return goods + f, 0
        budget = fd.offer.budget_left_fen
        if f == 0 or (budget is not None and f > budget):
            return None
        return goods, f

    usable = [k for k in calcs.values() if k.verdict.applies]
    singles = [k for k in usable if k.shares and any(k.shares)]
    goods_opts: list[Goods] = [(), *((k,) for k in singles)]
    fd_opts: list[_CouponCalc | None] = [None]
    # A free-delivery coupon with no fee to waive now may have one once a goods coupon
    # takes the goods below the free-delivery level: it stays a candidate.
    fd_opts += [k for k in calcs.values() if _fd_candidate(k)]
    best: tuple[tuple[object, ...], Goods, _CouponCalc | None] | None = None

    def consider(g: Goods) -> None:
        nonlocal best
        for fd in fd_opts:
            got = combo_total(g, fd)
            if got is None:
                continue
            key = _combo_key(got[0], g, fd)
            if best is None or key < best[0]:
                best = (key, g, fd)

    for g in goods_opts:
        consider(g)
    assert best is not None  # ((), None) always qualifies
    # Two goods coupons of different stack groups (issue 18): the second is computed on
    # what the first leaves, so a pair gives at most the two alone. Pairs are tried from
    # the largest such bound and only while they could still win: the total is at least
    # the goods less that bound (the fee is never negative). No stack groups (the
    # default): no pairs, no cost.
    grouped = sorted((k for k in singles if k.offer.stacking.stack_group), key=_pair_order)
    pairs = [
        (a.verdict.discount_fen + b.verdict.discount_fen, a, b)
        for i, a in enumerate(grouped)
        for b in grouped[i + 1 :]
        if _stackable_pair(a, b)
    ]
    pairs.sort(key=lambda t: -t[0])
    for bound, a, b in pairs:
        prio = max(a.offer.stacking.priority, b.offer.stacking.priority)
        best_prio, best_total = best[0][0], best[0][1]
        assert isinstance(best_prio, int) and isinstance(best_total, int)
        if -prio > best_prio or (-prio == best_prio and before_coupons - bound >= best_total):
            continue
        second = _second_coupon(a, b, work, costs)
        if second is not None:
            consider((a, second))
    suggested = tuple(k.offer.coupon_id for k in (*best[1], best[2]) if k is not None)

    verdicts = {cid: k.verdict for cid, k in calcs.items()}
    rejected: list[str] = []
    goods_picks: list[_CouponCalc]
    if chosen_coupon_ids is None:
        goods_picks, fd_pick = list(best[1]), best[2]
    else:
        goods_picks, fd_pick = [], None
        for cid in chosen_coupon_ids:
            k = calcs.get(cid)
            taken = [g.offer.coupon_id for g in goods_picks]
            if cid in rejected or cid in taken or (k is not None and k is fd_pick):
                continue
            if k is None:
                rejected.append(cid)
                continue
            if not k.verdict.applies and not _fd_candidate(k):
                rejected.append(cid)
            elif k.offer.kind == "free_delivery" and fd_pick is None:
                fd_pick = k
            elif k.offer.kind != "free_delivery" and not goods_picks:
                goods_picks.append(k)
            elif k.offer.kind != "free_delivery" and len(goods_picks) == 1:
                lead, other = sorted((goods_picks[0], k), key=_pair_order)
                pair = _second_coupon(lead, other, work, costs)
                if _stackable_pair(lead, other) and pair is not None:
                    goods_picks = [lead, pair]
                    continue
                rejected.append(cid)
                mate = goods_picks[0].offer
                group = k.offer.stacking.stack_group
                if not _stackable_pair(lead, other):
                    grouped_both = group is not None and mate.stacking.stack_group is not None
                    reason = NOT_STACKABLE if grouped_both else NOT_COMBINABLE
                    message = (
                        f"Same stack group ({group}) as {mate.name}"
                        if grouped_both
                        else f"Cannot be combined with {mate.name}"
                    )
                else:
                    reason = BELOW_MARGIN_FLOOR
                    message = f"Cannot be used with {mate.name}: a line would sell below cost"
                verdicts[cid] = CouponVerdict(cid, False, k.verdict.discount_fen, reason, message)
            else:
                rejected.append(cid)
                other_c = fd_pick if k.offer.kind == "free_delivery" else goods_picks[0]
                assert other_c is not None
                verdicts[cid] = CouponVerdict(
                    cid,
                    False,
                    k.verdict.discount_fen,
                    NOT_COMBINABLE,
                    f"Cannot be combined with {other_c.offer.name}",
                )
        if fd_pick is not None and combo_total(tuple(goods_picks), fd_pick) is None:
            cid = fd_pick.offer.coupon_id
            goods = before_coupons - sum(g.verdict.discount_fen for g in goods_picks)
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
    after = ""
    for gp in goods_picks:
        applied.append(_coupon_applied(gp, tiered is not None, 0, n, after))
        coupon_shares = [a + b for a, b in zip(coupon_shares, gp.shares, strict=True)]
        applied_ids.append(gp.offer.coupon_id)
        after = gp.offer.name
    goods_pick = goods_picks[0] if goods_picks else None
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
            Discount(a.code, a.label, a.amount_fen)
            for a in applied
            if a.kind not in ("free_delivery", "gift")
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
        add_ons=add_ons,
        gifts=gifts,
        points_multiplier=max(
            points_multipliers,
            key=lambda m: (Fraction(m.multiplier), m.source_id),
            default=None,
        ),
    )


# --- issue 18: more mechanics (加价购, 一口价, 满赠, 商品券) ---------------------------------


def _more_item_level(
    work: list[_Line],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    costs: Mapping[str, int] | None,
    notes: list[str],
    applied: list[AppliedDiscount],
) -> tuple[AddOnOffer, ...]:
    """Bundles (一口价), then add-on prices (加价购), after the other item-level prices;
    their discounts go to ``applied``. Returns the add-on offers live at the store."""
    live = [
        p
        for p in promotions
        if isinstance(p, BundlePrice | AddOnPrice)
        and _live(p.starts_at, p.ends_at, now)
        and p.scope.at_store(store_id)
    ]
    if not live:
        return ()
    for b in sorted((p for p in live if isinstance(p, BundlePrice)), key=lambda p: p.promotion_id):
        got = _bundle(b, work, costs, notes)
        if got is not None:
            applied.append(got)
    offers: list[AddOnOffer] = []
    for a in sorted((p for p in live if isinstance(p, AddOnPrice)), key=lambda p: p.promotion_id):
        offer, discount = _add_on(a, work, costs, notes)
        offers.append(offer)
        if discount is not None:
            applied.append(discount)
    return tuple(offers)


def _bundle(
    b: BundlePrice, work: list[_Line], costs: Mapping[str, int] | None, notes: list[str]
) -> AppliedDiscount | None:
    """Group in-scope units into bundles of ``b.units``, the most expensive units first
    (ties: the earlier line), each bundle at ``b.price_fen``; a bundle's saving is
    allocated over its units by largest remainder, so line shares add up exactly."""
    if b.units <= 0:
        return None
    units: list[tuple[int, int]] = []  # (unit item price, line index)
    for i, w in enumerate(work):
        if w.flash or w.half_off_fen or w.bundle_off_fen or not b.scope.covers(w.line):
            continue
        units += [(w.unit_fen, i)] * w.line.qty
    units.sort(key=lambda u: (-u[0], u[1]))
    off = [0] * len(work)
    base = 0
    made = len(units) // b.units
    if b.max_bundles is not None:
        made = min(made, b.max_bundles)  # the most expensive ones: the cap costs least
    for k in range(made):
        group = units[k * b.units : (k + 1) * b.units]
        worth = sum(price for price, _ in group)
        if worth <= b.price_fen:
            break  # cheaper units next: no later bundle saves either
        shares = allocate(worth - b.price_fen, [u for u, _ in group])
        for (_, i), share in zip(group, shares, strict=True):
            off[i] += share
        base += worth
    if not any(off):
        return None
    if costs:
        for w, o in zip(work, off, strict=True):
            cost = costs.get(w.line.sku)
            if o and cost is not None and w.item_fen - o < cost * w.line.qty:
                notes.append(f"{b.name} left out: it would sell {w.line.sku} below cost")
                return None
    for w, o in zip(work, off, strict=True):
        w.bundle_off_fen = o
    return AppliedDiscount(
        code=f"bundle:{b.promotion_id}",
        label=b.name,
        kind="bundle",
        source_id=b.promotion_id,
        amount_fen=sum(off),
        base_fen=base,
        base="item price of the bundled units (member price where one applies)",
        funded_by=b.funded_by,
        allocation=tuple(off),
        campaign_id=b.campaign_id,
    )


def _add_on(
    a: AddOnPrice, work: list[_Line], costs: Mapping[str, int] | None, notes: list[str]
) -> tuple[AddOnOffer, AppliedDiscount | None]:
    """The add-on offer's state on this cart and, when reached, its discount: the
    ``a.sku`` units (at most ``a.max_units``) at ``a.price_fen``."""
    base = sum(w.order_base_fen for w in work if w.line.sku != a.sku and a.scope.covers(w.line))
    reached = base >= a.threshold_fen
    alloc = [0] * len(work)
    left = a.max_units
    cost = costs.get(a.sku) if costs else None
    below_cost = cost is not None and a.price_fen < cost
    if reached and below_cost:
        notes.append(f"{a.name} left out on {a.sku}: it would sell below cost")
    for i, w in enumerate(work):
        if not reached or below_cost or left <= 0 or w.line.sku != a.sku:
            continue
        if w.flash or w.half_off_fen or w.bundle_off_fen or a.price_fen >= w.unit_fen:
            continue
        w.flash, w.flash_units = a, min(w.line.qty, left)
        left -= w.flash_units
        # on the item price: the line's member price (if any) is already a discount of
        # its own on every unit, so the add-on takes only the rest
        alloc[i] = (w.unit_fen - a.price_fen) * w.flash_units
    used = a.max_units - left
    offer = AddOnOffer(
        a.promotion_id,
        a.name,
        a.sku,
        a.price_fen,
        a.max_units,
        a.threshold_fen,
        base,
        max(0, a.threshold_fen - base),
        reached,
        used,
    )
    if not used:
        return offer, None
    return offer, AppliedDiscount(
        code=f"add_on:{a.promotion_id}",
        label=a.name,
        kind="add_on",
        source_id=a.promotion_id,
        amount_fen=sum(alloc),
        base_fen=sum(w.unit_fen * w.flash_units for w in work if w.flash is a),
        base="item price (member price where one applies)",
        funded_by=a.funded_by,
        allocation=tuple(alloc),
        campaign_id=a.campaign_id,
    )


def _gifts(
    work: Sequence[_Line],
    store_id: str,
    now: datetime,
    promotions: Sequence[Promotion],
    notes: list[str],
    applied: list[AppliedDiscount],
) -> tuple[Gift, ...]:
    """The gifts (满赠) this cart earns: the in-scope goods after item promotions and the
    tiered discount (per-SKU-priced units out) reach the threshold. An earned gift in
    stock is a "gift" discount worth its list price on no line (allocation all zeros:
    the gift line itself is placed at price 0), so its campaign's budget counts it."""
    out: list[Gift] = []
    for g in sorted(
        (p for p in promotions if isinstance(p, GiftWithPurchase)), key=lambda p: p.promotion_id
    ):
        if not _live(g.starts_at, g.ends_at, now) or not g.scope.at_store(store_id):
            continue
        base = sum(w.order_base_fen - w.tiered_fen for w in work if g.scope.covers(w.line))
        if base < g.threshold_fen or base == 0 or g.units <= 0:
            continue
        gift = Gift(g.promotion_id, g.name, g.sku, g.sku_name, g.units, g.value_fen, g.in_stock)
        out.append(gift)
        if not g.in_stock:
            notes.append(f"{g.name}: {g.sku_name} is out of stock, the order goes without it")
            continue
        worth = g.value_fen * g.units
        applied.append(
            AppliedDiscount(
                code=f"gift:{g.promotion_id}",
                label=g.name,
                kind="gift",
                source_id=g.promotion_id,
                amount_fen=worth,
                base_fen=worth,
                base="gift's list price",
                funded_by=g.funded_by,
                allocation=(0,) * len(work),
                campaign_id=g.campaign_id,
            )
        )
    return tuple(out)


def _product_coupon(
    c: CouponOffer, work: Sequence[_Line]
) -> tuple[int, tuple[int, ...], int] | None:
    """A product coupon (商品券) on the first line of its SKU with a unit not at a
    per-SKU price: (amount, shares, base). The amount is that unit's item price less the
    coupon's price, never negative, never above what the line still costs."""
    for i, w in enumerate(work):
        if w.line.sku != c.sku or w.line.qty - w.flash_units <= 0:
            continue
        left = w.order_base_fen - w.tiered_fen
        unit = min(w.unit_fen, left)
        amount = max(0, unit - c.price_fen)
        shares = tuple(amount if j == i else 0 for j in range(len(work)))
        return amount, shares, unit
    return None
