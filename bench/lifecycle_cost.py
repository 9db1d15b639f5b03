"""What 1,000 orders cost in AWS: ``python bench/lifecycle_cost.py [--orders 1000]``.

Drives orders through their whole life in process (the Chalice app through
``chalice.test.Client`` on in-process moto, the demo catalogue at store sh-xuhui):

    quote, place (Idempotency-Key; its answer carries the payment sheet), the provider's
    signed webhook, print dispatch (the print_jobs stream's Lambda), the relay (receive,
    one ack for both copies, delete), pick straight from paid (about 10 % of orders one
    unit short: partial refund), POS checkout handing the order to the courier in the same
    request, deliver, the customer confirms.

A chain's members reorder: the orders are placed by members 4 at a time (1,000 orders by
250 members, ``ORDERS_PER_MEMBER``), so a member's first order (the first-order task, the
growth account's creation) is one order in 4; the warm-up order is another customer's.

Every AWS call is seen by the botocore hook of ``bench/roundtrips.py``. DynamoDB request
units are estimated from item sizes, because moto reports fixed capacity figures:

* item size by DynamoDB's rules (UTF-8 names and strings, numbers ~1 byte per 2 digits
  + 1, 1 byte for booleans/nulls, 3 bytes + 1 per element for maps and lists); written
  items are looked up in moto before and after each write;
* writes: ceil(max(size before, size after) / 1 KB) write units per item, x2 inside
  TransactWriteItems (ConditionCheck items included), failed conditions charged alike;
  plus one GSI write per index the item enters, leaves or changes in (two when the index
  key changes), sized by the index's projection (ALL = the item, KEYS_ONLY = the keys);
* reads: ceil(size / 4 KB) per item (GetItem, each BatchGetItem key, a missing item
  counts as one), the sum of returned items for Query/Scan, x0.5 when eventually
  consistent, x2 in TransactGetItems.

The machine endpoints go through the Lambda function URL (decisions.md 33): the provider's
webhook (pay_callback) and the relay's ack (relay_ack) are driven through app.py's
``machine_api`` handler with function URL events (payload 2.0), i.e. one invocation of
that function each, with no API Gateway charge and no authorizer invocation (the relay's
token is checked inside the function: that work is in the step's measured time).

Lambda is modelled as: one API function invocation per API Gateway request; the token
authorizer (API Gateway caches its answer 30 s per token): twice per order for the
customer (the checkout burst, then the confirmation), once per staff request; the
print_jobs stream invokes the dispatch
function once per new job (at a store's pace every record is a batch of one; the
template's event filter passes INSERT records only, so the job's later writes cost no
invocation; the stream records per order are printed for reference); the orders
stream invokes the event function for order.paid and order.completed (its filter passes
status changes that are events; the refund.succeeded of a shortage, which has no
subscriber, is not driven). Durations: our
own code's CPU time measured here (the handler thread's CPU time minus that spent inside
AWS calls, i.e. in botocore and in-process moto) scaled by 1769/512 (Lambda gives one
vCPU at 1,769 MB; the functions have 512 MB), plus an assumed 8 ms per AWS call in the
region.
Scheduled jobs and the relays' idle long polls do not depend on the number of orders:
they are printed as a fixed monthly cost.

Printed: per-order counts, a ``#`` breakdown per step and per service, the prices used,
``loyalty_wru_per_order`` (the order_events step's write units: the loyalty subscribers'
and the report's) and last ``usd_per_1000_orders``. Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import roundtrips as rt

# --- prices (AWS list prices, us-east-1, on demand; assumptions, check before quoting) --
REGION = "us-east-1"
DDB_USD_PER_RRU = 0.125 / 1e6  # read request unit (on-demand, after the Nov 2024 cut)
DDB_USD_PER_WRU = 0.625 / 1e6  # write request unit
SQS_USD_PER_REQUEST = {"standard": 0.40 / 1e6, "fifo": 0.50 / 1e6}  # per 64 KB chunk
LAMBDA_USD_PER_REQUEST = 0.20 / 1e6
LAMBDA_USD_PER_GB_S = 0.0000166667  # x86_64
# HTTP API (what infra/template.py deploys; the REST variant, --api rest, is $3.50/M), first
# 300 million a month, per request up to 512 KB
APIGW_USD_PER_REQUEST = 1.00 / 1e6
TRANSFER_USD_PER_GB = 0.09  # data out to the internet (first 10 TB a month)
LOGS_USD_PER_GB = 0.50  # CloudWatch Logs ingestion
CHALICE_CONFIG = Path(__file__).resolve().parents[1] / "functions" / ".chalice" / "config.json"


def memory_mb(function: str | None = None, stage: str = "prod") -> int:
    """A function's memory as deployed (functions/.chalice/config.json: the stage's
    per-function setting, else the app's)."""
    config = json.loads(CHALICE_CONFIG.read_text())
    own = config["stages"][stage].get("lambda_functions", {}).get(function or "", {})
    return int(own.get("lambda_memory_size", config["lambda_memory_size"]))


LAMBDA_MEMORY_MB = memory_mb()  # the API function and the authorizer
# The stream functions are I/O-bound consumers nobody waits on: sized apart
STEP_FUNCTION = {"order_events": "order_events", "print_dispatch": "print_dispatch"}
# Steps that reach the app through the machine endpoints' function URL (decisions.md 33):
# app.py's machine_api, one invocation each, no API Gateway request, no authorizer.
URL_FUNCTION = "machine_api"
URL_STEPS = ("pay_callback", "relay_ack")
# Lambda's START/END/REPORT lines (~350 bytes an invocation) are not logged: the template
# sets JSON log format with SystemLogLevel WARN (infra/template.py LAMBDA_LOG_LEVELS).
LAMBDA_LOG_BYTES = 0
AWS_CALL_MS = 8.0  # assumed latency of one DynamoDB/SQS call from Lambda in the region
LAMBDA_FULL_CPU_MB = 1769  # Lambda gives one vCPU at 1,769 MB, a share below it
AUTHORIZER_MS = 3.0  # verifying an HS256 JWT (measured below; this is the floor)
SHORTAGE_RATE = 0.10
# A chain's members reorder: 1,000 orders are modelled as 250 members placing 4 each
# (order i is member i // 4's), so a member's first-order task and first growth come once
# in 4 orders, not with every order.
ORDERS_PER_MEMBER = 4
# Staff requests per order, each a token authorizer invocation: pick, checkout with
# dispatch, deliver.
STAFF_REQUESTS = 3
MONTH_MIN = 30 * 24 * 60

# --- DynamoDB request units from item sizes ------------------------------------------------


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB JSON, by DynamoDB's sizing rules."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = len(v.lstrip("-").replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind == "B":
        return len(v) if isinstance(v, bytes | bytearray) else math.ceil(len(v) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(x) + 1 for k, x in v.items())
    if kind == "L":
        return 3 + sum(value_size(x) + 1 for x in v)
    if kind == "SS":
        return sum(len(x.encode()) for x in v)
    if kind == "NS":
        return sum(value_size({"N": x}) for x in v)
    if kind == "BS":
        return sum(value_size({"B": x}) for x in v)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    return units * (2 if transactional else 1 if consistent else 0.5)


def write_units(size: int, transactional: bool = False) -> int:
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


# --- keeping in-process moto fast ------------------------------------------------------------

ORDER_TABLES = ("orders", "idempotency_keys", "payments", "print_jobs", "refunds")
_FAST_OPS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactWriteItems",
        "BatchWriteItem",
    }
)


def fast_moto_dynamodb() -> None:
    """Answer DynamoDB data calls with moto's result as JSON directly. moto's generic
    response serializer walks every attribute value against the service model (about
    half of the run's time); for these operations the result already is the wire format,
    so the answer is the same, only faster. Counting is unaffected."""
    import json

    from moto.dynamodb.responses import DynamoHandler

    serialize = DynamoHandler.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in _FAST_OPS:
            headers = {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}
            try:
                return 200, headers, json.dumps(result)
            except TypeError:
                pass  # binary values (bytes) need the serializer's base64
        return serialize(self, action_result)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign]


def purge_finished_orders(backend: Any) -> None:
    """Forget finished orders inside moto (not through the API: nothing is counted). moto
    copies every table a transaction touches, so a growing orders table would make each
    order slower than the last; stock, stores and products stay."""
    from chalicelib.kernel import config

    for short in ORDER_TABLES:
        table = backend.get_table(config.table_name(short))
        table.items.clear()
        shard = getattr(table, "stream_shard", None)
        if shard is not None:
            shard.items.clear()


class DynamoUnits:
    """An AwsMeter observer: estimated read and write request units of each call, in
    ``call.extra["rru"]`` / ``["wru"]`` (with ``["gsi_wru"]`` the index part)."""

    WRITES = frozenset(
        {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
    )

    def __init__(self) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        self.backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]

    # moto's view of the tables
    def _table(self, name: str) -> Any:
        return self.backend.get_table(name)

    def _key(self, table: str, item_or_key: dict[str, Any]) -> dict[str, Any]:
        t = self._table(table)
        names = [n for n in (t.hash_key_attr, t.range_key_attr) if n]
        return {n: item_or_key[n] for n in names}

    def _image(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self.backend.get_item(table, key)
        return None if found is None else found.to_json()["Attributes"]

    def _targets(self, call: rt.Call) -> list[tuple[str, dict[str, Any], bool, str]]:
        """(table, key, transactional, kind) of each item a write touches."""
        r, op = call.request, call.operation
        if op == "PutItem":
            return [(r["TableName"], self._key(r["TableName"], r["Item"]), False, "Put")]
        if op in ("UpdateItem", "DeleteItem"):
            return [(r["TableName"], r["Key"], False, op[:-4])]
        out = []
        if op == "TransactWriteItems":
            for element in r["TransactItems"]:
                ((kind, body),) = element.items()
                table = body["TableName"]
                key = self._key(table, body["Item"]) if kind == "Put" else body["Key"]
                out.append((table, key, True, kind))
        if op == "BatchWriteItem":
            for table, requests in r["RequestItems"].items():
                for req in requests:
                    if "PutRequest" in req:
                        out.append(
                            (table, self._key(table, req["PutRequest"]["Item"]), False, "Put")
                        )
                    else:
                        out.append((table, req["DeleteRequest"]["Key"], False, "Delete"))
        return out

    def __call__(self, phase: str, call: rt.Call) -> None:
        if call.service != "dynamodb":
            return
        if call.operation in self.WRITES:
            if phase == "before":
                call.extra["before"] = [
                    (t, k, tx, kind, self._image(t, k)) for t, k, tx, kind in self._targets(call)
                ]
            else:
                self._writes(call)
        elif phase == "after":
            call.extra["rru"] = self._reads(call)

    def _writes(self, call: rt.Call) -> None:
        wru = gsi = 0
        failed = call.error is not None
        tables = set()
        where: Counter = Counter()  # "table" / "table.index" -> write units
        for table, key, tx, kind, before in call.extra.pop("before", []):
            after = self._image(table, key)
            size = max(item_size(before), item_size(after))
            short = table.rsplit("-", 1)[-1]
            where[short] += write_units(size, tx)
            wru += write_units(size, tx)
            if kind != "ConditionCheck" and not failed and before != after:
                for index, units in self._index_writes(table, before, after).items():
                    where[f"{short}.{index}"] += units
                    gsi += units
                tables.add(table)
        call.extra.update(
            wru=wru + gsi, gsi_wru=gsi, rru=0.0, written_tables=tables, wru_where=where
        )

    def _index_writes(
        self, table: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> Counter:
        """Write units per index name that this change of the item costs."""
        t = self._table(table)
        table_keys = [n for n in (t.hash_key_attr, t.range_key_attr) if n]
        units: Counter = Counter()
        for index in t.global_indexes:
            keys = index.schema_key_attrs

            def entry(
                image: dict[str, Any] | None, keys: list[str] = keys, index: Any = index
            ) -> dict[str, Any] | None:
                if not image or any(k not in image for k in keys):
                    return None
                if index.projection.get("ProjectionType") == "ALL":
                    return image
                wanted = set(keys) | set(table_keys)
                wanted |= set(index.projection.get("NonKeyAttributes") or [])
                return {k: v for k, v in image.items() if k in wanted}

            old, new = entry(before), entry(after)
            if old == new:
                continue
            if old is not None and new is not None and any(old[k] != new[k] for k in keys):
                units[index.name] += write_units(item_size(old)) + write_units(item_size(new))
            else:
                units[index.name] += write_units(max(item_size(old), item_size(new)))
        return units

    def _reads(self, call: rt.Call) -> float:
        r, resp, op = call.request, call.response or {}, call.operation
        consistent = bool(r.get("ConsistentRead"))
        if op == "GetItem":
            return read_units(item_size(resp.get("Item")), consistent)
        if op == "BatchGetItem":
            units = 0.0
            for table, spec in r.get("RequestItems", {}).items():
                got = resp.get("Responses", {}).get(table, [])
                strong = bool(spec.get("ConsistentRead"))
                units += sum(read_units(item_size(i), strong) for i in got)
                units += (len(spec["Keys"]) - len(got)) * read_units(0, strong)
            return units
        if op in ("Query", "Scan"):
            return read_units(sum(item_size(i) for i in resp.get("Items", [])), consistent)
        if op == "TransactGetItems":
            return sum(
                read_units(item_size(x.get("Item")), True, True) for x in resp.get("Responses", [])
            )
        return 0.0  # control plane (DescribeTable, ...): not billed per request


# --- the run --------------------------------------------------------------------------------


@dataclass
class Invocation:
    """One unit of billed work: an API request, a stream-triggered function, or a relay
    action (the relay is a store PC: only its SQS requests are billed)."""

    step: str
    kind: str  # api (API Gateway) | url (the function URL) | stream | relay
    calls: list[rt.Call]
    cpu_s: float  # CPU time of the step in this thread (moto's part included)
    response_bytes: int = 0
    log_bytes: int = 0

    @property
    def aws_cpu_s(self) -> float:
        return sum(c.cpu_seconds for c in self.calls)

    @property
    def billed_ms(self) -> float:
        """Modelled Lambda duration, rounded up to the millisecond: our own CPU time
        (CPU, not wall time, so other processes on the machine do not inflate it)."""
        scale = LAMBDA_FULL_CPU_MB / self.memory_mb  # our CPU share vs one core here
        own_ms = max(self.cpu_s - self.aws_cpu_s, 0.0) * 1000 * scale
        return math.ceil(own_ms + AWS_CALL_MS * len(self.calls))

    @property
    def memory_mb(self) -> int:
        return memory_mb(URL_FUNCTION if self.kind == "url" else STEP_FUNCTION.get(self.step))


@dataclass
class StepStats:
    """Everything counted for one step of the lifecycle, summed over orders."""

    kind: str
    count: int = 0  # requests / invocations / relay actions
    calls: Counter = field(default_factory=Counter)  # "service.Operation" -> calls
    wru_where: Counter = field(default_factory=Counter)  # "table[.index]" -> write units
    rru: float = 0.0
    wru: float = 0.0
    gsi_wru: float = 0.0
    sqs_usd: float = 0.0
    billed_ms: float = 0.0
    response_bytes: int = 0
    log_bytes: int = 0

    def add(self, x: Invocation) -> None:
        self.count += 1
        self.calls.update(c.name for c in x.calls)
        for c in x.calls:
            self.rru += c.extra.get("rru", 0.0)
            self.wru += c.extra.get("wru", 0)
            self.gsi_wru += c.extra.get("gsi_wru", 0)
            self.wru_where.update(c.extra.get("wru_where", {}))
            if c.service == "sqs":
                fifo = str(c.request.get("QueueUrl", "")).endswith(".fifo")
                self.sqs_usd += SQS_USD_PER_REQUEST["fifo" if fifo else "standard"]
        self.billed_ms += x.billed_ms
        self.response_bytes += x.response_bytes
        self.log_bytes += x.log_bytes

    def merge(self, other: StepStats) -> None:
        self.count += other.count
        self.calls.update(other.calls)
        self.wru_where.update(other.wru_where)
        for name in ("rru", "wru", "gsi_wru", "sqs_usd", "billed_ms"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.response_bytes += other.response_bytes
        self.log_bytes += other.log_bytes


@dataclass
class Tally:
    steps: dict[str, StepStats] = field(default_factory=dict)
    stream_records: int = 0  # print_jobs writes: each one a stream record
    authorizer_invocations: int = 0
    orders: int = 0
    shortages: int = 0
    authorizer_ms: float = AUTHORIZER_MS

    def add(self, x: Invocation) -> None:
        self.steps.setdefault(x.step, StepStats(x.kind)).add(x)

    def merge(self, other: Tally) -> None:
        for name, stats in other.steps.items():
            self.steps.setdefault(name, StepStats(stats.kind)).merge(stats)
        self.stream_records += other.stream_records
        self.authorizer_invocations += other.authorizer_invocations
        self.orders += other.orders
        self.shortages += other.shortages
        self.authorizer_ms = max(self.authorizer_ms, other.authorizer_ms)


class LogBytes(logging.Handler):
    """Counts the bytes the app logs (what CloudWatch Logs would ingest)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        # What Lambda's JSON log format writes for one record (infra/template.py).
        line = {
            "timestamp": "2026-01-01T00:00:00.000Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": "00000000-0000-0000-0000-000000000000",
        }
        self.bytes += len(json.dumps(line, ensure_ascii=False).encode()) + 1


def run(n_orders: int, seed: int, first: int = 1) -> Tally:
    """Orders ``first`` .. ``first + n_orders - 1`` (after one warm-up order), in this
    process, with its own in-process moto."""
    rt.prepare_environment()
    meter = rt.AwsMeter().install()
    import moto  # noqa: F401

    tally = Tally()
    logs = LogBytes()
    logging.getLogger().addHandler(logs)
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("botocore", "urllib3", "moto", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if os.environ.get("BENCH_EXACT_MOTO") != "1":
        fast_moto_dynamodb()
    with rt.in_process_aws():
        units = DynamoUnits()
        meter.observers.append(units)
        from app import app
        from chalice.test import Client

        with Client(app) as client:
            flow = rt.Flow(CountingApi(client), app)
            # The provider and the relay call the function URL (same relay token).
            url_flow = rt.Flow(
                UrlApi(app), app, staff_token=flow.staff_token, relay_token=flow.relay_token
            )
            if not flow.has_store_workflow or not flow.has_printing:
                raise SystemExit("the store workflow and the print routes are needed")
            relay_sqs, relay_queue = rt.relay_queue_of(rt.STORE)
            skus = rt.sellable_skus()
            rng = random.Random(seed)
            api: CountingApi = flow.api  # type: ignore[assignment]
            url_api: CountingApi = url_flow.api  # type: ignore[assignment]

            def step(name: str, kind: str, fn: Any) -> Any:
                logs.bytes = 0
                api.response_bytes = url_api.response_bytes = 0
                with meter.measure() as calls:
                    started = time.thread_time()
                    out = fn()
                    cpu = time.thread_time() - started
                sent = api.response_bytes + url_api.response_bytes
                tally.add(Invocation(name, kind, calls, cpu, sent, logs.bytes))
                for call in calls:
                    if "print_jobs" in {
                        t.rsplit("-", 1)[-1] for t in call.extra.get("written_tables", ())
                    }:
                        tally.stream_records += 1
                return out

            def one_order(i: int, measured: bool) -> None:
                who = f"{i // ORDERS_PER_MEMBER:05d}" if measured else "warmup"
                customer = rt.token(f"c-bench-{who}", "customer")
                run_step = step if measured else (lambda name, kind, fn: fn())
                cart = rt.Flow.cart(rng.sample(skus, rng.randint(2, 6)))
                while True:  # the storefront adds items until the minimum order is met
                    quote = run_step("quote", "api", lambda: flow.quote(customer, cart))
                    if quote["can_place"]:
                        break
                    cart["items"].append({"sku": rng.choice(skus), "qty": 1})
                    cart["items"] = list({x["sku"]: x for x in cart["items"]}.values())
                order = run_step("place", "api", lambda: flow.place(customer, cart))
                oid = order["order_id"]
                if order.get("payment") is None:  # the sheet comes with the placed order
                    run_step("start_payment", "api", lambda: flow.start_payment(customer, oid))
                notice = flow.payment_notification(order)
                run_step("pay_callback", "url", lambda: url_flow.notify(*notice))
                # The orders stream's event function: order.paid to its subscribers (the
                # after-payment gift). Its record is built outside the meter.
                paid_record = order_stream_record(oid, "awaiting_payment")
                run_step("order_events", "stream", lambda: deliver_events(paid_record))
                job_id = rt.first_job_id(oid)  # not counted: the stream record carries it
                insert = flow.stream_insert(job_id)  # the record with the job (NEW_IMAGE)
                run_step("print_dispatch", "stream", lambda: flow.dispatch_print(insert))
                message = run_step(
                    "relay_receive", "relay", lambda: flow.relay_receive(relay_sqs, relay_queue)
                )
                run_step("relay_ack", "url", lambda: url_flow.ack(job_id, "picking", "delivery"))
                run_step(
                    "relay_delete",
                    "relay",
                    lambda: relay_sqs.delete_message(
                        QueueUrl=relay_queue, ReceiptHandle=message["ReceiptHandle"]
                    ),
                )
                # The picker works from the printed ticket (no start-picking request) and the
                # cashier hands the order to the courier at checkout (one request).
                short = 1 if rng.random() < SHORTAGE_RATE else 0
                run_step("pick", "api", lambda: flow.pick(order, short_units=short))
                run_step("checkout", "api", lambda: flow.checkout(oid))
                run_step("deliver", "api", lambda: flow.deliver(oid))
                done = run_step("confirm", "api", lambda: flow.confirm(customer, oid))
                if done["status"] != "completed":
                    raise rt.StepFailed(f"order {oid} ended {done['status']}")
                done_record = order_stream_record(oid, "delivered")  # order.completed
                run_step("order_events", "stream", lambda: deliver_events(done_record))
                purge_finished_orders(units.backend)
                if measured:
                    tally.orders += 1
                    tally.shortages += short
                    # The relay's ack checks its token inside machine_api: no authorizer.
                    tally.authorizer_invocations += 2 + STAFF_REQUESTS

            one_order(first - 1, measured=False)  # warm-up: clients, queue URLs, caches
            for i in range(first, first + n_orders):
                one_order(i, measured=True)
            tally.authorizer_ms = measure_authorizer_ms()
    logging.getLogger().removeHandler(logs)
    return tally


def order_stream_record(order_id: str, old_status: str) -> dict[str, Any]:
    """The orders stream's MODIFY record of the order's last status change, as the event
    function gets it (the template's filter passes status changes that are events)."""
    from chalicelib.orders.models import OrderModel

    new = OrderModel.get(order_id, consistent_read=True).serialize()
    return {
        "eventName": "MODIFY",
        "eventID": f"bench-{order_id}-{old_status}",
        "dynamodb": {
            "Keys": {"order_id": {"S": order_id}},
            "OldImage": {**new, "status": {"S": old_status}},
            "NewImage": new,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def deliver_events(record: dict[str, Any]) -> int:
    from chalicelib.events.dispatch import handle_stream_records

    return handle_stream_records("orders", [record])


# Who asks for gzip: the storefront apps, the staff's browsers and the print relay
# (print_relay/api_client.py) send Accept-Encoding: gzip; the payment provider's
# callbacks are not assumed to.
NO_GZIP_PATHS = ("/payments/",)
HEADER_BYTES = 300  # status line and response headers, about


class CountingApi(rt.Api):
    """The API helper, sending Accept-Encoding as each client does and counting the bytes
    each response sends (data transfer out): its body as sent, compressed or not, and
    HEADER_BYTES."""

    response_bytes = 0

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        if not path.startswith(NO_GZIP_PATHS):
            headers = {"Accept-Encoding": "gzip, deflate, br", **(headers or {})}
        r = super().send(method, path, body, token, headers, raw)
        self.response_bytes += len(r.body) + HEADER_BYTES
        return r


class UrlResponse:
    """A function URL answer as chalice.test's HTTPResponse shows one: the bytes sent."""

    def __init__(self, answer: dict[str, Any]) -> None:
        import base64

        body = answer.get("body") or ""
        self.status_code = int(answer["statusCode"])
        self.headers = dict(answer.get("headers") or {})
        self.body = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()


class UrlApi(CountingApi):
    """The API helper sending through the function URL: each request becomes a function
    URL event (payload 2.0) for app.py's machine_api, as Lambda builds it, answered by
    that handler (its authorizer in process). Counts response bytes as CountingApi does."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.response_bytes = 0

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        import app as app_module

        if not path.startswith(NO_GZIP_PATHS):
            headers = {"Accept-Encoding": "gzip, deflate, br", **(headers or {})}
        h, data = self.request(body, token, headers, raw)
        text = data.decode() if isinstance(data, bytes) else data
        path, _, query = path.partition("?")
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {k.lower(): v for k, v in h.items()},
            "requestContext": {
                "http": {"method": method.upper(), "path": path, "protocol": "HTTP/1.1"},
                "requestId": "bench",
                "routeKey": "$default",
                "stage": "$default",
            },
            "body": text,
            "isBase64Encoded": False,
        }
        r = UrlResponse(app_module.machine_api(event, None))
        self.response_bytes += len(r.body) + HEADER_BYTES
        return r


def measure_authorizer_ms() -> float:
    """Our authorizer's own time: verifying a token (median of 200), scaled like the rest."""
    from chalicelib.auth.tokens import verify

    token = rt.token("c-bench-auth", "customer")
    times = []
    for _ in range(200):
        t = time.thread_time()
        verify(token)
        times.append(time.thread_time() - t)
    times.sort()
    return max(AUTHORIZER_MS, times[len(times) // 2] * 1000 * LAMBDA_FULL_CPU_MB / LAMBDA_MEMORY_MB)


# --- pricing --------------------------------------------------------------------------------


def lambda_usd(invocations: int, billed_ms: float, memory: int = LAMBDA_MEMORY_MB) -> float:
    gb_s = billed_ms / 1000 * memory / 1024
    return invocations * LAMBDA_USD_PER_REQUEST + gb_s * LAMBDA_USD_PER_GB_S


def report(tally: Tally, info: dict[str, Any], show_writes: bool = False) -> None:
    n = tally.orders
    per_k = 1000 / n
    steps = tally.steps
    api = [x for x in steps.values() if x.kind == "api"]
    url = [x for x in steps.values() if x.kind == "url"]
    stream = [x for x in steps.values() if x.kind == "stream"]
    ops: Counter = Counter()
    for x in steps.values():
        ops.update(x.calls)
    api_requests = sum(x.count for x in api)  # through API Gateway
    url_requests = sum(x.count for x in url)  # through the function URL: Lambda only
    ddb_calls = sum(c for name, c in ops.items() if name.startswith("dynamodb."))
    sqs_calls = sum(c for name, c in ops.items() if name.startswith("sqs."))
    rru = sum(x.rru for x in steps.values())
    wru = sum(x.wru for x in steps.values())
    gsi_wru = sum(x.gsi_wru for x in steps.values())
    # Lambda: API function, authorizer, stream function. The template's event filter
    # (eventName INSERT) keeps the jobs' MODIFY records from invoking it at all.
    stream_invocations = sum(x.count for x in stream)
    auth_ms = tally.authorizer_invocations * math.ceil(tally.authorizer_ms)
    lambda_invocations = (
        api_requests + url_requests + tally.authorizer_invocations + stream_invocations
    )
    log_bytes = sum(x.log_bytes for x in steps.values() if x.kind != "relay")
    costs = {
        "dynamodb_reads": rru * DDB_USD_PER_RRU,
        "dynamodb_writes": wru * DDB_USD_PER_WRU,
        "sqs": sum(x.sqs_usd for x in steps.values()),
        "lambda_api": lambda_usd(api_requests, sum(x.billed_ms for x in api))
        + lambda_usd(url_requests, sum(x.billed_ms for x in url), memory_mb(URL_FUNCTION)),
        "lambda_authorizer": lambda_usd(tally.authorizer_invocations, auth_ms),
        "lambda_streams": sum(
            lambda_usd(x.count, x.billed_ms, memory_mb(STEP_FUNCTION.get(name)))
            for name, x in steps.items()
            if x.kind == "stream"
        ),
        "api_gateway": api_requests * APIGW_USD_PER_REQUEST,
        "data_transfer_out": sum(x.response_bytes for x in api + url) / 1e9 * TRANSFER_USD_PER_GB,
        "cloudwatch_logs": (log_bytes + lambda_invocations * LAMBDA_LOG_BYTES)
        / 1e9
        * LOGS_USD_PER_GB,
    }
    total = sum(costs.values()) * per_k

    print(
        f"# {n} orders in {info['seconds']:.0f} s ({info['jobs']} processes, each with "
        f"its own in-process moto), store {rt.STORE}"
    )
    print(f"# {tally.shortages} orders picked one unit short (partial refund)")
    print(f"# prices: AWS list prices, {REGION}, on demand (assumed; check before quoting):")
    print(
        f"#   DynamoDB ${DDB_USD_PER_RRU * 1e6:.3f}/M read request units, "
        f"${DDB_USD_PER_WRU * 1e6:.3f}/M write request units; SQS "
        f"${SQS_USD_PER_REQUEST['standard'] * 1e6:.2f}/M standard, "
        f"${SQS_USD_PER_REQUEST['fifo'] * 1e6:.2f}/M FIFO requests"
    )
    print(
        f"#   Lambda ${LAMBDA_USD_PER_REQUEST * 1e6:.2f}/M requests + "
        f"${LAMBDA_USD_PER_GB_S:.10f}/GB-s (x86, {LAMBDA_MEMORY_MB} MB); API Gateway HTTP API "
        f"${APIGW_USD_PER_REQUEST * 1e6:.2f}/M; data out ${TRANSFER_USD_PER_GB}/GB; "
        f"CloudWatch Logs ${LOGS_USD_PER_GB}/GB"
    )
    print(
        "#   free tiers ignored; storage, backups (PITR) and stream reads by Lambda "
        "(free) not included"
    )
    print(
        f"# Lambda model: own time x 1769 MB / the function's memory (its CPU share; API "
        f"{LAMBDA_MEMORY_MB} MB, stream functions "
        f"{', '.join(f'{f} {memory_mb(f)} MB' for f in STEP_FUNCTION.values())}) + "
        f"{AWS_CALL_MS:g} ms "
        f"per AWS call; authorizer {tally.authorizer_ms:.1f} ms x "
        f"{tally.authorizer_invocations / n:.0f}/order (30 s cache: customer 2, staff "
        f"{STAFF_REQUESTS}, "
        f"relay 0: its token is checked inside {URL_FUNCTION}); print_jobs stream: "
        f"{tally.stream_records / n:.0f} records/order, INSERTs "
        "only reach Lambda (the template's event filter)"
    )
    print(
        f"# through the function URL ({URL_FUNCTION}, {memory_mb(URL_FUNCTION)} MB; no API "
        f"Gateway, no authorizer): {', '.join(k for k, x in steps.items() if x.kind == 'url')}"
    )
    print(
        "# per step, per order: requests (stream: invocations), AWS calls, RRU, WRU "
        "(of which GSI), mean billed ms"
    )
    for name, x in steps.items():
        print(
            f"#   {name + (' (url)' if x.kind == 'url' else ''):<21} {x.count / n:5.2f} req  "
            f"{sum(x.calls.values()) / n:5.2f} calls  "
            f"{x.rru / n:6.2f} RRU  {x.wru / n:6.2f} WRU ({x.gsi_wru / n:5.2f})  "
            f"{x.billed_ms / x.count:6.1f} ms"
        )
    if show_writes:
        print("# write units per order by step and table[.index]:")
        for name, x in steps.items():
            if x.wru_where:
                print(
                    f"#   {name:<15} "
                    + ", ".join(f"{w} {u / n:.2f}" for w, u in x.wru_where.most_common())
                )
    print(
        "# AWS calls per order by operation: "
        + ", ".join(f"{name} {count / n:.2f}" for name, count in ops.most_common())
    )
    print("# cost per 1000 orders by part (USD):")
    for name, usd in costs.items():
        print(f"#   {name:<20} {usd * per_k:.4f}")
    schedules = fixed_monthly_usd()
    print(
        f"# fixed, whatever the orders: scheduled jobs ≈ ${schedules:.3f}/month (expiry, "
        "print watchdog and event retries every minute, refunds every 5 min, auto-complete "
        "hourly: 138,960 invocations, 50 ms each, one Query each); each store's relay "
        "long-polling an "
        f"empty FIFO queue (20 s) ≈ ${3 * MONTH_MIN * SQS_USD_PER_REQUEST['fifo']:.3f}/month"
    )
    print(f"api_requests_per_order: {api_requests / n:.2f}")
    print(f"function_url_requests_per_order: {url_requests / n:.2f}")
    print(f"lambda_invocations_per_order: {lambda_invocations / n:.2f}")
    print(f"dynamodb_calls_per_order: {ddb_calls / n:.2f}")
    print(f"dynamodb_rru_per_order: {rru / n:.2f}")
    print(f"dynamodb_wru_per_order: {wru / n:.2f}")
    print(f"dynamodb_gsi_wru_per_order: {gsi_wru / n:.2f}")
    loyalty = steps.get("order_events")
    print(f"loyalty_wru_per_order: {(loyalty.wru if loyalty else 0) / n:.2f}")
    print(f"sqs_requests_per_order: {sqs_calls / n:.2f}")
    print(f"usd_per_1000_orders: {total:.4f}")


def fixed_monthly_usd() -> float:
    per_month = 3 * MONTH_MIN + MONTH_MIN // 5 + MONTH_MIN // 60
    return lambda_usd(per_month, per_month * 50.0) + per_month * 0.5 * DDB_USD_PER_RRU


def _worker(n_orders: int, seed: int, first: int) -> bytes:
    """A worker process's run, pickled (plain data only crosses the process boundary)."""
    import pickle

    tally = run(n_orders, seed, first)
    return pickle.dumps(
        {
            "steps": {
                k: {**vars(v), "calls": dict(v.calls), "wru_where": dict(v.wru_where)}
                for k, v in tally.steps.items()
            },
            **{k: v for k, v in vars(tally).items() if k != "steps"},
        }
    )


def _unpickle(data: bytes) -> Tally:
    import pickle

    raw = pickle.loads(data)  # noqa: S301 - from our own worker process
    steps = {
        k: StepStats(**{**v, "calls": Counter(v["calls"]), "wru_where": Counter(v["wru_where"])})
        for k, v in raw.pop("steps").items()
    }
    return Tally(steps=steps, **raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders to run (1000)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of carts/shortages")
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes, each with its own moto (default: 2, or 1 on one CPU)",
    )
    parser.add_argument(
        "--writes", action="store_true", help="also print write units by table and index"
    )
    args = parser.parse_args(argv)
    jobs = max(1, min(args.jobs, args.orders))
    started = time.perf_counter()
    if jobs == 1:
        tally = run(args.orders, args.seed)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        shares = [args.orders // jobs + (i < args.orders % jobs) for i in range(jobs)]
        firsts = [1 + sum(shares[:i]) + i for i in range(jobs)]  # +i: each one's warm-up
        tally = Tally()
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [
                pool.submit(_worker, share, args.seed * 1000 + i, first)
                for i, (share, first) in enumerate(zip(shares, firsts, strict=True))
            ]
            for future in futures:
                tally.merge(_unpickle(future.result()))
    report(tally, {"seconds": time.perf_counter() - started, "jobs": jobs}, args.writes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
