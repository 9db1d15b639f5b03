"""Checkout: load what a cart's price depends on, price it with the promotions and the
customer's coupons (checkout/promotion_engine.py), and build the transaction pieces that take
coupons, flash-sale units and campaign budgets with the order, or give them back.

Reads: one BatchGetItem for the store, its price/stock of each SKU, the products, the
coupons the customer chose and their templates (for the budget left), and for SKUs on a
flash sale the customer's count and the sale's shards, and the customer's paid card,
growth account and the levels settings (their member benefits, checkout/member_benefits.py);
the promotions on at the store come from a per-container cache (one Query every few
seconds). Choosing the best coupons
for the customer (no ``coupon_ids`` sent) adds one Query of the wallet, made before the
BatchGetItem so that its coupons' templates come with the cart.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.campaign_budgets import live as campaign_live
from chalicelib.campaign_budgets import repo as campaign_repo
from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.checkout import mechanics as mechanic_rules
from chalicelib.checkout import member_benefits, points_cash, reprice
from chalicelib.checkout import promotion_engine as promo
from chalicelib.checkout.pricing import CartLine, DeliveryRule
from chalicelib.coupons import repo as coupon_repo
from chalicelib.coupons import targeting as coupon_targeting
from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.db.transactions import TxPiece, batch_get
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel import stacking as kstack
from chalicelib.kernel.errors import Conflict, ValidationFailed, field_error
from chalicelib.loyalty import growth, mall, paid_membership
from chalicelib.loyalty import points as loyalty_points
from chalicelib.loyalty.levels import rank as level_rank
from chalicelib.loyalty.models import LoyaltyAccountModel, LoyaltySettingsModel
from chalicelib.loyalty.paid_models import PaidCardModel
from chalicelib.loyalty.programme_schemas import LevelsSettings
from chalicelib.loyalty.programme_settings import LEVELS, levels_settings_of
from chalicelib.loyalty.schemas import PointsSettings
from chalicelib.loyalty.settings import POINTS, points_settings_of
from chalicelib.orders.models import OrderModel
from chalicelib.promotions import limits as promo_limits
from chalicelib.promotions import mechanics as promotion_mechanics
from chalicelib.promotions import repo as promotion_repo
from chalicelib.promotions import service as promotion_store
from chalicelib.promotions.models import (
    FlashBuyerModel,
    FlashShardModel,
    LimitCounterModel,
    NewCustomerMarkerModel,
    SegmentMembershipModel,
    buyer_key,
    shard_key,
)
from chalicelib.stored_value import payment as stored_value
from chalicelib.stored_value import rules as stored_value_rules
from chalicelib.stored_value.models import StoredValueAccountModel
from chalicelib.stores.models import StoreModel
from chalicelib.zones import rules as zone_rules
from chalicelib.zones import service as zone_store
from chalicelib.zones.models import ZoneBuyerModel

MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems


@dataclass
class Loaded:
    """Everything a cart's price depends on, read in one round trip (plus the cache)."""

    store: StoreModel | None
    items: dict[str, StoreItemModel]
    products: dict[str, ProductModel]
    coupons: list[CouponModel] = field(default_factory=list)
    active: promotion_store.ActivePromotions | None = None
    bought: dict[str, int] = field(default_factory=dict)  # flash promotion -> units held
    shards_left: dict[str, dict[int, int]] = field(default_factory=dict)
    # coupon template -> budget left (None: no budget), for the coupons loaded
    budget_left: dict[str, int | None] = field(default_factory=dict)
    # The customer's stored-value account, when the order pays with balance (None: not
    # asked for, or the customer has none)
    stored_value_account: StoredValueAccountModel | None = None
    # The customer's paid membership card (None: none), read in the same batch; ``evaluate``
    # notes whether the price used its benefits (``takes`` then marks the card).
    paid_card: PaidCardModel | None = None
    card_benefit_used: bool = False
    # The customer's growth account and the levels settings (their level's benefits),
    # read in the same batch (None: not a customer)
    growth_account: LoyaltyAccountModel | None = None
    levels_settings: LevelsSettings | None = None
    # The customer's points account and the points rules, read with the cart for a
    # customer's quote or an order using points (None: not read, or no account)
    points_account: LoyaltyAccountModel | None = None
    points_settings: PointsSettings | None = None
    # A points-mall product reward placed as this order (None: not one)
    reward: mall.OrderReward | None = None
    # coupon template -> its campaign (issue 16), from the templates read with the cart
    template_campaigns: dict[str, str | None] = field(default_factory=dict)
    # each coupon template's stacking policy (issue 18), read with the cart
    template_policies: dict[str, promo.StackingPolicy] = field(default_factory=dict)
    # The campaigns spending now with their budget left (campaign_budgets/live.py's
    # cache), read only when a promotion or coupon of the cart names a campaign
    campaigns: dict[str, int] | None = None
    # A mechanic's order (orders/extensions.py PlaceHook): the items it asked to read in
    # the same batch, and its fixed prices (no coupon, promotion, member price or minimum)
    extra: Any = None
    fixed_price: bool = False
    # Fixed-price zones' prices live for the cart's SKUs (the zones cache), and the
    # customer's units held of the limited ones, read in the same batch
    fixed: list[zone_store.FixedOffer] = field(default_factory=list)
    zone_bought: dict[tuple[str, str], int] = field(default_factory=dict)
    # What the member prices of ``evaluate`` were built from (level, card, member days
    # on now), so that the add-on suggestions price a zone product the same way
    member_context: tuple[Any, Any, Any] | None = None
    # Limited promotions (issue 18 item 3, promotions/limits.py), read only when one is
    # live at the store: each one's counters (key -> limit), the counts read, the
    # customer's registration (new-customer benefits) and fingerprints of the order
    limits: LimitsRead | None = None
    # Coupon templates' redemption limits (issue 18 item 3): the loaded coupons' counters
    # (template -> {key: limit}, from the limits each coupon carries) and their counts,
    # read in the same batch (None: no coupon with limits)
    coupon_limits: CouponLimitsRead | None = None
    # Coupon templates read with the cart whose returns_policy is reevaluate (issue 18)
    reevaluate_templates: frozenset[str] = frozenset()
    # The saved segments the customer is in (segment_memberships, as of the last nightly
    # snapshot), read with the cart only while a promotion for a segment is live at the
    # store (issue 18 item 4); empty otherwise and for a guest
    segments: frozenset[str] = frozenset()


@dataclass
class LimitsRead:
    """What the limited promotions live at the store need, read with the cart."""

    keys: dict[str, dict[str, int]]  # promotion id -> {counter key: limit}
    by_id: dict[str, promo_limits.Limits]
    counts: dict[str, int] = field(default_factory=dict)
    registered_at: str | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)  # kind -> marker key
    taken: set[str] = field(default_factory=set)  # marker keys another customer owns


@dataclass
class CouponLimitsRead:
    """The counters of the loaded coupons' templates with limits, read with the cart."""

    keys: dict[str, dict[str, int]]  # template id -> {counter key: limit}
    counts: dict[str, int]


def _coupon_counter_keys(
    wallet: Sequence[CouponModel],
    chosen: Sequence[str] | None,
    customer: str,
    store_id: str,
    now: datetime,
) -> list[str]:
    """The template counters to read in the cart's batch. A wallet coupon, read before
    the batch, carries its template's limits: only those counters. A chosen coupon is read
    in the batch itself, so every counter its template could have (three per template,
    absent items when it has none): its limits are known once it is read."""
    keys: dict[str, int] = {}
    if chosen:
        for tid in dict.fromkeys(coupon_repo.template_of(c) for c in chosen):
            keys |= promo_limits.template_counter_keys(
                tid, promo_limits.ANY_PERIOD, customer, store_id, now
            )
        return list(keys)
    for c in wallet:
        lim = promo_limits.period_limits(c.limits)
        if lim is not None:
            keys |= promo_limits.template_counter_keys(c.template_id, lim, customer, store_id, now)
    return list(keys)


def _coupon_limits(
    coupons: Sequence[CouponModel],
    customer: str,
    store_id: str,
    now: datetime,
    counts: dict[str, int],
) -> CouponLimitsRead | None:
    """Each loaded coupon's template counters (from the limits the coupon carries) with
    the counts read; None when no coupon has limits."""
    keys: dict[str, dict[str, int]] = {}
    for c in coupons:
        lim = promo_limits.period_limits(c.limits)
        if lim is not None:
            keys[c.template_id] = promo_limits.template_counter_keys(
                c.template_id, lim, customer, store_id, now
            )
    return CouponLimitsRead(keys, counts) if keys else None


def coupons_left_out(loaded: Loaded) -> dict[str, str]:
    """Coupons whose template's limit is used up (coupon id -> ``limit_reached``)."""
    read = loaded.coupon_limits
    if read is None:
        return {}
    return {
        c.coupon_id: promo_limits.LIMIT_REACHED
        for c in loaded.coupons
        if promo_limits.used_up(read.keys.get(c.template_id, {}), read.counts)
    }


def limited_promotions(
    active: promotion_store.ActivePromotions,
) -> dict[str, promo_limits.Limits]:
    """The live promotions with a counted limit (others cost no read nor write)."""
    out = {t.promotion_id: t.limits for t in active.tiered if t.limits and t.limits.counted}
    limited: list[promotion_store.SecondHalfPrice | promotion_mechanics.Mechanic] = [
        *active.second_half,
        *active.mechanics,
    ]
    for x in limited:
        if x.limits is not None and x.limits.counted:
            out[x.promotion_id] = x.limits
    return out


def _limits_keys(
    active: promotion_store.ActivePromotions,
    customer: str | None,
    store_id: str,
    fingerprint: tuple[str | None, str | None, str | None],
) -> tuple[LimitsRead | None, dict[Any, list[dict[str, Any]]]]:
    """The counters (and for new-customer benefits the customer's registration and the
    order's fingerprints) to read in the cart's batch; none without a limited promotion."""
    by_id = limited_promotions(active)
    if not by_id:
        return None, {}
    now = clock.now()
    read = LimitsRead(
        {
            pid: promo_limits.counter_keys(pid, lim, customer, store_id, now)
            for pid, lim in by_id.items()
        },
        by_id,
    )
    keys: dict[Any, list[dict[str, Any]]] = {
        LimitCounterModel: [
            {"limit_key": k} for k in dict.fromkeys(k for ks in read.keys.values() for k in ks)
        ]
    }
    if customer is not None and any(lim.new_customer for lim in by_id.values()):
        keys[CustomerModel] = [{"customer_id": customer}]
        device, address, payer = fingerprint
        read.fingerprints = promo_limits.fingerprints(
            {"device", "address", "payment"}, device, address, payer
        )
        if read.fingerprints:
            keys[NewCustomerMarkerModel] = [{"marker_key": k} for k in read.fingerprints.values()]
    return read, keys


def _customer(principal: Principal) -> str | None:
    return principal.subject if principal.role == CUSTOMER else None


def load_cart(
    store_id: str, skus: Iterable[str]
) -> tuple[StoreModel | None, dict[str, StoreItemModel], dict[str, ProductModel]]:
    """The store, its price/stock of each SKU and the products, in one round trip."""
    skus = list(dict.fromkeys(skus))
    got = batch_get(
        {
            StoreModel: [{"store_id": store_id}],
            StoreItemModel: [{"store_id": store_id, "sku": s} for s in skus],
            ProductModel: [{"sku": s} for s in skus],
        }
    )
    stores = got[StoreModel]
    return (
        stores[0] if stores else None,
        {i.sku: i for i in got[StoreItemModel]},
        {p.sku: p for p in got[ProductModel]},
    )


def load(
    principal: Principal,
    store_id: str,
    skus: Sequence[str],
    coupon_ids: Sequence[str] | None,
    consistent: bool = True,
    stored_value_account: bool = False,
    points_account: bool = False,
    reward_id: str | None = None,
    extra_keys: dict[Any, list[dict[str, Any]]] | None = None,
    fingerprint: tuple[str | None, str | None, str | None] = (None, None, None),
) -> Loaded:
    """Read the cart's store, items and products, the chosen coupons (or the customer's
    whole wallet when none are chosen), the flash-sale counters of its SKUs, when the
    order pays with balance the customer's stored-value account, when it may use points
    the customer's points account and the points rules, and for a points-mall reward the
    reward, the member's count of it and their points: one BatchGetItem."""
    skus = list(dict.fromkeys(skus))
    customer = _customer(principal)
    if reward_id:
        coupon_ids = []  # no coupon applies to a reward: no wallet Query either
    active = promotion_store.active_for(store_id)
    flash = [active.flash[s] for s in skus if s in active.flash]
    fixed = [] if reward_id else zone_store.fixed_offers(store_id, skus)
    # a gift (满赠) live at the store: its price and stock come in the same batch
    read = skus + mechanic_rules.gift_skus(active.mechanics, skus)
    keys: dict[Any, list[dict[str, Any]]] = {
        StoreModel: [{"store_id": store_id}],
        StoreItemModel: [{"store_id": store_id, "sku": s} for s in read],
        ProductModel: [{"sku": s} for s in read],
        FlashShardModel: [
            {"shard_key": shard_key(f.promotion_id, k)} for f in flash for k in range(f.shards)
        ],
    }
    wallet: list[CouponModel] = []
    coupon_counters: list[str] = []
    now = clock.now()  # the day and week of the template counters read and added to
    if customer is not None:
        keys[FlashBuyerModel] = [{"buyer_key": buyer_key(f.promotion_id, customer)} for f in flash]
        if any(o.limited for o in fixed):  # other carts: no key, no read
            keys[ZoneBuyerModel] = zone_store.buyer_keys(fixed, customer)
        if coupon_ids:
            keys[CouponModel] = [{"coupon_id": c} for c in dict.fromkeys(coupon_ids)]
            template_ids = [coupon_repo.template_of(c) for c in coupon_ids]
        elif coupon_ids is None:
            # The wallet first, so that its templates' budgets come in the same batch.
            wallet = list(
                CouponModel.by_customer.query(
                    customer, filter_condition=CouponModel.state == "available"
                )
            )
            template_ids = [c.template_id for c in wallet]
        else:
            template_ids = []
        if template_ids:
            keys[CouponTemplateModel] = [{"template_id": t} for t in dict.fromkeys(template_ids)]
        if stored_value_account:
            keys.update(stored_value.keys(customer))
        keys.update(paid_membership.card_keys(customer))
        # the loyalty account holds the level (member prices) and the points
        keys[LoyaltyAccountModel] = [{"customer_id": customer}]
        keys[LoyaltySettingsModel] = [{"area": LEVELS}]
        if points_account:
            keys[LoyaltySettingsModel].append({"area": POINTS})
        if reward_id:
            keys.update(mall.order_keys(reward_id, customer))
    # a reward or a mechanic's order has a fixed price: no promotion, no counter to read
    fixed_price = bool(reward_id or extra_keys)
    limits_read, limit_keys = (
        (None, {}) if fixed_price else _limits_keys(active, customer, store_id, fingerprint)
    )
    keys.update(limit_keys)
    # a promotion for a saved segment live here: which segments the member is in
    segment_read = customer is not None and not fixed_price and bool(active.segments)
    if segment_read:
        keys[SegmentMembershipModel] = [{"customer_id": customer}]
    if customer is not None and not fixed_price:
        coupon_counters = _coupon_counter_keys(wallet, coupon_ids, customer, store_id, now)
    if coupon_counters:
        keys.setdefault(LimitCounterModel, []).extend({"limit_key": k} for k in coupon_counters)
    if extra_keys:
        keys.update(extra_keys)
    # Placing reads consistently what its writes depend on (stock, coupons, accounts,
    # counters); the catalogue's products, the store, the loyalty rules and the nightly
    # segment memberships change rarely and are read eventually consistent (half the
    # read units) either way.
    got = batch_get(
        keys,
        consistent=consistent,
        eventual=(ProductModel, StoreModel, LoyaltySettingsModel, SegmentMembershipModel),
    )
    stores = got[StoreModel]
    loaded = Loaded(
        store=stores[0] if stores else None,
        items={i.sku: i for i in got[StoreItemModel]},
        products={p.sku: p for p in got[ProductModel]},
        active=active,
        fixed=fixed,
    )
    if extra_keys:
        loaded.extra, loaded.fixed_price = got, True
    loaded.zone_bought = zone_store.bought(got.of(ZoneBuyerModel))
    if segment_read:
        loaded.segments = frozenset(s for m in got.of(SegmentMembershipModel) for s in m.segs)
    if limits_read is not None:
        limits_read.counts = promo_limits.counts_of(got.of(LimitCounterModel))
        members = got.of(CustomerModel)
        limits_read.registered_at = members[0].created_at if members else None
        if customer is not None:
            limits_read.taken = {
                m.marker_key for m in got.of(NewCustomerMarkerModel) if m.owner != customer
            }
        loaded.limits = limits_read
    now_iso = clock.now_iso()
    for shard in got[FlashShardModel]:
        # An ended sale (open = 0) or one outside its window has nothing to sell, even if
        # the 5-second promotions cache still lists it.
        live = shard.open == 1 and shard.starts_at <= now_iso < shard.ends_at
        left = int(shard.remaining) if live else 0
        loaded.shards_left.setdefault(shard.promotion_id, {})[int(shard.shard)] = left
    for buyer in got.of(FlashBuyerModel):
        loaded.bought[buyer.buyer_key.split("#", 1)[0]] = int(buyer.units)
    if customer is not None:
        if coupon_ids:
            loaded.coupons = [c for c in got[CouponModel] if c.customer_id == customer]
        elif coupon_ids is None:
            loaded.coupons = wallet
        loaded.budget_left, loaded.template_campaigns, loaded.template_policies = _budgets_left(
            loaded.coupons, got.get(CouponTemplateModel, [])
        )
        loaded.reevaluate_templates = reevaluating(got.get(CouponTemplateModel, []))
        if coupon_counters:
            loaded.coupon_limits = _coupon_limits(
                loaded.coupons,
                customer,
                store_id,
                now,
                promo_limits.counts_of(got.of(LimitCounterModel)),
            )
        accounts = got.of(StoredValueAccountModel)
        loaded.stored_value_account = accounts[0] if accounts else None
        cards = got.of(PaidCardModel)
        loaded.paid_card = cards[0] if cards else None
        loyalty_accounts = got.of(LoyaltyAccountModel)
        loaded.growth_account = loyalty_accounts[0] if loyalty_accounts else None
        settings = {item.area: item for item in got.of(LoyaltySettingsModel)}
        loaded.levels_settings = levels_settings_of(settings.get(LEVELS))
        if points_account:
            loaded.points_account = loaded.growth_account
            loaded.points_settings = points_settings_of(settings.get(POINTS))
        if reward_id:
            loaded.reward = mall.order_read(reward_id, got)
    return loaded


def _budgets_left(
    coupons: Sequence[CouponModel], templates: Sequence[Any]
) -> tuple[dict[str, int | None], dict[str, str | None], dict[str, promo.StackingPolicy]]:
    """Each coupon's template budget left (None: the template has no budget), so that
    pricing judges a coupon whose budget is spent ``budget_exhausted`` instead of
    suggesting it. A template not read with the cart (a coupon whose id does not start
    with its template's) costs one more read."""
    by_id = {t.template_id: t for t in templates}
    missing = [c.template_id for c in coupons if c.template_id not in by_id]
    if missing:
        more = batch_get({CouponTemplateModel: [{"template_id": t} for t in set(missing)]})
        by_id.update({t.template_id: t for t in more[CouponTemplateModel]})
    left = {
        tid: None if t.budget_fen is None else int(t.budget_left_fen or 0)
        for tid, t in by_id.items()
    }
    policies = {tid: stacking_policy(t.stacking, t.margin_floor) for tid, t in by_id.items()}
    return left, {tid: t.campaign_id for tid, t in by_id.items()}, policies


def stacking_policy(stacking: Any, margin_floor: str | None) -> promo.StackingPolicy:
    """The engine's stacking policy from what storage holds (a stored map or the
    promotions cache's view; None and "refuse": the defaults, i.e. the fixed matrix)."""
    if not stacking and margin_floor in (None, "refuse"):
        return promo.DEFAULT_POLICY
    v = stacking if isinstance(stacking, kstack.StackingOut) else kstack.view(stacking)
    return promo.StackingPolicy(
        exclusive=v.exclusive,
        priority=v.priority,
        not_with_tiered=v.not_with_tiered,
        not_with_member_price=v.not_with_member_price,
        stack_group=v.stack_group,
        margin_floor="exclude" if margin_floor == "exclude" else "refuse",
    )


# --- pricing --------------------------------------------------------------------------


def _when(value: str) -> datetime:
    return clock.parse(value)


def _offer(
    c: CouponModel,
    budget_left: dict[str, int | None],
    template_campaigns: dict[str, str | None],
    template_policies: dict[str, promo.StackingPolicy] | None = None,
) -> promo.CouponOffer:
    return promo.CouponOffer(
        coupon_id=c.coupon_id,
        template_id=c.template_id,
        name=c.name,
        # The str columns hold the schema's literals (checked when written): cast.
        kind=cast(Any, c.kind),
        valid_from=_when(c.valid_from),
        valid_until=_when(c.valid_until),
        threshold_fen=int(c.threshold_fen or 0),
        amount_off_fen=int(c.amount_off_fen or 0),
        percent_off=int(c.percent_off or 0),
        cap_fen=None if c.cap_fen is None else int(c.cap_fen),
        scope=promo.Scope(
            frozenset(c.scope_categories), frozenset(c.scope_skus), frozenset(c.scope_stores)
        ),
        state=cast(Any, c.state),
        funded_by=cast(Any, c.funded_by),
        budget_left_fen=budget_left.get(c.template_id),
        campaign_id=template_campaigns.get(c.template_id),
        recurrence=coupon_targeting.recurrence_of(c),
        stacking=(template_policies or {}).get(c.template_id, promo.DEFAULT_POLICY),
        sku=c.product_sku,
        price_fen=int(c.product_price_fen or 0),
    )


def template_offer(coupon: CouponModel, template: CouponTemplateModel) -> promo.CouponOffer:
    """A coupon of ``template`` (not written: coupons.repo.coupon_of) as the engine
    takes it, with the template's budget left and stacking policy as a quote reads them.
    Its campaign is left out: a simulation prices without campaigns."""
    budget = None if template.budget_fen is None else int(template.budget_left_fen or 0)
    policy = stacking_policy(template.stacking, template.margin_floor)
    tid = template.template_id
    return _offer(coupon, {tid: budget}, {}, {tid: policy})


def order_promotions(active: promotion_store.ActivePromotions) -> list[promo.Promotion]:
    """The tiered and second-half-price promotions live at a store (the promotions
    cache's view) as the engine takes them, with their stacking policies and mechanics:
    the quote's and the simulation's (campaigns/simulate.py) one reading."""
    out: list[promo.Promotion] = []
    for t in active.tiered:
        out.append(
            promo.TieredDiscount(
                t.promotion_id,
                t.name,
                t.tiers,
                _when(t.starts_at),
                _when(t.ends_at),
                promo.Scope(t.categories, t.skus),
                t.budget_left_fen,
                cast(Any, t.funded_by),
                t.campaign_id,
                stacking_policy(t.stacking, t.margin_floor),
                **mechanic_rules.tier_fields(t.options),
            )
        )
    for h in active.second_half:
        out.append(
            promo.SecondItemHalfPrice(
                h.promotion_id,
                h.name,
                _when(h.starts_at),
                _when(h.ends_at),
                promo.Scope(h.categories, h.skus),
                cast(Any, h.funded_by),
                h.campaign_id,
                stacking_policy(h.stacking, None),
                h.limits.per_order_units if h.limits else None,
            )
        )
    return out


def _promotions(loaded: Loaded, skus: set[str]) -> list[promo.Promotion]:
    """The store's promotions as the domain wants them. A flash price counts only for
    the units this customer may still buy and one shard can still give (an order takes
    its units from one shard)."""
    active = loaded.active
    if active is None:
        return []
    out = order_promotions(active)
    for sku, f in active.flash.items():
        if sku not in skus:
            continue
        left = max(loaded.shards_left.get(f.promotion_id, {0: 0}).values())
        allowed = min(f.per_customer_limit - loaded.bought.get(f.promotion_id, 0), left)
        if allowed > 0:
            out.append(
                promo.FlashPrice(
                    f.promotion_id,
                    f.name,
                    sku,
                    f.flash_price_fen,
                    allowed,
                    _when(f.starts_at),
                    _when(f.ends_at),
                    funded_by=cast(Any, f.funded_by),
                    campaign_id=f.campaign_id,
                )
            )
    for o in loaded.fixed:
        z = o.zone
        assert z.price_fen is not None and z.starts_at is not None and z.ends_at is not None
        allowed = zone_store.units_allowed(o, loaded.zone_bought.get((z.zone_id, o.sku), 0))
        if allowed > 0:
            out.append(
                promo.FixedPrice(
                    z.zone_id,
                    z.name,
                    o.sku,
                    z.price_fen,
                    allowed,
                    _when(z.starts_at),
                    _when(z.ends_at),
                    funded_by=cast(Any, z.funded_by),
                    campaign_id=z.campaign_id,
                )
            )
    return out


def _for_audience(
    promotions: list[promo.Promotion],
    active: promotion_store.ActivePromotions | None,
    level: Any,
    settings: LevelsSettings | None,
    segments: frozenset[str] = frozenset(),
) -> list[promo.Promotion]:
    """Targeting (issue 18 item 4): a promotion for members at a level or above applies
    only to them, one for a saved segment only to its members as of the last snapshot
    (both read with the cart: no read of their own); a guest, a member below the level or
    outside the segment is priced as if it did not exist (no note: the quote does not
    tell one customer about another audience's offer)."""
    need = active.min_levels if active is not None else {}
    need_segment = active.segments if active is not None else {}
    if not need and not need_segment:
        return promotions
    rank = None if level is None or settings is None else level_rank(level.code, settings)

    def for_them(pid: str | None) -> bool:
        if pid in need_segment and need_segment[pid] not in segments:
            return False
        if pid not in need:
            return True
        return rank is not None and settings is not None and rank >= level_rank(need[pid], settings)

    return [p for p in promotions if for_them(getattr(p, "promotion_id", None))]


def _campaigns(
    loaded: Loaded,
    coupons: Sequence[promo.CouponOffer],
    promotions: Sequence[promo.Promotion],
    member_days: Sequence[promotion_store.MemberDay] = (),
) -> dict[str, int]:
    """The spending campaigns' budget left, read (from the per-container cache) only when
    a promotion, coupon or member day of this cart names a campaign: other carts read
    nothing."""
    if loaded.campaigns is None:
        named = (
            any(c.campaign_id for c in coupons)
            or any(p.campaign_id for p in promotions)
            or any(d.campaign_id for d in member_days)
        )
        loaded.campaigns = campaign_live.spending() if named else {}
    return loaded.campaigns


def evaluate(
    principal: Principal,
    loaded: Loaded,
    lines: list[CartLine],
    *,
    store_id: str,
    fulfilment: str,
    coupon_ids: Sequence[str] | None,
) -> promo.Checkout:
    """Price the cart. ``coupon_ids`` None: the best combination of the customer's
    coupons; a list: exactly those (``rejected_coupon_ids`` says which cannot apply).
    The member's level and running paid card (docs/loyalty.md, "Where member benefits
    sit in the stacking") give, per SKU, the better of their member prices through the
    engine's member-price hook, and waive the delivery fee (the card always when it has
    free delivery, the level from its threshold on the goods after discounts)."""
    store = loaded.store
    assert store is not None
    fee = store.delivery_fee
    costs = {sku: int(p.cost_fen) for sku, p in loaded.products.items() if p.cost_fen is not None}
    now = clock.now()
    # a mall reward or a mechanic's order (group buy): its price is fixed, no more
    reward = loaded.reward is not None or loaded.fixed_price
    delivery = DeliveryRule(
        int(fee.base_fee_fen), None if fee.free_above_fen is None else int(fee.free_above_fen)
    )
    card = None if reward else paid_membership.card_benefits(loaded.paid_card, now)
    settings = loaded.levels_settings
    level = None if reward or settings is None else growth.level_of(loaded.growth_account, settings)
    offers = (
        []
        if reward
        else [
            _offer(c, loaded.budget_left, loaded.template_campaigns, loaded.template_policies)
            for c in loaded.coupons
        ]
    )
    cart_qty: dict[str, int] = {}
    for line in lines:
        cart_qty[line.sku] = cart_qty.get(line.sku, 0) + line.qty
    promotions = [] if reward else _promotions(loaded, set(cart_qty))
    if not reward and loaded.active is not None:  # add_on, gift, bundle (issue 18)
        promotions += mechanic_rules.engine_promotions(
            loaded.active.mechanics, loaded.items, loaded.products, cart_qty
        )
    promotions = _for_audience(promotions, loaded.active, level, settings, loaded.segments)
    member_days = loaded.active.member_days if loaded.active and not reward else ()
    campaigns = _campaigns(loaded, offers, promotions, member_days)
    # A member day of a campaign that is not spending gives nothing (issue 16).
    member_days = tuple(d for d in member_days if not d.campaign_id or d.campaign_id in campaigns)
    # Member days on now for this member (the promotions cache: no read of its own).
    days = member_benefits.member_days_for(member_days, level, settings, now)
    member = member_benefits.combine(
        {line.sku: line.unit_price_fen for line in lines},
        level,
        card,
        member_benefits.member_day_prices(lines, days),
    )
    loaded.member_context = (level, card, days)
    checkout = promo.evaluate(
        lines,
        store_id=store_id,
        now=now,
        fulfilment=fulfilment,
        delivery=delivery,
        minimum_order_fen=0 if reward else int(store.minimum_order_fen),
        coupons=offers,
        promotions=promotions,
        chosen_coupon_ids=[] if reward else None if coupon_ids is None else list(coupon_ids),
        costs=costs or None,
        member_prices=member,
        member_delivery=member.delivery,
        points_multipliers=member_benefits.points_multipliers(days),
        campaigns=campaigns,
        left_out=left_out(loaded, principal),
        coupons_left_out=coupons_left_out(loaded),
    )
    loaded.card_benefit_used = member.card_used(checkout.applied)
    return checkout


def left_out(loaded: Loaded, principal: Principal) -> dict[str, str]:
    """Limited promotions not for this cart, and why (promotions/limits.py): a counter
    at its limit, a new-customer benefit for a customer who ordered before, registered
    too long ago or shares a device, address or payment account with another account that
    had one."""
    read = loaded.limits
    if read is None:
        return {}
    customer = _customer(principal)
    now = clock.now()
    account = loaded.growth_account
    # a completed order is on the loyalty account (its month's order count)
    ordered = account is not None and account.orders_month is not None
    out = {}
    for pid, lim in read.by_id.items():
        if lim.new_customer and customer is not None:
            why = promo_limits.is_new_customer(lim, read.registered_at, ordered, now)
            if why is not None:
                out[pid] = why
                continue
            enforced = [read.fingerprints[k] for k in lim.one_per if k in read.fingerprints]
            if any(key in read.taken for key in enforced):
                out[pid] = promo_limits.NEW_CUSTOMER_ALREADY_USED
                continue
        if promo_limits.used_up(read.keys[pid], read.counts):
            out[pid] = promo_limits.LIMIT_REACHED
    return out


def refuse_rejected(checkout: promo.Checkout) -> None:
    """422 naming each chosen coupon that cannot apply, with the domain's reason; 409
    ``coupon_unavailable`` when one was taken meanwhile (locked or used by another order),
    the answer the order's transaction gives a racing loser, so a client sees one code
    for one situation whichever side of the other order's commit it read."""
    if not checkout.rejected_coupon_ids:
        return
    verdicts = {v.coupon_id: v for v in checkout.coupon_verdicts}
    for cid in checkout.rejected_coupon_ids:
        v = verdicts.get(cid)
        if v is not None and v.reason == promo.NOT_AVAILABLE:
            code, message = FAILURES["coupon"]
            raise Conflict(message, code=code, details={"id": cid})
    details = []
    for cid in checkout.rejected_coupon_ids:
        v = verdicts.get(cid)
        details.append(
            {
                "field": "coupon_ids",
                "coupon_id": cid,
                "reason": v.reason if v else promo.NOT_IN_WALLET,
                "message": v.message if v else "Not a coupon of yours that can be used now",
            }
        )
    raise ValidationFailed(
        f"A coupon cannot be used on this order: {checkout.refusal}.",
        code="coupon_not_applicable",
        details=details,
    )


# --- taking and giving back -------------------------------------------------------------


@dataclass
class Takes:
    """What an order takes besides stock, as transaction pieces, with what to record on
    the order. Each piece is labelled "<what>:<id>"; ``kinds`` maps the label back to
    (what, id), to explain a cancelled transaction."""

    pieces: list[TxPiece] = field(default_factory=list)
    kinds: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (what, id)
    coupon_uses: list[dict[str, Any]] = field(default_factory=list)
    flash_uses: list[dict[str, Any]] = field(default_factory=list)
    budget_uses: list[dict[str, Any]] = field(default_factory=list)
    # campaign budgets spent (issue 16): {campaign_id, amount_fen, hq, store, supplier}
    campaign_uses: list[dict[str, Any]] = field(default_factory=list)
    points_campaign_id: str | None = None  # the member day's campaign (points_campaign)
    # units counted against a fixed-price zone's per-customer limit: {zone_id, sku, units}
    zone_uses: list[dict[str, Any]] = field(default_factory=list)
    # counters of limited promotions the order added one to (issue 18): given back
    limit_uses: list[str] = field(default_factory=list)
    stored_value: stored_value_rules.Split = stored_value_rules.ZERO  # what balance pays
    stored_value_store: str | None = None
    points_used: int = 0  # points locked by the order (points as cash)
    points_fen: int = 0  # what they pay
    line_points_fen: list[int] = field(default_factory=list)  # their split over the lines
    # the rules re-evaluated on returns (checkout/reprice.py); None on ordinary orders
    reprice: str | None = None
    # a new-customer benefit taken (promotions/limits.py NewCustomerUse, encoded): kept
    # on the order's head for the payment callback; None on other orders
    new_customer: str | None = None

    def add(self, what: str, ident: str, piece: TxPiece) -> None:
        label = f"{what}:{ident}"
        self.pieces.append(piece.relabelled(label))
        self.kinds[label] = (what, ident)


def points_offer(loaded: Loaded, checkout: promo.Checkout) -> points_cash.Offer | None:
    """How many points the customer may use on this cart (None: points not read: not a
    customer, or not asked for)."""
    settings = loaded.points_settings
    if settings is None:
        return None
    account = loaded.points_account
    # as of now: lots that matured since the account's last change count
    spendable = loyalty_points.settled(account).spendable
    goods = sum(pl.paid_fen for pl in checkout.priced.lines)
    return points_cash.offer(
        spendable, goods, settings.cash_points_per_yuan, settings.cash_cap_percent
    )


def points_to_take(loaded: Loaded, checkout: promo.Checkout, points_to_use: int) -> tuple[int, int]:
    """(points, fen) an order asking to use ``points_to_use`` takes: 422 when they buy
    no whole fen or pass the cap, 409 ``insufficient_points`` (with the spendable points)
    when the account as read does not hold them."""
    offer = points_offer(loaded, checkout)
    settings = loaded.points_settings
    if offer is None or settings is None:
        raise ValidationFailed(
            "Only a signed-in member can pay with points.",
            code="points_not_allowed",
            details=[field_error("points_to_use", "members only")],
        )
    used, fen = points_cash.use(points_to_use, settings.cash_points_per_yuan)
    if fen <= 0:
        raise ValidationFailed(
            f"{points_to_use} points do not make a whole fen "
            f"({settings.cash_points_per_yuan} points = ¥1).",
            code="points_below_one_fen",
            details=[field_error("points_to_use", "at least one fen's worth")],
        )
    if fen > offer.cap_fen:
        cap_points, _ = points_cash.use(
            points_cash.most_points_within(offer.cap_fen, settings.cash_points_per_yuan),
            settings.cash_points_per_yuan,
        )
        raise ValidationFailed(
            f"Points can pay at most {settings.cash_cap_percent}% of the goods "
            f"({offer.cap_fen} fen, {cap_points} points) on this order.",
            code="points_above_cap",
            details=[field_error("points_to_use", f"at most {cap_points}")],
        )
    if used > offer.spendable:
        raise insufficient_points(offer.spendable)
    return used, fen


def insufficient_points(spendable: int) -> Conflict:
    return Conflict(
        f"You have {spendable} spendable points; use fewer.",
        code="insufficient_points",
        details={"spendable": spendable},
    )


def takes(
    customer_id: str,
    order_id: str,
    checkout: promo.Checkout,
    loaded: Loaded,
    avoid_shards: dict[str, set[int]],
    stored_value_fen: int = 0,
    points: tuple[int, int] = (0, 0),
) -> Takes:
    """The pieces that lock ``points`` (points, fen) of the customer's points, lock the
    applied coupons (and spend their budgets), spend tiered campaign budgets, reserve
    flash-sale units and take ``stored_value_fen`` of the customer's balance (split as
    the account was read). 409 ``insufficient_stored_value`` when the account as read
    does not hold that much."""
    out = Takes()
    used, fen = points
    if used > 0:
        if loyalty_points.needs_settle(loaded.points_account):
            # the lock's condition reads the written spendable points: write the lots
            # that matured since the account's last change first
            loyalty_points.settle_now(customer_id)
        out.add("points", customer_id, loyalty_points.lock_piece(customer_id, used, order_id))
        out.points_used, out.points_fen = used, fen
        out.line_points_fen = points_cash.split_over_lines(
            fen, [pl.paid_fen for pl in checkout.priced.lines]
        )
    if stored_value_fen > 0:
        account = loaded.stored_value_account
        if stored_value.held(account).total_fen < stored_value_fen:
            code, message = FAILURES["stored_value"]
            raise Conflict(
                message,
                code=code,
                details={"balance_fen": stored_value.held(account).total_fen},
            )
        split, sv_pieces = stored_value.take(customer_id, order_id, account, stored_value_fen)
        for piece in sv_pieces:
            out.add("stored_value", piece.label, piece)
        out.stored_value = split
        out.stored_value_store = stored_value.store_of(account)
    if loaded.card_benefit_used:  # the paid card's refund rule counts it as used
        out.add("paid_card", customer_id, paid_membership.benefit_used_piece(customer_id, order_id))
    if loaded.reward is not None:
        store_id = loaded.store.store_id if loaded.store is not None else "-"
        for piece in mall.order_pieces(loaded.reward, customer_id, order_id, store_id):
            out.add(piece.label, loaded.reward.reward.reward_id, piece)
    now_iso = clock.now_iso()
    coupons = {c.coupon_id: c for c in loaded.coupons}
    applied = {a.source_id: a for a in checkout.applied if a.kind in ("coupon", "free_delivery")}
    for cid in checkout.applied_coupon_ids:
        c, a = coupons[cid], applied[cid]
        items = coupon_repo.redemption_items(
            cid, customer_id, order_id, a.amount_fen, c.template_id, now_iso=now_iso
        )
        coupon_piece, budget_piece = items
        out.add("coupon", cid, coupon_piece)
        out.add("coupon_budget", cid, budget_piece)
        out.coupon_uses.append(
            {
                "coupon_id": cid,
                "template_id": c.template_id,
                "kind": c.kind,
                "discount_fen": a.amount_fen,
            }
        )
    budgets = {
        t.promotion_id: t.budget_left_fen
        for t in (loaded.active.tiered if loaded.active else ())
        if t.budget_left_fen is not None
    }
    for a in checkout.applied:
        if a.kind == "tiered" and a.source_id in budgets and a.amount_fen > 0:
            p = promotion_repo.budget_items(a.source_id, a.amount_fen)
            out.add("promotion_budget", a.source_id, p)
            out.budget_uses.append({"promotion_id": a.source_id, "amount_fen": a.amount_fen})
    flash = loaded.active.flash if loaded.active else {}
    for fu in checkout.flash_units:
        f = flash[fu.sku]
        left = loaded.shards_left.get(fu.promotion_id, {})
        usable = [
            k
            for k, n in left.items()
            if n >= fu.units and k not in avoid_shards.get(fu.promotion_id, set())
        ]
        if not usable:
            raise Conflict(
                f"The flash sale on {fu.sku} is sold out; quote again for today's price.",
                code="flash_sale_sold_out",
                details={"sku": fu.sku, "promotion_id": fu.promotion_id},
            )
        shard = random.choice(usable)
        r = promotion_repo.reservation_items(
            fu.promotion_id,
            customer_id,
            fu.units,
            shard,
            per_customer_limit=f.per_customer_limit,
            now_iso=now_iso,
        )
        out.add("flash_shard", f"{fu.promotion_id}#{shard}", r.shard_update)
        out.add("flash_buyer", fu.promotion_id, r.buyer_update)
        out.flash_uses.append(
            {"promotion_id": fu.promotion_id, "sku": fu.sku, "units": fu.units, "shard": shard}
        )
    limits = {(o.zone.zone_id, o.sku): o.zone.per_customer_limit for o in loaded.fixed}
    for fu in checkout.fixed_units:
        limit = limits.get((fu.promotion_id, fu.sku))
        if limit is None:  # no per-customer limit: nothing to count
            continue
        piece = zone_store.take_piece(fu.promotion_id, fu.sku, customer_id, fu.units, limit)
        out.add("zone_buyer", f"{fu.promotion_id}#{fu.sku}", piece)
        out.zone_uses.append({"zone_id": fu.promotion_id, "sku": fu.sku, "units": fu.units})
    for use in campaign_uses(checkout.applied):
        funders = {f: use[f] for f in ("hq", "store", "supplier")}
        piece = campaign_repo.spend_piece(use["campaign_id"], use["amount_fen"], funders)
        out.add("campaign_budget", use["campaign_id"], piece)
        out.campaign_uses.append(use)
    _limit_takes(out, loaded, checkout, customer_id, order_id)
    _coupon_limit_takes(out, loaded, checkout)
    out.points_campaign_id = points_campaign(loaded, checkout)
    out.reprice = reprice_snapshot(loaded, checkout)
    return out


def _limit_takes(
    out: Takes, loaded: Loaded, checkout: promo.Checkout, customer_id: str, order_id: str
) -> None:
    """+1 on each counter of the limited promotions the order gets (a counter shared by
    two, the first-order one, once), and for a new-customer benefit the order's use on
    each fingerprint's marker (refused for another customer where the promotion says
    ``one_per`` that fingerprint). Nothing for an order without limited promotions."""
    read = loaded.limits
    if read is None:
        return
    keys: dict[str, int] = {}
    markers: dict[str, tuple[int, str, bool]] = {}  # key -> (fen, promotion, enforce)
    new_customer: list[tuple[str, int]] = []  # (promotion, fen) of new-customer benefits
    for a in checkout.applied:
        lim = read.by_id.get(a.source_id)
        if lim is None or a.amount_fen <= 0 or a.kind not in promo_limits.COUNTED_DISCOUNTS:
            continue
        for k, limit in read.keys[a.source_id].items():
            keys[k] = min(limit, keys.get(k, limit))
        if lim.new_customer:
            new_customer.append((a.source_id, a.amount_fen))
            for kind, key in read.fingerprints.items():
                fen, pid, enforce = markers.get(key, (0, a.source_id, False))
                markers[key] = (fen + a.amount_fen, pid, enforce or kind in lim.one_per)
    for k, limit in keys.items():
        out.add("promotion_limit", k, promo_limits.take_piece(k, limit))
        out.limit_uses.append(k)
    for key, (fen, pid, enforce) in markers.items():
        piece = promo_limits.marker_piece(key, customer_id, order_id, fen, pid, enforce=enforce)
        out.add("new_customer", key, piece)
    if new_customer:
        # kept on the order's head: the payment callback records who actually paid
        declared = read.fingerprints.get("payment")
        out.new_customer = promo_limits.NewCustomerUse(
            new_customer[0][0],
            sum(fen for _, fen in new_customer),
            declared.rsplit("#", 1)[1] if declared else None,
        ).encode()


def _coupon_limit_takes(out: Takes, loaded: Loaded, checkout: promo.Checkout) -> None:
    """+1 on each counter of the applied coupons' templates, under its limit, in the
    order's transaction (given back with ``limit_uses`` when it is cancelled or expires
    unpaid). A racing order that would pass a limit fails its transaction: 409
    ``coupon_limit_reached``, nothing written."""
    read = loaded.coupon_limits
    if read is None:
        return
    coupons = {c.coupon_id: c for c in loaded.coupons}
    keys: dict[str, int] = {}
    for cid in checkout.applied_coupon_ids:
        for k, limit in read.keys.get(coupons[cid].template_id, {}).items():
            keys[k] = min(limit, keys.get(k, limit))  # two coupons of one template: once
    for k, limit in keys.items():
        out.add("coupon_limit", k, promo_limits.take_piece(k, limit))
        out.limit_uses.append(k)


# --- returns re-evaluated (issue 18 item 2) -------------------------------------------


def reevaluating(templates: Sequence[Any]) -> frozenset[str]:
    """The templates (read with the cart) whose coupons are re-evaluated on returns."""
    return frozenset(t.template_id for t in templates if t.returns_policy == reprice.REEVALUATE)


def reprice_snapshot(loaded: Loaded, checkout: promo.Checkout) -> str | None:
    """The compact rules of the applied discounts whose policy is reevaluate, to keep
    on the order (None, nothing stored, for every other order)."""
    lines = [pl.line for pl in checkout.priced.lines]
    sources: dict[str, reprice.Source] = {}
    active = loaded.active
    if active is not None:
        for t in active.tiered:
            if t.returns_policy == reprice.REEVALUATE:
                scope = promo.Scope(t.categories, t.skus)
                sources[f"tiered:{t.promotion_id}"] = reprice.Source(
                    tiers=t.tiers, covers=tuple(scope.covers(x) for x in lines)
                )
        for h in active.second_half:
            if h.returns_policy == reprice.REEVALUATE:
                sources[f"second_half:{h.promotion_id}"] = reprice.Source()
    for c in loaded.coupons:
        if c.template_id in loaded.reevaluate_templates and c.kind != "free_delivery":
            scope = promo.Scope(frozenset(c.scope_categories), frozenset(c.scope_skus))
            sources[f"coupon:{c.coupon_id}"] = reprice.Source(
                threshold_fen=int(c.threshold_fen or 0),
                amount_off_fen=int(c.amount_off_fen or 0) if c.kind == "amount_off" else 0,
                percent_off=int(c.percent_off or 0) if c.kind == "percent_off" else 0,
                cap_fen=None if c.cap_fen is None else int(c.cap_fen),
                covers=tuple(scope.covers(x) for x in lines),
            )
    if not sources or not any(a.code in sources for a in checkout.applied):
        return None
    per_sku: dict[str, int] = {}
    for fu in (*checkout.flash_units, *checkout.fixed_units):
        per_sku[fu.sku] = per_sku.get(fu.sku, 0) + fu.units * fu.price_fen
    rules = reprice.snapshot(
        checkout.applied,
        [x.qty for x in lines],
        [x.amount_fen for x in lines],
        [per_sku.get(x.sku, 0) for x in lines],
        sources,
    )
    return reprice.dumps(rules)


def points_campaign(loaded: Loaded, checkout: promo.Checkout) -> str | None:
    """The campaign of the member day whose points multiplier the order carries (its extra
    points are that campaign's cost, accrued when the order completes), or None."""
    m = checkout.points_multiplier
    if m is None or loaded.active is None:
        return None
    day = next((d for d in loaded.active.member_days if d.promotion_id == m.source_id), None)
    return day.campaign_id if day is not None else None


def forget_campaigns() -> None:
    """Drop this container's cache of the spending campaigns (a campaign refused an
    order: what the cache says is left is out of date)."""
    campaign_live.forget_cache()


def campaign_uses(applied: Sequence[promo.AppliedDiscount]) -> list[dict[str, Any]]:
    """What the applied discounts spend from each campaign, split by who funds them: one
    entry (and one transaction piece) per campaign."""
    out: dict[str, dict[str, Any]] = {}
    for a in applied:
        if a.campaign_id is None or a.amount_fen <= 0:
            continue
        use = out.setdefault(
            a.campaign_id,
            {"campaign_id": a.campaign_id, "amount_fen": 0, "hq": 0, "store": 0, "supplier": 0},
        )
        use["amount_fen"] += a.amount_fen
        use[a.funded_by if a.funded_by in ("store", "supplier") else "hq"] += a.amount_fen
    return [out[cid] for cid in sorted(out)]


def check_size(stock_lines: int, t: Takes) -> None:
    """An order is one transaction: 2 items (key, order) + a stock update per line + these."""
    if 2 + stock_lines + len(t.pieces) > MAX_TRANSACTION_ITEMS:
        raise ValidationFailed(
            "This order has too many lines for one checkout with its promotions; "
            "split it into two orders.",
            code="order_too_large",
            details=[field_error("items", "fewer lines, or fewer flash-sale lines")],
        )


def explain_failure(t: Takes, failed: Sequence[str]) -> tuple[str, str] | None:
    """The first of our pieces among the ``failed`` labels: (what, id), or None."""
    return next((t.kinds[label] for label in failed if label in t.kinds), None)


FAILURES = {
    "paid_card": (
        "paid_membership_changed",
        "Your paid membership changed meanwhile; quote again.",
    ),
    "coupon": (
        "coupon_unavailable",
        "The coupon was just used by another order or is no longer valid; quote again.",
    ),
    "coupon_budget": (
        "coupon_budget_exhausted",
        "The coupon's budget is used up; quote again without it.",
    ),
    "promotion_budget": (
        "promotion_budget_exhausted",
        "The promotion's budget is used up; quote again for today's price.",
    ),
    "campaign_budget": (
        "campaign_budget_exhausted",
        "The campaign's budget is used up or the campaign has ended; quote again.",
    ),
    "flash_buyer": (
        "flash_sale_limit_reached",
        "You have reached the flash sale's limit per customer; quote again.",
    ),
    "promotion_limit": (
        "promotion_limit_reached",
        "A promotion's limit was reached meanwhile; quote again for today's price.",
    ),
    "coupon_limit": (
        "coupon_limit_reached",
        "A coupon's limit per day, week or store was reached meanwhile; quote again.",
    ),
    "new_customer": (
        "new_customer_already_used",
        "Another account with this device, address or payment account already had the "
        "new-customer offer.",
    ),
    "zone_buyer": (
        "fixed_price_limit_reached",
        "You have bought as many units at the zone's price as allowed; quote again.",
    ),
    "stored_value": (
        "insufficient_stored_value",
        "Your stored value does not cover that much; pay less with it.",
    ),
    "reward": (
        "reward_sold_out",
        "The reward is all gone or its terms changed meanwhile; look at the mall again.",
    ),
    "reward_limit": (
        "reward_limit_reached",
        "You have redeemed this reward as often as allowed.",
    ),
    "reward_points": (
        "insufficient_points",
        "Your points no longer cover this reward.",
    ),
    "reward_redemption": (
        "reward_sold_out",
        "The reward could not be redeemed; look at the mall again.",
    ),
}


def give_back(order: OrderModel, *, paid: bool) -> list[TxPiece]:
    """Pieces that give back what the order took, for the transaction that cancels or
    expires it: flash units to their shard and off the buyer's count, campaign budgets,
    and coupons — a locked coupon (unpaid order) always, a used one (paid order refunded
    in full) when it is still valid, per the refund rule in docs/promotions.md.

    A paid order's coupons become used by an order.paid subscriber, which may not have
    run yet: those still locked by the order are marked used here first (one write each,
    idempotent), so that the pieces find every coupon of a paid order used, and the
    subscriber, coming later, finds nothing locked to use."""
    pieces: list[TxPiece] = []
    now_iso = clock.now_iso()
    if paid and order.coupon_uses:
        coupon_repo.mark_used(order.order_id, [u.coupon_id for u in order.coupon_uses])
    for u in order.coupon_uses:
        coupon = CouponModel(
            u.coupon_id, template_id=u.template_id, discount_fen=int(u.discount_fen)
        )
        if paid:
            pieces += coupon_repo.return_items(coupon, order.order_id, now_iso=now_iso)
        else:
            pieces += coupon_repo.release_items(coupon, order.order_id, now_iso=now_iso)
    for b in order.budget_uses:
        pieces.append(promotion_repo.budget_release_items(b.promotion_id, int(b.amount_fen)))
    for u in order.campaign_uses or ():
        funders = {"hq": int(u.hq_fen), "store": int(u.store_fen), "supplier": int(u.supplier_fen)}
        pieces.append(campaign_repo.give_back_piece(u.campaign_id, int(u.amount_fen), funders))
    for f in order.flash_uses:
        pieces += promotion_repo.release_items(
            f.promotion_id, order.customer_id, int(f.units), int(f.shard)
        )
    for z in order.zone_uses or ():
        pieces.append(zone_store.release_piece(z.zone_id, z.sku, order.customer_id, int(z.units)))
    for key in order.limit_uses or ():
        pieces.append(promo_limits.release_piece(key))
    # Points an unpaid order locked are free again (in this transaction, as stored value
    # below); a paid order's were spent, and its refunds return them (loyalty subscribers).
    if not paid and int(order.points_used or 0) > 0:
        pieces.append(
            loyalty_points.release_piece(
                order.customer_id, int(order.points_used), order.order_id, now_iso
            )
        )
    # Stored value an unpaid order took goes back whole; a paid order's goes back with
    # its refund (refunds.plan), in proportion.
    if not paid and int(order.stored_value_fen or 0) > 0:
        taken = stored_value_rules.Split(
            int(order.stored_value_principal_fen or 0), int(order.stored_value_bonus_fen or 0)
        )
        pieces += stored_value.release(
            order.customer_id,
            order.order_id,
            order.stored_value_store or "-",
            taken,
            "not paid" if order.status == "awaiting_payment" else order.status,
        )
    return pieces


# --- what the cart still needs (the quote's gaps and add-on suggestions) ---------------


@dataclass(frozen=True)
class AddOn:
    """One suggestion: ``units`` (product, qty) whose prices add ``total_fen`` toward
    the gap it ``closes`` ("tiered" or "free_delivery")."""

    closes: str
    gap_fen: int
    units: tuple[tuple[zone_store.Product, int, int], ...]  # (product, qty, unit fen)
    total_fen: int


@dataclass(frozen=True)
class Gaps:
    next_tier: promo.NextTier | None
    free_delivery_threshold_fen: int | None
    free_delivery_gap_fen: int | None  # None: pickup or no threshold
    add_ons: tuple[AddOn, ...]


def gaps(loaded: Loaded, checkout: promo.Checkout, fulfilment: str) -> Gaps:
    """How much more reaches the next tiered discount and the store's free delivery, and
    up to 3 suggestions from the store's add-on zones that close the smaller open gap.

    A zone product counts toward a tiered gap only where pricing would count one more
    unit: in the promotion's scope and not at a per-SKU price (flash, fixed price, in
    the cart or live at the store); at its member price when the member has one. Any
    product counts toward free delivery. No read when no gap is open; otherwise the
    zones and their products come from the zones caches (no read in steady state)."""
    store = loaded.store
    assert store is not None
    free_above = store.delivery_fee.free_above_fen
    fd_threshold = None if fulfilment != "delivery" or free_above is None else int(free_above)
    goods = checkout.priced.subtotal_fen - checkout.priced.discount_fen
    fd_gap = zone_rules.free_delivery_gap(fd_threshold, goods)
    tier = checkout.next_tier
    open_gaps: list[tuple[int, int, str]] = []
    if tier is not None and tier.basis == "amount":  # a 满件减's gap is in units
        open_gaps.append((tier.gap_fen, 0, "tiered"))
    # The fee must be payable for its gap to matter (a member's or a coupon's waiver).
    if fd_gap and checkout.priced.delivery_fee_fen > 0:
        open_gaps.append((fd_gap, 1, "free_delivery"))
    add_ons: tuple[AddOn, ...] = ()
    if open_gaps:
        gap, _, kind = min(open_gaps)
        add_ons = _add_ons(loaded, checkout, kind, gap, tier)
    return Gaps(tier, fd_threshold, fd_gap, add_ons)


def _add_ons(
    loaded: Loaded, checkout: promo.Checkout, kind: str, gap: int, tier: promo.NextTier | None
) -> tuple[AddOn, ...]:
    store_id = loaded.store.store_id if loaded.store is not None else ""
    found = zone_store.add_on_items(store_id)
    if not found:
        return ()
    lines = [
        CartLine(p.sku, p.name, p.unit, p.category1, p.category2, None, None, False, p.price_fen, 1)
        for p, _ in found
    ]
    unit = {p.sku: p.price_fen for p, _ in found}
    if loaded.member_context is not None:
        level, card, days = loaded.member_context
        member = member_benefits.combine(
            unit, level, card, member_benefits.member_day_prices(lines, days)
        )
        for sku, fen in unit.items():
            m = member.unit_price(sku)
            if m is not None and 0 <= m < fen:
                unit[sku] = m
    fixed = {
        o.sku: o.zone.price_fen
        for o in zone_store.fixed_offers(store_id, unit)
        if o.zone.price_fen is not None
    }
    per_sku = set(checkout.per_sku_priced) | set(fixed)
    if loaded.active is not None:
        per_sku |= set(loaded.active.flash)
    if kind == "free_delivery":  # a fixed-price product adds its zone price to the goods
        for sku, fixed_fen in fixed.items():
            unit[sku] = min(unit[sku], fixed_fen)
    items = [
        zone_rules.ZoneItem(p.sku, unit[p.sku], p.stock, pos, p.name)
        for (p, pos), line in zip(found, lines, strict=True)
        if kind != "tiered"
        or (tier is not None and tier.scope.covers(line) and p.sku not in per_sku)
    ]
    by_sku = {p.sku: p for p, _ in found}
    return tuple(
        AddOn(
            kind,
            gap,
            tuple((by_sku[sku], qty, unit[sku]) for sku, qty in g.units),
            g.total_fen,
        )
        for g in zone_rules.suggest(zone_rules.eligible(items), gap)
    )
