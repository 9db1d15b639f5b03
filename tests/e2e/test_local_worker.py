"""The local worker's loop against in-process moto: delete on success only, failures come
back after the visibility timeout and end in the dead-letter queue."""

from __future__ import annotations

import json
import threading
import time

import boto3
import moto
import pytest

from infra.local.worker import QueueBinding, Worker, poll_once


@pytest.fixture
def sqs():
    with moto.mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _queue(sqs, name: str, visibility: int, dlq_after: int | None = None) -> tuple[str, str]:
    """(queue url, dlq url) with the given visibility timeout and redrive policy."""
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    attrs = {"VisibilityTimeout": str(visibility)}
    if dlq_after is not None:
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attrs["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": dlq_after}
        )
    return sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"], dlq


def _fail(body: str) -> None:
    raise RuntimeError(f"cannot handle {body}")


def test_a_handled_message_is_deleted(sqs):
    url, _ = _queue(sqs, "ok", visibility=1)
    sqs.send_message(QueueUrl=url, MessageBody='{"job_id": "imp-1"}')
    seen: list[str] = []

    assert poll_once(sqs, url, seen.append, wait_s=0) == (1, 0)

    assert seen == ['{"job_id": "imp-1"}']
    time.sleep(1.1)  # past the visibility timeout: a message left behind would be back
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_a_failed_message_is_kept_and_comes_back_after_the_visibility_timeout(sqs):
    url, _ = _queue(sqs, "flaky", visibility=1)
    sqs.send_message(QueueUrl=url, MessageBody="job")

    assert poll_once(sqs, url, _fail, wait_s=0) == (0, 1)

    # Invisible while the timeout runs, then delivered again, with a receive count of 2.
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    time.sleep(1.1)
    again = sqs.receive_message(
        QueueUrl=url, WaitTimeSeconds=0, AttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert [m["Body"] for m in again] == ["job"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(sqs):
    url, dlq = _queue(sqs, "poison", visibility=0, dlq_after=2)
    sqs.send_message(QueueUrl=url, MessageBody="poison")

    results = [poll_once(sqs, url, _fail, wait_s=0) for _ in range(3)]

    assert results == [(0, 1), (0, 1), (0, 0)]  # the third receive finds it moved
    moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in moved] == ["poison"]


def test_the_worker_polls_its_queue_table_and_runs_the_schedule(sqs):
    url, _ = _queue(sqs, "jobs", visibility=30)
    handled = threading.Event()
    bodies: list[str] = []
    ticks: list[float] = []

    def handler(body: str) -> None:
        bodies.append(body)
        handled.set()

    worker = Worker(
        queue_handlers={"jobs": QueueBinding(handler, wait_s=1)},
        schedule=[(0.05, lambda: ticks.append(time.monotonic()))],
        sqs=sqs,
        queue_urls={"jobs": url},
    )
    worker.start()
    try:
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        assert handled.wait(5)
        time.sleep(0.3)
    finally:
        worker.stop(grace_s=2)
    assert bodies == ["hello"]
    assert len(ticks) >= 2
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)


def test_the_default_table_consumes_the_imports_queue_like_the_chalice_handler():
    from infra.local.worker import QUEUE_HANDLERS, SCHEDULE

    assert set(QUEUE_HANDLERS) == {"imports", "exports", "segments"}
    for queue in ("imports", "exports", "segments"):
        assert QUEUE_HANDLERS[queue].batch_size == 1  # as @app.on_sqs_message(batch_size=1)
        assert QUEUE_HANDLERS[queue].wait_s <= 20  # SQS's long-poll maximum
    from chalicelib.jobs import SCHEDULES

    # The worker runs every job app.py schedules, at the local intervals of the same table.
    assert [(interval, job.__name__) for interval, job in SCHEDULE] == [
        (local_s, name) for name, _, local_s, _ in SCHEDULES
    ]
