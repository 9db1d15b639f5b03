"""Printing (DESIGN.md invariant 6): a paid order's ticket reaches its store's FIFO queue
once, the relay acknowledges each copy, the watchdog re-sends late jobs and shows them as
missed prints (漏单) until acknowledged, reprints and cancellation slips are jobs too."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from chalicelib.orders import order_flow
from chalicelib.orders.models import OrderModel
from chalicelib.printing import dispatch as print_dispatch
from chalicelib.printing import messages as print_messages
from chalicelib.printing import print_queues
from chalicelib.printing import watchdog as print_watchdog
from chalicelib.printing.models import PrintJobModel
from chalicelib.printing.print_jobs import ACK_WITHIN_S

from tests.api.conftest import relay_token_for
from tests.api.test_orders_api import ADDRESS, cart, place

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "print-job.v1.json"


@pytest.fixture(autouse=True)
def fresh_queue_cache():
    print_queues.forget()
    yield
    print_queues.forget()


@pytest.fixture
def relay_b(tokens_):
    return relay_token_for("sh-b")


def pay(api, tokens_, order_id):
    status, ack = api.call("POST", f"/local/payments/{order_id}/complete", {}, tokens_["customer"])
    assert status == 200 and ack["code"] == "SUCCESS", ack


def paid(api, tokens_, key="print-key-0001", **kw):
    """A paid delivery order at sh-a (or what ``kw`` says); returns (order id, job id)."""
    _mark_start()
    status, order = place(api, tokens_["customer"], cart(("100", 2), ("101", 1), **kw), key)
    assert status == 201, order
    pay(api, tokens_, order["order_id"])
    (job_id,) = OrderModel.get(order["order_id"]).print_job_ids
    return order["order_id"], job_id


def pickup_at_b(api, tokens_, key="print-key-b001"):
    _mark_start()
    body = {
        "store_id": "sh-b",
        "fulfilment": "pickup",
        "items": [{"sku": "100", "qty": 1}, {"sku": "102", "qty": 1}],
    }
    status, order = place(api, tokens_["customer"], body, key)
    assert status == 201, order
    pay(api, tokens_, order["order_id"])
    (job_id,) = OrderModel.get(order["order_id"]).print_job_ids
    return order["order_id"], job_id


def drain(store_id="sh-a"):
    """Every message on the store's queue (received and deleted)."""
    from chalicelib.kernel.queues import sqs_client

    sqs = sqs_client()
    url = print_queues.url(store_id)
    out = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return out
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        out.extend(got)


def job(job_id):
    return PrintJobModel.get(job_id, consistent_read=True)


_real_time = time.time


_BASE: list[float] = []


@pytest.fixture(autouse=True)
def _clock_base():
    """``later`` offsets count from the moment the test made its first order (or first
    moved the clock), not from the real now of each call, so a slow machine cannot push
    the clock past a deadline. Not from the test's start: fixtures such as ``catalogue``
    can take seconds on a loaded machine, and a job sent 2 s after the base would not yet
    be late at ``later(61)``."""
    _BASE.clear()


def _mark_start():
    if not _BASE:
        _BASE.append(_real_time())


def later(monkeypatch, seconds):
    """Set the clock ``seconds`` past the test's base (time.time only; nothing sleeps)."""
    _mark_start()
    now = _BASE[0] + seconds
    monkeypatch.setattr(time, "time", lambda: now)
    return int(now)


def ack(api, token, job_id, copy):
    return api.call("POST", f"/relay/print-jobs/{job_id}/ack", {"copy": copy}, token)


# --- queues ------------------------------------------------------------------------------


def test_each_store_gets_a_fifo_queue_with_a_dead_letter_queue_when_created(stores):
    from chalicelib.kernel.queues import sqs_client

    sqs = sqs_client()
    for store in stores:
        url = sqs.get_queue_url(QueueName=f"daojia-test-print-{store}.fifo")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attrs["FifoQueue"] == "true"
        assert attrs["ContentBasedDeduplication"] == "false"
        assert attrs["VisibilityTimeout"] == "60"
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == 5
        assert redrive["deadLetterTargetArn"].endswith(f":daojia-test-print-{store}-dlq.fifo")


def test_a_missing_queue_is_created_on_the_first_dispatch(api, catalogue, tokens_):
    from chalicelib.kernel.queues import sqs_client

    sqs = sqs_client()
    sqs.delete_queue(
        QueueUrl=sqs.get_queue_url(QueueName="daojia-test-print-sh-a.fifo")["QueueUrl"]
    )
    _, job_id = paid(api, tokens_)
    assert print_dispatch.dispatch(job_id) is True
    assert len(drain()) == 1


def test_a_deleted_queue_behind_a_cached_url_is_created_again(api, catalogue, tokens_):
    from chalicelib.kernel.queues import sqs_client

    url = print_queues.url("sh-a")  # cached now
    sqs_client().delete_queue(QueueUrl=url)
    _, job_id = paid(api, tokens_)
    assert print_dispatch.dispatch(job_id) is True
    assert len(drain()) == 1


# --- dispatch ----------------------------------------------------------------------------


def test_payment_makes_a_job_and_dispatch_sends_one_message_with_the_whole_ticket(
    api, catalogue, tokens_
):
    order_id, job_id = paid(api, tokens_, remark="放门口")
    assert job(job_id).status == "pending"

    assert print_dispatch.dispatch(job_id) is True

    (message,) = drain()
    assert message["Attributes"]["MessageGroupId"] == "sh-a"
    assert message["Attributes"]["MessageDeduplicationId"] == f"{job_id}-1"
    assert message["MessageAttributes"]["schema_version"]["StringValue"] == "1"
    body = message["Body"]
    assert ADDRESS["phone"] not in body  # invariant 9: the masked phone only
    msg = print_messages.decode(body)
    order = order_flow.get(order_id)
    assert (msg.schema_version, msg.job_id, msg.kind, msg.attempt) == ("1", job_id, "order", 1)
    assert msg.copies == ["picking", "delivery"] and msg.original_job_id is None
    assert (msg.store_id, msg.store_name, msg.store_timezone) == (
        "sh-a",
        "鲜到家 静安寺店",
        "Asia/Shanghai",
    )
    assert (msg.order_id, msg.daily_seq, msg.fulfilment) == (order_id, 1, "delivery")
    assert msg.business_day == order.store_day.split("#")[1]
    assert msg.paid_at == order.paid_at and msg.created_at == order.created_at
    assert msg.delivery == print_messages.Delivery(
        name="王女士", phone_masked="138****0001", address=ADDRESS["line"]
    )
    assert msg.pickup_code is None and msg.cancellation is None
    assert msg.remark == "放门口"
    assert [(x.sku, x.qty, x.unit_price_fen, x.amount_fen) for x in msg.lines] == [
        (x.sku, int(x.qty), int(x.unit_price_fen), int(x.amount_fen)) for x in order.lines
    ]
    line = msg.lines[0]
    assert (line.name, line.unit, line.category1, line.category2, line.fresh) == (
        "商品0",
        "份",
        "水果",
        "柑橘",
        True,
    )
    assert msg.amounts == print_messages.Amounts(
        subtotal_fen=int(order.subtotal_fen),
        discount_fen=int(order.discount_fen),
        delivery_fee_fen=int(order.delivery_fee_fen),
        total_fen=int(order.total_fen),
    )
    sent = job(job_id)
    # the normal path stays out of the by_store_status index (sparse)
    assert (sent.status, int(sent.attempts), sent.store_status) == ("sent", 1, None)
    assert [(h.action, h.from_state, h.to_state) for h in sent.history] == [
        ("send", "pending", "sent")
    ]
    # due ACK_WITHIN_S after payment (the job's creation), not after this send
    assert sent.watch == "unacked"
    assert int(time.time()) - 10 < int(sent.watch_at) - ACK_WITHIN_S <= int(time.time())


def test_dispatch_gives_a_deadline_only_to_a_job_without_one(api, catalogue, tokens_):
    """The first send keeps the deadline of payment time (the watchdog's index entry is
    left alone); a job written without one (by older code) gets ACK_WITHIN_S from now."""
    _, job_id = paid(api, tokens_)
    PrintJobModel._get_connection().update_item(job_id, actions=[PrintJobModel.watch_at.remove()])
    before = int(time.time())
    assert print_dispatch.dispatch(job_id)
    deadline = int(job(job_id).watch_at)
    assert before + ACK_WITHIN_S <= deadline <= int(time.time()) + ACK_WITHIN_S


def test_messages_validate_against_the_committed_json_schema(api, catalogue, tokens_):
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    _, delivery_job = paid(api, tokens_)
    _, pickup_job = pickup_at_b(api, tokens_)
    print_dispatch.dispatch(delivery_job)
    print_dispatch.dispatch(pickup_job)
    bodies = [json.loads(m["Body"]) for m in drain("sh-a") + drain("sh-b")]
    assert len(bodies) == 2
    for body in bodies:
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, errors
    # The schema refuses what v1 does not allow and lets additive fields through.
    assert list(validator.iter_errors(dict(bodies[0], kind="coupon")))
    assert list(validator.iter_errors({k: v for k, v in bodies[0].items() if k != "job_id"}))
    assert not list(validator.iter_errors(dict(bodies[0], printer_hint="kitchen")))


def test_a_pickup_ticket_has_the_pickup_code_and_no_address(api, catalogue, tokens_):
    order_id, job_id = pickup_at_b(api, tokens_)
    print_dispatch.dispatch(job_id)
    (message,) = drain("sh-b")
    msg = print_messages.decode(message["Body"])
    assert msg.fulfilment == "pickup" and msg.delivery is None
    assert msg.pickup_code == OrderModel.get(order_id).pickup_code and msg.pickup_code
    assert msg.amounts.delivery_fee_fen == 0


def test_dispatching_twice_sends_one_message_and_records_one_send(api, catalogue, tokens_):
    _, job_id = paid(api, tokens_)
    assert print_dispatch.dispatch(job_id) is True
    assert print_dispatch.dispatch(job_id) is False
    assert len(drain()) == 1
    assert [h.action for h in job(job_id).history] == ["send"]


def test_the_same_attempt_sent_twice_is_one_message_on_the_fifo_queue(api, catalogue, tokens_):
    """Two dispatchers that read the job before either marked it both send attempt 1:
    the queue keeps one (the de-duplication id is the job id and the attempt)."""
    _, job_id = paid(api, tokens_)
    pending = job(job_id)
    print_dispatch._send(pending, 1)
    print_dispatch._send(pending, 1)
    assert len(drain()) == 1


def test_the_stream_handler_dispatches_inserted_jobs_only(api, catalogue, tokens_):
    _, job_id = paid(api, tokens_)
    records = [
        {"eventName": "MODIFY", "dynamodb": {"Keys": {"job_id": {"S": job_id}}}},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"job_id": {"S": job_id}}}},
        {"eventName": "INSERT", "dynamodb": {"Keys": {"job_id": {"S": job_id}}}},  # redelivery
        {"eventName": "INSERT", "dynamodb": {"Keys": {"job_id": {"S": "no-such-job"}}}},
    ]
    assert print_dispatch.handle_stream_records(records) == 1
    assert len(drain()) == 1
    assert job(job_id).status == "sent"


def test_a_failing_record_does_not_stop_the_others(api, catalogue, tokens_, monkeypatch):
    _, job_id = paid(api, tokens_)
    real = print_dispatch.dispatch

    def flaky(jid, job=None):
        if jid == "boom":
            raise RuntimeError("SQS is down")
        return real(jid, job)

    monkeypatch.setattr(print_dispatch, "dispatch", flaky)
    records = [
        {"eventName": "INSERT", "dynamodb": {"Keys": {"job_id": {"S": j}}}}
        for j in ("boom", job_id)
    ]
    assert print_dispatch.handle_stream_records(records) == 1


def test_the_table_stream_drives_the_dispatcher_like_lambda_does(api, catalogue, tokens_):
    """The local worker's stream reader against moto's DynamoDB stream: the payment's
    transaction inserts the job, the stream delivers the INSERT, the message is sent."""
    from chalicelib.kernel import config

    from infra.local.worker import StreamReader

    reader = StreamReader(config.table_name("print_jobs"), print_dispatch.handle_stream_records)
    reader.poll_once()  # nothing yet
    assert drain() == []
    order_id, job_id = paid(api, tokens_)
    reader.poll_once()
    (message,) = drain()
    assert print_messages.decode(message["Body"]).order_id == order_id
    reader.poll_once()  # the send's own MODIFY record is not a new job
    assert drain() == [] and int(job(job_id).attempts) == 1


# --- acknowledgements --------------------------------------------------------------------


def test_the_relay_acknowledges_each_copy_then_the_job_is_printed(api, catalogue, tokens_):
    _, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    status, body = ack(api, tokens_["relay_a"], job_id, "picking")
    assert status == 200
    assert (body["status"], body["acked_copies"]) == ("sent", ["picking"])
    status, again = ack(api, tokens_["relay_a"], job_id, "picking")  # a retried request
    assert status == 200 and again["acked_copies"] == ["picking"]
    status, body = ack(api, tokens_["relay_a"], job_id, "delivery")
    assert status == 200
    assert body["status"] == "printed" and body["acked_copies"] == ["picking", "delivery"]
    assert body["printed_at"] and body["next_check_at"] is None
    status, again = ack(api, tokens_["relay_a"], job_id, "delivery")
    assert status == 200 and again == body
    printed = job(job_id)
    assert printed.watch is None and printed.watch_at is None
    assert [(h.action, h.reason) for h in printed.history] == [
        ("send", "attempt 1"),
        ("ack", "picking"),
        ("ack", "delivery"),
        ("print", None),
    ]
    assert printed.history[-1].actor == "relay-sh-a" and printed.history[-1].role == "relay"


def test_another_stores_relay_is_refused_and_nothing_changes(api, catalogue, tokens_, relay_b):
    _, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    before = job(job_id).serialize()
    status, body = ack(api, relay_b, job_id, "picking")
    assert status == 403 and body["error"]["code"] == "other_store"
    assert job(job_id).serialize() == before


def test_acknowledgement_errors_say_what_is_wrong(api, catalogue, tokens_):
    _, job_id = paid(api, tokens_)
    status, body = ack(api, tokens_["relay_a"], job_id, "slip")
    assert status == 422 and body["error"]["code"] == "copy_not_in_job"
    status, body = ack(api, tokens_["relay_a"], "nope-p1", "picking")
    assert status == 404 and body["error"]["code"] == "print_job_not_found"
    status, body = ack(api, tokens_["relay_a"], job_id, "cover")
    assert status == 422
    status, body = ack(api, tokens_["manager_a"], job_id, "picking")
    assert status == 403 and body["error"]["code"] == "role_not_allowed"


def test_a_job_acknowledged_before_it_was_marked_sent_is_printed(api, catalogue, tokens_):
    """The relay can be faster than the dispatcher's own write after the send."""
    _, job_id = paid(api, tokens_)
    for copy in ("picking", "delivery"):
        assert ack(api, tokens_["relay_a"], job_id, copy)[0] == 200
    assert job(job_id).status == "printed"
    assert print_dispatch.dispatch(job_id) is False and drain() == []


def ack_copies(api, token, job_id, *copies, **per_copy):
    body = {"copies": [{"copy": c, **per_copy} for c in copies]}
    return api.call("POST", f"/relay/print-jobs/{job_id}/ack", body, token)


def _writes_during(monkeypatch, fn):
    """(result of fn, DynamoDB write operations it made)."""
    import botocore.client

    writes = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        if operation_name in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"):
            writes.append(operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    try:
        return fn(), writes
    finally:
        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", original)


def test_one_request_acknowledges_both_copies_and_prints_the_job_in_one_write(
    api, catalogue, tokens_, monkeypatch
):
    _, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    (status, body), writes = _writes_during(
        monkeypatch,
        lambda: ack_copies(api, tokens_["relay_a"], job_id, "picking", "delivery", printer="front"),
    )
    assert status == 200, body
    assert writes == ["UpdateItem"]
    assert body["status"] == "printed" and body["acked_copies"] == ["picking", "delivery"]
    assert body["printed_at"] and body["next_check_at"] is None
    printed = job(job_id)
    assert printed.watch is None and printed.store_status is None
    history = [(h.action, h.from_state, h.to_state, h.reason) for h in printed.history]
    assert history == [
        ("send", "pending", "sent", "attempt 1"),
        ("ack", "sent", "sent", "picking on front"),
        ("ack", "sent", "sent", "delivery on front"),
        ("print", "sent", "printed", None),
    ]

    # a retried request (the answer was lost): the same answer, nothing written
    (status, again), writes = _writes_during(
        monkeypatch, lambda: ack_copies(api, tokens_["relay_a"], job_id, "delivery", "picking")
    )
    assert status == 200 and again == body and writes == []
    assert job(job_id).serialize() == printed.serialize()


def test_a_copy_acknowledged_alone_then_with_the_other_is_recorded_once(api, catalogue, tokens_):
    """The second copy could not print at first: the relay acknowledged the first alone,
    then (a retry of) both together; each copy is in the history once."""
    _, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    status, body = ack_copies(api, tokens_["relay_a"], job_id, "picking")
    assert status == 200 and (body["status"], body["acked_copies"]) == ("sent", ["picking"])
    body = {
        "copies": [{"copy": "picking"}, {"copy": "delivery", "printer": "back", "reprinted": True}]
    }
    status, body = api.call("POST", f"/relay/print-jobs/{job_id}/ack", body, tokens_["relay_a"])
    assert status == 200 and body["status"] == "printed"
    assert [(h.action, h.reason) for h in job(job_id).history] == [
        ("send", "attempt 1"),
        ("ack", "picking"),
        ("ack", "delivery on back (补打)"),
        ("print", None),
    ]


def test_a_both_copies_ack_racing_the_watchdog_is_still_recorded(
    api, catalogue, tokens_, monkeypatch
):
    """The job was read as sent, then the watchdog marked it missed before the ack's
    write: the write's condition fails, the job is read again and the ack recorded
    (it was answered 200 without being recorded)."""
    from chalicelib.printing import print_jobs

    order_id, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    stale = job(job_id)
    later(monkeypatch, 90)
    assert print_watchdog.run() == 1 and job(job_id).status == "missed"
    reads = []

    def stale_first(job_id_, principal):
        reads.append(job_id_)
        return stale

    monkeypatch.setattr(print_jobs, "_job_and_relay", stale_first)
    status, body = ack_copies(api, tokens_["relay_a"], job_id, "picking", "delivery")
    assert status == 200 and reads == [job_id]
    assert body["status"] == "printed" and body["acked_copies"] == ["picking", "delivery"]
    assert [(h.action, h.from_state, h.to_state) for h in job(job_id).history][-3:] == [
        ("ack", "missed", "missed"),
        ("ack", "missed", "missed"),
        ("print", "missed", "printed"),
    ]
    assert OrderModel.get(order_id).missed_print is False


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "validation_failed", "copies"),
        ({"copies": []}, "validation_failed", "copies"),
        ({"copies": [{"copy": "picking"}], "copy": "delivery"}, "validation_failed", "copy"),
        ({"copies": [{"copy": "picking"}], "printer": "front"}, "validation_failed", "copy"),
        (
            {"copies": [{"copy": "picking"}, {"copy": "picking"}]},
            "validation_failed",
            "copies",
        ),
        ({"copies": [{"copy": "picking"}, {"copy": "slip"}]}, "copy_not_in_job", "copies"),
        ({"copies": [{"copy": "cover"}]}, "validation_failed", "copies[0].copy"),
    ],
)
def test_a_bad_acknowledgement_is_refused_and_records_nothing(
    api, catalogue, tokens_, body, code, field
):
    _, job_id = paid(api, tokens_)
    before = job(job_id).serialize()
    status, answer = api.call("POST", f"/relay/print-jobs/{job_id}/ack", body, tokens_["relay_a"])
    assert status == 422, answer
    assert answer["error"]["code"] == code and answer["error"]["details"][0]["field"] == field
    assert job(job_id).serialize() == before


# --- watchdog ----------------------------------------------------------------------------


def test_the_watchdog_resends_late_jobs_and_marks_the_order_missed_until_acknowledged(
    api, catalogue, tokens_, monkeypatch
):
    order_id, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    assert len(drain()) == 1
    assert print_watchdog.run() == 0  # not late yet

    now = later(monkeypatch, 90)
    assert print_watchdog.run() == 1

    (message,) = drain()
    assert message["Attributes"]["MessageDeduplicationId"] == f"{job_id}-2"
    msg = print_messages.decode(message["Body"])
    assert (msg.job_id, msg.attempt, msg.kind) == (job_id, 2, "order")
    missed = job(job_id)
    assert (missed.status, missed.store_status, int(missed.attempts)) == (
        "missed",
        "sh-a#missed",
        2,
    )
    assert int(missed.watch_at) == now + 60
    assert [(h.action, h.from_state, h.to_state) for h in missed.history][1:] == [
        ("miss", "sent", "missed"),
        ("resend", "missed", "missed"),
    ]
    assert OrderModel.get(order_id).missed_print is True
    status, seen = api.call("GET", f"/orders/{order_id}", token=tokens_["hq"])
    assert seen["missed_print"] is True
    assert print_watchdog.run() == 0  # the next look is a minute away

    later(monkeypatch, 90 + 61)
    assert print_watchdog.run() == 1  # still not acknowledged: sent again, still missed
    assert print_messages.decode(drain()[0]["Body"]).attempt == 3
    assert job(job_id).status == "missed"
    later(monkeypatch, 90 + 61 + 119)
    assert print_watchdog.run() == 0  # later re-sends back off (120 s after the third)

    ack(api, tokens_["relay_a"], job_id, "picking")
    assert OrderModel.get(order_id).missed_print is True  # one copy is not enough
    status, body = ack(api, tokens_["relay_a"], job_id, "delivery")
    assert status == 200 and body["status"] == "printed"
    assert [h.to_state for h in job(job_id).history][-1] == "printed"
    assert OrderModel.get(order_id).missed_print is False
    later(monkeypatch, 3600)
    assert print_watchdog.run() == 0 and drain() == []


def test_a_job_the_stream_never_sent_is_sent_by_the_watchdog(api, catalogue, tokens_, monkeypatch):
    order_id, job_id = paid(api, tokens_)
    later(monkeypatch, 90)
    assert print_watchdog.run() == 1
    (message,) = drain()
    assert print_messages.decode(message["Body"]).attempt == 1
    got = job(job_id)
    assert got.status == "missed" and [h.action for h in got.history] == ["miss", "resend"]
    assert OrderModel.get(order_id).missed_print is True


def test_a_late_job_shows_as_missed_even_while_its_queue_is_unreachable(
    api, catalogue, tokens_, monkeypatch
):
    order_id, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    drain()
    real_send = print_dispatch._send

    def down(job, attempt):
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(print_dispatch, "_send", down)
    later(monkeypatch, 90)
    assert print_watchdog.run() == 0
    stuck = job(job_id)
    assert (stuck.status, int(stuck.attempts)) == ("missed", 1)
    assert [h.action for h in stuck.history] == ["send", "miss"]
    assert OrderModel.get(order_id).missed_print is True
    assert print_watchdog.run() == 0  # still down: nothing more to record
    assert [h.action for h in job(job_id).history] == ["send", "miss"]

    monkeypatch.setattr(print_dispatch, "_send", real_send)
    assert print_watchdog.run() == 1  # back: re-sent at once (it is still overdue)
    assert print_messages.decode(drain()[0]["Body"]).attempt == 2
    assert [h.action for h in job(job_id).history] == ["send", "miss", "resend"]


def test_the_flag_stays_while_another_job_of_the_order_is_missed(
    api, catalogue, tokens_, monkeypatch
):
    order_id, job_id = paid(api, tokens_)
    status, reprint = api.call("POST", f"/admin/orders/{order_id}/reprint", {}, tokens_["staff_a"])
    assert status == 201
    later(monkeypatch, 90)
    assert print_watchdog.run() == 2
    for copy in ("picking", "delivery"):
        ack(api, tokens_["relay_a"], job_id, copy)
    assert OrderModel.get(order_id).missed_print is True  # the reprint is still missed
    for copy in ("picking", "delivery"):
        ack(api, tokens_["relay_a"], reprint["job_id"], copy)
    assert OrderModel.get(order_id).missed_print is False


def test_the_missed_flag_does_not_bump_the_orders_version(api, catalogue, tokens_, monkeypatch):
    """A picker's "start picking" must not fail because the watchdog flagged the order."""
    order_id, job_id = paid(api, tokens_)
    version = OrderModel.get(order_id).version
    later(monkeypatch, 90)
    print_watchdog.run()
    for copy in ("picking", "delivery"):
        ack(api, tokens_["relay_a"], job_id, copy)
    assert OrderModel.get(order_id).version == version


# --- missed prints (漏单) -----------------------------------------------------------------


def test_missed_prints_for_head_office_and_for_each_store(
    api, catalogue, tokens_, relay_b, monkeypatch
):
    order_a, job_a = paid(api, tokens_)
    _, job_b = pickup_at_b(api, tokens_)
    later(monkeypatch, 120)  # the jobs were made in the first seconds of the test
    assert print_watchdog.run() == 2

    status, page = api.call("GET", "/admin/print-jobs", token=tokens_["hq"])
    assert status == 200 and page["truncated"] is False
    assert [i["job_id"] for i in page["items"]] == [job_a, job_b]  # oldest first
    first = page["items"][0]
    assert (first["status"], first["order_id"], first["daily_seq"]) == ("missed", order_a, 1)
    assert first["age_s"] >= 90 and first["attempts"] == 1
    status, page = api.call("GET", "/admin/print-jobs?store_id=sh-b", token=tokens_["hq"])
    assert [i["job_id"] for i in page["items"]] == [job_b]

    status, page = api.call("GET", "/admin/print-jobs", token=tokens_["manager_a"])
    assert status == 200 and [i["job_id"] for i in page["items"]] == [job_a]
    status, page = api.call("GET", "/admin/print-jobs?status=missed", token=tokens_["staff_a"])
    assert [i["store_id"] for i in page["items"]] == ["sh-a"]
    status, body = api.call("GET", "/admin/print-jobs?store_id=sh-b", token=tokens_["manager_a"])
    assert status == 403 and body["error"]["code"] == "other_store"
    status, page = api.call("GET", "/admin/print-jobs", token=tokens_["manager_b"])
    assert [i["job_id"] for i in page["items"]] == [job_b]
    status, body = api.call("GET", "/admin/print-jobs", token=relay_b)
    assert status == 403

    for copy in ("picking", "delivery"):
        ack(api, tokens_["relay_a"], job_a, copy)
    status, page = api.call("GET", "/admin/print-jobs", token=tokens_["hq"])
    assert [i["job_id"] for i in page["items"]] == [job_b]
    assert job(job_a).store_status is None  # printed: out of the listed index
    status, body = api.call("GET", "/admin/print-jobs?status=printed", token=tokens_["hq"])
    assert status == 422 and body["error"]["details"][0]["field"] == "status"
    status, page = api.call("GET", "/admin/print-jobs?limit=1&status=missed", token=tokens_["hq"])
    assert len(page["items"]) == 1


def _in_status_index(store_id="sh-a"):
    """job ids in the by_store_status index of the store, by status."""
    out = {}
    for status in ("pending", "sent", "missed", "resolved", "printed"):
        ids = [j.job_id for j in PrintJobModel.by_store_status.query(f"{store_id}#{status}")]
        if ids:
            out[status] = ids
    return out


def test_a_job_printed_on_time_never_enters_the_status_index(api, catalogue, tokens_):
    """The normal path (pending -> sent -> printed) writes no by_store_status entry: the
    index is sparse, keyed only in the states the list shows (missed, resolved)."""
    _, job_id = paid(api, tokens_)
    assert job(job_id).store_status is None and _in_status_index() == {}
    print_dispatch.dispatch(job_id)
    assert job(job_id).store_status is None and _in_status_index() == {}
    for copy in ("picking", "delivery"):
        assert ack(api, tokens_["relay_a"], job_id, copy)[0] == 200
    printed = job(job_id)
    assert printed.status == "printed" and printed.store_status is None
    assert _in_status_index() == {}


def test_a_missed_job_is_in_the_status_index_until_printed(api, catalogue, tokens_, monkeypatch):
    _, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    later(monkeypatch, 90)
    assert print_watchdog.run() == 1
    assert _in_status_index() == {"missed": [job_id]}
    later(monkeypatch, 200)
    assert print_watchdog.run() == 1  # a re-send keeps it listed as missed
    assert _in_status_index() == {"missed": [job_id]}
    for copy in ("picking", "delivery"):
        assert ack(api, tokens_["relay_a"], job_id, copy)[0] == 200
    assert job(job_id).status == "printed" and _in_status_index() == {}


def test_the_status_index_holds_keys_only():
    from chalicelib.printing.models import PrintJobsByStoreStatus

    assert PrintJobsByStoreStatus.Meta.projection.projection_type == "KEYS_ONLY"


def test_a_stale_index_entry_is_not_listed(api, catalogue, tokens_, monkeypatch):
    """The index is eventually consistent: a job printed a moment ago may still be in it;
    the list reads the jobs themselves and shows only those still missed."""
    _, job_id = missed_job(api, tokens_, monkeypatch)
    for copy in ("picking", "delivery"):
        ack(api, tokens_["relay_a"], job_id, copy)
    PrintJobModel._get_connection().update_item(  # what a lagging index would still show
        job_id, actions=[PrintJobModel.store_status.set("sh-a#missed")]
    )
    assert _in_status_index() == {"missed": [job_id]}
    assert listed(api, tokens_, "missed") == []


def test_the_missed_list_uses_indexes_only(api, catalogue, tokens_, monkeypatch):
    import botocore.client

    calls = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self, operation_name, api_params):
        calls.append(operation_name)
        return original(self, operation_name, api_params)

    paid(api, tokens_)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    status, _ = api.call("GET", "/admin/print-jobs", token=tokens_["hq"])
    assert status == 200 and calls
    assert "Scan" not in calls


# --- reprints and cancellation slips -----------------------------------------------------


def test_a_reprint_is_an_explicit_job_marked_as_a_reprint(api, catalogue, tokens_):
    order_id, first = paid(api, tokens_)
    print_dispatch.dispatch(first)
    drain()
    status, body = api.call(
        "POST", f"/admin/orders/{order_id}/reprint", {"reason": "卡纸"}, tokens_["staff_a"]
    )
    assert status == 201
    assert (body["kind"], body["status"], body["copies"]) == (
        "reprint",
        "pending",
        ["picking", "delivery"],
    )
    assert body["original_job_id"] == first
    assert body["history"][0]["action"] == "reprint" and body["history"][0]["reason"] == "卡纸"
    assert body["job_id"] in OrderModel.get(order_id).print_job_ids
    print_dispatch.dispatch(body["job_id"])
    msg = print_messages.decode(drain()[0]["Body"])
    assert (msg.kind, msg.original_job_id, msg.copies) == (
        "reprint",
        first,
        ["picking", "delivery"],
    )
    assert msg.delivery is not None

    status, picking_only = api.call(
        "POST", f"/admin/orders/{order_id}/reprint", {"copies": ["picking"]}, tokens_["hq"]
    )
    assert status == 201 and picking_only["copies"] == ["picking"]
    assert picking_only["job_id"] != body["job_id"]
    print_dispatch.dispatch(picking_only["job_id"])
    msg = print_messages.decode(drain()[0]["Body"])
    assert msg.copies == ["picking"] and msg.delivery is None  # no address without its copy

    status, jobs = api.call("GET", f"/admin/orders/{order_id}/print-jobs", token=tokens_["hq"])
    assert status == 200
    assert [(j["job_id"], j["kind"]) for j in jobs["items"]] == [
        (first, "order"),
        (body["job_id"], "reprint"),
        (picking_only["job_id"], "reprint"),
    ]


def test_a_reprint_after_a_shortage_prints_the_order_as_it_now_is(api, catalogue, tokens_):
    from print_relay import tickets

    order_id, first = paid(api, tokens_)  # 2 x 100 and 1 x 101
    print_dispatch.dispatch(first)
    drain()
    staff = tokens_["staff_a"]
    assert api.call("POST", f"/admin/orders/{order_id}/start-picking", {}, staff)[0] == 200
    lines = [{"sku": "100", "picked_qty": 1}, {"sku": "101", "picked_qty": 1}]
    status, picked = api.call("POST", f"/admin/orders/{order_id}/pick", {"lines": lines}, staff)
    assert status == 200 and picked["refunded_fen"] > 0
    drain()  # the amendment slip
    status, job = api.call("POST", f"/admin/orders/{order_id}/reprint", {}, staff)
    assert status == 201
    print_dispatch.dispatch(job["job_id"])
    body = drain()[0]["Body"]
    msg = print_messages.decode(body)
    price = {x["sku"]: x["unit_price_fen"] for x in picked["lines"]}
    assert [(x.sku, x.qty, x.amount_fen) for x in msg.lines] == [
        ("100", 1, price["100"]),
        ("101", 1, price["101"]),
    ]
    now_paid = picked["total_fen"] - picked["refunded_fen"]
    assert msg.amounts.total_fen == now_paid
    assert msg.amounts.subtotal_fen == price["100"] + price["101"]
    assert (
        msg.amounts.subtotal_fen - msg.amounts.discount_fen + msg.amounts.delivery_fee_fen
        == now_paid
    )
    assert msg.amendment is not None and msg.amendment.refund_fen == picked["refunded_fen"]
    assert [(x.sku, x.qty, x.picked_qty) for x in msg.amendment.short_lines] == [("100", 2, 1)]
    # On paper: the picked quantity, the new total, and a note of the amendment.
    text = tickets.render_text(json.loads(body), "delivery", 80)
    assert "已改单" in text and "补打" in text
    assert "x2" not in text and f"{now_paid // 100}.{now_paid % 100:02d}" in text
    # A reprint of an order that was not amended is the ticket as it was.
    other_id, _ = paid(api, tokens_, key="print-key-0002")
    drain()
    status, job = api.call("POST", f"/admin/orders/{other_id}/reprint", {}, staff)
    print_dispatch.dispatch(job["job_id"])
    msg = print_messages.decode(drain()[0]["Body"])
    assert [x.qty for x in msg.lines] == [2, 1] and msg.amendment is None


def test_reprints_are_for_the_orders_store_and_paid_orders(api, catalogue, tokens_):
    order_id, _ = paid(api, tokens_)
    status, body = api.call("POST", f"/admin/orders/{order_id}/reprint", {}, tokens_["manager_b"])
    assert status == 404 and body["error"]["code"] == "order_not_found"
    status, body = api.call(
        "GET", f"/admin/orders/{order_id}/print-jobs", token=tokens_["manager_b"]
    )
    assert status == 404
    status, body = api.call(
        "POST", f"/admin/orders/{order_id}/reprint", {"copies": ["slip"]}, tokens_["staff_a"]
    )
    assert status == 422
    _, unpaid = place(api, tokens_["customer"], cart(("100", 2), ("101", 1)), "print-key-unpaid")
    status, body = api.call(
        "POST", f"/admin/orders/{unpaid['order_id']}/reprint", {}, tokens_["staff_a"]
    )
    assert status == 409 and body["error"]["code"] == "order_not_printable"
    assert PrintJobModel.count() == 1


def test_cancelling_a_paid_order_queues_a_cancellation_slip(api, catalogue, tokens_):
    order_id, first = paid(api, tokens_)
    print_dispatch.dispatch(first)
    drain()
    status, _ = api.call(
        "POST", f"/orders/{order_id}/cancel", {"reason": "买错了"}, tokens_["customer"]
    )
    assert status == 200
    slip_id = next(j for j in OrderModel.get(order_id).print_job_ids if j != first)
    slip = job(slip_id)
    assert (slip.kind, slip.copies, slip.original_job_id) == ("cancellation", {"slip"}, first)

    assert print_dispatch.handle_stream_records(
        [{"eventName": "INSERT", "dynamodb": {"Keys": {"job_id": {"S": slip_id}}}}]
    )
    (message,) = drain()
    msg = print_messages.decode(message["Body"])
    assert (msg.kind, msg.copies, msg.original_job_id) == ("cancellation", ["slip"], first)
    assert msg.cancellation is not None and msg.cancellation.reason == "买错了"
    assert msg.delivery is None
    status, body = ack(api, tokens_["relay_a"], slip_id, "slip")
    assert status == 200 and body["status"] == "printed"


# --- resolving missed prints -------------------------------------------------------------


def missed_job(api, tokens_, monkeypatch, key="print-key-0001"):
    """A paid order whose ticket was sent and then missed (re-sent by the watchdog)."""
    order_id, job_id = paid(api, tokens_, key)
    print_dispatch.dispatch(job_id)
    later(monkeypatch, 90)
    assert print_watchdog.run() == 1
    drain()
    assert job(job_id).status == "missed" and OrderModel.get(order_id).missed_print is True
    return order_id, job_id


def resolve(api, token, job_id, reason="打印机缺纸，已手写拣货单"):
    return api.call("POST", f"/admin/print-jobs/{job_id}/resolve", {"reason": reason}, token)


def listed(api, tokens_, status):
    code, page = api.call("GET", f"/admin/print-jobs?status={status}", token=tokens_["hq"])
    assert code == 200, page
    return [i["job_id"] for i in page["items"]]


def test_resolving_a_missed_print_stops_resends_and_clears_the_order(
    api, catalogue, tokens_, monkeypatch
):
    order_id, job_id = missed_job(api, tokens_, monkeypatch)
    assert listed(api, tokens_, "missed") == [job_id]

    status, body = resolve(api, tokens_["staff_a"], job_id)
    assert status == 200, body
    assert (body["status"], body["next_check_at"], body["printed_at"]) == ("resolved", None, None)
    last = body["history"][-1]
    assert (last["action"], last["from_state"], last["to_state"]) == (
        "resolve",
        "missed",
        "resolved",
    )
    assert (last["actor"], last["role"], last["reason"]) == (
        "sh-a-staff",
        "store_staff",
        "打印机缺纸，已手写拣货单",
    )
    stored = job(job_id)
    assert (stored.status, stored.store_status) == ("resolved", "sh-a#resolved")
    assert stored.watch is None and stored.watch_at is None  # out of the watchdog's index
    assert OrderModel.get(order_id).missed_print is False
    assert listed(api, tokens_, "missed") == []
    assert listed(api, tokens_, "resolved") == [job_id]
    status, seen = api.call("GET", f"/orders/{order_id}", token=tokens_["hq"])
    assert seen["missed_print"] is False

    later(monkeypatch, 3600)
    assert print_watchdog.run() == 0 and drain() == []  # never re-sent
    assert print_dispatch.resend_overdue(job_id, int(time.time())) is False
    assert print_dispatch.dispatch(job_id) is False and drain() == []
    assert job(job_id).status == "resolved"


def test_a_relay_that_prints_a_resolved_job_later_is_still_heard(
    api, catalogue, tokens_, monkeypatch
):
    order_id, job_id = missed_job(api, tokens_, monkeypatch)
    assert resolve(api, tokens_["hq"], job_id)[0] == 200
    status, body = ack(api, tokens_["relay_a"], job_id, "picking")
    assert status == 200 and body["status"] == "resolved"
    status, body = ack(api, tokens_["relay_a"], job_id, "delivery")
    assert status == 200 and body["status"] == "printed" and body["printed_at"]
    assert [(h.action, h.from_state, h.to_state) for h in job(job_id).history][-1] == (
        "print",
        "resolved",
        "printed",
    )
    assert listed(api, tokens_, "resolved") == [] and job(job_id).store_status is None
    assert OrderModel.get(order_id).missed_print is False


def test_a_failure_report_on_a_resolved_job_only_adds_history(api, catalogue, tokens_, monkeypatch):
    order_id, job_id = missed_job(api, tokens_, monkeypatch)
    assert resolve(api, tokens_["manager_a"], job_id)[0] == 200
    status, body = api.call(
        "POST",
        f"/relay/print-jobs/{job_id}/failure",
        {"reason": "dead_letter", "message": "5 receives", "receive_count": 5},
        tokens_["relay_a"],
    )
    assert status == 200 and body["status"] == "resolved"
    assert body["history"][-1]["action"] == "relay_failure"
    assert OrderModel.get(order_id).missed_print is False
    assert listed(api, tokens_, "missed") == []


def test_the_order_stays_flagged_while_another_of_its_jobs_is_missed(
    api, catalogue, tokens_, monkeypatch
):
    order_id, job_id = paid(api, tokens_)
    status, reprint = api.call("POST", f"/admin/orders/{order_id}/reprint", {}, tokens_["staff_a"])
    assert status == 201
    later(monkeypatch, 90)
    assert print_watchdog.run() == 2
    assert resolve(api, tokens_["staff_a"], job_id)[0] == 200
    assert job(job_id).status == "resolved"
    assert OrderModel.get(order_id).missed_print is True  # the reprint is still missed
    assert resolve(api, tokens_["staff_a"], reprint["job_id"])[0] == 200
    assert OrderModel.get(order_id).missed_print is False


def test_only_a_missed_job_can_be_resolved(api, catalogue, tokens_, monkeypatch):
    _, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    status, body = resolve(api, tokens_["hq"], job_id)  # sent, not yet late
    assert status == 409 and body["error"]["code"] == "illegal_transition"
    assert body["error"]["details"]["allowed_from"] == ["missed"]
    for copy in ("picking", "delivery"):
        ack(api, tokens_["relay_a"], job_id, copy)
    before = job(job_id).serialize()
    status, body = resolve(api, tokens_["hq"], job_id)
    assert status == 409 and body["error"]["code"] == "illegal_transition"
    assert body["error"]["details"]["from"] == "printed"
    assert job(job_id).serialize() == before

    _, missed_id = missed_job(api, tokens_, monkeypatch, key="print-key-0002")
    assert resolve(api, tokens_["hq"], missed_id)[0] == 200
    status, body = resolve(api, tokens_["hq"], missed_id)  # twice
    assert status == 409 and body["error"]["details"]["from"] == "resolved"
    assert [h.action for h in job(missed_id).history].count("resolve") == 1


def test_resolving_needs_a_reason(api, catalogue, tokens_, monkeypatch):
    _, job_id = missed_job(api, tokens_, monkeypatch)
    url = f"/admin/print-jobs/{job_id}/resolve"
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}, {"reason": "ok", "extra": 1}):
        status, err = api.call("POST", url, body, tokens_["hq"])
        assert status == 422, body
        assert err["error"]["details"][0]["field"] in ("reason", "extra")
    assert job(job_id).status == "missed"
    assert resolve(api, tokens_["hq"], job_id, "x" * 200)[0] == 200


def test_resolving_is_for_the_jobs_store_and_head_office(api, catalogue, tokens_, monkeypatch):
    order_id, job_id = missed_job(api, tokens_, monkeypatch)
    status, body = resolve(api, tokens_["manager_b"], job_id)
    assert status == 404 and body["error"]["code"] == "print_job_not_found"  # ids not probed
    status, body = resolve(api, tokens_["staff_a"], "nope-p1")
    assert status == 404 and body["error"]["code"] == "print_job_not_found"
    for who in ("customer", "relay_a"):
        status, body = resolve(api, tokens_[who], job_id)
        assert status == 403 and body["error"]["code"] == "role_not_allowed"
    status, _ = api.call("POST", f"/admin/print-jobs/{job_id}/resolve", {"reason": "x"})
    assert status == 401
    assert job(job_id).status == "missed" and OrderModel.get(order_id).missed_print is True


def test_the_delivery_ticket_carries_a_member_qr_that_binds_to_its_store(api, catalogue, tokens_):
    """Issue 14 item 1: the receipt's member QR code registers or binds to its store; the
    relay prints it on the delivery copy (and a message without it prints as before)."""
    import msgspec
    from chalicelib.members import rules
    from chalicelib.members.sources import attributes_for_registration

    from print_relay import tickets

    order_id, job_id = paid(api, tokens_)
    print_dispatch.dispatch(job_id)
    (message,) = drain()
    msg = print_messages.decode(message["Body"])
    assert msg.member_qr and "ticket=" in msg.member_qr
    token = msg.member_qr.split("ticket=", 1)[1]
    assert rules.is_ticket_token(token)
    got = attributes_for_registration(token)
    assert (got["source_kind"], got["home_store_id"], got["source_order_id"]) == (
        "ticket",
        "sh-a",
        order_id,
    )
    as_dict = msgspec.json.decode(message["Body"])
    assert f"[QR {msg.member_qr}]" in tickets.render_text(as_dict, "delivery")
    assert msg.member_qr not in tickets.render_text(as_dict, "picking")
    as_dict.pop("member_qr")  # an older API's message
    assert "扫码成为会员" not in tickets.render_text(as_dict, "delivery")


def insert_record(job_id: str, age_s: float) -> dict:
    """The INSERT record Lambda passes, with the job as inserted, ``age_s`` old."""
    image = PrintJobModel.get(job_id, consistent_read=True).serialize()
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"job_id": {"S": job_id}},
            "NewImage": image,
            "ApproximateCreationDateTime": time.time() - age_s,
        },
    }


def test_a_fresh_record_is_sent_from_its_image_and_a_stale_one_reads_the_job(
    api, catalogue, tokens_, monkeypatch
):
    _, job_id = paid(api, tokens_)
    fresh, stale = insert_record(job_id, 1), insert_record(job_id, 600)
    loads: list[str] = []
    real = print_dispatch._load
    monkeypatch.setattr(print_dispatch, "_load", lambda j: loads.append(j) or real(j))
    assert print_dispatch.handle_stream_records([fresh]) == 1
    assert loads == [] and int(job(job_id).attempts) == 1
    # redelivered: the same attempt again (SQS FIFO drops the copy), nothing recorded
    assert print_dispatch.handle_stream_records([fresh]) == 0
    assert len(drain()) == 1 and int(job(job_id).attempts) == 1
    # an old record (a stream catching up) reads the job first: sent already, nothing
    assert print_dispatch.handle_stream_records([stale]) == 0
    assert loads == [job_id] and drain() == []
