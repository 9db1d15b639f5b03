"""The transaction builder: every piece carries a label, and a cancelled transaction
names the pieces whose conditions failed, in the order they were added (PynamoDB sends
puts before updates whatever the order of the calls)."""

import pytest
from chalicelib.catalogue.models import StoreItemModel
from chalicelib.db.transactions import TransactionCancelled, TxPiece, transact, transact_raw
from chalicelib.printing.models import CounterModel


def short_stock(tx, sku: str) -> None:
    tx.update(
        StoreItemModel("sh-a", sku),
        actions=[StoreItemModel.stock.add(-1)],
        condition=StoreItemModel.stock >= 1000,
        label=f"stock:{sku}",
    )  # fails: 10 in stock


def test_the_failed_piece_is_named_by_its_label(catalogue):
    def build(tx):
        short_stock(tx, "100")
        tx.save(
            CounterModel("c1", value=1),
            condition=CounterModel.name.does_not_exist(),
            label="counter",
        )  # fine

    with pytest.raises(TransactionCancelled) as info:
        transact(build)
    assert info.value.failed == ["stock:100"]
    assert info.value.code_of("stock:100") == "ConditionalCheckFailed"
    assert info.value.code_of("counter") is None
    assert StoreItemModel.get("sh-a", "100").stock == 10


def test_two_failed_pieces_come_out_in_the_order_they_were_added(catalogue):
    CounterModel("c1", value=1).save()
    pieces = [
        TxPiece(
            CounterModel("c2", value=1),
            {"condition": CounterModel.name.does_not_exist()},
            "fresh",
            op="save",
        ),
        TxPiece(
            CounterModel("c1", value=2),
            {"condition": CounterModel.name.does_not_exist()},
            "taken",
            op="save",
        ),
    ]

    def build(tx):
        short_stock(tx, "100")  # an update, sent after the puts
        tx.add(*pieces)

    with pytest.raises(TransactionCancelled) as info:
        transact(build)
    assert info.value.failed == ["stock:100", "taken"]
    assert [label for label, _ in info.value.reasons] == ["stock:100", "fresh", "taken"]
    assert info.value.codes == {"ConditionalCheckFailed"}
    assert CounterModel.get("c1").value == 1


def test_a_piece_without_a_label_is_refused(catalogue):
    def build(tx):
        tx.save(CounterModel("c1", value=1))

    with pytest.raises(TypeError):
        transact(build)
    with pytest.raises(CounterModel.DoesNotExist):
        CounterModel.get("c1")


def test_raw_elements_are_named_by_their_labels(catalogue):
    CounterModel("c1", value=1).save()
    check = CounterModel._get_connection().get_operation_kwargs(
        "c1", condition=CounterModel.value == 2
    )  # fails
    update = StoreItemModel._get_connection().get_operation_kwargs(
        "sh-a",
        "100",
        actions=[StoreItemModel.stock.add(-1)],
        condition=StoreItemModel.stock >= 1000,
    )  # fails

    with pytest.raises(TransactionCancelled) as info:
        transact_raw(updates={"stock": update}, checks={"counter": check})
    assert info.value.failed == ["counter", "stock"]
