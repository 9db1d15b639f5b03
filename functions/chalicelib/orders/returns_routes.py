"""Returns (退货) and their refunds."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import BACK_OFFICE, CUSTOMER, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module
from chalicelib.orders import returns_schemas as r

service = lazy_module("chalicelib.orders.returns")

area = Area("returns", __name__, "Returns of completed orders and their refunds.")

_REQUEST = {"lines": [{"sku": "100001", "units": 1}], "reason": "草莓有压坏"}
_OPEN_DOC = """Lines of a completed order, each with the units to return (at most the units
delivered less those of earlier returns; 422 names each line asked for too much). Header
``Idempotency-Key`` is required: a retry with the same key and body returns the same
returns (200, ``Idempotent-Replayed: true``) and never refunds twice.

Fresh goods (生鲜) are refunded at once (status ``refunded``); other goods wait for the
store to verify them (``awaiting_verification``). A request with both opens two returns,
one of each kind. The delivery fee is not refunded on returns."""


def _open(principal: Principal, order_id: str, body: r.ReturnRequest) -> Response:
    request = current_request_of(area)
    result, created = service.open_return(
        principal, order_id, body, request.headers.get("idempotency-key")
    )
    return respond(result, 201 if created else 200)


@area.route(
    "/orders/{order_id}/returns",
    "POST",
    summary="Ask to return goods of my completed order (send an Idempotency-Key)",
    description=_OPEN_DOC,
    roles={CUSTOMER},
    body=r.ReturnRequest,
    response=r.ReturnList,
    status=201,
    errors=(404, 409, 422),
    request_example=_REQUEST,
    idempotency_key=True,
    replays=True,
)
def request_return(order_id: str, body: r.ReturnRequest, principal: Principal) -> Response:
    return _open(principal, order_id, body)


@area.route(
    "/admin/orders/{order_id}/returns",
    "POST",
    summary="Record a customer's return (send an Idempotency-Key)",
    description=_OPEN_DOC + "\n\nStaff of the order's store (e.g. taking the customer's call) "
    "and head office.",
    roles=BACK_OFFICE,
    body=r.ReturnRequest,
    response=r.ReturnList,
    status=201,
    errors=(404, 409, 422),
    request_example=_REQUEST,
    idempotency_key=True,
    replays=True,
)
def record_return(order_id: str, body: r.ReturnRequest, principal: Principal) -> Response:
    return _open(principal, order_id, body)


@area.route(
    "/orders/{order_id}/returns",
    "GET",
    summary="The returns of an order",
    roles={CUSTOMER, *BACK_OFFICE},
    response=r.ReturnList,
    errors=(404,),
)
def order_returns(order_id: str, principal: Principal) -> r.ReturnList:
    """Customers see their own orders' returns, store staff their store's, head office all."""
    return service.of_order(principal, order_id)


@area.route(
    "/returns/{return_id}",
    "GET",
    summary="One return with its timeline and refund",
    roles={CUSTOMER, *BACK_OFFICE},
    response=r.Return,
    errors=(404,),
)
def get_return(return_id: str, principal: Principal) -> r.Return:
    """``refund.status`` is ``pending`` until the payment provider confirms the refund."""
    return service.get(principal, return_id)


@area.route(
    "/admin/stores/{store_id}/returns",
    "GET",
    summary="The store's returns in one status, oldest first",
    roles=BACK_OFFICE,
    query=r.StoreReturnQuery,
    response=r.ReturnPage,
    errors=(403,),
)
def store_returns(store_id: str, query: r.StoreReturnQuery, principal: Principal) -> r.ReturnPage:
    """``status=awaiting_verification`` (the default) is the store's to-do list; then
    ``verified`` (to collect or receive), ``refunded``, ``rejected``."""
    return service.list_store(principal, store_id, query)


@area.route(
    "/admin/returns",
    "GET",
    summary="Returns in one status across stores, oldest first (the returns queue)",
    roles=BACK_OFFICE,
    query=r.ReturnQueueQuery,
    response=r.ReturnPage,
    errors=(403,),
)
def returns_queue(query: r.ReturnQueueQuery, principal: Principal) -> r.ReturnPage:
    """Head office sees every store's returns merged (``store_id`` narrows to one store);
    store roles see their store's. ``status=awaiting_verification`` (the default) is what
    waits for a decision. ``next_cursor`` holds each store's position; pass it back
    unchanged with the same ``status``."""
    return service.queue(principal, query)


@area.route(
    "/admin/returns/{return_id}/verify",
    "POST",
    summary="Accept a return (awaiting_verification -> verified)",
    roles=BACK_OFFICE,
    response=r.Return,
    errors=(404, 409),
)
def verify(return_id: str, principal: Principal) -> r.Return:
    """Next the goods are collected at the door or brought to the service desk."""
    return service.verify(principal, return_id)


@area.route(
    "/admin/returns/{return_id}/reject",
    "POST",
    summary="Refuse a return, with the reason (-> rejected)",
    roles=BACK_OFFICE,
    body=r.Rejection,
    response=r.Return,
    errors=(404, 409, 422),
    request_example={"reason": "商品已拆封使用，不符合退货条件"},
)
def reject(return_id: str, body: r.Rejection, principal: Principal) -> r.Return:
    """From ``awaiting_verification`` or ``verified`` (e.g. the goods at the door are not
    what was described). The units can be returned again later."""
    return service.reject(principal, return_id, body.reason)


@area.route(
    "/admin/returns/{return_id}/collect",
    "POST",
    summary="Goods collected at the customer's door: refund (verified -> refunded)",
    roles=BACK_OFFICE,
    response=r.Return,
    errors=(404, 409),
)
def collect(return_id: str, principal: Principal) -> r.Return:
    """Records ``collect`` and ``refund`` and creates the refund in the same write; the
    payment provider is then asked to pay it out (retried until it confirms)."""
    return service.receive(principal, return_id, "collect")


@area.route(
    "/admin/returns/{return_id}/receive",
    "POST",
    summary="Goods returned at the service desk: refund (verified -> refunded)",
    roles=BACK_OFFICE,
    response=r.Return,
    errors=(404, 409),
)
def receive(return_id: str, principal: Principal) -> r.Return:
    """Records ``receive_at_counter`` and ``refund`` and creates the refund in the same
    write; the payment provider is then asked to pay it out (retried until it confirms)."""
    return service.receive(principal, return_id, "receive_at_counter")
