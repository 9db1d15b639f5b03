"""Group buy (拼团): head office's offers; the storefront's offers, groups, open and join."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.group_buys import schemas as s
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module
from chalicelib.orders import extensions
from chalicelib.orders import schemas as order_schemas

service = lazy_module("chalicelib.group_buys.service")
views = lazy_module("chalicelib.group_buys.views")


def _on_paid(order: Any) -> None:
    service.on_paid(order)


def _give_back(order: Any, paid: bool) -> list[Any]:
    # the service is imported only for a group's order (every cancellation calls this)
    if not str(getattr(order, "held", None) or "").startswith("group:"):
        return []
    return service.give_back(order, paid)


# orders calls these through its extension points (orders never imports group_buys);
# app.py imports this module, so they are filled before any order is paid or cancelled
extensions.HELD_PAID["group"] = _on_paid
extensions.GIVE_BACK.append(_give_back)

area = Area("group_buys", __name__, "Group buy (拼团): a group price when a group fills.")


@area.route(
    "/admin/group-buys",
    "POST",
    summary="Create a group-buy offer in a campaign",
    roles={HQ_ADMIN},
    body=s.OfferBody,
    response=s.Offer,
    status=201,
    errors=(403, 422),
    request_example=s.OFFER_EXAMPLE,
    response_example=s.OFFER_OUT_EXAMPLE,
)
def create_offer(body: s.OfferBody, principal: Principal) -> Response:
    """422 ``campaign_not_found`` when the campaign does not exist. Customers see the
    offer within its window while its campaign is spending (scheduled or live)."""
    return respond(service.create_offer(principal, body), 201)


@area.route(
    "/admin/group-buys",
    "GET",
    summary="Every group-buy offer, newest first",
    roles={HQ_ADMIN},
    response=s.OfferPage,
    errors=(403,),
)
def list_offers(principal: Principal) -> s.OfferPage:
    return service.list_offers()


@area.route(
    "/admin/group-buys/{offer_id}",
    "PUT",
    summary="Replace a group-buy offer (open groups keep their size, price, expiry)",
    roles={HQ_ADMIN},
    body=s.OfferBody,
    response=s.Offer,
    errors=(403, 404, 422),
    request_example=s.OFFER_EXAMPLE,
    response_example=s.OFFER_OUT_EXAMPLE,
)
def update_offer(offer_id: str, body: s.OfferBody, principal: Principal) -> s.Offer:
    return service.update_offer(principal, offer_id, body)


@area.route(
    "/admin/group-buys/{offer_id}/groups",
    "GET",
    summary="An offer's groups with their seats and (masked) members",
    roles={HQ_ADMIN},
    response=s.GroupPage,
    errors=(403, 404),
)
def offer_groups(offer_id: str, principal: Principal) -> s.GroupPage:
    return views.offer_groups(offer_id)


@area.route(
    "/stores/{store_id}/group-buys",
    "GET",
    summary="Group buys at a store, with their open groups to join",
    response=s.StoreOffers,
)
def store_offers(store_id: str) -> s.StoreOffers:
    """Offers on now at the store (their campaign spending), each with its open groups
    and their seats left."""
    return views.store_offers(store_id)


@area.route(
    "/group-buys/groups/{group_id}",
    "GET",
    summary="A group (the share link's target): seats, expiry, offer, members",
    response=s.Group,
    errors=(404,),
    response_example=s.GROUP_EXAMPLE,
)
def get_group(group_id: str) -> s.Group:
    """Members are shown masked; members who cancelled or were refunded are not shown."""
    return views.group(group_id)


_PLACE_ERRORS = (404, 409, 422, 503)


@area.route(
    "/group-buys/{offer_id}/groups",
    "POST",
    summary="Open a group: place the opener's order at the group price",
    roles={CUSTOMER},
    body=order_schemas.PlaceOrder,
    response=order_schemas.Order,
    status=201,
    errors=_PLACE_ERRORS,
    request_example=s.JOIN_EXAMPLE,
    idempotency_key=True,
    replays=True,
)
def open_group(offer_id: str, body: order_schemas.PlaceOrder, principal: Principal) -> Response:
    """As ``POST /orders`` (Idempotency-Key header; pay it the same way): the order holds
    the offer's SKU alone, one unit, no coupons, points or stored value (422
    ``group_buy_items``, ``group_buy_extras``); pickup unless the offer allows delivery
    (422 ``group_buy_pickup_only``). The order's ``group_id`` is the share link's id.
    Paid, it is held (no ticket) until the group fills; 409 ``group_member_limit``,
    ``group_buy_not_available``."""
    request = current_request_of(area)
    order, created = service.open_group(
        principal, request.headers.get("idempotency-key"), offer_id, body
    )
    return respond(order, 201 if created else 200)


@area.route(
    "/group-buys/groups/{group_id}/join",
    "POST",
    summary="Join a group: place the joiner's order at the group price",
    roles={CUSTOMER},
    body=order_schemas.PlaceOrder,
    response=order_schemas.Order,
    status=201,
    errors=_PLACE_ERRORS,
    request_example=s.JOIN_EXAMPLE,
    idempotency_key=True,
    replays=True,
)
def join_group(group_id: str, body: order_schemas.PlaceOrder, principal: Principal) -> Response:
    """As opening. The seat is taken in the order's transaction: 409 ``group_full``
    whatever the concurrency, ``group_closed`` (failed, succeeded or expired),
    ``group_already_joined``; 503 ``group_busy`` (retry with the same key). An unpaid
    order that expires or is cancelled frees its seat; the last seat's payment fills the
    group and every member's order goes to the store."""
    request = current_request_of(area)
    order, created = service.join_group(
        principal, request.headers.get("idempotency-key"), group_id, body
    )
    return respond(order, 201 if created else 200)
