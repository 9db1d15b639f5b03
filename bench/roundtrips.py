"""AWS round trips per request: ``python bench/roundtrips.py``.

Every AWS API call this process makes is seen by a handler on botocore's ``before-call``
event, registered in botocore's built-in handler list before anything creates a session:
PynamoDB keeps its own botocore session (one per thread), so a hook on boto3's default
session would miss its calls (DESIGN.md, "Facts we checked"). The app runs in process,
through ``chalice.test.Client`` (authorizer included), on in-process moto with the demo
catalogue; the setup's calls are not counted.

One order goes through the flow and the calls each request makes are printed:

| figure | request |
|---|---|
| ``place_order_calls`` | ``POST /orders`` with an Idempotency-Key, 3 lines (target: 2) |
| ``place_order_with_coupon_calls`` | the same with a coupon chosen (``coupon_ids``) (target: 2) |
| ``place_order_with_balance_calls`` | the same paying ¥5 with stored value (target: 2) |
| ``place_order_with_points_and_balance_calls`` | the same, 300 points as cash too (target: 2) |
| ``place_reward_order_calls`` | a mall product reward, points + ¥5 (``reward_id``) (target: 2) |
| ``pay_callback_calls`` | ``POST /payments/notify/local``: the provider's signed webhook |
| ``pick_calls`` | ``POST /admin/orders/{id}/pick`` with one line short (partial refund) |

Each figure is followed by a ``#`` breakdown by operation (``service.Operation xN``), and
the other steps of the lifecycle are listed as ``#`` lines. Figures only; no assertions.

The module is also the harness of ``bench/lifecycle_cost.py``: ``AwsMeter`` (the hook),
``in_process_aws()`` and ``Flow`` (the lifecycle's requests).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "functions"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

PREFIX = "daojia-bench"
STORE = "sh-xuhui"  # the demo store open around the clock: the bench runs at any hour
ADDRESS = {
    "name": "王女士",
    "phone": "13800000001",
    "line": "漕溪北路100号 3号楼 502室",
    "lat": 31.1960,
    "lng": 121.4380,
}


def prepare_environment() -> None:
    """What the API reads at import time (as tests/conftest.py sets it); no AWS endpoint,
    so in-process moto serves every call. Call before importing anything of the app."""
    for var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[var]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_SESSION_TOKEN": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "DAOJIA_STAGE": "local",
            "DAOJIA_RESOURCE_PREFIX": PREFIX,
            "DAOJIA_JWT_SECRET": "bench-secret-not-for-production-0123456789",
        }
    )


# --- counting calls ---------------------------------------------------------------------


@dataclass
class Call:
    """One AWS API call: its request parameters and (once answered) the parsed response."""

    service: str
    operation: str
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    started: float = 0.0  # perf_counter at before-call
    seconds: float = 0.0  # until after-call: the request, the service, parsing the answer
    cpu_started: float = 0.0  # the thread's CPU time at before-call
    cpu_seconds: float = 0.0  # CPU time of this thread until after-call (in-process moto)
    extra: dict[str, Any] = field(default_factory=dict)  # for observers

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def error(self) -> str | None:
        return ((self.response or {}).get("Error") or {}).get("Code")


Observer = Callable[[str, Call], None]  # ("before" | "after", call)


class AwsMeter:
    """Records the AWS calls made while ``measure()`` is active, from botocore's events
    (``calls``: those of the current ``measure()`` block)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.recording = False
        self.observers: list[Observer] = []
        self._lock = threading.Lock()

    def install(self) -> AwsMeter:
        """Register in botocore's built-in handlers: every session created from now on,
        PynamoDB's included, emits to us. Must run before the app (or boto3) makes one."""
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS.append(("before-call.*.*", self._before))
        botocore.handlers.BUILTIN_HANDLERS.append(("after-call.*.*", self._after))
        return self

    def _before(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if not self.recording:
            return None  # returning a value would short-circuit the call
        body = params.get("body") or b"{}"
        try:
            request = json.loads(body) if body else {}
        except (TypeError, ValueError):
            request = {}  # query-protocol services: only the count matters
        call = Call(model.service_model.service_name, model.name, request)
        call.started = time.perf_counter()
        call.cpu_started = time.thread_time()
        context["bench_call"] = call
        with self._lock:
            self.calls.append(call)
        for observe in self.observers:
            observe("before", call)
        return None

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.pop("bench_call", None)
        if call is None:
            return
        call.seconds = time.perf_counter() - call.started
        call.cpu_seconds = time.thread_time() - call.cpu_started
        call.response = parsed
        for observe in self.observers:
            observe("after", call)

    @contextmanager
    def measure(self) -> Iterator[list[Call]]:
        """The calls made inside the block (the list fills as they happen). Only the
        current block's calls are kept: a long run does not pile them up."""
        out: list[Call] = []
        self.calls = out
        self.recording = True
        try:
            yield out
        finally:
            self.recording = False
            self.calls = []


def breakdown(calls: list[Call]) -> str:
    """``dynamodb.GetItem x2, dynamodb.TransactWriteItems`` in call order of first use."""
    counts = Counter(c.name for c in calls)
    parts = [name + (f" x{n}" if n > 1 else "") for name, n in counts.items()]
    return ", ".join(parts) or "none"


# --- the app on in-process moto -----------------------------------------------------------


BENCH_SKUS = 60  # products the bench store sells: moto copies the table in each transaction


@contextmanager
def in_process_aws(stock: int = 1_000_000) -> Iterator[None]:
    """moto in process with every resource, the demo stores and catalogue, and ``stock``
    units of the first ``BENCH_SKUS`` active products at the bench store."""
    import boto3
    import moto

    with moto.mock_aws():
        from infra.resources import create_all

        create_all(boto3.Session(region_name="us-east-1"), PREFIX)
        seed_catalogue(stock)
        yield


def seed_catalogue(stock: int) -> None:
    import msgspec
    from chalicelib.catalogue import imports
    from chalicelib.catalogue.rules import parse_product, parse_store_item
    from chalicelib.stores import service as store_service
    from chalicelib.stores.schemas import StoreCreate

    from infra.local import demo_data

    for raw in demo_data.stores():
        store_service.create_store(msgspec.convert(raw, StoreCreate))
    products = [parse_product(raw, n) for n, raw in enumerate(demo_data.products(), start=2)]
    for i in range(0, len(products), 100):
        imports.apply_products(products[i : i + 100])  # type: ignore[arg-type]
    sold = set(sellable_skus())
    rows = [
        (n, parse_store_item(dict(raw, stock=stock, on_sale=True), n))
        for n, raw in enumerate(demo_data.store_items(), start=2)
        if raw["store_id"] == STORE and raw["sku"] in sold
    ]
    known: dict[str, bool] = {}
    for i in range(0, len(rows), 250):
        result = imports.apply_store_items(rows[i : i + 250], known)  # type: ignore[arg-type]
        assert not result.errors, result.errors[:3]


def sellable_skus() -> list[str]:
    """The products the bench store sells: the first ``BENCH_SKUS`` active products of
    the demo catalogue, taken evenly across it (every category)."""
    from infra.local import demo_data

    active = [p["sku"] for p in demo_data.products() if p.get("active", True) in (True, "true")]
    step = max(1, len(active) // BENCH_SKUS)
    return active[::step][:BENCH_SKUS]


class Api:
    """The Chalice app through ``chalice.test.Client``: JSON in, (status, JSON) out."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        r = self.send(method, path, body, token, headers, raw)
        data = r.body if isinstance(r.body, bytes) else r.body.encode()
        if r.headers.get("Content-Encoding") == "gzip":  # asked for by the caller's headers
            data = gzip.decompress(data)
        return r.status_code, (json.loads(data) if data else None)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Any:
        """The response as it leaves the API (chalice.test's HTTPResponse)."""
        h, data = self.request(body, token, headers, raw)
        return getattr(self.client.http, method.lower())(path, headers=h, body=data)

    @staticmethod
    def request(
        body: Any, token: str | None, headers: dict[str, str] | None, raw: bytes | None
    ) -> tuple[dict[str, str], str | bytes | None]:
        """A request's headers and body as a client sends them."""
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        return h, data


def has_route(app: Any, path: str, method: str) -> bool:
    return method in (app.routes.get(path) or {})


def token(subject: str, role: str, store_id: str | None = None) -> str:
    from chalicelib.auth import tokens

    return tokens.issue(subject, role, store_id, 24 * 3600)[0]


def relay_token(store_id: str) -> str:
    """An active relay of the store and its token, as head office issues them (a token
    without its relay record is refused as revoked)."""
    from chalicelib.auth import tokens
    from chalicelib.printing.relay_models import RelayModel

    relay_id = f"relay-{store_id}"
    RelayModel(
        relay_id,
        store_id=store_id,
        name="bench relay",
        status="active",
        token_id=f"tok-{relay_id}",
        created_at="2026-11-24T00:00:00Z",
        created_by="hq-admin",
    ).save()
    return tokens.issue(relay_id, "relay", store_id, 24 * 3600, token_id=f"tok-{relay_id}")[0]


class StepFailed(RuntimeError):
    """A request of the flow did not answer as the flow expects."""


@dataclass
class Flow:
    """The requests of one order's lifecycle, as the storefront, the payment provider,
    the print relay and the store's staff make them."""

    api: Api
    app: Any
    staff_token: str = field(default_factory=lambda: token(f"{STORE}-staff", "store_staff", STORE))
    relay_token: str = field(default_factory=lambda: relay_token(STORE))

    def _ok(self, what: str, status: int, body: Any, expected: tuple[int, ...] = (200,)) -> Any:
        if status not in expected:
            raise StepFailed(f"{what}: {status} {json.dumps(body, ensure_ascii=False)[:400]}")
        return body

    # customer
    @staticmethod
    def cart(skus: list[str]) -> dict[str, Any]:
        return {
            "store_id": STORE,
            "fulfilment": "delivery",
            "address": ADDRESS,
            "items": [{"sku": sku, "qty": 1 + i % 2} for i, sku in enumerate(skus)],
        }

    def quote(self, customer: str, cart: dict[str, Any]) -> Any:
        return self._ok("quote", *self.api.call("POST", "/orders/quote", cart, customer))

    def place(self, customer: str, cart: dict[str, Any], key: str | None = None) -> Any:
        status, body = self.api.call(
            "POST",
            "/orders",
            dict(cart, remark="放门口，谢谢"),
            customer,
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )
        return self._ok("place", status, body, (200, 201))

    def credit_stored_value(self, customer_id: str, principal_fen: int) -> Any:
        """Head office credits a member's stored value (an adjustment)."""
        hq = token("hq-admin", "hq_admin")
        body = {
            "principal_fen": principal_fen,
            "reason": "bench credit",
            "request_id": f"bench-{uuid.uuid4().hex[:16]}",
        }
        path = f"/admin/stored-value/members/{customer_id}/adjustments"
        return self._ok("credit", *self.api.call("POST", path, body, hq), (201,))

    def credit_points(self, customer_id: str, points: int) -> None:
        """The member earns points (the ledger's award, in process: the bench's customers
        are tokens, not registered members, so head office's adjustment route 404s)."""
        from chalicelib.kernel import clock
        from chalicelib.loyalty import points as ledger

        ledger.award(
            customer_id,
            points,
            ref=f"task:bench-{uuid.uuid4().hex[:12]}",
            kind="earn",
            reason="bench",
            occurred_at=clock.now_iso(),
        )

    def mall_reward(self, customer_id: str, sku: str) -> dict[str, Any]:
        """Head office lists a product reward (points + ¥5); the member earns points. The
        cart that redeems it."""
        from chalicelib.kernel import clock
        from chalicelib.loyalty import points

        hq = token("hq-admin", "hq_admin")
        body = {"kind": "product", "name": "bench reward", "sku": sku, "points": 100,
                "cash_fen": 500, "stock": 100, "per_member_limit": 10}  # fmt: skip
        reward = self._ok(
            "reward", *self.api.call("POST", "/admin/loyalty/mall/rewards", body, hq), (201,)
        )
        points.award(customer_id, 1000, ref="bench:seed", kind="earn", reason="bench",
                     occurred_at=clock.now_iso())  # fmt: skip
        return {"store_id": STORE, "fulfilment": "pickup",
                "items": [{"sku": sku, "qty": 1}], "reward_id": reward["reward_id"]}  # fmt: skip

    def claim_coupon(self, customer: str) -> str:
        """Head office makes a 满10减1 template; the customer claims one. Its id."""
        hq = token("hq-admin", "hq_admin")
        template = {
            "name": "满10减1",
            "kind": "amount_off",
            "threshold_fen": 1000,
            "amount_off_fen": 100,
            "days_after_claim": 7,
        }
        created = self._ok(
            "coupon template",
            *self.api.call("POST", "/admin/coupon-templates", template, hq),
            expected=(201,),
        )
        # a draft until approved: no budget means two head-office approvers
        approve = f"/admin/coupon-templates/{created['template_id']}/approve"
        for who in (hq, token("hq-second", "hq_admin")):
            self._ok("approve", *self.api.call("POST", approve, {}, who), expected=(200,))
        claim = {"template_id": created["template_id"], "request_id": uuid.uuid4().hex}
        coupon = self._ok(
            "claim", *self.api.call("POST", "/coupons/claim", claim, customer), expected=(201,)
        )
        return coupon["coupon_id"]

    def start_payment(self, customer: str, order_id: str) -> Any:
        return self._ok("pay", *self.api.call("POST", f"/orders/{order_id}/pay", {}, customer))

    def payment_notification(self, order: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        from chalicelib.orders.payment_providers import provider

        return provider("local").make_notification(order["order_id"], order["total_fen"])

    def notify(self, headers: dict[str, str], body: bytes) -> Any:
        status, ack = self.api.call(
            "POST", "/payments/notify/local", raw=body, headers=dict(headers)
        )
        return self._ok("payment notification", status, ack)

    # printing
    @property
    def has_printing(self) -> bool:
        return has_route(self.app, "/relay/print-jobs/{job_id}/ack", "POST")

    @staticmethod
    def stream_insert(job_id: str) -> list[dict[str, Any]]:
        """The print_jobs stream record of a new job, as Lambda passes it: its keys, the
        job as inserted (NEW_IMAGE) and when. Build it outside a measured step: the read
        stands for what the stream hands over."""
        import time

        from chalicelib.printing.models import PrintJobModel

        image = PrintJobModel.get(job_id, consistent_read=True).serialize()
        data = {
            "Keys": {"job_id": {"S": job_id}},
            "NewImage": image,
            "ApproximateCreationDateTime": time.time(),
        }
        return [{"eventName": "INSERT", "dynamodb": data}]

    def dispatch_print(self, records: list[dict[str, Any]]) -> Any:
        """What the print_jobs stream's Lambda does with the job's INSERT record."""
        from chalicelib.printing.dispatch import handle_stream_records

        return handle_stream_records(records)

    def relay_receive(self, sqs: Any, queue_url: str) -> dict[str, Any]:
        """The relay's receive (the message is there already, so no wait)."""
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=0)
        messages = got.get("Messages") or []
        if len(messages) != 1:
            raise StepFailed(f"relay: expected one print message, got {len(messages)}")
        return messages[0]

    def ack(self, job_id: str, *copies: str) -> Any:
        """The relay's acknowledgement of the copies it printed: one request per job."""
        body = {"copies": [{"copy": c} for c in copies]}
        return self._ok(
            "ack",
            *self.api.call("POST", f"/relay/print-jobs/{job_id}/ack", body, self.relay_token),
        )

    def confirm(self, customer: str, order_id: str) -> Any:
        return self._ok(
            "confirm", *self.api.call("POST", f"/orders/{order_id}/confirm", {}, customer)
        )

    # store
    @property
    def has_store_workflow(self) -> bool:
        return has_route(self.app, "/admin/orders/{order_id}/pick", "POST")

    def pick(self, order: dict[str, Any], short_units: int = 0) -> Any:
        """Pick every line in full, except ``short_units`` missing from the first line
        that has that many (a shortage: partial refund). Straight from paid: the picker
        works from the printed ticket, with no start-picking request."""
        lines, left = [], short_units
        for line in order["lines"]:
            missing = min(left, int(line["qty"]))
            left -= missing
            lines.append({"sku": line["sku"], "picked_qty": int(line["qty"]) - missing})
        return self._ok(
            "pick",
            *self.api.call(
                "POST",
                f"/admin/orders/{order['order_id']}/pick",
                {"lines": lines},
                self.staff_token,
            ),
        )

    def checkout(self, order_id: str) -> Any:
        """The POS checkout, handing the (delivery) order to the courier in the same
        request."""
        return self._ok(
            "checkout",
            *self.api.call(
                "POST",
                f"/admin/stores/{STORE}/checkout",
                {"order_code": order_id, "then": "dispatch"},
                self.staff_token,
            ),
        )

    def deliver(self, order_id: str) -> Any:
        return self._ok(
            "deliver",
            *self.api.call("POST", f"/admin/orders/{order_id}/deliver", {}, self.staff_token),
        )


def first_job_id(order_id: str) -> str:
    """The order's ticket (read directly: not one of the flow's requests)."""
    from chalicelib.orders.models import OrderModel
    from chalicelib.printing.print_jobs import first_job_id as first

    job_id = first(OrderModel.get(order_id, consistent_read=True))
    if job_id is None:
        raise StepFailed(f"order {order_id} has no print job")
    return job_id


def relay_queue_of(store_id: str) -> tuple[Any, str]:
    """An SQS client of the store's relay and its queue URL (looked up once, as a relay
    does at start-up)."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    try:
        from chalicelib.printing.print_queues import queue_name
    except ImportError:
        return sqs, ""
    return sqs, sqs.get_queue_url(QueueName=queue_name(store_id))["QueueUrl"]


# --- the bench ----------------------------------------------------------------------------


def main() -> int:
    prepare_environment()
    meter = AwsMeter().install()  # before anything creates a botocore session

    import moto  # noqa: F401  (patches botocore before the app's clients exist)

    with in_process_aws():
        from app import app
        from chalice.test import Client

        with Client(app) as client:
            flow = Flow(Api(client), app)
            customer = token("c-bench-0001", "customer")
            skus = sellable_skus()[:3]
            cart = Flow.cart(skus)
            rows: list[tuple[str, str, list[Call]]] = []  # (figure or step, request, calls)

            def step(name: str, request: str, fn: Callable[[], Any]) -> Any:
                with meter.measure() as calls:
                    out = fn()
                rows.append((name, request, calls))
                return out

            relay_sqs, relay_queue = relay_queue_of(STORE)

            # Warm-up order: first use of each client, queue URL lookups etc. (a warm
            # Lambda container has them cached).
            warm = flow.place(customer, cart)
            flow.notify(*flow.payment_notification(warm))
            if flow.has_printing:
                flow.dispatch_print(flow.stream_insert(first_job_id(warm["order_id"])))
                message = flow.relay_receive(relay_sqs, relay_queue)
                relay_sqs.delete_message(
                    QueueUrl=relay_queue, ReceiptHandle=message["ReceiptHandle"]
                )

            # Count the warm path deterministically: a warm container keeps the store's
            # active promotions 5 s and the auto-issue templates 30 s; on a loaded machine
            # the steps below can straddle those windows and add a Query to one count or
            # another. The cold reads are the warm-up's business.
            # The token authorizer is a function of its own on API Gateway (its answer
            # cached per token), so its account read is not a route's round trip: warm it.
            from chalicelib.auth import sessions
            from chalicelib.coupons import service as coupons
            from chalicelib.kernel import config
            from chalicelib.promotions import service as promotions

            promotions.ACTIVE_CACHE_S = coupons.AUTO_CACHE_S = float("inf")
            config.SESSION_CACHE_S = 10**9
            sessions.account_state("customer", "c-bench-0001")
            sessions.account_state("staff", f"{STORE}-staff")

            quoted = step("quote", "POST /orders/quote", lambda: flow.quote(customer, cart))
            # The storefront sends the coupons the quote applied (none here): choosing
            # for the customer would cost a Query of the wallet.
            cart = dict(cart, coupon_ids=quoted["applied_coupon_ids"])
            key = uuid.uuid4().hex
            order = step(
                "place_order_calls", "POST /orders", lambda: flow.place(customer, cart, key)
            )
            step("place_retry", "POST /orders (same key)", lambda: flow.place(customer, cart, key))
            oid = order["order_id"]
            step(
                "start_payment", "POST /orders/{id}/pay", lambda: flow.start_payment(customer, oid)
            )
            headers, body = flow.payment_notification(order)
            step(
                "pay_callback_calls",
                "POST /payments/notify/local",
                lambda: flow.notify(headers, body),
            )
            step(
                "pay_callback_duplicate",
                "POST /payments/notify/local (same notice)",
                lambda: flow.notify(headers, body),
            )
            if flow.has_printing:
                job_id = first_job_id(oid)
                record = flow.stream_insert(job_id)
                step(
                    "print_dispatch",
                    "print_jobs stream record -> handle_stream_records",
                    lambda: flow.dispatch_print(record),
                )
                message = step(
                    "relay_receive",
                    "relay: ReceiveMessage",
                    lambda: flow.relay_receive(relay_sqs, relay_queue),
                )
                step(
                    "relay_ack",
                    "POST /relay/print-jobs/{id}/ack picking+delivery",
                    lambda: flow.ack(job_id, "picking", "delivery"),
                )
                step(
                    "relay_delete",
                    "relay: DeleteMessage",
                    lambda: relay_sqs.delete_message(
                        QueueUrl=relay_queue, ReceiptHandle=message["ReceiptHandle"]
                    ),
                )
            if flow.has_store_workflow:
                step(
                    "pick_calls",
                    "POST /admin/orders/{id}/pick (from paid, 1 unit short)",
                    lambda: flow.pick(order, short_units=1),
                )
                step(
                    "checkout",
                    "POST /admin/stores/{s}/checkout (then dispatch)",
                    lambda: flow.checkout(oid),
                )
                step("deliver", "POST /admin/orders/{id}/deliver", lambda: flow.deliver(oid))
                step("confirm", "POST /orders/{id}/confirm", lambda: flow.confirm(customer, oid))
            if has_route(app, "/coupons/claim", "POST"):
                coupon_id = flow.claim_coupon(customer)
                with_coupon = dict(cart, coupon_ids=[coupon_id])
                step(
                    "quote_with_coupon",
                    "POST /orders/quote (coupon_ids)",
                    lambda: flow.quote(customer, with_coupon),
                )
                step(
                    "place_order_with_coupon_calls",
                    "POST /orders (coupon_ids)",
                    lambda: flow.place(customer, with_coupon),
                )
            if has_route(app, "/members/me/stored-value/top-ups", "POST"):
                # Head office credits the member (not counted); the order pays part of its
                # total with balance: the account is read in the placing BatchGetItem and
                # taken in its transaction.
                flow.credit_stored_value("c-bench-0001", 100_000)
                with_balance = dict(cart, stored_value_fen=500)
                step(
                    "place_order_with_balance_calls",
                    "POST /orders (stored_value_fen)",
                    lambda: flow.place(customer, with_balance),
                )
                if has_route(app, "/members/me/points", "GET"):
                    # Points as cash too: the points account and the points rules come in
                    # the same BatchGetItem, the lock in the same TransactWriteItems.
                    flow.credit_points("c-bench-0001", 10_000)
                    with_points = dict(with_balance, points_to_use=300)
                    step(
                        "place_order_with_points_and_balance_calls",
                        "POST /orders (points_to_use, stored_value_fen)",
                        lambda: flow.place(customer, with_points),
                    )
            if has_route(app, "/admin/loyalty/mall/rewards", "POST"):
                # Head office lists a product reward and the member has points (not
                # counted); the reward, the member's count of it and their points are read
                # in the placing BatchGetItem, taken and locked in its transaction.
                reward_cart = flow.mall_reward("c-bench-0001", skus[0])
                step(
                    "place_reward_order_calls",
                    "POST /orders (reward_id)",
                    lambda: flow.place(customer, reward_cart),
                )

    print("# in-process moto; the app through chalice.test.Client; one warm-up order first")
    print(f"# store {STORE}, {len(skus)} lines per order, delivery")
    figures = (
        "place_order_calls",
        "place_order_with_coupon_calls",
        "place_order_with_balance_calls",
        "place_order_with_points_and_balance_calls",
        "place_reward_order_calls",
        "pay_callback_calls",
        "pick_calls",
    )
    by_name = {name: (request, calls) for name, request, calls in rows}
    print("# other steps (calls: breakdown):")
    for name, request, calls in rows:
        if name not in figures:
            print(f"#   {name} ({request}): {len(calls)}: {breakdown(calls)}")
    for name in figures:
        if name in by_name:
            request, calls = by_name[name]
            print(f"{name}: {len(calls)}")
            print(f"# {name} ({request}): {breakdown(calls)}")
        else:
            print(f"{name}: n/a")
            print("# the store workflow's pick route does not exist yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
