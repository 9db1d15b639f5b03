"""Members' aggregates (customers/rules.py, customers/aggregates.py): whatever the order
in which a member's completion and refund events arrive, and however often each is
delivered, the aggregates end as if each had been applied once, in order."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from chalicelib.customers import aggregates, rules
from chalicelib.customers.models import MemberStatsModel
from chalicelib.db.models import CompactJSONAttribute
from chalicelib.events.types import OrderCompleted, OrderLine, RefundSucceeded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CUSTOMER = "c-1"
CATEGORIES = ["水果", "蔬菜", "肉禽蛋", None]


@dataclass
class Order:
    """An order of the simulated world: its lines change as refunds are made."""

    order_id: str
    store_id: str
    completed_at: str
    lines: list[dict]  # sku, qty, paid_fen, category1, fresh, refunded_units, refunded_fen
    status: str = "paid"
    refunded_fen: int = 0
    refunded_at_completion: int | None = None
    lines_at_completion: list[dict] = field(default_factory=list)

    @property
    def paid_fen(self) -> int:
        return sum(x["paid_fen"] for x in self.lines)


def event_lines(lines: list[dict]) -> list[OrderLine]:
    return [OrderLine(**x) for x in lines]


def view_of(order: Order) -> aggregates.OrderView:
    return aggregates.OrderView(
        customer_id=CUSTOMER,
        status=order.status,
        completed_at=order.completed_at if order.status == "completed" else None,
        refunded_fen=order.refunded_fen,
        lines=aggregates._lines(event_lines(order.lines)),
    )


class World:
    """Orders changing (refunds, completions), their events emitted, and the member's
    aggregates in memory: ``change`` as aggregates.change does it (read, apply, write
    only when applied; an exception writes nothing)."""

    def __init__(self, orders: list[Order]):
        self.orders = {o.order_id: o for o in orders}
        self.stats = rules.Stats()
        self.writes = 0
        self.refunds = 0

    def change(self, customer_id, apply, extra=None) -> bool:
        # ``extra`` (staff distribution's hook) sees an item; this world's member has no
        # binding, so it is not called (tests/api/test_distribution.py covers it)
        assert customer_id == CUSTOMER
        stats = copy.deepcopy(self.stats)
        if not apply(stats):
            return False
        # what the item stores and gives back: the maps through compressed JSON
        blob = CompactJSONAttribute()
        self.stats = aggregates.decode(
            MemberStatsModel(
                CUSTOMER,
                orders=stats.orders,
                spend_fen=stats.spend_fen,
                first_date=stats.first_date,
                last_date=stats.last_date,
                maps=blob.deserialize(blob.serialize(aggregates.maps_of(stats))),
            )
        )
        self.writes += 1
        return True

    def read(self, order_id: str) -> aggregates.OrderView | None:
        order = self.orders.get(order_id)
        return None if order is None else view_of(order)

    def complete(self, order: Order) -> OrderCompleted:
        order.status = "completed"
        order.refunded_at_completion = order.refunded_fen
        return OrderCompleted(
            event_id=f"order.completed:{order.order_id}",
            occurred_at=order.completed_at,
            order_id=order.order_id,
            customer_id=CUSTOMER,
            store_id=order.store_id,
            paid_fen=order.paid_fen,
            refunded_fen=order.refunded_fen,
            lines=[],  # filled at delivery: the lines are read when the record is handled
        )

    def refund(self, order: Order, i: int, units: int) -> RefundSucceeded:
        line = order.lines[i]
        left_units = line["qty"] - line["refunded_units"]
        units = min(units, left_units)
        left_fen = line["paid_fen"] - line["refunded_fen"]
        amount = left_fen if units == left_units else left_fen * units // left_units
        line["refunded_units"] += units
        line["refunded_fen"] += amount
        order.refunded_fen += amount
        self.refunds += 1
        n = self.refunds
        return RefundSucceeded(
            event_id=f"refund.succeeded:{order.order_id}:{n}",
            occurred_at=order.completed_at,
            refund_id=f"{order.order_id}:{n}",
            order_id=order.order_id,
            reason="return",
            amount_fen=amount,
            delivery_fee_fen=0,
            lines=[],
            completes_order=False,
        )

    def deliver(self, event) -> bool:
        """Handle one delivery; False when it raised for a retry."""
        if isinstance(event, OrderCompleted):
            order = self.orders[event.order_id]
            live = OrderCompleted(**{**_fields(event), "lines": event_lines(order.lines)})
            aggregates.on_completed(live)
            return True
        try:
            aggregates.on_refund(event, read=self.read)
        except aggregates.CompletionNotYetApplied:
            return False
        return True


def _fields(event) -> dict:
    return {f: getattr(event, f) for f in event.__struct_fields__}


def expected(orders: list[Order]) -> rules.Stats:
    """Each order's completion once, in order, on its final refunds."""
    out = rules.Stats()
    for o in sorted(orders, key=lambda o: o.completed_at):
        day = rules.local_date(o.completed_at)
        out.orders += 1
        out.spend_fen += o.paid_fen - o.refunded_fen
        out.stores[o.store_id] = out.stores.get(o.store_id, 0) + 1
        for x in o.lines:
            c = x["category1"] or rules.NO_CATEGORY
            out.categories[c] = out.categories.get(c, 0) + x["paid_fen"] - x["refunded_fen"]
        fresh = any(x["fresh"] and x["qty"] > x["refunded_units"] for x in o.lines)
        bucket = out.days.setdefault(day, [0, 0])
        bucket[0] += 1
        bucket[1] += int(fresh)
        out.first_date = min(out.first_date or day, day)
        out.last_date = max(out.last_date or day, day)
    return out


line_st = st.fixed_dictionaries(
    {
        "sku": st.sampled_from(["100", "200", "300"]),
        "qty": st.integers(1, 3),
        "paid_fen": st.integers(1, 5000),
        "category1": st.sampled_from(CATEGORIES),
        "fresh": st.booleans(),
    }
).map(lambda d: {**d, "refunded_units": 0, "refunded_fen": 0})

# one order: its lines, its store, its completion time, and its refunds (line index,
# units, made before completion?)
order_st = st.tuples(
    st.lists(line_st, min_size=1, max_size=3),
    st.sampled_from(["sh-a", "sh-b"]),
    st.integers(0, 40 * 86400),
    st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), st.booleans()), max_size=3),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=st.lists(order_st, min_size=1, max_size=4), rnd=st.randoms(use_true_random=False))
def test_any_interleaving_and_repetition_gives_the_in_order_result(specs, rnd, monkeypatch):
    orders, changes = [], []
    for n, (lines, store, secs, refunds) in enumerate(specs):
        t = 1_790_000_000 + secs + n  # distinct completion times, within 41 days
        at = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        o = Order(f"O{n}", store, at, [dict(x) for x in lines])
        orders.append(o)
        before = [(i % len(o.lines), u) for i, u, pre in refunds if pre]
        after = [(i % len(o.lines), u) for i, u, pre in refunds if not pre]
        changes.append(
            [("refund", o, i, u) for i, u in before]
            + [("complete", o)]
            + [("refund", o, i, u) for i, u in after]
        )
    world = World(orders)
    monkeypatch.setattr(aggregates, "change", world.change)

    # The orders' changes happen in some interleaving; events are delivered at random
    # moments, any number of times, each at least once successfully.
    pending = [list(c) for c in changes]
    emitted: list = []
    delivered_ok: set[str] = set()
    while any(pending) or len(delivered_ok) < len(emitted):
        choices = [i for i, p in enumerate(pending) if p]
        if choices and (not emitted or rnd.random() < 0.5):
            step = pending[rnd.choice(choices)].pop(0)
            if step[0] == "complete":
                emitted.append(world.complete(step[1]))
            else:
                emitted.append(world.refund(step[1], step[2], step[3]))
            continue
        waiting = [e for e in emitted if e.event_id not in delivered_ok]
        # mostly a first delivery (or a retry), sometimes a duplicate
        event = rnd.choice(waiting if waiting and rnd.random() < 0.8 else emitted)
        if world.deliver(event):
            delivered_ok.add(event.event_id)
    # some redelivered once more, in any order (a delivery that succeeded is not
    # guaranteed another: what one skipped stays skipped)
    for event in rnd.sample(emitted, rnd.randint(0, len(emitted))):
        assert world.deliver(event)

    got, want = world.stats, expected(orders)
    assert (got.orders, got.spend_fen) == (want.orders, want.spend_fen)
    assert (got.first_date, got.last_date) == (want.first_date, want.last_date)
    assert got.stores == want.stores
    assert {c: f for c, f in got.categories.items() if f} == {
        c: f for c, f in want.categories.items() if f
    }
    assert got.days == want.days
    assert set(got.applied) == {o.order_id for o in orders}


def completed(order_id="O1", at="2026-11-24T02:00:00Z", paid=1000, refunded=0, lines=None):
    return OrderCompleted(
        event_id=f"order.completed:{order_id}",
        occurred_at=at,
        order_id=order_id,
        customer_id=CUSTOMER,
        store_id="sh-a",
        paid_fen=paid,
        refunded_fen=refunded,
        lines=lines or [OrderLine(sku="1", qty=1, paid_fen=paid, category1="水果", fresh=True)],
    )


def two_units(fresh: bool) -> Order:
    """Order O1 at store sh-a: one line of 2 units of fruit for ¥10.00, nothing refunded."""
    line = {
        "sku": "1",
        "qty": 2,
        "paid_fen": 1000,
        "category1": "水果",
        "fresh": fresh,
        "refunded_units": 0,
        "refunded_fen": 0,
    }
    return Order("O1", "sh-a", "2026-11-24T02:00:00Z", [line])


def test_a_refund_of_a_completed_order_not_counted_yet_is_retried(monkeypatch):
    order = two_units(fresh=True)
    world = World([order])
    monkeypatch.setattr(aggregates, "change", world.change)
    done = world.complete(order)
    refund = world.refund(order, 0, 1)
    assert not world.deliver(refund)  # completed, its completion not counted yet: retry
    assert world.stats.orders == 0 and world.writes == 0
    assert world.deliver(done) and world.deliver(refund)
    assert world.stats.spend_fen == 500 and world.stats.categories == {"水果": 500}
    assert world.stats.days == {"2026-11-24": [1, 1]}  # one fresh unit kept: still fresh
    world.refund(order, 0, 1)
    assert world.deliver(refund)  # an older refund's delivery brings the order up to now
    assert world.stats.spend_fen == 0 and world.stats.days == {"2026-11-24": [1, 0]}


def test_a_refund_before_completion_is_left_to_the_completion(monkeypatch):
    order = two_units(fresh=False)
    world = World([order])
    monkeypatch.setattr(aggregates, "change", world.change)
    refund = world.refund(order, 0, 1)
    assert world.deliver(refund) and world.writes == 0  # not completed: nothing to do
    done = world.complete(order)
    assert world.deliver(done) and world.deliver(refund) and world.deliver(done)
    assert (world.stats.orders, world.stats.spend_fen, world.writes) == (1, 500, 1)


def test_old_orders_leave_the_record_and_their_late_events_change_nothing():
    stats = rules.Stats()
    assert rules.apply_completion(stats, "O1", "sh-a", "2026-01-01T02:00:00Z", 100, 0, [])
    assert rules.apply_completion(stats, "O2", "sh-a", "2026-06-01T02:00:00Z", 100, 0, [])
    assert set(stats.applied) == {"O2"} and stats.horizon == "2026-01-01T02:00:00Z"
    assert list(stats.days) == ["2026-06-01"]  # day buckets: the last KEEP_DAYS only
    # a redelivery of O1's completion (or a lost one) after it left: not counted again
    assert not rules.apply_completion(stats, "O1", "sh-a", "2026-01-01T02:00:00Z", 100, 0, [])
    assert rules.is_before_horizon(stats, "2026-01-01T02:00:00Z")
    assert (stats.orders, stats.spend_fen, stats.first_date) == (2, 200, "2026-01-01")


def test_the_record_keeps_the_newest_orders_only():
    stats = rules.Stats()
    for n in range(rules.KEEP_ORDERS + 5):
        at = f"2026-11-{1 + n // 2:02d}T0{n % 2}:00:00Z"
        rules.apply_completion(stats, f"O{n:02d}", "sh-a", at, 100, 0, [])
    assert len(stats.applied) == rules.KEEP_ORDERS and "O00" not in stats.applied
    assert stats.orders == rules.KEEP_ORDERS + 5


def test_a_typical_members_item_stays_within_one_write_unit():
    """A member with a year of weekly orders (the last 13 weeks in the record), three
    stores and eight categories: the compressed maps leave the item under 1 KB."""
    stats = rules.Stats()
    stores = ["sh-jingan", "sh-xuhui", "sh-pudong-lujiazui"]
    cats = ["水果", "蔬菜", "肉禽蛋", "水产海鲜", "乳品烘焙", "粮油调味", "休闲零食", "酒水饮料"]
    for week in range(52):
        day = date.fromordinal(date(2025, 12, 1).toordinal() + 7 * week)
        lines = [
            rules.Line(cats[(week + k) % 8], k == 0, 2, 1990 + 37 * week + k, 0, 0)
            for k in range(4)
        ]
        order_id = f"{day:%y%m%d}K{week:02d}M2Q9XD"
        at = f"{day.isoformat()}T0{week % 10}:12:34Z"
        rules.apply_completion(stats, order_id, stores[week % 3], at, 9000, 300 * (week % 3), lines)
    maps = {
        "s": stats.stores,
        "c": stats.categories,
        "d": stats.days,
        "a": stats.applied,
        "h": stats.horizon,
    }
    blob = CompactJSONAttribute().serialize(maps)
    names_and_scalars = len("c-5f2a9e01b7c44d10") + 120  # key, v, n, sp, fd, ld, fs, lm, u
    assert len(blob) + names_and_scalars < 1024, len(blob)


@pytest.mark.parametrize(
    ("since", "today", "months"),
    [
        ("2026-08-05", date(2026, 11, 4), 2),
        ("2026-08-05", date(2026, 11, 5), 3),
        ("2026-01-31", date(2026, 2, 28), 0),
        ("2025-12-15", date(2026, 1, 15), 1),
    ],
)
def test_months_since_counts_whole_calendar_months(since, today, months):
    assert rules.months_between(since, today) == months


def test_read_time_figures():
    stats = rules.Stats()
    rules.apply_completion(stats, "O1", "sh-b", "2026-11-03T17:00:00Z", 1001, 0, [])
    rules.apply_completion(stats, "O2", "sh-a", "2026-11-20T02:00:00Z", 1000, 0, [])
    assert rules.average_order_fen(stats) == 1000 and rules.favourite_store(stats) == "sh-a"
    assert stats.first_date == "2026-11-04"  # 01:00 in Shanghai: the local date
    today = date(2026, 12, 2)
    assert rules.days_since(stats.last_date, today) == 12
    assert rules.orders_within(stats, 30, today) == 2
    assert rules.orders_within(stats, 14, today) == 1
