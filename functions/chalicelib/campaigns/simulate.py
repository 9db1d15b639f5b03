"""Simulate a promotion or a coupon template before publishing it (issue 18 item 5):
price sample carts (or last week's real ones) with the engine as it is today, and again
with the promotion added as if live or with one coupon of the template in the customer's
hand (the engine is pure: two calls a cart), and total the difference. Reads only: one
BatchGetItem per store for prices and costs, the promotions cache for what is live;
writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import msgspec

from chalicelib.auth.principal import Principal
from chalicelib.campaigns import checklist
from chalicelib.campaigns import schemas as s
from chalicelib.catalogue.models import ProductModel
from chalicelib.checkout import mechanics as mechanic_rules
from chalicelib.checkout import promotion_engine as engine
from chalicelib.checkout import service as checkout
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.coupons import repo as coupon_repo
from chalicelib.coupons import targeting as coupon_targeting
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import clock, hours, recurrence
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.orders.models import OrderDetailModel, OrderModel
from chalicelib.promotions import service as promotions
from chalicelib.promotions import targeting as promo_targeting
from chalicelib.promotions.repo import get_promotion
from chalicelib.stores.models import StoreModel

EXAMPLES = 5
LAST_WEEK_CAP = 2000  # orders read for source "last_week"
# A free-delivery coupon waives the delivery fee; simulation prices goods only.
TEMPLATE_KINDS = ("amount_off", "percent_off", "product")

Wanted = list[tuple[str, list[tuple[str, int]]]]  # (store, [(sku, qty)]) per cart
Cart = tuple[int, str, list[CartLine]]  # (index in the request, store, priced lines)
StoreStock = tuple[dict[str, Any], dict[str, ProductModel]]  # a store's items, products
Stock = dict[str, StoreStock]  # by store


def _offers(
    view: promotions.ActivePromotions,
    leave_out: str,
    stock: StoreStock,
    cart_qty: dict[str, int],
) -> list[engine.Promotion]:
    """The promotions of ``view`` as the quote reads them (stacking policies, 满件减/每满减
    fields, add-on prices, bundles, gifts in stock), but ``leave_out``. Campaigns are left
    out (their budgets are not simulated) and so are flash prices (they need units)."""
    items, products = stock
    found = [
        *checkout.order_promotions(view),
        *mechanic_rules.engine_promotions(view.mechanics, items, products, cart_qty),
    ]
    return [
        dataclasses.replace(p, campaign_id=None)
        for p in found
        if getattr(p, "promotion_id", "") != leave_out
    ]


def _price(
    lines: Sequence[CartLine],
    offers: Sequence[engine.Promotion],
    coupons: Sequence[engine.CouponOffer],
    costs: dict[str, int],
    store_id: str,
    at: datetime,
) -> engine.Checkout:
    """Goods only, the best combination of the coupons given, the margin floor kept as
    at checkout."""
    return engine.evaluate(
        lines,
        store_id=store_id,
        now=at,
        fulfilment="pickup",
        delivery=DeliveryRule(0, None),
        minimum_order_fen=0,
        coupons=coupons,
        promotions=offers,
        costs=costs or None,
    )


def _margin(co: engine.Checkout, costs: dict[str, int], products: dict[str, Any]) -> int:
    """What the goods sold earn over their cost, a gift's units (given at 0) included."""
    lines = [*co.priced.lines, *mechanic_rules.gift_lines(co, products)]
    return sum(
        pl.paid_fen - costs[pl.line.sku] * pl.line.qty for pl in lines if pl.line.sku in costs
    )


def _wanted(stores: list[str], body: s.SimulateRequest, now: datetime) -> Wanted:
    """The carts: the body's, or last week's real orders at ``stores`` (every store when
    empty) for ``source: last_week``."""
    if (body.carts is None) == (body.source is None):
        raise ValidationFailed(
            "Give sample carts or a source.",
            details=[field_error("carts", "give carts or source, not both")],
        )
    if body.carts is not None:
        return [(c.store_id, [(ln.sku, ln.qty) for ln in c.lines]) for c in body.carts]
    return last_week(stores, now)


def last_week(stores: list[str], now: datetime, cap: int = LAST_WEEK_CAP) -> Wanted:
    """The paid orders of the last 7 complete local days at the stores (every store when
    none is named), at most ``cap``: the by_store_day index (one Query per store and
    day, paginated), then their lines with BatchGetItem (100 a call)."""
    if stores:
        models = batch_get({StoreModel: [{"store_id": sid} for sid in stores]})[StoreModel]
    else:
        models = list(StoreModel.by_listing.query("stores"))
    ids: list[tuple[str, str]] = []
    for store in sorted(models, key=lambda m: m.store_id):
        today = now.astimezone(hours.zone(store.timezone)).date()
        for back in range(1, 8):
            day = (today - timedelta(days=back)).isoformat()
            for o in OrderModel.by_store_day.query(f"{store.store_id}#{day}"):
                if o.paid_at and not o.held and len(ids) < cap:
                    ids.append((store.store_id, o.order_id))
    out: Wanted = []
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        got = batch_get({OrderDetailModel: [{"order_id": oid} for _, oid in chunk]})
        details = {d.order_id: d for d in got[OrderDetailModel]}
        for store_id, oid in chunk:
            d = details.get(oid)
            if d is not None:
                out.append((store_id, [(ln.sku, int(ln.qty)) for ln in d.lines]))
    return out


def _carts(
    wanted: Wanted, strict: bool, gifts: Callable[[str], list[str]]
) -> tuple[list[Cart], Stock]:
    """Each cart's lines at its store's prices today, with the store's ``gifts(store)``
    SKUs (a gift's price and stock): one BatchGetItem per store. With ``strict`` (sample
    carts) an unknown store or SKU is the caller's mistake (422 naming it); a real
    order's SKU no longer sold is left out of its cart."""
    by_store: dict[str, tuple[Any, dict[str, Any], dict[str, ProductModel]]] = {}
    errors: list[dict[str, str]] = []
    carts: list[Cart] = []
    for i, (store_id, sold) in enumerate(wanted):
        if store_id not in by_store:
            skus = {sku for sid, c in wanted if sid == store_id for sku, _ in c}
            by_store[store_id] = checkout.load_cart(store_id, [*skus, *gifts(store_id)])
        store, items, products = by_store[store_id]
        if store is None:
            errors.append(field_error(f"carts[{i}].store_id", f"no store {store_id!r}"))
            continue
        lines = []
        for j, (sku, qty) in enumerate(sold):
            item, p = items.get(sku), products.get(sku)
            if item is None or p is None:
                if strict:
                    errors.append(
                        field_error(f"carts[{i}].lines[{j}].sku", "not sold at the store")
                    )
                continue
            lines.append(
                CartLine(
                    p.sku,
                    p.name,
                    p.unit,
                    p.category1,
                    p.category2,
                    None,
                    None,
                    bool(p.fresh),
                    int(item.price_fen),
                    qty,
                )
            )
        if lines:
            carts.append((i, store_id, lines))
    if errors:
        raise ValidationFailed("Some carts cannot be priced.", details=errors)
    return carts, {sid: (items, products) for sid, (_, items, products) in by_store.items()}


@dataclass(frozen=True)
class Added:
    """What a simulation adds to the carts: a promotion as if live (its view, or a flash
    price) at its stores (none named: every store), or coupons in the customer's hand."""

    promotion_id: str = ""  # left out of what is live, if it is already
    view: promotions.ActivePromotions | None = None
    flash: tuple[engine.Promotion, ...] = ()
    stores: frozenset[str] = frozenset()
    coupons: tuple[engine.CouponOffer, ...] = ()

    def gift_skus(self) -> list[str]:
        return mechanic_rules.gift_skus(self.view.mechanics, ()) if self.view else []


class _Live:
    """The promotions live at each store at ``at`` (the cache), read once per store."""

    def __init__(self, at: datetime) -> None:
        self.at, self.views = at, dict[str, promotions.ActivePromotions]()

    def __call__(self, store_id: str) -> promotions.ActivePromotions:
        if store_id not in self.views:
            self.views[store_id] = promotions.active_for(store_id, self.at)
        return self.views[store_id]


def _simulate(wanted: Wanted, strict: bool, at: datetime, added: Added) -> s.SimulationFigures:
    live = _Live(at)

    def gifts(store_id: str) -> list[str]:
        return [*mechanic_rules.gift_skus(live(store_id).mechanics, ()), *added.gift_skus()]

    carts, stock = _carts(wanted, strict, gifts)
    return _compare(carts, stock, at, added, live)


def _compare(
    carts: list[Cart], stock: Stock, at: datetime, added: Added, live: _Live
) -> s.SimulationFigures:
    """Price every cart before (the promotions live at its store, no coupon) and after
    (plus what ``added`` adds), and total the difference."""
    totals = dict.fromkeys(
        ("revenue_before", "revenue_after", "disc_before", "disc_after", "m_before", "m_after"),
        0,
    )
    by_funder: dict[str, int] = {}
    changed, no_cost = 0, 0
    examples: list[s.SimExample] = []
    for i, store_id, lines in carts:
        products = stock[store_id][1]
        costs = {k: int(p.cost_fen) for k, p in products.items() if p.cost_fen is not None}
        no_cost += sum(1 for ln in lines if ln.sku not in costs)
        cart_qty: dict[str, int] = {}
        for ln in lines:
            cart_qty[ln.sku] = cart_qty.get(ln.sku, 0) + ln.qty
        offers = _offers(live(store_id), added.promotion_id, stock[store_id], cart_qty)
        more: list[engine.Promotion] = []
        if not added.stores or store_id in added.stores:
            if added.view is not None:
                more += _offers(added.view, "", stock[store_id], cart_qty)
            more += added.flash
        before = _price(lines, offers, (), costs, store_id, at)
        after = _price(lines, [*offers, *more], added.coupons, costs, store_id, at)
        totals["revenue_before"] += before.total_fen
        totals["revenue_after"] += after.total_fen
        totals["disc_before"] += before.priced.discount_fen
        totals["disc_after"] += after.priced.discount_fen
        totals["m_before"] += _margin(before, costs, products)
        totals["m_after"] += _margin(after, costs, products)
        was = {d.code: d for d in before.applied}
        for d in after.applied:
            extra = d.amount_fen - (was[d.code].amount_fen if d.code in was else 0)
            if extra:
                by_funder[d.funded_by] = by_funder.get(d.funded_by, 0) + extra
        for code, d in was.items():  # a live discount the new one displaced
            if code not in {a.code for a in after.applied}:
                by_funder[d.funded_by] = by_funder.get(d.funded_by, 0) - d.amount_fen
        if after.total_fen != before.total_fen:
            changed += 1
            if len(examples) < EXAMPLES:
                examples.append(
                    s.SimExample(
                        cart=i,
                        store_id=store_id,
                        subtotal_fen=after.priced.subtotal_fen,
                        total_before_fen=before.total_fen,
                        total_after_fen=after.total_fen,
                        discounts_after=[d.label for d in after.applied],
                    )
                )
    return s.SimulationFigures(
        carts=len(carts),
        carts_changed=changed,
        revenue_before_fen=totals["revenue_before"],
        revenue_after_fen=totals["revenue_after"],
        discount_before_fen=totals["disc_before"],
        discount_after_fen=totals["disc_after"],
        discount_cost_fen=totals["disc_after"] - totals["disc_before"],
        by_funder={k: v for k, v in sorted(by_funder.items()) if v},
        margin_before_fen=totals["m_before"],
        margin_after_fen=totals["m_after"],
        lines_without_cost=no_cost,
        examples=examples,
    )


def simulate(principal: Principal, promotion_id: str, body: s.SimulateRequest) -> s.SimulateResult:
    """The promotion added as if live (read as the quote reads a live one: its stacking
    policy, mechanics and options), at a moment inside its window."""
    promo = get_promotion(promotion_id)
    if promo.kind == "member_day":
        raise ValidationFailed(
            "This kind of promotion is not simulated.",
            details=[field_error("promotion_id", "a member_day prices per member")],
        )
    now = clock.now()
    at = moment(promo.starts_at, promo_targeting.recurrence_of(promo), now)
    added = Added(promotion_id=promo.promotion_id, stores=frozenset(promo.stores))
    if promo.kind == "flash_sale":  # the units one customer may buy at the flash price
        flash = checklist._promotion_offer(promo)
        assert flash is not None and not isinstance(flash, engine.CouponOffer)
        flash = dataclasses.replace(flash, funded_by=cast(Any, promo.funded_by or "hq"))
        added = dataclasses.replace(added, flash=(flash,))
    else:
        added = dataclasses.replace(added, view=promotions.view_of([promo]))
    figures = _simulate(_wanted(list(promo.stores), body, now), body.source is None, at, added)
    return s.SimulateResult(promotion_id=promotion_id, **msgspec.structs.asdict(figures))


def moment(starts_at: str | None, rec: recurrence.Recurrence | None, now: datetime) -> datetime:
    """When a promotion or a template's coupon would be used: now when its window is
    open (or it has none), else its start; then, for a recurring window (e.g. Wednesdays
    18:00-21:00), the window's next opening."""
    starts = clock.parse(starts_at) if starts_at else None
    at = starts if starts is not None and now < starts else now
    if rec is not None and not recurrence.on_at(rec, at):
        window = recurrence.next_on(rec, at)
        at = window[0] if window is not None else at
    return at


def template_moment(t: CouponTemplateModel, now: datetime) -> datetime:
    return moment(t.starts_at, coupon_targeting.recurrence_of(t), now)


def simulate_template(
    principal: Principal, template_id: str, body: s.SimulateRequest
) -> s.TemplateSimulateResult:
    """Each cart's customer holding one coupon of the template, issued at the moment it
    would be used (``template_moment``): the engine applies it only where it is allowed
    (threshold, scope, stores, stacking policy, margin floor) and the best choice."""
    t = coupon_repo.get_template(template_id)
    if t.kind not in TEMPLATE_KINDS:
        raise ValidationFailed(
            "This kind of coupon template is not simulated.",
            details=[field_error("template_id", f"a {t.kind} coupon waives delivery: goods only")],
        )
    now = clock.now()
    at = template_moment(t, now)
    coupon = coupon_repo.coupon_of(
        t, at, coupon_id=f"{t.template_id}:simulation", customer_id="simulation"
    )
    added = Added(coupons=(checkout.template_offer(coupon, t),))
    figures = _simulate(_wanted(list(t.scope_stores), body, now), body.source is None, at, added)
    return s.TemplateSimulateResult(template_id=template_id, **msgspec.structs.asdict(figures))
