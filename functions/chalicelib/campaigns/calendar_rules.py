"""The campaign calendar's pure rules (issue 16 item 1): the seed's nodes of a year,
computed (never stored), and how head office's stored changes apply to them.

A year is "pre-filled" because its seed nodes are a function of the year and the
stores' opening dates: no job writes them. Lunar festivals come from ``lunardate``
(1900-2099), the Gregorian ones from fixed dates; docs/campaigns.md lists every rule.
Dates are the chain's local days (Asia/Shanghai)."""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from lunardate import LunarDate

GRADES = ("S", "A", "B", "C")
KINDS = ("seed", "anniversary", "adhoc")
FIRST_YEAR, LAST_YEAR = 2000, 2099  # lunardate knows 1900-2099; the chain needs no more
MAX_DAYS = 120  # a node longer than a season is a typo, not a campaign
ANNIVERSARY_DAYS = 3  # 店庆: the anniversary and the two days after it


@dataclass(frozen=True)
class Node:
    """One node of the calendar: a window of local days with a grade."""

    node_id: str
    key: str
    name_zh: str
    name_en: str
    grade: str  # GRADES
    starts_on: date
    ends_on: date  # inclusive
    kind: str  # KINDS
    store_id: str | None = None  # anniversaries only


@dataclass(frozen=True)
class StoreOpening:
    store_id: str
    name: str
    opened_on: date


@dataclass(frozen=True)
class Override:
    """Head office's stored change to a year: a moved/regraded/renamed seed, a hidden
    seed, or an added (ad hoc) node. ``node`` is the node as it now reads."""

    node: Node
    hidden: bool = False
    version: int = 0


# --- date rules ----------------------------------------------------------------------------
def lunar(year: int, month: int, day: int) -> date:
    """The Gregorian date of a lunar date (never the leap month) of lunar year ``year``."""
    return LunarDate(year, month, day).to_solar_date()


def new_years_eve(year: int) -> date:
    """除夕: the day before lunar new year (1-1) of the lunar year starting in ``year``
    (the 12th month has 29 or 30 days, so "the day before 1-1" is the one safe rule)."""
    return lunar(year, 1, 1) - timedelta(days=1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th ``weekday`` (0 = Monday) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def anniversary(opened_on: date, year: int) -> date:
    """The opening date's anniversary in ``year`` (a 29 February opening: the 28th)."""
    day = opened_on.day
    if opened_on.month == 2 and day == 29 and not gregorian.isleap(year):
        day = 28
    return date(year, opened_on.month, day)


def _span(first: date, last: date) -> tuple[date, date]:
    return first, last


def _lead(days: int, on: date) -> tuple[date, date]:
    """A window of ``days`` days ending on the festival itself (the shopping before it)."""
    return on - timedelta(days=days - 1), on


# key -> (grade, zh, en, window of the year). Order = the seed table in docs/campaigns.md.
Window = Callable[[int], tuple[date, date]]
SEEDS: dict[str, tuple[str, str, str, Window]] = {
    # 年货节: the four weeks up to 除夕 (always covers 腊八 and 小年); it belongs to the
    # Gregorian year of its 除夕 and may start in late December of the year before.
    "new_year_goods": ("S", "年货节", "New Year goods fair", lambda y: _lead(28, new_years_eve(y))),
    "618": (
        "S",
        "618年中大促",
        "618 mid-year sale",
        lambda y: _span(date(y, 6, 1), date(y, 6, 18)),
    ),
    "double_11": (
        "S",
        "双11",
        "Singles' Day (11.11)",
        lambda y: _span(date(y, 11, 1), date(y, 11, 11)),
    ),
    "double_12": (
        "S",
        "双12",
        "Double 12 (12.12)",
        lambda y: _span(date(y, 12, 1), date(y, 12, 12)),
    ),
    "womens_day": ("A", "妇女节", "Women's Day", lambda y: _lead(3, date(y, 3, 8))),
    "818": ("A", "818", "818 sale", lambda y: _span(date(y, 8, 8), date(y, 8, 18))),
    "back_to_school": (
        "A",
        "开学季",
        "Back to school",
        lambda y: _span(date(y, 9, 1), date(y, 9, 15)),
    ),
    "national_day": ("A", "国庆", "National Day", lambda y: _span(date(y, 10, 1), date(y, 10, 7))),
    "mid_autumn": ("A", "中秋", "Mid-Autumn Festival", lambda y: _lead(5, lunar(y, 8, 15))),
    "valentines_day": ("B", "情人节", "Valentine's Day", lambda y: _lead(3, date(y, 2, 14))),
    "lantern": ("B", "元宵", "Lantern Festival", lambda y: _lead(3, lunar(y, 1, 15))),
    "spring_outing": (
        "B",
        "踏青季",
        "Spring outing",
        lambda y: _span(date(y, 4, 1), date(y, 4, 30)),
    ),
    "foodie_517": ("B", "517吃货节", "517 Foodie Day", lambda y: _lead(3, date(y, 5, 17))),
    "mothers_day": ("B", "母亲节", "Mother's Day", lambda y: _lead(3, nth_weekday(y, 5, 6, 2))),
    "summer_cool": ("B", "清爽季", "Cool summer", lambda y: _span(date(y, 7, 1), date(y, 7, 31))),
    "double_ninth": ("B", "重阳", "Double Ninth Festival", lambda y: _lead(3, lunar(y, 9, 9))),
}
ADHOC_KEYS = ("new_product", "single_item", "member_exclusive", "other")  # grade C, ad hoc


def seed_id(year: int, key: str) -> str:
    return f"{year}:{key}"


def anniversary_id(year: int, store_id: str) -> str:
    return f"{year}:anniversary:{store_id}"


def seed_nodes(year: int, stores: Iterable[StoreOpening] = ()) -> list[Node]:
    """The seed's nodes of ``year`` and each store's anniversary (from its first full
    year open), sorted by start. Ids are deterministic, so overrides find them again."""
    check_year(year)
    nodes = []
    for key, (grade, zh, en, window) in SEEDS.items():
        starts, ends = window(year)
        nodes.append(Node(seed_id(year, key), key, zh, en, grade, starts, ends, "seed"))
    for store in stores:
        if store.opened_on.year >= year:
            continue  # not open a full year yet: an opening, not an anniversary
        on = anniversary(store.opened_on, year)
        count = year - store.opened_on.year
        nodes.append(
            Node(
                anniversary_id(year, store.store_id),
                "anniversary",
                f"{store.name} {count}周年店庆",
                f"{store.name} anniversary ({count})",
                "A",
                on,
                on + timedelta(days=ANNIVERSARY_DAYS - 1),
                "anniversary",
                store.store_id,
            )
        )
    return sort_nodes(nodes)


def sort_nodes(nodes: Iterable[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: (n.starts_on, n.ends_on, GRADES.index(n.grade), n.node_id))


def merge(
    seeds: Iterable[Node], overrides: Mapping[str, Override]
) -> tuple[list[tuple[Node, int]], list[tuple[Node, int]]]:
    """The year as head office sees it: (visible nodes, hidden seeds), each with its
    version, sorted by start. An override replaces its seed; an override with no seed
    is an added node (or a seed whose store lost its opening date: still shown)."""
    visible: list[tuple[Node, int]] = []
    hidden: list[tuple[Node, int]] = []
    seen = set()
    for seed in seeds:
        seen.add(seed.node_id)
        o = overrides.get(seed.node_id)
        node, version = (o.node, o.version) if o else (seed, 0)
        (hidden if o and o.hidden else visible).append((node, version))
    for node_id, o in overrides.items():
        if node_id not in seen and not o.hidden:
            visible.append((o.node, o.version))
    order = {n.node_id: i for i, n in enumerate(sort_nodes(n for n, _ in visible + hidden))}
    return (
        sorted(visible, key=lambda p: order[p[0].node_id]),
        sorted(hidden, key=lambda p: order[p[0].node_id]),
    )


# --- checks ----------------------------------------------------------------------------------
def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the calendar covers {FIRST_YEAR}-{LAST_YEAR}")


def window_errors(year: int, starts_on: date, ends_on: date) -> list[tuple[str, str]]:
    """What is wrong with a node's window in ``year``: (field, reason) pairs."""
    errors = []
    if ends_on < starts_on:
        errors.append(("ends_on", "ends before it starts"))
    elif (ends_on - starts_on).days + 1 > MAX_DAYS:
        errors.append(("ends_on", f"a node lasts at most {MAX_DAYS} days"))
    # The year's nodes overlap it (年货节 may start in the December before).
    if ends_on < date(year, 1, 1) or starts_on > date(year, 12, 31):
        errors.append(("starts_on", f"the node must fall at least partly in {year}"))
    return errors


def moved(node: Node, **changes: object) -> Node:
    """``node`` with some of name_zh, name_en, grade, starts_on, ends_on changed."""
    return replace(node, **changes)  # type: ignore[arg-type]
