"""Storefront traffic's plain rules (traffic/rules.py): which events are believed, the
store's local day, and the plan of counter increments that keeps the distinct counters
exact however a device's events are split into batches."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from chalicelib.traffic import rules
from chalicelib.traffic.rules import Counted
from hypothesis import given
from hypothesis import strategies as st

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def test_events_older_than_a_day_or_more_than_five_minutes_ahead_are_not_believed():
    assert rules.time_problem(NOW, NOW) is None
    assert rules.time_problem(NOW - timedelta(hours=23, minutes=59), NOW) is None
    assert rules.time_problem(NOW - timedelta(days=1, seconds=1), NOW) == "too_old"
    assert rules.time_problem(NOW + timedelta(minutes=5), NOW) is None
    assert rules.time_problem(NOW + timedelta(minutes=5, seconds=1), NOW) == "in_the_future"


def test_the_day_is_the_stores_local_day():
    late_utc = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)  # 00:30 on the 5th in Shanghai
    assert rules.local_day(late_utc, "Asia/Shanghai") == "2026-12-05"
    assert rules.local_day(late_utc, "Europe/London") == "2026-12-04"
    assert rules.local_day(late_utc, "Not/AZone") == "2026-12-05"  # the chain's default


def test_the_batch_marker_outlives_the_window_in_which_its_events_count():
    """A replay after the batch marker expired has nothing left to count."""
    assert rules.BATCH_MARKER_TTL > rules.MAX_LAG + rules.MAX_LEAD


def test_a_day_marker_lives_until_its_days_events_can_no_longer_arrive():
    expiry = rules.day_marker_expiry("2026-12-05")
    last_event = datetime(2026, 12, 5, 15, 59, 59, tzinfo=UTC)  # 23:59:59 local
    assert expiry >= last_event + rules.MAX_LAG + rules.MAX_LEAD


def test_a_plan_adds_each_distinct_counter_once_per_campaign_and_once_across():
    events = [
        Counted("visit_store", "s", "d", "-"),
        Counted("visit_store", "s", "d", "cmp"),
        Counted("view_product", "s", "d", "cmp"),
        Counted("add_to_cart", "s", "d", "cmp"),
        Counted("add_to_cart", "s", "d", "cmp"),
    ]
    p = rules.plan(events, {})
    assert p.rows == {
        ("s", "d#-"): {"visits": 1, "visitors": 1},
        ("s", "d#cmp"): {
            "visits": 1,
            "visitors": 1,
            "product_views": 1,
            "carts": 2,
            "cart_visitors": 1,
        },
        ("s", "d#*"): {"visitors": 1, "cart_visitors": 1},
    }
    assert p.new_flags == {("s", "d"): {"v|-", "v|cmp", "v|*", "c|cmp", "c|*"}}


def test_flags_already_held_add_no_distinct_counter():
    events = [Counted("visit_store", "s", "d", "-")]
    p = rules.plan(events, {("s", "d"): {"v|-", "v|*"}})
    assert p.rows == {("s", "d#-"): {"visits": 1}} and p.new_flags == {}


def test_views_only_need_no_marker():
    p = rules.plan([Counted("view_product", "s", "d", "-")] * 3, {})
    assert p.rows == {("s", "d#-"): {"product_views": 3}} and p.new_flags == {}


def test_the_most_transaction_items_a_batch_can_need():
    one_store = [Counted("visit_store", "s", "d", c) for c in ("-", "a", "b")]
    assert rules.most_tx_items(one_store) == 1 + 3 + 2
    many = [Counted("visit_store", f"s{i}", "d", "-") for i in range(33)]
    assert rules.most_tx_items(many) == 100


def test_a_digest_tells_other_events_apart():
    a = [{"type": "visit_store", "store_id": "s", "at": "2026-12-05T02:00:00Z"}]
    b = [{"type": "visit_store", "store_id": "s", "at": "2026-12-05T02:00:01Z"}]
    assert rules.digest("dev", a) == rules.digest("dev", [dict(a[0])])
    assert rules.digest("dev", a) != rules.digest("dev", b)
    assert rules.digest("dev", a) != rules.digest("dev2", a)


events_st = st.lists(
    st.builds(
        Counted,
        st.sampled_from(list(rules.EVENT_COUNTER)),
        st.sampled_from(["s1", "s2"]),
        st.sampled_from(["2026-12-04", "2026-12-05"]),
        st.sampled_from(["-", "c1", "c2"]),
    ),
    max_size=30,
)


@given(events_st, st.lists(st.integers(min_value=1, max_value=6), max_size=30))
def test_however_a_devices_events_are_batched_the_counters_come_out_the_same(events, cuts):
    """One device's events cut into batches, each planned against the flags the earlier
    ones left: event counters equal the events, and a distinct counter is 1 on each row
    where the device did that thing (per campaign, and once on the all-campaigns row)."""
    flags: dict[tuple[str, str], set[str]] = {}
    totals: Counter[tuple[str, str, str]] = Counter()
    i = 0
    for size in [*cuts, len(events)]:
        chunk, i = events[i : i + size], i + size
        p = rules.plan(chunk, flags)
        for (store, dc), adds in p.rows.items():
            for counter, n in adds.items():
                totals[(store, dc, counter)] += n
        for sd, gained in p.new_flags.items():
            assert not gained & flags.get(sd, set())
            flags.setdefault(sd, set()).update(gained)
    want: Counter[tuple[str, str, str]] = Counter()
    for e in events:
        want[(e.store_id, f"{e.day}#{e.campaign}", rules.EVENT_COUNTER[e.type])] += 1
    for e in events:
        if e.type in rules.DISTINCT:
            _, distinct = rules.DISTINCT[e.type]
            for c in (e.campaign, "*"):
                want[(e.store_id, f"{e.day}#{c}", distinct)] = 1
    assert totals == want
