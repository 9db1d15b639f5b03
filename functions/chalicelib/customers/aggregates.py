"""Keeping a member's aggregates (``member_stats``) from order events: each event is ONE
conditional UpdateItem of the member's item under its ``version`` (read, apply
customers/rules.py, write; retried when another event of the same member wrote first).
No transaction: the item itself records the orders it counted and the refunds it
charged (rules.py), so a redelivered or reordered event changes nothing twice.
docs/segments.md, "Member aggregates"."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.customers import rules
from chalicelib.customers.models import MemberStatsModel
from chalicelib.db.writes import is_condition_failure
from chalicelib.events.types import OrderCompleted, RefundSucceeded
from chalicelib.kernel import clock

ATTEMPTS = 10


class StatsBusy(Exception):
    """Other events of the member kept writing first: the dispatcher retries this one
    (an event handler's failure, never an API answer)."""


class CompletionNotYetApplied(Exception):
    """A refund of a completed order arrived before the order's completion was counted
    (the refunds stream ran ahead of the orders stream): the dispatcher retries it, and
    the completion comes first."""


def decode(item: MemberStatsModel | None) -> rules.Stats:
    """The item as ``Stats`` (an absent item: a member with no order counted yet)."""
    if item is None:
        return rules.Stats()
    maps: dict[str, Any] = item.maps or {}
    return rules.Stats(
        orders=int(item.orders or 0),
        spend_fen=int(item.spend_fen or 0),
        first_date=item.first_date,
        last_date=item.last_date,
        stores=dict(maps.get("s") or {}),
        categories=dict(maps.get("c") or {}),
        days={d: list(v) for d, v in (maps.get("d") or {}).items()},
        applied={k: list(v) for k, v in (maps.get("a") or {}).items()},
        horizon=str(maps.get("h") or ""),
        recalls={k: list(v) for k, v in (maps.get("r") or {}).items()},
    )


def maps_of(stats: rules.Stats) -> dict[str, Any]:
    """The maps as the item's compressed ``maps`` attribute holds them."""
    return {
        "s": stats.stores,
        "c": stats.categories,
        "d": stats.days,
        "a": stats.applied,
        "h": stats.horizon,
        **({"r": stats.recalls} if stats.recalls else {}),
    }


def load(customer_id: str, consistent: bool = True) -> MemberStatsModel | None:
    try:
        return MemberStatsModel.get(customer_id, consistent_read=consistent)
    except DoesNotExist:
        return None


Extra = Callable[[MemberStatsModel | None, rules.Stats, bool], list[Any]]


def change(
    customer_id: str, apply: Callable[[rules.Stats], bool], extra: Extra | None = None
) -> bool:
    """Read the member's aggregates, ``apply`` the event (False: nothing to do), write
    them back on condition that nobody wrote since. True when this call changed them.
    ``extra(item, stats, applied)`` sees the item read and, when applied, may add
    update actions to the same write (staff distribution: customers/distribution.py)."""
    m = MemberStatsModel
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, 0.01 * attempt))  # a crowd of writers spreads out
        # The first read eventually consistent (half the read units): a stale item has an
        # older version, so its write fails its condition and the retry reads strongly.
        item = load(customer_id, consistent=attempt > 0)
        stats = decode(item)
        try:
            if not apply(stats):
                if extra is not None:
                    extra(item, stats, False)
                return False
        except CompletionNotYetApplied:
            if attempt == 0:
                continue  # maybe only not seen yet: read again strongly before a retry
            raise
        more = [] if extra is None else extra(item, stats, True)
        version = 0 if item is None else int(item.version or 0)
        maps = maps_of(stats)
        actions: list[Any] = [
            m.version.set(version + 1),
            m.orders.set(stats.orders),
            m.spend_fen.set(stats.spend_fen),
            m.maps.set(maps),
            m.updated_at.set(clock.now_iso()),
            *more,
        ]
        favourite = rules.favourite_store(stats)
        if stats.first_date and stats.last_date and favourite:
            # an order counted: the dates and the index keys
            actions += [
                m.first_date.set(stats.first_date),
                m.last_date.set(stats.last_date),
                m.last_month.set(stats.last_date[:7]),
                m.favourite_store.set(favourite),
            ]
        condition = m.version.does_not_exist() if item is None else m.version == version
        try:
            m(customer_id).update(actions=actions, condition=condition)
            return True
        except UpdateError as exc:
            if not is_condition_failure(exc):
                raise
    raise StatsBusy(f"member {customer_id}: aggregates changed by others {ATTEMPTS} times")


def _lines(lines: Any) -> list[rules.Line]:
    return [
        rules.Line(
            category1=x.category1,
            fresh=bool(x.fresh),
            qty=int(x.qty),
            paid_fen=int(x.paid_fen),
            refunded_units=int(x.refunded_units or 0),
            refunded_fen=int(x.refunded_fen or 0),
        )
        for x in lines
    ]


def on_completed(event: OrderCompleted) -> bool:
    """Count a completed order on what it kept (paid - refunded at completion); a bound
    member's 1st or 2nd order accrues commission in the same write, its entries after
    (again on a redelivery: each is put once)."""
    from chalicelib.customers import distribution

    lines = _lines(event.lines)
    seen: dict[str, Any] = {}

    def extra(item: MemberStatsModel | None, stats: rules.Stats, applied: bool) -> list[Any]:
        seen["ds"] = None if item is None else item.distribution
        if not applied:
            return []
        ds = distribution.on_counted(
            item, stats, event.order_id, event.occurred_at, event.paid_fen, event.refunded_fen
        )
        if ds is None:
            return []
        seen["ds"] = ds
        return [MemberStatsModel.distribution.set(ds)]

    changed = change(
        event.customer_id,
        lambda stats: rules.apply_completion(
            stats,
            event.order_id,
            event.store_id,
            event.occurred_at,
            event.paid_fen,
            event.refunded_fen,
            lines,
        ),
        extra,
    )
    distribution.settle(event.customer_id, seen.get("ds"), event.order_id)
    distribution.charge_campaign(seen.get("ds"), event.order_id, event.campaign_ids)
    return changed


@dataclass(frozen=True)
class OrderView:
    """What a refund's handling reads of its order (now, not as of the refund)."""

    customer_id: str
    status: str
    completed_at: str | None
    refunded_fen: int
    lines: list[rules.Line]


OrderReader = Callable[[str], "OrderView | None"]


def on_refund(event: RefundSucceeded, read: OrderReader | None = None) -> bool:
    """A refund after completion subtracts what the order has had refunded since it was
    counted; one before completion needs nothing (the completion counts paid - refunded).
    Raises CompletionNotYetApplied when the order is completed but not counted yet."""
    if event.order_id.startswith("CS"):
        return False  # a sold coupon (一元买百元券), not an order
    order = (read or read_order)(event.order_id)
    if order is None or order.status != "completed" or order.completed_at is None:
        return False
    completed_at = order.completed_at
    from chalicelib.customers import distribution

    seen: dict[str, Any] = {}

    def apply(stats: rules.Stats) -> bool:
        if event.order_id in stats.applied:
            return rules.apply_refunds(stats, event.order_id, order.refunded_fen, order.lines)
        if rules.is_before_horizon(stats, completed_at):
            return False  # long past: dropped from the record, or never to be counted
        raise CompletionNotYetApplied(f"order {event.order_id}: completed, not counted yet")

    def extra(item: MemberStatsModel | None, stats: rules.Stats, applied: bool) -> list[Any]:
        seen["ds"] = None if item is None else item.distribution
        if not applied:
            return []
        ds = distribution.on_refunded(item, event.order_id, order.refunded_fen, event.occurred_at)
        if ds is None:
            return []
        seen["ds"] = ds
        return [MemberStatsModel.distribution.set(ds)]

    changed = change(order.customer_id, apply, extra)
    distribution.settle(order.customer_id, seen.get("ds"), event.order_id)
    return changed


def read_order(order_id: str) -> OrderView | None:
    """The order's head and its detail's lines, in one BatchGetItem by table name: the
    refund event lacks the customer and the categories, and customers may not import
    orders (it sits below them, like loyalty: loyalty/subscribers.py read_order)."""
    from chalicelib.db.connection import connection
    from chalicelib.events import records
    from chalicelib.kernel import config

    heads, details = config.table_name("orders"), config.table_name(records.DETAIL_TABLE)
    key = {"order_id": {"S": order_id}}
    got = (
        connection()
        .client.batch_get_item(
            RequestItems={
                heads: {
                    "Keys": [key],
                    "ConsistentRead": True,
                    "ProjectionExpression": "customer_id, #st, refunded_fen, history, "
                    "updated_at, created_at, #ln",
                    "ExpressionAttributeNames": {"#st": "status", "#ln": "lines"},
                },
                details: {
                    "Keys": [key],
                    "ConsistentRead": True,
                    "ProjectionExpression": "#ln",
                    "ExpressionAttributeNames": {"#ln": records.DETAIL_NAMES["lines"]},
                },
            }
        )
        .get("Responses", {})
    )
    head = next(iter(got.get(heads) or []), None)
    if head is None:
        return None
    new = {k: records.plain(v) for k, v in head.items()}
    detail = next(iter(got.get(details) or []), None)
    if detail is not None:
        plain_detail = {k: records.plain(v) for k, v in detail.items()}
        lines = records.lines_of(plain_detail, records.DETAIL_NAMES)
    else:  # an order stored before the split: its lines on the head
        lines = records.lines_of(new, records.HEAD_NAMES)
    status = str(new["status"])
    return OrderView(
        customer_id=str(new["customer_id"]),
        status=status,
        completed_at=records.changed_at(new, "completed") if status == "completed" else None,
        refunded_fen=int(new.get("refunded_fen") or 0),
        lines=_lines(lines),
    )
