"""Test set-up: fake AWS credentials, moto in-process, resources from infra/resources.py.

AWS_ENDPOINT_URL* must be cleared before anything creates a client, or moto's in-process
mock is bypassed and calls go to whatever endpoint the shell had.
"""

from __future__ import annotations

import os

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


@pytest.fixture
def aws():
    """A fresh in-process moto with every table, queue and bucket created."""
    import boto3

    from infra.local.moto_server import make_dynamodb_atomic
    from infra.resources import create_all

    # One DynamoDB request at a time, as DynamoDB applies each atomically: in-process
    # moto interleaves concurrent transactions (services that fan out on threads, e.g.
    # bulk coupon issue, could otherwise oversell in tests only).
    make_dynamodb_atomic()
    with moto.mock_aws():
        urls = create_all(boto3.Session(region_name="us-east-1"), PREFIX)
        from chalicelib.queues import queue_url

        queue_url.cache_clear()
        yield urls


@pytest.fixture
def client(aws):
    """chalice.test.Client over the app, with the authorizer running as on API Gateway."""
    from app import app
    from chalice.test import Client

    with Client(app) as c:
        yield c
