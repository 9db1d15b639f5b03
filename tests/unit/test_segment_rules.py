"""Segments' pure rules: RFM cut-offs and groups at their boundaries, lifecycle stages in
Shanghai's calendar months, the 20/80 arithmetic, the snapshot round trip, and the
bitmap count equal to a brute-force filter on random snapshots."""

from __future__ import annotations

from datetime import date

from chalicelib.customers import segment_rules as r
from hypothesis import given, settings
from hypothesis import strategies as st

D = date.fromisoformat


def test_quintile_cutoffs_and_ties_at_a_cutoff_share_a_score():
    values = list(range(1, 11))  # 10 members: ranks 2, 4, 6, 8
    cuts = r.cutoffs(values)
    assert cuts == [3, 5, 7, 9]
    assert [r.score_up(v, cuts) for v in values] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    tied = [1, 2, 2, 2, 2, 2, 2, 2, 9, 10]
    tcuts = r.cutoffs(tied)
    scores = [r.score_up(v, tcuts) for v in tied]
    assert len({s for v, s in zip(tied, scores, strict=True) if v == 2}) == 1  # one score
    assert scores[-1] == 5 and scores[0] == 1
    assert r.cutoffs([]) == []


def test_recency_scores_the_most_recent_highest():
    days = [1, 5, 10, 30, 60, 90, 120, 200, 300, 400]
    cuts = r.cutoffs([-d for d in days])
    scores = [r.score_down(d, cuts) for d in days]
    assert scores == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_groups_high_is_four_or_five():
    assert r.group(4, 4, 4) == "important_value"
    assert r.group(3, 4, 4) == "important_recall"
    assert r.group(5, 3, 5) == "important_develop"
    assert r.group(1, 1, 4) == "important_retain"
    assert r.group(4, 5, 3) == "potential"
    assert r.group(4, 1, 1) == "new"
    assert r.group(3, 4, 3) == "maintain"
    assert r.group(3, 3, 3) == "lost"
    assert len(set(r.GROUPS.values())) == 8


def test_lifecycle_boundaries_in_calendar_months():
    last = D("2026-01-31")
    assert r.stage(last, D("2026-04-30")) == "joining"  # 2 whole months (no 04-31)
    assert r.stage(last, D("2026-05-01")) == "awakening"  # 3 months
    assert r.stage(D("2026-03-15"), D("2026-06-14")) == "joining"
    assert r.stage(D("2026-03-15"), D("2026-06-15")) == "awakening"
    assert r.stage(D("2026-03-15"), D("2026-09-14")) == "awakening"
    assert r.stage(D("2026-03-15"), D("2026-09-15")) == "churn_recall"
    assert r.stage(D("2026-03-15"), D("2026-12-15")) == "dormant"
    assert r.stage(D("2026-03-15"), D("2027-03-14")) == "dormant"
    assert r.stage(D("2026-03-15"), D("2027-03-15")) == "lost"
    assert r.stage(D("2024-02-29"), D("2025-02-28")) == "dormant"
    assert r.stage(D("2024-02-29"), D("2025-03-01")) == "lost"


def test_pareto_top_fifth_share():
    spends = [10] * 8 + [100, 300]  # top 2 of 10 made 400 of 480
    share, curve = r.pareto(spends)
    assert share == round(400 / 480, 4)
    assert curve[0] == [0.0, 0.0] and curve[-1] == [100.0, 100.0]
    assert curve[4] == [20.0, round(100 * 400 / 480, 2)]
    assert len(curve) == 21
    assert r.pareto([])[0] == 0.0
    assert r.pareto([1, 2, 3])[0] == round(3 / 6, 4)  # ceil(3/5) = 1 member


def _rows():
    return st.lists(
        st.builds(
            r.Row,
            customer_id=st.uuids().map(lambda u: f"c-{u.hex[:12]}"),
            spend_fen=st.integers(0, 50_000),
            orders=st.integers(0, 300),
            last_day=st.integers(D("2024-01-01").toordinal(), D("2026-12-05").toordinal()),
            join_day=st.integers(D("2023-01-01").toordinal(), D("2026-12-05").toordinal()),
            level=st.sampled_from([None, "V1", "V2", "V3"]),
            source=st.sampled_from([None, "store", "shelf", "staff"]),
            store=st.sampled_from([None, "sh-a", "sh-b", "sh-c"]),
            consent=st.sampled_from([None, "granted", "revoked"]),
            paid=st.booleans(),
            tags=st.lists(st.sampled_from(["fresh", "vip", "aov150", "t3"]), max_size=3),
        ),
        max_size=60,
    )


def _filters():
    return st.builds(
        r.SegmentFilter,
        tags_any=st.lists(st.sampled_from(["fresh", "vip", "nope"]), max_size=2),
        tags_all=st.lists(st.sampled_from(["aov150", "t3"]), max_size=2),
        rfm_groups=st.lists(st.sampled_from(r.GROUP_IDS), max_size=3),
        lifecycle=st.lists(st.sampled_from(r.STAGES), max_size=2),
        levels=st.lists(st.sampled_from(["V1", "V3", "V9"]), max_size=2),
        sources=st.lists(st.sampled_from(["store", "shelf"]), max_size=1),
        stores=st.lists(st.sampled_from(["sh-a", "sh-c"]), max_size=2),
        spend_min_fen=st.none() | st.integers(0, 50_000),
        spend_max_fen=st.none() | st.integers(0, 50_000),
        orders_min=st.none() | st.integers(0, 300),
        paid=st.none() | st.booleans(),
    )


def _brute(snap: r.Snapshot, f: r.SegmentFilter, today: date) -> set[int]:
    m = snap.meta
    out = set()
    for i in range(snap.n):
        c = snap.cols
        tags = {t for b, t in enumerate(m["tags"]) if c["tags"][i] >> b & 1}
        ref = c["last_day"][i] if c["orders"][i] else c["join_day"][i]
        checks = [
            not f.tags_any or bool(tags & set(f.tags_any)),
            set(f.tags_all) <= tags,
            not f.rfm_groups or m["groups"][c["group"][i]] in f.rfm_groups,
            not f.lifecycle or r.stage_of_day(ref, today) in f.lifecycle,
            not f.levels or m["levels"][c["level"][i]] in f.levels,
            not f.sources or m["sources"][c["source"][i]] in f.sources,
            not f.stores or m["stores"][c["store"][i]] in f.stores,
            f.spend_min_fen is None or c["spend"][i] >= f.spend_min_fen,
            f.spend_max_fen is None or c["spend"][i] <= f.spend_max_fen,
            f.orders_min is None or c["orders"][i] >= f.orders_min,
            f.paid is None or bool(c["paid"][i]) == f.paid,
        ]
        if all(checks):
            out.add(i)
    return out


@settings(max_examples=150, deadline=None)
@given(rows=_rows(), f=_filters())
def test_bitmap_count_equals_brute_force(rows, f):
    for row in rows:
        if not row.orders:
            row.last_day = 0
    today = D("2026-12-05")
    snap = r.decode(r.encode(r.build(rows, as_of=today)))
    index = r.Index(snap)
    mask = index.select(f, today)
    expected = _brute(snap, f, today)
    assert set(r.rows_of(mask)) == expected
    assert mask.bit_count() == len(expected)
    assert index.spend_of(mask) == sum(snap.cols["spend"][i] for i in expected)
    assert (mask & index.revoked()).bit_count() == sum(
        1 for i in expected if snap.cols["consent"][i] == 2
    )


def test_spend_range_edges():
    rows = [
        r.Row(f"c{i}", spend_fen=s, orders=1, last_day=1)
        for i, s in enumerate([0, 100, 100, 200, 300])
    ]
    index = r.Index(r.build(rows, as_of=D("2026-01-01")))
    count = lambda lo, hi: index.spend_range(lo, hi).bit_count()  # noqa: E731
    assert count(100, 100) == 2  # both ends inclusive, ties included
    assert count(101, 199) == 0
    assert count(None, 100) == 3
    assert count(200, None) == 2
    assert count(301, None) == 0
    assert count(300, 0) == 0


def test_snapshot_round_trip_keeps_rows_and_meta():
    rows = [
        r.Row(
            "c-b",
            spend_fen=500,
            orders=2,
            last_day=D("2026-11-01").toordinal(),
            join_day=D("2026-01-01").toordinal(),
            level="V2",
            source="shelf",
            store="sh-a",
            consent="revoked",
            paid=True,
            tags=["vip"],
        ),
        r.Row("c-a", spend_fen=0, join_day=D("2026-10-01").toordinal(), store="sh-b"),
        r.Row("c-é", spend_fen=100, orders=1, last_day=D("2026-12-01").toordinal()),
    ]
    snap = r.build(rows, as_of=D("2026-12-05"), extra={"new_members": []})
    back = r.decode(r.encode(snap))
    assert [back.customer_id(i) for i in range(back.n)] == ["c-a", "c-é", "c-b"]
    assert list(back.cols["spend"]) == [0, 100, 500]
    assert back.meta["with_orders"] == 2 and back.meta["members"] == 3
    assert back.meta["groups"][back.cols["group"][0]] == "no_orders"
    assert back.meta["stores"][back.cols["store"][2]] == "sh-a"
    assert back.meta["tags"] == ["vip"] and back.cols["tags"][2] == 1
    assert back.cols["consent"][2] == 2 and back.cols["paid"][2] == 1


def test_beyond_64_tags_the_most_used_are_kept_and_the_others_listed():
    """65 tags: the nightly snapshot is still built; the least used tag (ties by name)
    has no bit and is listed as left out (a segment on it is refused, not counted 0)."""
    every = [f"t{i:02d}" for i in range(65)]
    rows = [r.Row("c1", tags=every), r.Row("c2", tags=every[1:])]
    snap = r.build(rows, as_of=D("2026-01-01"))
    assert snap.meta["tags"] == every[1:] and snap.meta["tags_left_out"] == ["t00"]
    back = r.decode(r.encode(snap))
    assert back.cols["tags"][0] == back.cols["tags"][1] == (1 << 64) - 1


def test_more_than_255_stores_count_by_both_bytes():
    stores = [f"s{i:03d}" for i in range(300)]
    rows = [r.Row(f"c{i}", store=stores[i % 300]) for i in range(900)]
    index = r.Index(r.build(rows, as_of=D("2026-01-01")))
    for name in ("s000", "s001", "s255", "s256", "s299"):
        got = index.select(r.SegmentFilter(stores=[name]), D("2026-01-01"))
        assert got.bit_count() == 3, name
        assert {index.snap.meta["stores"][index.snap.cols["store"][i]] for i in r.rows_of(got)} == {
            name
        }
