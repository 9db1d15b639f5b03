"""The returns export's columns and rows, and the orders list's filters as an export job
keeps them (pure: no AWS)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from chalicelib.exports import columns, jobs, sources
from chalicelib.exports import schemas as s
from chalicelib.exports.csv_writer import CsvEncoder
from chalicelib.orders.across_stores import matches
from chalicelib.orders.schemas import AllOrdersQuery


def test_the_returns_header_in_both_languages():
    zh = columns.header("returns", "zh-CN", "Asia/Shanghai")
    en = columns.header("returns", "en", "Asia/Shanghai")
    assert zh[:2] == ["退货单号", "订单号"] and en[:2] == ["Return ID", "Order ID"]
    assert "申请时间（Asia/Shanghai）" in zh and "Refund amount (CNY)" in en
    assert len(zh) == len(en) == len(columns.COLUMNS["returns"])
    assert "returns" in columns.KINDS and "returns" in sources.SOURCES


def test_a_return_row_without_a_refund_leaves_the_refund_empty():
    ret = SimpleNamespace(
        return_id="261124K7QX3M9P-R1",
        order_id="261124K7QX3M9P",
        store_id="sh-a",
        status="awaiting_verification",
        reason="=坏了",  # a formula start: neutralised as text
        lines=[SimpleNamespace(sku="110", units=2), SimpleNamespace(sku="111", units=1)],
        created_at="2026-11-24T02:30:00.000Z",
        updated_at="2026-11-24T02:31:00.000Z",
        refund_id=None,
    )
    rows = sources._return_rows([ret], SimpleNamespace(name="静安店"), "Asia/Shanghai")
    line = CsvEncoder().rows(rows).decode()
    assert line == (
        "261124K7QX3M9P-R1,261124K7QX3M9P,sh-a,静安店,awaiting_verification,'=坏了,"
        "110×2 111×1,2026-11-24 10:30:00,2026-11-24 10:31:00,,,\r\n"
    )


def test_the_list_filters_are_kept_as_text_and_read_back_as_the_list_query():
    body = s.ExportRequest(
        kind="orders",
        filters=s.ExportFilters(
            date_from="2026-11-01",
            date_to="2026-11-02",
            status="paid",
            store_ids="sh-b,sh-a,sh-b",
            fulfilment="pickup",
            min_paid_fen=0,
            max_paid_fen=5000,
            has_refund=False,
            missed_print=True,
        ),
    )
    kept = jobs._filters(body, None)
    assert kept == {
        "date_from": "2026-11-01",
        "date_to": "2026-11-02",
        "status": "paid",
        "store_ids": "sh-a,sh-b",
        "fulfilment": "pickup",
        "min_paid_fen": "0",
        "max_paid_fen": "5000",
        "has_refund": "false",
        "missed_print": "true",
    }
    assert jobs._where(kept) == AllOrdersQuery(
        status="paid",
        fulfilment="pickup",
        min_paid_fen=0,
        max_paid_fen=5000,
        has_refund=False,
        missed_print=True,
    )
    assert jobs._where({"store_ids": "sh-a", "date_from": "2026-11-01"}) is None


def _order(**kw):
    base = dict(
        status="paid", fulfilment="pickup", missed_print=False, paid_fen=1000, refunded_fen=0
    )
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize(
    ("order", "query", "kept"),
    [
        (_order(), AllOrdersQuery(), True),
        (_order(status="completed"), AllOrdersQuery(status="paid"), False),
        (_order(fulfilment="delivery"), AllOrdersQuery(fulfilment="pickup"), False),
        (_order(paid_fen=999), AllOrdersQuery(min_paid_fen=1000), False),
        (_order(paid_fen=1000), AllOrdersQuery(min_paid_fen=1000, max_paid_fen=1000), True),
        (_order(paid_fen=1001), AllOrdersQuery(max_paid_fen=1000), False),
        (_order(refunded_fen=1), AllOrdersQuery(has_refund=False), False),
        (_order(refunded_fen=1), AllOrdersQuery(has_refund=True), True),
        (_order(), AllOrdersQuery(missed_print=True), False),
    ],
)
def test_an_order_is_exported_exactly_when_the_list_shows_it(order, query, kept):
    assert matches(order, query) is kept
