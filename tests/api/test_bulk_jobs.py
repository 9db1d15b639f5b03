"""POST /admin/bulk-jobs: many store items changed in one idempotent job with a result
per row; bad rows are reported and the good rows still apply."""

from __future__ import annotations

import json

import pytest
from chalicelib.catalogue import bulk_jobs, bulk_rules
from chalicelib.catalogue.models import BulkJobModel, StoreItemModel

URL = "/admin/bulk-jobs"


def post(api, token, body, key="key-00000001"):
    headers = {"Idempotency-Key": key} if key else {}
    return api.call("POST", URL, body, token, headers=headers)


def item(store, sku):
    return StoreItemModel.get(store, sku, consistent_read=True)


def by_row(job):
    return {r["row"]: r for r in job["results"]}


def test_good_rows_apply_and_each_bad_row_says_why(api, tokens_, catalogue):
    rows = [
        {"store_id": "sh-a", "sku": "100", "price_fen": 1590},
        {"store_id": "sh-a", "sku": "999", "price_fen": 100},  # not sold there
        {"store_id": "sh-a", "sku": "101", "price_fen": "cheap"},  # wrong type
        {"store_id": "sh-a", "sku": "100", "price_fen": 1},  # duplicate of row 0
        {"store_id": "sh-b", "sku": "102", "stock": 7, "on_sale": False},
        {"store_id": "sh-a", "sku": "103"},  # nothing to change
        {"store_id": 7, "sku": None, "on_sale": "yes"},
        {"store_id": "sh-a", "sku": "104", "stock": -1, "colour": "red"},
    ]
    status, job = post(api, tokens_["hq"], {"rows": rows})
    assert status == 201, job
    assert (job["status"], job["total_rows"], job["processed_rows"]) == ("succeeded", 8, 8)
    assert (job["applied"], job["rejected"]) == (2, 6)
    r = by_row(job)
    assert r[0]["status"] == r[4]["status"] == "applied"
    assert (r[1]["field"], r[1]["reason"]) == ("sku", "store sh-a does not sell 999")
    assert r[2]["field"] == "price_fen" and "whole number" in r[2]["reason"]
    assert (r[3]["field"], r[3]["reason"]) == ("sku", "duplicate of row 0")
    assert r[5]["field"] == "(row)" and r[6]["field"] == "store_id, sku, on_sale"
    assert set(r[7]["field"].split(", ")) == {"colour", "stock"}
    assert r[1]["sku"] == "999" and r[6]["sku"] is None
    assert int(item("sh-a", "100").price_fen) == 1590
    b = item("sh-b", "102")
    assert (int(b.stock), bool(b.on_sale)) == (7, False)
    assert int(item("sh-a", "101").price_fen) == 1001  # untouched
    # readable afterwards
    status, again = api.call("GET", f"{URL}/{job['job_id']}", token=tokens_["hq"])
    assert status == 200 and again == job


def test_the_same_key_twice_is_one_job_applied_once(api, tokens_, catalogue):
    body = {"rows": [{"store_id": "sh-a", "sku": "100", "stock": 3}]}
    status, first = post(api, tokens_["hq"], body)
    assert status == 201
    StoreItemModel("sh-a", "100").update(actions=[StoreItemModel.stock.set(9)])
    status, second = post(api, tokens_["hq"], body)
    assert status == 200 and second == first
    assert int(item("sh-a", "100").stock) == 9  # not applied again
    status, other = post(
        api, tokens_["hq"], {"rows": [{"store_id": "sh-a", "sku": "100", "stock": 4}]}
    )
    assert (status, other["error"]["code"]) == (422, "idempotency_key_reused")
    status, err = post(api, tokens_["hq"], body, key=None)
    assert (status, err["error"]["code"]) == (422, "idempotency_key_required")


def test_a_job_left_running_by_a_dead_request_is_finished_by_the_retry(api, tokens_, catalogue):
    """The first request died after applying row 0 (its lease ran out); the retry with
    the same key takes the job over, applies the rest and counts nothing twice."""
    import time

    body = {
        "rows": [
            {"store_id": "sh-a", "sku": "100", "stock": 1},
            {"store_id": "sh-a", "sku": "101", "stock": 2},
        ]
    }
    real = bulk_jobs._finish
    bulk_jobs._finish = lambda job, status, error=None: None  # dies before finishing
    try:
        status, first = post(api, tokens_["hq"], body)
    finally:
        bulk_jobs._finish = real
    assert status == 201 and first["status"] == "running"
    job_id = first["job_id"]
    # It died after row 0: row 1 neither written nor in the results (nor its audit
    # entry: the row's write and its entry are one transaction).
    StoreItemModel("sh-a", "101").update(actions=[StoreItemModel.stock.set(10)])
    from chalicelib.audit.models import AuditEntryModel

    for entry in AuditEntryModel.scan(AuditEntryModel.target_id == "sh-a/101"):
        entry.delete()
    saved = BulkJobModel.get(job_id)
    saved.update(
        actions=[
            BulkJobModel.results.set(saved.results[:1]),
            BulkJobModel.processed_rows.set(1),
        ]
    )
    status, still = post(api, tokens_["hq"], body)  # lease still held: left alone
    assert (status, still["status"]) == (200, "running")
    saved.update(actions=[BulkJobModel.lease_until.set(int(time.time()) - 1)])
    status, done = post(api, tokens_["hq"], body)
    assert status == 200 and done["status"] == "succeeded", done
    assert [r["status"] for r in done["results"]] == ["applied", "applied"]
    assert int(item("sh-a", "101").stock) == 2


def test_an_expected_price_that_is_no_longer_there_is_a_conflict(api, tokens_, catalogue):
    rows = [
        {"store_id": "sh-a", "sku": "100", "price_fen": 900, "expected_price_fen": 1000},
        {"store_id": "sh-a", "sku": "101", "price_fen": 900, "expected_price_fen": 1234},
    ]
    status, job = post(api, tokens_["hq"], {"rows": rows})
    assert status == 201
    r = by_row(job)
    assert r[0]["status"] == "applied"
    assert (r[1]["status"], r[1]["field"]) == ("conflict", "price_fen")
    assert "expected 1234, now 1001" in r[1]["reason"]
    assert int(item("sh-a", "101").price_fen) == 1001


def test_a_row_already_as_asked_is_unchanged():
    row = bulk_rules.BulkRow(0, "sh-a", "1", {"stock": 3}, {"stock": 5})
    assert bulk_rules.outcome(row, {"stock": 3, "price_fen": 1, "on_sale": True})[0] == "unchanged"
    assert bulk_rules.outcome(row, {"stock": 4, "price_fen": 1, "on_sale": True})[0] == "conflict"
    assert bulk_rules.outcome(row, {"stock": 5, "price_fen": 1, "on_sale": True}) is None
    assert bulk_rules.outcome(row, None)[0] == "rejected"


def test_an_edit_between_read_and_write_is_not_overwritten(aws, catalogue, monkeypatch):
    """The write is conditional on the values read just before it."""
    from chalicelib.auth.principal import Principal

    real = bulk_jobs._write

    def someone_else_first(by, item_, row, seen):
        StoreItemModel(row.store_id, row.sku).update(actions=[StoreItemModel.stock.set(77)])
        return real(by, item_, row, seen)

    monkeypatch.setattr(bulk_jobs, "_write", someone_else_first)
    import msgspec
    from chalicelib.catalogue import schemas as s

    body = msgspec.convert(
        {"rows": [{"store_id": "sh-a", "sku": "100", "stock": 1}]}, s.BulkJobCreate
    )
    job, _ = bulk_jobs.create_job(Principal("hq-admin", "hq_admin"), "race-0001", body)
    assert job.results[0].status == "conflict"
    assert int(item("sh-a", "100").stock) == 77


def test_copy_prices_from_one_store_to_another(api, tokens_, catalogue):
    StoreItemModel("sh-a", "100").update(actions=[StoreItemModel.price_fen.set(555)])
    body = {
        "copy_prices": {"from_store": "sh-a", "to_stores": ["sh-b"], "skus": ["100", "101", "nope"]}
    }
    status, job = post(api, tokens_["hq"], body)
    assert status == 201, job
    assert job["kind"] == "copy_prices" and (job["applied"], job["rejected"]) == (2, 1)
    assert int(item("sh-b", "100").price_fen) == 555
    assert int(item("sh-b", "101").price_fen) == 1001  # sh-a's price of 101
    status, err = post(api, tokens_["manager_a"], body, key="key-00000002")
    assert (status, err["error"]["code"]) == (403, "field_not_allowed")


@pytest.mark.parametrize(
    ("who", "rows", "status", "code"),
    [
        ("manager_a", [{"store_id": "sh-a", "sku": "100", "stock": 1}], 201, None),
        ("manager_a", [{"store_id": "sh-b", "sku": "100", "stock": 1}], 403, "other_store"),
        (
            "manager_a",
            [{"store_id": "sh-a", "sku": "100", "price_fen": 1}],
            403,
            "field_not_allowed",
        ),
        ("staff_a", [{"store_id": "sh-a", "sku": "100", "stock": 1}], 403, "role_not_allowed"),
        ("customer", [{"store_id": "sh-a", "sku": "100", "stock": 1}], 403, "role_not_allowed"),
        ("relay_a", [{"store_id": "sh-a", "sku": "100", "stock": 1}], 403, "role_not_allowed"),
    ],
)
def test_roles(api, tokens_, catalogue, who, rows, status, code):
    got, body = post(api, tokens_[who], {"rows": rows})
    assert got == status, body
    if code:
        assert body["error"]["code"] == code
        assert int(item("sh-a", "100").stock) == 10 and int(item("sh-b", "100").stock) == 10


def test_a_manager_reads_only_their_stores_jobs(api, tokens_, catalogue):
    _, job = post(
        api, tokens_["manager_a"], {"rows": [{"store_id": "sh-a", "sku": "100", "stock": 1}]}
    )
    _, hq_job = post(api, tokens_["hq"], {"rows": [{"store_id": "sh-b", "sku": "100", "stock": 1}]})
    assert api.call("GET", f"{URL}/{job['job_id']}", token=tokens_["manager_a"])[0] == 200
    assert api.call("GET", f"{URL}/{job['job_id']}", token=tokens_["hq"])[0] == 200
    assert api.call("GET", f"{URL}/{job['job_id']}", token=tokens_["manager_b"])[0] == 404
    assert api.call("GET", f"{URL}/{hq_job['job_id']}", token=tokens_["manager_a"])[0] == 404
    assert api.call("GET", f"{URL}/blk-nothing", token=tokens_["hq"])[0] == 404
    assert api.call("GET", f"{URL}/{job['job_id']}", token=tokens_["staff_a"])[0] == 403


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rows": "x"},
        {"rows": ["not a row"]},
        {"rows": [{}] * 1001},
        {"rows": [], "copy_prices": {"from_store": "sh-a", "to_stores": ["sh-b"], "skus": ["1"]}},
        {"copy_prices": {"from_store": "sh-a", "to_stores": ["sh-a"], "skus": ["1"]}},
        {"copy_prices": {"from_store": "sh-a", "to_stores": ["sh-b"], "skus": ["../x"]}},
        {"rows": [], "extra": 1},
    ],
)
def test_hostile_bodies_are_refused_whole(api, tokens_, catalogue, body):
    status, err = post(api, tokens_["hq"], body)
    assert status == 422, err
    assert BulkJobModel.count() == 0


def test_a_huge_body_is_refused(api, tokens_, catalogue):
    rows = [{"store_id": "sh-a", "sku": "100", "stock": 1, "pad": "x" * 5000}] * 1001
    status, err = post(api, tokens_["hq"], {"rows": rows})
    assert status == 422 and err["error"]["details"][0]["field"] == "rows"


def test_a_thousand_rows_of_junk_are_each_refused_and_fit_the_job(api, tokens_, catalogue):
    junk = {f"field_{i:02d}_{'x' * 30}": i for i in range(40)}
    rows = [
        {"store_id": "S" * 40, "sku": "../" * 20, "price_fen": "x" * 100, "stock": [], **junk}
        for _ in range(1000)
    ]
    status, job = post(api, tokens_["hq"], {"rows": rows})
    assert status == 201, job
    assert (job["status"], job["rejected"], job["total_rows"]) == ("succeeded", 1000, 1000)
    assert all(len(r["reason"]) <= 160 and len(r["field"]) <= 60 for r in job["results"])


def test_a_large_job_runs_in_the_worker_with_progress(api, tokens_, catalogue, aws):
    """More than INLINE_ROWS rows: queued, then applied by the imports worker."""
    import boto3
    from chalicelib.catalogue.import_jobs import handle_message
    from chalicelib.kernel.queues import queue_url

    rows = [
        {"store_id": s, "sku": str(100 + i), "stock": 50 + i}
        for s in ("sh-a", "sh-b")
        for i in range(25)
    ] * 5  # 250 rows, 200 of them duplicates
    rows = rows[:50] + [{"store_id": "sh-a", "sku": f"x{i}", "stock": 1} for i in range(200)]
    status, job = post(api, tokens_["hq"], {"rows": rows})
    assert status == 201 and job["status"] == "queued", job
    assert job["processed_rows"] == 0 and job["total_rows"] == 250
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=queue_url("imports"), MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert [json.loads(m["Body"]) for m in messages] == [{"bulk_job_id": job["job_id"]}]
    handle_message(messages[0]["Body"])
    handle_message(messages[0]["Body"])  # a redelivery does nothing
    _, done = api.call("GET", f"{URL}/{job['job_id']}", token=tokens_["hq"])
    assert (done["status"], done["processed_rows"], done["applied"], done["rejected"]) == (
        "succeeded",
        250,
        50,
        200,
    )
    assert int(item("sh-b", "124").stock) == 74
