"""Customers (issue 15): a member's aggregates for head office and store managers."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.customers import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

stats = lazy_module("chalicelib.customers.stats")

area = Area("customers", __name__, "Customers (客户洞察): members' aggregates, segments.")


@area.route(
    "/admin/members/{customer_id}/stats",
    "GET",
    summary="A member's aggregates: orders, spend, dates, favourite store, categories",
    roles={HQ_ADMIN, STORE_MANAGER},
    response=s.MemberStats,
    errors=(403, 404),
    response_example=s.EXAMPLE,
)
def member_stats(customer_id: str, principal: Principal) -> s.MemberStats:
    """Kept live from order events: an order counts when completed, on what it kept;
    a refund after completion subtracts. Average order value, days and months since the
    last order and months since registration are computed when read. Store managers see
    members of their home store only (403 ``other_store``)."""
    return stats.admin_stats(principal, customer_id)
