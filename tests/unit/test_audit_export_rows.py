"""The audit export's columns and rows (no AWS: entries built in memory)."""

import json

from chalicelib.audit.models import AuditEntryModel
from chalicelib.exports import columns
from chalicelib.exports.csv_writer import CsvEncoder, LocalTime, Yuan
from chalicelib.exports.sources import audit_rows, audit_value


def _entry(changes: dict) -> AuditEntryModel:
    return AuditEntryModel(
        "e-1",
        at="2026-12-05T01:15:00.123Z",
        actor="hq-admin",
        role="hq_admin",
        actor_store_id=None,
        action="store_item.update",
        target_type="store_item",
        target_id="sh-a/100",
        store_id="sh-a",
        changes=json.dumps(changes),
    )


def test_headers_in_both_languages_name_the_zone_and_match_the_rows():
    zh = columns.header("audit", "zh-CN", "Asia/Shanghai")
    en = columns.header("audit", "en", "Asia/Shanghai")
    assert zh[0] == "时间（Asia/Shanghai）" and en[0] == "Time (Asia/Shanghai)"
    assert en[-4:] == ["Field", "Before", "After", "Entry ID"]
    (row,) = audit_rows(_entry({"price_fen": [2590, 2390]}), "Asia/Shanghai")
    assert len(row) == len(zh) == len(en)


def test_one_row_per_changed_field_in_field_order_the_entry_repeated():
    rows = audit_rows(
        _entry({"stock": [3, 7], "price_fen": [2590, 2390], "on_sale": [True, False]}),
        "Asia/Shanghai",
    )
    assert [r[8] for r in rows] == ["on_sale", "price_fen", "stock"]
    assert all(r[:8] == rows[0][:8] and r[-1] == "e-1" for r in rows)
    assert rows[0][0] == LocalTime("2026-12-05T01:15:00.123Z", "Asia/Shanghai")
    assert rows[1][9:11] == [Yuan(2590), Yuan(2390)]
    text = CsvEncoder().rows(rows).decode("utf-8")
    assert text.splitlines()[0].startswith("2026-12-05 09:15:00,hq-admin,hq_admin,,")
    assert "on_sale,true,false,e-1" in text and "price_fen,25.90,23.90,e-1" in text


def test_an_entry_without_field_changes_is_one_row_with_the_field_empty():
    (row,) = audit_rows(_entry({}), "Asia/Shanghai")
    assert row[8:] == [None, None, None, "e-1"]


def test_values_as_the_page_shows_them():
    assert audit_value("price_fen", 5) == Yuan(5)
    assert audit_value("stock", 5) == 5
    assert audit_value("name", "苹果") == "苹果"
    assert audit_value("name", None) is None
    assert audit_value("hours", [{"day": 0}]) == '[{"day": 0}]'
    assert audit_value("active", False) == "false"
    # hostile text is neutralised by the writer like any other text
    row = audit_rows(_entry({"name": ["a", "=cmd|' /C calc'!A0"]}), "UTC")[0]
    assert "'=cmd|" in CsvEncoder().rows([row]).decode()
