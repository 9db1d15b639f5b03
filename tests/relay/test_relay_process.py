"""The relay as a store PC runs it: ``python -m print_relay`` in its own process, killed with
SIGKILL mid-batch and restarted; the ``selftest`` and ``check`` commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from print_relay.selftest import ruler
from tests.relay.conftest import ROOT, STORE, make_job, printed, wait_until
from tests.relay.escpos_decoder import decode
from tests.relay.fake_printer import Behaviour, FakePrinter, closed_port
from tests.relay.fake_relay_api import TOKEN

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses SIGKILL")


def write_config(
    path: Path,
    api_url: str,
    ports: dict[str, int],
    *,
    wait_time_s: int = 1,
    visibility_timeout_s: int = 4,
    **top: object,
) -> Path:
    lines = [
        f'store_id = "{STORE}"',
        f'api_url = "{api_url}"',
        'token_file = "relay.token"',
        'ledger = "ledger.sqlite3"',
        "paper_mm = 58",
        "heartbeat_interval_s = 0.3",
        "status_interval_s = 0.5",
        "print_gap_s = 0.05",
        "retry_min_s = 0.05",
        "retry_max_s = 0.3",
        "api_timeout_s = 2",
        'log_level = "INFO"',
        *(f"{k} = {json.dumps(v)}" for k, v in top.items()),
        "",
        "[queue]",
        f"wait_time_s = {wait_time_s}",
        f"visibility_timeout_s = {visibility_timeout_s}",
        "bad_message_retry_s = 0",
    ]
    for name, port in ports.items():
        lines += [
            "",
            "[[printers]]",
            f'name = "{name}"',
            'type = "network"',
            'host = "127.0.0.1"',
            f"port = {port}",
            "connect_timeout = 0.5",
            "write_timeout = 2",
            "status_timeout = 0.5",
        ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    (path.parent / "relay.token").write_text(TOKEN + "\n")
    return path


def relay_process(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "print_relay", *args, "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "print_relay", *args, "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_kill_9_mid_batch_then_restart_prints_everything_duplicates_marked(rig, tmp_path):
    config = write_config(tmp_path / "relay.toml", rig.api.url, {"front": rig.printer.port})
    jobs = [make_job(n) for n in range(1, 13)]
    for job in jobs:
        rig.queue.send(job)
    wanted = {(j["order_id"], c) for j in jobs for c in ("picking", "delivery")}

    first = relay_process(config)
    try:
        wait_until(lambda: len(printed(rig.printer)) >= 6, timeout=8, what="6 tickets")
        # From now on the printer takes tickets but never confirms them (no DLE EOT reply):
        # the relay waits for the confirmation of a ticket that is on paper, and dies there.
        rig.printer.default = Behaviour(status="none")

        def unconfirmed_ticket_on_paper() -> bool:
            return any(
                c.behaviour.status == "none" and b"\x1dV" in c.job
                for c in list(rig.printer.connections)
            )

        wait_until(unconfirmed_ticket_on_paper, timeout=5, what="an unconfirmed ticket")
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    killed_at = len(rig.printer.connections)

    rig.printer.default = Behaviour()
    second = relay_process(config)
    try:
        rig.api.wait_for(lambda a: wanted <= {(j[:-3], c) for j, c in a.acked()}, timeout=9)
        wait_until(rig.queue.empty, timeout=6, what="every message deleted")
        second.send_signal(signal.SIGTERM)  # clean shutdown
        out, _ = second.communicate(timeout=10)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, out
    assert "relay stopped" in out

    tickets = [t for t in printed(rig.printer)]
    complete = [t for t in tickets if t.complete]
    seen: dict[tuple[str, str], list] = defaultdict(list)
    for t in complete:
        seen[(t.order_id, t.copy)].append(t)
    assert set(seen) == wanted, "a ticket is missing"
    for key, copies in seen.items():
        assert all(t.reprint for t in copies[1:]), f"unmarked duplicate of {key}"
    # at most the ticket on the wire when the relay died is cut short, and it is reprinted
    broken = [t for t in tickets if not t.complete]
    assert len(broken) <= 1
    # the order holds: first appearances follow 今日第 N 单
    firsts = [t.daily_seq for i, t in enumerate(complete) if complete.index(t) == i]
    order = [seq for i, seq in enumerate(firsts) if seq not in firsts[:i]]
    assert order == sorted(order)
    # every reprinted copy is acknowledged as such
    reprinted = {(t.order_id, t.copy) for t in complete if t.reprint}
    acked_reprinted = {(a["job_id"][:-3], a["copy"]) for a in rig.api.acks if a.get("reprinted")}
    assert reprinted == acked_reprinted
    # the ticket on paper when the relay died came out again, marked 补打
    assert len(reprinted) >= 1
    assert killed_at < len(rig.printer.connections)


def test_sigterm_and_restart_like_systemd_resume_printing_at_once_in_payment_order(rig, tmp_path):
    """systemd stops a relay with SIGTERM and starts it again RestartSec=5 later, while
    orders keep being paid. With production queue timings (20 s long poll, 60 s
    visibility), the stopped relay's long poll must not take a ticket with it: printing
    resumes within 5 s of the restart (the printer's journal says when), every copy prints
    once, unmarked, in payment order (今日第 N 单)."""
    config = write_config(
        tmp_path / "relay.toml",
        rig.api.url,
        {"front": rig.printer.port},
        wait_time_s=20,
        visibility_timeout_s=60,
    )
    jobs = [make_job(n) for n in range(1, 17)]
    wanted = {(j["order_id"], c) for j in jobs for c in ("picking", "delivery")}
    paused, resume, sent = threading.Event(), threading.Event(), threading.Event()

    def pay_orders() -> None:  # one paid order every 0.5 s, like a busy lunchtime ...
        for n, job in enumerate(jobs, 1):
            rig.queue.send(job)
            if n == 4:  # ... with a lull in which the relay is stopped
                paused.set()
                resume.wait(60)
            time.sleep(0.5)
        sent.set()

    first = relay_process(config)
    payer = threading.Thread(target=pay_orders, daemon=True)
    try:
        rig.api.wait_for(lambda a: a.heartbeats, timeout=30)
        payer.start()
        paused.wait(30)
        wait_until(lambda: len(printed(rig.printer)) >= 8, timeout=30, what="8 tickets")
        wait_until(rig.queue.empty, timeout=30, what="the 4th message deleted")
        time.sleep(1)  # the relay is now in its 20 s long poll: stop it there
        first.send_signal(signal.SIGTERM)
        resume.set()  # orders keep coming while it stops
        out, _ = first.communicate(timeout=40)
    finally:
        resume.set()
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, out
    assert "relay stopped" in out
    assert "waiting for the queue's long poll to end" in out  # it was stopped in a long poll
    time.sleep(5)  # RestartSec=5
    restarted_at = time.time()
    second = relay_process(config)
    try:
        sent.wait(30)
        rig.api.wait_for(lambda a: wanted <= {(j[:-3], c) for j, c in a.acked()}, timeout=120)
        wait_until(rig.queue.empty, timeout=30, what="every message deleted")
        second.send_signal(signal.SIGTERM)
        out2, _ = second.communicate(timeout=40)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, out2

    tickets = printed(rig.printer)
    assert [(t.order_id, t.copy) for t in tickets if t.complete] == [
        (j["order_id"], c) for j in jobs for c in ("picking", "delivery")
    ], "a ticket is missing, came twice or out of payment order"
    assert not any(t.reprint for t in tickets) and all(t.complete for t in tickets)
    after = [t for t in tickets if t.at >= restarted_at]
    before = [t for t in tickets if t.at < restarted_at]
    assert before and after, "the stop did not fall in the middle of the orders"
    resumed_in = after[0].at - restarted_at
    assert resumed_in < 5, f"printing resumed {resumed_in:.1f} s after the restart"


def test_selftest_prints_a_page_on_each_printer(tmp_path):
    with FakePrinter() as front, FakePrinter() as back:
        config = write_config(
            tmp_path / "relay.toml",
            "http://127.0.0.1:9",
            {"front": front.port, "back": back.port},
        )
        result = cli(config, "selftest")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "front (network, 58 mm): printed" in result.stdout
        assert "back (network, 58 mm): printed" in result.stdout
        page = decode(printed(front)[0].data)
        text = "\n".join(page.texts)
        assert page.errors == [] and page.cuts == 1
        assert "打印测试" in text and "鲜到家" in text
        assert ruler(32) in page.texts and ruler(48) in page.texts
        assert page.qr_payloads == [f"DAOJIA-SELFTEST-{STORE}"]

        only = cli(config, "selftest", "--printer", "back")
        assert only.returncode == 0 and "front" not in only.stdout
        assert len(printed(back)) == 2 and len(printed(front)) == 1

        front.default = Behaviour(mode="close_rst", after_bytes=50)
        flaky = cli(config, "selftest", "--printer", "front")
        assert flaky.returncode == 1 and "front (network, 58 mm): unclear" in flaky.stdout


def test_selftest_reports_a_printer_that_is_off(tmp_path):
    config = write_config(tmp_path / "relay.toml", "http://127.0.0.1:9", {"front": closed_port()})
    result = cli(config, "selftest")
    assert result.returncode == 1
    assert "front (network, 58 mm): failed" in result.stdout
    assert "nothing printed: check the printer is on" in result.stdout
    assert cli(config, "selftest", "--printer", "nope").returncode == 2


def test_check_reaches_api_queue_and_printers(rig, tmp_path):
    config = write_config(tmp_path / "relay.toml", rig.api.url, {"front": rig.printer.port})
    rig.queue.send(make_job(1))
    result = cli(config, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ok] API and queue credentials" in result.stdout
    assert "1 waiting, 0 being printed" in result.stdout
    assert "[ok] printer front (network, 58 mm): online" in result.stdout
    assert "all good" in result.stdout

    rig.api.revoked = True
    result = cli(config, "check")
    assert result.returncode == 1
    assert "[FAIL] API and queue credentials: HTTP 401 token_revoked" in result.stdout
    assert "ask head office for a new relay token" in result.stdout


def test_config_errors_exit_2_with_the_key(tmp_path):
    config = tmp_path / "relay.toml"
    config.write_text('store_id = "x"\napi_url = "http://h"\ntoken = "t"\npaper_mm = 76\n')
    result = cli(config)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "paper_mm: must be 58 or 80" in result.stderr
    result = cli(tmp_path / "missing.toml", "check")
    assert result.returncode == 2 and "cannot read the config file" in result.stderr


def test_a_second_relay_on_the_same_ledger_refuses_to_start(rig, tmp_path):
    config = write_config(tmp_path / "relay.toml", rig.api.url, {"front": rig.printer.port})
    first = relay_process(config)
    try:
        rig.api.wait_for(lambda a: a.heartbeats, timeout=8)
        second = cli(config)
        assert second.returncode == 2
        assert "another relay is already running" in second.stdout + second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=10)
    assert first.returncode == 0
    time.sleep(0)  # nothing else to wait for
