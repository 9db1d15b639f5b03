"""Simulate a promotion before publishing it (issue 18 item 5): price sample carts with
the engine as it is today and again with the promotion added as if live (the engine is
pure: two calls), and total the difference. Reads only: one BatchGetItem per store for
prices and costs, the promotions cache for what is live; writes nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from chalicelib.auth.principal import Principal
from chalicelib.campaigns import checklist
from chalicelib.campaigns import schemas as s
from chalicelib.checkout import promotion_engine as engine
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.checkout.service import load_cart
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import clock, hours
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.orders.models import OrderDetailModel, OrderModel
from chalicelib.promotions import service as promotions
from chalicelib.promotions.repo import get_promotion
from chalicelib.stores.models import StoreModel

EXAMPLES = 5
LAST_WEEK_CAP = 2000  # orders read for source "last_week"


def _live_offers(store_id: str, at: datetime, leave_out: str) -> list[Any]:
    """Tiered and half-price promotions live at the store at ``at`` (the cache), as the
    engine takes them (flash prices need units: left out of the comparison)."""
    active = promotions.active_for(store_id, at)
    out: list[Any] = []
    for t in active.tiered:
        if t.promotion_id != leave_out:
            out.append(
                engine.TieredDiscount(
                    t.promotion_id,
                    t.name,
                    t.tiers,
                    clock.parse(t.starts_at),
                    clock.parse(t.ends_at),
                    engine.Scope(t.categories, t.skus),
                    t.budget_left_fen,
                    cast(Any, t.funded_by),
                )
            )
    for h in active.second_half:
        if h.promotion_id != leave_out:
            out.append(
                engine.SecondItemHalfPrice(
                    h.promotion_id,
                    h.name,
                    clock.parse(h.starts_at),
                    clock.parse(h.ends_at),
                    engine.Scope(h.categories, h.skus),
                    cast(Any, h.funded_by),
                )
            )
    return out


def _price(lines: Sequence[CartLine], offers: Sequence[Any], store_id: str, at: datetime):
    return engine.evaluate(
        lines,
        store_id=store_id,
        now=at,
        fulfilment="pickup",
        delivery=DeliveryRule(0, None),
        minimum_order_fen=0,
        promotions=offers,
    )


def _margin(co: engine.Checkout, costs: dict[str, int]) -> int:
    return sum(
        pl.paid_fen - costs[pl.line.sku] * pl.line.qty
        for pl in co.priced.lines
        if pl.line.sku in costs
    )


Wanted = list[tuple[str, list[tuple[str, int]]]]  # (store, [(sku, qty)]) per cart


def _wanted(promo: Any, body: s.SimulateRequest, now: datetime) -> Wanted:
    """The carts: the body's, or last week's real orders (``source: last_week``)."""
    if (body.carts is None) == (body.source is None):
        raise ValidationFailed(
            "Give sample carts or a source.",
            details=[field_error("carts", "give carts or source, not both")],
        )
    if body.carts is not None:
        return [(c.store_id, [(ln.sku, ln.qty) for ln in c.lines]) for c in body.carts]
    return last_week(list(promo.stores), now)


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


def simulate(principal: Principal, promotion_id: str, body: s.SimulateRequest) -> s.SimulateResult:
    promo = get_promotion(promotion_id)
    offer = checklist._promotion_offer(promo)
    if offer is None:
        raise ValidationFailed(
            "This kind of promotion is not simulated.",
            details=[field_error("promotion_id", f"a {promo.kind} prices per member")],
        )
    if hasattr(offer, "funded_by"):
        offer = dataclasses.replace(offer, funded_by=cast(Any, promo.funded_by or "hq"))
    starts, ends = clock.parse(promo.starts_at), clock.parse(promo.ends_at)
    now = clock.now()
    at = now if starts <= now < ends else starts  # inside the promotion's window
    wanted = _wanted(promo, body, now)
    strict = body.source is None  # sample carts: an unknown SKU is the caller's mistake
    by_store: dict[str, tuple[Any, dict, dict]] = {}
    errors: list[dict[str, str]] = []
    carts: list[tuple[int, str, list[CartLine]]] = []
    for i, (store_id, sold) in enumerate(wanted):
        if store_id not in by_store:
            skus = {sku for sid, c in wanted if sid == store_id for sku, _ in c}
            by_store[store_id] = load_cart(store_id, skus)
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
                continue  # a real order's SKU no longer sold: left out
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
    totals = dict.fromkeys(
        ("revenue_before", "revenue_after", "disc_before", "disc_after", "m_before", "m_after"),
        0,
    )
    by_funder: dict[str, int] = {}
    changed, no_cost = 0, 0
    examples: list[s.SimExample] = []
    live: dict[str, list[Any]] = {}
    for i, store_id, lines in carts:
        if store_id not in live:
            live[store_id] = _live_offers(store_id, at, promo.promotion_id)
        _, _, products = by_store[store_id]
        costs = {k: int(p.cost_fen) for k, p in products.items() if p.cost_fen is not None}
        no_cost += sum(1 for ln in lines if ln.sku not in costs)
        before = _price(lines, live[store_id], store_id, at)
        runs_here = not promo.stores or store_id in promo.stores
        offers_after = [*live[store_id], offer] if runs_here else live[store_id]
        after = _price(lines, offers_after, store_id, at)
        totals["revenue_before"] += before.total_fen
        totals["revenue_after"] += after.total_fen
        totals["disc_before"] += before.priced.discount_fen
        totals["disc_after"] += after.priced.discount_fen
        totals["m_before"] += _margin(before, costs)
        totals["m_after"] += _margin(after, costs)
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
    return s.SimulateResult(
        promotion_id=promotion_id,
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
