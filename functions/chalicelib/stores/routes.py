"""Stores: public lookup and nearby search; head-office and manager edits."""

from __future__ import annotations

from chalicelib.auth.principal import BACK_OFFICE, HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.stores import schemas as s

service = lazy_module("chalicelib.stores.service")

area = Area("stores", __name__, "Stores, their delivery areas and opening hours.")

_STORE_EXAMPLE = {
    "store_id": "sh-jingan",
    "name": "鲜到家 静安寺店",
    "address": "上海市静安区南京西路1618号",
    "phone": "021-62481234",
    "lat": 31.2236,
    "lng": 121.4457,
    "radius_m": 3000,
    "timezone": "Asia/Shanghai",
    "minimum_order_fen": 2000,
    "delivery_fee": {"base_fee_fen": 500, "free_above_fen": 5900},
    "hours": [{"day": d, "open": "08:00", "close": "22:00"} for d in range(7)],
    "active": True,
    "printers": [
        {
            "name": "前台打印机",
            "paper_mm": 80,
            "copies": ["picking", "delivery"],
            "connection": "192.168.1.50:9100",
        }
    ],
}


@area.route(
    "/stores/nearby",
    "GET",
    summary="Stores that deliver to a point, nearest first",
    query=s.NearbyQuery,
    response=s.NearbyStores,
    errors=(422,),
)
def nearby(query: s.NearbyQuery) -> s.NearbyStores:
    """Active stores whose delivery radius covers (lat, lng), with ``open_now`` and, when
    closed, ``next_open_at``. ``include_closed=false`` leaves closed stores out."""
    return service.nearby(query.lat, query.lng, query.include_closed)


@area.route("/stores/{store_id}", "GET", summary="One store", response=s.Store, errors=(404,))
def get_store(store_id: str) -> s.Store:
    return service.get_store(store_id)


@area.route(
    "/admin/stores",
    "GET",
    summary="Stores this account manages",
    roles=BACK_OFFICE,
    response=s.StoreList,
)
def list_stores(principal: Principal) -> s.StoreList:
    """Head office: every store. Store staff: their own store. Unlike the public store
    views, each store has its ``printers``."""
    return service.list_stores(principal)


@area.route(
    "/admin/stores",
    "POST",
    summary="Create a store",
    roles={HQ_ADMIN},
    body=s.StoreCreate,
    response=s.AdminStore,
    status=201,
    errors=(409, 422),
    request_example=_STORE_EXAMPLE,
)
def create_store(body: s.StoreCreate, principal: Principal) -> s.AdminStore:
    """``printers``: 0 to 4 receipt printers, each with a ``name`` unique within the store
    (1 to 40 characters; 422 naming the duplicate), ``paper_mm`` 58 or 80, the ``copies``
    it prints (``picking``, ``delivery`` or both) and an optional ``connection`` note such
    as ``192.168.1.50:9100`` or ``USB 0416:5011``. Printers are shown only on the admin
    views, never on the public store routes."""
    return service.create_store(body, principal)


@area.route(
    "/admin/stores/{store_id}",
    "PATCH",
    summary="Change a store",
    roles={HQ_ADMIN, STORE_MANAGER},
    body=s.StoreUpdate,
    response=s.AdminStore,
    errors=(403, 404, 409, 422),
    request_example={
        "minimum_order_fen": 2500,
        "hours": [{"day": 5, "open": "08:00", "close": "23:00"}],
    },
)
def update_store(store_id: str, body: s.StoreUpdate, principal: Principal) -> s.AdminStore:
    """Fields left out stay as they are; ``printers`` replaces the whole list (send ``[]``
    to remove them all). A store manager may change only their own store's ``phone``,
    ``hours``, ``minimum_order_fen``, ``delivery_fee`` and ``printers``."""
    return service.update_store(store_id, body, principal)
