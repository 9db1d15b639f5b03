"""Loyalty settings are read once per event batch (kernel/memo.py), not once per
subscriber: one order.completed event used to read ``loyalty_settings`` 7 to 9 times
(points, levels 4x, tasks...), each an AWS round trip. Outside a batch (an API request)
each read is still one consistent GetItem, and a write inside a batch is seen by the
batch's later reads."""

from __future__ import annotations

from typing import Any

import botocore.client
import msgspec
import pytest
from chalicelib import jobs
from chalicelib.auth.principal import Principal
from chalicelib.events.dispatch import handle_stream_records
from chalicelib.kernel import memo
from chalicelib.loyalty import points, programme_settings
from chalicelib.loyalty import schemas as ls
from chalicelib.loyalty import settings as loyalty_settings
from chalicelib.orders import order_flow

from tests.event_steps import deliver_events, events_in, stream_records
from tests.order_steps import complete, pick, place_paid

HQ = Principal("hq", "hq_admin")


def _tables(params: dict[str, Any]) -> list[str]:
    names = [params.get("TableName", "")]
    names += list(params.get("RequestItems", {}))
    names += [i.get("Get", {}).get("TableName", "") for i in params.get("TransactItems", [])]
    return names


@pytest.fixture
def settings_reads(monkeypatch):
    """The read calls (operation names) that touch the loyalty_settings table."""
    reads: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        touches = any(n.endswith("loyalty_settings") for n in _tables(api_params))
        if touches and operation_name in {"GetItem", "BatchGetItem", "TransactGetItems"}:
            reads.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return reads


def test_one_order_completed_event_reads_the_settings_once(catalogue, settings_reads):
    loyalty_settings.put_points_settings(HQ, ls.PointsSettings(points_per_yuan=3))
    oid = place_paid([("100", 3), ("101", 2)])
    deliver_events()  # order.paid and the rest, before the event measured
    pick(oid)
    complete(oid)
    last = stream_records("orders")[-1]
    assert [e.type for e in events_in("orders", [last])] == ["order.completed"]
    settings_reads.clear()

    # loyalty's one change (points, growth, tasks) and the member's aggregates (customers)
    assert handle_stream_records("orders", [last]) == 2

    assert settings_reads == ["BatchGetItem"]
    # the batch's read is the settings written, not the defaults
    assert points.balance("c-1").pending == int(order_flow.get(oid).paid_fen) // 100 * 3


def test_outside_a_batch_each_read_is_one_get(catalogue, settings_reads):
    loyalty_settings.points_settings()
    programme_settings.levels_settings()
    programme_settings.levels_settings()
    assert settings_reads == ["GetItem"] * 3


def test_a_write_in_a_batch_is_seen_by_its_later_reads(catalogue, settings_reads):
    with memo.scope():
        assert loyalty_settings.points_settings().points_per_yuan == 1
        programme_settings.tasks_settings()
        assert settings_reads == ["BatchGetItem"]
        loyalty_settings.put_points_settings(HQ, ls.PointsSettings(points_per_yuan=5))
        assert loyalty_settings.points_settings().points_per_yuan == 5
        levels = programme_settings.levels_settings()
        programme_settings.put(HQ, "levels", msgspec.structs.replace(levels, growth_per_yuan=2))
        assert programme_settings.levels_settings().growth_per_yuan == 2
    assert loyalty_settings.points_settings().points_per_yuan == 5


@pytest.mark.parametrize(
    ("job", "module", "steps"),
    [
        (jobs.points_settle, "chalicelib.loyalty.points", ["settle_due"]),
        (jobs.levels_daily, "chalicelib.loyalty.growth", ["birthday_gifts", "review_levels"]),
        (jobs.paid_card_packs, "chalicelib.loyalty.paid_membership", ["issue_packs"]),
    ],
)
def test_a_loyalty_job_run_over_many_members_is_one_scope(job, module, steps, monkeypatch):
    import importlib

    seen: list[bool] = []
    for step in steps:
        monkeypatch.setattr(
            importlib.import_module(module), step, lambda: seen.append(memo.active()) or 0
        )
    job()
    assert seen == [True] * len(steps)
    assert not memo.active()
