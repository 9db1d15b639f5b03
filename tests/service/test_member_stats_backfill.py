"""customers/backfill.py: members' aggregates backfilled from the orders table end equal
to what the order events would have built (completions, then refunds after them), with
or without some events counted first; a second run changes nothing; reg_month filled."""

from __future__ import annotations

import io
from datetime import date

from chalicelib.customers import aggregates, backfill
from chalicelib.customers.models import MemberStatsModel
from chalicelib.events.types import OrderCompleted, OrderLine, RefundSucceeded
from chalicelib.identity.models import CustomerModel
from chalicelib.orders.models import OrderModel

from infra.local import history

TODAY = date(2026, 11, 24)
DAYS = 4


def seed_orders() -> list[dict]:
    from chalicelib.catalogue.imports import apply_products
    from chalicelib.catalogue.rules import parse_product

    from infra.local import demo_data

    apply_products([parse_product(p, n) for n, p in enumerate(demo_data.products(), start=2)])
    assert history.seed_history(days=DAYS, today=TODAY) > 0
    return history.completed_orders(DAYS, TODAY)


def deliver_events(orders: list[dict]) -> None:
    """Each order's completion event (nothing refunded yet), then, for the refunded
    ones, its refund's event, handled by the subscribers' code reading the stored order."""
    for o in orders:
        aggregates.on_completed(
            OrderCompleted(
                event_id=f"order.completed:{o['order_id']}",
                occurred_at=o["completed_at"],
                order_id=o["order_id"],
                customer_id=o["customer_id"],
                store_id=o["store_id"],
                paid_fen=o["paid_fen"],
                refunded_fen=0,
                lines=[
                    OrderLine(**{**x, "refunded_units": 0, "refunded_fen": 0}) for x in o["lines"]
                ],
            )
        )
    for o in orders:
        if o["refunded_fen"]:
            aggregates.on_refund(
                RefundSucceeded(
                    event_id=f"refund.succeeded:{o['order_id']}:1",
                    occurred_at=o["completed_at"],
                    refund_id=f"{o['order_id']}:1",
                    order_id=o["order_id"],
                    reason="return",
                    amount_fen=o["refunded_fen"],
                    delivery_fee_fen=0,
                    lines=[],
                    completes_order=False,
                )
            )


def snapshot() -> dict:
    return {i.customer_id: aggregates.decode(i) for i in MemberStatsModel.scan()}


def clear() -> None:
    with MemberStatsModel.batch_write() as batch:
        for i in MemberStatsModel.scan():
            batch.delete(i)


def test_backfill_equals_the_events_and_a_second_run_changes_nothing(aws):
    orders = seed_orders()
    assert any(o["refunded_fen"] for o in orders)
    deliver_events(orders)
    want = snapshot()
    assert len(want) == 24 and sum(s.orders for s in want.values()) == len(orders)
    clear()

    out = io.StringIO()
    first = backfill.backfill(segments=3, out=out)
    assert snapshot() == want
    assert (first.completed, first.members, first.changed) == (len(orders), 24, 24)
    assert first.scanned == OrderModel.count()  # cancelled ones read, not counted
    versions = {i.customer_id: i.version for i in MemberStatsModel.scan()}

    again = backfill.backfill(segments=2)
    assert (again.changed, again.unchanged) == (0, 24)
    assert snapshot() == want
    assert {i.customer_id: i.version for i in MemberStatsModel.scan()} == versions


def test_backfill_after_some_events_counts_the_rest_once(aws):
    orders = seed_orders()
    deliver_events(orders)
    want = snapshot()
    clear()
    # upgraded midway: the last day's orders came through the events (some refunds not)
    last_day = [o for o in orders if o["completed_at"] >= orders[-1]["completed_at"][:10]]
    assert 0 < len(last_day) < len(orders)
    assert any(o["refunded_fen"] for o in last_day)  # counted, its refund left to the backfill
    deliver_events([{**o, "refunded_fen": 0} for o in last_day])
    backfill.backfill(segments=2)
    assert snapshot() == want


def test_one_shard_of_members_at_a_time(aws):
    orders = seed_orders()
    deliver_events(orders)
    want = snapshot()
    clear()
    done = [backfill.backfill(segments=2, shard=(k, 3), reg_month=False) for k in range(3)]
    assert all(p.members for p in done)
    assert sum(p.members for p in done) == 24
    assert snapshot() == want


def test_reg_month_is_set_where_missing_but_not_on_erased_members(aws):
    at = "2024-03-31T18:00:00.000Z"
    CustomerModel("c-old", phone="13000000001", created_at=at).save()
    CustomerModel("c-new", phone="13000000002", created_at=at, reg_month="2024-03").save()
    CustomerModel("c-gone", phone="", created_at=at, erased_at="2025-01-01T00:00:00Z").save()
    progress = backfill.backfill(segments=2)
    assert progress.reg_month == 1
    assert CustomerModel.get("c-old").reg_month == "2024-03"
    assert CustomerModel.get("c-gone").reg_month is None
    assert backfill.backfill(segments=2).reg_month == 0


def test_the_demo_members_history_counts_equal_the_backfill_of_the_orders_written(aws):
    """infra/local/member_history.py counts history.py's orders without reading them:
    the backfill of the orders history.py wrote finds nothing to change."""
    from infra.local import member_history

    seed_orders()
    assert member_history.count_demo_orders(DAYS, TODAY) == 24
    progress = backfill.backfill(segments=2, reg_month=False)
    assert (progress.members, progress.changed) == (24, 0)
