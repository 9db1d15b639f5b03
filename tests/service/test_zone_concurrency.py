"""A fixed-price zone's per-customer limit raced against a moto server (issue 17 item 4):
one customer pressing buy 12 times at once gets exactly the limit at the zone's price;
the counter, the orders and the campaign's budget agree afterwards."""

from __future__ import annotations

import msgspec
import pytest
from chalicelib.kernel.errors import ApiError
from chalicelib.orders import order_flow
from chalicelib.zones.models import ZoneBuyerModel

from tests.service.test_order_concurrency import (
    PRICE_FEN,
    SKU,
    cart,
    customer,
    errors_of,
    race,
)
from tests.service.test_order_concurrency import shop as shop  # the fixture

pytestmark = pytest.mark.usefixtures("shop")

ZONE_FEN = 990
LIMIT = 2


def fixed_zone() -> str:
    from chalicelib.auth.principal import Principal
    from chalicelib.kernel import clock
    from chalicelib.zones import service
    from chalicelib.zones.schemas import ZoneCreate

    now = clock.now()
    body = {
        "kind": "fixed_price",
        "name": "9.9元专区",
        "skus": [SKU],
        "starts_at": clock.iso(now.replace(year=now.year - 1)),
        "ends_at": clock.iso(now.replace(year=now.year + 1)),
        "price_fen": ZONE_FEN,
        "per_customer_limit": LIMIT,
    }
    zone = service.create(Principal("hq-admin", "hq_admin"), msgspec.convert(body, ZoneCreate))
    service.forget_cache()
    return zone.zone_id


def test_one_customer_pressing_buy_12_times_gets_the_limit_at_the_zone_price(shop):
    from chalicelib.orders import service as orders

    shop(100)
    zone_id = fixed_zone()
    me = customer(1)
    results = race(12, lambda i: orders.place(me, f"zone-race-{i:04d}", cart()))
    placed = [r[0] for r in results if not isinstance(r, ApiError)]
    at_zone_price = [o for o in placed if o.total_fen == ZONE_FEN]
    assert len(at_zone_price) == LIMIT, (errors_of(results), [o.total_fen for o in placed])
    # the others were refused (quote again) or, placed after a fresh read, at list price
    assert all(o.total_fen == PRICE_FEN for o in placed if o not in at_zone_price)
    assert set(errors_of(results)) <= {"fixed_price_limit_reached"}
    held = ZoneBuyerModel.get(f"{zone_id}#{SKU}#{me.subject}", consistent_read=True)
    assert int(held.units) == LIMIT
    uses = [order_flow.get(o.order_id).zone_uses or [] for o in placed]
    assert sum(int(u.units) for us in uses for u in us) == LIMIT
