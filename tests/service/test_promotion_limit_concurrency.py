"""Promotion limits raced against a moto server (issue 18 item 3): the counters are
added to under their limit in each order's own transaction, so concurrent orders never
get a limited promotion more often than allowed, and nothing is half written."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.promotions.models import LimitCounterModel

from tests import publishing
from tests.service.test_order_concurrency import (
    PRICE_FEN,
    STORE,
    cart,
    customer,
    errors_of,
    race,
    stock,
)
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")

OFF_FEN = 500  # 满20减5 on one unit of 25.00


def _create_promotion(limits: dict) -> str:
    """The one place tests of this file create a promotion (drafts may add a step)."""
    from chalicelib.auth.principal import Principal
    from chalicelib.kernel import clock
    from chalicelib.promotions import service
    from chalicelib.promotions.schemas import PromotionCreate

    now = clock.now()
    body = {
        "kind": "tiered",
        "name": "满20减5 限量",
        "starts_at": clock.iso(now.replace(year=now.year - 1)),
        "ends_at": clock.iso(now.replace(year=now.year + 1)),
        "tiers": [{"threshold_fen": 2000, "off_fen": OFF_FEN}],
        "limits": limits,
    }
    p = service.create(Principal("hq-admin", "hq_admin"), msgspec.convert(body, PromotionCreate))
    p = publishing.publish_promotion(p)  # promotions start as drafts
    service.forget_active_cache()
    return p.promotion_id


def _counter(prefix: str) -> int:
    rows = [r for r in LimitCounterModel.scan() if r.limit_key.startswith(prefix)]
    assert len(rows) == 1, rows
    return int(rows[0].used)


def test_one_customer_placing_20_orders_at_once_gets_a_per_day_limit_of_1_exactly_once(shop):
    from chalicelib.orders import service as orders

    shop(100)
    pid = _create_promotion({"per_customer_per_day": 1})
    me = customer(1)
    results = race(20, lambda i: orders.place(me, f"limit-day-{i:04d}", cart()))
    placed = [r[0] for r in results if not isinstance(r, ApiError)]
    discounted = [o for o in placed if o.total_fen == PRICE_FEN - OFF_FEN]
    assert len(discounted) == 1, (errors_of(results), [o.total_fen for o in placed])
    # the others were refused (quote again) or, placed after a fresh read, at full price
    assert all(o.total_fen == PRICE_FEN for o in placed if o not in discounted)
    assert set(errors_of(results)) <= {"promotion_limit_reached"}
    assert _counter(f"{pid}#c#{me.subject}#d") == 1
    assert stock() == 100 - len(placed)  # nothing half written: stock only for orders made
    uses = [order_flow.get(o.order_id).limit_uses or [] for o in placed]
    assert sum(len(u) for u in uses) == 1


def test_twenty_customers_at_once_get_a_per_store_per_day_limit_of_5_exactly_5_times(shop):
    from chalicelib.orders import service as orders

    shop(100)
    pid = _create_promotion({"per_store_per_day": 5})
    results = race(20, lambda i: orders.place(customer(i), f"limit-store-{i:04d}", cart()))
    placed = [r[0] for r in results if not isinstance(r, ApiError)]
    discounted = [o for o in placed if o.total_fen == PRICE_FEN - OFF_FEN]
    assert len(discounted) == 5, (errors_of(results), [o.total_fen for o in placed])
    assert set(errors_of(results)) <= {"promotion_limit_reached"}
    assert _counter(f"{pid}#s#{STORE}#d") == 5
    assert stock() == 100 - len(placed)
