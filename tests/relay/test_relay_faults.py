"""The relay when things go wrong: printer away, connections dropped mid-ticket, messages it
cannot print, a second consumer on the queue, short-lived credentials."""

from __future__ import annotations

import json
import time

import pytest

from print_relay.virtual_printer import VirtualPrinter
from tests.relay.conftest import (
    make_job,
    printed,
    printer_section,
    read_ticket,
    wait_tickets,
    wait_until,
)
from tests.relay.fake_printer import Behaviour, closed_port


def test_printer_offline_for_30_orders_then_back_prints_all_once_in_order_late(rig):
    port = closed_port()
    offset = {"s": 0.0}
    config = rig.config(printers=[printer_section("front", port)], late_after_s=120)
    relay = rig.start(config, clock=lambda: time.time() + offset["s"])
    jobs = [make_job(n, paid_ago_s=5) for n in range(1, 31)]
    for job in jobs:
        rig.queue.send(job)

    beat = rig.api.wait_for(
        lambda a: next(
            (
                h
                for h in a.heartbeats
                if h["printers"][0]["state"] == "offline" and h["ledger"]["pending_copies"] >= 2
            ),
            None,
        )
    )
    assert beat["ledger"]["unacked_copies"] == 0
    assert rig.api.acks == []
    # nothing is lost while the printer is away: received jobs wait in the ledger (held on
    # the queue), the rest wait on the queue behind them (FIFO group)
    visible, in_flight = rig.queue.counts()
    assert visible + in_flight == 30 and in_flight >= 1

    offset["s"] = 10 * 60  # the printer comes back ten minutes later
    # A print attempt already under way (late banner computed on the old clock) fails at
    # once on the closed port; let it finish before the printer starts listening.
    time.sleep(1.0)
    with VirtualPrinter(port=port) as vp:
        vp.wait_for_jobs(60, timeout=30)
        rig.api.wait_for(lambda a: len(a.acks) == 60, timeout=15)
        wait_until(rig.queue.empty, what="every message deleted")
        time.sleep(0.2)
        tickets = [read_ticket(j.data) for j in vp.jobs]
    assert [(t.daily_seq, t.copy) for t in tickets] == [
        (n, c) for n in range(1, 31) for c in ("picking", "delivery")
    ]
    assert all(t.complete and not t.reprint for t in tickets)
    assert {t.late_minutes for t in tickets} == {10}
    assert relay.ledger.stats(time.time())["pending_copies"] == 0


@pytest.mark.parametrize("mode", ["close_fin", "close_rst"])
def test_connection_closed_mid_ticket_reprints_marked_and_acks_say_so(rig, mode):
    config = rig.config(status_interval_s=3600)  # no status polls in the way of the script
    rig.start(config)
    rig.api.wait_for(lambda a: a.heartbeats)  # the start-up status poll is done
    rig.printer.script(Behaviour(mode, after_bytes=120))
    job = make_job(21)
    rig.queue.send(job)

    rig.api.wait_for(lambda a: len(a.acks) == 2)
    tickets = printed(rig.printer)
    assert len(tickets) == 3
    cut_off, again, delivery = tickets
    assert not cut_off.complete and len(cut_off.data) <= 120
    assert again.copy == "picking" and again.reprint and again.complete
    assert "补打 REPRINT" in again.text
    assert delivery.copy == "delivery" and not delivery.reprint
    assert [(a["copy"], a.get("reprinted", False)) for a in rig.api.acks] == [
        ("picking", True),
        ("delivery", False),
    ]
    beat = rig.api.wait_for(lambda a: next((h for h in a.heartbeats if h["errors"]), None))
    assert beat["errors"][0]["job_id"] == job["job_id"]
    assert "补打" in beat["errors"][0]["message"]
    wait_until(rig.queue.empty)


def test_messages_that_cannot_print_are_reported_and_dead_lettered(rig):
    rig.start()
    v2 = make_job(31, schema_version="2")
    broken = make_job(32, lines="not a list")
    rig.queue.send("this is not JSON {")
    rig.queue.send(v2)
    rig.queue.send(broken)
    good = make_job(33)
    rig.queue.send(good)

    rig.api.wait_for(lambda a: len(a.acks) == 2, timeout=8)  # the good job behind them prints
    failures = rig.api.wait_for(lambda a: len(a.failures) == 2 and a.failures)
    by_job = {f["job_id"]: f for f in failures}
    assert by_job[v2["job_id"]]["reason"] == "bad_message"
    assert "schema_version" in by_job[v2["job_id"]]["message"]
    assert by_job[broken["job_id"]]["reason"] == "render_failed"
    assert {f["receive_count"] for f in failures} == {5}
    beat = rig.api.wait_for(
        lambda a: next(
            (h for h in a.heartbeats if any("not JSON" in e["message"] for e in h["errors"])), None
        )
    )
    assert any(e["job_id"] is None for e in beat["errors"])
    wait_until(lambda: rig.queue.counts(rig.queue.dlq_url)[0] == 3, what="3 messages in the DLQ")
    assert [t.daily_seq for t in printed(rig.printer)] == [33, 33]


def test_visibility_is_extended_while_the_printer_is_away(rig):
    port = closed_port()
    config = rig.config(
        printers=[printer_section("front", port)],
        queue={"wait_time_s": 1, "visibility_timeout_s": 2},
    )
    relay = rig.start(config)
    job = make_job(41)
    rig.queue.send(job)
    wait_until(lambda: relay.ledger.has_job(job["job_id"]))
    first = relay.ledger.messages_to_extend(float("inf"))[0].visible_until

    # a second consumer polls for longer than the visibility timeout: it never gets the job
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        got = rig.queue.sqs.receive_message(
            QueueUrl=rig.queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        assert got == [], "the held message was handed to another consumer"
    assert relay.ledger.messages_to_extend(float("inf"))[0].visible_until > first + 1

    with VirtualPrinter(port=port) as vp:
        vp.wait_for_jobs(2, timeout=30)
        wait_until(rig.queue.empty)
        assert len(vp.jobs) == 2


def test_credentials_are_renewed_before_they_expire(rig):
    rig.api.credentials_lifetime_s = 2  # renewed at half their life when that is short
    rig.start()
    rig.queue.send(make_job(51))
    wait_tickets(rig.printer, 2)
    rig.api.wait_for(lambda a: a.credential_calls >= 3, timeout=30)
    rig.queue.send(make_job(52))
    rig.api.wait_for(lambda a: len(a.acks) == 4, timeout=30)


def test_stop_and_restart_in_process_keeps_the_ledger(rig):
    port = closed_port()
    config = rig.config(printers=[printer_section("front", port)])
    relay = rig.start(config)
    jobs = [make_job(n) for n in (61, 62)]
    for job in jobs:
        rig.queue.send(job)
    wait_until(lambda: all(relay.ledger.has_job(j["job_id"]) for j in jobs))
    relay.stop()
    # nothing stays held on the queue by a stopped relay: its messages are visible at once
    assert rig.queue.counts() == (2, 0)
    with VirtualPrinter(port=port) as vp:
        rig.start(config)
        vp.wait_for_jobs(4, timeout=30)
        rig.api.wait_for(lambda a: len(a.acks) == 4)
        wait_until(rig.queue.empty)
        assert [read_ticket(j.data).daily_seq for j in vp.jobs] == [61, 61, 62, 62]
    assert json.dumps(rig.api.acks, ensure_ascii=False).count('"reprinted": true') == 0


def test_a_printer_that_never_answers_status_is_set_aside_and_reported(rig):
    """ack = "status" on a printer without real-time status: it prints every ticket but
    never answers, so each copy would be reprinted marked 补打 every write_timeout for ever.
    After 3 such tickets the relay stops using it and tells head office to set ack = "close";
    once the printer answers a status query it prints again."""
    from print_relay.relay import NO_STATUS_AFTER

    rig.printer.default = Behaviour(status="none")
    section = printer_section("front", rig.printer.port, write_timeout=0.5, status_timeout=0.3)
    relay = rig.start(rig.config(printers=[section]))
    rig.queue.send(make_job(31))

    beat = rig.api.wait_for(
        lambda a: next((h for h in a.heartbeats if h["printers"][0].get("problem")), None),
        timeout=20,
    )
    assert beat["printers"][0]["problem"] == "no_status"
    assert any('ack = "close"' in e["message"] for e in beat["errors"])
    tickets = printed(rig.printer)
    assert len(tickets) == NO_STATUS_AFTER  # the first and two marked copies, then no more
    assert [t.reprint for t in tickets] == [False] + [True] * (NO_STATUS_AFTER - 1)
    # Absence is what is checked here: give the relay several write timeouts to misbehave.
    time.sleep(3)
    assert len(printed(rig.printer)) == NO_STATUS_AFTER and rig.api.acks == []
    assert "front" in relay.no_status

    rig.printer.default = Behaviour()  # e.g. the printer's status setting is turned on
    rig.api.wait_for(lambda a: len(a.acks) == 2, timeout=20)
    rig.api.wait_for(lambda a: not a.heartbeats[-1]["printers"][0].get("problem"), timeout=10)
    wait_until(rig.queue.empty, timeout=10, what="the message deleted")
    after = [(t.copy, t.reprint) for t in printed(rig.printer)[NO_STATUS_AFTER:]]
    assert after == [("picking", True), ("delivery", False)]
