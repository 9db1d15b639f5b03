"""The whole Daojia system on one machine: ``./daojia up`` (``python -m infra.local.stack``).

It starts, in order:

1. a local AWS: moto in server mode on loopback (DynamoDB, SQS, S3; in memory);
2. every table, queue and bucket, from the definitions production uses, then the demo
   data (``infra/local/seed.py``), in a child process that has the API's environment;
3. the API: the Chalice app under chalice's local server (``infra/local/api_server.py``);
4. the worker that drives SQS handlers and schedules (``infra/local/worker.py``);
5. the admin site (``admin_site/``) on its own port, with ``/config.json`` naming the API;
6. one print relay per demo store (``daojia-relay``), each printing on its own virtual
   ESC/POS network printer (``print_relay/virtual_printer.py``, TCP on loopback) whose
   tickets go to ``<state-dir>/printers/<store_id>.txt`` (text) and ``.jsonl`` (times);
   the relays get their tokens from head office through the API, like a real store.

Each child runs in its own process group with its output in ``<state-dir>/logs``. Ctrl-C
or SIGTERM stops them all; if one dies on its own, its last lines are printed and the
rest are stopped (exit status 1). Children also get SIGTERM if this process is killed
outright (Linux parent-death signal), so nothing is left behind.

Programmatic use (tests, benches)::

    with LocalStack() as stack:          # free ports, temporary state dir, demo data
        urlopen(stack.api_url + "/health")

The JWT signing secret is generated once into ``<state-dir>/jwt-secret`` (mode 0600) and
reused, so tokens survive a restart. moto keeps everything in memory, so each start
re-creates the resources and re-seeds (idempotent).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from infra.admin_site_hosting import API_ORIGIN_SUB, content_security_policy

ROOT = Path(__file__).resolve().parents[2]
ADMIN_SITE = ROOT / "admin_site"
DEFAULT_STATE_DIR = ROOT / ".local"
PREFIX = "daojia-local"
REGION = "us-east-1"  # moto's default; create_all's buckets need no LocationConstraint there
AWS_HOST = "127.0.0.1"  # the local AWS is on loopback only, whatever --host says
STOP_GRACE_S = 5.0
READY_TIMEOUT_S = 60.0
SEED_TIMEOUT_S = 120.0
READY_LINE = "Ctrl-C stops everything."
"""Last line of the banner: tests wait for it."""


class StackError(RuntimeError):
    """The stack could not start; the message says what to do."""


# --- child processes ------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec function that makes the child get SIGTERM when its parent dies (Linux).

    The signal follows the *thread* that started the child, so start the stack from a
    thread that outlives it (the main thread, as the CLI and pytest do).
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


@dataclass
class Child:
    """One child process: its own process group, its output in a log file."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    expected_exit: bool = False  # a one-shot step (seeding) rather than a service

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


@dataclass
class LocalPrinter:
    """A store's virtual printer: its port, its text preview and its JSON-lines journal."""

    store_id: str
    port: int
    preview: Path
    journal: Path


def relay_config(store_id: str, api_url: str, token_file: Path, printer: LocalPrinter) -> str:
    """The relay config (print_relay/relay.example.toml explains each key)."""
    ledger = token_file.with_suffix(".sqlite3")
    return f"""# Written by the local stack for the demo store {store_id}.
store_id = "{store_id}"
api_url = "{api_url}"
token_file = "{token_file}"
ledger = "{ledger}"
paper_mm = 80

[queue]
# A relay stopped cleanly waits for its long poll to end before it hands back what it
# holds; the stack gives it STOP_GRACE_S (5 s) before SIGKILL, so the poll is shorter.
wait_time_s = 4
# A relay killed during a long poll can still be handed a message, which then stays
# invisible for this long; short here so a restarted relay resumes quickly.
visibility_timeout_s = 20

[[printers]]
name = "front"
type = "virtual"
host = "127.0.0.1"
port = {printer.port}
paper_mm = 80

[copies]
picking = "front"
delivery = "front"
slip = "front"
"""


def _http_json(
    method: str, url: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        data = path.read_bytes()[-64_000:]
    except OSError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _ephemeral_ports() -> tuple[int, int]:
    """The range the OS takes outgoing connections' local ports from."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, chosen below the ephemeral range: a port the OS
    handed out for listening (bind to 0) is an ephemeral one, and by the time a server
    binds it an outgoing connection (the seeding's hundreds of calls to local AWS) may
    have taken it as its local port ("Address already in use")."""
    low, _ = _ephemeral_ports()
    rng = random.SystemRandom()
    for _ in range(100):
        port = rng.randrange(max(1024, low - 12000), low)
        if not _port_in_use(host, port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _port_in_use(host: str, port: int) -> bool:
    """True if something listens on the port. SO_REUSEADDR as the servers set it, so
    connections of a previous run lingering in TIME_WAIT do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our URLs
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def jwt_secret(state_dir: Path) -> str:
    """The local stack's token secret: made once, kept in ``<state-dir>/jwt-secret``."""
    path = state_dir / "jwt-secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret
        path.unlink()  # empty or truncated: make a new one
        return jwt_secret(state_dir)
    with os.fdopen(fd, "w") as f:
        secret = secrets.token_urlsafe(48)
        f.write(secret + "\n")
    return secret


# --- admin site -----------------------------------------------------------------------


class _AdminHandler(SimpleHTTPRequestHandler):
    """Static files of admin_site/, plus /config.json generated for this run (nothing is
    written into the repository)."""

    server: _AdminServer

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == "/config.json":
            body = json.dumps(self.server.site_config, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        if self.path.split("?", 1)[0] != "/config.json":
            self.send_header("Cache-Control", "no-cache")
        # The production CSP (CloudFront sends it), so the browser tests catch a violation.
        self.send_header("Content-Security-Policy", self.server.csp)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        line = f"{self.log_date_time_string()} {self.address_string()} {format % args}\n"
        with self.server.log_lock:
            self.server.log_file.write(line)
            self.server.log_file.flush()


class _AdminServer(ThreadingHTTPServer):
    daemon_threads = True
    site_config: dict[str, Any]
    csp: str
    log_file: IO[str]
    log_lock: threading.Lock


# --- the stack ------------------------------------------------------------------------


class LocalStack:
    """The local stack, started and stopped from Python.

    Ports given as 0 are picked free; ``state_dir=None`` uses a temporary directory that
    is removed on stop. After ``start()``: ``api_url``, ``admin_url``, ``aws_url``, ``env``
    (the environment the API and worker run with), ``seed_report`` (a dict, see
    ``infra.local.seed.SeedReport``), ``timings`` (seconds per step) and ``children``.
    """

    def __init__(
        self,
        api_port: int = 0,
        admin_port: int = 0,
        aws_port: int = 0,
        state_dir: str | os.PathLike[str] | None = None,
        seed: bool = True,
        quiet: bool = True,
        host: str = "127.0.0.1",
        relays: bool = False,
        extra_env: dict[str, str] | None = None,
        history: bool = False,
    ) -> None:
        self.host = host
        # 60 days of demo orders for the charts, written in the background after seeding
        # (infra/local/history.py); off by default so tests get only what they seed.
        self.history = history
        self.extra_env = dict(extra_env or {})  # e.g. shorter print timeouts in tests
        self.api_port = api_port
        self.admin_port = admin_port
        self.aws_port = aws_port
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.state_dir = Path(state_dir).absolute() if state_dir is not None else None
        self.seed = seed
        self.quiet = quiet
        self.relays = relays
        self.api_url = self.admin_url = self.aws_url = ""
        self.env: dict[str, str] = {}
        self.seed_report: dict[str, Any] | None = None
        self.timings: dict[str, float] = {}
        self.children: dict[str, Child] = {}
        self.printers: dict[str, LocalPrinter] = {}  # store_id -> its virtual printer
        self.relay_configs: dict[str, Path] = {}  # store_id -> its relay's config file
        self._ticket_offsets: dict[str, int] = {}
        self._started_relays: set[str] = set()
        self._admin: _AdminServer | None = None
        self._admin_thread: threading.Thread | None = None
        self._admin_log: IO[str] | None = None
        self._preexec = _parent_death_signal()
        self._started = False

    # -- helpers

    def _say(self, message: str) -> None:
        if not self.quiet:
            print(f"daojia: {message}", flush=True)

    @property
    def log_dir(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir / "logs"

    def _url_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host  # noqa: S104

    def _spawn(
        self,
        name: str,
        args: list[str],
        expected_exit: bool = False,
        env: dict[str, str] | None = None,
        append: bool = False,
    ) -> Child:
        log_path = self.log_dir / f"{name}.log"
        log_file = open(log_path, "ab" if append else "wb")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=env if env is not None else self.env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: Ctrl-C reaches only us; we stop it
            preexec_fn=self._preexec,  # only prctl + getppid: safe after fork
        )
        child = Child(name, proc, log_path, log_file, expected_exit)
        self.children[name] = child
        return child

    def _check_alive(self, *names: str) -> None:
        for name in names or tuple(self.children):
            child = self.children.get(name)
            if child is not None and not child.expected_exit and not child.alive():
                raise StackError(
                    f"{name} exited with status {child.proc.returncode} while starting; "
                    f"last lines of {child.log_path}:\n{tail(child.log_path)}"
                )

    def _wait_http(self, url: str, what: str, child: str, ok: Callable[[int, bytes], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            self._check_alive(child)
            try:
                status, body = _http_get(url, timeout=2.0)
                if ok(status, body):
                    return
                last = f"HTTP {status}: {body[:300]!r}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.05)
        log = self.children[child].log_path
        raise StackError(
            f"{what} did not become ready at {url} within {READY_TIMEOUT_S:.0f} s ({last}); "
            f"see {log}:\n{tail(log)}"
        )

    def _build_env(self, secret: str) -> dict[str, str]:
        # Nothing of the developer's own AWS set-up (profile, keys, endpoints) leaks in:
        # the local stack must never reach a real account.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ENDPOINT_URL": self.aws_url,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "DAOJIA_STAGE": "local",
                "DAOJIA_RESOURCE_PREFIX": PREFIX,
                "DAOJIA_JWT_SECRET": secret,
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join(
                    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
                ),
            }
        )
        env.update(self.extra_env)
        return env

    # -- start

    def start(self) -> LocalStack:
        """Start everything and return when the API answers /health with 200."""
        if self._started:
            return self
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        t0 = time.perf_counter()
        if self.state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="daojia-local-")
            self.state_dir = Path(self._tmp.name)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        for attr, host in (
            ("aws_port", AWS_HOST),
            ("api_port", self.host),
            ("admin_port", self.host),
        ):
            port = getattr(self, attr)
            if port == 0:
                setattr(self, attr, free_port(host))
            elif _port_in_use(host, port):
                option = "--" + attr.replace("_", "-")
                raise StackError(
                    f"port {port} on {host} is in use (another `./daojia up`?); stop that "
                    f"or pass {option} / DAOJIA_{attr.upper()} with a free port."
                )
        url_host = self._url_host()
        self.aws_url = f"http://{AWS_HOST}:{self.aws_port}"
        self.api_url = f"http://{url_host}:{self.api_port}"
        self.admin_url = f"http://{url_host}:{self.admin_port}"
        self.env = self._build_env(jwt_secret(self.state_dir))

        self._say(f"starting local AWS (moto) on {self.aws_url}")
        self._spawn(
            "moto", ["-m", "infra.local.moto_server", "-H", AWS_HOST, "-p", str(self.aws_port)]
        )
        # The API imports meanwhile (it touches AWS only when called).
        self._spawn(
            "api",
            ["-m", "infra.local.api_server", "--host", self.host, "--port", str(self.api_port)],
        )
        self._wait_http(self.aws_url + "/", "local AWS (moto)", "moto", lambda s, _: s == 200)
        self.timings["aws"] = round(time.perf_counter() - t0, 3)

        t1 = time.perf_counter()
        self._say(
            "creating tables, queues and buckets, and seeding demo data"
            if self.seed
            else "creating tables, queues and buckets (no demo data: --no-seed)"
        )
        self._setup()
        self.timings["setup"] = round(time.perf_counter() - t1, 3)
        if self.seed and self.history:
            # then the demo campaigns, which read its report days (campaign_history.py)
            self._spawn("history", ["-m", "infra.local.history", "--campaigns"], expected_exit=True)
            # ~2,000 members with aggregates in every lifecycle stage and RFM group, and
            # the demo members' history orders counted (infra/local/member_history.py):
            # independent of history's writes (it re-derives those orders), so beside it
            self._spawn("member-history", ["-m", "infra.local.member_history"], expected_exit=True)

        self._spawn("worker", ["-m", "infra.local.worker"])
        self._start_admin()
        t2 = time.perf_counter()
        self._wait_http(
            self.api_url + "/health", "the API", "api", lambda s, _: s == 200
        )  # 200 only when DynamoDB and SQS answer
        self._check_alive()
        self.timings["api_ready"] = round(time.perf_counter() - t2, 3)
        if self.relays and self.seed:
            t3 = time.perf_counter()
            self._start_relays()
            self.timings["relays"] = round(time.perf_counter() - t3, 3)
        self.timings["total"] = round(time.perf_counter() - t0, 3)
        self._write_state()

    def _setup(self) -> None:
        args = ["-m", "infra.local.seed", "--create-resources", "--json"]
        if not self.seed:
            args.append("--no-seed")
        child = self._spawn("seed", args, expected_exit=True)
        try:
            code = child.proc.wait(timeout=SEED_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise StackError(
                f"creating resources and seeding took over {SEED_TIMEOUT_S:.0f} s; "
                f"see {child.log_path}:\n{tail(child.log_path)}"
            ) from None
        if code != 0:
            raise StackError(
                f"creating resources / seeding failed (exit {code}); last lines of "
                f"{child.log_path}:\n{tail(child.log_path)}"
            )
        child.log_file.flush()
        lines = child.log_path.read_text(encoding="utf-8").splitlines()
        out = json.loads(next(line for line in reversed(lines) if line.startswith("{")))
        self.timings["resources"] = out.get("resources_seconds", 0.0)
        self.seed_report = out.get("seed")
        if self.seed_report:
            self.timings["seed"] = self.seed_report["seconds"]

    def _start_relays(self) -> None:
        """One virtual printer and one relay per demo store. Head office issues each
        relay's token through the API (as in production); ledgers start empty because
        the local AWS starts empty."""
        from infra.local import demo_data

        assert self.state_dir is not None
        self._say("starting one print relay per demo store, on virtual printers")
        relay_dir = self.state_dir / "relays"
        printer_dir = self.state_dir / "printers"
        for folder in (relay_dir, printer_dir):
            folder.mkdir(exist_ok=True)
        for stale in relay_dir.glob("*.sqlite3*"):
            stale.unlink()
        hq = self._hq_token()
        for store in demo_data.stores():
            store_id = store["store_id"]
            printer = LocalPrinter(
                store_id,
                free_port(),
                printer_dir / f"{store_id}.txt",
                printer_dir / f"{store_id}.jsonl",
            )
            for path in (printer.preview, printer.journal):
                path.write_text("", encoding="utf-8")
            self.printers[store_id] = printer
            self._spawn(
                f"printer-{store_id}",
                [
                    "-m",
                    "print_relay.virtual_printer",
                    "--port",
                    str(printer.port),
                    "--preview",
                    str(printer.preview),
                    "--journal",
                    str(printer.journal),
                ],
            )
            status, issued = _http_json(
                "POST",
                f"{self.api_url}/admin/stores/{store_id}/relays",
                {"name": "local relay"},
                hq,
            )
            if status != 201:
                raise StackError(f"could not issue a relay token for {store_id}: {issued}")
            token_file = relay_dir / f"{store_id}.token"
            token_file.write_text(issued["token"] + "\n", encoding="utf-8")
            token_file.chmod(0o600)
            config = relay_dir / f"{store_id}.toml"
            config.write_text(
                relay_config(store_id, self.api_url, token_file, printer), encoding="utf-8"
            )
            self.relay_configs[store_id] = config
            self.start_relay(store_id)

    def _hq_token(self) -> str:
        from infra.local import demo_data

        hq = next(a for a in demo_data.staff() if a["role"] == "hq_admin")
        status, body = _http_json(
            "POST",
            self.api_url + "/auth/login",
            {"username": hq["username"], "password": hq["password"]},
        )
        if status != 200:
            raise StackError(f"head office could not sign in to issue relay tokens: {body}")
        return str(body["token"])

    def _relay_env(self) -> dict[str, str]:
        # A relay gets its AWS credentials and endpoint from the API only, as in a store.
        env = {k: v for k, v in self.env.items() if not k.startswith(("AWS_", "DAOJIA_"))}
        env.update(
            {
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        return env

    def new_tickets(self) -> str:
        """Ticket text printed since the last call, every store's, for the terminal."""
        out = []
        for store_id, printer in self.printers.items():
            offset = self._ticket_offsets.get(store_id, 0)
            with contextlib.suppress(OSError), printer.preview.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
                # Only whole lines: the printer may be writing the rest right now.
                chunk = chunk[: chunk.rfind(b"\n") + 1]
                self._ticket_offsets[store_id] = offset + len(chunk)
                if chunk:
                    text = chunk.decode("utf-8", "replace").rstrip("\n")
                    out.append(
                        "\n".join(f"[printer {store_id}] {line}" for line in text.split("\n"))
                    )
        return "\n".join(out)

    def start_relay(self, store_id: str) -> Child:
        """Start (or restart: its log is appended to) the store's relay."""
        name = f"relay-{store_id}"
        restart = name in self._started_relays
        self._started_relays.add(name)
        return self._spawn(
            name,
            ["-m", "print_relay", "--config", str(self.relay_configs[store_id])],
            env=self._relay_env(),
            append=restart,
        )

    def stop_relay(self, store_id: str, sig: int = signal.SIGTERM) -> None:
        """Stop the store's relay (SIGTERM, or e.g. SIGKILL to simulate a crash)."""
        child = self.children.pop(f"relay-{store_id}", None)
        if child is None:
            return
        child.signal_group(sig)
        try:
            child.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.signal_group(signal.SIGKILL)
            child.proc.wait()
        child.log_file.close()

    def _start_admin(self) -> None:
        assert self.state_dir is not None
        self._admin_log = open(self.log_dir / "admin.log", "w", encoding="utf-8")  # noqa: SIM115
        try:
            server = _AdminServer(
                (self.host, self.admin_port), partial(_AdminHandler, directory=str(ADMIN_SITE))
            )
        except OSError as exc:
            raise StackError(
                f"the admin site cannot listen on {self.host}:{self.admin_port} ({exc}); "
                "pass --admin-port / DAOJIA_ADMIN_PORT with a free port."
            ) from None
        server.site_config = {"apiUrl": self.api_url, "stage": "local"}
        server.csp = content_security_policy().replace(API_ORIGIN_SUB, self.api_url.rstrip("/"))
        server.log_file = self._admin_log
        server.log_lock = threading.Lock()
        self._admin = server
        self._admin_thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name="admin-site", daemon=True
        )
        self._admin_thread.start()

    def _write_state(self) -> None:
        assert self.state_dir is not None
        state = {
            "pid": os.getpid(),
            "api_url": self.api_url,
            "admin_url": self.admin_url,
            "aws_url": self.aws_url,
            "children": {c.name: c.pid for c in self.children.values() if not c.expected_exit},
            "logs": str(self.log_dir),
        }
        (self.state_dir / "stack.json").write_text(json.dumps(state, indent=2) + "\n")

    # -- running

    def poll(self) -> Child | None:
        """The first service child that has exited, or None while all run."""
        for child in self.children.values():
            if not child.expected_exit and not child.alive():
                return child
        return None

    # -- stop

    def stop(self) -> None:
        """Stop every child (SIGTERM to its process group, SIGKILL after a grace period)
        and the admin site. Safe to call more than once."""
        services = [c for c in self.children.values() if c.alive()]
        # The API and worker first, so they do not log errors about a vanished moto.
        first = [c for c in services if c.name != "moto"]
        last = [c for c in services if c.name == "moto"]
        for group in (first, last):
            for child in group:
                child.signal_group(signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            for child in group:
                try:
                    child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.signal_group(signal.SIGKILL)
                    child.proc.wait()
        for child in self.children.values():
            child.signal_group(signal.SIGKILL)  # anything its process group left behind
            if child.proc.poll() is None:
                child.proc.wait()
            child.log_file.close()
        if self._admin is not None:
            self._admin.shutdown()
            self._admin.server_close()
            self._admin = None
        if self._admin_log is not None:
            self._admin_log.close()
            self._admin_log = None
        if self.state_dir is not None:
            with contextlib.suppress(OSError):
                (self.state_dir / "stack.json").unlink()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- banner

    def banner(self) -> str:
        """What a developer needs to start using the running stack."""
        from infra.local import demo_data

        first = demo_data.stores()[0]
        rel = self.log_dir
        with contextlib.suppress(ValueError):
            rel = self.log_dir.relative_to(Path.cwd())
        seeded = ""
        if self.seed_report:
            from infra.local.seed import SeedReport

            seeded = "\n  demo data     " + SeedReport.from_dict(self.seed_report).summary()
        rows = [
            f"    {a['username']:<24} {a['role']:<14} {a['store_id'] or '(all stores)':<16} "
            f"{a['password']:<30} {a['display_name']}"
            for a in demo_data.staff()
        ]
        header = f"    {'username':<24} {'role':<14} {'store':<16} {'password':<30} name"
        member = demo_data.members()[0]["phone"]
        if self.printers:
            folder = next(iter(self.printers.values())).preview.parent
            with contextlib.suppress(ValueError):
                folder = folder.relative_to(Path.cwd())
            relays = (
                f"print relays  one per demo store ({', '.join(self.printers)}), on virtual "
                f"printers;\n                tickets: {folder}/<store_id>.txt (and shown "
                "here as they print)"
            )
        elif self.relays and not self.seed:
            relays = "print relays: none (no demo stores: --no-seed)"
        else:
            relays = "print relays: off (--no-relays)"
        return "\n".join(
            [
                "",
                f"鲜到家 Daojia local stack is up (ready in {self.timings.get('total', 0):.1f} s)",
                "",
                f"  API           {self.api_url}",
                # The deployed stack's MachineApiUrl (decisions.md 33); locally the API
                # server serves /payments and /relay itself.
                f"  machine URL   {self.api_url}   (payment webhook, print relays)",
                f"  admin site    {self.admin_url}",
                f"  local AWS     {self.aws_url}   (moto in memory: DynamoDB, SQS, S3; "
                "re-created and re-seeded on every start)" + seeded,
                f"  logs          {rel}/{{moto,seed,api,worker,admin,relay-*,printer-*}}.log",
                f"  {relays}",
                *(
                    [
                        "  order history 60 days of demo orders for the dashboard's charts, being "
                        f"written\n                in the background ({rel}/history.log)",
                        "  campaigns     then an ended campaign with its review and a live one with"
                        "\n                traffic and orders: #/calendar, #/campaigns, "
                        "#/campaigns/demo-campaign-double-12/dashboard,"
                        "\n                #/campaigns/demo-campaign-national-day/review",
                    ]
                    if "history" in self.children
                    else []
                ),
                *(
                    [
                        "  members       2,000 members with order history (customer pages),"
                        "\n                being written in the background "
                        f"({rel}/member-history.log)"
                    ]
                    if "member-history" in self.children
                    else []
                ),
                "",
                "Customers sign in with a one-time code; locally no SMS is sent and",
                "POST /auth/otp returns it as dev_code:",
                f"    curl -s -X POST {self.api_url}/auth/otp -H 'Content-Type: application/json' "
                f'-d \'{{"phone": "{member}"}}\'',
                f'    then POST /auth/otp/verify with {{"phone": "{member}", "code": ...}}',
                "",
                "Staff and head office sign in with POST /auth/login {username, password}.",
                *(
                    ["Demo accounts (LOCAL ONLY, never use these anywhere else):", header, *rows]
                    if self.seed
                    else ["No demo accounts: started with --no-seed."]
                ),
                "",
                "Try:",
                f"    curl -s {self.api_url}/health",
                f"    curl -s '{self.api_url}/stores/nearby?lat={first['lat']}&lng={first['lng']}'",
                "",
                READY_LINE,
            ]
        )


# --- command line ---------------------------------------------------------------------


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"daojia: {name}={value!r} is not a port number") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="daojia up",
        description="Run the whole Daojia system locally: local AWS, demo data, API, "
        "worker, admin site and a print relay per demo store. Ctrl-C stops everything.",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("DAOJIA_HOST", "127.0.0.1"),
        help="address of the API and admin site (default 127.0.0.1; env DAOJIA_HOST); "
        "the local AWS always listens on loopback",
    )
    parser.add_argument(
        "--api-port", type=int, default=_env_int("DAOJIA_API_PORT", 8000), help="default 8000"
    )
    parser.add_argument(
        "--admin-port", type=int, default=_env_int("DAOJIA_ADMIN_PORT", 8001), help="default 8001"
    )
    parser.add_argument(
        "--aws-port", type=int, default=_env_int("DAOJIA_AWS_PORT", 4566), help="default 4566"
    )
    parser.add_argument(
        "--state-dir",
        default=os.environ.get("DAOJIA_STATE_DIR", str(DEFAULT_STATE_DIR)),
        help="JWT secret and logs (default .local in the repository)",
    )
    parser.add_argument("--no-seed", action="store_true", help="create resources only")
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="without the 60 days of demo order history (written in the background)",
    )
    parser.add_argument(
        "--relays",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run one print relay per demo store on a virtual printer (default on)",
    )
    return parser.parse_args(argv)


class _Stop(Exception):
    """Raised by the signal handler to leave whatever the main thread is doing."""


def main(argv: list[str] | None = None) -> int:
    """``./daojia up``: start the stack, print the banner, supervise until Ctrl-C."""
    args = parse_args(argv)
    stack = LocalStack(
        api_port=args.api_port,
        admin_port=args.admin_port,
        aws_port=args.aws_port,
        state_dir=args.state_dir,
        seed=not args.no_seed,
        quiet=False,
        host=args.host,
        relays=args.relays,
        history=not args.no_history,
    )
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise _Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while True:
            dead = stack.poll()
            if dead is not None:
                stopping = True
                print(
                    f"\ndaojia: {dead.name} exited unexpectedly (status {dead.proc.returncode});"
                    f" last lines of {dead.log_path}:\n{tail(dead.log_path)}\n"
                    "daojia: stopping everything",
                    file=sys.stderr,
                    flush=True,
                )
                code = 1
                break
            tickets = stack.new_tickets()
            if tickets:
                print(tickets, flush=True)
            time.sleep(0.25)
    except _Stop as stop:
        print(f"\ndaojia: {stop} received, stopping everything", flush=True)
    except StackError as err:
        print(f"daojia: {err}", file=sys.stderr, flush=True)
        code = 1
    finally:
        stopping = True
        # A second Ctrl-C during shutdown must not interrupt the clean-up.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("daojia: stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
