"""The launch checklist's rules in plain Python (campaigns/checklist.py reads what they
need): budget, goal and window; conflicts with other campaigns on the same stores and
SKUs in the same window; the loss check of the combinations the stacking matrix would
make; each promotion's and template's margin floor on its own.

The loss check prices sample carts with checkout's engine WITHOUT its margin floor: the
floor would silently leave out a discount the campaigns promised, so the check shows
what the stacking matrix combines and whether that sells below cost."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.checkout import promotion_engine as engine
from chalicelib.checkout.pricing import CartLine, DeliveryRule

Offer = engine.TieredDiscount | engine.SecondItemHalfPrice | engine.FlashPrice | engine.CouponOffer


@dataclass(frozen=True)
class Product:
    """A SKU at the sample store: its price there and its unit cost (None: unknown)."""

    sku: str
    name: str
    category1: str
    category2: str
    price_fen: int
    cost_fen: int | None


@dataclass(frozen=True)
class Content:
    """A promotion or coupon template of a campaign, as the engine takes it."""

    campaign_id: str
    type: str  # "promotion" | "coupon_template"
    id: str
    name: str
    offer: Offer

    @property
    def scope(self) -> engine.Scope:
        return getattr(self.offer, "scope", engine.ALL)

    def covers(self, p: Product) -> bool:
        if isinstance(self.offer, engine.FlashPrice):
            return self.offer.sku == p.sku
        return self.scope.covers(_line(p, 1))


@dataclass(frozen=True)
class Plan:
    """A campaign as the checklist judges it. ``stores`` None: every store."""

    campaign_id: str
    name: str
    state: str
    starts_at: str
    ends_at: str
    stores: frozenset[str] | None
    contents: tuple[Content, ...]


def check(
    id: str, ok: bool, message: str, details: Any = None, blocking: bool = True
) -> dict[str, Any]:
    return {"id": id, "ok": ok, "blocking": blocking, "message": message, "details": details}


def basics(
    budget_fen: int, goal: Mapping[str, int | None], starts_at: str, ends_at: str, now_iso: str
) -> list[dict]:
    """Budget set, goal set, window valid and not in the past."""
    goals = {k: v for k, v in goal.items() if v}
    window_ok = starts_at < ends_at and ends_at > now_iso
    return [
        check(
            "budget",
            budget_fen > 0,
            f"Budget {budget_fen} fen" if budget_fen > 0 else "Set a budget above 0",
            {"budget_fen": budget_fen},
        ),
        check(
            "goal",
            bool(goals),
            "Goal set" if goals else "Set at least one goal: GMV, orders, new members or AOV",
            goals,
        ),
        check(
            "window",
            window_ok,
            "Window valid" if window_ok else "The window has ended or ends before it starts",
            {"starts_at": starts_at, "ends_at": ends_at},
        ),
    ]


def windows_overlap(a: Plan, b: Plan) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def stores_overlap(a: Plan, b: Plan) -> bool:
    if a.stores is None or b.stores is None:
        return True
    return bool(a.stores & b.stores)


def shared_skus(a: Plan, b: Plan, products: Sequence[Product]) -> list[str]:
    """The sample SKUs some content of ``a`` and some content of ``b`` both cover."""
    return [
        p.sku
        for p in products
        if any(c.covers(p) for c in a.contents) and any(c.covers(p) for c in b.contents)
    ]


def _line(p: Product, qty: int) -> CartLine:
    return CartLine(
        p.sku, p.name, "份", p.category1, p.category2, None, None, False, p.price_fen, qty
    )


def _top_threshold(contents: Sequence[Content]) -> int:
    out = 0
    for c in contents:
        if isinstance(c.offer, engine.TieredDiscount):
            out = max(out, max((t for t, _ in c.offer.tiers), default=0))
        elif isinstance(c.offer, engine.CouponOffer):
            out = max(out, c.offer.threshold_fen)
    return out


def sample_carts(products: Sequence[Product], contents: Sequence[Content]) -> list[list[CartLine]]:
    """One cart per SKU and one of them all, each with enough units to reach the top tier
    (or coupon threshold) and at least two (second item half price)."""
    top = _top_threshold(contents)
    carts = []
    for p in products:
        carts.append([_line(p, max(2, math.ceil(top / p.price_fen)))])
    if len(products) > 1:
        total = sum(p.price_fen for p in products)
        qty = max(2, math.ceil(top / total))
        carts.append([_line(p, qty) for p in products])
    return carts


def _priced(
    cart: Sequence[CartLine], contents: Sequence[Content], store_id: str, now: datetime
) -> engine.Checkout:
    promotions = [c.offer for c in contents if not isinstance(c.offer, engine.CouponOffer)]
    coupons = [c.offer for c in contents if isinstance(c.offer, engine.CouponOffer)]
    return engine.evaluate(
        cart,
        store_id=store_id,
        now=now,
        fulfilment="pickup",
        delivery=DeliveryRule(0, None),
        minimum_order_fen=0,
        coupons=coupons,
        promotions=promotions,
        costs=None,
    )


def loss(
    cart: Sequence[CartLine],
    contents: Sequence[Content],
    products: Mapping[str, Product],
    store_id: str,
    now: datetime,
) -> dict | None:
    """The cart priced with ``contents`` as the stacking matrix combines them: None when
    it keeps every line at or above cost, else the lines that lose and the amounts."""
    co = _priced(cart, contents, store_id, now)
    below: list[dict[str, Any]] = []
    margin = discount = 0  # over the lines whose cost is known: the others cannot lose
    for pl in co.priced.lines:
        cost = products[pl.line.sku].cost_fen
        if cost is None:
            continue
        paid = pl.line.amount_fen - pl.discount_fen
        margin += pl.line.amount_fen - cost * pl.line.qty
        discount += pl.discount_fen
        if paid < cost * pl.line.qty:
            below.append(
                {
                    "sku": pl.line.sku,
                    "qty": pl.line.qty,
                    "paid_fen": paid,
                    "cost_fen": cost * pl.line.qty,
                }
            )
    if not below and discount <= margin:
        return None
    return {
        "lines": [{"sku": ln.sku, "qty": ln.qty, "price_fen": ln.unit_price_fen} for ln in cart],
        "subtotal_fen": co.priced.subtotal_fen,
        "discount_fen": discount,
        "margin_fen": margin,
        "loss_fen": max(discount - margin, sum(b["cost_fen"] - b["paid_fen"] for b in below)),
        "below_cost": below,
        "applied": [a.code for a in co.applied],
    }


def conflicts(
    plan: Plan, others: Sequence[Plan], products: Sequence[Product], store_id: str, now: datetime
) -> list[dict]:
    """The conflict warning and the loss check against scheduled or live campaigns whose
    window, stores and contents' scope overlap this one's."""
    by_sku = {p.sku: p for p in products}
    found, losing = [], []
    for other in others:
        if other.campaign_id == plan.campaign_id or not windows_overlap(plan, other):
            continue
        if not stores_overlap(plan, other):
            continue
        skus = shared_skus(plan, other, products)
        if not skus:
            continue
        found.append({"campaign_id": other.campaign_id, "name": other.name, "skus": skus})
        both = [*plan.contents, *other.contents]
        at = max(now, datetime.fromisoformat(other.starts_at.replace("Z", "+00:00")))
        for cart in sample_carts([by_sku[s] for s in skus], both):
            lost = loss(cart, both, by_sku, store_id, at)
            if lost is not None:
                losing.append({"campaign_id": other.campaign_id, **lost})
    return [
        check(
            "conflicts",
            not found,
            (
                f"Overlaps {len(found)} scheduled or live campaign(s) on the same stores and SKUs"
                if found
                else "No other campaign on the same stores and SKUs in this window"
            ),
            found,
            blocking=False,
        ),
        check(
            "stacking_loss",
            not losing,
            (
                f"{len(losing)} sample cart(s) sell below cost when the campaigns combine"
                if losing
                else "No combination with overlapping campaigns sells below cost"
            ),
            losing,
        ),
    ]


def margin_floor(plan: Plan, products: Sequence[Product], store_id: str, now: datetime) -> dict:
    """Each content alone on sample carts of its scope: a discount that takes a line
    below cost is one checkout's floor refuses (below_margin_floor)."""
    by_sku = {p.sku: p for p in products}
    failing = []
    for c in plan.contents:
        mine = [p for p in products if c.covers(p)]
        skus: set[str] = set()
        for cart in sample_carts(mine, [c]):
            lost = loss(cart, [c], by_sku, store_id, now)
            if lost is not None:
                skus |= {b["sku"] for b in lost["below_cost"]}
        if skus:
            failing.append({"type": c.type, "id": c.id, "name": c.name, "skus": sorted(skus)})
    return check(
        "margin_floor",
        not failing,
        (
            f"{len(failing)} discount(s) would sell below cost ({engine.BELOW_MARGIN_FLOOR})"
            if failing
            else "Every discount keeps the margin floor"
        ),
        failing,
    )


def published(drafts: Sequence[tuple[str, str, str, str]]) -> dict[str, Any]:
    """Issue 18 item 5: every promotion and coupon template of the campaign is published.
    A draft is never priced nor claimable, so a campaign launched with one would promise
    a discount nobody gets. ``drafts``: (type, id, name, status) of those not published."""
    if not drafts:
        return check("published", True, "Every promotion and coupon template is approved")
    names = ", ".join(f"{name} ({status})" for _, _, name, status in drafts)
    return check(
        "published",
        False,
        f"Still waiting for approval: {names}",
        [{"type": t, "id": i, "name": n, "status": st} for t, i, n, st in drafts],
    )
