"""infra/local/history.py: the demo's order history is rolled up by the reports' own
backfill, and a second run writes nothing."""

from __future__ import annotations

from datetime import date

from chalicelib.orders.models import OrderModel
from chalicelib.reports import rules, service
from chalicelib.reports.models import ReportDayModel

from infra.local import demo_data
from infra.local.history import seed_history

TODAY = date(2026, 11, 24)


def test_history_is_rolled_up_from_its_orders_and_seeded_once(aws):
    from chalicelib.catalogue.imports import apply_products
    from chalicelib.catalogue.rules import parse_product

    apply_products([parse_product(p, n) for n, p in enumerate(demo_data.products(), start=2)])
    # The worker's job got to one day first (no orders yet): it is still seeded.
    service.rollup_day("sh-jingan", "2026-11-23")
    assert ReportDayModel.get("sh-jingan", "2026-11-23").orders == 0
    written = seed_history(days=3, today=TODAY)
    assert written > 0
    stores = [s["store_id"] for s in demo_data.stores()]
    days = ["2026-11-21", "2026-11-22", "2026-11-23"]
    items = {(i.store_id, i.day): i for sid in stores for i in ReportDayModel.query(sid)}
    assert sorted(items) == sorted((sid, d) for sid in stores for d in days)
    total_orders = 0
    for (sid, day), item in items.items():
        ids = [o.order_id for o in OrderModel.by_store_day.query(f"{sid}#{day}")]
        orders = list(OrderModel.batch_get(ids))  # the index does not hold the status
        total_orders += len(orders)
        sales = [o for o in orders if o.status != "cancelled"]
        assert item.orders == len(sales) and item.orders > 0
        assert item.paid_fen == sum(int(o.paid_fen) for o in sales)
        assert (item.printed, item.cancelled) == (len(orders), len(orders) - len(sales))
        f = service.from_item(item)
        assert rules.hist_percentile(f.hist, 50) is not None
        # The seeded rollup is what the backfill computes from the seeded items.
        assert service.rollup_day(sid, day) == f
    assert total_orders == written
    assert seed_history(days=3, today=TODAY) == 0  # every day there: nothing written
