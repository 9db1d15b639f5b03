"""Promotions in the API: head office creates, lists, reads and ends tiered discounts,
second-half-price promotions and flash sales; the storefront sees what is on at a store;
every other role is refused; bad input is a 422 naming the field, with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from chalicelib.kernel import clock
from chalicelib.kernel.errors import ApiError
from chalicelib.promotions import service
from chalicelib.promotions.models import FlashShardModel, PromotionModel
from chalicelib.promotions.repo import release, remaining, reserve

from tests.publishing import create_promotion


def at(hours: float) -> str:
    return clock.iso(clock.now() + timedelta(hours=hours))


def tiered(**over):
    return {
        "kind": "tiered",
        "name": "满99减10 满199减30",
        "starts_at": at(-1),
        "ends_at": at(24),
        "tiers": [
            {"threshold_fen": 9900, "off_fen": 1000},
            {"threshold_fen": 19900, "off_fen": 3000},
        ],
        "scope": {"categories": ["水果"], "skus": []},
        **over,
    }


def flash(**over):
    return {
        "kind": "flash_sale",
        "name": "草莓秒杀",
        "stores": ["sh-a"],
        "starts_at": at(-1),
        "ends_at": at(2),
        "sku": "100",
        "flash_price_fen": 990,
        "quantity": 10,
        "per_customer_limit": 2,
        "shards": 3,
        **over,
    }


@pytest.fixture(autouse=True)
def no_cache():
    service.forget_active_cache()
    yield
    service.forget_active_cache()


def create(api, tokens_, body):
    return create_promotion(api, body, token=tokens_["hq"])


def test_head_office_creates_a_tiered_promotion(api, tokens_, catalogue):
    status, p = create(api, tokens_, tiered(budget_fen=100000))
    assert status == 201, p
    assert p["kind"] == "tiered" and p["status"] == "active" and p["live"] is True
    assert p["tiers"] == tiered()["tiers"]
    assert p["scope"] == {"categories": ["水果"], "skus": []}
    assert (p["budget_fen"], p["spent_fen"]) == (100000, 0)
    assert p["sku"] is None and p["remaining"] is None and p["sold"] is None
    assert p["created_by"] == "hq-admin"
    assert PromotionModel.get(p["promotion_id"]).budget_left_fen == 100000


def test_a_flash_sale_splits_its_quantity_evenly_over_its_shards(api, tokens_, catalogue):
    status, p = create(api, tokens_, flash())
    assert status == 201, p
    assert (p["quantity"], p["shards"], p["remaining"], p["sold"]) == (10, 3, 10, 0)
    shards = [FlashShardModel.get(f"{p['promotion_id']}#{k}") for k in range(3)]
    assert [int(s.remaining) for s in shards] == [4, 3, 3]
    assert all(s.ends_at == p["ends_at"] and s.open == 1 for s in shards)


def test_the_shard_count_follows_the_expected_peak(api, tokens_, catalogue):
    body = flash(quantity=100_000, expected_peak_per_s=5000)
    del body["shards"]
    assert create(api, tokens_, body)[1]["shards"] == 20  # 5,000/s at 250 per shard
    body = flash(quantity=3, expected_peak_per_s=5000)
    del body["shards"]
    assert create(api, tokens_, body)[1]["shards"] == 3  # never more shards than units
    body = flash()
    del body["shards"]
    assert create(api, tokens_, body)[1]["shards"] == 1
    assert service.shards_for(10**6, 10**6) == 50


def test_times_with_an_offset_are_stored_in_utc(api, tokens_, catalogue):
    status, p = create(
        api,
        tokens_,
        tiered(starts_at="2026-11-25T08:00:00+08:00", ends_at="2026-11-26T08:00:00+08:00"),
    )
    assert status == 201
    assert (p["starts_at"], p["ends_at"]) == ("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")


def test_a_retried_create_with_its_id_is_a_replay(api, tokens_, catalogue):
    body = flash(promotion_id="flash-1")
    first = create(api, tokens_, body)
    again = create(api, tokens_, body)
    assert first[0] == 201 and again[0] == 201
    assert again[1]["promotion_id"] == "flash-1" and again[1]["remaining"] == 10
    assert PromotionModel.count() == 1 and FlashShardModel.count() == 3
    status, err = create(api, tokens_, flash(promotion_id="flash-1", quantity=20))
    assert (status, err["error"]["code"]) == (409, "promotion_exists")
    assert remaining("flash-1") == 10


BAD = [
    (tiered(tiers=[]), "tiers"),
    (tiered(tiers=[{"threshold_fen": 1000, "off_fen": 1000}]), "tiers[0].off_fen"),
    (
        tiered(
            tiers=[
                {"threshold_fen": 9900, "off_fen": 1000},
                {"threshold_fen": 9900, "off_fen": 2000},
            ]
        ),
        "tiers[1].threshold_fen",
    ),
    (tiered(ends_at=at(-2)), "ends_at"),
    (tiered(starts_at="2026-11-25T08:00:00"), "starts_at"),
    (tiered(starts_at="tomorrow"), "starts_at"),
    (tiered(sku="100"), "sku"),
    (tiered(stores=["nowhere"]), "stores"),
    (tiered(stores=["sh-a", "sh-a"]), "stores"),
    (flash(sku=None), "sku"),
    (flash(sku="999999"), "sku"),
    (flash(flash_price_fen=0), "flash_price_fen"),
    (flash(quantity=0), "quantity"),
    (flash(quantity=1_000_001), "quantity"),
    (flash(per_customer_limit=0), "per_customer_limit"),
    (flash(shards=51), "shards"),
    (flash(quantity=2, shards=3), "shards"),
    (flash(expected_peak_per_s=1000), "shards"),
    (flash(tiers=[{"threshold_fen": 100, "off_fen": 10}]), "tiers"),
    ({**tiered(), "kind": "bogus"}, "kind"),
    ({**tiered(), "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_promotions_are_422_naming_the_field_and_write_nothing(
    api, tokens_, catalogue, body, field
):
    status, err = create(api, tokens_, body)
    assert status == 422, err
    details = err["error"]["details"]
    fields = [d["field"] for d in details] if isinstance(details, list) else [str(details)]
    assert any(field in f for f in fields), fields
    assert PromotionModel.count() == 0 and FlashShardModel.count() == 0


def test_only_head_office_manages_promotions(api, tokens_, catalogue):
    _, p = create(api, tokens_, flash())
    pid = p["promotion_id"]
    calls = [
        ("POST", "/admin/promotions", flash()),
        ("GET", "/admin/promotions", None),
        ("GET", f"/admin/promotions/{pid}", None),
        ("PATCH", f"/admin/promotions/{pid}", {"status": "ended"}),
    ]
    for method, path, body in calls:
        for who in ("customer", "staff_a", "manager_a", "relay_a"):
            status, err = api.call(method, path, body, token=tokens_[who])
            assert (status, err["error"]["code"]) == (403, "role_not_allowed"), (who, path)
        assert api.call(method, path, body)[0] == 401
    assert PromotionModel.count() == 1
    assert PromotionModel.get(pid).status == "active"


def test_head_office_lists_by_status_and_reads_one(api, tokens_, catalogue):
    _, a = create(api, tokens_, tiered(ends_at=at(5)))
    _, b = create(api, tokens_, flash(ends_at=at(10)))
    _, c = create(api, tokens_, tiered(name="second", kind="second_half_price", tiers=None))
    api.call("PATCH", f"/admin/promotions/{a['promotion_id']}", {"status": "ended"}, tokens_["hq"])
    hq = tokens_["hq"]
    _, everything = api.call("GET", "/admin/promotions", token=hq)
    assert [p["promotion_id"] for p in everything["items"]] == [
        c["promotion_id"],
        b["promotion_id"],
        a["promotion_id"],
    ]
    _, active = api.call("GET", "/admin/promotions?status=active", token=hq)
    assert {p["promotion_id"] for p in active["items"]} == {b["promotion_id"], c["promotion_id"]}
    _, ended = api.call("GET", "/admin/promotions?status=ended", token=hq)
    assert [p["promotion_id"] for p in ended["items"]] == [a["promotion_id"]]
    status, err = api.call("GET", "/admin/promotions?status=paused", token=hq)
    assert status == 422
    reserve(b["promotion_id"], "c-1", 2)
    status, one = api.call("GET", f"/admin/promotions/{b['promotion_id']}", token=hq)
    assert status == 200 and (one["remaining"], one["sold"]) == (8, 2)
    status, err = api.call("GET", "/admin/promotions/nope", token=hq)
    assert (status, err["error"]["code"]) == (404, "promotion_not_found")


def test_ending_a_flash_sale_stops_purchases_at_once(api, tokens_, catalogue):
    _, p = create(api, tokens_, flash())
    pid = p["promotion_id"]
    reserve(pid, "c-1", 1)
    status, ended = api.call(
        "PATCH", f"/admin/promotions/{pid}", {"status": "ended", "name": "草莓"}, tokens_["hq"]
    )
    assert status == 200
    assert (ended["status"], ended["name"], ended["live"], ended["sold"]) == (
        "ended",
        "草莓",
        False,
        1,
    )
    assert all(FlashShardModel.get(f"{pid}#{k}").open == 0 for k in range(3))
    with pytest.raises(ApiError) as err:
        reserve(pid, "c-2", 1)
    assert err.value.code == "flash_sale_not_live"
    # Even a caller holding a stale view cannot buy: the shards refuse.
    from chalicelib.db.transactions import TransactionCancelled, transact
    from chalicelib.promotions.repo import reservation_items

    piece = reservation_items(pid, "c-2", 1, 0, per_customer_limit=2)
    with pytest.raises(TransactionCancelled) as failed:
        transact(piece.add_to)
    assert piece.failure(failed.value) == "shard_empty"
    assert remaining(pid) == 9
    again = api.call("PATCH", f"/admin/promotions/{pid}", {"status": "ended"}, tokens_["hq"])
    assert again[0] == 200 and again[1]["status"] == "ended"


def test_patch_errors(api, tokens_, catalogue):
    _, p = create(api, tokens_, tiered())
    hq = tokens_["hq"]
    path = f"/admin/promotions/{p['promotion_id']}"
    assert api.call("PATCH", path, {}, hq)[0] == 422
    assert api.call("PATCH", path, {"status": "active"}, hq)[0] == 422
    assert api.call("PATCH", path, {"name": ""}, hq)[0] == 422
    status, err = api.call("PATCH", "/admin/promotions/nope", {"status": "ended"}, hq)
    assert (status, err["error"]["code"]) == (404, "promotion_not_found")
    assert PromotionModel.get(p["promotion_id"]).status == "active"


def test_the_storefront_sees_what_is_on_now_at_its_store(api, tokens_, catalogue):
    _, everywhere = create(api, tokens_, tiered())
    _, at_a = create(api, tokens_, flash())
    create(api, tokens_, tiered(name="later", starts_at=at(3), ends_at=at(5)))
    create(api, tokens_, flash(stores=["sh-b"]))
    _, gone = create(api, tokens_, tiered(name="gone"))
    api.call(
        "PATCH", f"/admin/promotions/{gone['promotion_id']}", {"status": "ended"}, tokens_["hq"]
    )
    reserve(at_a["promotion_id"], "c-1", 2)

    status, body = api.call("GET", "/stores/sh-a/promotions")  # public: no token
    assert status == 200
    assert body["store_id"] == "sh-a"
    by_id = {p["promotion_id"]: p for p in body["items"]}
    assert set(by_id) == {everywhere["promotion_id"], at_a["promotion_id"]}
    sale = by_id[at_a["promotion_id"]]
    assert (sale["sku"], sale["flash_price_fen"], sale["remaining"], sale["sold_out"]) == (
        "100",
        990,
        8,
        False,
    )
    assert by_id[everywhere["promotion_id"]]["tiers"][1] == {
        "threshold_fen": 19900,
        "off_fen": 3000,
    }
    _, at_b = api.call("GET", "/stores/sh-b/promotions")
    assert {p["kind"] for p in at_b["items"]} == {"tiered", "flash_sale"}
    assert at_a["promotion_id"] not in {p["promotion_id"] for p in at_b["items"]}
    status, err = api.call("GET", "/stores/nowhere/promotions")
    assert (status, err["error"]["code"]) == (404, "store_not_found")


def test_a_sold_out_flash_sale_shows_as_sold_out(api, tokens_, catalogue):
    _, p = create(api, tokens_, flash(quantity=2, shards=2, per_customer_limit=1))
    reserve(p["promotion_id"], "c-1", 1)
    reserve(p["promotion_id"], "c-2", 1)
    with pytest.raises(ApiError) as err:
        reserve(p["promotion_id"], "c-3", 1)
    assert err.value.code == "flash_sale_sold_out"
    _, body = api.call("GET", "/stores/sh-a/promotions")
    assert body["items"][0]["remaining"] == 0 and body["items"][0]["sold_out"] is True


def test_active_for_gives_the_pricing_step_what_it_needs_in_one_query(
    api, tokens_, catalogue, monkeypatch
):
    _, t = create(api, tokens_, tiered(budget_fen=50000))
    _, h = create(api, tokens_, tiered(kind="second_half_price", tiers=None, name="第二件半价"))
    _, f1 = create(api, tokens_, flash())
    _, f2 = create(api, tokens_, flash(flash_price_fen=890, stores=[]))
    service.forget_active_cache()
    calls = []
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def recording(self, op, params):
        calls.append(op)
        return original(self, op, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    got = service.active_for("sh-a")
    assert calls == ["Query"]
    assert [x.promotion_id for x in got.tiered] == [t["promotion_id"]]
    assert got.tiered[0].tiers == ((9900, 1000), (19900, 3000))
    assert got.tiered[0].categories == frozenset({"水果"})
    assert got.tiered[0].budget_left_fen == 50000
    assert [x.promotion_id for x in got.second_half] == [h["promotion_id"]]
    assert got.flash["100"].promotion_id == f2["promotion_id"]  # the lower price wins
    assert (got.flash["100"].flash_price_fen, got.flash["100"].shards) == (890, 3)
    service.active_for("sh-b")
    assert calls == ["Query"]  # cached in the container for a few seconds
    later = service.active_for("sh-a", clock.now() + timedelta(hours=3))
    assert later.flash == {} and len(later.tiered) == 1  # both flash sales are over by then
    assert f1["promotion_id"]


def test_release_puts_units_back_on_their_shard(api, tokens_, catalogue):
    _, p = create(api, tokens_, flash(quantity=2, shards=1, per_customer_limit=2))
    pid = p["promotion_id"]
    shard = reserve(pid, "c-1", 2)
    with pytest.raises(ApiError) as err:
        reserve(pid, "c-1", 1)
    assert err.value.code in {"flash_sale_limit_reached", "flash_sale_sold_out"}
    release(pid, "c-1", 2, shard)
    assert remaining(pid) == 2
    assert reserve(pid, "c-1", 2) == 0
