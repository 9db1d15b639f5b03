import json

import pytest
from chalicelib.catalogue.models import ProductModel, StoreItemModel


def browse_all(api, path, limit):
    """Follow next_cursor to the end; return the items in order and the page count."""
    items, cursor, pages = [], None, 0
    while True:
        url = f"{path}{'&' if '?' in path else '?'}limit={limit}" + (
            f"&cursor={cursor}" if cursor else ""
        )
        status, body = api.call("GET", url)
        assert status == 200, body
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return items, pages


def test_cursor_pagination_visits_every_active_item_once_in_category_order(api, catalogue):
    items, pages = browse_all(api, "/stores/sh-a/products", 7)
    skus = [i["sku"] for i in items]
    assert len(skus) == len(set(skus)) == 24  # 25 products, one inactive
    assert "105" not in skus
    keys = [(i["category1"], i["category2"], i["sku"]) for i in items]
    assert keys == sorted(keys)
    assert pages == 4


def test_browse_one_category(api, catalogue):
    items, _ = browse_all(api, "/stores/sh-a/products?category1=水果&category2=柑橘", 100)
    assert {(i["category1"], i["category2"]) for i in items} == {("水果", "柑橘")}
    assert len(items) == 9
    items, _ = browse_all(api, "/stores/sh-a/products?category1=水果", 100)
    assert len(items) == 17
    items, _ = browse_all(api, "/stores/sh-a/products?category1=蔬菜", 100)
    assert len(items) == 7  # 8 vegetables, one of them (sku 105) inactive


def test_store_product_fields(api, catalogue):
    status, body = api.call("GET", "/stores/sh-b/products/100")
    assert status == 200
    assert body["store_id"] == "sh-b" and body["price_fen"] > 0 and body["available"] is True
    assert api.call("GET", "/stores/sh-b/products/nope")[0] == 404


def test_bad_cursor_and_unknown_store(api, catalogue):
    status, body = api.call("GET", "/stores/sh-a/products?cursor=!!!")
    assert status == 400 and body["error"]["code"] == "bad_cursor"
    status, body = api.call("GET", "/stores/sh-zz/products")
    assert status == 404
    status, body = api.call("GET", "/stores/sh-a/products?limit=1000")
    assert status == 422 and body["error"]["details"][0]["field"] == "limit"
    status, body = api.call("GET", "/stores/sh-a/products?category2=柑橘")
    assert status == 422


def test_categories_tree(api, catalogue):
    status, body = api.call("GET", "/catalogue/categories")
    assert status == 200
    assert body["items"] == [
        {"category1": "水果", "children": ["柑橘", "苹果梨"]},
        {"category1": "蔬菜", "children": ["叶菜"]},
    ]


def test_staff_change_stock_head_office_changes_price(api, catalogue, tokens_):
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a/items/100", {"stock": 0}, tokens_["staff_a"]
    )
    assert status == 200 and body["stock"] == 0 and body["available"] is False
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a/items/100", {"price_fen": 1}, tokens_["staff_a"]
    )
    assert status == 403 and body["error"]["code"] == "field_not_allowed"
    status, body = api.call(
        "PATCH", "/admin/stores/sh-b/items/100", {"stock": 1}, tokens_["staff_a"]
    )
    assert status == 403
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a/items/100", {"price_fen": 990}, tokens_["hq"]
    )
    assert status == 200 and body["price_fen"] == 990
    status, body = api.call("PATCH", "/admin/stores/sh-a/items/999", {"stock": 1}, tokens_["hq"])
    assert status == 404
    assert not StoreItemModel.count("sh-a", StoreItemModel.sku == "999")
    status, body = api.call(
        "PATCH", "/admin/stores/sh-a/items/100", {"price_fen": -1}, tokens_["hq"]
    )
    assert status == 422
    assert StoreItemModel.get("sh-a", "100").price_fen == 990


def test_changing_a_products_category_refiles_it_in_every_store(api, catalogue, tokens_):
    body = {"name": "改类商品", "category1": "蔬菜", "category2": "根茎", "unit": "份"}
    status, product = api.call("PUT", "/admin/products/100", body, tokens_["hq"])
    assert status == 200 and product["category2"] == "根茎"
    for store in ("sh-a", "sh-b"):
        items, _ = browse_all(api, f"/stores/{store}/products?category1=蔬菜&category2=根茎", 50)
        assert [i["sku"] for i in items] == ["100"]
    assert ProductModel.get("100").name == "改类商品"


def run_worker_once(aws):
    """Deliver the queued import message as the SQS event source would."""
    import boto3
    from chalicelib.catalogue.import_jobs import handle_message

    sqs = boto3.client("sqs", region_name="us-east-1")
    msgs = sqs.receive_message(QueueUrl=aws["imports"], MaxNumberOfMessages=10).get("Messages", [])
    for m in msgs:
        handle_message(m["Body"])
        sqs.delete_message(QueueUrl=aws["imports"], ReceiptHandle=m["ReceiptHandle"])
    return len(msgs)


def upload(api, token, kind, data, content_type="text/csv"):
    return api.call(
        "POST",
        f"/admin/imports?kind={kind}",
        token=token,
        raw=data,
        headers={"Content-Type": content_type},
    )


PRODUCTS_CSV = (
    "sku,name,category1,category2,unit,barcode,fresh,zone,shelf,image_url,active\n"
    "200001,赣南脐橙 5斤装,水果,柑橘,箱,6901234567892,true,A 生鲜区,A-01,,true\n"
    "200002,烟台红富士 4个,水果,苹果梨,份,,true,A 生鲜区,A-02,,true\n"
    "200003,坏行,水果,柑橘,箱,,maybe,A 生鲜区,A-01,,true\n"
    "200001,重复,水果,柑橘,箱,,true,,,,true\n"
)


def test_erp_import_applies_good_rows_and_reports_bad_ones(api, aws, tokens_):
    status, job = upload(api, tokens_["hq"], "products", PRODUCTS_CSV)
    assert status == 202 and job["status"] == "queued"
    assert run_worker_once(aws) == 1
    status, job = api.call("GET", f"/admin/imports/{job['job_id']}", token=tokens_["hq"])
    assert job["status"] == "succeeded"
    assert (job["total_rows"], job["created"], job["rejected"]) == (4, 2, 2)
    assert job["rejected_rows"] == [
        {"line": 4, "field": "fresh", "reason": "'maybe' is not true/false"},
        {"line": 5, "field": "sku", "reason": "duplicate of line 2"},
    ]
    assert ProductModel.count() == 2
    # The same file again changes nothing.
    _, job2 = upload(api, tokens_["hq"], "products", PRODUCTS_CSV)
    run_worker_once(aws)
    _, job2 = api.call("GET", f"/admin/imports/{job2['job_id']}", token=tokens_["hq"])
    assert (job2["created"], job2["updated"], job2["unchanged"], job2["rejected"]) == (0, 0, 2, 2)
    _, listing = api.call("GET", "/admin/imports", token=tokens_["hq"])
    assert [j["job_id"] for j in listing["items"]] == [job2["job_id"], job["job_id"]]


def test_store_item_import_refuses_unknown_stores_and_skus(api, aws, catalogue, tokens_):
    rows = [
        {"store_id": "sh-a", "sku": "100", "price_fen": 1500, "stock": 7},
        {"store_id": "sh-zz", "sku": "100", "price_fen": 1500, "stock": 7},
        {"store_id": "sh-a", "sku": "nope", "price_fen": 1500, "stock": 7},
        {"store_id": "sh-a", "sku": "101", "price_fen": 12.5, "stock": 7},
    ]
    status, job = upload(api, tokens_["hq"], "store_items", json.dumps(rows), "application/json")
    assert status == 202
    run_worker_once(aws)
    _, job = api.call("GET", f"/admin/imports/{job['job_id']}", token=tokens_["hq"])
    assert [(r["line"], r["field"]) for r in job["rejected_rows"]] == [
        (2, "store_id"),
        (3, "sku"),
        (4, "price_fen"),
    ]
    assert job["updated"] == 1
    assert (
        StoreItemModel.get("sh-a", "100").price_fen,
        StoreItemModel.get("sh-a", "100").stock,
    ) == (1500, 7)


def test_a_file_that_cannot_be_read_fails_the_job_with_the_reason(api, aws, tokens_):
    _, job = upload(api, tokens_["hq"], "products", "sku,name\n1,x\n")
    run_worker_once(aws)
    _, job = api.call("GET", f"/admin/imports/{job['job_id']}", token=tokens_["hq"])
    assert job["status"] == "failed" and "lacks the column" in job["error"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml"])
def test_upload_needs_csv_or_json(api, aws, tokens_, content_type):
    status, _ = upload(api, tokens_["hq"], "products", "x", content_type)
    assert status in (415, 422)


def test_only_head_office_imports(api, aws, tokens_):
    assert upload(api, tokens_["manager_a"], "products", PRODUCTS_CSV)[0] == 403
    status, body = upload(api, tokens_["hq"], "pets", PRODUCTS_CSV)
    assert status == 422 and body["error"]["details"][0]["field"] == "kind"


def test_a_products_cost_is_kept_for_the_margin_floor_and_shown_only_to_the_back_office(
    api, catalogue, tokens_
):
    body = {"name": "有成本商品", "category1": "蔬菜", "category2": "叶菜", "unit": "份"}
    status, _ = api.call("PUT", "/admin/products/100", {**body, "cost_fen": 420}, tokens_["hq"])
    assert status == 200 and int(ProductModel.get("100").cost_fen) == 420
    status, item = api.call("GET", "/admin/stores/sh-a/items?q=100", token=tokens_["staff_a"])
    assert status == 200 and item["items"][0]["cost_fen"] == 420
    status, public = api.call("GET", "/stores/sh-a/products/100")
    assert status == 200 and "cost_fen" not in public
    status, err = api.call("PUT", "/admin/products/100", {**body, "cost_fen": -1}, tokens_["hq"])
    assert status == 422 and err["error"]["details"][0]["field"] == "cost_fen"


def test_erp_rows_may_carry_a_cost_and_a_bad_one_is_reported(api, aws, tokens_):
    csv = (
        "sku,name,category1,category2,unit,cost_fen\n"
        "300001,有成本,水果,柑橘,箱,1250\n"
        "300002,无成本,水果,柑橘,箱,\n"
        "300003,坏成本,水果,柑橘,箱,12.5\n"
    )
    status, job = upload(api, tokens_["hq"], "products", csv)
    assert status == 202 and run_worker_once(aws) == 1
    _, job = api.call("GET", f"/admin/imports/{job['job_id']}", token=tokens_["hq"])
    assert (job["created"], job["rejected"]) == (2, 1)
    assert job["rejected_rows"][0]["field"] == "cost_fen"
    assert int(ProductModel.get("300001").cost_fen) == 1250
    assert ProductModel.get("300002").cost_fen is None
