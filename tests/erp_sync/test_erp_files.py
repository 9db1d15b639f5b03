"""Unit tests of erp_sync.files: splitting at row boundaries and mapping lines back.

The API's own reader (chalicelib.catalogue.rules.read_rows) is the referee: every row
must come out of the parts exactly as it comes out of the original file, and every line
the API would report for a part must map back to the line it reports for the original.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from chalicelib.catalogue.rules import PRODUCT_COLUMNS, PRODUCT_REQUIRED, read_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from erp_sync.files import (
    MAX_UPLOAD_BYTES,
    Part,
    SplitError,
    count_rows,
    detect_format,
    split_csv,
    split_file,
    split_json,
)

BOM = "\ufeff".encode()
HEADER = ",".join(PRODUCT_COLUMNS)


def product(n: int, name: str | None = None) -> list[str]:
    return [
        f"{900000 + n}",
        name if name is not None else f"测试商品 {n} 约500g",
        "蔬菜",
        "叶菜",
        "份",
        "",
        "true",
        "A 生鲜区",
        "A-01",
        "",
        "true",
        "",  # cost_fen
    ]


def csv_bytes(rows: list[list[str]], *, bom: bool = False, newline: str = "\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(PRODUCT_COLUMNS)
    writer.writerows(rows)
    return (BOM if bom else b"") + buffer.getvalue().encode("utf-8")


def api_rows(data: bytes, fmt: str = "csv") -> list[tuple[int, dict]]:
    """(line, row) as the API reads them."""
    return list(read_rows(data, fmt, PRODUCT_COLUMNS, PRODUCT_REQUIRED))


def rows_through_parts(parts: list[Part], fmt: str = "csv") -> list[tuple[int, dict]]:
    """(original line, row) as the API reads the parts, mapped back by each part."""
    out = []
    for part in parts:
        out.extend((part.original_line(line), row) for line, row in api_rows(part.data, fmt))
    return out


def assert_faithful_split(data: bytes, parts: list[Part], part_bytes: int) -> None:
    assert [p.index for p in parts] == list(range(len(parts)))
    assert rows_through_parts(parts) == api_rows(data)
    for part in parts:
        assert part.data.removeprefix(BOM).startswith(HEADER.encode())
        if part.rows and part.rows > 1:
            assert len(part.data) <= part_bytes
        assert part.rows == len(api_rows(part.data))


# -- format detection --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "explicit", "expected"),
    [
        ("products.csv", None, "csv"),
        ("STOCK.JSON", None, "json"),
        ("export.txt", "csv", "csv"),
        ("stock.csv", "JSON", "json"),
    ],
)
def test_detect_format(name: str, explicit: str | None, expected: str) -> None:
    assert detect_format(name, explicit) == expected


def test_detect_format_refuses_unknown_extension() -> None:
    with pytest.raises(SplitError, match="--format"):
        detect_format("export.xlsx")


# -- small files are sent untouched --------------------------------------------------------


def test_small_file_is_one_untouched_part_with_rows_counted() -> None:
    data = csv_bytes([product(n) for n in range(5)], bom=True)
    [part] = split_file(data, "csv")
    assert part.data == data
    assert part.rows == 5
    assert part.original_line(4) == 4


def test_small_unreadable_file_is_sent_as_is_for_the_api_to_explain() -> None:
    data = b"sku,name\n\xff\xfe broken\n"
    [part] = split_file(data, "csv")
    assert part.data == data
    assert part.rows is None


def test_count_rows_skips_blank_lines_like_the_api() -> None:
    data = csv_bytes([product(1)]) + b"\n\n" + csv_bytes([product(2)]).split(b"\n", 1)[1]
    assert count_rows(data, "csv") == 2 == len(api_rows(data))
    assert count_rows(b'[{"sku": "1"}, 2, {}]', "json") == 3
    assert count_rows(b"not json", "json") is None


# -- CSV splitting ----------------------------------------------------------------------------


def test_csv_split_repeats_header_and_keeps_every_row() -> None:
    data = csv_bytes([product(n) for n in range(200)])
    parts = split_csv(data, part_bytes=2000)
    assert len(parts) > 5
    assert_faithful_split(data, parts, 2000)
    assert sum(p.rows or 0 for p in parts) == 200


def test_csv_split_never_cuts_a_quoted_field_with_line_breaks() -> None:
    rows = [
        product(n, name=f'第{n}行\n"特价"\r\n第二段, 逗号' if n % 3 == 0 else None)
        for n in range(120)
    ]
    data = csv_bytes(rows)
    parts = split_csv(data, part_bytes=1500)
    assert len(parts) > 3
    assert_faithful_split(data, parts, 1500)
    names = [row["name"] for _, row in rows_through_parts(parts)]
    assert names == [r[1] for r in rows]


def test_csv_line_numbers_map_back_to_the_original_file() -> None:
    # Rows with embedded line breaks make file lines and row numbers diverge.
    rows = [product(n, name=f"多行\n名称 {n}" if n % 2 else None) for n in range(60)]
    data = csv_bytes(rows)
    parts = split_csv(data, part_bytes=1200)
    assert len(parts) > 2
    original = api_rows(data)
    later = parts[-1]
    first_line_in_part, _ = api_rows(later.data)[0]
    mapped = later.original_line(first_line_in_part)
    assert (mapped, api_rows(later.data)[0][1]) in original
    assert later.first_line > 2
    # Every part's first row starts on the line after its header.
    assert later.original_line(later.header_lines + 1) == later.first_line


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_csv_split_handles_windows_and_old_mac_line_endings(newline: str) -> None:
    data = csv_bytes([product(n) for n in range(80)], newline=newline)
    parts = split_csv(data, part_bytes=1000)
    assert len(parts) > 2
    assert_faithful_split(data, parts, 1000)


def test_bom_is_kept_in_the_first_part_only() -> None:
    data = csv_bytes([product(n) for n in range(50)], bom=True)
    parts = split_csv(data, part_bytes=1000)
    assert len(parts) > 1
    assert parts[0].data.startswith(BOM + HEADER.encode())
    assert all(p.data.startswith(HEADER.encode()) for p in parts[1:])
    assert_faithful_split(data, parts, 1000)


def test_blank_lines_are_kept_in_place_but_not_counted() -> None:
    body = b"".join(
        line + b"\n\n"
        for line in csv_bytes([product(n) for n in range(40)]).split(b"\n")[1:]
        if line
    )
    data = HEADER.encode() + b"\n" + body
    parts = split_csv(data, part_bytes=800)
    assert_faithful_split(data, parts, 800)
    assert sum(p.rows or 0 for p in parts) == 40


def test_header_only_file_is_one_empty_part() -> None:
    [part] = split_csv(HEADER.encode() + b"\n", part_bytes=100)
    assert part.rows == 0


def test_a_row_bigger_than_a_part_gets_a_part_of_its_own() -> None:
    rows = [product(1), product(2, name="长" * 400), product(3)]
    data = csv_bytes(rows)
    parts = split_csv(data, part_bytes=600)
    assert [p.rows for p in parts] == [1, 1, 1]
    assert_faithful_split(data, parts, 600)


def test_split_file_refuses_a_row_larger_than_the_upload_limit() -> None:
    data = csv_bytes([product(1), product(2, name="长" * 400), product(3)])
    with pytest.raises(SplitError, match="line 3 alone is larger"):
        split_file(data, "csv", max_bytes=900, part_bytes=600)


def test_split_file_refuses_a_large_file_that_is_not_utf8() -> None:
    data = csv_bytes([product(n) for n in range(30)]) + b"\xff\n"
    with pytest.raises(SplitError, match="not UTF-8"):
        split_file(data, "csv", max_bytes=1000, part_bytes=800)


def test_split_file_splits_only_above_the_limit() -> None:
    data = csv_bytes([product(n) for n in range(30)])
    assert len(split_file(data, "csv", max_bytes=len(data), part_bytes=500)) == 1
    parts = split_file(data, "csv", max_bytes=len(data) - 1, part_bytes=500)
    assert len(parts) > 1
    assert_faithful_split(data, parts, 500)


def test_real_limit_splits_a_7_mib_file_into_parts_under_6_mib() -> None:
    rows = [product(n) for n in range(95_000)]
    data = csv_bytes(rows, bom=True)
    assert len(data) > 7 * 1024 * 1024
    parts = split_file(data, "csv")
    assert len(parts) == 2
    assert all(len(p.data) <= 5 * 1024 * 1024 for p in parts)
    assert all(len(p.data) <= MAX_UPLOAD_BYTES for p in parts)
    assert sum(p.rows or 0 for p in parts) == 95_000
    assert parts[1].original_line(2) == parts[1].first_line == parts[0].rows + 2


def test_reason_line_numbers_are_mapped_too() -> None:
    part = Part(index=2, data=b"", rows=10, line_offset=1000, header_lines=1, first_line=1002)
    assert part.original_reason("duplicate of line 7") == "duplicate of line 1007"
    assert part.original_reason("'maybe' is not true/false") == "'maybe' is not true/false"
    assert Part(0, b"", 1).original_reason("duplicate of line 7") == "duplicate of line 7"


_cell = st.lists(st.sampled_from([*'ab 蔬菜,"\n\r\t;', "\r\n"]), min_size=0, max_size=12).map(
    "".join
)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(_cell, min_size=0, max_size=40),
    part_bytes=st.integers(min_value=200, max_value=3000),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_csv_split_reads_back_as_the_original(
    names: list[str], part_bytes: int, bom: bool, newline: str
) -> None:
    data = csv_bytes(
        [product(n, name=name) for n, name in enumerate(names)], bom=bom, newline=newline
    )
    parts = split_csv(data, part_bytes=part_bytes)
    assert rows_through_parts(parts) == api_rows(data)
    assert all(p.data.startswith(BOM) == (bom and p.index == 0) for p in parts)


@settings(max_examples=150, deadline=None)
@given(
    body=st.lists(st.sampled_from([*'a1,"\n\r ', "\r\n", '""', "蔬"]), max_size=300).map("".join),
    part_bytes=st.integers(min_value=150, max_value=600),
)
def test_any_malformed_csv_splits_the_way_the_api_reads_it(body: str, part_bytes: int) -> None:
    # Stray and unbalanced quotes: the split must still agree with the API's reader.
    data = (HEADER + "\n" + body).encode()
    parts = split_csv(data, part_bytes=part_bytes)
    assert rows_through_parts(parts) == api_rows(data)


# -- JSON splitting ---------------------------------------------------------------------------


def json_items(n: int) -> list[dict]:
    return [
        {
            "store_id": "sh-jingan",
            "sku": f"{900000 + i}",
            "price_fen": 990 + i,
            "stock": i,
            "on_sale": True,
        }
        for i in range(n)
    ]


def test_json_split_gives_arrays_of_whole_items_with_item_numbers_mapped() -> None:
    items = [*json_items(100), 17, {"name": "蔬菜\n多行", "price": 1.5}]
    data = json.dumps(items, ensure_ascii=False, indent=2).encode()
    parts = split_json(data, part_bytes=1500)
    assert len(parts) > 3
    seen = []
    for part in parts:
        doc = json.loads(part.data)
        assert isinstance(doc, list)
        assert len(part.data) <= 1500
        assert part.rows == len(doc)
        seen.extend((part.original_line(i), item) for i, item in enumerate(doc, start=1))
    assert seen == list(enumerate(items, start=1))
    assert rows_through_parts(parts, "json") == api_rows(data, "json")


def test_json_rows_object_and_bom_are_accepted() -> None:
    data = BOM + json.dumps({"rows": json_items(30)}).encode()
    parts = split_file(data, "json", max_bytes=1000, part_bytes=800)
    assert len(parts) > 1
    assert [item for p in parts for item in json.loads(p.data)] == json_items(30)
    assert parts[1].first_line == parts[0].rows + 1


def test_json_that_is_not_an_array_cannot_be_split() -> None:
    with pytest.raises(SplitError, match="array"):
        split_json(b'{"sku": "1"}')
    with pytest.raises(SplitError, match="not valid JSON"):
        split_json(b"[{]")


def test_empty_json_array_is_one_empty_part() -> None:
    [part] = split_json(b"[]")
    assert part.rows == 0
    assert json.loads(part.data) == []
