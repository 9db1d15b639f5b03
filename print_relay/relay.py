"""The relay runtime: the store's queue in, tickets out, acknowledgements back.

Five threads share one :class:`~print_relay.ledger.Ledger`:

receive
    Long-polls the store's FIFO queue with credentials from ``POST /relay/credentials``.
    Each message is checked (JSON, ``schema_version``, renders) and stored in the ledger
    before anything else happens. A redelivered job (same ``job_id``) is never printed again.
    A message that cannot be printed is released at once, reported at its last receive
    (``/failure`` or the heartbeat's ``errors``) and left to SQS's dead-letter queue.
visibility
    Keeps every held message invisible (``ChangeMessageVisibility``) until its job is
    printed and acknowledged, up to SQS's 12 h limit, so no other consumer gets it.
print
    Prints copies in ledger order, paced, per printer with backoff (1 s … 30 s) while a
    printer is away, with a 延迟 banner when a ticket is late. An unclear send (the printer
    dropped the connection mid-ticket) is printed again marked 补打.
ack
    Acknowledges printed copies, one request per job (a copy waits ``ack_wait_s`` for the
    rest of its job, then goes alone), retried from the ledger until accepted; sends failure
    reports, deletes the messages of finished jobs, prunes old rows.
heartbeat
    Polls printer status and reports it with ledger figures and recent errors every
    ``heartbeat_interval_s``, and at once when a printer's state changes.

Nothing here imports the API's code: the relay knows the message schema and HTTP routes only.
"""

from __future__ import annotations

import json
import logging
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from print_relay import __version__, tickets
from print_relay.api_client import ApiClient, ApiError
from print_relay.config import RelayConfig
from print_relay.ledger import CopyRow, Ledger
from print_relay.printers import Printer, PrinterState, PrinterStatus

__all__ = ["BadMessage", "Relay", "SqsAccess", "check_message", "late_minutes"]

log = logging.getLogger("print_relay")

MAX_VISIBILITY_S = 43200  # SQS: a receipt handle cannot stay invisible longer than 12 h
_SQS_AUTH_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSecurityToken",
        "SignatureDoesNotMatch",
        "RequestExpired",
        "AccessDenied",
        "AccessDeniedException",
    }
)
_HANDLE_GONE = frozenset(
    {
        "ReceiptHandleIsInvalid",
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "InvalidParameterValue",
    }
)
_MAX_ERRORS = 50
# Tickets in a row a printer took whole without answering the status query after them
# before it is set aside as a printer that never answers (see Relay._count_unanswered).
NO_STATUS_AFTER = 3


def iso(t: float) -> str:
    """UTC ISO-8601 with a Z, to the second."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _sqs_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


# ------------------------------------------------------------------------------ messages


class BadMessage(Exception):
    """A message the relay must not print. ``reason`` is the /failure reason."""

    def __init__(self, reason: str, message: str, job_id: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.job_id = reason, message, job_id


def check_message(body: str, *, store_id: str, paper_widths: set[int]) -> dict[str, Any]:
    """The parsed job if it is one this relay can print, else :class:`BadMessage`.

    A ``schema_version`` other than ``"1"`` is not printed (docs/schemas/README.md): the
    message goes to the dead-letter queue and shows as a missed print."""
    try:
        job = json.loads(body)
    except ValueError:
        raise BadMessage("bad_message", "message body is not JSON") from None
    if not isinstance(job, dict):
        raise BadMessage("bad_message", "message body is not a JSON object")
    job_id = job.get("job_id")
    if not isinstance(job_id, str) or not job_id.strip():
        raise BadMessage("bad_message", "message has no job_id")
    version = job.get("schema_version")
    if version != "1":
        raise BadMessage(
            "bad_message",
            f"schema_version {version!r} is not one this relay reads (it reads '1'): "
            f"upgrade the relay (this is relay {__version__})",
            job_id,
        )
    copies = job.get("copies")
    if not isinstance(copies, list) or not copies or any(c not in tickets.COPIES for c in copies):
        raise BadMessage(
            "bad_message", f"copies must list {tickets.COPIES}, got {copies!r}", job_id
        )
    if job.get("store_id") != store_id:
        raise BadMessage(
            "bad_message",
            f"job for store {job.get('store_id')!r} on the queue of store {store_id!r}",
            job_id,
        )
    for copy in dict.fromkeys(copies):
        for width in sorted(paper_widths):
            try:
                tickets.render(job, copy, width)
            except Exception as exc:  # any template/data problem: the job cannot print
                raise BadMessage(
                    "render_failed", f"{copy} copy ({width} mm): {exc!r}"[:500], job_id
                ) from None
    return job


def late_minutes(message: dict[str, Any], now: float, late_after_s: int) -> int:
    """Minutes to print in the 延迟 banner (0: on time). Orders count from payment (or
    creation), cancellation and amendment slips from that change; reprints and test slips
    are never late.
    ``late_after_s = 0`` turns the banner off."""
    kind = message.get("kind")
    if kind in ("reprint", "test") or late_after_s <= 0:
        return 0
    ref = None
    if kind in ("cancellation", "amendment"):
        ref = parse_time((message.get(kind) or {}).get("at"))
    ref = ref or parse_time(message.get("paid_at")) or parse_time(message.get("created_at"))
    if ref is None:
        return 0
    delay = now - ref
    if delay <= late_after_s:
        return 0
    return max(1, int(delay // 60))


# ------------------------------------------------------------------------------ helpers


class Backoff:
    """Exponential backoff with a little jitter: lo, 2 lo, 4 lo … hi."""

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi
        self.failures = 0
        self.until = 0.0  # time.monotonic()

    def delay(self, failures: int | None = None) -> float:
        n = self.failures if failures is None else failures
        return min(self.hi, self.lo * 2 ** min(n, 30)) * random.uniform(0.85, 1.0)

    def fail(self, *, at_most: bool = False) -> float:
        """Record a failure; returns the wait. ``at_most``: wait the longest at once."""
        wait = self.hi if at_most else self.delay()
        self.failures += 1
        self.until = time.monotonic() + wait
        return wait

    def ok(self) -> None:
        self.failures = 0
        self.until = 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.until

    def remaining(self) -> float:
        return max(0.0, self.until - time.monotonic())


@dataclass
class PrinterHealth:
    state: PrinterState = PrinterState.UNKNOWN
    detail: str = ""
    check_before_send: bool = False  # the printer said it cannot print: ask before sending


def describe(status: PrinterStatus) -> str:
    """A short human detail for a printer status."""
    d = status.details
    if d.get("reason"):
        return str(d["reason"])[:200]
    flags = [k for k in ("cover_open", "paper_end_stop", "error", "paper_near_end") if d.get(k)]
    return ", ".join(flags)


class SqsAccess:
    """A boto3 SQS client on the short-lived credentials ``POST /relay/credentials`` hands
    out, renewed a few minutes before they expire or when SQS refuses them."""

    def __init__(
        self,
        api: ApiClient,
        *,
        queue_url: str | None = None,
        read_timeout: float = 30.0,
        margin_s: float = 300.0,
    ) -> None:
        self.api = api
        self.queue_url_override = queue_url
        self.read_timeout = read_timeout
        self.margin_s = margin_s
        self._lock = threading.Lock()
        self._client: Any = None
        self._queue_url = ""
        self._refresh_at = 0.0
        self._expires_at = 0.0
        self._retry_at = 0.0
        self.last_credentials: dict[str, Any] = {}

    def get(self) -> tuple[Any, str]:
        """``(client, queue_url)``; raises :class:`ApiError` when no credentials can be had."""
        with self._lock:
            now = time.time()
            usable = self._client is not None and now < self._expires_at - 30
            if usable and (now < self._refresh_at or now < self._retry_at):
                return self._client, self._queue_url
            try:
                creds = self.api.credentials()
                self._install(creds)
            except ApiError as exc:
                if usable:  # keep using the current ones; try again in a little while
                    self._retry_at = now + 30
                    log.warning("could not renew SQS credentials (still valid): %s", exc)
                    return self._client, self._queue_url
                raise
            return self._client, self._queue_url

    def invalidate(self) -> None:
        with self._lock:
            self._client = None

    def _install(self, creds: dict[str, Any]) -> None:
        missing = [
            k
            for k in ("access_key_id", "secret_access_key", "session_token", "expires_at")
            if not creds.get(k)
        ]
        queue_url = self.queue_url_override or creds.get("queue_url")
        if not queue_url:
            missing.append("queue_url")
        expires = parse_time(creds.get("expires_at"))
        if missing or expires is None or not queue_url:
            raise ApiError(f"credentials response lacks {missing or 'a valid expires_at'}")
        import boto3  # only when the relay runs: keeps `daojia-relay selftest` quick
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"],
            aws_session_token=creds["session_token"],
            region_name=creds.get("region") or None,
        )
        self._client = session.client(
            "sqs",
            endpoint_url=creds.get("sqs_endpoint_url") or None,  # None: AWS's regional endpoint
            config=Config(
                connect_timeout=5,
                read_timeout=self.read_timeout,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=8,
            ),
        )
        now = time.time()
        self._queue_url = queue_url
        self._expires_at = expires
        self._refresh_at = expires - min(self.margin_s, max(0.0, (expires - now) / 2))
        self._retry_at = 0.0
        self.last_credentials = {k: v for k, v in creds.items() if "secret" not in k}
        self.last_credentials.pop("session_token", None)
        log.info("SQS credentials for %s valid until %s", queue_url, creds.get("expires_at"))


# ------------------------------------------------------------------------------ the relay


class Relay:
    """One store's relay. ``start()`` / ``stop()`` for embedding (tests, the local stack),
    ``run()`` for the command line (until SIGTERM / SIGINT).

    ``clock`` is the wall clock used for 延迟 banners (tests move it); ``api`` and
    ``printers`` replace the ones the config describes.
    """

    def __init__(
        self,
        config: RelayConfig,
        *,
        api: ApiClient | None = None,
        printers: dict[str, Printer] | None = None,
        clock: Callable[[], float] = time.time,
        hostname: str | None = None,
    ) -> None:
        self.config = config
        self.api = api or ApiClient(config.api_url, config.read_token, timeout=config.api_timeout_s)
        self.printers: dict[str, Printer] = printers or {p.name: p.build() for p in config.printers}
        self.clock = clock
        self.hostname = hostname or socket.gethostname()
        self.sqs = SqsAccess(
            self.api,
            queue_url=config.queue.queue_url,
            read_timeout=config.queue.wait_time_s + 15,
        )
        self.ledger: Ledger | None = None
        lo, hi = config.retry_min_s, config.retry_max_s
        self.health = {name: PrinterHealth() for name in self.printers}
        self._printer_backoff = {name: Backoff(lo, hi) for name in self.printers}
        self._printer_locks = {name: threading.Lock() for name in self.printers}
        self._api_backoff = Backoff(lo, hi)
        self._sqs_backoff = Backoff(lo, hi)
        self._receive_backoff = Backoff(lo, hi)
        self._stop = threading.Event()
        self._print_wake = threading.Event()
        self._ack_wake = threading.Event()
        self._ack_copy_by_copy = False  # set when the API refuses one ack per job (older API)
        self._beat_wake = threading.Event()
        self._released = threading.Event()  # held messages were deleted (or let go)
        self._polling = threading.Event()  # a ReceiveMessage call is open
        self._errors: list[tuple[int, dict[str, Any]]] = []
        self._error_seq = 0
        self._error_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._last_auth_log = 0.0
        self._next_prune = 0.0
        self.started_at = time.time()
        self.heartbeat_interval_s = config.heartbeat_interval_s
        self.last_heartbeat: dict[str, Any] | None = None
        self._next_status = 0.0  # time.monotonic() of the next printer status poll
        self._next_beat = 0.0
        self._last_ticket: dict[str, float] = {}  # time.monotonic() of each printer's last send
        self._unanswered = dict.fromkeys(self.printers, 0)  # sends in a row without an answer
        self.no_status: set[str] = set()  # printers that never answer a status query
        self.paper_widths = {p.paper_mm for p in self.printers.values()}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Relay:
        """Open the ledger, recover from a crash, start the threads."""
        self.ledger = Ledger(self.config.ledger)
        for job_id, copy in self.ledger.recover():
            log.warning(
                "job %s %s copy was being printed when the relay stopped: printing it again "
                "marked 补打",
                job_id,
                copy,
            )
        self.started_at = time.time()
        loops = {
            "receive": self._receive_step,
            "visibility": self._visibility_step,
            "print": self._print_step,
            "ack": self._ack_step,
            "heartbeat": self._heartbeat_step,
        }
        for name, step in loops.items():
            thread = threading.Thread(
                target=self._loop, args=(name, step), name=f"relay-{name}", daemon=True
            )
            self._threads.append(thread)
            thread.start()
        log.info(
            "relay %s for store %s started: printers %s, ledger %s",
            __version__,
            self.config.store_id,
            ", ".join(f"{n} ({p.paper_mm} mm)" for n, p in self.printers.items()),
            self.config.ledger,
        )
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the ticket being printed, leaving nothing held on the queue.

        SQS cannot cancel a long poll: one still open when the process exits takes the
        store's next message, which then stays invisible for the visibility timeout and, the
        queue being FIFO, holds back every later ticket of the store (a restart silenced a
        store for 60 s). So the poll in progress is waited for (at most ``wait_time_s``) and
        whatever it returns is handed back at once (``_release``); then every message held
        for a job not yet finished is handed back too (``_hand_back``), so a restarted relay,
        or any other, gets it without waiting."""
        self._stop.set()
        for event in (self._print_wake, self._ack_wake, self._beat_wake, self._released):
            event.set()
        deadline = time.monotonic() + timeout
        poll_deadline = time.monotonic() + self.config.queue.wait_time_s + 5
        for thread in self._threads:
            if thread.name == "relay-receive":
                if self._polling.is_set():
                    log.info(
                        "waiting for the queue's long poll to end (at most %d s)",
                        self.config.queue.wait_time_s,
                    )
                thread.join(max(0.0, max(deadline, poll_deadline) - time.monotonic()))
            else:
                thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if self.ledger is not None:
            try:
                self._hand_back()
            except Exception:  # stopping anyway: the messages come back after their timeout
                log.exception("could not hand held messages back to the queue")
            if not alive:
                self.ledger.close()
        log.info("relay stopped" + (f" ({', '.join(alive)} still finishing)" if alive else ""))

    def _hand_back(self) -> None:
        """Stopping: delete the messages of finished jobs and make every other held message
        visible again at once (ChangeMessageVisibility 0). The ledger keeps the jobs, so a
        relay restarted on it prints them in order and never twice; the queue hands their
        messages out again and they are matched to their jobs by ``job_id``."""
        assert self.ledger is not None
        self._sqs_backoff.ok()
        self._delete_finished()
        held = self.ledger.held_messages()
        if not held:
            return
        try:
            client, url = self.sqs.get()
        except ApiError as exc:
            self._api_problem("handing held messages back to the queue", exc)
            return
        for i in range(0, len(held), 10):
            batch = {str(n): m for n, m in enumerate(held[i : i + 10])}
            entries = [
                {"Id": k, "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for k, m in batch.items()
            ]
            try:
                response = client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
            except Exception as exc:
                log.warning("handing held messages back to the queue failed: %s", exc)
                return
            for ok in response.get("Successful", []):
                self.ledger.set_message_state(batch[ok["Id"]].message_id, "released")
            for failed in response.get("Failed", []):
                m = batch[failed["Id"]]
                if failed.get("Code") in _HANDLE_GONE:
                    self.ledger.set_message_state(m.message_id, "lost")
                else:
                    log.warning("handing message %s back failed: %s", m.message_id, failed)
        log.info("handed %d held message(s) back to the queue", len(held))

    def run(self) -> int:
        """Run until SIGTERM or SIGINT; returns the exit code."""

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("signal %s: stopping", signal.Signals(signum).name)
            self._stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.start()
        while not self._stop.wait(1.0):
            pass
        self.stop()
        return 0

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _loop(self, name: str, step: Callable[[], None]) -> None:
        """Run ``step`` until stopped; an unexpected error is logged and reported, never
        fatal (a relay that dies silently is the worst outcome in a store)."""
        while not self._stop.is_set():
            try:
                step()
            except Exception as exc:
                if self._stop.is_set():
                    return  # e.g. the ledger closed under a thread that was finishing
                log.exception("%s: unexpected error", name)
                self.record_error(None, f"{name}: {exc!r}")
                self._stop.wait(1.0)

    def record_error(self, job_id: str | None, message: str) -> None:
        """Remember an error for the next heartbeat."""
        with self._error_lock:
            self._error_seq += 1
            entry = {"job_id": job_id[:100] if job_id else None, "message": message[:500]}
            self._errors.append((self._error_seq, entry))
            del self._errors[:-_MAX_ERRORS]

    def _api_problem(self, what: str, exc: ApiError) -> None:
        if exc.auth:
            now = time.monotonic()
            if now - self._last_auth_log > 60 or not self._last_auth_log:
                self._last_auth_log = now
                log.error(
                    "!!! %s: RELAY TOKEN REFUSED — nothing can print until fixed: %s", what, exc
                )
        else:
            log.warning("%s: %s", what, exc)

    # ------------------------------------------------------------------ receive

    def _receive_step(self) -> None:
        assert self.ledger is not None
        if not self._receive_backoff.ready():
            self._stop.wait(self._receive_backoff.remaining())
            return
        # FIFO, one message group per store: while we hold messages SQS hands out no other
        # message of the group, so polling is pointless (and costs requests). Wait until
        # they are deleted; poll now and then anyway, for a held message that lapsed.
        deadline = time.monotonic() + 3 * max(self.config.queue.wait_time_s, 1)
        while self.ledger.held_message_count() and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._released.wait(remaining)
            self._released.clear()
        if self._stop.is_set():
            return
        try:
            client, url = self.sqs.get()
        except ApiError as exc:
            self._api_problem("getting SQS credentials", exc)
            self._receive_backoff.fail(at_most=exc.auth)
            return
        q = self.config.queue
        if self._stop.is_set():
            return
        self._polling.set()
        try:
            response = client.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=q.wait_time_s,
                VisibilityTimeout=q.visibility_timeout_s,
                AttributeNames=["ApproximateReceiveCount"],
            )
        except Exception as exc:  # botocore: ClientError, connection and read errors
            code = _sqs_code(exc)
            if code in _SQS_AUTH_CODES:
                self.sqs.invalidate()
            log.warning("receiving from the queue failed: %s", exc)
            self._receive_backoff.fail()
            return
        finally:
            self._polling.clear()
        self._receive_backoff.ok()
        for message in response.get("Messages", []):
            if self._stop.is_set():
                self._release(client, url, message)
            else:
                self._accept(client, url, message)

    def _release(self, client: Any, url: str, m: dict[str, Any]) -> None:
        """Stopping: hand a message just received back to the queue at once, so a restarted
        relay gets it without waiting out the visibility timeout."""
        try:
            client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
        except Exception as exc:
            log.info("could not release message %s while stopping: %s", m.get("MessageId"), exc)

    def _accept(self, client: Any, url: str, m: dict[str, Any]) -> None:
        assert self.ledger is not None
        now = time.time()
        q = self.config.queue
        count = int((m.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
        try:
            job = check_message(
                m.get("Body", ""), store_id=self.config.store_id, paper_widths=self.paper_widths
            )
        except BadMessage as bad:
            self._bad_message(client, url, m, bad, count)
            return
        result = self.ledger.add_message(
            message_id=m["MessageId"],
            receipt_handle=m["ReceiptHandle"],
            receive_count=count,
            received_at=now,
            visible_until=now + q.visibility_timeout_s,
            job=job,
        )
        job_id, attempt = job["job_id"], job.get("attempt")
        if result == "new":
            log.info(
                "job %s received (今日第 %s 单, attempt %s)", job_id, job.get("daily_seq"), attempt
            )
            self._print_wake.set()
        elif result == "finished":
            log.info("job %s: its message, handed back on a stop, came back: deleted", job_id)
            self._ack_wake.set()
        elif result == "open":
            log.info(
                "job %s received again (attempt %s) before it printed: kept once", job_id, attempt
            )
        else:
            log.info(
                "job %s received again (attempt %s) after it printed: acknowledged again, "
                "not printed again",
                job_id,
                attempt,
            )
            self._ack_wake.set()

    def _bad_message(
        self, client: Any, url: str, m: dict[str, Any], bad: BadMessage, count: int
    ) -> None:
        assert self.ledger is not None
        q = self.config.queue
        mid = m.get("MessageId")
        log.error(
            "message %s (job %s) cannot be printed, receive %d of %d: %s",
            mid,
            bad.job_id,
            count,
            q.max_receives,
            bad.message,
        )
        if count >= q.max_receives:
            if bad.job_id:
                body = {"reason": bad.reason, "message": bad.message, "receive_count": count}
                if self.ledger.add_failure(bad.job_id, body, time.time()):
                    self._ack_wake.set()
            else:
                self.record_error(
                    None,
                    f"message {mid}: {bad.message}; after {count} receives it goes to the "
                    "dead-letter queue",
                )
        try:
            if count > q.max_receives:
                # SQS did not move it to a dead-letter queue (no redrive policy): do not let
                # it block the store's queue for ever.
                client.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                log.error("message %s deleted after %d receives (the queue has no DLQ)", mid, count)
            else:  # let it come back soon, so it reaches the DLQ without blocking the queue
                client.change_message_visibility(
                    QueueUrl=url,
                    ReceiptHandle=m["ReceiptHandle"],
                    VisibilityTimeout=q.bad_message_retry_s,
                )
        except Exception as exc:
            log.warning("could not release message %s: %s", mid, exc)

    # ------------------------------------------------------------------ visibility

    def _visibility_step(self) -> None:
        assert self.ledger is not None
        vis = self.config.queue.visibility_timeout_s
        now = time.time()
        due = self.ledger.messages_to_extend(now + vis * 2 / 3)
        if due and self._sqs_backoff.ready():
            try:
                client, url = self.sqs.get()
            except ApiError as exc:
                self._api_problem("getting SQS credentials", exc)
                self._sqs_backoff.fail(at_most=exc.auth)
            else:
                for i in range(0, len(due), 10):
                    self._extend(client, url, due[i : i + 10], vis, now)
        self._stop.wait(min(1.0, vis / 6))

    def _extend(self, client: Any, url: str, batch: list[Any], vis: int, now: float) -> None:
        assert self.ledger is not None
        entries, by_id = [], {}
        for i, m in enumerate(batch):
            timeout = int(min(vis, MAX_VISIBILITY_S - (now - m.received_at) - 30))
            if timeout < 1:
                # 12 h reached: SQS will hand it out again with a new receipt handle, which
                # the receive thread attaches to its job again.
                log.warning("message %s reached SQS's 12 h limit; it will come back", m.message_id)
                self._let_go(m.message_id, "lost")
                continue
            entries.append(
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout}
            )
            by_id[str(i)] = (m, timeout)
        if not entries:
            return
        try:
            response = client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
        except Exception as exc:
            if _sqs_code(exc) in _SQS_AUTH_CODES:
                self.sqs.invalidate()
            log.warning("extending message visibility failed: %s", exc)
            self._sqs_backoff.fail()
            return
        self._sqs_backoff.ok()
        for ok in response.get("Successful", []):
            m, timeout = by_id[ok["Id"]]
            self.ledger.set_visible_until(m.message_id, now + timeout)
        for failed in response.get("Failed", []):
            m, _ = by_id[failed["Id"]]
            if failed.get("Code") in _HANDLE_GONE:
                log.info(
                    "message %s: receipt handle no longer valid; it will come back", m.message_id
                )
                self._let_go(m.message_id, "lost")
            else:
                log.warning("extending message %s failed: %s", m.message_id, failed)

    def _let_go(self, message_id: str, state: str) -> None:
        """A held message is ``deleted`` or ``lost`` (handle no longer valid)."""
        assert self.ledger is not None
        self.ledger.set_message_state(message_id, state)
        self._released.set()

    # ------------------------------------------------------------------ print

    def _print_step(self) -> None:
        assert self.ledger is not None
        progressed = False
        blocked: set[str] = set()
        for c in self.ledger.printable():
            if self._stop.is_set():
                return
            route = self.config.copies.get(c.copy, next(iter(self.printers)))
            if route in blocked:
                continue  # an earlier ticket for this printer is waiting: keep the order
            outcome = self.print_copy(c)
            if outcome == "printed":
                progressed = True
            elif outcome != "rejected":
                blocked.add(route)
        if progressed:
            return
        waits = [b.remaining() for b in self._printer_backoff.values() if not b.ready()]
        wait = min([1.0, *[w for w in waits if w > 0]])
        self._print_wake.wait(max(wait, 0.01))
        self._print_wake.clear()

    def _candidates(self, copy: str) -> list[str]:
        primary = self.config.copies.get(copy) or next(iter(self.printers))
        if not self.config.failover:
            return [primary]
        return [primary, *[n for n in self.printers if n != primary]]

    def _status(self, name: str) -> PrinterStatus:
        with self._printer_locks[name]:
            status = self.printers[name].status()
        self._set_status(name, status)
        return status

    def _count_unanswered(self, name: str, result: Any) -> None:
        """A printer that takes every ticket but never answers the status query sent after
        it (``ack = "status"`` on a printer without real-time status) would get a 补打 copy
        of each ticket every ``write_timeout`` for ever. After ``NO_STATUS_AFTER`` such
        tickets in a row it is set aside (no more paper wasted; copies wait, or fail over)
        and head office is told to switch it to ``ack = "close"``; it is used again as soon
        as it answers a status query."""
        if result.printed:
            self._unanswered[name] = 0
        if not result.details.get("status_unanswered"):
            return
        self._unanswered[name] += 1
        if self._unanswered[name] < NO_STATUS_AFTER or name in self.no_status:
            return
        self.no_status.add(name)
        log.error(
            "!!! printer %s takes tickets but never answers the status query: it is no longer "
            'used. If its tickets do come out, set ack = "close" for it in %s and restart the '
            "relay",
            name,
            self.config.source,
        )
        self.record_error(
            None,
            f"printer {name} takes tickets but never answers the status query (DLE EOT) "
            'after them: set ack = "close" for it in the relay config',
        )
        self._beat_wake.set()

    def _set_status(self, name: str, status: PrinterStatus) -> None:
        """Record a status query's answer. When the printer itself says it cannot print
        (paper out, cover open), ask again before sending it the next ticket."""
        answered = any(k.startswith("dle_eot_") for k in status.details)
        if answered:
            self._unanswered[name] = 0
            if name in self.no_status:
                self.no_status.discard(name)
                log.warning("printer %s answers status queries again: printing on it again", name)
                self._beat_wake.set()
                self._print_wake.set()
        self.health[name].check_before_send = answered and status.state in (
            PrinterState.OFFLINE,
            PrinterState.PAPER_OUT,
        )
        self._set_health(name, status.state, describe(status))

    def print_copy(self, c: CopyRow) -> str:
        """Print one copy: ``printed``, ``unclear`` (will be printed again marked 补打),
        ``failed`` (nothing printed; retried), ``blocked`` (every printer for it is in
        backoff) or ``rejected`` (cannot be rendered)."""
        assert self.ledger is not None
        ready = [
            n
            for n in self._candidates(c.copy)
            if self._printer_backoff[n].ready() and n not in self.no_status
        ]
        if not ready:
            return "blocked"
        message = c.message
        late = late_minutes(message, self.clock(), self.config.late_after_s)
        marked = False
        failures: list[str] = []
        for name in ready:
            printer = self.printers[name]
            backoff = self._printer_backoff[name]
            if self.health[name].check_before_send:
                status = self._status(name)
                if status.state in (PrinterState.OFFLINE, PrinterState.PAPER_OUT):
                    backoff.fail()
                    failures.append(f"{name}: {status.state.value} {describe(status)}".strip())
                    continue
            try:
                # The ledger holds the copies of messages checked on receipt: a Copy.
                which = cast(tickets.Copy, c.copy)
                data = tickets.render(message, which, printer.paper_mm, late, reprint=c.reprint)
            except Exception as exc:  # checked on receipt, so this is a relay bug
                return self._reject_unrenderable(c, exc)
            if not self._pace(name):
                failures.append("the relay is stopping")
                break
            if not marked:
                self.ledger.mark_printing(c.job_id, c.copy)  # committed before any byte
                marked = True
            with self._printer_locks[name]:
                result = printer.send(data)
                self._last_ticket[name] = time.monotonic()
            self._count_unanswered(name, result)
            if result.printed:
                said = result.details.get("printer_state")
                if said in (PrinterState.OFFLINE.value, PrinterState.PAPER_OUT.value):
                    # The printer took the bytes but says it cannot print (paper out, cover
                    # open): the ticket may never come out, so print it again marked 补打.
                    status = self._status(name)
                    self.health[name].check_before_send = True
                    backoff.fail()
                    self.ledger.mark_not_printed(
                        c.job_id, c.copy, unclear=True, error=f"{name} reported {said}"
                    )
                    self.record_error(
                        c.job_id,
                        f"{c.copy} copy sent to {name} but the printer reports "
                        f"{status.state.value}: it will print again marked 补打",
                    )
                    return "unclear"
                self.ledger.mark_printed(
                    c.job_id, c.copy, printer=name, as_reprint=c.reprint, at=time.time()
                )
                backoff.ok()
                self._set_health(name, PrinterState.ONLINE, "")
                self._ack_wake.set()
                log.info(
                    "printed job %s %s copy on %s%s%s",
                    c.job_id,
                    c.copy,
                    name,
                    " marked 补打" if c.reprint else "",
                    f" (延迟 {late} 分钟)" if late else "",
                )
                return "printed"
            if result.unclear:
                backoff.fail()
                self.ledger.mark_not_printed(
                    c.job_id, c.copy, unclear=True, error=f"{name}: {result.reason}"
                )
                log.warning(
                    "job %s %s copy on %s: outcome unclear (%s); printing it again marked 补打",
                    c.job_id,
                    c.copy,
                    name,
                    result.reason,
                )
                self.record_error(
                    c.job_id,
                    f"{c.copy} copy may be partly printed on {name} ({result.reason}); "
                    "printing it again marked 补打",
                )
                return "unclear"
            wait = backoff.fail()
            self._set_health(name, PrinterState.OFFLINE, result.reason)
            failures.append(f"{name}: {result.reason}")
            log.warning(
                "printer %s: %s; job %s %s copy waits (next try in %.1f s)",
                name,
                result.reason,
                c.job_id,
                c.copy,
                wait,
            )
        if marked:
            self.ledger.mark_not_printed(c.job_id, c.copy, unclear=False, error="; ".join(failures))
        return "failed"

    def _pace(self, name: str) -> bool:
        """Wait until ``print_gap_s`` has passed since the printer's last ticket, whichever
        pass or job that was (a draining backlog spans many passes). False: stopping."""
        gap = self.config.print_gap_s
        last = self._last_ticket.get(name)
        if gap <= 0 or last is None:
            return not self._stop.is_set()
        wait = last + gap - time.monotonic()
        if wait > 0:
            return not self._stop.wait(wait)
        return not self._stop.is_set()

    def _reject_unrenderable(self, c: CopyRow, exc: Exception) -> str:
        assert self.ledger is not None
        log.error("job %s %s copy cannot be rendered: %r", c.job_id, c.copy, exc)
        self.ledger.mark_rejected(c.job_id, c.copy, f"render failed: {exc!r}")
        self.ledger.add_failure(
            c.job_id,
            {"reason": "render_failed", "message": f"{c.copy}: {exc!r}"[:500], "receive_count": 0},
            time.time(),
        )
        self._ack_wake.set()
        return "rejected"

    def _set_health(self, name: str, state: PrinterState, detail: str) -> None:
        health = self.health[name]
        changed = health.state is not state
        health.state, health.detail = state, detail
        if changed:
            level = logging.INFO if state is PrinterState.ONLINE else logging.WARNING
            log.log(level, "printer %s is %s%s", name, state.value, f": {detail}" if detail else "")
            self._beat_wake.set()

    # ------------------------------------------------------------------ ack, failures, delete

    def _ack_step(self) -> None:
        assert self.ledger is not None
        if self._api_backoff.ready():
            self._send_acks()
        if self._api_backoff.ready():
            self._send_failures()
        self._delete_finished()
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + 3600
            pruned = self.ledger.prune(now, self.config.keep_days * 86400)
            if pruned:
                log.info(
                    "ledger: forgot %d jobs finished over %g days ago",
                    pruned,
                    self.config.keep_days,
                )
        wait = 1.0
        next_ack = self.ledger.next_ack_at(self.config.ack_wait_s)
        if next_ack is not None:
            wait = min(wait, max(next_ack - time.time(), 0.0))
        if not self._api_backoff.ready():
            wait = max(wait, min(self._api_backoff.remaining(), 1.0))
        self._ack_wake.wait(max(wait, 0.02))
        self._ack_wake.clear()

    def _send_acks(self) -> None:
        """Acknowledge printed copies, one request per job: a copy waits up to
        ``ack_wait_s`` for the rest of its job (``Ledger.due_acks``), then goes alone."""
        assert self.ledger is not None
        due = self.ledger.due_acks(time.time(), wait_s=self.config.ack_wait_s)
        jobs: dict[str, list[CopyRow]] = {}
        for c in due:
            jobs.setdefault(c.job_id, []).append(c)
        for job_id, rows in jobs.items():
            if self._stop.is_set():
                return
            if len(rows) > 1 and not self._ack_copy_by_copy:
                sent = self._ack_together(job_id, rows)
            else:
                sent = all(self._ack_one(c) for c in rows)
            if not sent:
                return  # the API is away or refuses the token: do not hammer it

    def _ack_together(self, job_id: str, rows: list[CopyRow]) -> bool:
        """One request for ``rows``, printed copies of one job. False: try again later."""
        assert self.ledger is not None
        names = "+".join(c.copy for c in rows)
        try:
            self.api.ack_copies(job_id, [(c.copy, c.printer, c.printed_as_reprint) for c in rows])
        except ApiError as exc:
            if not exc.permanent:
                return self._ack_later(rows, f"acknowledging job {job_id} {names} copies", exc)
            if exc.code == "validation_failed":
                # An API from before one acknowledgement per job refuses "copies".
                self._ack_copy_by_copy = True
                log.warning(
                    "the API does not take one acknowledgement per job (%s); acknowledging "
                    "copy by copy from now on",
                    exc,
                )
            # Each copy on its own then gets its own answer (one may be refused for good).
            return all(self._ack_one(c) for c in rows)
        self._api_backoff.ok()
        now = time.time()
        for c in rows:
            self.ledger.mark_acked(c.job_id, c.copy, now)
        log.info("acknowledged job %s %s copies", job_id, names)
        return True

    def _ack_one(self, c: CopyRow) -> bool:
        """The single-copy acknowledgement. False: try again later."""
        assert self.ledger is not None
        try:
            self.api.ack(c.job_id, c.copy, printer=c.printer, reprinted=c.printed_as_reprint)
        except ApiError as exc:
            if exc.permanent:
                self.ledger.mark_rejected(c.job_id, c.copy, f"ack refused: {exc}")
                log.error(
                    "job %s %s copy: acknowledgement refused for good: %s",
                    c.job_id,
                    c.copy,
                    exc,
                )
                self.record_error(c.job_id, f"ack of {c.copy} copy refused: {exc}")
                return True
            return self._ack_later([c], f"acknowledging job {c.job_id} {c.copy} copy", exc)
        self._api_backoff.ok()
        self.ledger.mark_acked(c.job_id, c.copy, time.time())
        log.info("acknowledged job %s %s copy", c.job_id, c.copy)
        return True

    def _ack_later(self, rows: list[CopyRow], what: str, exc: ApiError) -> bool:
        assert self.ledger is not None
        wait = self._api_backoff.fail(at_most=exc.auth)
        for c in rows:
            self.ledger.ack_later(c.job_id, c.copy, next_at=time.time() + wait, error=str(exc))
        self._api_problem(what, exc)
        return False

    def _send_failures(self) -> None:
        assert self.ledger is not None
        for job_id, body, tries in self.ledger.due_failures(time.time()):
            try:
                self.api.failure(job_id, body["reason"], body["message"], body["receive_count"])
            except ApiError as exc:
                if exc.permanent:
                    log.error("failure report for job %s refused: %s", job_id, exc)
                    self.ledger.failure_sent(job_id, time.time())
                    continue
                wait = self._api_backoff.fail(at_most=exc.auth)
                self.ledger.failure_later(job_id, time.time() + max(wait, 2.0**tries))
                self._api_problem(f"reporting job {job_id} as failed", exc)
                return
            self._api_backoff.ok()
            self.ledger.failure_sent(job_id, time.time())
            log.warning(
                "reported job %s to head office as not printable: %s", job_id, body["message"]
            )

    def _delete_finished(self) -> None:
        assert self.ledger is not None
        for job_id in self.ledger.finish_jobs(time.time()):
            log.info("job %s finished: every copy printed and acknowledged", job_id)
        messages = self.ledger.deletable_messages()
        if not messages or not self._sqs_backoff.ready():
            return
        try:
            client, url = self.sqs.get()
        except ApiError as exc:
            self._api_problem("getting SQS credentials", exc)
            self._sqs_backoff.fail(at_most=exc.auth)
            return
        for i in range(0, len(messages), 10):
            batch = {str(n): m for n, m in enumerate(messages[i : i + 10])}
            entries = [{"Id": k, "ReceiptHandle": m.receipt_handle} for k, m in batch.items()]
            try:
                response = client.delete_message_batch(QueueUrl=url, Entries=entries)
            except Exception as exc:
                if _sqs_code(exc) in _SQS_AUTH_CODES:
                    self.sqs.invalidate()
                log.warning("deleting finished messages failed: %s", exc)
                self._sqs_backoff.fail()
                return
            self._sqs_backoff.ok()
            for ok in response.get("Successful", []):
                self._let_go(batch[ok["Id"]].message_id, "deleted")
            for failed in response.get("Failed", []):
                m = batch[failed["Id"]]
                if failed.get("Code") in _HANDLE_GONE:
                    # it comes back; its job is done, so it is acknowledged and deleted then
                    self._let_go(m.message_id, "lost")
                else:
                    log.warning("deleting message %s failed: %s", m.message_id, failed)

    # ------------------------------------------------------------------ heartbeat

    def _heartbeat_step(self) -> None:
        now = time.monotonic()
        if now >= self._next_status:
            self.poll_printers()
            self._next_status = time.monotonic() + self.config.status_interval_s
        if self._beat_wake.is_set():
            self._beat_wake.clear()
            self._next_beat = 0.0
        if time.monotonic() >= self._next_beat:
            self.send_heartbeat()
            self._next_beat = time.monotonic() + self.heartbeat_interval_s
        wait = min(self._next_status, self._next_beat) - time.monotonic()
        self._beat_wake.wait(min(max(wait, 0.01), 5.0))

    def poll_printers(self) -> None:
        """Ask each idle printer for its status (a printer busy printing is skipped)."""
        for name, printer in self.printers.items():
            if self._stop.is_set():
                return
            lock = self._printer_locks[name]
            if not lock.acquire(blocking=False):
                continue
            try:
                status = printer.status()
            finally:
                lock.release()
            self._set_status(name, status)
            if status.state is PrinterState.ONLINE and not self._printer_backoff[name].ready():
                self._printer_backoff[name].ok()  # back: print what waits without delay
                self._print_wake.set()

    def heartbeat_body(self, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The body of ``POST /relay/heartbeat``."""
        assert self.ledger is not None
        if errors is None:
            with self._error_lock:
                errors = [e for _, e in self._errors[:20]]
        return {
            "relay_version": __version__,
            "hostname": self.hostname[:100],
            "started_at": iso(self.started_at),
            "printers": [
                {
                    "name": name,
                    "state": self.health[name].state.value,
                    "detail": self.health[name].detail[:200],
                    "paper_mm": printer.paper_mm,
                    # only when set: an API older than the field still takes the heartbeat
                    **({"problem": "no_status"} if name in self.no_status else {}),
                }
                for name, printer in list(self.printers.items())[:8]
            ],
            "ledger": self.ledger.stats(time.time()),
            "errors": errors,
        }

    def send_heartbeat(self) -> None:
        with self._error_lock:
            batch = self._errors[:20]
        sent_upto = batch[-1][0] if batch else 0
        body = self.heartbeat_body([e for _, e in batch])
        try:
            answer = self.api.heartbeat(body)
        except ApiError as exc:
            self._api_problem("heartbeat", exc)
            return
        with self._error_lock:
            self._errors = [(n, e) for n, e in self._errors if n > sent_upto]
        self.last_heartbeat = answer
        interval = answer.get("heartbeat_interval_s")
        if isinstance(interval, int | float) and 0.1 <= interval <= 3600:
            self.heartbeat_interval_s = float(interval)
        other = answer.get("other_relay_host")
        if other:
            # Another PC runs a relay with this token: each takes some of the store's
            # tickets to its own printers. Say so on every heartbeat until one is stopped.
            log.error(
                "!!! ANOTHER RELAY (host %s) USES THIS STORE'S TOKEN: tickets are split between "
                "the two PCs; stop one of them",
                other,
            )
            self.record_error(None, f"another relay (host {other}) uses this relay's token")
        store = answer.get("store_id")
        if store and store != self.config.store_id:
            log.error(
                "the relay token belongs to store %s but the config says store_id = %s",
                store,
                self.config.store_id,
            )
