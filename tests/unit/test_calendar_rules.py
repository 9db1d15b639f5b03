"""The campaign calendar's seed nodes: lunar festivals on known dates for several years,
cross-checked against the State Council's holiday notices (chinese_calendar's data,
independent of lunardate's tables), the Gregorian nodes, anniversaries and merging."""

from datetime import date

import chinese_calendar
import pytest
from chalicelib.campaigns import calendar_rules as r


def by_key(year, stores=()):
    return {n.key if n.kind == "seed" else n.node_id: n for n in r.seed_nodes(year, stores)}


# Known dates from printed calendars (万年历), not from the library under test.
@pytest.mark.parametrize(
    ("year", "mid_autumn", "lantern", "double_ninth", "eve"),
    [
        (2023, date(2023, 9, 29), date(2023, 2, 5), date(2023, 10, 23), date(2023, 1, 21)),
        (2024, date(2024, 9, 17), date(2024, 2, 24), date(2024, 10, 11), date(2024, 2, 9)),
        (2025, date(2025, 10, 6), date(2025, 2, 12), date(2025, 10, 29), date(2025, 1, 28)),
        (2026, date(2026, 9, 25), date(2026, 3, 3), date(2026, 10, 18), date(2026, 2, 16)),
        (2027, date(2027, 9, 15), date(2027, 2, 20), date(2027, 10, 8), date(2027, 2, 5)),
    ],
)
def test_lunar_nodes_end_on_the_festival(year, mid_autumn, lantern, double_ninth, eve):
    nodes = by_key(year)
    assert nodes["mid_autumn"].ends_on == mid_autumn
    assert nodes["lantern"].ends_on == lantern
    assert nodes["double_ninth"].ends_on == double_ninth
    assert r.new_years_eve(year) == eve
    assert nodes["new_year_goods"].ends_on == eve


def test_the_new_year_fair_is_the_four_weeks_to_the_eve_and_may_start_the_year_before():
    fair = by_key(2028)["new_year_goods"]  # 春节 2028-01-26
    assert (fair.starts_on, fair.ends_on) == (date(2027, 12, 29), date(2028, 1, 25))
    assert by_key(2025)["new_year_goods"].starts_on == date(2025, 1, 1)
    # It always holds 腊八 (lunar 12-08 of the year before).
    for year in range(2000, 2100):
        fair = by_key(year)["new_year_goods"]
        assert fair.starts_on <= r.lunar(year - 1, 12, 8) <= fair.ends_on


def test_lunar_dates_agree_with_the_official_holidays_of_every_year_known():
    """The State Council's notices (chinese_calendar 1.11 holds 2004-2026): the spring
    festival holiday holds lunar 1-1 and, since 2008, mid-autumn's holds lunar 8-15."""
    holidays = chinese_calendar.holidays
    years = sorted({d.year for d in holidays})
    assert years[0] <= 2008 and years[-1] >= 2026
    for year in years:
        assert holidays.get(r.lunar(year, 1, 1)) == "Spring Festival", year
        if year >= 2008:
            # 2020: 中秋 fell on 国庆 and the notice lists the day under National Day.
            allowed = {"Mid-autumn Festival"} | ({"National Day"} if year == 2020 else set())
            assert holidays.get(by_key(year)["mid_autumn"].ends_on) in allowed, year


@pytest.mark.parametrize(
    ("year", "sunday"),
    [(2024, date(2024, 5, 12)), (2025, date(2025, 5, 11)), (2026, date(2026, 5, 10))],
)
def test_mothers_day_is_the_second_sunday_of_may(year, sunday):
    assert by_key(year)["mothers_day"].ends_on == sunday


def test_the_seed_table_of_a_year():
    nodes = by_key(2026)
    assert {k: n.grade for k, n in nodes.items()} == {
        "new_year_goods": "S", "618": "S", "double_11": "S", "double_12": "S",
        "womens_day": "A", "818": "A", "back_to_school": "A", "national_day": "A",
        "mid_autumn": "A", "valentines_day": "B", "lantern": "B", "spring_outing": "B",
        "foodie_517": "B", "mothers_day": "B", "summer_cool": "B", "double_ninth": "B",
    }  # fmt: skip
    assert (nodes["618"].starts_on, nodes["618"].ends_on) == (date(2026, 6, 1), date(2026, 6, 18))
    assert nodes["double_11"].ends_on == date(2026, 11, 11)
    assert nodes["national_day"].node_id == "2026:national_day"
    assert all(n.kind == "seed" and n.name_zh and n.name_en for n in nodes.values())
    listed = r.seed_nodes(2026)
    assert listed == sorted(listed, key=lambda n: n.starts_on)


def test_anniversaries_from_the_opening_date():
    stores = [
        r.StoreOpening("sh-a", "静安店", date(2019, 2, 29 - 1)),
        r.StoreOpening("sh-leap", "闰年店", date(2020, 2, 29)),
        r.StoreOpening("sh-new", "新店", date(2026, 3, 1)),
    ]
    nodes = by_key(2026, stores)
    a = nodes["2026:anniversary:sh-a"]
    assert (a.grade, a.kind, a.store_id) == ("A", "anniversary", "sh-a")
    assert (a.starts_on, a.ends_on) == (date(2026, 2, 28), date(2026, 3, 2))
    assert "7周年" in a.name_zh
    assert nodes["2026:anniversary:sh-leap"].starts_on == date(2026, 2, 28)
    assert by_key(2028, stores)["2028:anniversary:sh-leap"].starts_on == date(2028, 2, 29)
    assert "2026:anniversary:sh-new" not in nodes  # opened this year: no anniversary yet


def test_years_outside_the_range_are_refused():
    for year in (1999, 2100):
        with pytest.raises(ValueError):
            r.seed_nodes(year)
    assert r.seed_nodes(2000) and r.seed_nodes(2099)


def test_merge_moves_hides_and_adds():
    seeds = r.seed_nodes(2026)
    six18 = next(n for n in seeds if n.key == "618")
    lantern = next(n for n in seeds if n.key == "lantern")
    moved = r.moved(six18, starts_on=date(2026, 5, 25), grade="A")
    added = r.Node("2026:adhoc:x", "new_product", "新品", "New", "C", date(2026, 5, 1),
                   date(2026, 5, 3), "adhoc")  # fmt: skip
    visible, hidden = r.merge(
        seeds,
        {
            six18.node_id: r.Override(moved, version=2),
            lantern.node_id: r.Override(lantern, hidden=True, version=1),
            added.node_id: r.Override(added, version=1),
        },
    )
    ids = [n.node_id for n, _ in visible]
    assert lantern.node_id not in ids and [n for n, _ in hidden] == [lantern]
    assert (moved, 2) in visible and (added, 1) in visible
    assert len(visible) == len(seeds)  # one hidden, one added
    assert [n.starts_on for n, _ in visible] == sorted(n.starts_on for n, _ in visible)


def test_window_errors():
    assert r.window_errors(2026, date(2026, 3, 2), date(2026, 3, 1)) == [
        ("ends_on", "ends before it starts")
    ]
    assert r.window_errors(2026, date(2025, 12, 20), date(2026, 1, 10)) == []
    assert r.window_errors(2026, date(2025, 12, 1), date(2025, 12, 3))[0][0] == "starts_on"
    assert r.window_errors(2026, date(2026, 1, 1), date(2026, 12, 31))[0][0] == "ends_on"
