"""A moto server on loopback, for tests that need real HTTP between threads and AWS
(concurrency tests): each request goes through botocore, the network and moto's server,
as it would against DynamoDB."""

from __future__ import annotations

import urllib.request

import pytest

from tests.conftest import PREFIX


def reset_cached_clients() -> None:
    """Forget clients bound to an earlier endpoint (PynamoDB caches one per model)."""
    from chalicelib.catalogue import import_jobs
    from chalicelib.db import connection, sessions
    from chalicelib.db.tables import ALL_MODELS
    from chalicelib.kernel import queues

    for model in ALL_MODELS:
        model._connection = None
    sessions.forget_thread_session()
    connection.connection.cache_clear()
    queues.sqs_client.cache_clear()
    queues.queue_url.cache_clear()
    import_jobs._s3.cache_clear()


@pytest.fixture(scope="session")
def moto_server():
    """moto's threaded server with DynamoDB requests made atomic, as DynamoDB's are (see
    infra/local/moto_server.py: unpatched, moto interleaves concurrent transactions)."""
    from moto.server import ThreadedMotoServer

    from infra.local.moto_server import make_dynamodb_atomic

    make_dynamodb_atomic()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_server(moto_server, monkeypatch):
    """Fresh state on the shared moto server, with every resource created.

    The app's clients (PynamoDB makes one botocore client per model, ~0.15 s of CPU
    each) are created once for the server and kept from test to test: the server's URL
    does not change, only its state is reset. The in-process ``aws`` fixture drops them
    when a later test needs in-process moto again."""
    import boto3

    from infra.resources import create_all
    from tests.conftest import CLIENTS_BOUND_TO

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))  # noqa: S310
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    if CLIENTS_BOUND_TO["url"] != moto_server:
        reset_cached_clients()
        CLIENTS_BOUND_TO["url"] = moto_server
    else:
        from chalicelib.kernel import queues

        queues.queue_url.cache_clear()  # queue URLs are looked up again after the reset
    from chalicelib.auth import sessions

    sessions.clear_cache()  # accounts the authorizer read belong to the previous test
    urls = create_all(boto3.Session(region_name="us-east-1"), PREFIX)
    yield urls
    monkeypatch.delenv("AWS_ENDPOINT_URL")


def warm_clients() -> None:
    """Create the clients that racing threads use before they start (each costs ~0.15 s
    of CPU, which would otherwise spread the threads' start)."""
    from chalicelib.db.connection import connection
    from chalicelib.db.tables import ALL_MODELS

    assert connection().client is not None
    for model in ALL_MODELS:
        assert model._get_connection().connection.client is not None


@pytest.fixture
def ready(aws_server):
    """The shared moto server with every resource, and the app's clients created."""
    warm_clients()
