"""Concurrent requests with one Idempotency-Key make one bulk job, applied once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import msgspec
from chalicelib.auth.principal import Principal
from chalicelib.catalogue import bulk_jobs
from chalicelib.catalogue import schemas as s
from chalicelib.catalogue.models import BulkJobModel, StoreItemModel

HQ = Principal("hq-admin", "hq_admin")


def test_eight_concurrent_requests_with_one_key_make_one_job(aws_server):
    StoreItemModel(
        "sh-a",
        "100",
        price_fen=1000,
        stock=10,
        on_sale=True,
        category_key="a#b#100",
        updated_at="2026-11-24T00:00:00Z",
    ).save()
    body = msgspec.convert(
        {"rows": [{"store_id": "sh-a", "sku": "100", "stock": 3}]}, s.BulkJobCreate
    )
    # Every request that applies its row adds one to a counter through the write.
    writes: list[int] = []
    real = bulk_jobs._write

    def counted(*args):
        writes.append(1)
        return real(*args)

    bulk_jobs._write = counted
    try:
        barrier = threading.Barrier(8)

        def run(_: int):
            barrier.wait()
            return bulk_jobs.create_job(HQ, "same-key-123", body)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(run, range(8)))
    finally:
        bulk_jobs._write = real
    assert len({job.job_id for job, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(writes) == 1
    assert BulkJobModel.count() == 1
    assert int(StoreItemModel.get("sh-a", "100").stock) == 3
