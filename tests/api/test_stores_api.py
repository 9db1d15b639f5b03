from chalicelib.stores.models import StoreModel

from .conftest import STORE_A


def test_head_office_creates_a_store_and_anyone_can_read_it(api, tokens_):
    status, body = api.call("POST", "/admin/stores", STORE_A, tokens_["hq"])
    assert status == 201
    assert (
        body["store_id"] == "sh-a"
        and body["timezone"] == "Asia/Shanghai"
        and body["open_now"] is True
    )
    status, body = api.call("GET", "/stores/sh-a")
    assert status == 200 and body["delivery_fee"] == {"base_fee_fen": 500, "free_above_fen": 5900}


def test_creating_a_store_twice_is_a_conflict(api, tokens_, stores):
    status, body = api.call("POST", "/admin/stores", STORE_A, tokens_["hq"])
    assert status == 409 and body["error"]["code"] == "store_exists"


def test_invalid_store_is_refused_and_nothing_is_written(api, tokens_, aws):
    bad = dict(
        STORE_A,
        lat=123.0,
        minimum_order_fen=-100,
        timezone="Mars/Olympus",
        hours=[{"day": 0, "open": "09:00", "close": "09:00"}],
    )
    status, body = api.call("POST", "/admin/stores", bad, tokens_["hq"])
    assert status == 422
    assert {d["field"] for d in body["error"]["details"]} == {"lat", "minimum_order_fen"}
    # The schema-valid but rule-breaking values are reported too, once the schema passes.
    status, body = api.call(
        "POST", "/admin/stores", dict(bad, lat=31.2, minimum_order_fen=0), tokens_["hq"]
    )
    assert status == 422
    assert {d["field"] for d in body["error"]["details"]} == {"timezone", "hours[0]"}
    assert StoreModel.count() == 0


def test_unknown_store_is_404(api):
    status, body = api.call("GET", "/stores/nope")
    assert status == 404 and body["error"]["code"] == "store_not_found"


def test_nearby_finds_covering_stores_nearest_first(api, stores):
    # Near sh-a; sh-b (4 km radius) is 5 km away.
    status, body = api.call("GET", "/stores/nearby?lat=31.2250&lng=121.4500")
    assert status == 200
    assert [s["store_id"] for s in body["items"]] == ["sh-a"]
    assert 0 < body["items"][0]["distance_m"] < 500
    # Between the two, 2.5 km from sh-a and 2.95 km from sh-b: both, nearest first.
    status, body = api.call("GET", "/stores/nearby?lat=31.2310&lng=121.4706")
    assert [s["store_id"] for s in body["items"]] == ["sh-a", "sh-b"]
    # Far away (Hangzhou): none.
    status, body = api.call("GET", "/stores/nearby?lat=30.2741&lng=120.1551")
    assert body["items"] == []


def test_nearby_validates_coordinates(api):
    status, body = api.call("GET", "/stores/nearby?lat=91&lng=121.4")
    assert status == 422 and body["error"]["details"][0]["field"] == "lat"
    status, body = api.call("GET", "/stores/nearby?lng=121.4")
    assert status == 422 and body["error"]["details"] == [{"field": "lat", "reason": "required"}]


def test_closed_store_reports_next_opening_and_can_be_filtered(api, tokens_, stores, monkeypatch):
    from datetime import UTC, datetime

    from chalicelib.kernel import clock

    monkeypatch.setattr(
        clock, "now", lambda: datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    )  # 20:00 local
    never_now = [{"day": d, "open": "03:00", "close": "03:01"} for d in range(7)]
    status, _ = api.call("PATCH", "/admin/stores/sh-a", {"hours": never_now}, tokens_["hq"])
    assert status == 200
    _, body = api.call("GET", "/stores/nearby?lat=31.2250&lng=121.4500")
    store = body["items"][0]
    assert store["open_now"] is False
    assert store["next_open_at"] == "2026-11-24T19:00:00Z"  # 03:00 on the 25th in Shanghai
    _, body = api.call("GET", "/stores/nearby?lat=31.2250&lng=121.4500&include_closed=false")
    assert body["items"] == []


def test_inactive_stores_drop_out_of_the_search(api, tokens_, stores):
    status, body = api.call("PATCH", "/admin/stores/sh-a", {"active": False}, tokens_["hq"])
    assert status == 200 and body["active"] is False
    _, body = api.call("GET", "/stores/nearby?lat=31.2250&lng=121.4500")
    assert body["items"] == []
    assert StoreModel.get("sh-a").geo_cell is None


def test_moving_a_store_moves_it_in_the_search(api, tokens_, stores):
    status, _ = api.call(
        "PATCH", "/admin/stores/sh-a", {"lat": 30.2741, "lng": 120.1551}, tokens_["hq"]
    )
    assert status == 200
    _, body = api.call("GET", "/stores/nearby?lat=30.2745&lng=120.1555")
    assert [s["store_id"] for s in body["items"]] == ["sh-a"]


def test_manager_edits_own_store_hours_and_fees_only(api, tokens_, stores):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a", {"minimum_order_fen": 2500}, tokens_["manager_a"]
    )
    assert status == 200 and body["minimum_order_fen"] == 2500
    status, body = api.call("PATCH", "/admin/stores/sh-a", {"radius_m": 9000}, tokens_["manager_a"])
    assert status == 403 and body["error"]["code"] == "field_not_allowed"
    status, body = api.call(
        "PATCH", "/admin/stores/sh-b", {"minimum_order_fen": 1}, tokens_["manager_a"]
    )
    assert status == 403 and body["error"]["code"] == "other_store"
    assert StoreModel.get("sh-b").minimum_order_fen == 2000
    assert StoreModel.get("sh-a").radius_m == 3000


def test_head_office_lists_all_stores_staff_see_their_own(api, tokens_, stores):
    _, body = api.call("GET", "/admin/stores", token=tokens_["hq"])
    assert [s["store_id"] for s in body["items"]] == ["sh-a", "sh-b"]
    _, body = api.call("GET", "/admin/stores", token=tokens_["staff_a"])
    assert [s["store_id"] for s in body["items"]] == ["sh-a"]


def test_an_edit_based_on_a_stale_read_is_a_conflict(stores, monkeypatch):
    """Two editors read the store; the second save must not silently undo the first."""
    import pytest
    from chalicelib.auth.principal import Principal
    from chalicelib.kernel.errors import Conflict
    from chalicelib.stores import service
    from chalicelib.stores.schemas import StoreUpdate

    stale = StoreModel.get("sh-a")
    hq = Principal("hq", "hq_admin")
    service.update_store("sh-a", StoreUpdate(minimum_order_fen=1), hq)
    monkeypatch.setattr(service, "get_store_model", lambda store_id: stale)
    with pytest.raises(Conflict) as info:
        service.update_store("sh-a", StoreUpdate(radius_m=4000), hq)
    assert info.value.code == "edit_conflict"
    fresh = StoreModel.get("sh-a")
    assert (fresh.minimum_order_fen, fresh.radius_m) == (1, 3000)
