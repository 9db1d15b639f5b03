"""Automatic tag rules (customers/tag_rules.py, pure): each default rule at its boundary,
the figures read from the aggregates (the 30-day window's first and last day), AND of
rules sharing a tag, a missing figure, and the validation of rules and tag names."""

from __future__ import annotations

from datetime import date

import pytest
from chalicelib.customers import rules, tag_rules
from chalicelib.customers.schemas import TagRule, TagRules
from chalicelib.kernel.errors import ValidationFailed

TODAY = date(2026, 12, 5)
DEFAULTS = TagRules().rules


def figs(stats=None, *, level=None, source_kind=None, paid=False, registered_at=None):
    return tag_rules.figures(
        stats or rules.Stats(),
        level=level,
        source_kind=source_kind,
        registered_at=registered_at,
        paid=paid,
        today=TODAY,
    )


def stats_with(days: dict[str, list[int]], orders=None, spend=0) -> rules.Stats:
    n = orders if orders is not None else sum(v[0] for v in days.values())
    last = max(days) if days else None
    return rules.Stats(orders=n, spend_fen=spend, days=days, last_date=last)


def test_fresh_three_times_in_30_days_counts_the_window_inclusive():
    # 30 days including today: 2026-11-06 .. 2026-12-05
    inside = {"2026-11-06": [1, 1], "2026-11-20": [1, 1], "2026-12-05": [1, 1]}
    assert "生鲜常客" in tag_rules.evaluate(DEFAULTS, figs(stats_with(inside)))
    outside = {**inside, "2026-11-05": [1, 1]}
    del outside["2026-11-06"]
    assert "生鲜常客" not in tag_rules.evaluate(DEFAULTS, figs(stats_with(outside)))
    not_fresh = {**inside, "2026-11-06": [1, 0]}
    assert "生鲜常客" not in tag_rules.evaluate(DEFAULTS, figs(stats_with(not_fresh)))


@pytest.mark.parametrize(("spend", "tagged"), [(15000, True), (14999, False), (30000, True)])
def test_aov_150_yuan_at_the_fen(spend, tagged):
    # two orders and one fen more: the average rounds down to ``spend``
    stats = stats_with({"2026-12-01": [2, 0]}, spend=spend * 2 + 1)
    assert ("高客单" in tag_rules.evaluate(DEFAULTS, figs(stats))) is tagged


def test_no_orders_is_no_aov_tag_and_no_recency():
    f = figs()
    assert f["aov_fen"] == 0 and f["days_since_last_order"] is None
    assert tag_rules.evaluate(DEFAULTS, f) == []
    never = [TagRule(tag="久未下单", metric="days_since_last_order", op="!=", value=0)]
    assert tag_rules.evaluate(never, f) == []  # a missing figure: every rule on it false


@pytest.mark.parametrize(
    ("level", "tagged"),
    [(None, False), ("V2", False), ("V3", True), ("V10", True), ("gold", False)],
)
def test_level_rank(level, tagged):
    assert ("V3及以上" in tag_rules.evaluate(DEFAULTS, figs(level=level))) is tagged


def test_source_and_paid_member():
    assert tag_rules.evaluate(DEFAULTS, figs(source_kind="shelf", paid=True)) == [
        "货架码来源",
        "付费会员",
    ]
    assert tag_rules.evaluate(DEFAULTS, figs(source_kind="store", paid=False)) == []


def test_rules_sharing_a_tag_all_must_hold_and_category_spend():
    both = [
        TagRule(tag="水果大户", metric="category_spend_fen:水果", op=">=", value=10000),
        TagRule(tag="水果大户", metric="orders_90d", op="<=", value=2),
    ]
    stats = stats_with({"2026-12-01": [2, 0]})
    stats.categories = {"水果": 10000}
    assert tag_rules.evaluate(both, figs(stats)) == ["水果大户"]
    stats.categories = {"水果": 9999}
    assert tag_rules.evaluate(both, figs(stats)) == []
    stats.categories = {"水果": 10000}
    stats.days["2026-12-02"] = [1, 0]  # a third order in 90 days
    assert tag_rules.evaluate(both, figs(stats)) == []
    none_bought = [TagRule(tag="不买肉", metric="category_spend_fen:肉禽蛋", op="=", value=0)]
    assert tag_rules.evaluate(none_bought, figs(stats)) == ["不买肉"]


def test_months_since_registration_counts_whole_months():
    r = [TagRule(tag="老会员", metric="months_since_registration", op=">=", value=12)]
    # registered 2025-12-05 10:00 Shanghai: 12 months today; the 6th: 11
    assert tag_rules.evaluate(r, figs(registered_at="2025-12-05T02:00:00Z")) == ["老会员"]
    assert tag_rules.evaluate(r, figs(registered_at="2025-12-06T02:00:00Z")) == []


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (TagRule(tag="t", metric="height", op=">=", value=1), "rules[0].metric"),
        (TagRule(tag="t", metric="orders", op=">=", value="1"), "rules[0].value"),
        (TagRule(tag="t", metric="orders", op=">=", value=False), "rules[0].value"),
        (TagRule(tag="t", metric="level", op="<=", value="V3"), "rules[0].op"),
        (TagRule(tag="t", metric="paid_member", op="=", value="yes"), "rules[0].value"),
        (TagRule(tag="", metric="orders", op=">=", value=1), "rules[0].tag"),
    ],
)
def test_bad_rules_name_their_field(rule, field):
    with pytest.raises(ValidationFailed) as caught:
        tag_rules.check_rules([rule])
    assert field in [d["field"] for d in caught.value.details]


def test_the_defaults_are_valid():
    tag_rules.check_rules(DEFAULTS)


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("生鲜常客", True),
        ("一" * 20, True),
        ("一" * 21, False),
        ("", False),
        (" vip", False),
        ("a\nb", False),
        ("a\u200bb", False),  # a zero-width space (a format character)
        ("50%off", False),
        ("a/b", False),
    ],
)
def test_tag_names(tag, ok):
    assert (tag_rules.tag_problem(tag) is None) is ok
