"""Flash sales and campaign budgets raced against a moto server: buyers reserving at once
from a thread pool, one customer pressing buy many times, transactions spending one
budget. The tables are checked afterwards, not only what the callers were told."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import msgspec
import pytest
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.promotions.models import FlashBuyerModel, FlashShardModel, PromotionModel
from pynamodb.exceptions import TransactWriteError

from tests.order_steps import seed_catalogue
from tests.publishing import publish_promotion
from tests.service.conftest import warm_clients

HQ = Principal("hq-admin", "hq_admin")
THREADS = 32


@pytest.fixture
def shop(aws_server):
    from chalicelib.promotions import service as promotions

    seed_catalogue(["sh-a"], count=3)
    promotions.forget_active_cache()
    warm_clients()
    yield
    promotions.forget_active_cache()


def create(**body) -> str:
    """A promotion made through the service, as head office makes it; its id."""
    from chalicelib.promotions import service as promotions
    from chalicelib.promotions.schemas import PromotionCreate

    now = clock.now()
    body = {
        "name": "秒杀",
        "starts_at": clock.iso(now - timedelta(hours=1)),
        "ends_at": clock.iso(now + timedelta(hours=2)),
        **body,
    }
    return publish_promotion(
        promotions.create(HQ, msgspec.convert(body, PromotionCreate))
    ).promotion_id


def flash_sale(quantity: int, shards: int, per_customer_limit: int) -> str:
    return create(
        kind="flash_sale",
        stores=["sh-a"],
        sku="100",
        flash_price_fen=990,
        quantity=quantity,
        per_customer_limit=per_customer_limit,
        shards=shards,
    )


def race(n: int, work, threads: int = THREADS) -> list:
    """``work(i)`` for i in range(n) on a pool of ``threads``, all released together; each
    result, or the ApiError / TransactWriteError raised."""
    go = threading.Event()

    def run(i: int):
        go.wait()
        try:
            return work(i)
        except (ApiError, TransactWriteError) as err:
            return err

    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(run, i) for i in range(n)]
        go.set()
        return [f.result() for f in futures]


def codes(results: list) -> Counter:
    def code(r) -> str:
        if isinstance(r, ApiError):
            return r.code
        if isinstance(r, TransactWriteError):
            return "transaction_cancelled"
        return "ok"

    return Counter(code(r) for r in results)


def shards_of(pid: str) -> list[FlashShardModel]:
    return list(FlashShardModel.scan(FlashShardModel.promotion_id == pid, consistent_read=True))


def buyers_of(pid: str) -> dict[str, int]:
    return {
        b.buyer_key: int(b.units)
        for b in FlashBuyerModel.scan(consistent_read=True)
        if b.buyer_key.startswith(f"{pid}#")
    }


def test_200_buyers_of_50_units_over_5_shards_buy_exactly_50(shop):
    from chalicelib.promotions.repo import remaining, reserve

    pid = flash_sale(quantity=50, shards=5, per_customer_limit=1)
    results = race(200, lambda i: reserve(pid, f"c-{i}", 1))
    assert codes(results) == {"ok": 50, "flash_sale_sold_out": 150}
    shards = shards_of(pid)
    assert len(shards) == 5 and all(int(s.remaining) == 0 for s in shards)
    assert remaining(pid) == 0
    # Every winner has one unit counted; the losers' counters were never written.
    winners = {f"{pid}#c-{i}" for i, r in enumerate(results) if isinstance(r, int)}
    buyers = buyers_of(pid)
    assert set(buyers) == winners and sum(buyers.values()) == 50
    # Each shard gave exactly its starting 10 units, as the winners were told.
    assert Counter(r for r in results if isinstance(r, int)) == {k: 10 for k in range(5)}


def test_one_customer_pressing_buy_20_times_gets_their_limit_of_2(shop):
    from chalicelib.promotions.repo import remaining, reserve

    pid = flash_sale(quantity=10, shards=3, per_customer_limit=2)
    results = race(20, lambda i: reserve(pid, "c-eager", 1))
    assert codes(results) == {"ok": 2, "flash_sale_limit_reached": 18}
    assert buyers_of(pid) == {f"{pid}#c-eager": 2}
    assert remaining(pid) == 8
    assert sum(int(s.remaining) for s in shards_of(pid)) == 8


def test_30_transactions_spending_one_budget_only_5_fit_and_it_is_never_exceeded(shop):
    from chalicelib.db.transactions import transact
    from chalicelib.promotions.repo import budget_items

    budget, amount = 10_000, 1_800  # 5 × 1,800 = 9,000 fit; a 6th would need 10,800
    pid = create(
        kind="tiered",
        tiers=[{"threshold_fen": 9900, "off_fen": 1000}],
        budget_fen=budget,
    )
    lowest: list[int] = []
    done = threading.Event()

    def watch() -> None:
        """Read the budget throughout the race: it never goes below zero."""
        while not done.is_set():
            lowest.append(int(PromotionModel.get(pid, consistent_read=True).budget_left_fen))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = race(30, lambda i: transact(budget_items(pid, amount).add_to))
    finally:
        done.set()
        watcher.join()
    assert codes(results) == {"ok": 5, "transaction_cancelled": 25}
    for r in results:
        if isinstance(r, TransactWriteError):
            assert isinstance(r, TransactionCancelled)
            assert r.failed == [f"promotion_budget:{pid}"]
    left = int(PromotionModel.get(pid, consistent_read=True).budget_left_fen)
    assert left == budget - 5 * amount == 1_000
    assert lowest and min(lowest) >= 0
