"""Store TOP tiers (store_tiers/service.py): the uptime sampler counts a 5-minute slot
once however often it runs (a replay, or doubled runs at once against a moto server), only
inside business hours, up only with a healthy relay; the monthly scoring run twice leaves
one result per store; campaigns' stores_in_tiers reads last month's tiers."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from chalicelib.kernel import clock
from chalicelib.printing import relay_schemas as ps
from chalicelib.reports.models import ReportDayModel
from chalicelib.store_tiers import service
from chalicelib.store_tiers.models import StoreMonthModel, StoreTierMonthModel
from chalicelib.stores.models import StoreModel
from chalicelib.stores.schemas import StoreCreate
from chalicelib.stores.service import create_store

from tests.api.conftest import STORE_A, STORE_B

NOW = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, a Tuesday
MORNING = [{"day": d, "open": "07:00", "close": "09:00"} for d in range(7)]


def _stores() -> None:
    create_store(msgspec.convert(STORE_A, StoreCreate))  # open 24 h
    create_store(msgspec.convert(dict(STORE_B, hours=MORNING), StoreCreate))  # closed at noon


@pytest.fixture
def shop(aws, monkeypatch):
    _stores()
    monkeypatch.setattr(clock, "now", lambda: NOW)


def _healthy(ids: set[str], monkeypatch) -> None:
    def health(stores, now=None):
        return [
            ps.StoreHealth(
                store_id=st.store_id,
                store_name=st.name,
                healthy=st.store_id in ids,
                problems=[] if st.store_id in ids else ["no_relay"],
                relays=[],
            )
            for st in stores
        ]

    monkeypatch.setattr(service, "stores_health", health)


def _month(store_id: str) -> StoreMonthModel:
    return StoreMonthModel.get(store_id, "2026-11")


def test_a_slot_counts_once_inside_business_hours(shop):
    assert service.sample_uptime(NOW) == 1  # sh-a only: sh-b is closed at noon
    assert service.sample_uptime(NOW + timedelta(seconds=30)) == 0  # the same slot replayed
    item = _month("sh-a")
    assert (item.open_slots, item.up_slots) == (1, 0)  # no relay: not up
    with pytest.raises(StoreMonthModel.DoesNotExist):
        _month("sh-b")
    assert service.sample_uptime(NOW - timedelta(minutes=5)) == 0  # an earlier slot, late
    assert _month("sh-a").open_slots == 1


def test_up_when_active_and_healthy(shop, monkeypatch):
    _healthy({"sh-a"}, monkeypatch)
    service.sample_uptime(NOW)
    StoreModel.get("sh-a").update(actions=[StoreModel.active.set(False)])
    service.sample_uptime(NOW + timedelta(minutes=5))
    item = _month("sh-a")
    assert (item.open_slots, item.up_slots) == (2, 1)  # inactive: an open slot, not up


def test_a_month_is_keyed_by_the_store_local_day(shop):
    late = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 Dec in Shanghai
    service.sample_uptime(late)
    assert StoreMonthModel.get("sh-a", "2026-12").open_slots == 1


def test_doubled_runs_at_once_count_the_slot_once(aws_server):
    from tests.service.conftest import warm_clients

    _stores()
    warm_clients()
    barrier = threading.Barrier(6)
    results: list[int] = []

    def run() -> None:
        barrier.wait()
        results.append(service.sample_uptime(NOW))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 0, 0, 1]
    assert _month("sh-a").open_slots == 1


def _october() -> None:
    StoreMonthModel("sh-a", "2026-10", open_slots=1000, up_slots=960, transactions=1000).save()
    StoreMonthModel("sh-b", "2026-10", open_slots=200, up_slots=100).save()  # no total
    for day, orders, on_time, timed in (("2026-10-01", 200, 96, 100), ("2026-10-31", 100, 0, 0)):
        ReportDayModel("sh-a", day, orders=orders, on_time=on_time, timed=timed).save()
    ReportDayModel("sh-a", "2026-11-01", orders=999).save()  # another month


def test_the_monthly_job_run_twice_leaves_one_result(shop):
    _october()
    assert service.score_previous_month(NOW) == 2
    first = {(i.store_id, i.month): i.attribute_values for i in StoreTierMonthModel.scan()}
    assert service.score_previous_month(NOW) == 2
    again = {(i.store_id, i.month): i.attribute_values for i in StoreTierMonthModel.scan()}
    assert sorted(again) == [("sh-a", "2026-10"), ("sh-b", "2026-10")]
    for key in again:
        assert {**first[key], "scored_at": ""} == {**again[key], "scored_at": ""}
    a = StoreTierMonthModel.get("sh-a", "2026-10")
    assert (a.t_bp, a.o_bp, a.p_bp, a.orders, a.tier) == (9600, 3000, 9600, 300, "S")
    assert json.loads(a.thresholds)["S"] == {"t": 95, "o": 30, "p": 95}
    b = StoreTierMonthModel.get("sh-b", "2026-10")
    assert (b.t_bp, b.o_bp, b.p_bp, b.tier) == (5000, None, None, "C")


def test_stores_in_tiers_reads_last_months_tiers(shop):
    _october()
    service.score_previous_month(NOW)
    assert service.current_tiers() == {"sh-a": "S", "sh-b": "C"}
    assert service.stores_in_tiers(["S", "A"]) == ["sh-a"]
    StoreModel.get("sh-a").update(actions=[StoreModel.active.set(False)])
    assert service.stores_in_tiers(["S", "A"]) == []  # active stores only


def test_a_store_not_scored_last_month_falls_back_to_the_month_before(shop):
    StoreTierMonthModel(
        "sh-a", "2026-09", tier="A", thresholds="{}", scored_at=clock.now_iso()
    ).save()
    assert service.current_tiers() == {"sh-a": "A"}


def test_the_demo_gives_six_months_of_different_tiers_once(shop):
    from infra.local.seed import _TIER_BANDS, _seed_store_tiers

    _seed_store_tiers()
    items = {(i.store_id, i.month): i.attribute_values for i in StoreTierMonthModel.scan()}
    assert len(items) == 6 * len(_TIER_BANDS)
    assert {k[1] for k in items} == {f"2026-{m:02d}" for m in range(5, 11)}
    latest = {sid: items[(sid, "2026-10")]["tier"] for sid in _TIER_BANDS}
    assert len(set(latest.values())) >= 3, latest
    assert any(v.get("o_bp") is None for v in items.values())  # one month's O unknown
    assert StoreMonthModel.get("sh-jingan", "2026-11").transactions == 24 * 300
    _seed_store_tiers()
    again = {(i.store_id, i.month): i.attribute_values for i in StoreTierMonthModel.scan()}
    assert again == items
