"""Reads and transactions of the order flow, written for the fewest round trips."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.db.connection import connection
from chalicelib.db.models import ProductModel, StoreItemModel, StoreModel

T = TypeVar("T")


def batch_get(keys: dict[type[Model], list[dict[str, Any]]]) -> dict[type[Model], list[Model]]:
    """One BatchGetItem across several tables (100 keys at most), retrying unprocessed
    keys. ``keys[Model]`` is a list of {attribute: value} key dicts."""
    client = connection().client
    by_table = {m.Meta.table_name: m for m in keys}
    request: dict[str, Any] = {}
    for model, key_list in keys.items():
        if not key_list:
            continue
        attrs = model.get_attributes()
        request[model.Meta.table_name] = {
            "Keys": [
                {k: {attrs[k].attr_type: attrs[k].serialize(v)} for k, v in key.items()}
                for key in key_list
            ],
            "ConsistentRead": True,
        }
    out: dict[type[Model], list[Model]] = {m: [] for m in keys}
    delay = 0.02
    while request:
        resp = client.batch_get_item(RequestItems=request)
        for table, items in resp.get("Responses", {}).items():
            model = by_table[table]
            out[model].extend(model.from_raw_data(item) for item in items)
        request = resp.get("UnprocessedKeys") or {}
        if request:
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
    return out


def load_cart(
    store_id: str, skus: Iterable[str]
) -> tuple[StoreModel | None, dict[str, StoreItemModel], dict[str, ProductModel]]:
    """The store, its price/stock of each SKU and the products, in one round trip."""
    skus = list(dict.fromkeys(skus))
    got = batch_get(
        {
            StoreModel: [{"store_id": store_id}],
            StoreItemModel: [{"store_id": store_id, "sku": s} for s in skus],
            ProductModel: [{"sku": s} for s in skus],
        }
    )
    stores = got[StoreModel]
    return (
        stores[0] if stores else None,
        {i.sku: i for i in got[StoreItemModel]},  # type: ignore[attr-defined]
        {p.sku: p for p in got[ProductModel]},  # type: ignore[attr-defined]
    )


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Per item of a cancelled transaction, why it failed (None = it did not)."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [r.code if r is not None else None for r in reasons]


def transact(build: Callable[[TransactWrite], T], *, attempts: int = 5) -> T:
    """Run a transaction, retrying only when DynamoDB reports a conflict with another
    transaction in flight (nothing was written, and trying again is safe)."""
    for attempt in range(attempts):
        try:
            with TransactWrite(connection=connection()) as tx:
                result = build(tx)
            return result
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if (
                "TransactionConflict" in codes
                and "ConditionalCheckFailed" not in codes
                and attempt < attempts - 1
            ):
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                continue
            raise
    raise AssertionError("unreachable")
