"""Placing an order writes no Idempotency-Key record: the order's id is derived from the
customer and the key (orders/service.py ``_order_ids``), and its conditional put is the
idempotency check. A retry gets the order back, another body or another customer 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ValidationFailed
from chalicelib.orders import service as orders
from chalicelib.orders.models import IdempotencyModel, OrderModel
from chalicelib.orders.schemas import PlaceOrder

ME = Principal("c-idem-1", CUSTOMER)
OTHER = Principal("c-idem-2", CUSTOMER)
MIDNIGHT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def body(*items: tuple[str, int]) -> PlaceOrder:
    return msgspec.convert(
        {
            "store_id": "sh-a",
            "fulfilment": "pickup",
            "items": [{"sku": sku, "qty": qty} for sku, qty in items],
        },
        PlaceOrder,
    )


def stock(sku: str) -> int:
    return int(StoreItemModel.get("sh-a", sku, consistent_read=True).stock)


@pytest.fixture
def at(monkeypatch):
    def move(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    return move


def test_placing_writes_no_idempotency_record_and_the_id_comes_from_the_key(catalogue, at):
    at(datetime(2026, 11, 24, 4, 0, tzinfo=UTC))
    order, created = orders.place(ME, "idem-key-0001", body(("100", 2)))
    assert created and IdempotencyModel.count() == 0
    assert order.order_id == "261124" + orders._order_code("c-idem-1#idem-key-0001")
    # Another customer with the same key places another order.
    theirs, _ = orders.place(OTHER, "idem-key-0001", body(("100", 1)))
    assert theirs.order_id != order.order_id and OrderModel.count() == 2


def test_a_retry_gets_the_order_and_another_body_is_refused(catalogue):
    order, _ = orders.place(ME, "idem-key-0002", body(("100", 2)))
    again, created = orders.place(ME, "idem-key-0002", body(("100", 2)))
    assert (again.order_id, created) == (order.order_id, False)
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "idem-key-0002", body(("100", 3)))
    assert refused.value.code == "idempotency_key_reused"
    assert stock("100") == 8 and OrderModel.count() == 1


def test_a_retry_refused_by_its_own_effects_finds_the_order_by_its_id(catalogue):
    """The first request took all the stock: the retry's cart check refuses it, and the
    refusal path answers with the order at the key's id."""
    order, _ = orders.place(ME, "idem-key-0003", body(("100", 10)))
    assert stock("100") == 0
    again, created = orders.place(ME, "idem-key-0003", body(("100", 10)))
    assert (again.order_id, created) == (order.order_id, False)


def test_another_customer_whose_key_collides_gets_422_and_nothing_of_the_order(
    catalogue, monkeypatch
):
    monkeypatch.setattr(orders, "_order_code", lambda key: "K7QX3M9P")
    mine, _ = orders.place(ME, "idem-key-0004", body(("100", 2), ("101", 1)))
    for cart in (body(("100", 2), ("101", 1)), body(("100", 9))):  # placed; refused first
        with pytest.raises(ValidationFailed) as refused:
            orders.place(OTHER, "forged-key-0004", cart)
        assert refused.value.code == "idempotency_key_reused"
        said = refused.value.message + repr(refused.value.details)
        assert mine.order_id not in said and "c-idem-1" not in said
    assert OrderModel.count() == 1 and OrderModel.get(mine.order_id).customer_id == "c-idem-1"
    assert (stock("100"), stock("101")) == (8, 9)


def test_a_retry_across_utc_midnight_gets_yesterdays_order(catalogue, at):
    at(MIDNIGHT - timedelta(minutes=2))
    order, _ = orders.place(ME, "idem-key-0005", body(("100", 2)))
    assert order.order_id.startswith("261124")
    at(MIDNIGHT + timedelta(minutes=5))
    again, created = orders.place(ME, "idem-key-0005", body(("100", 2)))
    assert (again.order_id, created) == (order.order_id, False)
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "idem-key-0005", body(("100", 3)))
    assert refused.value.code == "idempotency_key_reused"
    # Refused by its own effects (stock) across midnight: found at yesterday's id too.
    at(MIDNIGHT + timedelta(days=1, minutes=-1))
    big, _ = orders.place(ME, "idem-key-0006", body(("101", 10)))
    assert big.order_id.startswith("261125")
    at(MIDNIGHT + timedelta(days=1, minutes=3))
    again, created = orders.place(ME, "idem-key-0006", body(("101", 10)))
    assert (again.order_id, created) == (big.order_id, False)
    assert OrderModel.count() == 2 and stock("100") == 8 and stock("101") == 0


def test_after_the_first_minutes_of_a_day_a_key_names_a_new_order(catalogue, at):
    """The midnight check (one more write unit) is only made in the grace minutes."""
    at(MIDNIGHT + orders.MIDNIGHT_GRACE)
    new_key, created = orders.place(ME, "idem-key-0007", body(("100", 1)))
    assert created and new_key.order_id.startswith("261125")
    assert orders._order_ids("c-idem-1#idem-key-0007") == [new_key.order_id]
    at(MIDNIGHT + orders.MIDNIGHT_GRACE - timedelta(seconds=1))
    assert orders._order_ids("c-idem-1#idem-key-0007")[1] == "261124" + new_key.order_id[6:]


def test_a_record_written_before_the_upgrade_still_answers_a_refused_retry(catalogue):
    """Orders placed just before the upgrade have an idempotency_keys record (read on the
    refusal path until the records expire)."""
    cart = body(("100", 10))
    order, _ = orders.place(ME, "idem-key-0008", cart)
    IdempotencyModel(
        "c-idem-1#legacy-key-0008",
        request_hash=orders._request_hash(cart),
        order_id=order.order_id,
        created_at=order.created_at,
        expires_at=timedelta(hours=24),
    ).save()
    again, created = orders.place(ME, "legacy-key-0008", cart)
    assert (again.order_id, created) == (order.order_id, False)
    with pytest.raises(ValidationFailed) as refused:
        orders.place(ME, "legacy-key-0008", body(("100", 11)))
    assert refused.value.code == "idempotency_key_reused"
