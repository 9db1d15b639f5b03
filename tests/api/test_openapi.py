"""The OpenAPI document is generated from the routes and committed; it must not go stale."""

import json
from pathlib import Path

import app
from chalicelib.http.openapi import build, render
from chalicelib.http.routing import ROUTES

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_is_current():
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run ./daojia openapi"
    )


def test_every_chalice_route_is_documented():
    doc = build()
    for path, methods in app.app.routes.items():
        for method in methods:
            assert method.lower() in doc["paths"][path], f"{method} {path} is not in the document"
    assert len(ROUTES) == sum(len(m) for m in app.app.routes.values())


def test_protected_routes_declare_bearer_and_roles():
    doc = build()
    for spec in ROUTES:
        op = doc["paths"][spec.path][spec.method.lower()]
        if spec.roles:
            assert op["security"] == [{"bearer": []}] and set(op["x-daojia-roles"]) == set(
                spec.roles
            )
            assert {"401", "403"} <= set(op["responses"])
        else:
            assert "security" not in op


def test_schemas_resolve_and_errors_use_the_contract():
    doc = build()
    text = json.dumps(doc)
    for ref in set(__import__("re").findall(r'"#/components/schemas/(\w+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    store_create = doc["components"]["schemas"]["StoreCreate"]
    assert store_create["additionalProperties"] is False
    assert "minimum_order_fen" in store_create["properties"]


def test_the_api_serves_the_document(api, aws):
    status, body = api.call("GET", "/openapi.json")
    assert status == 200 and body == build()


def test_examples_match_their_schemas():
    """An example that does not decode with its own schema would mislead client authors."""
    import msgspec
    from chalicelib.http.openapi import schema_examples

    schemas = {}
    for spec in ROUTES:
        for tp in (spec.body, spec.response):
            if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
                schemas[tp.__name__] = tp
    for spec in ROUTES:
        if (
            spec.request_example is not None
            and isinstance(spec.body, type)
            and spec.body is not bytes
        ):
            msgspec.convert(spec.request_example, spec.body)
        if spec.response_example is not None and spec.response is not None:
            msgspec.convert(spec.response_example, spec.response)
    for name, example in schema_examples().items():
        if name in schemas:
            msgspec.convert(example, schemas[name])


def test_order_flow_routes_have_examples():
    doc = build()
    for path, methods in doc["paths"].items():
        order_flow = path.startswith(
            (
                "/orders",
                "/payments",
                "/admin/orders",
                "/admin/returns",
                "/returns",
                "/relay",
                "/admin/print-jobs",
                "/local",
            )
        ) or any(part in path for part in ("/orders", "/checkout", "/pickups", "/returns"))
        if not order_flow:
            continue
        for method, op in methods.items():
            if "requestBody" in op and "application/json" in op["requestBody"]["content"]:
                media = op["requestBody"]["content"]["application/json"]
                ref = media["schema"].get("$ref", "")
                has_component_example = "examples" in doc["components"]["schemas"].get(
                    ref.rsplit("/", 1)[-1], {}
                )
                assert "example" in media or has_component_example or ref.endswith("/Reason"), (
                    f"{method} {path}"
                )
            ok = next(v for k, v in op["responses"].items() if k.startswith("2"))
            if "content" in ok:
                ref = ok["content"]["application/json"]["schema"].get("$ref", "")
                name = ref.rsplit("/", 1)[-1]
                assert (
                    "example" in ok["content"]["application/json"]
                    or "examples" in doc["components"]["schemas"][name]
                ), f"{method} {path}: no response example for {name}"


def test_no_two_route_schemas_share_a_name():
    """The document names each schema by its class name: two features' ``Adjustment``
    classes would silently become one component, and a client would send the wrong body."""
    import msgspec

    modules: dict[str, set[str]] = {}
    for spec in ROUTES:
        for tp in (spec.body, spec.response, spec.query):
            if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
                modules.setdefault(tp.__name__, set()).add(tp.__module__)
    assert {n: m for n, m in modules.items() if len(m) > 1} == {}
