"""Placing an order (orders/service.py `place`) without HTTP: stock, idempotency, the
refusals a storefront meets, all as the use case's own values and errors."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel.errors import Conflict, ValidationFailed
from chalicelib.orders import service as orders
from chalicelib.orders.models import OrderModel
from chalicelib.orders.schemas import PlaceOrder, QuoteRequest

ME = Principal("c-usecase-1", CUSTOMER)


def body(*items: tuple[str, int], **extra) -> PlaceOrder:
    return msgspec.convert(
        {
            "store_id": "sh-a",
            "fulfilment": "pickup",
            "items": [{"sku": sku, "qty": qty} for sku, qty in items],
            **extra,
        },
        PlaceOrder,
    )


def stock(sku: str) -> int:
    return int(StoreItemModel.get("sh-a", sku, consistent_read=True).stock)


def test_placing_reserves_stock_and_a_retry_returns_the_same_order(catalogue):
    order, created = orders.place(ME, "uc-key-0001", body(("100", 2), ("101", 1)))
    assert created and order.status == "awaiting_payment"
    assert (stock("100"), stock("101")) == (8, 9)
    again, created_again = orders.place(ME, "uc-key-0001", body(("100", 2), ("101", 1)))
    assert (again.order_id, created_again) == (order.order_id, False)
    assert (stock("100"), stock("101")) == (8, 9)
    assert OrderModel.count() == 1


def test_the_same_key_with_another_cart_is_refused(catalogue):
    orders.place(ME, "uc-key-0002", body(("100", 2), ("101", 1)))
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "uc-key-0002", body(("100", 3), ("101", 1)))
    assert refused.value.code == "idempotency_key_reused"
    assert stock("100") == 8


def test_a_sold_out_line_is_named_and_nothing_is_reserved(catalogue):
    with pytest.raises(Conflict) as refused:
        orders.place(ME, "uc-key-0003", body(("100", 11), ("101", 1)))
    assert refused.value.code == "insufficient_stock"
    assert [d["sku"] for d in refused.value.details] == ["100"]
    assert (stock("100"), stock("101")) == (10, 10) and OrderModel.count() == 0


def test_a_total_other_than_the_one_shown_is_refused(catalogue):
    cart = {"store_id": "sh-a", "fulfilment": "pickup", "items": [{"sku": "100", "qty": 2}]}
    cart["items"].append({"sku": "101", "qty": 1})
    quote = orders.quote(ME, msgspec.convert(cart, QuoteRequest))
    with pytest.raises(Conflict) as refused:
        orders.place(
            ME, "uc-key-0004", body(("100", 2), ("101", 1), expected_total_fen=quote.total_fen - 1)
        )
    assert refused.value.code == "total_changed"
    assert refused.value.details["total_fen"] == quote.total_fen
    order, _ = orders.place(
        ME, "uc-key-0005", body(("100", 2), ("101", 1), expected_total_fen=quote.total_fen)
    )
    assert order.total_fen == quote.total_fen


ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "南京西路1618号",
    "lat": 31.2240,
    "lng": 121.4460,
}


def test_a_delivery_below_the_minimum_order_is_not_placed(catalogue):
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "uc-key-0006", body(("100", 1), fulfilment="delivery", address=ADDRESS))
    assert refused.value.code == "below_minimum_order"
    assert refused.value.details["shortfall_fen"] > 0 and OrderModel.count() == 0
