"""Stores: head office creates and edits them; customers find the ones that deliver."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import clock, config, geo, hours
from chalicelib.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.printing import print_queues
from chalicelib.stores import schemas as s
from chalicelib.stores.models import (
    DeliveryFeeAttribute,
    OpeningHoursAttribute,
    PrinterAttribute,
    StoreModel,
)

# What a store manager may change on their own store; the rest is head office's.
MANAGER_EDITABLE = frozenset({"phone", "hours", "minimum_order_fen", "delivery_fee", "printers"})
COPY_ORDER = ("picking", "delivery")


def _check_rules(
    timezone: str | None,
    opening_hours: list[s.OpeningHours] | None,
    printers: list[s.StorePrinter] | None = None,
    opened_on: str | None = None,
) -> None:
    """Rules a schema cannot express: a real time zone, no zero-length openings, printer
    names unique and not blank, each copy once per printer."""
    errors = []
    if timezone is not None:
        try:
            hours.zone(timezone)
        except ValueError:
            errors.append(field_error("timezone", f"unknown time zone {timezone!r}"))
    for i, o in enumerate(opening_hours or []):
        if o.open == o.close and o.open != "00:00":
            errors.append(
                field_error(f"hours[{i}]", "open and close are equal; use 00:00-24:00 for 24 h")
            )
    errors += _printer_errors(printers or [])
    if opened_on is not None:
        try:
            date.fromisoformat(opened_on)
        except ValueError:
            errors.append(field_error("opened_on", f"{opened_on!r} is not a date"))
    if errors:
        raise ValidationFailed("The store has invalid fields.", details=errors)


def _printer_errors(printers: list[s.StorePrinter]) -> list[dict[str, str]]:
    errors = []
    seen: dict[str, int] = {}
    for i, p in enumerate(printers):
        name = p.name.strip()
        if not name:
            errors.append(field_error(f"printers[{i}].name", "a name is required"))
        elif name in seen:
            errors.append(
                field_error(
                    f"printers[{i}].name",
                    f"{name!r} is already the name of printers[{seen[name]}]; "
                    "printer names are unique within a store",
                )
            )
        else:
            seen[name] = i
        if len(set(p.copies)) != len(p.copies):
            errors.append(field_error(f"printers[{i}].copies", "each copy at most once"))
    return errors


def _openings(model: StoreModel) -> list[hours.Opening]:
    return [hours.Opening(int(h.day), h.open, h.close) for h in model.hours]


def view(model: StoreModel, now: datetime | None = None) -> s.Store:
    """The API's view of a store, with whether it is open now."""
    now = now or clock.now()
    openings = _openings(model)
    open_now = bool(model.active) and hours.is_open(openings, model.timezone, now)
    nxt = (
        None if open_now or not model.active else hours.next_opening(openings, model.timezone, now)
    )
    fee = model.delivery_fee
    return s.Store(
        store_id=model.store_id,
        name=model.name,
        address=model.address,
        phone=model.phone,
        lat=float(model.lat),
        lng=float(model.lng),
        radius_m=int(model.radius_m),
        timezone=model.timezone,
        minimum_order_fen=int(model.minimum_order_fen),
        delivery_fee=s.DeliveryFee(
            base_fee_fen=int(fee.base_fee_fen),
            free_above_fen=None if fee.free_above_fen is None else int(fee.free_above_fen),
        ),
        hours=[s.OpeningHours(day=int(h.day), open=h.open, close=h.close) for h in model.hours],
        active=bool(model.active),
        open_now=open_now,
        next_open_at=clock.iso(nxt) if nxt else None,
        created_at=model.created_at,
        updated_at=model.updated_at,
    )


def printers_view(model: StoreModel) -> list[s.StorePrinter]:
    return [
        # The printer as the API stored it: its paper size and copies are the schema's
        # literals.
        s.StorePrinter(
            name=p.name,
            paper_mm=cast(Any, int(p.paper_mm)),
            copies=cast(Any, list(p.copies or [])),
            connection=p.connection,
        )
        for p in model.printers or []
    ]


def admin_view(model: StoreModel, now: datetime | None = None) -> s.AdminStore:
    """The store as head office and its own staff see it: with its printers (not public)."""
    public = view(model, now)
    return s.AdminStore(
        **{f: getattr(public, f) for f in public.__struct_fields__},
        printers=printers_view(model),
        opened_on=model.opened_on,
    )


def _apply(model: StoreModel, fields: dict) -> None:
    for name, value in fields.items():
        if name == "printers":
            value = [
                PrinterAttribute(
                    name=p.name.strip(),
                    paper_mm=p.paper_mm,
                    copies=[c for c in COPY_ORDER if c in p.copies],
                    connection=p.connection.strip() if p.connection else None,
                )
                for p in value
            ]
        elif name == "delivery_fee":
            value = DeliveryFeeAttribute(
                base_fee_fen=value.base_fee_fen, free_above_fen=value.free_above_fen
            )
        elif name == "hours":
            value = [OpeningHoursAttribute(day=h.day, open=h.open, close=h.close) for h in value]
        setattr(model, name, value)
    model.geo_cell = geo.geohash(model.lat, model.lng) if model.active else None


# What the audit log compares: the store's own fields (not open_now and other derived ones).
AUDITED = frozenset(s.StoreCreate.__struct_fields__) - {"store_id"}


def audited_fields(model: StoreModel) -> dict:
    """The store's editable fields as plain JSON (money in fen), for the audit log."""
    whole = msgspec.to_builtins(admin_view(model))
    return {k: v for k, v in whole.items() if k in AUDITED}


def create_store(body: s.StoreCreate, principal: Principal | None = None) -> s.AdminStore:
    """Create a store; 409 if the id is taken. With ``principal`` (the admin route; not
    seeding or fixtures) the creation is recorded in the audit log, in its transaction."""
    _check_rules(body.timezone, body.hours, body.printers, body.opened_on)
    now = clock.now_iso()
    model = StoreModel(body.store_id, created_at=now, updated_at=now)
    fields = {f: getattr(body, f) for f in body.__struct_fields__ if f != "store_id"}
    _apply(model, fields)

    def write(tx: Tx) -> None:
        tx.save(model, condition=StoreModel.store_id.does_not_exist(), label="store")
        if principal is not None:
            target = audit.Target("store", body.store_id, body.store_id)
            audit.add(tx, principal, "store.create", target, {}, audited_fields(model))

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "store" in exc.failed:
            raise Conflict(
                f"A store with id {body.store_id!r} exists.", code="store_exists"
            ) from None
        raise
    print_queues.create_for_new_store(body.store_id)
    return admin_view(model)


def get_store_model(store_id: str) -> StoreModel:
    """The store, or 404."""
    try:
        return StoreModel.get(store_id)
    except DoesNotExist:
        raise NotFound(f"No store {store_id!r}.", code="store_not_found") from None


def get_store(store_id: str) -> s.Store:
    return view(get_store_model(store_id))


def update_store(store_id: str, body: s.StoreUpdate, principal: Principal) -> s.AdminStore:
    """Change a store. Managers change only their own store's hours, fees and phone."""
    if not principal.can_act_for_store(store_id):
        raise Forbidden("Your account belongs to another store.", code="other_store")
    fields = s.unset_fields(body)
    if not principal.is_hq:
        refused = sorted(set(fields) - MANAGER_EDITABLE)
        if refused:
            raise Forbidden(
                f"Only head office changes: {', '.join(refused)}.",
                code="field_not_allowed",
                details={"fields": refused},
            )
    _check_rules(
        fields.get("timezone"), fields.get("hours"), fields.get("printers"), fields.get("opened_on")
    )
    model = get_store_model(store_id)
    before = audited_fields(model)
    _apply(model, fields)
    model.updated_at = clock.now_iso()
    entry = audit.new_entry(
        principal,
        "store.update",
        audit.Target("store", store_id, store_id),
        before,
        audited_fields(model),
    )

    def write(tx: Tx) -> None:
        # The version attribute makes the save conditional; the entry is written with it.
        tx.save(model, label="store")
        if entry is not None:
            audit.piece_of(entry).add_to(tx)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "store" in exc.failed:
            raise Conflict(
                "The store was changed at the same time; reload and retry.", code="edit_conflict"
            ) from None
        raise
    return admin_view(model)


def list_stores(principal: Principal) -> s.StoreList:
    """Head office sees every store; store roles see their own."""
    if principal.is_hq:
        models = list(StoreModel.by_listing.query("stores"))
    else:
        models = [get_store_model(principal.store_id or "")]
    now = clock.now()
    return s.StoreList(items=[admin_view(m, now) for m in models])


def nearby(lat: float, lng: float, include_closed: bool = True) -> s.NearbyStores:
    """Active stores whose delivery radius covers the point, nearest first.

    Queries the geohash cells that a circle of the largest allowed radius touches (one to
    four index queries), then keeps the stores whose own radius reaches the point.
    """
    now = clock.now()
    found: list[s.NearbyStore] = []
    for cell in geo.cells_covering(lat, lng, config.MAX_DELIVERY_RADIUS_M):
        for m in StoreModel.by_geo_cell.query(cell):
            d = geo.distance_m(lat, lng, float(m.lat), float(m.lng))
            if d > float(m.radius_m):
                continue
            v = view(m, now)
            if not include_closed and not v.open_now:
                continue
            found.append(
                s.NearbyStore(
                    **{f: getattr(v, f) for f in v.__struct_fields__}, distance_m=round(d)
                )
            )
    found.sort(key=lambda x: (x.distance_m, x.store_id))
    return s.NearbyStores(items=found)
