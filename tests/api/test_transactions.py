"""Cancellation reasons are reported in the order the items were added to a transaction
(PynamoDB sends puts before updates whatever the order of the calls)."""

import pytest
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.db.transactions import cancellation_codes, transact
from chalicelib.printing.models import CounterModel
from pynamodb.exceptions import TransactWriteError


def test_reasons_follow_the_order_of_the_calls(catalogue):
    def build(tx):
        tx.update(
            StoreItemModel("sh-a", "100"),
            actions=[StoreItemModel.stock.add(-1)],
            condition=StoreItemModel.stock >= 1000,
        )  # fails
        tx.save(CounterModel("c1", value=1), condition=CounterModel.name.does_not_exist())  # fine

    with pytest.raises(TransactWriteError) as info:
        transact(build)
    assert cancellation_codes(info.value)[0] == "ConditionalCheckFailed"
    assert cancellation_codes(info.value)[1] in (None, "None")
    assert StoreItemModel.get("sh-a", "100").stock == 10
