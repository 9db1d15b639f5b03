"""The audit log under races on returns (issue 13 item 6, docs/audit.md): double presses
on a return's steps and retries of one request record each change once, against a moto
server."""

from __future__ import annotations

from collections import Counter

from chalicelib.audit.models import AuditEntryModel
from chalicelib.orders.models import RefundModel

from tests.order_steps import completed_order, open_return
from tests.service.test_refund_concurrency import codes, race, shop, staff

__all__ = ["shop"]  # the fixture, used by name


def actions() -> Counter:
    return Counter(e.action for e in AuditEntryModel.scan())


def test_double_presses_on_verify_and_collect_log_each_step_and_the_refund_once(shop):
    from chalicelib.orders import returns

    oid = completed_order([("110", 2), ("111", 1)])
    opened, _ = open_return(oid, {"110": 2}, staff(0))
    (ret,) = opened.items
    results = race(6, lambda i: returns.verify(staff(i), ret.return_id))
    assert codes(results)["ok"] == 1
    steps = ["collect", "receive_at_counter"]
    results = race(6, lambda i: returns.receive(staff(i), ret.return_id, steps[i % 2]))
    assert codes(results) == {"ok": 1, "illegal_transition": 5}
    assert RefundModel.count() == 1
    logged = actions()
    assert logged["return.open"] == 1 and logged["return.verify"] == 1
    assert logged["return.collect"] + logged["return.receive"] == 1
    assert logged["refund.create"] == 1


def test_a_request_retried_at_once_with_one_key_logs_once(shop):
    oid = completed_order([("100", 3)])  # fresh: refunded at once
    results = race(6, lambda i: open_return(oid, {"100": 1}, staff(0), key="key-race-000001"))
    assert codes(results) == {"ok": 6}
    assert RefundModel.count() == 1
    assert actions() == Counter({"return.open": 1, "refund.create": 1})
