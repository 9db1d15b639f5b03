"""Reading a member's aggregates with the figures derived at read time (average order
value, days and months since the last order, months since registration, recent order
counts): nothing that depends on today is stored (docs/segments.md)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Principal
from chalicelib.customers import aggregates, rules
from chalicelib.customers import schemas as s
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Forbidden, NotFound


def member_stats(customer_id: str) -> s.MemberStats:
    """The member's aggregates and derived figures (a member with no completed order: zeros)."""
    try:
        member = CustomerModel.get(customer_id)
    except DoesNotExist:
        raise NotFound("No such member.", code="member_not_found") from None
    return view(customer_id, aggregates.decode(aggregates.load(customer_id)), member.created_at)


def view(customer_id: str, stats: rules.Stats, registered_at: str | None) -> s.MemberStats:
    """Stats as the response, today being the chain's local date now."""
    today = clock.now().astimezone(rules.TZ).date()
    joined = rules.local_date(registered_at) if registered_at else None
    return s.MemberStats(
        customer_id=customer_id,
        registered_at=registered_at,
        orders=stats.orders,
        spend_fen=stats.spend_fen,
        average_order_fen=rules.average_order_fen(stats),
        first_order_date=stats.first_date,
        last_order_date=stats.last_date,
        days_since_last_order=rules.days_since(stats.last_date, today),
        months_since_last_order=rules.months_between(stats.last_date, today),
        months_since_registered=rules.months_between(joined, today),
        favourite_store_id=rules.favourite_store(stats),
        store_orders=dict(sorted(stats.stores.items())),
        categories=[
            s.CategorySpend(category1=c, spend_fen=f)
            for c, f in sorted(stats.categories.items(), key=lambda kv: (-kv[1], kv[0]))
            if f  # a category wholly refunded: nothing kept
        ],
        orders_last_30_days=rules.orders_within(stats, 30, today),
        fresh_orders_last_30_days=rules.orders_within(stats, 30, today, fresh=True),
        orders_last_90_days=rules.orders_within(stats, 90, today),
    )


def admin_stats(principal: Principal, customer_id: str) -> s.MemberStats:
    """Head office: any member; a store manager: members of their home store only (as
    the member profile: members/admin.py detail)."""
    try:
        member = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such member.", code="member_not_found") from None
    if not principal.is_hq and member.home_store_id != principal.store_id:
        raise Forbidden("That member belongs to another store.", code="other_store")
    return view(customer_id, aggregates.decode(aggregates.load(customer_id)), member.created_at)
