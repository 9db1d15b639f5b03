"""The launch checklist: reads what campaigns/checklist_rules.py judges (the campaign's
contents as the engine takes them, sample SKUs at its first store with their prices and
costs, the other scheduled and live campaigns) and quotes a test order through the
storefront's own quote path as of the campaign's start."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

import msgspec

from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.campaign_budgets import live
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.campaigns import checklist_rules as cr
from chalicelib.campaigns import schemas as s
from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.checkout import promotion_engine as engine
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.promotions.models import PromotionModel
from chalicelib.stores.models import StoreModel

SAMPLE_SKUS = 20  # sample SKUs per category scope at the sample store
CHECKER = Principal(subject="campaign-checklist", role=HQ_ADMIN)


def _when(value: str) -> datetime:
    return clock.parse(value)


def _scope(categories: Any, skus: Any) -> engine.Scope:
    return engine.Scope(frozenset(categories or []), frozenset(skus or []))


def _promotion_offer(p: PromotionModel) -> cr.Offer | None:
    start, end = _when(p.starts_at), _when(p.ends_at)
    scope = _scope(p.scope_categories, p.scope_skus)
    if p.kind == "tiered":
        tiers = tuple((int(t.threshold_fen), int(t.off_fen)) for t in p.tiers)
        return engine.TieredDiscount(p.promotion_id, p.name, tiers, start, end, scope)
    if p.kind == "second_half_price":
        return engine.SecondItemHalfPrice(p.promotion_id, p.name, start, end, scope)
    if p.kind == "flash_sale":
        units = int(p.per_customer_limit or 1)
        return engine.FlashPrice(
            p.promotion_id, p.name, str(p.sku), int(p.flash_price_fen), units, start, end
        )
    return None  # member days price through the member's hook: not a sample cart's


def _template_offer(t: CouponTemplateModel, m: CampaignModel) -> engine.CouponOffer:
    return engine.CouponOffer(
        coupon_id=f"sample-{t.template_id}",
        template_id=t.template_id,
        name=t.name,
        kind=cast(Any, t.kind),
        valid_from=_when(t.starts_at or m.starts_at),
        valid_until=_when(t.ends_at or m.ends_at),
        threshold_fen=int(t.threshold_fen or 0),
        amount_off_fen=int(t.amount_off_fen or 0),
        percent_off=int(t.percent_off or 0),
        cap_fen=None if t.cap_fen is None else int(t.cap_fen),
        scope=engine.Scope(
            frozenset(t.scope_categories), frozenset(t.scope_skus), frozenset(t.scope_stores)
        ),
    )


def _plans(models: list[CampaignModel]) -> list[cr.Plan]:
    """The campaigns with their contents as the engine takes them: one BatchGetItem."""
    pids = {p for m in models for p in [*m.promotion_ids, *m.member_day_ids]}
    tids = {t for m in models for t in m.coupon_template_ids}
    keys: dict[Any, list[dict[str, Any]]] = {
        PromotionModel: [{"promotion_id": p} for p in sorted(pids)],
        CouponTemplateModel: [{"template_id": t} for t in sorted(tids)],
    }
    got = batch_get(keys, consistent=False) if pids or tids else None
    promos = {p.promotion_id: p for p in got[PromotionModel]} if got else {}
    templates = {t.template_id: t for t in got[CouponTemplateModel]} if got else {}
    out = []
    for m in models:
        contents: list[cr.Content] = []
        for pid in m.promotion_ids:
            p = promos.get(pid)
            offer = _promotion_offer(p) if p is not None else None
            if p is not None and offer is not None:
                contents.append(cr.Content(m.campaign_id, "promotion", pid, p.name, offer))
        for tid in m.coupon_template_ids:
            t = templates.get(tid)
            if t is not None and t.kind != "free_delivery":
                offer = _template_offer(t, m)
                contents.append(cr.Content(m.campaign_id, "coupon_template", tid, t.name, offer))
        out.append(
            cr.Plan(
                m.campaign_id,
                m.name,
                m.state,
                m.starts_at,
                m.ends_at,
                None if m.stores_mode == "all" else frozenset(_stores_of(m)),
                tuple(contents),
            )
        )
    return out


def _stores_of(m: CampaignModel) -> list[str]:
    """A list campaign's stores; a tiers campaign's as resolved at launch, or (a draft)
    as its tiers stand now."""
    if m.stores_mode == "tiers" and m.state == "draft":
        from chalicelib.campaigns.service import resolve_stores

        try:
            return resolve_stores(m)
        except ImportError:
            return []
    return list(m.stores)


def _sample_store(plan: cr.Plan) -> str | None:
    if plan.stores:
        return sorted(plan.stores)[0]
    if plan.stores is None:
        for store in StoreModel.by_listing.query("stores", limit=1):
            return str(store.store_id)
    return None


def _sample_products(store_id: str, plan: cr.Plan) -> list[cr.Product]:
    """The SKUs the campaign's contents cover at the sample store (up to SAMPLE_SKUS per
    category or for an everything scope), with their price there and their cost."""
    skus: set[str] = set()
    for c in plan.contents:
        if isinstance(c.offer, engine.FlashPrice):
            skus.add(c.offer.sku)
            continue
        skus |= set(c.scope.skus)
        prefixes = [cat.replace("/", "#") + "#" for cat in c.scope.categories]
        if not c.scope.skus and not c.scope.categories:
            prefixes = [""]
        for prefix in prefixes:
            cond = StoreItemModel.category_key.startswith(prefix) if prefix else None
            for item in StoreItemModel.by_category.query(store_id, cond, limit=SAMPLE_SKUS):
                skus.add(item.sku)
    if not skus:
        return []
    got = batch_get(
        {
            StoreItemModel: [{"store_id": store_id, "sku": x} for x in sorted(skus)],
            ProductModel: [{"sku": x} for x in sorted(skus)],
        },
        consistent=False,
    )
    # what the store sells now (a test order of other items would be refused)
    prices = {
        i.sku: int(i.price_fen) for i in got[StoreItemModel] if i.on_sale and int(i.stock) > 0
    }
    out = []
    for p in sorted(got[ProductModel], key=lambda p: p.sku):
        if p.active and p.sku in prices and prices[p.sku] > 0:
            cost = None if p.cost_fen is None else int(p.cost_fen)
            out.append(cr.Product(p.sku, p.name, p.category1, p.category2, prices[p.sku], cost))
    return out


def _others(m: CampaignModel) -> list[CampaignModel]:
    """Scheduled and live campaigns that start before this one ends (one Query)."""
    C = CampaignModel
    return [
        o
        for o in C.by_listing.query(
            "campaigns",
            C.starts_key < f"{m.ends_at}",
            filter_condition=C.state.is_in("scheduled", "live"),
        )
        if o.campaign_id != m.campaign_id
    ]


def _test_order(
    plan: cr.Plan, store_id: str | None, products: list[cr.Product], budget_fen: int
) -> dict:
    """A sample cart quoted through the storefront's quote (orders/service.py) as of the
    campaign's start (or now, when it started): it passes when the campaign's discounts
    apply."""
    from chalicelib.orders import schemas as os
    from chalicelib.orders import service as orders

    promos = {c.id for c in plan.contents if c.type == "promotion"}
    if not promos:
        return cr.check("test_order", True, "No promotion to test (coupons apply per customer)")
    if store_id is None or not products:
        return cr.check("test_order", False, "No store or product to quote a test order at")
    # every sample SKU once or twice, to reach the top tier without emptying a shelf
    cart = cr.sample_carts(products, plan.contents)[-1]
    moment = max(clock.now(), _when(plan.starts_at)) + timedelta(seconds=1)
    body = msgspec.convert(
        {
            "store_id": store_id,
            "fulfilment": "pickup",
            "items": [{"sku": ln.sku, "qty": ln.qty} for ln in cart],
        },
        os.QuoteRequest,
    )
    try:
        # priced as it will be once launched: spending, with its whole budget
        launched = live.LiveCampaign(plan.campaign_id, budget_fen, plan.starts_at, plan.ends_at)
        with clock.as_of(moment), live.assuming(launched):
            q = orders.quote(CHECKER, body)
    except ApiError as exc:
        return cr.check(
            "test_order", False, f"The test order was refused: {exc.message}", {"code": exc.code}
        )
    applied = [d.code for d in q.discounts if d.code.split(":", 1)[-1] in promos]
    details = {
        "store_id": store_id,
        "at": clock.iso(moment),
        "items": [{"sku": ln.sku, "qty": ln.qty} for ln in cart],
        "subtotal_fen": q.subtotal_fen,
        "discount_fen": q.discount_fen,
        "total_fen": q.total_fen,
        "discounts": [d.code for d in q.discounts],
        "notes": list(q.notes),
    }
    return cr.check(
        "test_order",
        bool(applied),
        (
            f"Test order: {q.subtotal_fen} - {q.discount_fen} = {q.total_fen} fen"
            if applied
            else "The test order got none of the campaign's promotions"
        ),
        details,
    )


def _drafts(m: CampaignModel) -> list[tuple[str, str, str, str]]:
    """The campaign's promotions and templates still draft or pending (one consistent
    BatchGetItem: an approval a moment ago counts)."""
    pids = [*m.promotion_ids, *m.member_day_ids]
    tids = list(m.coupon_template_ids)
    if not pids and not tids:
        return []
    got = batch_get(
        {
            PromotionModel: [{"promotion_id": p} for p in dict.fromkeys(pids)],
            CouponTemplateModel: [{"template_id": t} for t in dict.fromkeys(tids)],
        }
    )
    waiting = [
        ("promotion", p.promotion_id, p.name, str(p.status))
        for p in got[PromotionModel]
        if p.status in ("draft", "pending")
    ]
    waiting += [
        ("coupon_template", t.template_id, t.name, str(t.status))
        for t in got[CouponTemplateModel]
        if t.status in ("draft", "pending")
    ]
    return sorted(waiting)


def run(m: CampaignModel) -> s.Checklist:
    """Every check of the campaign, blocking or not."""
    now = clock.now()
    goal = m.goal
    goals = {
        k: None if goal is None or getattr(goal, k) is None else int(getattr(goal, k))
        for k in ("gmv_fen", "orders", "new_members", "aov_fen")
    }
    checks = cr.basics(int(m.budget_fen or 0), goals, m.starts_at, m.ends_at, clock.iso(now))
    others = _others(m)
    plans = _plans([m, *others])
    plan, other_plans = plans[0], plans[1:]
    store_id = _sample_store(plan)
    products = _sample_products(store_id, plan) if store_id else []
    at = max(now, _when(m.starts_at))
    checks += cr.conflicts(plan, other_plans, products, store_id or "", at)
    checks.append(cr.margin_floor(plan, products, store_id or "", at))
    checks.append(_test_order(plan, store_id, products, int(m.budget_fen or 0)))
    checks.append(cr.published(_drafts(m)))
    out = [msgspec.convert(c, s.Check) for c in checks]
    return s.Checklist(
        campaign_id=m.campaign_id, ok=all(c.ok or not c.blocking for c in out), checks=out
    )


def checklist(principal: Principal, campaign_id: str) -> s.Checklist:
    from chalicelib.campaigns.service import get_model

    return run(get_model(campaign_id))
