"""Zones: head office creates and edits them; pricing, the quote's add-on suggestions and
the storefront read what is live at a store.

Reads on the quote's path come from two per-container caches: the active zones (one
Query every ZONES_CACHE_S) and, per store, the zone products' price and stock (one
BatchGetItem every PRODUCTS_CACHE_S, only when a gap is open and an add-on zone is live):
a quote in steady state makes no call of its own for zones. Placing an
order reads a fixed-price zone's per-customer count with the cart's BatchGetItem, and
its transaction adds to it under the limit (``take_piece``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import msgspec

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.db.transactions import TransactionCancelled, TxPiece, batch_get, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.stores.models import StoreModel
from chalicelib.zones import rules
from chalicelib.zones import schemas as s
from chalicelib.zones.models import ZoneBuyerModel, ZoneModel, buyer_key

# How stale the zones' definitions may be in one container: curated lists change rarely,
# and every container of the chain re-reads them this often whether or not it sells
# anything from them (a zone ended early keeps pricing for at most this long).
ZONES_CACHE_S = 30.0
# How stale a zone product's price and stock may be in a suggestion (placing checks
# stock; the next quote prices the added units exactly).
PRODUCTS_CACHE_S = 5.0
NO_LIMIT = 10**6  # units allowed at a fixed price without a per-customer limit


# --- validation and writes ------------------------------------------------------------


def _utc(value: str | None, name: str, errors: list[dict[str, str]]) -> str | None:
    if value is None:
        return None
    try:
        dt = clock.parse(value)
    except ValueError:
        errors.append(field_error(name, "not an ISO-8601 time"))
        return value
    if dt.tzinfo is None:
        errors.append(field_error(name, "needs a time zone, e.g. 'Z' or '+08:00'"))
        return value
    return clock.iso(dt)


def _validate(body: s.ZoneFields) -> tuple[str | None, str | None, list[dict[str, str]]]:
    """Kind-specific rules and references (stores, products, campaign: one BatchGetItem);
    every problem at once."""
    errors: list[dict[str, str]] = []
    starts = _utc(body.starts_at, "starts_at", errors)
    ends = _utc(body.ends_at, "ends_at", errors)
    if (starts is None) != (ends is None):
        errors.append(field_error("ends_at" if ends is None else "starts_at", "give both or none"))
    elif starts and ends and not errors and ends <= starts:
        errors.append(field_error("ends_at", "must be after starts_at"))
    if body.kind == "fixed_price":
        if body.price_fen is None:
            errors.append(field_error("price_fen", "required for a fixed-price zone"))
        if starts is None:
            errors.append(field_error("starts_at", "required for a fixed-price zone"))
    else:
        for f in ("price_fen", "per_customer_limit", "campaign_id"):
            if getattr(body, f) is not None:
                errors.append(field_error(f, "only for a fixed-price zone"))
    for name, values in (("skus", body.skus), ("stores", body.stores)):
        if len(set(values)) != len(values):
            errors.append(field_error(name, "listed twice"))
    if errors:
        return starts, ends, errors
    keys: dict[Any, list[dict[str, str]]] = {
        ProductModel: [{"sku": x} for x in body.skus],
        StoreModel: [{"store_id": x} for x in body.stores],
    }
    if body.campaign_id:
        keys[CampaignModel] = [{"campaign_id": body.campaign_id}]
    got = batch_get(keys, consistent=False)
    products = {p.sku: p for p in got[ProductModel]}
    for sku in body.skus:
        p = products.get(sku)
        if p is None:
            errors.append(field_error("skus", f"no product {sku!r}"))
        elif body.price_fen is not None and p.cost_fen is not None and body.price_fen < p.cost_fen:
            errors.append(
                field_error("price_fen", f"below the unit cost of {sku} ({int(p.cost_fen)} fen)")
            )
    found = {x.store_id for x in got[StoreModel]}
    errors += [field_error("stores", f"no store {x!r}") for x in body.stores if x not in found]
    if body.campaign_id:
        campaigns = got.of(CampaignModel)
        if not campaigns:
            errors.append(field_error("campaign_id", f"no campaign {body.campaign_id!r}"))
        elif campaigns[0].state == "ended":
            errors.append(field_error("campaign_id", "this campaign has ended"))
    return starts, ends, errors


def view(m: ZoneModel, now_iso: str | None = None) -> s.Zone:
    now_iso = now_iso or clock.now_iso()
    return s.Zone(
        zone_id=m.zone_id,
        kind=cast(Any, m.kind),
        name=m.name,
        status=cast(Any, m.status),
        live=_live(m, now_iso),
        skus=list(m.skus),
        stores=list(m.stores),
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        price_fen=None if m.price_fen is None else int(m.price_fen),
        per_customer_limit=None if m.per_customer_limit is None else int(m.per_customer_limit),
        campaign_id=m.campaign_id,
        funded_by=m.funded_by or "hq",
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
        version=int(m.version or 0),
    )


def _fill(m: ZoneModel, body: s.ZoneFields, starts: str | None, ends: str | None) -> None:
    m.kind = body.kind
    m.name = body.name
    m.skus = list(body.skus)
    m.stores = list(body.stores)
    m.starts_at, m.ends_at = starts, ends
    m.price_fen = body.price_fen
    m.per_customer_limit = body.per_customer_limit
    m.campaign_id = body.campaign_id
    m.funded_by = body.funded_by


def create(principal: Principal, body: s.ZoneCreate) -> s.Zone:
    """Create a zone; a fixed-price zone of a campaign is listed among the campaign's
    mechanics in the same transaction (the campaign must still exist then)."""
    starts, ends, errors = _validate(body)
    if errors:
        raise ValidationFailed("The zone is not valid.", details=errors)
    now = clock.now_iso()
    zid = body.zone_id or f"Z{uuid.uuid4().hex[:16]}"
    m = ZoneModel(zid, created_by=principal.subject, created_at=now, updated_at=now, version=0)
    _fill(m, body, starts, ends)
    entry = audit.new_entry(
        principal, "zone.create", audit.Target("zone", zid), {}, msgspec.to_builtins(view(m))
    )

    def build(tx: Any) -> None:
        tx.save(m, condition=ZoneModel.zone_id.does_not_exist(), label="zone")
        if m.campaign_id:
            tx.update(
                CampaignModel(m.campaign_id),
                actions=[
                    CampaignModel.mechanic_ids.set((CampaignModel.mechanic_ids | []).append([zid]))
                ],
                condition=CampaignModel.campaign_id.exists(),
                label="campaign",
            )
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "zone" in exc.failed:  # the caller's id is taken: a replay, or another zone
            existing = _get(zid)
            if _same(existing, m):
                return view(existing)
            raise Conflict(
                f"A different zone with id {zid!r} exists.", code="zone_exists"
            ) from None
        if "campaign" in exc.failed:
            raise ValidationFailed(
                "The zone is not valid.",
                details=[field_error("campaign_id", f"no campaign {m.campaign_id!r}")],
            ) from None
        raise
    forget_cache()
    return view(m)


SAME_FIELDS = ("kind", "name", "skus", "stores", "starts_at", "ends_at", "price_fen")


def _same(a: ZoneModel, b: ZoneModel) -> bool:
    """Whether two zones were made from the same request (a retried create)."""
    va, vb = view(a), view(b)
    fields = (*SAME_FIELDS, "per_customer_limit", "campaign_id", "funded_by")
    return all(getattr(va, f) == getattr(vb, f) for f in fields)


def _get(zone_id: str) -> ZoneModel:
    try:
        return ZoneModel.get(zone_id)
    except ZoneModel.DoesNotExist:
        raise NotFound(f"No zone {zone_id!r}.", code="zone_not_found") from None


def update(principal: Principal, zone_id: str, body: s.ZoneUpdate) -> s.Zone:
    """Replace a zone's fields at the version read (409 ``zone_changed`` otherwise). Its
    kind and campaign stay as created (422): make a new zone instead."""
    m = _get(zone_id)
    errors = []
    if body.kind != m.kind:
        errors.append(field_error("kind", f"stays {m.kind}"))
    if body.campaign_id != m.campaign_id:
        errors.append(field_error("campaign_id", f"stays {m.campaign_id}"))
    if errors:
        raise ValidationFailed("The zone cannot change that way.", details=errors)
    starts, ends, errors = _validate(body)
    if errors:
        raise ValidationFailed("The zone is not valid.", details=errors)
    if int(m.version or 0) != body.version:
        raise Conflict(
            "The zone changed since you read it; read it again.",
            code="zone_changed",
            details={"version": int(m.version or 0)},
        )
    before = msgspec.to_builtins(view(m))
    _fill(m, body, starts, ends)
    m.status = body.status
    m.updated_at = clock.now_iso()
    m.version = body.version + 1
    entry = audit.new_entry(
        principal,
        "zone.update",
        audit.Target("zone", zone_id),
        before,
        msgspec.to_builtins(view(m)),
    )

    def build(tx: Any) -> None:
        tx.save(m, condition=ZoneModel.version == body.version, label="zone")
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled:
        raise Conflict(
            "The zone changed since you read it; read it again.", code="zone_changed"
        ) from None
    forget_cache()
    return view(m)


def list_zones(status: str | None) -> s.ZoneList:
    statuses = [status] if status else ["active", "ended"]
    models = [m for st in statuses for m in ZoneModel.by_status.query(st)]
    now_iso = clock.now_iso()
    return s.ZoneList(items=[view(m, now_iso) for m in models])


# --- what is live (the caches) --------------------------------------------------------


def _live(m: ZoneModel, now_iso: str) -> bool:
    if m.status != "active":
        return False
    return m.starts_at is None or (m.starts_at <= now_iso < (m.ends_at or "~"))


@dataclass(frozen=True)
class Zone:
    """A zone as pricing and the quote use it."""

    zone_id: str
    kind: str
    name: str
    skus: tuple[str, ...]
    stores: frozenset[str]
    starts_at: str | None
    ends_at: str | None
    price_fen: int | None
    per_customer_limit: int | None
    campaign_id: str | None
    funded_by: str

    def at(self, store_id: str, now_iso: str) -> bool:
        """Live at ``store_id`` at ``now_iso``."""
        if self.stores and store_id not in self.stores:
            return False
        return self.starts_at is None or (self.starts_at <= now_iso < (self.ends_at or "~"))


@dataclass(frozen=True)
class Product:
    """A zone product at a store, from the products cache."""

    sku: str
    name: str
    unit: str
    image_url: str | None
    category1: str
    category2: str
    price_fen: int
    stock: int
    sellable: bool  # active product, on sale at the store


_zones_cache: tuple[float, tuple[Zone, ...]] | None = None
_products_cache: dict[str, tuple[float, dict[str, Product | None]]] = {}


def forget_cache() -> None:
    """Drop this container's caches (after a change, and in tests)."""
    global _zones_cache
    _zones_cache = None
    _products_cache.clear()


def _zone_of(m: ZoneModel) -> Zone:
    return Zone(
        m.zone_id,
        m.kind,
        m.name,
        tuple(m.skus),
        frozenset(m.stores),
        m.starts_at,
        m.ends_at,
        None if m.price_fen is None else int(m.price_fen),
        None if m.per_customer_limit is None else int(m.per_customer_limit),
        m.campaign_id,
        m.funded_by or "hq",
    )


def active_zones() -> tuple[Zone, ...]:
    """Every active zone: one Query, kept ZONES_CACHE_S in this container."""
    global _zones_cache
    cached = _zones_cache
    if cached is not None and time.monotonic() - cached[0] < ZONES_CACHE_S:
        return cached[1]
    zones = tuple(
        sorted((_zone_of(m) for m in ZoneModel.by_status.query("active")), key=lambda z: z.zone_id)
    )
    _zones_cache = (time.monotonic(), zones)
    return zones


def live_at(store_id: str, now: datetime | None = None, kind: str | None = None) -> list[Zone]:
    now_iso = clock.iso(now or clock.now())
    return [
        z for z in active_zones() if z.at(store_id, now_iso) and (kind is None or z.kind == kind)
    ]


def products_at(store_id: str, skus: Iterable[str]) -> dict[str, Product]:
    """The store's price and stock of ``skus`` with their product: one BatchGetItem for
    the SKUs not cached, kept PRODUCTS_CACHE_S per store in this container (a suggestion
    may show stock a few seconds old; placing checks stock again)."""
    skus = list(dict.fromkeys(skus))
    at = time.monotonic()
    cached = _products_cache.get(store_id)
    known: dict[str, Product | None] = {}
    since = at  # when the cached rows were read: they all expire together
    if cached is not None and at - cached[0] < PRODUCTS_CACHE_S:
        known, since = dict(cached[1]), cached[0]
    missing = [x for x in skus if x not in known]
    if missing:
        got = batch_get(
            {
                StoreItemModel: [{"store_id": store_id, "sku": x} for x in missing],
                ProductModel: [{"sku": x} for x in missing],
            },
            consistent=False,
        )
        items = {i.sku: i for i in got[StoreItemModel]}
        products = {p.sku: p for p in got[ProductModel]}
        for x in missing:
            i, pm = items.get(x), products.get(x)
            known[x] = (
                None
                if i is None or pm is None
                else Product(
                    x,
                    pm.name,
                    pm.unit,
                    pm.image_url,
                    pm.category1,
                    pm.category2,
                    int(i.price_fen),
                    int(i.stock),
                    bool(pm.active) and bool(i.on_sale),
                )
            )
        _products_cache[store_id] = (since, known)
    return {x: p for x in skus if (p := known.get(x)) is not None}


def add_on_items(store_id: str, now: datetime | None = None) -> list[tuple[Product, int]]:
    """The products of the add-on zones live at the store, sellable and in stock, with
    their place (the zones' order, zone by zone; a SKU in two zones counts once)."""
    skus = list(dict.fromkeys(x for z in live_at(store_id, now, "add_on") for x in z.skus))
    if not skus:
        return []
    products = products_at(store_id, skus)
    out = []
    for pos, sku in enumerate(skus):
        p = products.get(sku)
        if p is not None and p.sellable and p.stock > 0:
            out.append((p, pos))
    return out


# --- fixed prices in pricing ----------------------------------------------------------


@dataclass(frozen=True)
class FixedOffer:
    """A SKU's price in a fixed-price zone live at the store."""

    zone: Zone
    sku: str

    @property
    def limited(self) -> bool:
        return self.zone.per_customer_limit is not None


def fixed_offers(
    store_id: str, skus: Iterable[str], now: datetime | None = None
) -> list[FixedOffer]:
    """The fixed-price zones' prices live at the store for ``skus`` (the cache: no read)."""
    wanted = set(skus)
    return [
        FixedOffer(z, sku)
        for z in live_at(store_id, now, "fixed_price")
        for sku in z.skus
        if sku in wanted
    ]


def buyer_keys(offers: Sequence[FixedOffer], customer_id: str) -> list[dict[str, str]]:
    """Keys of the customer's counts for the limited offers (for the cart's BatchGetItem)."""
    return [
        {"buyer_key": buyer_key(o.zone.zone_id, o.sku, customer_id)} for o in offers if o.limited
    ]


def bought(rows: Iterable[ZoneBuyerModel]) -> dict[tuple[str, str], int]:
    """(zone id, sku) -> units the customer holds, from the batch's rows."""
    out = {}
    for r in rows:
        zone_id, sku, _ = r.buyer_key.split("#", 2)
        out[(zone_id, sku)] = int(r.units)
    return out


def units_allowed(offer: FixedOffer, held: int) -> int:
    limit = offer.zone.per_customer_limit
    return NO_LIMIT if limit is None else max(0, limit - held)


def take_piece(zone_id: str, sku: str, customer_id: str, units: int, limit: int) -> TxPiece:
    """Add ``units`` to the customer's count, within ``limit`` (DynamoDB conditions
    cannot add: the bound ``limit - units`` is computed here)."""
    b = ZoneBuyerModel
    return TxPiece(
        ZoneBuyerModel(buyer_key(zone_id, sku, customer_id)),
        {
            "actions": [b.units.add(units)],
            "condition": b.units.does_not_exist() | (b.units <= limit - units),
        },
        f"zone_buyer:{zone_id}#{sku}",
    )


def release_piece(zone_id: str, sku: str, customer_id: str, units: int) -> TxPiece:
    """Take ``units`` off the customer's count (order cancelled or expired unpaid)."""
    return TxPiece(
        ZoneBuyerModel(buyer_key(zone_id, sku, customer_id)),
        {"actions": [ZoneBuyerModel.units.add(-units)]},
        f"zone_buyer_release:{zone_id}#{sku}",
    )


# --- the storefront and the admin preview ---------------------------------------------


def for_store(store_id: str) -> s.StoreZones:
    """The zones live at the store with their products in the zone's order (one GetItem
    for the store; the zones and products from the caches)."""
    from chalicelib.stores.service import get_store_model

    get_store_model(store_id)  # 404 for an unknown store
    now = clock.now()
    zones = live_at(store_id, now)
    products = products_at(store_id, [x for z in zones for x in z.skus]) if zones else {}
    out = []
    for z in zones:
        rows = []
        for sku in z.skus:
            p = products.get(sku)
            if p is None or not p.sellable:
                continue
            price = p.price_fen
            if z.kind == "fixed_price" and z.price_fen is not None:
                price = min(price, z.price_fen)
            rows.append(
                s.ZoneProduct(
                    sku=sku,
                    name=p.name,
                    unit=p.unit,
                    image_url=p.image_url,
                    list_price_fen=p.price_fen,
                    price_fen=price,
                    stock=p.stock,
                    in_stock=p.stock > 0,
                )
            )
        out.append(
            s.StoreZone(
                zone_id=z.zone_id,
                kind=cast(Any, z.kind),
                name=z.name,
                starts_at=z.starts_at,
                ends_at=z.ends_at,
                price_fen=z.price_fen,
                per_customer_limit=z.per_customer_limit,
                products=rows,
            )
        )
    return s.StoreZones(store_id=store_id, now=clock.iso(now), zones=out)


def preview(zone_id: str, store_id: str, gap_fen: int) -> s.SuggestionPreview:
    """What the quote would suggest from this zone alone at the store for a gap of
    ``gap_fen`` (list prices; any product counts, as for the free-delivery gap)."""
    zone = _get(zone_id)
    from chalicelib.stores.service import get_store_model

    get_store_model(store_id)
    products = products_at(store_id, zone.skus)
    items = [
        rules.ZoneItem(p.sku, p.price_fen, p.stock, pos, p.name)
        for pos, sku in enumerate(zone.skus)
        if (p := products.get(sku)) is not None and p.sellable
    ]
    by_sku = {i.sku: i for i in items}
    found = rules.suggest(rules.eligible(items), gap_fen)
    return s.SuggestionPreview(
        zone_id=zone_id,
        store_id=store_id,
        gap_fen=gap_fen,
        suggestions=[
            s.Suggestion(
                items=[
                    s.SuggestedUnit(
                        sku=x, name=by_sku[x].name, qty=q, price_fen=by_sku[x].price_fen
                    )
                    for x, q in g.units
                ],
                total_fen=g.total_fen,
            )
            for g in found
        ],
    )
