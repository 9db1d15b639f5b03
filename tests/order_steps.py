"""Service-level steps of the order flow, for tests that need orders in a given state
(in-process moto or the moto server) without going through HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import msgspec
from chalicelib.auth.principal import CUSTOMER, Principal

CUSTOMER_1 = Principal("c-1", CUSTOMER)
STAFF_A = Principal("sh-a-staff", "store_staff", "sh-a")
HQ = Principal("hq-admin", "hq_admin")
ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号 1201室",
    "lat": 31.2240,
    "lng": 121.4460,
}


def with_discount(monkeypatch, amount_fen: int) -> None:  # type: ignore[no-untyped-def]
    """Every order placed from now on gets ``amount_fen`` off: a tiered promotion on all
    goods from 1 fen (the domain caps it at the goods), added to what is on at the store."""
    from datetime import timedelta

    from chalicelib.checkout import promotion_engine as promo
    from chalicelib.checkout import service as checkout
    from chalicelib.kernel import clock

    # hypothesis runs many examples in one test: wrap the real function, not an earlier wrapper
    original = getattr(checkout._promotions, "__wrapped__", checkout._promotions)

    def with_extra(loaded, skus):  # type: ignore[no-untyped-def]
        now = clock.now()
        extra = promo.TieredDiscount(
            "test-discount",
            "test",
            ((1, amount_fen),),
            now - timedelta(days=1),
            now + timedelta(days=1),
        )
        return [*original(loaded, skus), *([extra] if amount_fen else [])]

    with_extra.__wrapped__ = original  # type: ignore[attr-defined]
    monkeypatch.setattr(checkout, "_promotions", with_extra)


def seed_catalogue(
    store_ids: Sequence[str] = ("sh-a", "sh-b"), stock: int = 10, count: int = 25
) -> None:
    """The API tests' stores and their first ``count`` products (SKUs "100".."124",
    "105" inactive), for tests that cannot use the fixtures (e.g. against the moto server)."""
    from chalicelib.catalogue.imports import apply_products, apply_store_items
    from chalicelib.catalogue.rules import parse_product, parse_store_item
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store

    from tests.api.conftest import STORE_A, STORE_B

    for s in (STORE_A, STORE_B):
        if s["store_id"] in store_ids:
            create_store(msgspec.convert(s, StoreCreate))
    products = [
        parse_product(
            {
                "sku": f"{100 + i}",
                "name": f"商品{i}",
                "category1": "水果",
                "category2": "柑橘",
                "unit": "份",
                "fresh": "true",
                "active": "false" if i == 5 else "true",
            },
            i,
        )
        for i in range(count)
    ]
    apply_products(products)
    items = [
        (
            n,
            parse_store_item(
                {"store_id": s, "sku": p.sku, "price_fen": 1000 + n, "stock": stock}, n
            ),
        )
        for n, (s, p) in enumerate((s, p) for s in store_ids for p in products)
    ]
    apply_store_items(items, {})


def set_fresh(skus: Sequence[str], fresh: bool) -> None:
    """Mark products fresh (生鲜) or not; orders placed afterwards carry the flag."""
    from chalicelib.catalogue.models import ProductModel

    for sku in skus:
        ProductModel(sku).update(actions=[ProductModel.fresh.set(fresh)])


def set_stock(skus: Sequence[str], stock: int, store_id: str = "sh-a") -> None:
    from chalicelib.catalogue.models import StoreItemModel

    for sku in skus:
        StoreItemModel(store_id, sku).update(actions=[StoreItemModel.stock.set(stock)])


def place_paid(
    items: Sequence[tuple[str, int]],
    fulfilment: str = "delivery",
    customer: Principal = CUSTOMER_1,
    store_id: str = "sh-a",
) -> str:
    """Place and pay an order; returns its id."""
    from chalicelib.orders import payments
    from chalicelib.orders import service as orders
    from chalicelib.orders.schemas import PlaceOrder

    body = {
        "store_id": store_id,
        "fulfilment": fulfilment,
        "items": [{"sku": s, "qty": q} for s, q in items],
    }
    if fulfilment == "delivery":
        body["address"] = ADDRESS
    order, _ = orders.place(customer, uuid.uuid4().hex, msgspec.convert(body, PlaceOrder))
    ack = payments.simulate(customer, order.order_id)
    assert ack.code == "SUCCESS", ack
    return order.order_id


def pick(order_id: str, picked: dict[str, int] | None = None, staff: Principal = STAFF_A):
    """Start and finish picking; ``picked`` gives the found quantity by SKU (default: all)."""
    from chalicelib.orders import order_flow, store_workflow
    from chalicelib.orders.store_workflow_schemas import PickResult

    store_workflow.start_picking(staff, order_id)
    order = order_flow.get(order_id)
    lines = [
        {"sku": line.sku, "picked_qty": (picked or {}).get(line.sku, int(line.qty))}
        for line in order.lines
    ]
    return store_workflow.pick(staff, order_id, msgspec.convert({"lines": lines}, PickResult))


def complete(order_id: str, staff: Principal = STAFF_A, customer: Principal = CUSTOMER_1):
    """From picked to completed, by delivery or pickup."""
    from chalicelib.orders import order_flow, store_workflow
    from chalicelib.orders.store_workflow_schemas import Checkout, Pickup

    order = order_flow.get(order_id)
    store_workflow.checkout(staff, order.store_id, Checkout(order_code=order_id))
    if order.fulfilment == "pickup":
        return store_workflow.collect_pickup(
            staff, order.store_id, Pickup(pickup_code=order.pickup_code)
        )
    store_workflow.dispatch(staff, order_id)
    store_workflow.deliver(staff, order_id)
    return store_workflow.confirm_receipt(customer, order_id)


def completed_order(
    items: Sequence[tuple[str, int]],
    fulfilment: str = "delivery",
    picked: dict[str, int] | None = None,
) -> str:
    order_id = place_paid(items, fulfilment)
    pick(order_id, picked)
    complete(order_id)
    return order_id


def open_return(order_id: str, lines: dict[str, int], who: Principal = CUSTOMER_1, key=None):
    """Open a return through the service; returns (ReturnList, created)."""
    from chalicelib.orders import returns
    from chalicelib.orders.returns_schemas import ReturnRequest

    body = msgspec.convert(
        {"lines": [{"sku": s, "units": u} for s, u in lines.items()], "reason": "坏了"},
        ReturnRequest,
    )
    return returns.open_return(who, order_id, body, key or uuid.uuid4().hex)
