"""The local stack end to end: ``python -m infra.local.stack`` started exactly as
``./daojia up`` starts it, then driven over HTTP like the storefront and the admin site.

The tests of the command-line stack share one running stack and run in file order; the
last one stops it with SIGINT and checks that no child process is left.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from infra.local import demo_data
from infra.local.stack import READY_LINE, LocalStack, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10


def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """(status, parsed JSON body or text, headers) of one request; errors are returned."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http only
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
            status, payload, hdrs = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        status, payload, hdrs = err.code, err.read(), dict(err.headers)
    text = payload.decode("utf-8")
    try:
        return status, json.loads(text) if text else None, hdrs
    except ValueError:
        return status, text, hdrs


class RunningStack:
    """The ``python -m infra.local.stack`` subprocess and what its banner said."""

    def __init__(self, tmp: Path) -> None:
        self.api_port, self.admin_port, self.aws_port = free_port(), free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.admin = f"http://127.0.0.1:{self.admin_port}"
        self.state_dir = tmp / "state"
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.local.stack",
                "--api-port",
                str(self.api_port),
                "--admin-port",
                str(self.admin_port),
                "--aws-port",
                str(self.aws_port),
                "--state-dir",
                str(self.state_dir),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a shell job
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if line == READY_LINE:
                self.ready.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the stack did not start:\n{self.output}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = RunningStack(tmp_path_factory.mktemp("stack"))
    started = time.perf_counter()
    running.wait_ready()
    print(f"\nlocal stack ready in {time.perf_counter() - started:.1f} s")
    yield running
    if running.proc.poll() is None:  # the SIGINT test did not run: clean up anyway
        os.killpg(running.proc.pid, signal.SIGINT)
        try:
            running.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            running.kill()


def login(stack: RunningStack, username: str) -> str:
    password = next(a["password"] for a in demo_data.staff() if a["username"] == username)
    status, body, _ = call(
        "POST", stack.api + "/auth/login", {"username": username, "password": password}
    )
    assert status == 200, body
    return body["token"]


def test_the_banner_names_the_urls_credentials_and_logs(stack):
    out = stack.output
    for text in (
        stack.api,
        stack.admin,
        f"127.0.0.1:{stack.aws_port}",
        "dev_code",
        "hq-admin",
        "Daojia-hq-2026",
        "/health",
        f"lat={demo_data.stores()[0]['lat']}",
        "worker",
    ):
        assert text in out
    # Locally the machine endpoints' URL is the API's (decisions.md 33).
    assert f"machine URL   {stack.api}" in out
    assert (stack.state_dir / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert (stack.state_dir / "logs" / "api.log").exists()


def test_health_reports_dynamodb_and_sqs_ok(stack):
    status, body, _ = call("GET", stack.api + "/health")
    assert status == 200, body
    assert body["dependencies"]["dynamodb"]["status"] == "ok"
    assert body["dependencies"]["sqs"]["status"] == "ok"


def test_nearby_stores_find_the_first_demo_store_first(stack):
    first = demo_data.stores()[0]
    status, body, _ = call(
        "GET", f"{stack.api}/stores/nearby?lat={first['lat']}&lng={first['lng']}"
    )
    assert status == 200, body
    assert body["items"][0]["store_id"] == first["store_id"]


def test_the_admin_site_loads_and_its_config_names_the_api(stack):
    status, page, headers = call("GET", stack.admin + "/")
    assert status == 200
    assert '<script type="module" src="app/main.js">' in page
    assert "connect-src 'self' " + stack.api in headers["Content-Security-Policy"]
    status, config, _ = call("GET", stack.admin + "/config.json")
    assert status == 200
    assert config["apiUrl"] == stack.api


def test_the_admin_site_may_call_the_api_from_its_origin(stack):
    status, _, headers = call(
        "OPTIONS",
        stack.api + "/admin/stores",
        headers={
            "Origin": stack.admin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] in ("*", stack.admin)
    assert "GET" in headers["Access-Control-Allow-Methods"]
    assert "authorization" in headers["Access-Control-Allow-Headers"].lower()


def test_gateway_errors_follow_the_error_contract(stack):
    status, body, headers = call("GET", stack.api + "/admin/stores")
    assert status == 401
    assert body["error"]["code"] == "UNAUTHORIZED"
    assert body["error"]["message"]
    assert headers["Access-Control-Allow-Origin"] == "*"  # readable by the admin site

    status, body, _ = call("GET", stack.api + "/no/such/route")
    assert status == 403
    assert body["error"]["code"] == "MISSING_AUTHENTICATION_TOKEN"


def test_head_office_lists_the_four_stores(stack):
    token = login(stack, "hq-admin")
    status, body, _ = call("GET", stack.api + "/admin/stores", token=token)
    assert status == 200, body
    assert sorted(s["store_id"] for s in body["items"]) == sorted(
        s["store_id"] for s in demo_data.stores()
    )


def test_a_store_manager_cannot_change_another_store(stack):
    first, second = (s["store_id"] for s in demo_data.stores()[:2])
    token = login(stack, f"{first}-manager")
    status, body, _ = call(
        "PATCH", f"{stack.api}/admin/stores/{second}", {"phone": "021-12345678"}, token=token
    )
    assert status == 403, body
    assert body["error"]["code"]


def test_a_customer_gets_a_code_and_signs_in(stack):
    phone = "13912345678"
    status, sent, _ = call("POST", stack.api + "/auth/otp", {"phone": phone})
    assert status == 200, sent
    status, session, _ = call(
        "POST", stack.api + "/auth/otp/verify", {"phone": phone, "code": sent["dev_code"]}
    )
    assert status == 200, session
    status, me, _ = call("GET", stack.api + "/me", token=session["token"])
    assert status == 200, me
    assert me["role"] == "customer"


def test_an_erp_upload_is_processed_by_the_worker(stack):
    token = login(stack, "hq-admin")
    status, job, _ = call(
        "POST",
        stack.api + "/admin/imports?kind=products",
        raw=demo_data.erp_sample_csv().encode(),
        token=token,
        headers={"Content-Type": "text/csv"},
    )
    assert status == 202, job
    deadline = time.monotonic() + 30
    while job["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, f"import still {job['status']} after 30 s"
        time.sleep(0.2)
        status, job, _ = call("GET", f"{stack.api}/admin/imports/{job['job_id']}", token=token)
        assert status == 200, job
    assert job["status"] == "succeeded", job
    assert job["total_rows"] == 5
    assert job["rejected"] == 1
    assert [(r["line"], r["field"]) for r in job["rejected_rows"]] == [(4, "fresh")]
    assert job["created"] + job["updated"] + job["unchanged"] == 4


def test_sigint_stops_the_stack_and_every_child(stack):
    state = json.loads((stack.state_dir / "stack.json").read_text())
    children = state["children"]
    assert set(children) >= {"moto", "api", "worker"}

    started = time.monotonic()
    os.killpg(stack.proc.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
    code = stack.proc.wait(STOP_TIMEOUT_S)
    took = time.monotonic() - started

    assert code == 0, stack.output
    assert took < STOP_TIMEOUT_S
    for name, pid in children.items():
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)  # neither the child nor anything in its process group
        assert not _alive(pid), f"{name} ({pid}) still running"
    assert not (stack.state_dir / "stack.json").exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(stack.api + "/health", timeout=2)  # noqa: S310


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_local_stack_programmatic_start_health_reseed_and_stop():
    stack = LocalStack()
    with stack:
        assert stack.seed_report is not None
        assert stack.seed_report["products"]["created"] == len(demo_data.products())
        status, body, _ = call("GET", stack.api_url + "/health")
        assert status == 200, body
        assert stack.env["AWS_ENDPOINT_URL"] == stack.aws_url
        assert stack.env["DAOJIA_RESOURCE_PREFIX"] == "daojia-local"

        # Seeding again (as every `up` does) writes nothing.
        again = subprocess.run(
            [sys.executable, "-m", "infra.local.seed", "--json"],
            cwd=ROOT,
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        from infra.local.seed import SeedReport

        report = SeedReport.from_dict(json.loads(again.stdout.splitlines()[-1])["seed"])
        assert report.all_unchanged, report.summary()
        assert report.products.unchanged == len(demo_data.products())
        assert report.store_items.unchanged == len(demo_data.store_items())
        # the demo members, and those registered through the QR codes and an invite
        every_member = len(demo_data.members()) + len(demo_data.profile_members())
        assert report.members.unchanged == every_member
        assert report.staff.unchanged == len(demo_data.staff())
        assert report.coupon_templates.unchanged == len(demo_data.coupon_templates())
        assert report.promotions.unchanged == len(demo_data.promotions())
        pids = [c.pid for c in stack.children.values()]
        state_dir = stack.state_dir
    assert state_dir is not None and not state_dir.exists()  # its temporary dir is gone
    for pid in pids:
        assert not _alive(pid)
