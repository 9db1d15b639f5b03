"""Test set-up: fake AWS credentials, moto in-process, resources from infra/resources.py.

AWS_ENDPOINT_URL* must be cleared before anything creates a client, or moto's in-process
mock is bypassed and calls go to whatever endpoint the shell had.
"""

from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass
from typing import Any

for _var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_var]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "DAOJIA_STAGE": "local",
        "DAOJIA_RESOURCE_PREFIX": "daojia-test",
        "DAOJIA_JWT_SECRET": "test-secret-not-for-production-0123456789",
    }
)

import moto  # noqa: E402  (must be imported before any client is created)
import pytest  # noqa: E402

PREFIX = "daojia-test"
# The moto server the app's cached clients point at (tests/service), or None: in-process.
CLIENTS_BOUND_TO: dict[str, str | None] = {"url": None}


@pytest.fixture(autouse=True)
def _clients_for_in_process_moto(request):
    """Tests on the moto server (tests/service) keep the app's clients bound to it;
    any other test gets them dropped, so its clients go to in-process moto."""
    if CLIENTS_BOUND_TO["url"] is not None and "aws_server" not in request.fixturenames:
        from tests.service.conftest import reset_cached_clients

        reset_cached_clients()
        CLIENTS_BOUND_TO["url"] = None


@dataclass
class _AwsSnapshot:
    """moto's backends as ``create_all`` leaves them, kept outside moto's registries."""

    backends: list[tuple[Any, str, str, Any]]  # (BackendDict, account, region, backend)
    bucket_accounts: dict[str, tuple[str, str]]  # S3's global bucket namespace
    urls: dict[str, str]


def _copy_backend(backend: Any) -> Any:
    """A deep copy of one moto backend. SQS queues hold a threading.Condition, which
    cannot be copied: each copy gets new ones (the snapshot has no S3 objects, the only
    other holders of locks)."""
    from moto.sqs.models import SQSBackend

    memo: dict[int, Any] = {}
    if isinstance(backend, SQSBackend):
        for queue in backend.queues.values():
            memo[id(queue._messages_lock)] = threading.Condition()
    return copy.deepcopy(backend, memo)


@pytest.fixture(scope="session")
def _aws_snapshot() -> _AwsSnapshot:
    """Every table, queue and bucket created once per session through boto3, as the
    local stack creates them, and the resulting moto backends copied out."""
    import boto3
    from moto.core.base_backend import BackendDict
    from moto.s3.models import S3Backend, s3_backends

    from infra.resources import create_all

    with moto.mock_aws():  # starts from empty backends, and empties them on exit
        urls = create_all(boto3.Session(region_name="us-east-1"), PREFIX)
        # Copies: moto's reset re-initialises the backend objects in its registries in
        # place (BaseBackend.reset), which would empty the snapshot on exit.
        backends = [
            (backend_dict, account, region, _copy_backend(backend))
            for backend_dict in BackendDict._instances
            for account, region, backend in backend_dict.iter_backends()
        ]
        buckets = {
            name
            for _, _, _, backend in backends
            if isinstance(backend, S3Backend)
            for name in backend.buckets
        }
        bucket_accounts = {name: s3_backends.bucket_accounts[name] for name in buckets}
    return _AwsSnapshot(backends, bucket_accounts, urls)


def _restore(snapshot: _AwsSnapshot) -> None:
    """Put fresh copies of the snapshot's backends in moto's registries (just reset)."""
    from moto.s3.models import s3_backends

    for backend_dict, account, region, backend in snapshot.backends:
        # Indexing the account registers the BackendDict, so moto resets it on exit.
        dict.__setitem__(backend_dict[account], region, _copy_backend(backend))
    s3_backends.bucket_accounts.update(snapshot.bucket_accounts)


@pytest.fixture
def aws(_aws_snapshot):
    """A fresh in-process moto with every table, queue and bucket created.

    Creating them through boto3 took 0.6-0.9 s per test (26 tables with their indexes,
    TTL and streams, 3 clients); they are created once per session and each test gets
    deep copies of the backends create_all left (~5 ms): the same state as a fresh
    moto after create_all. The mock itself is started and stopped around each test as
    before (starting resets every moto backend, stopping empties them again), so tests
    that do not use ``aws`` are never patched."""
    from infra.local.moto_server import make_dynamodb_atomic

    # One DynamoDB request at a time, as DynamoDB applies each atomically: in-process
    # moto interleaves concurrent transactions (services that fan out on threads, e.g.
    # bulk coupon issue, could otherwise oversell in tests only).
    make_dynamodb_atomic()
    with moto.mock_aws():
        _restore(_aws_snapshot)
        from chalicelib.auth import sessions
        from chalicelib.kernel.queues import queue_url

        queue_url.cache_clear()
        sessions.clear_cache()  # accounts the authorizer read belong to the previous test
        from chalicelib.campaign_budgets import approval_settings

        approval_settings.forget()  # the previous test's approval threshold
        yield dict(_aws_snapshot.urls)


@pytest.fixture
def client(aws):
    """chalice.test.Client over the app, with the authorizer running as on API Gateway."""
    from app import app
    from chalice.test import Client

    with Client(app) as c:
        yield c
