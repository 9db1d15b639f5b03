"""infra/local/member_history.py: the demo's member history puts members in every
lifecycle stage and RFM group, fills each store's recall list, counts the demo members'
60 days of history orders like their events would, and a second run writes nothing.

The lifecycle stages and RFM groups are computed here by a small local helper
(``stage``, ``rfm_groups``) as docs/segments.md and issue 15 define them: the segments
module is being built in parallel; the lead switches these to it once merged."""

from __future__ import annotations

from collections import Counter
from datetime import date

from chalicelib.customers import aggregates, rules
from chalicelib.customers.models import MemberStatsModel
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel

from infra.local import history, member_history

TODAY = date(2026, 11, 24)
HIGH = 4  # an R, F or M quintile score of 4-5 is "high"
GROUPS = {  # (R high, F high, M high) -> group
    (True, True, True): "重要价值",
    (True, False, True): "重要发展",
    (False, True, True): "重要保持",
    (False, False, True): "重要挽留",
    (True, True, False): "一般价值",
    (True, False, False): "一般发展",
    (False, True, False): "一般保持",
    (False, False, False): "一般挽留",
}


def stage(months: int) -> str:
    """Lifecycle stage by whole months since the last order (or since joining)."""
    if months <= 3:
        return "joining"
    if months <= 6:
        return "awakening"
    if months <= 9:
        return "churn_recall"
    if months <= 12:
        return "dormant"
    return "lost"


def quintile_scores(values: dict[str, float]) -> dict[str, int]:
    """1-5: how many of the 20/40/60/80 % cut-offs a value is above (larger is better)."""
    ordered = sorted(values.values())
    cuts = [ordered[len(ordered) * k // 5] for k in range(1, 5)]
    return {cid: 1 + sum(v > c for c in cuts) for cid, v in values.items()}


def rfm_groups(stats: dict[str, rules.Stats], today: date) -> dict[str, str]:
    ordered = {cid: s for cid, s in stats.items() if s.orders}
    r = quintile_scores({c: -rules.days_since(s.last_date, today) for c, s in ordered.items()})
    f = quintile_scores({c: s.orders for c, s in ordered.items()})
    m = quintile_scores({c: s.spend_fen for c, s in ordered.items()})
    out = {cid: "no_orders" for cid in stats if cid not in ordered}
    for c in ordered:
        out[c] = GROUPS[(r[c] >= HIGH, f[c] >= HIGH, m[c] >= HIGH)]
    return out


def all_stats() -> dict[str, rules.Stats]:
    items = {i.customer_id: aggregates.decode(i) for i in MemberStatsModel.scan()}
    members = [c.customer_id for c in CustomerModel.scan()]
    return {cid: items.get(cid, rules.Stats()) for cid in members}


def test_every_stage_and_rfm_group_has_members_and_a_rerun_writes_nothing(aws):
    assert member_history.seed_history_members(today=TODAY) == member_history.MEMBERS
    stats = all_stats()
    assert len(stats) == member_history.MEMBERS
    members = {c.customer_id: c for c in CustomerModel.scan()}
    stages = Counter()
    for cid, s in stats.items():
        since = s.last_date or rules.local_date(members[cid].created_at)
        stages[stage(rules.months_between(since, TODAY))] += 1
    assert set(stages) == {"joining", "awakening", "churn_recall", "dormant", "lost"}
    assert min(stages.values()) >= 50, stages
    groups = Counter(rfm_groups(stats, TODAY).values())
    assert set(groups) == {*GROUPS.values(), "no_orders"}, groups
    assert min(groups.values()) >= 20, groups
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
