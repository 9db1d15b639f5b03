"""Orders for customers: quote, place, pay, follow, cancel, confirm. The payment webhook."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import BACK_OFFICE, CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel import config
from chalicelib.kernel.lazy import lazy_module
from chalicelib.orders import schemas as s

service = lazy_module("chalicelib.orders.service")
payments = lazy_module("chalicelib.orders.payments")

area = Area("orders", __name__, "Quote, place, pay for and follow orders.")

_CART = {
    "store_id": "sh-jingan",
    "fulfilment": "delivery",
    "address": {
        "name": "王女士",
        "phone": "13800000001",
        "line": "南京西路1618号 2号楼 1201室",
        "lat": 31.2240,
        "lng": 121.4460,
    },
    "items": [{"sku": "100001", "qty": 2}, {"sku": "400003", "qty": 1}],
}


@area.route(
    "/orders/quote",
    "POST",
    summary="Price a cart at a store",
    roles={CUSTOMER},
    body=s.QuoteRequest,
    response=s.Quote,
    errors=(404, 409, 422),
    request_example=_CART,
)
def quote(body: s.QuoteRequest, principal: Principal) -> s.Quote:
    """Lines, subtotal, discounts, delivery fee, total and how far the cart is from the
    store's minimum order (``shortfall_fen``). 409 ``insufficient_stock`` names each short
    line with what is available; 409 ``store_closed`` gives ``next_open_at``; 422
    ``out_of_delivery_range`` when the address is outside the store's radius."""
    return service.quote(principal, body)  # a member's quote says ``points`` they can use


@area.route(
    "/orders",
    "POST",
    summary="Place an order (send an Idempotency-Key)",
    roles={CUSTOMER},
    body=s.PlaceOrder,
    response=s.Order,
    status=201,
    errors=(404, 409, 422, 503),
    request_example=dict(
        _CART, remark="放门口", points_to_use=500, stored_value_fen=1000, expected_total_fen=4490
    ),
    idempotency_key=True,
    replays=True,
)
def place(body: s.PlaceOrder, principal: Principal) -> Response:
    """Header ``Idempotency-Key`` (8-64 characters, e.g. a UUID) is required: retrying with
    the same key and body returns the same order (200, header ``Idempotent-Replayed:
    true``); the same key with another body is 422. The order's id is derived from the
    customer and the key on the UTC day it is placed: a retry the same day (or up to 10
    minutes past UTC midnight) finds it. Stock is reserved when the order is
    placed; an order not paid within 15 minutes expires and gives it back.

    Coupons and promotions: send ``coupon_ids`` as the quote's ``applied_coupon_ids``.
    Placing locks the coupons, spends campaign budgets and reserves flash-sale units in
    the order's transaction: 422 ``coupon_not_applicable`` (``details[].reason``), 409
    ``coupon_unavailable`` (taken by another order, before or during this one; ``details.id``
    names it), ``coupon_budget_exhausted``, ``coupon_limit_reached``,
    ``promotion_budget_exhausted``, ``flash_sale_sold_out`` or ``flash_sale_limit_reached``
    when something changed since the quote (quote again), 503 ``flash_sale_busy`` (retry
    with the same key).

    Send ``expected_total_fen`` (the quote's ``total_fen``) to bind the price: if the
    order would cost anything else, 409 ``total_changed`` (``details.total_fen`` is the
    new total) and nothing is reserved.

    Members pay part with points and balance: ``points_to_use`` (at most the quote's
    ``points.max_points``) comes off after every discount, ``stored_value_fen`` (at most
    what points leave) after it; both are held in the order's transaction. 409
    ``insufficient_points`` (``details.spendable``) or ``insufficient_stored_value``; 422
    ``points_above_cap``, ``points_below_one_fen``, ``stored_value_above_total``; 503
    ``points_busy`` / ``stored_value_busy`` (retry with the same key)."""
    request = current_request_of(area)
    order, created = service.place(principal, request.headers.get("idempotency-key"), body)
    return respond(order, 201 if created else 200)


@area.route(
    "/orders",
    "GET",
    summary="My orders, newest first",
    roles={CUSTOMER},
    query=s.OrderListQuery,
    response=s.OrderPage,
)
def my_orders(query: s.OrderListQuery, principal: Principal) -> s.OrderPage:
    return service.list_mine(principal, query)


@area.route(
    "/orders/{order_id}",
    "GET",
    summary="One order with its timeline",
    roles={CUSTOMER, *BACK_OFFICE},
    response=s.Order,
    errors=(404,),
)
def get_order(order_id: str, principal: Principal) -> s.Order:
    """Customers see their own orders, store staff their store's, head office all; with
    every refund of the order and its status (``refunds``)."""
    return service.get_one(principal, order_id)


@area.route(
    "/orders/{order_id}/pay",
    "POST",
    summary="Start paying for an order",
    roles={CUSTOMER},
    response=s.PaymentStart,
    errors=(404, 409),
    content_types=("application/json",),
)
def pay(order_id: str, principal: Principal) -> s.PaymentStart:
    """Returns the provider's parameters for the payment sheet. The order becomes ``paid``
    when the provider notifies us (not when this call returns)."""
    return payments.start(principal, order_id)


@area.route(
    "/orders/{order_id}/cancel",
    "POST",
    summary="Cancel an order before picking starts",
    roles={CUSTOMER, *BACK_OFFICE},
    body=s.Reason,
    response=s.Order,
    errors=(404, 409),
    request_example={"reason": "不想要了"},
)
def cancel(order_id: str, body: s.Reason, principal: Principal) -> s.Order:
    """Unpaid or paid orders only (409 once picking has started). Stock goes back; a paid
    order is refunded in full, delivery fee included."""
    return service.cancel(principal, order_id, body.reason)


@area.route(
    "/payments/notify/{provider}",
    "POST",
    summary="Payment provider's notification (webhook)",
    body=bytes,
    response=s.PaymentAck,
    errors=(400, 404),
    content_types=("application/json",),
    request_example={
        "transaction_id": "lp3f9a0c1d2e4b5a6c7d8e",
        "order_id": "261124K7QX3M9P",
        "amount_fen": 4490,
        "paid_at": "2026-11-24T02:31:12Z",
        "payer": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
    },
)
def payment_notification(provider: str, body: bytes) -> s.PaymentAck:
    """Called by the payment provider, signed; not for the storefront. Idempotent per
    ``transaction_id``: a repeated notification is answered ``SUCCESS`` again. A payment
    the order cannot take (expired, cancelled, paid already, another amount than the
    total) or for an unknown order is recorded, refunded in full and answered ``SUCCESS``
    so that the provider stops retrying; see the order's ``refunds``. 404
    ``unknown_provider`` for a provider name we have no provider for.

    The ``local`` provider (the local stage's stand-in, shown) signs like this: its key is
    ``HMAC-SHA256(key = the API's token secret DAOJIA_JWT_SECRET as UTF-8, message =
    "local-payments")`` (the raw 32 bytes), and the header ``X-Daojia-Signature`` carries
    ``hex(HMAC-SHA256(key, body))`` over the exact body bytes sent. The body is JSON with
    ``transaction_id``, ``order_id`` (or a coupon sale id ``CS…``), ``amount_fen``,
    ``paid_at`` and optionally ``payer`` (who paid, as WeChat Pay's payer openid: an order
    that took a new-customer offer records it, hashed, for anti-abuse). A missing or
    wrong signature is 400 ``bad_signature``; an unreadable body 400
    ``bad_notification``. Production providers (WeChat Pay, Alipay) keep their own formats
    and signatures behind the same route."""
    request = current_request_of(area)
    return payments.notify(provider, dict(request.headers), body)


if config.is_local():

    @area.route(
        "/local/payments/{order_id}/complete",
        "POST",
        summary="Local stage only: simulate the customer paying",
        roles={CUSTOMER, HQ_ADMIN},
        query=s.SimulatePaymentQuery,
        response=s.PaymentAck,
        errors=(404, 409, 422),
        content_types=("application/json",),
    )
    def simulate_payment(
        order_id: str, query: s.SimulatePaymentQuery, principal: Principal
    ) -> s.PaymentAck:
        """Makes the local provider send a signed notification for the order's total
        (or, for a coupon sale id "CS…", the sale's price), naming ``payer`` as the
        account that paid when given (a new-customer order records it on its anti-abuse
        marker, as a real provider's payer openid / buyer_id)."""
        return payments.simulate(principal, order_id, query.payer)
