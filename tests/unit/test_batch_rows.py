"""batch_get's answer (db.transactions.Rows): the rows of each model asked for, typed by
model; ``of`` answers [] for a model that was not asked for, indexing raises."""

from __future__ import annotations

import pytest
from chalicelib.catalogue.models import ProductModel
from chalicelib.db.transactions import Rows
from chalicelib.stores.models import StoreModel


def test_rows_by_model() -> None:
    product = ProductModel("sku-1")
    rows = Rows({ProductModel: [product], StoreModel: []})
    assert rows[ProductModel] == [product]
    assert rows[StoreModel] == []
    assert rows.of(ProductModel) == [product]


def test_a_model_not_asked_for() -> None:
    rows = Rows({ProductModel: []})
    assert rows.of(StoreModel) == []
    with pytest.raises(KeyError):
        rows[StoreModel]
