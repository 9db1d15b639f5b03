"""A hot shard at a flash sale's peak: DynamoDB cancels the purchase's transaction with
ThrottlingError (or throttles the whole request). The buyer is moved to another shard,
and told to try again (503 flash_sale_busy) only when no shard could serve: never a 500,
never a unit taken."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from botocore.exceptions import ClientError
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.promotions import repo as promotion_repo
from chalicelib.promotions.repo import remaining, reserve
from pynamodb.exceptions import TransactWriteError

from tests.publishing import publish_promotion


@pytest.fixture
def sale(catalogue, monkeypatch):
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions.schemas import PromotionCreate

    now = clock.now()
    body = {
        "kind": "flash_sale",
        "name": "草莓秒杀",
        "stores": ["sh-a"],
        "starts_at": clock.iso(now - timedelta(hours=1)),
        "ends_at": clock.iso(now + timedelta(hours=1)),
        "sku": "100",
        "flash_price_fen": 990,
        "quantity": 9,
        "per_customer_limit": 2,
        "shards": 3,
    }
    created = publish_promotion(
        promotions.create(Principal("hq-admin", "hq_admin"), msgspec.convert(body, PromotionCreate))
    )
    promotions.forget_active_cache()
    monkeypatch.setattr(promotion_repo.random, "shuffle", lambda order: None)  # 0, 1, 2
    return created.promotion_id


def throttle_first(monkeypatch, calls: int, exc_for) -> list[int]:
    """The first ``calls`` reservation transactions fail with ``exc_for()``; the rest run."""
    real = promotion_repo.transact
    seen: list[int] = []

    def transact(build, **kwargs):
        seen.append(1)
        if len(seen) <= calls:
            raise exc_for()
        return real(build, **kwargs)

    monkeypatch.setattr(promotion_repo, "transact", transact)
    return seen


def cancelled(shard_code: str) -> TransactWriteError:
    return TransactionCancelled([("flash_shard:any#0", shard_code), ("flash_buyer:any", None)])


def throttled_request() -> TransactWriteError:
    error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    return TransactWriteError("throttled", cause=ClientError(error, "TransactWriteItems"))


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_throttled_shard_sends_the_buyer_to_the_next(sale, monkeypatch, code):
    throttle_first(monkeypatch, 1, lambda: cancelled(code))
    assert reserve(sale, "c-1", 1) == 1
    assert remaining(sale) == 8


def test_a_throttled_request_sends_the_buyer_to_the_next_shard(sale, monkeypatch):
    throttle_first(monkeypatch, 1, throttled_request)
    assert reserve(sale, "c-1", 1) == 1
    assert remaining(sale) == 8


def test_every_shard_throttled_is_503_busy_with_nothing_taken(sale, monkeypatch):
    seen = throttle_first(monkeypatch, 3, lambda: cancelled("ThrottlingError"))
    with pytest.raises(ApiError) as err:
        reserve(sale, "c-1", 1)
    assert (err.value.status, err.value.code) == (503, "flash_sale_busy")
    assert len(seen) == 3 and remaining(sale) == 9


def test_other_cancellations_are_not_taken_for_busy(sale, monkeypatch):
    throttle_first(monkeypatch, 1, lambda: cancelled("ValidationError"))
    with pytest.raises(TransactWriteError):
        reserve(sale, "c-1", 1)
    assert remaining(sale) == 9
