"""POST /storefront/events and GET /admin/traffic: validation, counters exact, replays
counted once (also concurrently), distinct visitors across batches, devices and
campaigns, expired markers."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import msgspec
import pytest

DEVICE = "dev-0123456789abcdef"
OTHER_DEVICE = "dev-fedcba9876543210"


@pytest.fixture(autouse=True)
def _cold_caches():
    from chalicelib.traffic import ingest

    ingest.forget_caches()
    yield
    ingest.forget_caches()


def at(seconds: float = 0.0) -> str:
    from chalicelib.kernel import clock

    return clock.iso(clock.now() + timedelta(seconds=seconds))


def ev(type_: str, store_id: str = "sh-a", seconds: float = 0.0, **extra) -> dict:
    return {"type": type_, "store_id": store_id, "at": at(seconds), **extra}


def batch(events: list[dict], device: str = DEVICE, batch_id: str | None = None) -> dict:
    return {"batch_id": batch_id or str(uuid.uuid4()), "device_id": device, "events": events}


def today() -> str:
    from chalicelib.kernel import clock
    from chalicelib.traffic.rules import local_day

    return local_day(clock.now(), "Asia/Shanghai")


def day_counts(store_id: str = "sh-a", campaign_id: str | None = None):
    from chalicelib.traffic.read import counts

    d = today()
    return counts([store_id], d, d, campaign_id).get((store_id, d))


def post(api, body: dict, content_type: str = "application/json"):
    return api.call("POST", "/storefront/events", body, headers={"Content-Type": content_type})


VISIT = ["visit_store", "view_product", "view_product", "add_to_cart", "start_checkout"]


def test_a_batch_is_counted_per_store_day(api, stores):
    status, body = post(api, batch([ev(t, sku="100") for t in VISIT]))
    assert status == 202, body
    assert body["accepted"] == 5 and body["rejected"] == 0 and body["duplicate"] is False
    c = day_counts()
    assert (c.visits, c.visitors, c.product_views, c.carts, c.cart_visitors) == (1, 1, 2, 1, 1)
    assert (c.checkouts, c.checkout_visitors) == (1, 1)
    assert day_counts("sh-b") is None


def test_a_replayed_batch_counts_nothing_and_says_duplicate(api, stores):
    b = batch([ev("visit_store"), ev("view_product", sku="100")])
    assert post(api, b)[0] == 202
    status, again = post(api, b)
    assert status == 202 and again["duplicate"] is True
    assert again["accepted"] == 2  # what the first delivery counted
    c = day_counts()
    assert (c.visits, c.visitors, c.product_views) == (1, 1, 1)


def test_a_batch_id_reused_for_other_events_is_refused(api, stores):
    b = batch([ev("visit_store")])
    assert post(api, b)[0] == 202
    other = dict(b, events=[ev("view_product", sku="101")])
    status, body = post(api, other)
    assert status == 409 and body["error"]["code"] == "batch_id_reused"
    assert day_counts().product_views == 0


def test_the_same_batch_sent_ten_times_at_once_is_counted_once(aws, stores):
    from chalicelib.traffic import ingest, schemas

    b = msgspec.convert(
        batch([ev("visit_store"), ev("add_to_cart", sku="100"), ev("view_product")]),
        schemas.EventBatch,
    )
    barrier = threading.Barrier(10)
    answers: list[bool] = []
    errors: list[BaseException] = []

    def send() -> None:
        barrier.wait()
        try:
            answers.append(ingest.ingest(b).duplicate)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(answers) == [False] + [True] * 9
    c = day_counts()
    assert (c.visits, c.visitors, c.carts, c.cart_visitors, c.product_views) == (1, 1, 1, 1, 1)


def test_one_devices_batches_racing_add_it_as_a_visitor_once(aws, stores):
    """Different batches of one device at once: the day marker's version condition makes
    the losers re-read and re-plan, so the distinct counters stay exact."""
    from chalicelib.traffic import ingest, schemas

    batches = [
        msgspec.convert(batch([ev("visit_store"), ev("add_to_cart", sku="1")]), schemas.EventBatch)
        for _ in range(8)
    ]
    barrier = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def send(b) -> None:
        barrier.wait()
        try:
            assert ingest.ingest(b).accepted == 2
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    c = day_counts()
    assert (c.visits, c.visitors, c.carts, c.cart_visitors) == (8, 1, 8, 1)


def test_distinct_visitors_across_batches_devices_and_campaigns(api, stores):
    from chalicelib.campaign_budgets.models import CampaignModel

    for cid in ("cmp-a", "cmp-b"):
        CampaignModel(
            cid,
            name=cid,
            grade="A",
            starts_at=at(-3600),
            ends_at=at(3600),
            starts_key=f"{at(-3600)}#{cid}",
            created_by="hq-admin",
            created_at=at(),
            updated_at=at(),
        ).save()
    # One device: a plain visit, then from campaign A, then from campaign B, in 3 batches.
    for campaign in (None, "cmp-a", "cmp-b"):
        extra = {"campaign_id": campaign} if campaign else {}
        assert post(api, batch([ev("visit_store", **extra)]))[0] == 202
    # Another device from campaign A, twice.
    for _ in range(2):
        assert post(api, batch([ev("visit_store", campaign_id="cmp-a")], OTHER_DEVICE))[0] == 202
    total = day_counts()
    assert (total.visits, total.visitors) == (5, 2)  # not 1 + 2 + 1
    assert (day_counts(campaign_id="cmp-a").visits, day_counts(campaign_id="cmp-a").visitors) == (
        3,
        2,
    )
    assert day_counts(campaign_id="cmp-b").visitors == 1
    assert day_counts(campaign_id="-").visitors == 1  # the visit naming no campaign


def test_unknown_campaigns_count_under_none(api, stores):
    status, body = post(api, batch([ev("visit_store", campaign_id="cmp-nope")]))
    assert status == 202 and body["uncampaigned"] == 1 and body["accepted"] == 1
    assert day_counts(campaign_id="cmp-nope") is None
    assert day_counts(campaign_id="-").visitors == 1


def test_stale_future_and_unknown_store_events_are_dropped_and_listed(api, stores):
    events = [
        ev("visit_store"),
        ev("view_product", seconds=-2 * 86400),
        ev("view_product", seconds=3600),
        ev("view_product", store_id="zz-no-such-store"),
    ]
    status, body = post(api, batch(events))
    assert status == 202 and body["accepted"] == 1 and body["rejected"] == 3
    assert body["rejections"] == [
        {"index": 1, "reason": "too_old"},
        {"index": 2, "reason": "in_the_future"},
        {"index": 3, "reason": "unknown_store"},
    ]
    c = day_counts()
    assert (c.visits, c.product_views) == (1, 0)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"device_id": "short"}, "device_id"),
        ({"device_id": "bad device id with spaces"}, "device_id"),
        ({"batch_id": "x"}, "batch_id"),
        ({"events": []}, "events"),
        ({"events": [ev("view_product")] * 51}, "events"),
        ({"events": [ev("teleport")]}, "events[0].type"),
        ({"events": [dict(ev("visit_store"), at="2026-12-05 10:00:00")]}, "events[0].at"),
        ({"events": [dict(ev("visit_store"), at="yesterday")]}, "events[0].at"),
        ({"events": [dict(ev("visit_store"), store_id="SH A")]}, "events[0].store_id"),
        ({"events": [dict(ev("visit_store"), price=1)]}, "events[0]"),
    ],
)
def test_malformed_batches_get_422_and_count_nothing(api, stores, change, field):
    status, body = post(api, dict(batch([ev("visit_store")]), **change))
    assert status == 422, body
    assert field in str(body["error"]["details"]) or field in body["error"]["message"]
    assert day_counts() is None


def test_text_plain_is_taken_as_json_for_send_beacon(api, stores):
    status, body = post(api, batch([ev("visit_store")]), content_type="text/plain;charset=UTF-8")
    assert status == 202 and body["accepted"] == 1
    status, body = post(api, batch([ev("visit_store")]), content_type="application/xml")
    assert status == 415


def test_a_batch_spread_over_too_many_stores_is_refused(api, aws):
    from chalicelib.stores.schemas import StoreCreate
    from chalicelib.stores.service import create_store

    from tests.api.conftest import STORE_A

    ids = [f"sp-{i:02d}" for i in range(34)]
    for i in ids:
        create_store(msgspec.convert(dict(STORE_A, store_id=i), StoreCreate))
    status, body = post(api, batch([ev("visit_store", store_id=i) for i in ids]))
    assert status == 422 and body["error"]["code"] == "batch_too_spread"
    assert day_counts(ids[0]) is None


def test_an_expired_day_marker_does_not_hide_a_new_visitor(api, stores):
    """TTL deletes markers late (never, under moto): a marker past ``expires_at`` holds no
    flags, and is replaced under its version condition."""
    from chalicelib.kernel import clock
    from chalicelib.traffic import rules
    from chalicelib.traffic.models import TrafficMarkerModel

    key = rules.day_key(DEVICE, "sh-a", today())
    TrafficMarkerModel(
        key, flags={"v|*", "v|-"}, version=3, expires_at=clock.now() - timedelta(hours=1)
    ).save()
    assert post(api, batch([ev("visit_store")]))[0] == 202
    assert day_counts().visitors == 1
    marker = TrafficMarkerModel.get(key)
    assert marker.version == 4 and marker.expires_at > clock.now()


def test_an_expired_batch_marker_lets_a_reused_id_count(api, stores):
    from chalicelib.kernel import clock
    from chalicelib.traffic import rules
    from chalicelib.traffic.models import TrafficMarkerModel

    b = batch([ev("visit_store")])
    TrafficMarkerModel(
        rules.batch_key(DEVICE, b["batch_id"]),
        accepted=1,
        rejected=0,
        digest="old",
        expires_at=clock.now() - timedelta(seconds=1),
    ).save()
    status, body = post(api, b)
    assert status == 202 and body["duplicate"] is False
    assert day_counts().visits == 1


def test_a_batch_reads_nothing_once_the_caches_are_warm(api, stores, aws_calls):
    """Views only: one TransactWriteItems and no read; a visit adds one BatchGet of the
    device's day markers."""
    post(api, batch([ev("visit_store")]))
    aws_calls.clear()
    post(api, batch([ev("view_product", sku="100")] * 5))
    assert aws_calls == ["TransactWriteItems"]
    aws_calls.clear()
    post(api, batch([ev("add_to_cart", sku="100")]))
    assert aws_calls == ["BatchGetItem", "TransactWriteItems"]


# --- GET /admin/traffic -------------------------------------------------------------


def test_admin_traffic_per_day(api, stores, tokens_):
    post(api, batch([ev("visit_store"), ev("view_product", sku="100")]))
    post(api, batch([ev("visit_store", store_id="sh-b")], OTHER_DEVICE))
    d = today()
    path = f"/admin/traffic?store_id=sh-a&from={d}&to={d}"
    status, body = api.call("GET", path, None, tokens_["hq"])
    assert status == 200, body
    assert body["days"] == [dict(body["total"], day=d)]
    assert (body["total"]["visits"], body["total"]["visitors"], body["total"]["product_views"]) == (
        1,
        1,
        1,
    )
    status, chain = api.call("GET", "/admin/traffic", None, tokens_["hq"])
    assert status == 200 and len(chain["days"]) == 7 and chain["store_id"] is None
    assert chain["total"]["visitors"] == 2


def test_a_store_manager_sees_their_own_store_only(api, stores, tokens_):
    post(api, batch([ev("visit_store")]))
    status, body = api.call("GET", "/admin/traffic", None, tokens_["manager_a"])
    assert status == 200 and body["store_id"] == "sh-a" and body["total"]["visits"] == 1
    status, body = api.call("GET", "/admin/traffic?store_id=sh-b", None, tokens_["manager_a"])
    assert status == 403 and body["error"]["code"] == "other_store"
    status, body = api.call("GET", "/admin/traffic", None, tokens_["staff_a"])
    assert status == 403 and body["error"]["code"] == "role_not_allowed"


def test_admin_traffic_refuses_a_bad_window(api, stores, tokens_):
    status, body = api.call(
        "GET", "/admin/traffic?from=2026-12-05&to=2026-12-01", None, tokens_["hq"]
    )
    assert status == 422 and body["error"]["code"] == "bad_window"
    status, body = api.call(
        "GET", "/admin/traffic?from=2026-01-01&to=2026-12-01", None, tokens_["hq"]
    )
    assert status == 422 and body["error"]["code"] == "bad_window"


def test_counts_reads_a_window_of_days_per_store_and_campaign(aws):
    """read.counts (the review calls it): days inclusive, the campaign's rows only when
    named, and without one the event counters of every campaign row plus the distinct
    counters of the all-campaigns row."""
    from chalicelib.traffic.models import TrafficDayModel
    from chalicelib.traffic.read import counts

    rows = [
        ("s1", "2026-12-01#-", {"visits": 1, "visitors": 1}),  # before the window
        ("s1", "2026-12-02#-", {"visits": 2, "visitors": 2, "product_views": 5}),
        ("s1", "2026-12-02#cmp", {"visits": 3, "visitors": 2, "carts": 1, "cart_visitors": 1}),
        ("s1", "2026-12-02#*", {"visitors": 3, "cart_visitors": 1}),
        ("s1", "2026-12-03#cmp", {"visits": 1, "visitors": 1}),
        ("s1", "2026-12-03#*", {"visitors": 1}),
        ("s2", "2026-12-03#-", {"checkouts": 1, "checkout_visitors": 1}),
        ("s2", "2026-12-03#*", {"checkout_visitors": 1}),
        ("s2", "2026-12-04#-", {"visits": 9}),  # after the window
    ]
    for store, dc, values in rows:
        TrafficDayModel(store, dc, **values).save()
    got = counts(["s1", "s2"], "2026-12-02", "2026-12-03")
    assert sorted(got) == [("s1", "2026-12-02"), ("s1", "2026-12-03"), ("s2", "2026-12-03")]
    d2 = got[("s1", "2026-12-02")]
    assert (d2.visits, d2.visitors, d2.product_views, d2.carts, d2.cart_visitors) == (5, 3, 5, 1, 1)
    assert got[("s2", "2026-12-03")].checkout_visitors == 1
    camp = counts(["s1", "s2"], "2026-12-02", "2026-12-03", "cmp")
    assert sorted(camp) == [("s1", "2026-12-02"), ("s1", "2026-12-03")]
    assert (camp[("s1", "2026-12-02")].visits, camp[("s1", "2026-12-02")].visitors) == (3, 2)
