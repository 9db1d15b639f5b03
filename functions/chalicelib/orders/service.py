"""Orders: quote a cart, place it (idempotently, without overselling), read, cancel, expire.

Placing an order costs two AWS calls: one BatchGetItem (store, prices and stock,
products, the chosen coupons, flash-sale counters) and one TransactWriteItems
(order, a conditional stock decrement per line, then the coupons, campaign budgets and
flash-sale units it takes; checkout/service.py). The order is its own idempotency record:
its id is derived from the customer and the Idempotency-Key (``_order_ids``). Choosing the best
coupons for the customer (no ``coupon_ids``) adds one Query of the wallet.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import re
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from pynamodb.exceptions import QueryError
from pynamodb.pagination import ResultIterator

from chalicelib.auth.principal import CUSTOMER, Principal, shown_actor
from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.checkout import mechanics as mechanic_rules
from chalicelib.checkout import reprice
from chalicelib.checkout import service as checkout
from chalicelib.checkout.pricing import CartLine, PricedLine
from chalicelib.checkout.promotion_engine import Checkout
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.kernel import clock, config, cursors, geo, hours
from chalicelib.kernel.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    field_error,
)
from chalicelib.kernel.money import yuan
from chalicelib.kernel.states import order_queue
from chalicelib.loyalty.mall import OrderReward
from chalicelib.orders import extensions, order_flow
from chalicelib.orders import schemas as s
from chalicelib.orders.models import (
    AddressAttribute,
    BudgetUseAttribute,
    CampaignUseAttribute,
    CouponUseAttribute,
    DiscountAttribute,
    FlashUseAttribute,
    IdempotencyModel,
    OrderDetailModel,
    OrderLineAttribute,
    OrderModel,
    RefundModel,
    ZoneUseAttribute,
)
from chalicelib.stores.models import StoreModel

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at a counter


# --- quote ----------------------------------------------------------------------------


def _checked_cart(
    principal: Principal,
    body: s.QuoteRequest,
    consistent: bool = True,
    hook: extensions.PlaceHook | None = None,
) -> tuple[checkout.Loaded, list[CartLine]]:
    """Load and check everything a cart refers to; 4xx naming each problem.
    ``consistent=False`` (a quote): eventually consistent reads, half the read units; a
    quote shows prices and stock, placing reads them again strongly consistent and its
    transaction checks stock, coupons and budgets."""
    skus = [i.sku for i in body.items]
    dupes = sorted({x for x in skus if skus.count(x) > 1})
    if dupes:
        raise ValidationFailed(
            "Each SKU may appear once; add up the quantities.",
            details=[field_error("items", f"{sku} appears more than once") for sku in dupes],
        )
    if body.fulfilment == "delivery" and body.address is None:
        raise ValidationFailed(
            "Delivery needs an address.", details=[field_error("address", "required for delivery")]
        )
    if getattr(body, "reward_id", None) and getattr(body, "points_to_use", None):
        # a reward's points are its price (locked with the order); more points as cash
        # on it would be a second lock of the same account in one transaction
        raise ValidationFailed(
            "A reward order pays its points as its price; points_to_use does not apply.",
            details=[field_error("points_to_use", "not with reward_id")],
        )
    loaded = checkout.load(
        principal,
        body.store_id,
        skus,
        body.coupon_ids,
        consistent,
        stored_value_account=bool(getattr(body, "stored_value_fen", None)),
        # a quote offers a member their points; an order reads them only to use them
        points_account=not isinstance(body, s.PlaceOrder) or bool(body.points_to_use),
        reward_id=getattr(body, "reward_id", None),
        extra_keys=hook.keys() if hook else None,
        fingerprint=(
            getattr(body, "device_id", None),
            body.address.line if body.address and body.fulfilment == "delivery" else None,
            getattr(body, "payment_account", None),
        ),
    )
    store, items, products = loaded.store, loaded.items, loaded.products
    prices = _reward_prices(loaded, body)
    if hook is not None:
        prices = hook.prices(loaded.extra, [(i.sku, i.qty) for i in body.items])
    if store is None or not store.active:
        raise NotFound(f"No store {body.store_id!r} takes orders.", code="store_not_found")
    _check_store_serves(store, body)
    errors, lines, short = [], [], []
    for i, item in enumerate(body.items):
        product: ProductModel | None = products.get(item.sku)
        stock_item = items.get(item.sku)
        where = f"items[{i}].sku"
        if product is None or stock_item is None:
            errors.append(field_error(where, f"{item.sku} is not sold at this store"))
        elif not product.active or not stock_item.on_sale:
            errors.append(field_error(where, f"{item.sku} ({product.name}) is not on sale"))
        else:
            if int(stock_item.stock) < item.qty:
                short.append(
                    {
                        "field": f"items[{i}].qty",
                        "sku": item.sku,
                        "name": product.name,
                        "requested": item.qty,
                        "available": int(stock_item.stock),
                        "reason": f"only {int(stock_item.stock)} left",
                    }
                )
            lines.append(
                CartLine(
                    sku=item.sku,
                    name=product.name,
                    unit=product.unit,
                    category1=product.category1,
                    category2=product.category2,
                    zone=product.zone,
                    shelf=product.shelf,
                    fresh=bool(product.fresh),
                    unit_price_fen=prices.get(item.sku, int(stock_item.price_fen)),
                    qty=item.qty,
                )
            )
    if errors:
        raise ValidationFailed("Some items cannot be ordered.", details=errors, status=422)
    if short:
        names = ", ".join(f"{x['name']} (only {x['available']} left)" for x in short)
        raise Conflict(f"Not enough stock: {names}.", code="insufficient_stock", details=short)
    return loaded, lines


def _reward_prices(loaded: checkout.Loaded, body: s.QuoteRequest) -> dict[str, int]:
    """A points-mall reward order: exactly the reward's SKU, one unit, no coupons, at the
    reward's cash price (sku -> unit price); {} for any other order."""
    if loaded.reward is None:
        return {}
    reward = loaded.reward.reward
    if [(i.sku, i.qty) for i in body.items] != [(reward.sku, 1)]:
        raise ValidationFailed(
            "A reward order holds the reward's product alone, one unit.",
            code="reward_items",
            details=[field_error("items", f"exactly [{{sku: {reward.sku}, qty: 1}}]")],
        )
    if body.coupon_ids:
        raise ValidationFailed(
            "Coupons do not apply to a reward.",
            details=[field_error("coupon_ids", "not with reward_id")],
        )
    return {str(reward.sku): int(reward.cash_fen or 0)}


def _check_store_serves(store: StoreModel, body: s.QuoteRequest) -> None:
    now = clock.now()
    openings = [hours.Opening(int(h.day), h.open, h.close) for h in store.hours]
    if not hours.is_open(openings, store.timezone, now):
        nxt = hours.next_opening(openings, store.timezone, now)
        raise Conflict(
            f"{store.name} is closed now.",
            code="store_closed",
            details={"next_open_at": clock.iso(nxt) if nxt else None},
        )
    if body.fulfilment == "delivery" and body.address is not None:
        d = geo.distance_m(body.address.lat, body.address.lng, float(store.lat), float(store.lng))
        if d > float(store.radius_m):
            raise ValidationFailed(
                f"{store.name} does not deliver to this address ({d / 1000:.1f} km away, "
                f"delivers within {int(store.radius_m) / 1000:.1f} km).",
                code="out_of_delivery_range",
                details=[
                    field_error(
                        "address", f"{round(d)} m from the store; radius {int(store.radius_m)} m"
                    )
                ],
            )


def _price(
    principal: Principal, body: s.QuoteRequest, loaded: checkout.Loaded, lines: list[CartLine]
) -> Checkout:
    return checkout.evaluate(
        principal,
        loaded,
        lines,
        store_id=body.store_id,
        fulfilment=body.fulfilment,
        coupon_ids=body.coupon_ids,
    )


def _discount_view(d: Any) -> s.AppliedDiscount:
    """``d``: an order's DiscountAttribute or the engine's applied discount (same fields)."""
    return s.AppliedDiscount(
        code=d.code,
        label=d.label,
        amount_fen=int(d.amount_fen),
        kind=d.kind,
        base_fen=None if d.base_fen is None else int(d.base_fen),
        base=d.base,
        funded_by=d.funded_by,
    )


def _quote_view(body: s.QuoteRequest, co: Checkout, loaded: checkout.Loaded) -> s.Quote:
    priced = co.priced
    names = {c.coupon_id: c for c in loaded.coupons}
    return s.Quote(
        store_id=body.store_id,
        fulfilment=body.fulfilment,
        lines=[
            s.QuoteLine(
                sku=pl.line.sku,
                name=pl.line.name,
                unit=pl.line.unit,
                unit_price_fen=pl.line.unit_price_fen,
                qty=pl.line.qty,
                amount_fen=pl.line.amount_fen,
                discount_fen=pl.discount_fen,
                paid_fen=pl.paid_fen,
                stock=int(loaded.items[pl.line.sku].stock),
            )
            for pl in priced.lines
        ],
        subtotal_fen=priced.subtotal_fen,
        discounts=[_discount_view(a) for a in co.applied],
        discount_fen=priced.discount_fen,
        delivery_fee_fen=priced.delivery_fee_fen,
        delivery_fee_waived_fen=co.delivery_fee_waived_fen,
        total_fen=priced.total_fen,
        minimum_order_fen=priced.minimum_order_fen,
        shortfall_fen=priced.shortfall_fen,
        can_place=priced.shortfall_fen == 0 and not co.rejected_coupon_ids,
        points_multiplier=None
        if co.points_multiplier is None
        else s.PointsMultiplierOut(
            code=co.points_multiplier.code,
            label=co.points_multiplier.label,
            promotion_id=co.points_multiplier.source_id,
            multiplier=float(co.points_multiplier.multiplier),
        ),
        coupons=[
            s.CouponVerdict(
                coupon_id=v.coupon_id,
                name=names[v.coupon_id].name,
                kind=names[v.coupon_id].kind,
                valid_until=names[v.coupon_id].valid_until,
                applies=v.applies,
                discount_fen=v.discount_fen,
                reason=v.reason,
                message=v.message or None,
                shortfall_fen=v.shortfall_fen,
            )
            for v in co.coupon_verdicts
            if v.coupon_id in names
        ],
        suggested_coupon_ids=list(co.suggested_coupon_ids),
        applied_coupon_ids=list(co.applied_coupon_ids),
        rejected_coupon_ids=list(co.rejected_coupon_ids),
        flash=[
            s.FlashLine(
                promotion_id=f.promotion_id, sku=f.sku, units=f.units, price_fen=f.price_fen
            )
            for f in co.flash_units
        ],
        notes=list(co.notes),
        points=_points_view(checkout.points_offer(loaded, co), loaded),
        **_gaps_view(checkout.gaps(loaded, co, body.fulfilment)),
        gifts=[
            s.QuoteGift(
                promotion_id=g.promotion_id,
                name=g.name,
                sku=g.sku,
                sku_name=g.sku_name,
                units=g.units,
                value_fen=g.value_fen,
                in_stock=g.in_stock,
            )
            for g in co.gifts
        ],
        add_on_offers=[
            s.AddOnOfferOut(
                promotion_id=a.promotion_id,
                name=a.name,
                sku=a.sku,
                price_fen=a.price_fen,
                max_units=a.max_units,
                threshold_fen=a.threshold_fen,
                base_fen=a.base_fen,
                gap_fen=a.gap_fen,
                reached=a.reached,
                units=a.units,
            )
            for a in co.add_ons
        ],
    )


def _gaps_view(g: checkout.Gaps) -> dict[str, Any]:
    """The quote's next_tier, free_delivery and add_on_suggestions."""
    t = g.next_tier
    return {
        "next_tier": None
        if t is None
        else s.NextTier(
            promotion_id=t.promotion_id,
            name=t.name,
            threshold_fen=t.threshold_fen,
            off_fen=t.off_fen,
            base_fen=t.base_fen,
            gap_fen=t.gap_fen,
            basis=t.basis,
        ),
        "free_delivery": None
        if g.free_delivery_threshold_fen is None or g.free_delivery_gap_fen is None
        else s.FreeDelivery(
            threshold_fen=g.free_delivery_threshold_fen, gap_fen=g.free_delivery_gap_fen
        ),
        "add_on_suggestions": [
            s.AddOnSuggestion(
                closes=a.closes,  # type: ignore[arg-type]
                gap_fen=a.gap_fen,
                items=[
                    s.AddOnUnit(
                        sku=p.sku,
                        name=p.name,
                        unit=p.unit,
                        image_url=p.image_url,
                        qty=qty,
                        unit_price_fen=fen,
                        stock=p.stock,
                    )
                    for p, qty, fen in a.units
                ],
                total_fen=a.total_fen,
            )
            for a in g.add_ons
        ],
    }


def _points_view(offer: Any, loaded: checkout.Loaded) -> s.PointsOffer | None:
    settings = loaded.points_settings
    if offer is None or settings is None:
        return None
    return s.PointsOffer(
        spendable=offer.spendable,
        max_points=offer.points,
        max_fen=offer.fen,
        cap_fen=offer.cap_fen,
        points_per_yuan=settings.cash_points_per_yuan,
        cap_percent=settings.cash_cap_percent,
    )


def quote(principal: Principal, body: s.QuoteRequest) -> s.Quote:
    """Price a cart at a store, with the same checks as placing it, the promotions on
    now and, for a signed-in customer, a verdict on each coupon in the wallet."""
    loaded, lines = _checked_cart(principal, body, consistent=False)
    return _quote_view(body, _price(principal, body, loaded, lines), loaded)


# --- place ----------------------------------------------------------------------------


# A retry that crosses UTC midnight derives another id: in the first minutes of a day the
# placing transaction also checks that yesterday's id is free (and replays it if not).
MIDNIGHT_GRACE = timedelta(minutes=10)


def _order_code(key: str) -> str:
    """8 characters of ``_CODE_ALPHABET`` from a SHA-256 of ``key`` ("<subject>#<key>"):
    40 bits, as many as the random codes before."""
    n = int.from_bytes(hashlib.sha256(key.encode()).digest()[:5], "big")
    return "".join(_CODE_ALPHABET[(n >> shift) & 31] for shift in range(35, -1, -5))


def _order_ids(key: str) -> list[str]:
    """The id of the order ``key`` places today (UTC yymmdd + ``_order_code``, e.g.
    261124K7QX3M9P, the order code on the ticket), then, in the first ``MIDNIGHT_GRACE``
    of a UTC day, the id it would have had yesterday. The same key the same day names the
    same order: the order's conditional put is the idempotency check."""
    now = clock.now().astimezone(UTC)
    code = _order_code(key)
    ids = [now.strftime("%y%m%d") + code]
    if now - datetime.combine(now.date(), datetime.min.time(), UTC) < MIDNIGHT_GRACE:
        ids.append((now - timedelta(days=1)).strftime("%y%m%d") + code)
    return ids


def _request_hash(body: s.PlaceOrder) -> str:
    return hashlib.sha256(msgspec.json.encode(body)).hexdigest()


def _stored_hash(request_hash: str) -> str:
    """``request_hash`` as stored on the order's head: its first 128 bits in base64
    (22 characters, not 64: the head is written at every step of the order)."""
    return base64.urlsafe_b64encode(bytes.fromhex(request_hash[:32])).decode().rstrip("=")


def place(
    principal: Principal,
    idempotency_key: str | None,
    body: s.PlaceOrder,
    hook: extensions.PlaceHook | None = None,
) -> tuple[s.Order, bool]:
    """Create the order, decrementing stock in the same transaction. Returns (order, created).

    The same Idempotency-Key with the same body returns the order it created; with a
    different body, 422. Concurrent retries with one key create one order. ``hook``: a
    mechanic's order (orders/extensions.py), e.g. a group buy's seat.
    """
    if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
        raise BadRequest(
            "Send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.', ':' "
            "(e.g. a UUID), the same on every retry of this order.",
            code="idempotency_key_required",
        )
    key = f"{principal.subject}#{idempotency_key}"
    request_hash = _request_hash(body)
    try:
        order, created = _place_new(principal, key, request_hash, body, hook)
    except (ValidationFailed, Conflict):
        # A retry of an order that was placed meets its own effects (the coupon locked,
        # the stock taken): answer with that order, not with the refusal. Only refusals
        # pay for this read.
        earlier = _placed_before(principal, key, request_hash)
        if earlier is None:
            raise
        order, created = earlier, False
    return _with_payment_sheet(order), created


def _with_payment_sheet(order: s.Order) -> s.Order:
    """The order with the payment sheet's parameters, while it awaits payment: the
    storefront opens the sheet straight from the answer to POST /orders, one request
    (and one order read) fewer than asking POST /orders/{id}/pay. If the provider
    cannot be reached the order is placed all the same and ``payment`` is null."""
    if order.status != "awaiting_payment":
        return order
    from chalicelib.orders import payments  # payments reads orders: imported when used

    try:
        sheet = payments.sheet(order.order_id, order.total_fen - order.stored_value_fen)
    except Exception:
        log.exception("order %s: no payment sheet; the storefront asks /pay", order.order_id)
        return order
    return msgspec.structs.replace(order, payment=sheet)


def _placed_before(principal: Principal, key: str, request_hash: str) -> s.Order | None:
    """The order an earlier request with this key placed, if any (422 if it was placed
    with another body or is not this customer's): one BatchGetItem of the derived ids'
    heads and details and of the key's record in the old idempotency_keys table."""
    ids = _order_ids(key)
    keys = [{"order_id": order_id} for order_id in ids]
    got = batch_get({OrderModel: keys, OrderDetailModel: keys, IdempotencyModel: [{"key": key}]})
    details = {d.order_id: d for d in got[OrderDetailModel]}
    heads = {o.order_id: o for o in got[OrderModel] if o.order_id in details}
    for order_id in ids:
        if order_id in heads:
            return _answer(principal, heads[order_id].attach(details[order_id]), request_hash)
    # Orders placed before the order became its own record (the key's record lives 24 h).
    # TODO(next release): drop this read with the idempotency_keys table's place records.
    for idem in got[IdempotencyModel]:
        if idem.request_hash != request_hash:
            raise _key_reused()
        return _answer(principal, order_flow.get(idem.order_id), None)
    return None


def _answer(principal: Principal, order: OrderModel, request_hash: str | None) -> s.Order:
    """The order a retry is answered with: 422 unless it is this customer's and was
    placed with the same body (``request_hash`` None: already checked). Another
    customer's order (a colliding or forged key) is never shown, nor named."""
    if order.customer_id != principal.subject or (
        request_hash is not None and order.request_hash != _stored_hash(request_hash)
    ):
        raise _key_reused()
    return view(order, Principal(order.customer_id, CUSTOMER))


def _key_reused() -> ValidationFailed:
    return ValidationFailed(
        "This Idempotency-Key was used for a different order; use a new key for a new order.",
        code="idempotency_key_reused",
        details=[field_error("Idempotency-Key", "used with another body")],
    )


def _place_new(
    principal: Principal,
    key: str,
    request_hash: str,
    body: s.PlaceOrder,
    hook: extensions.PlaceHook | None = None,
) -> tuple[s.Order, bool]:
    loaded, lines = _checked_cart(principal, body, hook=hook)
    store = loaded.store
    assert store is not None
    co = _price(principal, body, loaded, lines)
    priced = co.priced
    checkout.refuse_rejected(co)
    _check_expected_total(body, co)
    if priced.shortfall_fen > 0:
        raise ValidationFailed(
            f"The minimum order is {yuan(priced.minimum_order_fen)}; "
            f"add {yuan(priced.shortfall_fen)} more.",
            code="below_minimum_order",
            details={
                "shortfall_fen": priced.shortfall_fen,
                "minimum_order_fen": priced.minimum_order_fen,
            },
        )
    # Points as cash after every discount, stored value on what they leave.
    points = (
        checkout.points_to_take(loaded, co, body.points_to_use) if body.points_to_use else (0, 0)
    )
    total_fen = priced.total_fen - points[1]
    stored_value_fen = body.stored_value_fen or 0
    if stored_value_fen > total_fen:
        raise ValidationFailed(
            f"Stored value can pay at most the total after points, {yuan(total_fen)}.",
            code="stored_value_above_total",
            details=[field_error("stored_value_fen", f"at most {total_fen}")],
        )
    gifts = mechanic_rules.gift_lines(co, loaded.products)  # 满赠: lines at price 0
    order_id, *earlier_ids = _order_ids(key)
    avoid: dict[str, set[int]] = {}
    busy = ""
    # Another shard when the one chosen ran dry meanwhile; the account read again when
    # another order took balance meanwhile (the split is made from the balance read).
    for attempt in range(6):
        takes = checkout.takes(
            principal.subject, order_id, co, loaded, avoid, stored_value_fen, points
        )
        checkout.check_size(len(priced.lines) + len(gifts), takes)
        order = _build_order(
            principal, body, store, co, takes, order_id, request_hash, reward=loaded.reward
        )
        order.detail.lines += [_gift_line(g) for g in gifts]
        if hook is not None:
            hook.mark(order)
        try:
            _place(order, earlier_ids, body.store_id, [*priced.lines, *gifts], takes, hook)
        except _ShardEmpty as empty:
            avoid.setdefault(empty.promotion_id, set()).add(empty.shard)
            loaded.shards_left.get(empty.promotion_id, {}).pop(empty.shard, None)
            continue
        except _StoredValueMoved:
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
            loaded.stored_value_account = _stored_value_account(principal.subject)
            continue
        except _PointsBusy:
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
            busy = "points"
            continue
        except _CampaignBusy:
            # every order of a campaign writes its item: transactions on it conflict at
            # peak (docs/campaigns.md, "the hot item"); transact already retried 5 times
            time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
            busy = "campaign"
            continue
        except _PointsShort:
            # the points were spent by another order meanwhile (checked after the order
            # and stock, so a retry of a placed order is answered with it)
            raise checkout.insufficient_points(_spendable_points(principal.subject)) from None
        except _Replay as replay:
            return _replay(principal, replay.order_id, request_hash), False
        if stored_value_fen and int(order.payable_fen or 0) == 0:
            return _paid_with_stored_value(order, principal), True
        if body.reward_id and payable_fen(order) == 0:
            return _paid_with_stored_value(order, principal, provider="points"), True
        return view(order, principal), True
    if busy == "campaign":  # every attempt met another order on the campaign's budget
        raise ServiceUnavailable(
            "The campaign is very busy right now; retry with the same key.",
            code="campaign_busy",
        )
    if busy == "points":  # every attempt met another write of the member's points
        raise ServiceUnavailable(
            "Your points are being used by other orders right now; retry with the same key.",
            code="points_busy",
        )
    if stored_value_fen and not avoid:  # every attempt lost the balance to another order
        raise ServiceUnavailable(
            "Your stored value is being used by other orders right now; retry with the same key.",
            code="stored_value_busy",
        )
    raise ServiceUnavailable(
        "The flash sale is very busy; try again in a moment.", code="flash_sale_busy"
    )


def _check_expected_total(body: s.PlaceOrder, co: Checkout) -> None:
    """409 ``total_changed`` when the storefront showed another total than the order
    would cost now: a quote binds the price only if the storefront says what it showed."""
    expected = body.expected_total_fen
    priced = co.priced
    if expected is None or expected == priced.total_fen:
        return
    raise Conflict(
        f"The total is now {yuan(priced.total_fen)}, not the {yuan(expected)} shown; "
        "quote again and confirm the new total.",
        code="total_changed",
        details={
            "expected_total_fen": expected,
            "total_fen": priced.total_fen,
            "subtotal_fen": priced.subtotal_fen,
            "discount_fen": priced.discount_fen,
            "delivery_fee_fen": priced.delivery_fee_fen,
        },
    )


class _Replay(Exception):
    """The Idempotency-Key was used before (or is being used right now): the order
    ``order_id`` exists (or is being written)."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id


class _StoredValueMoved(Exception):
    """Another order took the balance between the read and the write: read it again."""


class _PointsBusy(Exception):
    """The points account was written by another transaction at the same moment."""


class _CampaignBusy(Exception):
    """A campaign's budget item was written by other transactions on every try."""


class _PointsShort(Exception):
    """The lock's condition failed: the member holds fewer spendable points now."""


def _spendable_points(customer_id: str) -> int:
    """For the 409's details (only a refused order pays for this read)."""
    from chalicelib.loyalty import points

    return points.balance(customer_id).spendable


def _stored_value_account(customer_id: str) -> Any:
    from chalicelib.stored_value.models import StoredValueAccountModel

    try:
        return StoredValueAccountModel.get(customer_id, consistent_read=True)
    except StoredValueAccountModel.DoesNotExist:
        return None


def _paid_with_stored_value(
    order: OrderModel, principal: Principal, provider: str | None = None
) -> s.Order:
    """An order the balance pays whole is paid now, through the one paid path (an
    internal notice of 0 fen from the "stored_value" provider): its ticket prints, and
    order.paid goes out, as for any payment. A points-mall reward order that costs no
    money is paid the same way (``provider`` "points")."""
    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import PaymentNotice
    from chalicelib.stored_value.payment import PROVIDER

    payments.record_payment(
        PaymentNotice(provider or PROVIDER, order.order_id, order.order_id, 0, clock.now_iso())
    )
    return view(order_flow.get(order.order_id, consistent=True), principal)


def _units_per_sku(lines: Sequence[PricedLine]) -> dict[str, int]:
    out: dict[str, int] = {}
    for pl in lines:
        out[pl.line.sku] = out.get(pl.line.sku, 0) + pl.line.qty
    return out


def _gift_line(pl: PricedLine) -> OrderLineAttribute:
    """A gift with purchase (满赠) as an order line: price 0, nothing paid or refundable."""
    x = pl.line
    return OrderLineAttribute(
        sku=x.sku,
        name=x.name,
        unit=x.unit,
        category1=x.category1,
        category2=x.category2,
        zone=x.zone,
        shelf=x.shelf,
        fresh=x.fresh,
        unit_price_fen=0,
        qty=x.qty,
        amount_fen=0,
        discount_fen=0,
        paid_fen=0,
        refunded_units=0,
        refunded_fen=0,
        gift=True,
    )


class _ShardEmpty(Exception):
    def __init__(self, promotion_id: str, shard: int) -> None:
        self.promotion_id, self.shard = promotion_id, shard


def _place(
    order: OrderModel,
    earlier_ids: list[str],
    store_id: str,
    priced_lines: list[PricedLine],
    takes: checkout.Takes,
    hook: extensions.PlaceHook | None = None,
) -> None:
    """One transaction: the order (its id the idempotency check), a check that none of
    ``earlier_ids`` exists (a retry crossing midnight), stock per line, then what
    ``takes`` holds."""

    def build(tx: Tx) -> None:
        tx.save(order, condition=OrderModel.order_id.does_not_exist(), label="order")
        tx.save(order.detail, condition=OrderDetailModel.order_id.does_not_exist(), label="detail")
        for i, earlier in enumerate(earlier_ids):
            tx.condition_check(
                OrderModel,
                earlier,
                condition=OrderModel.order_id.does_not_exist(),
                label=f"earlier:{i}",
            )
        # one update per SKU: a gift (满赠) may be a SKU the cart holds too
        for sku, qty in _units_per_sku(priced_lines).items():
            tx.update(
                StoreItemModel(store_id, sku),
                actions=[StoreItemModel.stock.add(-qty)],
                condition=(StoreItemModel.stock >= qty) & (StoreItemModel.on_sale == True),  # noqa: E712
                label=f"stock:{sku}",
            )
        tx.add(*takes.pieces)
        if hook is not None:
            tx.add(*hook.pieces(order))

    try:
        transact(build)
    except TransactionCancelled as exc:
        taken = [order.order_id, order.order_id, *earlier_ids]
        labels = ["order", "detail", *(f"earlier:{i}" for i in range(len(earlier_ids)))]
        for label, order_id in zip(labels, taken, strict=True):
            if exc.code_of(label) in ("ConditionalCheckFailed", "TransactionConflict"):
                raise _Replay(order_id) from None
        refusal = hook.explain(exc) if hook is not None else None
        if refusal is not None:
            raise refusal from None
        # Priced lines keep the order of the request's items, so i names items[i].
        short = [
            (i, pl.line)
            for i, pl in enumerate(priced_lines)
            if f"stock:{pl.line.sku}" in exc.failed
        ]
        if short:
            raise Conflict(
                "Not enough stock: "
                + ", ".join(line.name for _, line in short)
                + " sold out meanwhile.",
                code="insufficient_stock",
                details=[
                    {
                        "field": f"items[{i}].qty",
                        "sku": line.sku,
                        "name": line.name,
                        "requested": line.qty,
                        "reason": "sold out meanwhile",
                    }
                    for i, line in short
                ],
            ) from None
        if any(
            exc.code_of(label) in ("ConditionalCheckFailed", "TransactionConflict")
            for label, (what, _) in takes.kinds.items()
            if what == "stored_value"
        ):
            raise _StoredValueMoved() from None
        points_codes = {
            exc.code_of(label) for label, (what, _) in takes.kinds.items() if what == "points"
        }
        if "ConditionalCheckFailed" in points_codes:
            raise _PointsShort() from None
        if "TransactionConflict" in points_codes:
            raise _PointsBusy() from None
        failed = checkout.explain_failure(takes, exc.failed)
        if failed is None and any(
            exc.code_of(label) == "TransactionConflict"
            for label, (what, _) in takes.kinds.items()
            if what == "campaign_budget"
        ):
            raise _CampaignBusy() from None
        if failed is None:
            raise
        what, ident = failed
        if what == "flash_shard":
            promotion_id, shard = ident.rsplit("#", 1)
            raise _ShardEmpty(promotion_id, int(shard)) from None
        if what == "campaign_budget":
            # this container's cache of the budgets left is stale: the next quote here
            # must read them again, or it would offer the discount that was just refused
            checkout.forget_campaigns()
        code, message = checkout.FAILURES[what]
        raise Conflict(message, code=code, details={"id": ident}) from None


def _replay(principal: Principal, order_id: str, request_hash: str) -> s.Order:
    """The order an earlier request with this key placed (waiting briefly for a racing
    request with the same key to commit)."""
    for attempt in range(20):
        try:
            order = order_flow.get(order_id)
        except NotFound:
            time.sleep(0.02 * (attempt + 1))  # the other request's transaction is in flight
            continue
        return _answer(principal, order, request_hash)
    raise Conflict(
        "Another request with this Idempotency-Key is still running; retry shortly.",
        code="idempotency_in_progress",
    )


def _build_order(
    principal: Principal,
    body: s.PlaceOrder,
    store: StoreModel,
    co: Checkout,
    takes: checkout.Takes,
    order_id: str,
    request_hash: str,
    reward: OrderReward | None = None,
) -> OrderModel:
    priced = co.priced
    line_points = takes.line_points_fen or [0] * len(priced.lines)
    total_fen = priced.total_fen - takes.points_fen  # points pay after every discount
    now = clock.now()
    local_day = now.astimezone(hours.zone(store.timezone)).strftime("%Y-%m-%d")
    expires = now + timedelta(seconds=config.PAYMENT_TIMEOUT_S)
    detail = OrderDetailModel(
        order_id,
        address=None
        if body.address is None or body.fulfilment != "delivery"
        else AddressAttribute(
            name=body.address.name,
            phone=body.address.phone,
            line=body.address.line,
            lat=body.address.lat,
            lng=body.address.lng,
        ),
        remark=body.remark,
        lines=[
            OrderLineAttribute(
                sku=pl.line.sku,
                name=pl.line.name,
                unit=pl.line.unit,
                category1=pl.line.category1,
                category2=pl.line.category2,
                zone=pl.line.zone,
                shelf=pl.line.shelf,
                fresh=pl.line.fresh,
                unit_price_fen=pl.line.unit_price_fen,
                qty=pl.line.qty,
                amount_fen=pl.line.amount_fen,
                discount_fen=pl.discount_fen,
                points_fen=share or None,
                paid_fen=pl.paid_fen - share,
                refunded_units=0,
                refunded_fen=0,
            )
            for pl, share in zip(priced.lines, line_points, strict=True)
        ],
        discounts=[
            DiscountAttribute(
                code=a.code,
                label=a.label,
                amount_fen=a.amount_fen,
                kind=a.kind,
                base_fen=a.base_fen,
                base=a.base,
                funded_by=a.funded_by,
            )
            for a in co.applied
        ],
        coupon_uses=[CouponUseAttribute(**u) for u in takes.coupon_uses],
        flash_uses=[FlashUseAttribute(**u) for u in takes.flash_uses],
        budget_uses=[BudgetUseAttribute(**u) for u in takes.budget_uses],
        campaign_uses=[
            CampaignUseAttribute(
                campaign_id=u["campaign_id"],
                amount_fen=u["amount_fen"],
                hq_fen=u["hq"],
                store_fen=u["store"],
                supplier_fen=u["supplier"],
            )
            for u in takes.campaign_uses
        ]
        or None,
        zone_uses=[ZoneUseAttribute(**u) for u in takes.zone_uses] or None,
        limit_uses=takes.limit_uses or None,
        reprice=takes.reprice,
        delivery_fee_waived_fen=co.delivery_fee_waived_fen,
        subtotal_fen=priced.subtotal_fen,
        discount_fen=priced.discount_fen,
        delivery_fee_fen=priced.delivery_fee_fen,
    )
    order = OrderModel(
        order_id,
        request_hash=_stored_hash(request_hash),
        customer_id=principal.subject,
        **_stored_value_attributes(takes, total_fen),
        points_used=takes.points_used or None,  # unset without points (the head stays small)
        points_fen=takes.points_fen or None,
        **_reward_attributes(reward),
        points_multiplier=co.points_multiplier.multiplier if co.points_multiplier else None,
        points_campaign_id=takes.points_campaign_id,
        new_customer=takes.new_customer,  # unset on other orders (the head stays small)
        store_id=body.store_id,
        fulfilment=body.fulfilment,
        status="awaiting_payment",
        # no store_queue: the store's work queue takes the order when it is paid
        paid_queue=order_flow.queue_key(body.store_id, "paid"),
        store_day=f"{body.store_id}#{local_day}",
        total_fen=total_fen,
        pickup_code=f"{secrets.randbelow(10**6):06d}" if body.fulfilment == "pickup" else None,
        expires_at=clock.iso(expires),
        due_kind="expire",
        due_at=int(expires.timestamp()),
        created_at=clock.now_iso_ms(),
        updated_at=clock.now_iso(),
        history=[transitions.entry("place", None, "awaiting_payment", principal)],
    )
    return order.attach(detail)


def _reward_attributes(reward: OrderReward | None) -> dict[str, Any]:
    """What a points-mall reward order records of its reward (nothing on other orders)."""
    if reward is None:
        return {}
    return {"reward_id": reward.reward.reward_id, "reward_points": int(reward.reward.points)}


def _stored_value_attributes(takes: checkout.Takes, total_fen: int) -> dict[str, Any]:
    """What the order records of the stored value it takes (nothing when none)."""
    sv = takes.stored_value
    if sv.total_fen == 0:
        return {}
    return {
        "stored_value_fen": sv.total_fen,
        "stored_value_principal_fen": sv.principal_fen,
        "stored_value_bonus_fen": sv.bonus_fen,
        "stored_value_store": takes.stored_value_store,
        "stored_value_returned_fen": 0,
        "payable_fen": total_fen - sv.total_fen,
    }


def payable_fen(order: OrderModel) -> int:
    """What the payment provider is asked for: the total less the stored value."""
    return int(order.total_fen) - int(order.stored_value_fen or 0)


# --- read -----------------------------------------------------------------------------


def can_see(principal: Principal, order: OrderModel) -> bool:
    if principal.role == CUSTOMER:
        return order.customer_id == principal.subject
    return principal.is_hq or (
        principal.role in ("store_staff", "store_manager") and principal.store_id == order.store_id
    )


def get_visible(principal: Principal, order_id: str) -> OrderModel:
    """The order if this principal may see it; 404 otherwise (not 403: ids are not probed)."""
    order = order_flow.get(order_id, consistent=False)
    if not can_see(principal, order):
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    return order


def get_one(principal: Principal, order_id: str) -> s.Order:
    """One order as its reader may see it, with its refunds (one more Query: only this
    read pays for it, not lists or actions)."""
    order = get_visible(principal, order_id)
    refunds = list(RefundModel.by_order.query(order_id))
    seen = view(order, principal, refunds=refunds_of(order_id, refunds))
    deductions = [
        s.RefundDeduction(
            refund_id=r.refund_id,
            deducted_fen=int(r.deducted_fen),
            deduction=reprice.deduction_line(int(r.deducted_fen)) or "",
        )
        for r in refunds
        if r.deducted_fen
    ]
    if deductions:  # issue 18: only orders with a re-evaluated return show any
        seen.refund_deductions = deductions
    return seen


def refunds_of(order_id: str, refunds: list[Any] | None = None) -> list[s.OrderRefund]:
    """The order's refunds, oldest first (one Query of the refunds' by_order index, unless
    ``refunds``, the RefundModels it read, are given)."""
    if refunds is None:
        refunds = list(RefundModel.by_order.query(order_id))
    return [
        s.OrderRefund(
            refund_id=r.refund_id,
            reason=r.reason,
            amount_fen=int(r.amount_fen),
            delivery_fee_fen=int(r.delivery_fee_fen or 0),
            stored_value_fen=int(r.stored_value_fen or 0),
            lines=[
                s.RefundLine(sku=x.sku, units=int(x.units), amount_fen=int(x.amount_fen))
                for x in r.lines or []
            ],
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in refunds
    ]


def view(
    order: OrderModel, principal: Principal, refunds: list[s.OrderRefund] | None = None
) -> s.Order:
    """The API's view of an order; ``refunds`` None: not read (lists, actions)."""
    addr = order.address
    return s.Order(
        order_id=order.order_id,
        customer_id=order.customer_id,
        store_id=order.store_id,
        fulfilment=order.fulfilment,
        status=order.status,
        address=None
        if addr is None
        else s.Address(
            name=addr.name,
            phone=addr.phone,
            line=addr.line,
            lat=float(addr.lat),
            lng=float(addr.lng),
        ),
        remark=order.remark,
        lines=[
            s.OrderLine(
                sku=x.sku,
                name=x.name,
                unit=x.unit,
                category1=x.category1,
                category2=x.category2,
                zone=x.zone,
                shelf=x.shelf,
                fresh=bool(x.fresh),
                unit_price_fen=int(x.unit_price_fen),
                qty=int(x.qty),
                amount_fen=int(x.amount_fen),
                discount_fen=int(x.discount_fen),
                paid_fen=int(x.paid_fen),
                points_fen=int(x.points_fen or 0),
                picked_qty=None if x.picked_qty is None else int(x.picked_qty),
                refunded_units=int(x.refunded_units),
                refunded_fen=int(x.refunded_fen),
                gift=bool(x.gift),
            )
            for x in order.lines
        ],
        discounts=[_discount_view(d) for d in order.discounts],
        coupons=[
            s.OrderCoupon(coupon_id=u.coupon_id, kind=u.kind, discount_fen=int(u.discount_fen))
            for u in order.coupon_uses
        ],
        delivery_fee_waived_fen=int(order.delivery_fee_waived_fen or 0),
        subtotal_fen=int(order.subtotal_fen),
        discount_fen=int(order.discount_fen),
        delivery_fee_fen=int(order.delivery_fee_fen),
        total_fen=int(order.total_fen),
        paid_fen=int(order.paid_fen),
        stored_value_fen=int(order.stored_value_fen or 0),
        stored_value_principal_fen=int(order.stored_value_principal_fen or 0),
        stored_value_bonus_fen=int(order.stored_value_bonus_fen or 0),
        points_used=int(order.points_used or 0),
        points_fen=int(order.points_fen or 0),
        reward_id=order.reward_id,
        reward_points=int(order.reward_points or 0),
        points_multiplier=float(order.points_multiplier) if order.points_multiplier else None,
        refunded_fen=int(order.refunded_fen),
        pickup_code=order.pickup_code if principal.role == CUSTOMER or principal.is_hq else None,
        daily_seq=None if order.daily_seq is None else int(order.daily_seq),
        missed_print=bool(order.missed_print),
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
        history=s.history_view(order.history, lambda a, r: shown_actor(a, r, principal)),
        refunds=refunds,
        payment=None,
    )


encode_cursor = cursors.encode


def load_many(order_ids: list[str]) -> list[OrderModel]:
    """The orders named, heads and details, in the order given (one BatchGetItem per 50
    orders): the order indexes hold keys and a few attributes only (orders/models.py
    says why)."""
    found: dict[str, OrderModel] = {}
    for start in range(0, len(order_ids), 50):
        found.update(order_flow.read_many(order_ids[start : start + 50]))
    return [found[o] for o in order_ids if o in found]


def _page(results: ResultIterator[Any], limit: int, principal: Principal) -> s.OrderPage:
    keys = list(results)
    more = len(keys) == limit and results.last_evaluated_key
    return s.OrderPage(
        items=[view(o, principal) for o in load_many([k.order_id for k in keys])],
        next_cursor=encode_cursor(results.last_evaluated_key) if more else None,
    )


def list_mine(principal: Principal, query: s.OrderListQuery) -> s.OrderPage:
    """A customer's orders, newest first."""
    results = OrderModel.by_customer.query(
        principal.subject,
        scan_index_forward=False,
        limit=query.limit,
        page_size=query.limit,
        last_evaluated_key=cursors.decode(
            query.cursor,
            ("customer_id", "created_at", "order_id"),
            {"customer_id": principal.subject},
        ),
    )
    return _page(results, query.limit, principal)


# Index entries a work-queue query evaluates per round trip when it filters a shared
# bucket on the status: ~100 bytes each, so a page costs a few read units.
QUEUE_PAGE = 100


def list_store(principal: Principal, store_id: str, query: s.StoreOrderQuery) -> s.OrderPage:
    """A store's orders in one status, oldest first (the work queue), from the status's
    bucket of the ``by_store_queue`` index, filtered on the projected status in the query
    itself: DynamoDB pages come back short of matches, so they are followed until
    ``limit`` orders are found or the bucket ends. The cursor names the status it lists,
    since the statuses of one bucket share its keys."""
    if not principal.can_act_for_store(store_id):
        raise Forbidden("Your account belongs to another store.", code="other_store")
    bucket = order_queue(query.status)
    if bucket is None:  # store_workflow.list_orders refuses these statuses (422)
        raise ValueError(f"{query.status} orders are in no work-queue bucket")
    queue = f"{store_id}#{bucket}"
    results = OrderModel.by_store_queue.query(
        queue,
        scan_index_forward=True,
        filter_condition=OrderModel.status == query.status,
        page_size=query.limit if bucket == query.status else max(query.limit, QUEUE_PAGE),
        last_evaluated_key=_queue_start(query.cursor, queue, query.status),
    )
    entries: list[OrderModel] = []
    try:
        for entry in results:
            entries.append(entry)
            if len(entries) == query.limit:
                break
    except QueryError as exc:
        # DynamoDB refuses a start key that is not one of the index's (e.g. another
        # table's with the same names); without a cursor it is no cursor's fault.
        if query.cursor and "ValidationException" in str(exc.cause_response_code):
            raise cursors.foreign() from None
        raise
    # Mid-page, the entries left are matches; at a page's end, DynamoDB's key says whether
    # the bucket goes on.
    more = len(entries) == query.limit and results.last_evaluated_key is not None
    key = _queue_key(entries[-1], query.status) if more else None
    return _listed(load_many([e.order_id for e in entries]), principal, key)


_CURSOR_STATUS = "listing_status"  # in a work-queue cursor, beside the index key


def _queue_key(entry: OrderModel, status: str) -> dict[str, Any]:
    """The by_store_queue key of an entry, and the status listed (the cursor's)."""
    return {
        "order_id": {"S": entry.order_id},
        "store_queue": {"S": entry.store_queue},
        "created_at": {"S": entry.created_at},
        _CURSOR_STATUS: {"S": status},
    }


def _queue_start(cursor: str | None, queue: str, status: str) -> dict | None:
    """The index key a work-queue cursor resumes after; 400 for a cursor that another
    listing gave out (another status of the same bucket included) or that was altered."""
    key = cursors.decode(
        cursor,
        ("order_id", "store_queue", "created_at", _CURSOR_STATUS),
        {"store_queue": queue, _CURSOR_STATUS: status},
    )
    if key is not None:
        del key[_CURSOR_STATUS]
    return key


def list_store_day(
    principal: Principal,
    store_id: str,
    day: str,
    status: str | None,
    query: s.StoreOrderQuery,
) -> s.OrderPage:
    """A store's orders of one business day, newest first, in ``status`` (None: any),
    from the ``by_store_day`` index. The index does not hold the status (it would be
    written again at every step of every order), so with a status the orders are read
    a page of keys at a time and kept when in that status, until ``limit`` are found or
    the day ends."""
    if not principal.can_act_for_store(store_id):
        raise Forbidden("Your account belongs to another store.", code="other_store")
    store_day = f"{store_id}#{day}"
    results = OrderModel.by_store_day.query(
        store_day,
        scan_index_forward=False,
        limit=query.limit if status is None else None,
        page_size=query.limit,
        last_evaluated_key=cursors.decode(
            query.cursor, ("order_id", "store_day", "created_at"), {"store_day": store_day}
        ),
    )
    try:
        if status is None:
            return _page(results, query.limit, principal)
        return _page_in_status(results, status, query.limit, principal)
    except QueryError as exc:
        if "ValidationException" in str(exc.cause_response_code):
            raise BadRequest(
                "The cursor does not belong to this listing.", code="bad_cursor"
            ) from None
        raise


def _page_in_status(
    results: ResultIterator[Any], status: str, limit: int, principal: Principal
) -> s.OrderPage:
    """Up to ``limit`` orders in ``status`` from an index query of keys, with a cursor
    after the last key looked at (so the next page goes on from there)."""
    found: list[OrderModel] = []
    batch: list[Any] = []
    entries = iter(results)
    while True:
        entry = next(entries, None)
        if entry is not None:
            batch.append(entry)
            if len(batch) < limit:
                continue
        orders = {o.order_id: o for o in load_many([e.order_id for e in batch])}
        for i, e in enumerate(batch):
            order = orders.get(e.order_id)
            if order is not None and order.status == status:
                found.append(order)
                if len(found) == limit:
                    more = i < len(batch) - 1 or entry is not None
                    return _listed(found, principal, _day_key(e) if more else None)
        if entry is None:
            return _listed(found, principal, None)
        batch = []


def _day_key(entry: OrderModel) -> dict[str, Any]:
    """The by_store_day index's key of an entry, as DynamoDB's LastEvaluatedKey has it."""
    return {
        "order_id": {"S": entry.order_id},
        "store_day": {"S": entry.store_day},
        "created_at": {"S": entry.created_at},
    }


def _listed(orders: list[OrderModel], principal: Principal, key: dict | None) -> s.OrderPage:
    return s.OrderPage(items=[view(o, principal) for o in orders], next_cursor=encode_cursor(key))


# --- cancel and expire ------------------------------------------------------------------


def _restock(tx: Tx, order: OrderModel) -> None:
    # one update per SKU: a gift line (满赠) may repeat a SKU the order holds
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.sku] = units.get(line.sku, 0) + int(line.qty)
    for sku, qty in units.items():
        tx.update(
            StoreItemModel(order.store_id, sku),
            actions=[StoreItemModel.stock.add(qty)],
            label=f"stock:{sku}",
        )


def _give_back_unpaid(tx: Tx, order: OrderModel) -> None:
    _restock(tx, order)
    tx.add(*checkout.give_back(order, paid=False))
    tx.add(*extensions.give_back_pieces(order, False))


def cancel(principal: Principal, order_id: str, reason: str | None) -> s.Order:
    """Cancel before picking starts: stock goes back; a paid order is refunded in full and
    the store gets a cancellation slip for the ticket it printed."""

    order = get_visible(principal, order_id)
    if principal.role not in (CUSTOMER, "hq_admin") and not principal.can_act_for_store(
        order.store_id
    ):
        raise Forbidden("Your account belongs to another store.", code="other_store")
    return view(_cancel(order, principal, reason), principal)


def cancel_held(order_id: str, reason: str, refund_id: str) -> OrderModel | None:
    """A mechanic cancels its order (a group that failed): unpaid or paid-and-held, the
    paid one refunded in full under ``refund_id`` (derived from the mechanic's cause, so
    a replayed job never pays twice). None when the order is no longer cancellable (already
    cancelled or expired: a replay)."""
    order = order_flow.get(order_id)
    if order.status not in ("awaiting_payment", "paid"):
        return None
    try:
        return _cancel(order, order_flow.SYSTEM, reason, refund_id=refund_id)
    except Conflict:
        return None  # moved on meanwhile (another run of the job cancelled it)


def _cancel(
    order: OrderModel, principal: Principal, reason: str | None, refund_id: str | None = None
) -> OrderModel:
    from chalicelib.orders import refunds
    from chalicelib.printing import print_jobs

    order_flow.ORDER.target("cancel", order.status)
    refund = (
        refunds.full(order, refund_id or f"{order.order_id}:cancel", "cancel")
        if order.status == "paid"
        else None
    )
    # a held order (a group buy's, before success) printed no ticket: no slip to send
    slip = (
        print_jobs.new_job(order, "cancellation", {"slip"})
        if order.status == "paid" and not order.held
        else None
    )
    extra = [OrderModel.due_kind.remove(), OrderModel.due_at.remove()]
    if refund:
        extra += refund.order_actions
    if slip:
        extra += print_jobs.add_to_order(slip)
    give_back = checkout.give_back(order, paid=order.status == "paid")
    give_back += extensions.give_back_pieces(order, order.status == "paid")

    def also(tx: Tx) -> None:
        _restock(tx, order)
        tx.add(*give_back)
        if refund:
            tx.save(
                refund.refund,
                condition=type(refund.refund).refund_id.does_not_exist(),
                label="refund",
            )
            tx.add(*refund.pieces)  # its stored-value share back to the balance
        if slip:
            tx.save(slip, condition=type(slip).job_id.does_not_exist(), label="slip")

    updated = order_flow.apply(
        order,
        "cancel",
        principal,
        reason,
        extra=extra,
        also=also,
        detail=refund.detail_actions if refund else None,
    )
    if refund:
        total = refunds.provider_total(order) or refunds.provider_part(refund.refund)
        refunds.execute(refund.refund.refund_id, total, written=refund.refund)
    return updated


def release_held(order_id: str, held: str) -> bool:
    """A held order (paid, ``held`` as given) goes to its store: into the store's work
    queue with its ticket, in one transaction (the ticket's id is the one the payment
    named, so it is created once whatever the replays). False: not held any more (a
    replay) or not paid (cancelled meanwhile)."""
    from chalicelib.printing import print_jobs

    order = order_flow.get(order_id)
    if order.held != held or order.status != "paid":
        return False
    ticket = print_jobs.new_job(
        order, "order", {"picking", "delivery"}, job_id=print_jobs.paid_ticket_id(order_id)
    )

    def build(tx: Tx) -> None:
        tx.update(
            OrderModel(order_id),
            actions=[
                OrderModel.held.remove(),
                OrderModel.store_queue.set(str(order_flow.queue_key(order.store_id, "paid"))),
                OrderModel.print_job_ids.add({ticket.job_id}),
                OrderModel.updated_at.set(clock.now_iso()),
            ],
            # the version moves too (PynamoDB adds it): a writer that read it held fails
            condition=(OrderModel.held == held) & (OrderModel.status == "paid"),
            add_version_condition=False,
            label="order",
        )
        tx.save(ticket, condition=type(ticket).job_id.does_not_exist(), label="ticket")

    try:
        transact(build)
    except TransactionCancelled as exc:
        if exc.failed:
            return False
        raise
    return True


def expire_due(now_epoch: int | None = None, limit: int = 100) -> int:
    """Scheduled: expire unpaid orders past their payment deadline and give their stock
    back. Returns how many expired."""
    now_epoch = int(now_epoch if now_epoch is not None else time.time())
    expired = 0
    for key in OrderModel.by_due.query("expire", OrderModel.due_at <= now_epoch, limit=limit):
        order = order_flow.get(key.order_id)
        if order.status != "awaiting_payment":
            continue
        try:
            order_flow.apply(
                order,
                "expire",
                order_flow.SYSTEM,
                "not paid in time",
                extra=[OrderModel.due_kind.remove(), OrderModel.due_at.remove()],
                also=lambda tx, o=order: _give_back_unpaid(tx, o),
            )
            expired += 1
        except Conflict:
            continue  # paid at the last moment
    return expired
