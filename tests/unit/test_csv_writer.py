"""The export CSV writer: what Excel and a spreadsheet user need from the bytes."""

import csv
import io

from chalicelib.exports import columns
from chalicelib.exports.csv_writer import BOM, CsvEncoder, LocalTime, Yuan, neutralise, yuan


def _file(header, rows):
    enc = CsvEncoder()
    return enc.header(header) + enc.rows(rows)


def test_the_file_starts_with_a_bom_and_ends_lines_with_crlf():
    data = _file(["订单号", "金额"], [["A1", Yuan(7970)], ["A2", Yuan(5)]])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8")
    assert text == BOM + "订单号,金额\r\nA1,79.70\r\nA2,0.05\r\n"
    assert "\n" not in text.replace("\r\n", "")


def test_the_bom_is_written_once_however_many_batches():
    enc = CsvEncoder()
    data = enc.header(["a"]) + enc.rows([["1"]]) + enc.rows([["2"]])
    assert data.count(BOM.encode()) == 1


def test_quoting_follows_rfc_4180():
    data = _file(["h"], [['苹果, "红富士"'], ["two\nlines"], ["plain"]]).decode("utf-8-sig")
    assert data == 'h\r\n"苹果, ""红富士"""\r\n"two\nlines"\r\nplain\r\n'
    assert list(csv.reader(io.StringIO(data, newline=""))) == [
        ["h"],
        ['苹果, "红富士"'],
        ["two\nlines"],
        ["plain"],
    ]


def test_money_is_yuan_with_two_decimals_never_a_float():
    assert [yuan(f) for f in (7970, 7900, 5, 0, 123456789, -500)] == [
        "79.70",
        "79.00",
        "0.05",
        "0.00",
        "1234567.89",
        "-5.00",
    ]


def test_formula_starts_are_neutralised_in_text_but_not_in_money():
    hostile = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok=1"]
    assert [neutralise(h) for h in hostile] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "ok=1",
    ]
    row = _file(["name", "refund"], [["=1+1", Yuan(-500)]]).decode("utf-8-sig").split("\r\n")[1]
    assert row == "'=1+1,-5.00"


def test_times_are_written_in_the_store_zone():
    data = _file(
        ["t"],
        [[LocalTime("2026-11-24T16:30:05Z", "Asia/Shanghai")], [LocalTime(None, "Asia/Shanghai")]],
    )
    # a row of one empty cell is written "" (an empty line would be no row at all)
    assert data.decode("utf-8-sig") == 't\r\n2026-11-25 00:30:05\r\n""\r\n'


def test_the_header_is_in_the_language_asked_and_names_the_zone():
    zh = columns.header("orders", "zh-CN", "Asia/Shanghai")
    en = columns.header("orders", "en", "Asia/Shanghai")
    assert zh[0] == "订单号" and en[0] == "Order ID"
    assert "下单时间（Asia/Shanghai）" in zh and "Created at (Asia/Shanghai)" in en
    assert "实付（元）" in zh and "Paid (CNY)" in en
    assert len(zh) == len(en) == len(columns.COLUMNS["orders"])


def test_counts_and_flags_are_plain():
    assert (
        _file(["n", "b", "none"], [[3, True, None]]).decode("utf-8-sig") == "n,b,none\r\n3,1,\r\n"
    )
