"""The rules of a bulk change of store items (catalogue/bulk_rules), without AWS."""

from chalicelib.catalogue.bulk_rules import BulkRow, outcome, parse_row, parse_rows


def test_a_valid_row_keeps_only_what_it_sets():
    row = parse_row(
        {"store_id": "sh-a", "sku": "1", "price_fen": "1290", "expected_price_fen": 1000}, 0
    )
    assert row == BulkRow(0, "sh-a", "1", {"price_fen": 1290}, {"price_fen": 1000})
    assert BulkRow.from_record(row.to_record()) == row


def test_every_problem_of_a_row_is_reported():
    errors = parse_row(
        {"store_id": "SH A", "sku": "", "price_fen": 1.5, "stock": -1, "on_sale": "yes", "x": 1}, 3
    )
    assert {(e.line, e.field) for e in errors} == {
        (3, "x"),
        (3, "store_id"),
        (3, "sku"),
        (3, "price_fen"),
        (3, "stock"),
        (3, "on_sale"),
    }
    assert [e.field for e in parse_row({"store_id": "sh-a", "sku": "1"}, 0)] == ["(row)"]
    assert [
        e.field
        for e in parse_row({"store_id": "sh-a", "sku": "1", "stock": 1, "expected_price_fen": 5}, 0)
    ] == ["expected_price_fen"]
    assert parse_row(["not", "a", "row"], 0)[0].field == "(row)"


def test_the_second_row_for_a_store_and_sku_is_refused():
    good, errors = parse_rows(
        [
            {"store_id": "sh-a", "sku": "1", "stock": 1},
            {"store_id": "sh-b", "sku": "1", "stock": 1},
            {"store_id": "sh-a", "sku": "1", "stock": 2},
        ]
    )
    assert [r.row for r in good] == [0, 1]
    assert [(e.line, e.field, e.reason) for e in errors] == [(2, "sku", "duplicate of row 0")]


def test_outcome_against_the_item_as_it_is():
    row = BulkRow(0, "sh-a", "1", {"price_fen": 900}, {"price_fen": 1000})
    now = {"price_fen": 1000, "stock": 5, "on_sale": True}
    assert outcome(row, now) is None  # write it
    assert outcome(row, {**now, "price_fen": 900})[0] == "unchanged"
    assert outcome(row, {**now, "price_fen": 1100}) == (
        "conflict",
        "price_fen",
        "changed meanwhile: expected 1000, now 1100; reload and try again",
    )
    assert outcome(row, None)[0] == "rejected"
    free = BulkRow(0, "sh-a", "1", {"on_sale": False}, {})
    assert outcome(free, now) is None and outcome(free, {**now, "on_sale": False})[0] == "unchanged"
