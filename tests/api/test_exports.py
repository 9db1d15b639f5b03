"""CSV exports through the API: each kind, each role, hostile input, idempotency, a job
that spans several batches and S3 parts, and the worker under redelivery."""

from __future__ import annotations

import csv
import io
import json
import uuid
from urllib.parse import parse_qs, unquote, urlparse
from zoneinfo import ZoneInfo

import boto3
import pytest
from chalicelib.exports import jobs, sources
from chalicelib.exports.models import ExportJobModel
from chalicelib.kernel import clock, config
from chalicelib.orders import order_flow
from chalicelib.orders.models import CouponUseAttribute, OrderDetailModel, OrderModel

from tests.order_steps import pick, place_paid, set_stock
from tests.publishing import create_template


def _day(order_id: str) -> str:
    return OrderModel.get(order_id).store_day.split("#")[1]


def start(api, token, body, key=None):
    return api.call(
        "POST", "/admin/exports", body, token, headers={"Idempotency-Key": key or uuid.uuid4().hex}
    )


def deliver(queue: str, handle) -> int:
    """Deliver what ``queue`` holds to ``handle(body)``, as the SQS event source would."""
    sqs = boto3.client("sqs", region_name=config.REGION)
    url = sqs.get_queue_url(QueueName=config.queue_name(queue))["QueueUrl"]
    n = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return n
        for m in got:
            handle(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            n += 1


def run_worker() -> int:
    """Deliver what the exports queue holds to the export worker."""
    return deliver("exports", jobs.handle_message)


def download(job: dict) -> bytes:
    """The object the presigned link names (in-process moto serves boto3, not HTTP)."""
    url = urlparse(job["download_url"])
    bucket = config.bucket_name("imports")
    path = unquote(url.path).lstrip("/")
    # virtual-hosted (AWS) or path style (an endpoint on an IP, as the local stack's)
    key = path.split("/", 1)[1] if url.hostname and not url.hostname.startswith(bucket) else path
    assert key.startswith("exports/" + job["export_id"] + "/")
    s3 = boto3.client("s3", region_name=config.REGION)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def export(api, token, body) -> tuple[dict, list[list[str]], bytes]:
    status, job = start(api, token, body)
    assert status == 202, job
    assert job["status"] == "queued"
    run_worker()
    status, job = api.call("GET", f"/admin/exports/{job['export_id']}", token=token)
    assert status == 200 and job["status"] == "succeeded", job
    data = download(job)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return job, rows, data


@pytest.fixture
def sold(catalogue):
    """Two paid orders at sh-a (one picked short: a refund) and one at sh-b."""
    a1 = place_paid([("100", 2), ("101", 1)])
    a2 = place_paid([("102", 3)], fulfilment="pickup")
    pick(a2, {"102": 1})
    b1 = place_paid([("103", 1)], fulfilment="pickup", store_id="sh-b")
    return {"a1": a1, "a2": a2, "b1": b1, "day": _day(a1)}


def test_head_office_exports_the_chains_orders_one_row_per_line(api, tokens_, sold):
    day = sold["day"]
    body = {"kind": "orders", "filters": {"date_from": day, "date_to": day}}
    job, rows, data = export(api, tokens_["hq"], body)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    head = rows[0]
    assert head[0] == "订单号" and "下单时间（Asia/Shanghai）" in head
    body_rows = rows[1:]
    assert len(body_rows) == 4  # a1 has two lines, a2 one, b1 one
    assert {r[0] for r in body_rows} == {sold["a1"], sold["a2"], sold["b1"]}
    line = next(r for r in body_rows if r[0] == sold["a1"] and r[head.index("商品编码")] == "100")
    order = order_flow.get(sold["a1"])
    assert line[head.index("商品名称")] == "商品0"
    assert line[head.index("数量")] == "2"
    unit = int(order.lines[0].unit_price_fen)
    assert line[head.index("单价（元）")] == f"{unit // 100}.{unit % 100:02d}"
    assert (
        line[head.index("实付（元）")]
        == f"{int(order.paid_fen) // 100}.{int(order.paid_fen) % 100:02d}"
    )
    assert job["rows_done"] == job["rows_estimated"] == 4
    assert job["file_name"] == f"orders_all_{day}_{day}.csv"
    assert job["created_by"] == "hq-admin" and job["filters"] == body["filters"]


def test_the_link_expires_in_fifteen_minutes(api, tokens_, sold):
    day = sold["day"]
    job, _, _ = export(
        api, tokens_["hq"], {"kind": "daily_sales", "filters": {"date_from": day, "date_to": day}}
    )
    query = parse_qs(urlparse(job["download_url"]).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert job["download_expires_at"] > clock.now_iso()


def test_english_headers_and_a_status_filter(api, tokens_, sold):
    day = sold["day"]
    body = {
        "kind": "orders",
        "filters": {"store_id": "sh-a", "date_from": day, "date_to": day, "status": "paid"},
        "language": "en",
    }
    _, rows, _ = export(api, tokens_["manager_a"], body)
    assert rows[0][0] == "Order ID" and "Created at (Asia/Shanghai)" in rows[0]
    assert {r[0] for r in rows[1:]} == {sold["a1"]}  # a2 was picked: no longer paid


def test_refunds_coupon_redemptions_stock_and_daily_sales(api, tokens_, sold):
    day = sold["day"]
    dated = {"date_from": day, "date_to": day}
    _, rows, _ = export(api, tokens_["staff_a"], {"kind": "refunds", "filters": dated})
    assert len(rows) == 2 and rows[1][1] == sold["a2"] and rows[1][5] == "shortage"
    refund = OrderModel.get(sold["a2"]).refunded_fen
    assert rows[1][7] == f"{int(refund) // 100}.{int(refund) % 100:02d}"

    status, template = create_template(
        api,
        {
            "name": "满20减5",
            "kind": "amount_off",
            "threshold_fen": 2000,
            "amount_off_fen": 500,
            "days_after_claim": 7,
        },
        tokens_["hq"],
    )
    assert status == 201, template
    # An order records the coupons it used; set one on a paid order as placing would.
    OrderDetailModel(sold["b1"]).update(
        actions=[
            OrderDetailModel.coupon_uses.set(
                [
                    CouponUseAttribute(
                        coupon_id="cp-1",
                        template_id=template["template_id"],
                        kind="amount_off",
                        discount_fen=500,
                    )
                ]
            )
        ]
    )
    _, rows, _ = export(api, tokens_["hq"], {"kind": "coupon_redemptions", "filters": dated})
    assert rows[1:] == [
        [
            sold["b1"],
            "sh-b",
            "鲜到家 陆家嘴店",
            day,
            "paid",
            rows[1][5],
            "cp-1",
            template["template_id"],
            "满20减5",
            "amount_off",
            "5.00",
            rows[1][11],
        ]
    ]

    _, rows, _ = export(api, tokens_["manager_a"], {"kind": "stock", "filters": {}})
    assert rows[0][:3] == ["门店", "商品编码", "商品名称"]
    assert len(rows) == 26 and all(r[0] == "sh-a" for r in rows[1:])
    assert rows[1][1:3] == ["100", "商品0"]

    _, rows, _ = export(api, tokens_["hq"], {"kind": "daily_sales", "filters": dated})
    by_store = {r[1]: r for r in rows[1:]}
    a_paid = sum(int(OrderModel.get(o).paid_fen) for o in (sold["a1"], sold["a2"]))
    assert by_store["sh-a"][3] == "2"
    assert by_store["sh-a"][4] == f"{a_paid // 100}.{a_paid % 100:02d}"
    assert by_store["sh-a"][5] == f"{int(refund) // 100}.{int(refund) % 100:02d}"
    assert by_store["sh-b"][3] == "1"


# --- who may export what -------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "kind", "filters", "status", "code"),
    [
        ("staff_a", "orders", {"store_id": "sh-b"}, 403, "other_store"),
        ("manager_a", "refunds", {"store_id": "sh-b"}, 403, "other_store"),
        ("manager_a", "stock", {"store_id": "sh-b"}, 403, "other_store"),
        ("staff_a", "daily_sales", {"store_id": "sh-b"}, 403, "other_store"),
        ("manager_a", "coupon_redemptions", {}, 403, "role_not_allowed"),
        ("staff_a", "coupon_redemptions", {"store_id": "sh-a"}, 403, "role_not_allowed"),
        ("customer", "orders", {}, 403, "role_not_allowed"),
        ("relay_a", "orders", {}, 403, "role_not_allowed"),
        ("staff_a", "orders", {"store_id": "sh-a"}, 202, None),
        ("manager_a", "daily_sales", {}, 202, None),  # their own store by default
        ("hq", "coupon_redemptions", {}, 202, None),
        ("hq", "orders", {"store_id": "sh-b"}, 202, None),
    ],
)
def test_each_role_exports_what_its_lists_show(
    api, tokens_, stores, who, kind, filters, status, code
):
    dated = {"date_from": "2026-11-01", "date_to": "2026-11-30"} if kind != "stock" else {}
    got, body = start(api, tokens_[who], {"kind": kind, "filters": {**dated, **filters}})
    assert got == status, body
    if code:
        assert body["error"]["code"] == code
    else:
        assert body["filters"].get("store_id") == (
            filters.get("store_id") or ("sh-a" if who != "hq" else None)
        )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "customers", "filters": {}}, "validation_failed"),
        (
            {"kind": "orders", "filters": {"date_from": "2026-13-01", "date_to": "2026-13-02"}},
            "validation_failed",
        ),
        (
            {"kind": "orders", "filters": {"date_from": "26-11-01", "date_to": "2026-11-02"}},
            "validation_failed",
        ),
        (
            {"kind": "orders", "filters": {"date_from": "2026-11-02", "date_to": "2026-11-01"}},
            "validation_failed",
        ),
        (
            {"kind": "orders", "filters": {"date_from": "2025-11-01", "date_to": "2026-11-02"}},
            "range_too_long",
        ),
        ({"kind": "orders", "filters": {}}, "validation_failed"),
        ({"kind": "stock", "filters": {}}, "validation_failed"),
        (
            {
                "kind": "refunds",
                "filters": {"date_from": "2026-11-01", "date_to": "2026-11-01", "status": "paid"},
            },
            "validation_failed",
        ),
        (
            {
                "kind": "orders",
                "filters": {
                    "date_from": "2026-11-01",
                    "date_to": "2026-11-01",
                    "status": "nonsense",
                },
            },
            "validation_failed",
        ),
        ({"kind": "orders", "filters": {"store_id": "x' OR 1=1"}}, "validation_failed"),
        ({"kind": "orders", "filters": {"shop": "sh-a"}}, "validation_failed"),
        ({"kind": "orders", "language": "fr"}, "validation_failed"),
    ],
)
def test_hostile_requests_are_422_and_queue_nothing(api, tokens_, stores, body, code):
    status, resp = start(api, tokens_["hq"], body)
    assert status == 422 and resp["error"]["code"] == code, resp
    assert ExportJobModel.count() == 0 and run_worker() == 0


def test_366_days_are_allowed_and_an_unknown_store_is_404(api, tokens_, stores):
    year = {"date_from": "2025-11-01", "date_to": "2026-11-01"}
    status, _ = start(
        api, tokens_["hq"], {"kind": "daily_sales", "filters": {**year, "store_id": "sh-a"}}
    )
    assert status == 202
    status, body = start(
        api, tokens_["hq"], {"kind": "orders", "filters": {**year, "store_id": "sh-zz"}}
    )
    assert status == 404 and body["error"]["code"] == "store_not_found"
    status, body = api.call("POST", "/admin/exports", {"kind": "stock"}, tokens_["hq"])
    assert status == 422 and body["error"]["code"] == "idempotency_key_required"


# --- idempotency and visibility ---------------------------------------------------------


def test_the_same_idempotency_key_returns_the_same_job(api, tokens_, stores):
    body = {"kind": "stock", "filters": {"store_id": "sh-a"}}
    s1, first = start(api, tokens_["hq"], body, key="export-key-1")
    s2, again = start(api, tokens_["hq"], body, key="export-key-1")
    assert s1 == s2 == 202 and first["export_id"] == again["export_id"]
    assert run_worker() >= 1 and ExportJobModel.count() == 1
    s3, done = start(api, tokens_["hq"], body, key="export-key-1")
    assert s3 == 202 and done["export_id"] == first["export_id"] and done["status"] == "succeeded"
    assert run_worker() == 0  # a finished job is not queued again
    status, other = start(
        api, tokens_["hq"], {"kind": "stock", "filters": {"store_id": "sh-b"}}, key="export-key-1"
    )
    assert status == 422 and other["error"]["code"] == "idempotency_key_reused"
    # the key is the caller's: another user's same key is another job
    status, theirs = start(api, tokens_["manager_a"], body, key="export-key-1")
    assert status == 202 and theirs["export_id"] != first["export_id"]


def test_a_user_sees_their_own_exports_and_head_office_sees_all(api, tokens_, stores):
    _, mine = start(api, tokens_["manager_a"], {"kind": "stock", "filters": {}})
    path = f"/admin/exports/{mine['export_id']}"
    assert api.call("GET", path, token=tokens_["manager_a"])[0] == 200
    assert api.call("GET", path, token=tokens_["hq"])[0] == 200
    status, body = api.call("GET", path, token=tokens_["staff_a"])  # same store, not theirs
    assert status == 404 and body["error"]["code"] == "export_not_found"
    assert api.call("GET", path, token=tokens_["customer"])[0] == 403
    assert api.call("GET", "/admin/exports/exp-nope", token=tokens_["hq"])[0] == 404


# --- a large export ---------------------------------------------------------------------


def test_a_large_export_streams_parts_and_writes_progress_after_each_batch(
    api, tokens_, catalogue, monkeypatch
):
    import moto.s3.models

    set_stock(["100", "101", "102"], 100)
    orders = [place_paid([("100", 1), ("101", 1), ("102", 1)]) for _ in range(12)]
    day = _day(orders[0])
    # Small parts and progress after every batch, so a dozen orders span several of each.
    monkeypatch.setattr(jobs, "PART_BYTES", 1024)
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_ROWS", 1)
    monkeypatch.setattr(sources, "ORDERS_PER_READ", 5)
    seen: list[tuple[int, int]] = []
    uploads: list[int] = []
    original = jobs.PartUpload._part
    real_orders = sources.SOURCES["orders"]

    def watched(scope):
        for batch in real_orders(scope):
            yield batch
            job = ExportJobModel.get(export_id)
            seen.append((int(job.rows_done), int(job.rows_estimated)))

    def counting(self, data):
        uploads.append(len(data))
        return original(self, data)

    monkeypatch.setitem(sources.SOURCES, "orders", watched)
    monkeypatch.setattr(jobs.PartUpload, "_part", counting)
    _, job = start(
        api,
        tokens_["hq"],
        {"kind": "orders", "filters": {"store_id": "sh-a", "date_from": day, "date_to": day}},
    )
    export_id = job["export_id"]
    run_worker()
    _, job = api.call("GET", f"/admin/exports/{export_id}", token=tokens_["hq"])
    assert job["status"] == "succeeded" and job["rows_done"] == 36
    assert len(uploads) >= 3  # a multipart upload of several parts
    # 12 orders read 5 at a time: three batches, progress written after each
    assert [done for done, _ in seen] == [15, 30, 36]
    assert all(done <= est for done, est in seen)
    data = download(job)
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 37 and {r[0] for r in rows[1:]} == set(orders)


def test_progress_is_written_between_batches(monkeypatch, stores, aws):
    """The job record shows rows done after each batch, before the file is finished."""
    from chalicelib.auth.principal import Principal
    from chalicelib.exports import schemas as s

    monkeypatch.setattr(jobs, "PROGRESS_EVERY_ROWS", 1)
    hq = Principal("hq-admin", "hq_admin")
    body = s.ExportRequest(
        kind="daily_sales", filters=s.ExportFilters(date_from="2026-11-01", date_to="2026-11-03")
    )
    job = jobs.create_job(hq, body, "progress-key-1")
    monkeypatch.setattr(sources, "ITEMS_PER_PAGE", 1)  # a batch per (store, day)
    seen: list[int] = []
    real = sources.SOURCES["daily_sales"]

    def watched(scope):
        for batch in real(scope):
            yield batch
            seen.append(int(ExportJobModel.get(job.export_id).rows_done))

    monkeypatch.setitem(sources.SOURCES, "daily_sales", watched)
    done = jobs.process_job(job.export_id)
    assert done.status == "succeeded" and done.rows_done == 6  # 2 stores x 3 days
    assert seen == [1, 2, 3, 4, 5, 6][: len(seen)] and len(seen) == 6


# --- the worker under redelivery --------------------------------------------------------


def test_a_held_lease_a_taken_over_lease_and_a_finished_job(monkeypatch, stores, aws):
    import time

    from chalicelib.auth.principal import Principal
    from chalicelib.exports import schemas as s

    hq = Principal("hq-admin", "hq_admin")
    job = jobs.create_job(
        hq, s.ExportRequest(kind="stock", filters=s.ExportFilters(store_id="sh-a")), "lease-key-1"
    )
    ExportJobModel(job.export_id).update(
        actions=[
            ExportJobModel.status.set("running"),
            ExportJobModel.lease_until.set(int(time.time()) + 600),
        ]
    )
    assert jobs.process_job(job.export_id).status == "running"
    ExportJobModel(job.export_id).update(
        actions=[ExportJobModel.lease_until.set(int(time.time()) - 1)]
    )
    done = jobs.process_job(job.export_id)
    assert done.status == "succeeded"
    calls: list[str] = []
    monkeypatch.setattr(jobs, "claim_lease", lambda j, s: calls.append("claim") or True)
    assert jobs.process_job(job.export_id).status == "succeeded" and calls == []


def test_a_failing_source_fails_the_job_with_a_message(monkeypatch, stores, aws):
    from chalicelib.auth.principal import Principal
    from chalicelib.exports import schemas as s

    def broken(scope):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setitem(sources.SOURCES, "stock", broken)
    hq = Principal("hq-admin", "hq_admin")
    job = jobs.create_job(
        hq, s.ExportRequest(kind="stock", filters=s.ExportFilters(store_id="sh-a")), "fail-key-1"
    )
    done = jobs.process_job(job.export_id)
    assert done.status == "failed" and "start it again" in (done.error or "")
    assert done.download_url is None


def test_exports_read_by_key_and_index_only(api, tokens_, sold, monkeypatch):
    import botocore.client

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    day = sold["day"]
    for kind in ("orders", "refunds", "coupon_redemptions", "daily_sales"):
        export(api, tokens_["hq"], {"kind": kind, "filters": {"date_from": day, "date_to": day}})
    export(api, tokens_["hq"], {"kind": "stock", "filters": {"store_id": "sh-a"}})
    assert calls and "Scan" not in calls
    json.dumps(calls)


# --- concurrency ------------------------------------------------------------------------


def test_concurrent_posts_with_one_key_make_one_job(stores, aws):
    """Retries racing each other, some with another body: one job, made by one of them;
    the same request gets that job, another request 422 (never a job overwritten)."""
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.auth.principal import Principal
    from chalicelib.exports import schemas as s
    from chalicelib.kernel.errors import ValidationFailed

    hq = Principal("hq-admin", "hq_admin")

    def post(n):
        body = s.ExportRequest(
            kind="stock", filters=s.ExportFilters(store_id=("sh-a", "sh-b")[n % 2])
        )
        try:
            return body.filters.store_id, jobs.create_job(hq, body, "same-key-race")
        except ValidationFailed as exc:
            assert exc.code == "idempotency_key_reused"
            return body.filters.store_id, None

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(post, range(8)))
    assert ExportJobModel.count() == 1
    made = [job for store, job in got if job is not None]
    assert made and {j.export_id for j in made} == {made[0].export_id}
    stored = jobs._filters_of(ExportJobModel.get(made[0].export_id))["store_id"]
    assert {store for store, job in got if job is not None} == {stored}
    assert all(job is None for store, job in got if store != stored)


def test_concurrent_deliveries_write_the_file_once(stores, aws, monkeypatch):
    """SQS may deliver one message twice at once: the lease lets one worker write."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.auth.principal import Principal
    from chalicelib.exports import schemas as s

    hq = Principal("hq-admin", "hq_admin")
    job = jobs.create_job(
        hq, s.ExportRequest(kind="stock", filters=s.ExportFilters(store_id="sh-a")), "race-key-2"
    )
    closes: list[str] = []
    both_started = threading.Barrier(2)
    original_claim = jobs.claim_lease

    def claim_together(j, lease_s):
        both_started.wait(timeout=10)  # both deliveries read the queued job before claiming
        return original_claim(j, lease_s)

    original_close = jobs.PartUpload.close

    def counted_close(self):
        closes.append(self.key)
        return original_close(self)

    monkeypatch.setattr(jobs, "claim_lease", claim_together)
    monkeypatch.setattr(jobs.PartUpload, "close", counted_close)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: jobs.process_job(job.export_id), range(2)))
    assert len(closes) == 1
    assert "succeeded" in {r.status for r in results}
    assert ExportJobModel.get(job.export_id).status == "succeeded"


def test_too_many_rows_fail_with_advice_and_no_file(monkeypatch, stores, aws, catalogue):
    from chalicelib.auth.principal import Principal
    from chalicelib.exports import schemas as s

    monkeypatch.setattr(jobs, "MAX_ROWS", 10)
    hq = Principal("hq-admin", "hq_admin")
    job = jobs.create_job(
        hq, s.ExportRequest(kind="stock", filters=s.ExportFilters(store_id="sh-a")), "big-key-1"
    )
    done = jobs.process_job(job.export_id)
    assert done.status == "failed" and "fewer days" in (done.error or "")
    assert done.download_url is None


def test_times_are_in_the_stores_zone_named_in_the_header(api, tokens_, sold):
    from chalicelib.stores.models import StoreModel

    StoreModel.get("sh-b").update(actions=[StoreModel.timezone.set("Asia/Tokyo")])
    day = sold["day"]
    body = {"kind": "orders", "filters": {"store_id": "sh-b", "date_from": day, "date_to": day}}
    _, rows, _ = export(api, tokens_["hq"], body)
    created = rows[0].index("下单时间（Asia/Tokyo）")
    order = OrderModel.get(sold["b1"])
    tokyo = clock.parse(order.created_at).astimezone(ZoneInfo("Asia/Tokyo"))
    assert rows[1][created] == tokyo.strftime("%Y-%m-%d %H:%M:%S")
    # the chain's stores now span two zones: one zone for the whole file, the default
    body = {"kind": "orders", "filters": {"date_from": day, "date_to": day}}
    _, rows, _ = export(api, tokens_["hq"], body)
    assert "下单时间（Asia/Shanghai）" in rows[0]
