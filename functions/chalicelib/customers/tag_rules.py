"""Automatic tags (标签, issue 15 item 2) as plain Python: what a rule may test, checking
head office's rules, and evaluating them on a member's figures. docs/segments.md, "Tags".

A rule is one condition (``metric op value``); a tag is given when EVERY rule naming it
holds (several rules with one tag name make an AND: "V3及以上 and bought fresh"). The
figures are the aggregates' read-time ones (customers/rules.py, nothing recomputed here);
a figure that does not exist for the member (days since the last order of a member who
never ordered, an unknown level) makes each rule on it false, ``!=`` included.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from chalicelib.customers import rules
from chalicelib.customers.schemas import TagRule
from chalicelib.kernel.errors import ValidationFailed, field_error

TAG_MAX_CHARS = 20
MAX_MANUAL_TAGS = 20  # manual tags on one member
MAX_RULES = 50
CATEGORY_PREFIX = "category_spend_fen:"
NUMERIC = frozenset(
    {
        "orders",
        "spend_fen",
        "aov_fen",
        "orders_30d",
        "fresh_orders_30d",
        "orders_90d",
        "days_since_last_order",
        "months_since_registration",
        "level_rank",
    }
)
SOURCE_KINDS = frozenset({"store", "shelf", "staff", "campaign", "ticket", "invite"})
TEXT = frozenset({"level", "source_kind"})
BOOLEAN = frozenset({"paid_member"})
ORDERED_OPS = frozenset({">=", "<="})
_LEVEL = re.compile(r"^[Vv](\d{1,3})$")


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a tag name (None: it is one): 1-20 characters, no spaces around
    it, no control or format characters, no '%' or '/' (a tag is a URL path segment,
    decoded once whether the server decoded it already or not: customers/routes.py)."""
    if tag != tag.strip():
        return "no leading or trailing spaces"
    if not 1 <= len(tag) <= TAG_MAX_CHARS:
        return f"1 to {TAG_MAX_CHARS} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in tag):
        return "no control characters"
    if "%" in tag or "/" in tag:
        return "no '%' or '/' (tags travel in URL paths)"
    return None


def check_tag(tag: str, field: str = "tag") -> str:
    problem = tag_problem(tag)
    if problem is not None:
        raise ValidationFailed("Not a tag name.", details=[field_error(field, problem)])
    return tag


def _kind(metric: str) -> str | None:
    if metric in NUMERIC:
        return "int"
    if metric in TEXT:
        return "str"
    if metric in BOOLEAN:
        return "bool"
    if metric.startswith(CATEGORY_PREFIX) and 1 <= len(metric) - len(CATEGORY_PREFIX) <= 40:
        return "int"
    return None


def rule_problems(rule: TagRule, at: str) -> list[dict[str, str]]:
    """Field errors of one rule (``at``: its path, e.g. ``rules[2]``)."""
    out = []
    problem = tag_problem(rule.tag)
    if problem is not None:
        out.append(field_error(f"{at}.tag", problem))
    kind = _kind(rule.metric)
    if kind is None:
        out.append(field_error(f"{at}.metric", "unknown metric"))
        return out
    value = rule.value
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        out.append(field_error(f"{at}.value", "an integer for this metric"))
    elif kind == "bool" and not isinstance(value, bool):
        out.append(field_error(f"{at}.value", "true or false for this metric"))
    elif kind == "str" and not isinstance(value, str):
        out.append(field_error(f"{at}.value", "a string for this metric"))
    elif rule.metric == "source_kind" and value not in SOURCE_KINDS:
        out.append(field_error(f"{at}.value", "one of " + ", ".join(sorted(SOURCE_KINDS))))
    elif rule.metric == "level" and not (isinstance(value, str) and 1 <= len(value) <= 20):
        out.append(field_error(f"{at}.value", "a level code, e.g. V3"))
    if kind != "int" and rule.op in ORDERED_OPS:
        out.append(field_error(f"{at}.op", "only = or != for this metric"))
    return out


def check_rules(rule_list: list[TagRule]) -> None:
    """422 naming every bad field of head office's rules."""
    problems = []
    if len(rule_list) > MAX_RULES:
        problems.append(field_error("rules", f"at most {MAX_RULES} rules"))
    for i, rule in enumerate(rule_list):
        problems += rule_problems(rule, f"rules[{i}]")
    if problems:
        raise ValidationFailed("Some tag rules are not valid.", details=problems)


def level_rank(level: str | None) -> int | None:
    """V1 = 1, V2 = 2 ...; no level yet is the lowest (1); another code: not known."""
    if level is None:
        return 1
    m = _LEVEL.match(level)
    return int(m.group(1)) if m else None


def figures(
    stats: rules.Stats,
    *,
    level: str | None,
    source_kind: str | None,
    registered_at: str | None,
    paid: bool,
    today: date,
) -> dict[str, Any]:
    """What the rules may test, for one member on ``today`` (the chain's local day)."""
    joined = rules.local_date(registered_at) if registered_at else None
    out: dict[str, Any] = {
        "orders": stats.orders,
        "spend_fen": stats.spend_fen,
        "aov_fen": rules.average_order_fen(stats),
        "orders_30d": rules.orders_within(stats, 30, today),
        "fresh_orders_30d": rules.orders_within(stats, 30, today, fresh=True),
        "orders_90d": rules.orders_within(stats, 90, today),
        "days_since_last_order": rules.days_since(stats.last_date, today),
        "months_since_registration": rules.months_between(joined, today),
        "level_rank": level_rank(level),
        "level": level,
        "source_kind": source_kind,
        "paid_member": paid,
    }
    for category, fen in stats.categories.items():
        out[CATEGORY_PREFIX + category] = fen
    return out


def holds(rule: TagRule, figs: dict[str, Any]) -> bool:
    if rule.metric.startswith(CATEGORY_PREFIX):
        got: Any = figs.get(rule.metric, 0)  # nothing bought in the category: 0 fen
    else:
        got = figs.get(rule.metric)
    if got is None:
        return False
    if rule.op == "=":
        return bool(got == rule.value)
    if rule.op == "!=":
        return bool(got != rule.value)
    if isinstance(got, bool) or not isinstance(got, int) or isinstance(rule.value, bool):
        return False
    if not isinstance(rule.value, int):
        return False
    return got >= rule.value if rule.op == ">=" else got <= rule.value


def evaluate(rule_list: list[TagRule], figs: dict[str, Any]) -> list[str]:
    """The tags whose every rule holds, in the order they first appear in the rules."""
    verdict: dict[str, bool] = {}
    for rule in rule_list:
        verdict[rule.tag] = verdict.get(rule.tag, True) and holds(rule, figs)
    return [tag for tag, ok in verdict.items() if ok]
