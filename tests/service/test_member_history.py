"""infra/local/member_history.py: the demo's member history puts members in every
lifecycle stage and RFM group, fills each store's recall list, counts the demo members'
60 days of history orders like their events would, and a second run writes nothing.

The lifecycle stages and RFM groups are the segments snapshot's own (customers/
segment_snapshot.py, segment_rules.py), built on the seeded members."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from chalicelib.customers import aggregates, rules
from chalicelib.customers.models import MemberStatsModel
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel

from infra.local import history, member_history

TODAY = date(2026, 11, 24)


def overview(monkeypatch):
    """The real segments snapshot (customers/segment_snapshot.py) built on the seeded
    members and read on TODAY: counts by lifecycle stage and RFM group."""
    from chalicelib.customers import segments
    from chalicelib.kernel import clock

    noon = datetime(TODAY.year, TODAY.month, TODAY.day, 4, tzinfo=UTC)  # 12:00 in Shanghai
    monkeypatch.setattr(clock, "now", lambda: noon)
    segments._loaded.update(key=None, index=None)
    segments.run_refresh()
    return segments.overview()


def all_stats() -> dict[str, rules.Stats]:
    items = {i.customer_id: aggregates.decode(i) for i in MemberStatsModel.scan()}
    members = [c.customer_id for c in CustomerModel.scan()]
    return {cid: items.get(cid, rules.Stats()) for cid in members}


def test_every_stage_and_rfm_group_has_members_and_a_rerun_writes_nothing(aws, monkeypatch):
    from chalicelib.customers.segment_rules import GROUPS, STAGES

    assert member_history.seed_history_members(today=TODAY) == member_history.MEMBERS
    stats = all_stats()
    assert len(stats) == member_history.MEMBERS
    members = {c.customer_id: c for c in CustomerModel.scan()}
    seen = overview(monkeypatch)
    assert set(seen.by_lifecycle) == set(STAGES), seen.by_lifecycle
    assert min(seen.by_lifecycle.values()) >= 50, seen.by_lifecycle
    assert set(seen.by_rfm) == {*GROUPS.values(), "no_orders"}, seen.by_rfm
    assert min(seen.by_rfm.values()) >= 20, seen.by_rfm
    # never stored ahead of today, registered before the first order
    for cid, s in stats.items():
        assert s.last_date is None or s.last_date < TODAY.isoformat()
        joined = rules.local_date(members[cid].created_at)
        assert rules.months_between(joined, TODAY) <= member_history.REGISTERED_MONTHS
        if s.first_date:
            assert joined <= s.first_date
    # consents, sources, levels, a few erased (as members/privacy.py leaves them)
    consent = Counter(c.marketing_consent for c in members.values())
    assert consent["granted"] and consent["revoked"] and consent[None]
    assert len({c.source_kind for c in members.values()}) == 6
    assert len({c.home_store_id for c in members.values()}) == 4
    assert {"V1", "V2", "V3", "V4"} <= {c.level for c in members.values()}
    erased = [c for c in members.values() if c.erased_at]
    assert 5 <= len(erased) <= 60
    assert all(c.phone == "" and c.reg_month is None for c in erased)
    phones = {p.phone: p.customer_id for p in CustomerPhoneModel.scan()}
    assert len(phones) == member_history.MEMBERS - len(erased)
    assert all(p.startswith("1990000") and len(p) == 11 for p in phones)
    # a second run: nothing
    assert member_history.seed_history_members(today=TODAY) == 0


def test_the_aggregates_are_the_rules_applied_to_the_planned_orders(aws):
    member_history.seed_history_members(count=40, today=TODAY)
    stores = ["sh-jingan", "sh-xuhui", "sh-lujiazui", "sh-wujiaochang"]
    for n in (1, 2, 3, 17, 40):
        plan = member_history.plan_member(n, TODAY, stores)
        want = member_history.stats_of(plan["completions"])
        got = aggregates.decode(aggregates.load(plan["customer_id"]))
        assert got == want
        assert got.orders == len(plan["completions"])
        refunded = sum(
            c["lines"][0]["paid_fen"]
            for c in plan["completions"]
            if c["refund_at_completion"] or c["refund_after"]
        )
        assert got.spend_fen == sum(c["paid_fen"] for c in plan["completions"]) - refunded


def test_each_store_has_a_recall_list(aws):
    member_history.seed_history_members(today=TODAY)
    cutoff = rules.recall_cutoff(TODAY)
    for store in ["sh-jingan", "sh-xuhui", "sh-lujiazui", "sh-wujiaochang"]:
        keys = MemberStatsModel.by_store_month.query(store, MemberStatsModel.last_month < cutoff)
        ids = [k.customer_id for k in keys]
        lapsed = [i for i in MemberStatsModel.batch_get(ids) if int(i.orders) >= 2]
        assert len(lapsed) >= 20, store


def test_the_demo_members_count_the_history_orders_once(aws):
    days = 5
    orders = history.completed_orders(days, TODAY)
    assert member_history.count_demo_orders(days, TODAY) > 0
    by_member: dict[str, list] = {}
    for o in orders:
        by_member.setdefault(o["customer_id"], []).append(o)
    for cid, mine in by_member.items():
        got = aggregates.decode(aggregates.load(cid))
        assert got.orders == len(mine)
        assert got.spend_fen == sum(o["paid_fen"] - o["refunded_fen"] for o in mine)
        assert sum(got.categories.values()) == got.spend_fen  # pickup: no delivery fee
    assert member_history.count_demo_orders(days, TODAY) == 0  # counted already
