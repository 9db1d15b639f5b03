"""Zones: head office curates the add-on zone (凑单专区) and fixed-price zones (9.9元专区);
the storefront reads the zones live at a store."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.zones import schemas as s

service = lazy_module("chalicelib.zones.service")

area = Area("zones", __name__, "Zones: the add-on zone (凑单) and fixed-price zones (9.9元).")

REQUEST = {
    "kind": "fixed_price",
    "name": "9.9元专区",
    "skus": ["100001", "100007"],
    "stores": [],
    "starts_at": "2026-11-25T00:00:00+08:00",
    "ends_at": "2026-12-01T00:00:00+08:00",
    "price_fen": 990,
    "per_customer_limit": 2,
    "campaign_id": "C1a2b3c4d5e6f7a8b",
    "funded_by": "hq",
}
ADD_ON_REQUEST = {
    "kind": "add_on",
    "name": "凑单专区",
    "skus": ["100003", "100005", "100009"],
    "stores": ["sh-jingan"],
}
EXAMPLE = {
    "zone_id": "Z3f1c2b7a9e8d4c5b",
    "kind": "fixed_price",
    "name": "9.9元专区",
    "status": "active",
    "live": True,
    "skus": ["100001", "100007"],
    "stores": [],
    "starts_at": "2026-11-24T16:00:00Z",
    "ends_at": "2026-11-30T16:00:00Z",
    "price_fen": 990,
    "per_customer_limit": 2,
    "campaign_id": "C1a2b3c4d5e6f7a8b",
    "funded_by": "hq",
    "created_by": "hq-admin",
    "created_at": "2026-11-20T02:00:00Z",
    "updated_at": "2026-11-20T02:00:00Z",
    "version": 0,
}
SUGGESTION_EXAMPLE = {
    "items": [{"sku": "100003", "name": "农夫山泉 550ml", "qty": 2, "price_fen": 200}],
    "total_fen": 400,
}


@area.route(
    "/admin/zones",
    "POST",
    summary="Create an add-on zone or a fixed-price zone",
    roles={HQ_ADMIN},
    body=s.ZoneCreate,
    response=s.Zone,
    status=201,
    errors=(403, 409, 422),
    request_example=REQUEST,
    response_example=EXAMPLE,
)
def create(body: s.ZoneCreate, principal: Principal) -> s.Zone:
    """Head office only. An add-on zone (``add_on``: e.g. the body
    ``{"kind": "add_on", "name": "凑单专区", "skus": ["100003", "100005"]}``) lists the
    products the quote suggests to close a gap; a fixed-price zone (``fixed_price``)
    sells its products at ``price_fen`` in its window (422 when the price is below a
    product's unit cost). A zone's ``campaign_id`` must name a campaign that has not
    ended; the zone joins the campaign's ``mechanic_ids``. Send a ``zone_id`` of your own
    to make retries safe (409 ``zone_exists`` when another zone has it)."""
    return service.create(principal, body)


@area.route(
    "/admin/zones",
    "GET",
    summary="Zones, active and ended",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.ZoneListQuery,
    response=s.ZoneList,
    errors=(403, 422),
    response_example={"items": [EXAMPLE]},
)
def list_zones(query: s.ZoneListQuery, principal: Principal) -> s.ZoneList:
    """Every zone (``status`` filters); a store manager reads them too (their store's
    shelves carry the products)."""
    return service.list_zones(query.status)


@area.route(
    "/admin/zones/{zone_id}",
    "PUT",
    summary="Replace a zone's fields, at the version read",
    roles={HQ_ADMIN},
    body=s.ZoneUpdate,
    response=s.Zone,
    errors=(403, 404, 409, 422),
    request_example={**REQUEST, "version": 0, "status": "active"},
    response_example=dict(EXAMPLE, version=1),
)
def update(zone_id: str, body: s.ZoneUpdate, principal: Principal) -> s.Zone:
    """Head office only. 409 ``zone_changed`` when ``version`` is not the current one;
    ``status`` ``ended`` ends the zone. Kind and campaign stay as created (422)."""
    return service.update(principal, zone_id, body)


@area.route(
    "/admin/zones/{zone_id}/suggestions",
    "GET",
    summary="Preview the add-on suggestions of a zone for a sample gap",
    roles={HQ_ADMIN},
    query=s.SuggestionQuery,
    response=s.SuggestionPreview,
    errors=(403, 404, 422),
    response_example={
        "zone_id": "Z3f1c2b7a9e8d4c5b",
        "store_id": "sh-jingan",
        "gap_fen": 350,
        "suggestions": [SUGGESTION_EXAMPLE],
    },
)
def suggestions(
    zone_id: str, query: s.SuggestionQuery, principal: Principal
) -> s.SuggestionPreview:
    """Head office only: up to 3 combinations of 1-3 units of the zone's products in
    stock at ``store_id`` whose list prices reach ``gap_fen``, the cheapest first (ties:
    fewer units), as the quote's ``add_on_suggestions`` would offer them."""
    return service.preview(zone_id, query.store_id, query.gap_fen)


@area.route(
    "/stores/{store_id}/zones",
    "GET",
    summary="The zones live at a store, with their products",
    response=s.StoreZones,
    errors=(404,),
    response_example={
        "store_id": "sh-jingan",
        "now": "2026-11-25T02:30:00Z",
        "zones": [
            {
                "zone_id": "Z3f1c2b7a9e8d4c5b",
                "kind": "fixed_price",
                "name": "9.9元专区",
                "starts_at": "2026-11-24T16:00:00Z",
                "ends_at": "2026-11-30T16:00:00Z",
                "price_fen": 990,
                "per_customer_limit": 2,
                "products": [
                    {
                        "sku": "100001",
                        "name": "阳光玫瑰葡萄 500g",
                        "unit": "盒",
                        "image_url": None,
                        "list_price_fen": 2990,
                        "price_fen": 990,
                        "stock": 37,
                        "in_stock": True,
                    }
                ],
            }
        ],
    },
)
def store_zones(store_id: str) -> s.StoreZones:
    """Anyone: the add-on and fixed-price zones on now at the store, each with its
    products in the curated order (price and stock at this store, up to a few seconds
    old). A fixed-price product's ``price_fen`` is the zone's price; the quote applies
    it (discount kind ``fixed_price``) within the per-customer limit."""
    return service.for_store(store_id)
