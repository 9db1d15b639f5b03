"""Store workflow: the store's order queue, picking with shortages, POS checkout,
delivery, pickup at the counter; customer confirmation."""

from __future__ import annotations

from chalicelib.auth.principal import BACK_OFFICE, CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.orders import schemas as s
from chalicelib.orders import store_workflow_schemas as w

service = lazy_module("chalicelib.orders.store_workflow")

area = Area("store orders", __name__, "The store's work on orders: pick, check out, deliver.")


@area.route(
    "/admin/stores/{store_id}/orders",
    "GET",
    summary="The store's orders in one status (oldest first), or of one day (newest first)",
    roles=BACK_OFFICE,
    query=s.StoreOrderQuery,
    response=s.OrderPage,
    errors=(400, 403, 422),
)
def store_orders(store_id: str, query: s.StoreOrderQuery, principal: Principal) -> s.OrderPage:
    """Without ``date``: the store's work queue in one status, **oldest first**:
    ``status=paid`` (to pick, the default), ``picking``, ``picked`` (to check out),
    ``checked_out`` (to hand to the courier), ``ready_for_pickup``, ``out_for_delivery``,
    ``delivered`` (waiting for the customer's confirmation).

    With ``date`` (a business day, YYYY-MM-DD in the store's time zone): the orders created
    that day, **newest first**, in ``status`` — which is still ``paid`` when not given —
    or in every status with ``status=any``. Unpaid orders (``awaiting_payment``, which the
    store cannot act on) and final ones (``completed``, ``cancelled``, ``expired``) are in
    no work queue: they are listed by day only. ``status=any`` or one of those statuses
    without ``date`` is refused (422 on ``status``), as is a date that is not a calendar
    day (422 on ``date``).

    ``limit`` per page (default 20, at most 100); pass ``next_cursor`` back as ``cursor``
    with the same ``status`` and ``date``. Staff of the store and head office (403
    ``other_store`` for another store's staff)."""
    return service.list_orders(principal, store_id, query)


@area.route(
    "/admin/orders/{order_id}/start-picking",
    "POST",
    summary="A picker takes the order (paid -> picking)",
    roles=BACK_OFFICE,
    response=s.Order,
    errors=(404, 409),
)
def start_picking(order_id: str, principal: Principal) -> s.Order:
    """Once picking has started the customer can no longer cancel."""
    return service.start_picking(principal, order_id)


@area.route(
    "/admin/orders/{order_id}/pick",
    "POST",
    summary="Finish picking with what was found (picking or paid -> picked)",
    roles=BACK_OFFICE,
    body=w.PickResult,
    response=s.Order,
    errors=(404, 409, 422),
    request_example={
        "lines": [{"sku": "100001", "picked_qty": 2}, {"sku": "400003", "picked_qty": 0}]
    },
)
def pick(order_id: str, body: w.PickResult, principal: Principal) -> s.Order:
    """Give every line of the order with ``picked_qty`` from 0 to the ordered quantity.
    The order may still be ``paid`` (the picker worked from the printed ticket without
    ``start-picking``): its history then records ``start_picking`` and the outcome, in one
    write that a cancellation at the same moment either precedes (409) or misses (409 for
    the cancellation).
    Missing units (缺货) are refunded at once, each at exactly what was paid for it
    (discount shares deducted); the delivery fee is kept because the rest is delivered.
    When nothing at all was found the order is cancelled and refunded in full, delivery fee
    included. Stock is not given back for missing units (the count was wrong: the ERP
    corrects it)."""
    return service.pick(principal, order_id, body)


@area.route(
    "/admin/stores/{store_id}/checkout",
    "POST",
    summary="POS checkout of a picked order by its ticket's code, and its hand-over if asked",
    roles=BACK_OFFICE,
    body=w.Checkout,
    response=s.Order,
    errors=(403, 404, 409),
    request_example={"order_code": "261124K7QX3M9P", "then": "dispatch"},
)
def checkout(store_id: str, body: w.Checkout, principal: Principal) -> s.Order:
    """The cashier scans the ticket's QR code or barcode (the order id): picked ->
    checked_out. A pickup order goes on to ``ready_for_pickup`` in the same step (two
    timeline entries); a delivery order goes on to ``out_for_delivery`` with
    ``"then": "dispatch"`` (two entries, as if dispatched by its own request). 409
    ``fulfilment_mismatch`` for the other fulfilment's ``then``; 409
    ``illegal_transition`` when the order is not picked. Retrying the same request from the
    same account after it succeeded answers the order as it is and changes nothing. 404
    when the order is not one of this store's."""
    return service.checkout(principal, store_id, body)


@area.route(
    "/admin/orders/{order_id}/dispatch",
    "POST",
    summary="Hand the order to the courier (checked_out -> out_for_delivery)",
    roles=BACK_OFFICE,
    response=s.Order,
    errors=(404, 409),
)
def dispatch(order_id: str, principal: Principal) -> s.Order:
    return service.dispatch(principal, order_id)


@area.route(
    "/admin/stores/{store_id}/dispatch",
    "POST",
    summary="Hand several checked-out orders to one courier, with a result per order",
    roles=BACK_OFFICE,
    body=w.BulkDispatch,
    response=w.BulkDispatchResult,
    errors=(403, 422),
    request_example=w.EXAMPLES["BulkDispatch"],
    response_example=w.EXAMPLES["BulkDispatchResult"],
)
def dispatch_many(
    store_id: str, body: w.BulkDispatch, principal: Principal
) -> w.BulkDispatchResult:
    """Each order moves on its own (checked_out -> out_for_delivery, ``courier`` recorded
    in its history): one that cannot move is ``failed`` with the ``code`` and
    ``message`` a single dispatch would answer (e.g. 409 ``illegal_transition``), and
    the others still go. Safe to retry: orders the first attempt dispatched are
    ``already_dispatched``. Staff of the store and head office (403 ``other_store``)."""
    return service.dispatch_many(principal, store_id, body)


@area.route(
    "/admin/orders/{order_id}/deliver",
    "POST",
    summary="The courier delivered (out_for_delivery -> delivered)",
    roles=BACK_OFFICE,
    response=s.Order,
    errors=(404, 409),
)
def deliver(order_id: str, principal: Principal) -> s.Order:
    """The order completes when the customer confirms receipt, or automatically after
    the configured number of days (7 by default)."""
    return service.deliver(principal, order_id)


@area.route(
    "/admin/stores/{store_id}/pickups",
    "POST",
    summary="Hand a pickup order over at the counter (ready_for_pickup -> completed)",
    roles=BACK_OFFICE,
    body=w.Pickup,
    response=s.Order,
    errors=(403, 404, 409),
    request_example={"pickup_code": "042517"},
)
def pickup(store_id: str, body: w.Pickup, principal: Principal) -> s.Order:
    """The customer tells the 6-digit pickup code shown on their order page (staff never
    see it). 404 ``pickup_code_not_found`` when no order waiting at this store has it; 409
    ``pickup_code_ambiguous`` in the rare case two waiting orders share it: send the
    order's code as ``order_code`` too."""
    return service.collect_pickup(principal, store_id, body)


@area.route(
    "/orders/{order_id}/confirm",
    "POST",
    summary="Confirm receipt (delivered -> completed)",
    roles={CUSTOMER},
    response=s.Order,
    errors=(404, 409),
)
def confirm(order_id: str, principal: Principal) -> s.Order:
    """The customer's own order only. Without confirmation a delivered order completes
    by itself after the configured number of days (7 by default)."""
    return service.confirm_receipt(principal, order_id)


across = lazy_module("chalicelib.orders.across_stores")


@area.route(
    "/admin/orders",
    "GET",
    summary="Orders across stores (head office), newest first, with filters",
    roles={HQ_ADMIN},
    query=s.AllOrdersQuery,
    response=s.OrderPage,
    errors=(400, 422),
)
def all_orders(query: s.AllOrdersQuery, principal: Principal) -> s.OrderPage:
    """Per chosen store (``store_ids``, comma-separated; every store by default) and
    business day from ``to`` back to ``from`` (at most 92 days), from the by_store_day
    index, merged newest first. A sparse filter may give a short page with a
    ``next_cursor``: go on until it is null. ``promotion_id`` / ``coupon_template_id``:
    the orders (any status) carrying that promotion's discount / a coupon of that
    template, read from each order's own discounts (exact; each day's orders are read)."""
    return across.list_all(principal, query)
