"""Request paths read DynamoDB by key or index only: a Scan on a request path would grow
with the table and cost a fortune at 50,000 products x hundreds of stores."""

import pytest

READ_PATHS = [
    "/stores/nearby?lat=31.2250&lng=121.4500",
    "/stores/sh-a",
    "/stores/sh-a/products?limit=5",
    "/stores/sh-a/products?category1=水果&category2=柑橘",
    "/stores/sh-a/products/100",
    "/catalogue/categories",
]


@pytest.mark.parametrize("path", READ_PATHS)
def test_public_reads_use_keys_and_indexes_only(api, catalogue, aws_calls, path):
    status, _ = api.call("GET", path)
    assert status == 200
    assert aws_calls, "the route made no AWS call at all: the recorder is not wired"
    assert "Scan" not in aws_calls
    assert set(aws_calls) <= {"GetItem", "Query", "BatchGetItem"}


def test_browsing_a_page_costs_two_round_trips_after_the_store_check(api, catalogue, aws_calls):
    api.call("GET", "/stores/sh-a/products?limit=20")
    assert aws_calls == ["GetItem", "Query", "BatchGetItem"]


@pytest.mark.parametrize("path", ["/admin/stores", "/admin/staff?store_id=sh-a", "/admin/imports"])
def test_admin_lists_use_indexes(api, catalogue, tokens_, aws_calls, path):
    status, _ = api.call("GET", path, token=tokens_["hq"])
    assert status == 200
    assert "Scan" not in aws_calls
