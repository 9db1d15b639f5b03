"""GET /admin/stores/{store_id}/orders?date=...: one business day's orders, newest first,
in one status or any; the status-only queue keeps working as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from chalicelib.kernel import clock

from tests.api.test_orders_api import cart, place

T0 = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
URL = "/admin/stores/sh-a/orders"


@pytest.fixture
def at(monkeypatch):
    def move(seconds: float = 0, days: int = 0) -> None:
        moment = T0 + timedelta(days=days, seconds=seconds)
        monkeypatch.setattr(clock, "now", lambda: moment)

    move()
    return move


def order(api, tokens_, key, pay=True):
    status, body = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)), key)
    assert status == 201, body
    if pay:
        status, ack = api.call(
            "POST", f"/local/payments/{body['order_id']}/complete", {}, tokens_["customer"]
        )
        assert status == 200 and ack["code"] == "SUCCESS"
    return body["order_id"]


@pytest.fixture
def day(api, catalogue, tokens_, at):
    """Yesterday one paid order; today (one second apart) paid, unpaid, paid, and paid
    then taken for picking."""
    at(days=-1)
    yesterday = order(api, tokens_, "date-key-y001")
    ids = {"yesterday": yesterday}
    for n, (name, pay) in enumerate(
        [("paid1", True), ("unpaid", False), ("paid2", True), ("picking", True)], start=1
    ):
        at(seconds=n)
        ids[name] = order(api, tokens_, f"date-key-t00{n}", pay)
    status, _ = api.call(
        "POST", f"/admin/orders/{ids['picking']}/start-picking", None, tokens_["staff_a"]
    )
    assert status == 200
    return ids


def ids_of(api, token, query):
    status, page = api.call("GET", f"{URL}?{query}", token=token)
    assert status == 200, page
    return [o["order_id"] for o in page["items"]], page["next_cursor"]


def every_page(api, token, query):
    out, cursor, pages = [], None, 0
    while True:
        got, cursor = ids_of(api, token, query + (f"&cursor={cursor}" if cursor else ""))
        out += got
        pages += 1
        if not cursor:
            return out, pages


def test_a_day_lists_paid_orders_newest_first_by_default(api, tokens_, day):
    got, cursor = ids_of(api, tokens_["staff_a"], "date=2026-11-24")
    assert got == [day["paid2"], day["paid1"]] and cursor is None
    got, _ = ids_of(api, tokens_["hq"], "date=2026-11-23")
    assert got == [day["yesterday"]]
    got, _ = ids_of(api, tokens_["hq"], "date=2026-11-22")
    assert got == []


def test_status_any_lists_every_order_of_the_day(api, tokens_, day):
    got, _ = ids_of(api, tokens_["manager_a"], "date=2026-11-24&status=any")
    assert got == [day["picking"], day["paid2"], day["unpaid"], day["paid1"]]
    got, _ = ids_of(api, tokens_["hq"], "date=2026-11-24&status=awaiting_payment")
    assert got == [day["unpaid"]]
    got, _ = ids_of(api, tokens_["hq"], "date=2026-11-24&status=picking")
    assert got == [day["picking"]]


def test_pages_of_a_day_follow_the_cursor_with_and_without_a_status(api, tokens_, day):
    got, pages = every_page(api, tokens_["hq"], "date=2026-11-24&status=any&limit=1")
    assert got == [day["picking"], day["paid2"], day["unpaid"], day["paid1"]]
    assert pages >= 4
    # The status is a filter on the day's index: pages still hold `limit` matching orders.
    got, cursor = ids_of(api, tokens_["hq"], "date=2026-11-24&status=paid&limit=1")
    assert got == [day["paid2"]] and cursor
    got, _ = ids_of(api, tokens_["hq"], f"date=2026-11-24&status=paid&limit=1&cursor={cursor}")
    assert got == [day["paid1"]]
    got, _ = every_page(api, tokens_["hq"], "date=2026-11-24&limit=1")
    assert got == [day["paid2"], day["paid1"]]


def test_without_a_date_the_queue_is_unchanged(api, tokens_, day):
    got, _ = ids_of(api, tokens_["staff_a"], "")
    assert got == [day["yesterday"], day["paid1"], day["paid2"]]  # paid, oldest first


def test_bad_dates_and_status_any_without_a_date_are_refused(api, tokens_, day):
    for query, field in (
        ("status=any", "status"),
        ("date=2026-02-30", "date"),
        ("date=24-11-2026", "date"),
        ("date=2026-11-24&status=lost", "status"),
    ):
        status, body = api.call("GET", f"{URL}?{query}", token=tokens_["hq"])
        assert status == 422, query
        assert [d["field"] for d in body["error"]["details"]] == [field], body
    status, body = api.call("GET", f"{URL}?status=any", token=tokens_["hq"])
    assert "date" in body["error"]["details"][0]["reason"]
    status, body = api.call("GET", f"{URL}?date=2026-11-24&cursor=%%%", token=tokens_["hq"])
    assert status == 400 and body["error"]["code"] == "bad_cursor"


def test_other_stores_and_other_roles_are_refused(api, tokens_, day):
    status, body = api.call("GET", f"{URL}?date=2026-11-24", token=tokens_["manager_b"])
    assert status == 403 and body["error"]["code"] == "other_store"
    for who in ("customer", "relay_a"):
        status, body = api.call("GET", f"{URL}?date=2026-11-24", token=tokens_[who])
        assert status == 403 and body["error"]["code"] == "role_not_allowed"


def test_a_status_page_gathers_matches_across_pages_of_the_days_keys(api, tokens_, day):
    """The day index holds no status: matching orders are gathered from several pages of
    keys (here: picking, paid2 | unpaid, paid1 at two keys a page)."""
    got, pages = every_page(api, tokens_["hq"], "date=2026-11-24&status=paid&limit=2")
    assert got == [day["paid2"], day["paid1"]] and pages <= 2
    got, cursor = ids_of(api, tokens_["hq"], "date=2026-11-24&status=awaiting_payment&limit=2")
    assert got == [day["unpaid"]] and cursor is None
