"""The admin site's message catalogues: every string in both languages, every key the
site's code asks for present, and a label for every state the API can report (the
coupon and promotion enums read from their schemas, so a new value needs a label)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args, get_type_hints

import pytest
from chalicelib.coupons import schemas as coupons
from chalicelib.customers import schemas as customers
from chalicelib.kernel import states
from chalicelib.orders import order_flow
from chalicelib.orders import schemas as orders
from chalicelib.printing import relay_schemas as relays
from chalicelib.promotions import schemas as promotions

SITE = Path(__file__).resolve().parents[2] / "admin_site"
LANGUAGES = ("zh-CN", "en")


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((SITE / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def site_code() -> str:
    """The site's JavaScript and HTML, without comments (they quote examples)."""
    files = [*sorted((SITE / "app").rglob("*.js")), SITE / "index.html"]
    code = "\n".join(f.read_text(encoding="utf-8") for f in files)
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    return re.sub(r"(?m)(^|\s)//\s.*$", "", code)


def test_both_languages_have_the_same_keys_and_no_empty_text():
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert sorted(zh) == sorted(en)
    assert [k for k, v in {**zh, **en}.items() if not v.strip()] == []


def test_placeholders_agree_between_languages():
    zh, en = catalogue("zh-CN"), catalogue("en")
    names = re.compile(r"\{(\w+)\}")
    assert [k for k in zh if set(names.findall(zh[k])) != set(names.findall(en[k]))] == []


def test_every_literal_key_in_the_code_is_in_the_catalogue():
    code = site_code()
    used = set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']""", code))
    used |= set(re.findall(r'data-i18n="([\w.-]+)"', code))
    used |= set(re.findall(r"""\b(?:title|nav):\s*["']([\w.-]+)["']""", code))
    assert used, "the scan found no keys: the pattern is wrong"
    assert sorted(used - set(catalogue("zh-CN"))) == []


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("order.status", states.ORDER.states()),
        ("order.action", set(states.ORDER.transitions) | {"place", *order_flow.NOTES}),
        ("print.status", states.PRINT_JOB.states()),
        ("return.status", states.RETURN.states()),
        ("role", set(get_args(orders.HistoryRole))),
        ("print.kind", {"order", "reprint", "cancellation", "amendment"}),
        ("refund.reason", set(get_args(orders.RefundReason))),
        ("refund.status", set(get_args(get_type_hints(orders.OrderRefund)["status"]))),
        ("day", {str(d) for d in range(7)}),
        ("wallet.source", set(get_args(coupons.Source))),
        ("wallet.state", set(get_args(coupons.CouponState))),
        ("coupons.kind", set(get_args(coupons.Kind))),
        ("coupons.funded_by", set(get_args(coupons.FundedBy))),
        ("coupons.auto", set(get_args(coupons.AutoIssue))),
        ("coupons.status", set(get_args(coupons.TemplateStatus))),
        ("coupons.refusal", set(get_args(get_type_hints(coupons.Refusal)["reason"]))),
        ("promotions.kind", set(get_args(promotions.Kind))),
        ("promotions.status", set(get_args(promotions.Status))),
        ("relay.health", set(get_args(relays.Health))),
        ("health.problem", set(get_args(relays.StoreProblem))),
        ("printer.state", set(get_args(relays.PrinterState))),
        ("recall.outcome", set(get_args(customers.Outcome))),
    ],
)
def test_every_state_the_api_reports_has_a_label(prefix: str, values: set[str]):
    zh = catalogue("zh-CN")
    assert sorted(v for v in values if f"{prefix}.{v}" not in zh) == []


def test_site_code_never_writes_html_from_strings():
    """Pages build elements with h(); innerHTML with API data would be an injection."""
    assert re.search(r"innerHTML|outerHTML|insertAdjacentHTML", site_code()) is None


FUNCTIONS = Path(__file__).resolve().parents[2] / "functions" / "chalicelib"


def api_error_codes() -> set[str]:
    """Every error code the API can answer with: literal ``code="..."`` arguments, the
    error classes' defaults, and the codes chosen from tables (checkout failures, coupon
    refusals, the authorizer's problems)."""
    from chalicelib.checkout import service as checkout
    from chalicelib.coupons import service as coupon_service

    text = "\n".join(p.read_text(encoding="utf-8") for p in FUNCTIONS.rglob("*.py"))
    codes = set(re.findall(r"""\bcode\s*=\s*["']([a-z_]+)["']""", text))
    codes |= {code for code, _ in checkout.FAILURES.values()}
    codes |= set(coupon_service.REFUSALS)
    codes |= {"token_expired", "token_invalid", "token_missing"}
    return codes


def test_every_api_error_code_has_a_message_in_each_language():
    """Staff read errors in the site's language: a code without a catalogue message falls
    back to a generic text, which says less than the API knows."""
    codes = api_error_codes()
    assert {"bad_credentials", "validation_failed", "coupon_budget_exhausted"} <= codes
    for lang in LANGUAGES:
        texts = catalogue(lang)
        assert sorted(c for c in codes if f"error.code.{c}" not in texts) == [], lang
