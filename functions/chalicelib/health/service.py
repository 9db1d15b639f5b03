"""Dependency checks for GET /health."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.kernel import config


def _check_dynamodb() -> None:
    from chalicelib.stores.models import StoreModel

    StoreModel.describe_table()


def _check_sqs() -> None:
    from chalicelib.kernel.queues import sqs_client

    sqs_client().get_queue_url(QueueName=config.queue_name("imports"))


def _timed(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
        status: dict[str, Any] = {"status": "ok"}
    except Exception as exc:  # any failure means "down", with the reason for the operator
        status = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    status["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return status


def check() -> tuple[bool, dict]:
    """(all healthy, per-dependency status). The checks run in parallel."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        ddb = pool.submit(_timed, _check_dynamodb)
        sqs = pool.submit(_timed, _check_sqs)
        deps = {"dynamodb": ddb.result(), "sqs": sqs.result()}
    return all(d["status"] == "ok" for d in deps.values()), deps
