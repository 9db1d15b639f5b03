"""Store printers: set on create and edit, shown on the admin store views only."""

from __future__ import annotations

from chalicelib.stores.models import StoreModel

from tests.api.conftest import STORE_A

FRONT = {
    "name": "前台打印机",
    "paper_mm": 80,
    "copies": ["picking", "delivery"],
    "connection": "192.168.1.50:9100",
}
FRESH = {"name": "生鲜区", "paper_mm": 58, "copies": ["picking"], "connection": "USB 0416:5011"}


def new_store(api, tokens_, **extra):
    body = dict(STORE_A, store_id="sh-c", **extra)
    return api.call("POST", "/admin/stores", body, tokens_["hq"])


def test_printers_are_set_on_create_and_shown_to_the_back_office_only(api, tokens_, aws):
    status, body = new_store(
        api, tokens_, printers=[FRONT, dict(FRESH, copies=["delivery", "picking"])]
    )
    assert status == 201, body
    assert body["printers"] == [FRONT, dict(FRESH, copies=["picking", "delivery"])]
    stored = StoreModel.get("sh-c").printers
    assert [(p.name, int(p.paper_mm), p.copies) for p in stored] == [
        ("前台打印机", 80, ["picking", "delivery"]),
        ("生鲜区", 58, ["picking", "delivery"]),
    ]
    status, listing = api.call("GET", "/admin/stores", token=tokens_["hq"])
    assert status == 200 and listing["items"][0]["printers"] == body["printers"]

    status, public = api.call("GET", "/stores/sh-c")
    assert status == 200 and "printers" not in public
    status, nearby = api.call("GET", "/stores/nearby?lat=31.2250&lng=121.4500")
    assert nearby["items"] and all("printers" not in s for s in nearby["items"])


def test_a_store_without_printers_has_an_empty_list(api, tokens_, stores):
    _, listing = api.call("GET", "/admin/stores", token=tokens_["hq"])
    assert [s["printers"] for s in listing["items"]] == [[], []]
    _, mine = api.call("GET", "/admin/stores", token=tokens_["staff_a"])
    assert [(s["store_id"], s["printers"]) for s in mine["items"]] == [("sh-a", [])]


def test_the_manager_replaces_the_printers_of_their_own_store(api, tokens_, stores):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"printers": [FRONT, FRESH]}, tokens_["manager_a"]
    )
    assert status == 200 and body["printers"] == [FRONT, FRESH]
    status, body = api.call(
        "PATCH",
        "/admin/stores/sh-a",
        {"printers": [{"name": "front", "paper_mm": 80, "copies": ["delivery"]}]},
        tokens_["hq"],
    )
    assert status == 200
    assert body["printers"] == [
        {"name": "front", "paper_mm": 80, "copies": ["delivery"], "connection": None}
    ]
    status, body = api.call("PATCH", "/admin/stores/sh-a", {"minimum_order_fen": 1}, tokens_["hq"])
    assert len(body["printers"]) == 1  # left out: unchanged
    status, body = api.call("PATCH", "/admin/stores/sh-a", {"printers": []}, tokens_["hq"])
    assert status == 200 and body["printers"] == [] and StoreModel.get("sh-a").printers == []


def test_printers_of_another_store_are_refused(api, tokens_, stores):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"printers": [FRONT]}, tokens_["manager_b"]
    )
    assert status == 403 and body["error"]["code"] == "other_store"
    for who in ("staff_a", "customer", "relay_a"):
        status, body = api.call("PATCH", "/admin/stores/sh-a", {"printers": [FRONT]}, tokens_[who])
        assert status == 403 and body["error"]["code"] == "role_not_allowed"
    status, body = api.call(
        "POST", "/admin/stores", dict(STORE_A, store_id="sh-c"), tokens_["manager_a"]
    )
    assert status == 403
    assert StoreModel.get("sh-a").printers == []


def test_duplicate_printer_names_are_refused_naming_the_duplicate(api, tokens_, stores):
    body = {"printers": [FRONT, FRESH, dict(FRESH, name="前台打印机", copies=["delivery"])]}
    status, err = api.call("PATCH", "/admin/stores/sh-a", body, tokens_["hq"])
    assert status == 422
    (detail,) = err["error"]["details"]
    assert detail["field"] == "printers[2].name"
    assert "前台打印机" in detail["reason"] and "printers[0]" in detail["reason"]
    assert StoreModel.get("sh-a").printers == []
    status, err = new_store(api, tokens_, printers=[FRONT, dict(FRONT, name=" 前台打印机 ")])
    assert status == 422 and err["error"]["details"][0]["field"] == "printers[1].name"
    assert api.call("GET", "/stores/sh-c")[0] == 404  # nothing written


def test_bad_printers_are_refused_field_by_field(api, tokens_, stores):
    cases = [
        ([dict(FRONT, name=f"p{i}") for i in range(5)], "printers"),
        ([dict(FRONT, paper_mm=57)], "printers[0].paper_mm"),
        ([dict(FRONT, copies=[])], "printers[0].copies"),
        ([dict(FRONT, copies=["slip"])], "printers[0].copies[0]"),
        ([dict(FRONT, copies=["picking", "picking"])], "printers[0].copies"),
        ([dict(FRONT, name="")], "printers[0].name"),
        ([dict(FRONT, name="   ")], "printers[0].name"),
        ([dict(FRONT, name="x" * 41)], "printers[0].name"),
        ([dict(FRONT, connection="x" * 101)], "printers[0].connection"),
        ([dict(FRONT, port=9100)], "printers[0]"),  # reason: unknown field `port`
        ([{"name": "front", "paper_mm": 80}], "printers[0]"),  # reason: missing `copies`
    ]
    for printers, field in cases:
        status, err = api.call("PATCH", "/admin/stores/sh-a", {"printers": printers}, tokens_["hq"])
        assert status == 422, (printers, err)
        assert field in [d["field"] for d in err["error"]["details"]], (field, err)
    assert StoreModel.get("sh-a").printers == []
    status, body = api.call(
        "PATCH",
        "/admin/stores/sh-a",
        {"printers": [dict(FRONT, name=f"p{i}", connection="x" * 100) for i in range(4)]},
        tokens_["hq"],
    )
    assert status == 200 and len(body["printers"]) == 4
