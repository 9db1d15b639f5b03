"""The local stack's background worker: what Lambda's event sources do on AWS.

``chalice local`` serves routes only; SQS handlers and schedules do not run under it. This
process drives the same plain functions the Chalice handlers call:

- ``QUEUE_HANDLERS``: queue short name -> handler(body). One thread per queue long-polls
  it (WaitTimeSeconds up to 20). A message is deleted only after its handler returns; if
  the handler raises, the message is left alone, becomes visible again when the queue's
  visibility timeout expires, and after the redrive policy's maxReceiveCount goes to the
  dead-letter queue (the queue service does that, as SQS does for Lambda).
- ``SCHEDULE``: (interval in seconds, function) pairs run periodically, the local form of
  ``@app.schedule``.
- ``STREAM_HANDLERS``: table short name -> handler(records), the local form of
  ``@app.on_dynamodb_record``. One thread per table reads the table's DynamoDB stream
  from its oldest record on (DescribeTable, DescribeStream, GetShardIterator, GetRecords,
  all served by moto) and passes each batch of records, in the shape Lambda gives them,
  to the handler: new print jobs reach ``print_dispatch.handle_stream_records``, and the
  orders, refunds and customers records the domain events' dispatcher, exactly as they
  do in AWS. A batch whose handler raises is retried, then skipped after
  ``STREAM_MAX_RETRIES`` (the print watchdog re-sends what was missed).

Run by the stack as ``python -m infra.local.worker`` with the stack's environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))

log = logging.getLogger("daojia.worker")

Handler = Callable[[str], None]


def _imports_handler(body: str) -> None:
    # Imported on first use: the API's modules read the environment at import time.
    from chalicelib.catalogue.import_jobs import handle_message

    handle_message(body)


def _exports_handler(body: str) -> None:
    from chalicelib.exports.jobs import handle_message

    handle_message(body)


def _segments_handler(body: str) -> None:
    from chalicelib.customers.segments import handle_message

    handle_message(body)


@dataclass(frozen=True)
class QueueBinding:
    """How one queue is consumed: its handler and receive settings (as the Chalice
    ``@app.on_sqs_message`` declares them)."""

    handler: Handler
    batch_size: int = 1
    wait_s: int = 20


# Queue short name (config.queue_name(short) gives the full name) -> binding.
QUEUE_HANDLERS: dict[str, QueueBinding] = {
    "imports": QueueBinding(_imports_handler, batch_size=1),
    "exports": QueueBinding(_exports_handler, batch_size=1),
    "segments": QueueBinding(_segments_handler, batch_size=1),
    # Later issues: per-store print dispatch, refunds, ...
}


def _scheduled(name: str, **kwargs: Any) -> Callable[[], None]:
    """A job of chalicelib.jobs, imported on first run (the API reads its environment at
    import time)."""

    def run() -> None:
        from chalicelib import jobs

        getattr(jobs, name)(**kwargs)

    run.__name__ = name
    return run


StreamHandler = Callable[[list[dict[str, Any]]], Any]


def _print_jobs_stream(records: list[dict[str, Any]]) -> None:
    from chalicelib.printing.dispatch import handle_stream_records

    handle_stream_records(records)


def _events_stream(table: str) -> StreamHandler:
    """Domain events of ``table``'s stream to their subscribers (app.py's order_events,
    refund_events, member_events)."""

    def handle(records: list[dict[str, Any]]) -> None:
        from chalicelib.events.dispatch import handle_stream_records

        handle_stream_records(table, records)

    handle.__name__ = f"{table}_events"
    return handle


# Table short name -> handler(records), as app.py's @app.on_dynamodb_record declares them.
STREAM_HANDLERS: dict[str, StreamHandler] = {
    "print_jobs": _print_jobs_stream,
    "orders": _events_stream("orders"),
    "refunds": _events_stream("refunds"),
    "customers": _events_stream("customers"),
    "campaigns": _events_stream("campaigns"),
}
STREAM_MAX_RETRIES = 5  # as the template's MaximumRetryAttempts
STREAM_IDLE_S = 0.2  # DynamoDB streams have no long poll: wait this long when idle
STREAM_RESHARD_S = 10.0  # look for new shards this often


class StreamReader:
    """Reads one table's DynamoDB stream shard by shard, oldest record first, as Lambda's
    event source mapping does (starting position TRIM_HORIZON)."""

    def __init__(
        self,
        table_name: str,
        handler: StreamHandler,
        *,
        ddb: Any = None,
        streams: Any = None,
        batch_size: int = 100,
    ) -> None:
        self.table_name = table_name
        self.handler = handler
        self.batch_size = batch_size
        self._ddb = ddb
        self._streams = streams
        self.stream_arn: str | None = None
        self._iterators: dict[str, str] = {}  # open shard -> next iterator
        self._done: set[str] = set()  # closed shards read to the end
        self._failures: dict[str, int] = {}
        self._resharded_at = float("-inf")

    def _clients(self) -> tuple[Any, Any]:
        if self._ddb is None or self._streams is None:
            import boto3
            from botocore.config import Config

            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            self._ddb = self._ddb or boto3.client("dynamodb", region_name=region)
            # botocore addresses streams by account id (<account>.streams-ddb...), which
            # in-process moto does not route; the plain endpoint works everywhere.
            self._streams = self._streams or boto3.client(
                "dynamodbstreams",
                region_name=region,
                config=Config(account_id_endpoint_mode="disabled"),
            )
        return self._ddb, self._streams

    def _reshard(self) -> None:
        ddb, streams = self._clients()
        if self.stream_arn is None:
            table = ddb.describe_table(TableName=self.table_name)["Table"]
            self.stream_arn = table.get("LatestStreamArn")
            if not self.stream_arn:
                raise RuntimeError(f"table {self.table_name} has no stream")
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in shards.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators or shard_id in self._done:
                continue
            self._iterators[shard_id] = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        self._resharded_at = time.monotonic()

    def poll_once(self) -> int:
        """Read each open shard once and hand what arrived to the handler. Returns how
        many records were handled."""
        if time.monotonic() - self._resharded_at >= STREAM_RESHARD_S or not self._iterators:
            self._reshard()
        _, streams = self._clients()
        handled = 0
        for shard_id, iterator in list(self._iterators.items()):
            response = streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            records = response.get("Records", [])
            if records:
                try:
                    self.handler(records)
                except Exception:
                    failures = self._failures.get(shard_id, 0) + 1
                    self._failures[shard_id] = failures
                    if failures <= STREAM_MAX_RETRIES:
                        log.exception(
                            "%s stream: batch failed (try %d); retrying", self.table_name, failures
                        )
                        continue  # keep the old iterator: the same records come again
                    log.exception(
                        "%s stream: batch failed %d times; skipping %d record(s)",
                        self.table_name,
                        failures,
                        len(records),
                    )
                self._failures.pop(shard_id, None)
                handled += len(records)
            following = response.get("NextShardIterator")
            if following:
                self._iterators[shard_id] = following
            else:  # the shard is closed and read to its end
                del self._iterators[shard_id]
                self._done.add(shard_id)
        return handled


# (interval in seconds, function): the local stand-in for @app.schedule, from the same
# table app.py uses (chalicelib/jobs.py SCHEDULES: name, AWS minutes, local seconds).
SCHEDULE: list[tuple[float, Callable[[], None]]] = [
    (10, _scheduled("expire_unpaid")),
    # every 5 s: a missed print shows ≤ ACK_WITHIN_S + 5 s after payment (print_watchdog.py)
    (5, _scheduled("print_watchdog", period_s=5)),
    (60, _scheduled("auto_complete")),
    (30, _scheduled("retry_refunds")),
    (300, _scheduled("coupon_reminders")),
    (10, _scheduled("retry_events")),
    (60, _scheduled("report_rollups")),
    (3600, _scheduled("report_settle")),
    (60, _scheduled("points_settle")),
    (300, _scheduled("levels_daily")),
    (300, _scheduled("paid_card_packs")),
    (3600, _scheduled("segments_nightly")),
    (300, _scheduled("member_day_packs")),
    (60, _scheduled("campaigns_tick")),
    (300, _scheduled("store_uptime_sample")),
    (3600, _scheduled("store_tiers_monthly")),
    (60, _scheduled("subscription_orders")),
    (60, _scheduled("group_buys_expire")),
]


def poll_once(
    sqs: Any,
    queue_url: str,
    handler: Handler,
    *,
    wait_s: int = 20,
    max_messages: int = 1,
) -> tuple[int, int]:
    """Receive once (long poll) and handle what arrived. Returns (handled, failed).

    A message is deleted only after ``handler`` returns; a failed one is left to become
    visible again after the visibility timeout (and to reach the DLQ after the queue's
    maxReceiveCount).
    """
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=wait_s,
        AttributeNames=["ApproximateReceiveCount"],
    )
    handled = failed = 0
    for message in response.get("Messages", []):
        receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
        try:
            handler(message["Body"])
        except Exception:
            failed += 1
            log.exception(
                "message %s failed (receive %s); left for redelivery",
                message["MessageId"],
                receives,
            )
            continue
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1
    return handled, failed


class Worker:
    """Polls every bound queue in its own thread and runs the schedule."""

    def __init__(
        self,
        queue_handlers: dict[str, QueueBinding] | None = None,
        schedule: list[tuple[float, Callable[[], None]]] | None = None,
        sqs: Any = None,
        queue_urls: dict[str, str] | None = None,
        stream_handlers: dict[str, StreamHandler] | None = None,
    ) -> None:
        self.queue_handlers = QUEUE_HANDLERS if queue_handlers is None else queue_handlers
        self.schedule = SCHEDULE if schedule is None else schedule
        # Streams are read only when asked for (main() passes STREAM_HANDLERS), so a
        # worker built for one queue does not also start reading tables.
        self.stream_handlers = stream_handlers or {}
        self._sqs = sqs
        self._queue_urls = queue_urls or {}
        self.stopping = threading.Event()
        self._in_flight = 0  # handlers and jobs running now; a stop waits for them
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _client(self) -> Any:
        if self._sqs is None:
            from chalicelib.kernel.queues import sqs_client

            self._sqs = sqs_client()
        return self._sqs

    def _url(self, short: str) -> str:
        if short not in self._queue_urls:
            from chalicelib.kernel.queues import queue_url

            self._queue_urls[short] = queue_url(short)
        return self._queue_urls[short]

    def _poll_loop(self, short: str, binding: QueueBinding) -> None:
        log.info("polling %s", short)
        while not self.stopping.is_set():
            try:
                handled, failed = poll_once(
                    self._client(),
                    self._url(short),
                    self._guarded(binding.handler),
                    wait_s=binding.wait_s,
                    max_messages=binding.batch_size,
                )
                if handled or failed:
                    log.info("%s: %d handled, %d failed", short, handled, failed)
            except Exception:
                if self.stopping.is_set():
                    break
                log.exception("polling %s failed; retrying in 2 s", short)
                self.stopping.wait(2)

    def _guarded(self, handler: Handler) -> Handler:
        """The handler, counted as in flight so that a stop waits for it to finish."""

        def run(body: str) -> None:
            with self._tracking():
                handler(body)

        return run

    @contextmanager
    def _tracking(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def _stream_loop(self, short: str, handler: StreamHandler) -> None:
        from chalicelib.kernel import config

        def tracked(records: list[dict[str, Any]]) -> None:
            with self._tracking():
                handler(records)

        reader = StreamReader(config.table_name(short), tracked)
        log.info("reading the %s stream", short)
        while not self.stopping.is_set():
            try:
                handled = reader.poll_once()
                if handled:
                    log.debug("%s stream: %d record(s) handled", short, handled)
                    continue
            except Exception:
                if self.stopping.is_set():
                    break
                log.exception("reading the %s stream failed; retrying in 2 s", short)
                self.stopping.wait(2)
                continue
            self.stopping.wait(STREAM_IDLE_S)

    def _schedule_loop(self, interval_s: float, job: Callable[[], None]) -> None:
        name = getattr(job, "__name__", repr(job))
        while not self.stopping.wait(interval_s):
            try:
                with self._tracking():
                    job()
            except Exception:
                log.exception("scheduled job %s failed", name)

    def start(self) -> None:
        """Start one daemon thread per queue and per scheduled job."""
        for short, binding in self.queue_handlers.items():
            t = threading.Thread(
                target=self._poll_loop, args=(short, binding), name=f"poll-{short}", daemon=True
            )
            t.start()
            self._threads.append(t)
        for short, handler in self.stream_handlers.items():
            t = threading.Thread(
                target=self._stream_loop,
                args=(short, handler),
                name=f"stream-{short}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        for interval_s, job in self.schedule:
            t = threading.Thread(
                target=self._schedule_loop,
                args=(interval_s, job),
                name=f"every-{interval_s}s",
                daemon=True,
            )
            t.start()
            self._threads.append(t)

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop polling; wait up to ``grace_s`` for handlers in flight. Threads blocked
        in a long poll are daemons and end with the process (nothing was received)."""
        self.stopping.set()
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return
            time.sleep(0.05)
        log.warning("stopping with %d handler(s) still running", self._in_flight)


def main(argv: list[str] | None = None) -> int:
    """Run until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        description="Daojia local worker (SQS, DynamoDB streams, schedules)."
    )
    parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    worker = Worker(stream_handlers=STREAM_HANDLERS)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    log.info(
        "worker ready: queues %s, streams %s, %d scheduled job(s)",
        ", ".join(worker.queue_handlers) or "none",
        ", ".join(worker.stream_handlers) or "none",
        len(worker.schedule),
    )
    while not stop.wait(1.0):
        pass
    worker.stop()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
