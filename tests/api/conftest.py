"""Fixtures for API tests: two stores, accounts of each role, and their tokens."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import botocore.client
import msgspec
import pytest

STORE_A = {
    "store_id": "sh-a",
    "name": "鲜到家 静安寺店",
    "address": "上海市静安区南京西路1618号",
    "lat": 31.2236,
    "lng": 121.4457,
    "radius_m": 3000,
    "minimum_order_fen": 2000,
    "delivery_fee": {"base_fee_fen": 500, "free_above_fen": 5900},
    "hours": [{"day": d, "open": "00:00", "close": "24:00"} for d in range(7)],
}
STORE_B = dict(
    STORE_A,
    store_id="sh-b",
    name="鲜到家 陆家嘴店",
    address="上海市浦东新区世纪大道100号",
    lat=31.2397,
    lng=121.4998,
    radius_m=4000,
)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_500: the test provokes a 500 on purpose (an injected failure)"
    )


@pytest.fixture(autouse=True)
def _answers_match_the_document(request, monkeypatch):
    """Every response Chalice's test client gives in this test is checked against the API
    document as it happens (tests/api/contract.py); the test fails at teardown with each
    undocumented status or error body that is not the contract's."""
    from chalice.local import LocalGateway, LocalGatewayException

    from tests.api import contract

    allow_500 = request.node.get_closest_marker("allow_500") is not None
    found: list[str] = []
    original = LocalGateway.handle_request

    def checked(self, method, path, headers, body):
        try:
            response = original(self, method, path, headers, body)
        except LocalGatewayException as gateway:
            found.extend(
                contract.problems(
                    method,
                    path,
                    gateway.CODE,
                    gateway.body,
                    allow_500=allow_500,
                    from_gateway=True,
                )
            )
            raise
        found.extend(
            contract.problems(
                method,
                path,
                response["statusCode"],
                _body_as_sent(response),
                allow_500=allow_500,
                headers=response.get("headers"),
            )
        )
        return response

    monkeypatch.setattr(LocalGateway, "handle_request", checked)
    yield
    assert not found, "answers that depart from the API document:\n" + "\n".join(found)


def _body_as_sent(response):
    """The body a client reads from a Lambda proxy answer: base64 decoded, gunzipped."""
    body = response.get("body")
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body)
        if response.get("headers", {}).get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
    return body


class Api:
    """Small helper over chalice's test client: JSON in, (status, JSON) out."""

    def __init__(self, client):
        self.client = client

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        r = getattr(self.client.http, method.lower())(path, headers=h, body=data)
        text = r.body.decode() if isinstance(r.body, bytes) else r.body
        return r.status_code, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def local_api():
    """The local stack's API server in its own process, as ``./daojia up`` runs it, for
    requests that never reach AWS (it has no moto): its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local.api_server", "--port", str(port)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, "the API server exited"
                assert time.monotonic() < deadline, "the API server did not start in 60 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def api(client):
    return Api(client)


def token_for(subject, role, store_id=None):
    from chalicelib.auth import tokens

    return tokens.issue(subject, role, store_id, 3600)[0]


def relay_token_for(store_id, relay_id=None):
    """An active relay record for the store and its token (as head office issues them)."""
    from chalicelib.auth import tokens
    from chalicelib.printing.relay_models import RelayModel

    relay_id = relay_id or f"relay-{store_id}"
    RelayModel(
        relay_id,
        store_id=store_id,
        name="test relay",
        status="active",
        token_id=f"tok-{relay_id}",
        created_at="2026-11-24T00:00:00Z",
        created_by="hq-admin",
    ).save()
    return tokens.issue(relay_id, "relay", store_id, 3600, token_id=f"tok-{relay_id}")[0]


@pytest.fixture
def tokens_(aws):
    return {
        "customer": token_for("c-1", "customer"),
        "staff_a": token_for("sh-a-staff", "store_staff", "sh-a"),
        "manager_a": token_for("sh-a-manager", "store_manager", "sh-a"),
        "manager_b": token_for("sh-b-manager", "store_manager", "sh-b"),
        "hq": token_for("hq-admin", "hq_admin"),
        "relay_a": relay_token_for("sh-a"),
    }


@pytest.fixture
def stores(aws):
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store

    for s in (STORE_A, STORE_B):
        create_store(msgspec.convert(s, StoreCreate))
    return ("sh-a", "sh-b")


@pytest.fixture
def catalogue(stores):
    """Three categories of products sold in both stores; one product inactive."""
    from chalicelib.catalogue.imports import apply_products, apply_store_items
    from chalicelib.catalogue.rules import parse_product, parse_store_item

    products = []
    for i in range(25):
        c1, c2 = [("水果", "柑橘"), ("水果", "苹果梨"), ("蔬菜", "叶菜")][i % 3]
        products.append(
            parse_product(
                {
                    "sku": f"{100 + i}",
                    "name": f"商品{i}",
                    "category1": c1,
                    "category2": c2,
                    "unit": "份",
                    "fresh": "true",
                    "active": "false" if i == 5 else "true",
                },
                i,
            )
        )
    apply_products(products)
    items = [
        (n, parse_store_item({"store_id": s, "sku": p.sku, "price_fen": 1000 + n, "stock": 10}, n))
        for n, (s, p) in enumerate((s, p) for s in stores for p in products)
    ]
    apply_store_items(items, {})
    return products


@pytest.fixture
def aws_calls(monkeypatch):
    """The names of the AWS operations the test makes, in order (no-scan checks)."""
    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return calls
