import pytest
from chalicelib.catalogue.rules import (
    PRODUCT_COLUMNS,
    PRODUCT_REQUIRED,
    STORE_ITEM_COLUMNS,
    STORE_ITEM_REQUIRED,
    FileError,
    ProductRow,
    StoreItemRow,
    parse_product,
    parse_store_item,
    read_rows,
    shape_errors,
)

GOOD = {
    "sku": "100001",
    "name": "海南 香蕉 约500g",
    "category1": "水果",
    "category2": "热带水果",
    "unit": "份",
    "barcode": "6901234567892",
    "fresh": "true",
    "zone": "A 生鲜区",
    "shelf": "A-03",
    "image_url": "https://img.example.com/1.jpg",
    "active": "",
}


def test_a_good_csv_product_row_is_typed():
    row = parse_product(GOOD, 2)
    assert isinstance(row, ProductRow)
    assert row.fresh is True and row.active is True and row.barcode == "6901234567892"


def test_every_bad_field_is_reported_with_its_line():
    bad = dict(
        GOOD, sku="bad sku!", fresh="maybe", category1="水#果", barcode="123", image_url="ftp://x"
    )
    errors = parse_product(bad, 7)
    assert isinstance(errors, list)
    assert {(e.line, e.field) for e in errors} == {
        (7, "sku"),
        (7, "fresh"),
        (7, "category1"),
        (7, "barcode"),
        (7, "image_url"),
    }


def test_required_product_fields():
    errors = parse_product({"sku": "1"}, 3)
    assert {e.field for e in errors} == {"name", "category1", "category2", "unit"}


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("12.90", "not a whole number"),
        ("-5", "at least 1"),
        ("0", "at least 1"),
        ("abc", "not a whole number"),
        (12.9, "not a whole number"),
        (True, "not a whole number"),
        ("99999999999", "at most"),
    ],
)
def test_store_item_prices_are_positive_integer_fen(price, reason):
    errors = parse_store_item({"store_id": "sh-a", "sku": "1", "price_fen": price, "stock": "3"}, 2)
    assert isinstance(errors, list)
    assert errors[0].field == "price_fen" and reason in errors[0].reason


def test_store_item_from_json_types():
    row = parse_store_item(
        {"store_id": "sh-a", "sku": "1", "price_fen": 1290, "stock": 0, "on_sale": False}, 1
    )
    assert row == StoreItemRow("sh-a", "1", 1290, 0, False)
    errors = parse_store_item({"store_id": "sh-a", "sku": "1", "price_fen": 1290, "stock": -1}, 1)
    assert [e.field for e in errors] == ["stock"]


def test_csv_lines_count_from_the_header_and_skip_blank_lines():
    data = '\ufeffsku,name,category1,category2,unit\n1,a,b,c,d\n\n2,"x\ny",b,c,d\n3,a,b\n'.encode()
    rows = list(read_rows(data, "csv", PRODUCT_COLUMNS, PRODUCT_REQUIRED))
    assert [line for line, _ in rows] == [2, 5, 6]  # a quoted newline spans lines 4-5
    assert rows[1][1]["name"] == "x\ny"
    assert shape_errors(rows[2][1], 6)[0].reason == "has 3 values; the header has 5"


def test_whole_file_problems():
    with pytest.raises(FileError, match="lacks the column"):
        list(read_rows(b"sku,name\n1,a\n", "csv", PRODUCT_COLUMNS, PRODUCT_REQUIRED))
    with pytest.raises(FileError, match="unknown column"):
        list(
            read_rows(
                b"store_id,sku,price_fen,stock,colour\n",
                "csv",
                STORE_ITEM_COLUMNS,
                STORE_ITEM_REQUIRED,
            )
        )
    with pytest.raises(FileError, match="not UTF-8"):
        list(read_rows("sku,名".encode("gbk"), "csv", PRODUCT_COLUMNS, PRODUCT_REQUIRED))
    with pytest.raises(FileError, match="array"):
        list(read_rows(b'{"a": 1}', "json", PRODUCT_COLUMNS, PRODUCT_REQUIRED))


def test_json_rows_are_numbered_from_one():
    rows = list(
        read_rows(b'{"rows": [{"sku": "1"}, 5]}', "json", PRODUCT_COLUMNS, PRODUCT_REQUIRED)
    )
    assert rows[0] == (1, {"sku": "1"})
    assert shape_errors(rows[1][1], 2)[0].reason == "is not a JSON object"


def test_item_search_matches_sku_prefix_whole_barcode_or_part_of_the_name():
    from chalicelib.catalogue.rules import matches_search

    item = ("AB1002", "6901234567892", "光明 优倍鲜牛奶 950ml")
    assert matches_search("ab10", *item) and matches_search(" AB1002 ", *item)
    assert not matches_search("1002", *item)  # a SKU matches by its beginning only
    assert matches_search("6901234567892", *item)
    assert not matches_search("690123456789", *item)  # a barcode matches whole only
    assert matches_search("优倍鲜", *item) and matches_search("950ML", *item)
    assert not matches_search("酸奶", *item)
    assert not matches_search("690", "100", None, "苹果")
    assert matches_search("  ", *item)  # nothing to search for
