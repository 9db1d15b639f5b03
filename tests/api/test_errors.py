"""Bad input gets a clear 4xx in the contract's shape, and nothing is written."""

import pytest
from chalicelib.catalogue.models import ProductModel
from chalicelib.stores.models import StoreModel

from .conftest import STORE_A


def assert_contract(body):
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{not json", 400, "malformed_json"),
        ("", 400, "body_required"),
        ("[]", 422, "validation_failed"),
        ('{"store_id": 5}', 422, "validation_failed"),
    ],
)
def test_bad_bodies(api, tokens_, aws, raw, status, code):
    got, body = api.call("POST", "/admin/stores", token=tokens_["hq"], raw=raw)
    assert got == status and body["error"]["code"] == code
    assert_contract(body)
    assert StoreModel.count() == 0


def test_wrong_types_name_each_field(api, tokens_, aws):
    bad = dict(STORE_A, radius_m="3km", active="yes", hours={"monday": "8-22"})
    status, body = api.call("POST", "/admin/stores", bad, tokens_["hq"])
    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["radius_m", "hours", "active"]
    assert StoreModel.count() == 0


def test_negative_money_and_bad_product_fields(api, tokens_, aws):
    status, body = api.call(
        "POST", "/admin/stores", dict(STORE_A, delivery_fee={"base_fee_fen": -1}), tokens_["hq"]
    )
    assert status == 422 and body["error"]["details"][0]["field"] == "delivery_fee.base_fee_fen"
    status, body = api.call("PUT", "/admin/products/bad sku", {"name": "x"}, tokens_["hq"])
    assert status == 422
    assert ProductModel.count() == 0


@pytest.mark.allow_500
def test_unexpected_failures_are_a_contract_500_without_internals(api, tokens_, aws, monkeypatch):
    from chalicelib.stores import service

    def boom(*_a, **_k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "create_store", boom)
    status, body = api.call("POST", "/admin/stores", STORE_A, tokens_["hq"])
    assert status == 500 and body == {
        "error": {
            "code": "internal",
            "message": "Something went wrong on our side; try again.",
            "details": None,
        }
    }


def test_health_is_503_when_a_dependency_is_down(api, aws, monkeypatch):
    from chalicelib.health import service as health

    def down():
        raise ConnectionError("endpoint unreachable")

    monkeypatch.setattr(health, "_check_sqs", down)
    status, body = api.call("GET", "/health")
    assert status == 503
    assert body["dependencies"]["sqs"]["status"] == "down"
    assert body["dependencies"]["dynamodb"]["status"] == "ok"
