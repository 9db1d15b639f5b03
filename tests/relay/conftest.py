"""Relay test rig: SQS from a moto server (a store's FIFO queue and its DLQ, set up like
production), the fake relay API, fake TCP printers, and jobs built from the schema's example.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from print_relay.config import RelayConfig, parse_config
from print_relay.relay import Relay
from tests.relay.escpos_decoder import decode
from tests.relay.fake_printer import FakePrinter
from tests.relay.fake_relay_api import TOKEN, FakeRelayApi

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs/schemas/print-job.v1.json").read_text("utf-8"))
EXAMPLE = SCHEMA["examples"][0]
STORE = EXAMPLE["store_id"]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def make_job(n: int, *, paid_ago_s: float = 5, **overrides: Any) -> dict[str, Any]:
    """Job number ``n``: the schema example with its own job id, order code and 今日第 N 单,
    paid ``paid_ago_s`` seconds ago."""
    job = copy.deepcopy(EXAMPLE)
    paid = datetime.now(UTC) - timedelta(seconds=paid_ago_s)
    order_id = f"2611240RD{n:05d}"
    job.update(
        job_id=f"{order_id}-p1",
        order_id=order_id,
        daily_seq=n,
        created_at=iso(paid - timedelta(seconds=60)),
        paid_at=iso(paid),
    )
    job.update(overrides)
    return job


# ------------------------------------------------------------------------------ SQS (moto)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per SQS call otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@dataclass
class StoreQueue:
    sqs: Any
    url: str
    dlq_url: str

    def send(self, job: dict[str, Any] | str, *, dedup: str | None = None) -> str:
        """Send a job (or a raw body) like the API does: group = store, explicit dedup id."""
        if isinstance(job, dict):
            body = json.dumps(job, ensure_ascii=False)
            dedup = dedup or f"{job['job_id']}-a{job.get('attempt', 1)}"
        else:
            body = job
            dedup = dedup or uuid.uuid4().hex
        return self.sqs.send_message(
            QueueUrl=self.url, MessageBody=body, MessageGroupId=STORE, MessageDeduplicationId=dedup
        )["MessageId"]

    def counts(self, url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) messages."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return (
            int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        )

    def empty(self) -> bool:
        return self.counts() == (0, 0)


@pytest.fixture
def queue(moto_url: str) -> StoreQueue:
    """A fresh store queue like production: FIFO, visibility 60 s, DLQ after 5 receives."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"daojia-test-print-{uuid.uuid4().hex[:12]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=f"{name}.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
    )["QueueUrl"]
    return StoreQueue(sqs, url, dlq_url)


# ------------------------------------------------------------------------------ API, printers


@pytest.fixture
def api(queue: StoreQueue, moto_url: str) -> Iterator[FakeRelayApi]:
    with FakeRelayApi(
        store_id=STORE, queue_url=queue.url, sqs_endpoint_url=moto_url, heartbeat_interval_s=0.3
    ) as fake:
        yield fake


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    with FakePrinter() as fake:
        yield fake


@dataclass
class Ticket:
    """One printed ticket, decoded."""

    data: bytes
    text: str
    order_id: str | None
    copy: str | None
    daily_seq: int | None
    reprint: bool
    late_minutes: int | None
    complete: bool  # ends with the cut
    at: float = 0.0  # time.time() the printer accepted the ticket's connection (its journal)


def read_ticket(data: bytes) -> Ticket:
    try:
        decoded = decode(data)
        text = "\n".join(decoded.texts)
        complete = decoded.cuts > 0
    except (IndexError, UnicodeDecodeError, TypeError):  # a ticket cut off mid-command
        text = data.decode("gbk", errors="replace")
        complete = False
    order = re.search(r"订单号\s+(\S+)", text)
    seq = re.search(r"今日第 (\d+) 单", text)
    late = re.search(r"延迟 (\d+) 分钟", text)
    kind = next(
        (
            c
            for c, title in (
                ("picking", "拣货联"),
                ("delivery", "配送联"),
                ("slip", "取消单"),
                ("test", "打印测试"),
            )
            if title in text
        ),
        None,
    )
    return Ticket(
        data,
        text,
        order.group(1) if order else None,
        kind,
        int(seq.group(1)) if seq else None,
        "补打" in text,
        int(late.group(1)) if late else None,
        complete,
    )


def printed(fake: FakePrinter) -> list[Ticket]:
    """Tickets the printer received (status-only connections left out), in order."""
    return [
        dataclasses.replace(read_ticket(c.job), at=c.accepted_at)
        for c in list(fake.connections)
        if c.job and c.done.is_set()
    ]


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.02)


def wait_tickets(fake: FakePrinter, count: int, timeout: float = 30.0) -> list[Ticket]:
    return wait_until(
        lambda: (t := printed(fake)) and len(t) >= count and t,
        timeout,
        f"{count} tickets",
    )


# ------------------------------------------------------------------------------ relays


def printer_section(name: str, port: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "network",
        "host": "127.0.0.1",
        "port": port,
        "connect_timeout": 0.5,
        "write_timeout": 2,
        "status_timeout": 0.5,
        "paper_mm": 58,
        **extra,
    }


@dataclass
class Rig:
    """Builds configs and relays on the test's queue, API and printers."""

    tmp_path: Path
    queue: StoreQueue
    api: FakeRelayApi
    printer: FakePrinter
    relays: list[Relay] = field(default_factory=list)

    def config_dict(self, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "store_id": STORE,
            "api_url": self.api.url,
            "token": TOKEN,
            "ledger": str(self.tmp_path / "ledger.sqlite3"),
            "heartbeat_interval_s": 0.3,
            "status_interval_s": 0.3,
            "print_gap_s": 0.01,
            "retry_min_s": 0.05,
            "retry_max_s": 0.3,
            "api_timeout_s": 2,
            "queue": {"wait_time_s": 1, "bad_message_retry_s": 0},
            "printers": [printer_section("front", self.printer.port)],
        }
        data.update(overrides)
        return data

    def config(self, **overrides: Any) -> RelayConfig:
        return parse_config(self.config_dict(**overrides), self.tmp_path, "test.toml")

    def start(self, config: RelayConfig | None = None, **kw: Any) -> Relay:
        relay = Relay(config or self.config(), hostname="test-pc", **kw).start()
        self.relays.append(relay)
        return relay

    def stop_all(self) -> None:
        for relay in self.relays:
            if not relay.stopping:
                relay.stop(timeout=5)


@pytest.fixture
def rig(tmp_path: Path, queue: StoreQueue, api: FakeRelayApi, printer: FakePrinter):
    r = Rig(tmp_path, queue, api, printer)
    try:
        yield r
    finally:
        r.stop_all()
    assert api.bad_requests == [], "the relay broke the API contract"
