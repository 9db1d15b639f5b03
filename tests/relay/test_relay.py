"""The relay runtime end to end: moto SQS → relay → fake TCP printer, acks to the fake API."""

from __future__ import annotations

import itertools
import json
import time

from print_relay.ledger import Ledger
from print_relay.printers import NetworkPrinter
from tests.relay.conftest import STORE, make_job, printed, printer_section, wait_tickets, wait_until
from tests.relay.fake_printer import Behaviour, FakePrinter, closed_port


def test_a_job_prints_both_copies_once_then_is_acked_and_deleted(rig):
    job = make_job(12)
    rig.start()
    rig.queue.send(job)

    tickets = wait_tickets(rig.printer, 2)
    assert [t.copy for t in tickets] == ["picking", "delivery"]
    for t in tickets:
        assert t.complete and not t.reprint and t.late_minutes is None
        assert t.order_id == job["order_id"] and t.daily_seq == 12
        assert "今日第 12 单" in t.text
        assert "鲜到家 静安寺店" in t.text  # Chinese text decoded from GBK
    assert "赣南脐橙" in tickets[0].text and "王女士" not in tickets[0].text
    assert "王女士" in tickets[1].text and "138****0001" in tickets[1].text

    rig.api.wait_for(lambda a: len(a.acks) == 2)
    assert [(a["copy"], a.get("reprinted", False)) for a in rig.api.acks] == [
        ("picking", False),
        ("delivery", False),
    ]
    assert {a["printer"] for a in rig.api.acks} == {"front"}
    wait_until(rig.queue.empty, what="message deleted")
    time.sleep(0.3)
    assert len(printed(rig.printer)) == 2  # nothing printed twice
    assert rig.api.credential_calls >= 1


def test_a_printed_job_is_acknowledged_in_one_request(rig):
    """Both copies in one request per job, although the pause between tickets gives the
    ack thread time to send the first copy alone."""
    rig.start(rig.config(print_gap_s=0.3))
    jobs = [make_job(21), make_job(22)]
    for job in jobs:
        rig.queue.send(job)
    rig.api.wait_for(lambda a: len(a.acks) == 4, timeout=10)
    assert [
        (r["job_id"], [(c["copy"], c["printer"]) for c in r["copies"]])
        for r in rig.api.ack_requests
    ] == [(j["job_id"], [("picking", "front"), ("delivery", "front")]) for j in jobs]
    assert len(rig.api.ack_attempts) == 2
    wait_until(rig.queue.empty, what="messages deleted")


def test_a_copy_that_printed_while_the_other_cannot_is_acknowledged_alone(rig):
    with FakePrinter(Behaviour(status="paper_out")) as back:
        config = rig.config(
            printers=[
                printer_section("front", rig.printer.port),
                printer_section("back", back.port),
            ],
            copies={"picking": "front", "delivery": "back"},
            failover=False,
            ack_wait_s=0.3,
        )
        relay = rig.start(config)
        rig.api.wait_for(
            lambda a: any(
                p["name"] == "back" and p["state"] == "paper_out"
                for h in a.heartbeats
                for p in h["printers"]
            )
        )
        job = make_job(23)
        rig.queue.send(job)
        rig.api.wait_for(lambda a: len(a.acks) == 1, timeout=10)
        wait_until(
            lambda: (
                {c.copy: c.state for c in relay.ledger.copies(job["job_id"])}
                == {"picking": "acked", "delivery": "pending"}
            ),
            what="the picking copy acknowledged alone while the delivery copy waits",
        )
        back.default = Behaviour()  # paper loaded: the delivery copy prints, and is acked
        rig.api.wait_for(lambda a: len(a.acks) == 2, timeout=10)
        assert [(r.get("copy"), r.get("copies")) for r in rig.api.ack_requests] == [
            ("picking", None),
            ("delivery", None),
        ]
        wait_until(rig.queue.empty, what="message deleted")


def test_an_older_api_without_one_ack_per_job_gets_copy_by_copy_acks(rig):
    rig.api.single_copy_only = True
    relay = rig.start()
    jobs = [make_job(24), make_job(25)]
    for job in jobs:
        rig.queue.send(job)
    rig.api.wait_for(lambda a: len(a.acks) == 4, timeout=10)
    assert sorted((a["job_id"], a["copy"]) for a in rig.api.acks) == sorted(
        (j["job_id"], c) for j in jobs for c in ("picking", "delivery")
    )
    assert sum("copies" in a for a in rig.api.ack_attempts) == 1  # refused once, not again
    wait_until(
        lambda: {c.state for j in jobs for c in relay.ledger.copies(j["job_id"])} == {"acked"},
        what="every copy acknowledged (none rejected)",
    )
    wait_until(rig.queue.empty, what="messages deleted")


def test_ack_failures_are_retried_from_the_ledger_and_the_message_waits(rig):
    rig.api.fail_next_acks = 3
    rig.start()
    rig.queue.send(make_job(1))
    wait_tickets(rig.printer, 2)
    rig.api.wait_for(lambda a: len(a.ack_attempts) >= 3)
    # acks are failing: the message is still held (in flight), not deleted
    assert rig.queue.counts() == (0, 1)
    rig.api.wait_for(lambda a: len(a.acks) == 2, timeout=30)
    wait_until(rig.queue.empty, what="message deleted after the acks")
    assert len(printed(rig.printer)) == 2


def test_ack_refused_for_good_is_recorded_and_the_message_deleted(rig):
    job = make_job(2)
    rig.api.reject_jobs.add(job["job_id"])
    relay = rig.start()
    rig.queue.send(job)
    wait_until(rig.queue.empty, what="message deleted")
    states = {c.copy: c.state for c in relay.ledger.copies(job["job_id"])}
    assert states == {"picking": "rejected", "delivery": "rejected"}
    beat = rig.api.wait_for(
        lambda a: next((h for h in a.heartbeats if h["errors"]), None), timeout=5
    )
    assert any(e["job_id"] == job["job_id"] and "refused" in e["message"] for e in beat["errors"])


def test_a_redelivered_job_is_acknowledged_not_printed_again(rig):
    job = make_job(3)
    rig.start()
    rig.queue.send(job)
    wait_tickets(rig.printer, 2)
    rig.api.wait_for(lambda a: len(a.acks) == 2)
    wait_until(rig.queue.empty)
    # the watchdog re-sends the job with a higher attempt (a new message, same job_id)
    rig.queue.send({**job, "attempt": 2})
    rig.api.wait_for(lambda a: len(a.acks) == 4)
    wait_until(rig.queue.empty, what="re-sent message deleted")
    time.sleep(0.3)
    assert len(printed(rig.printer)) == 2


def test_the_same_job_twice_in_the_queue_prints_once(rig):
    job = make_job(4)
    rig.queue.send(job)
    rig.queue.send({**job, "attempt": 2})  # arrives before the first is printed
    rig.start()
    wait_until(rig.queue.empty, what="both messages deleted")
    tickets = printed(rig.printer)
    assert [(t.order_id, t.copy) for t in tickets] == [
        (job["order_id"], "picking"),
        (job["order_id"], "delivery"),
    ]


def test_tickets_are_late_stamped_when_printed_late(rig):
    rig.start()
    rig.queue.send(make_job(5, paid_ago_s=10 * 60 + 5))
    rig.queue.send(make_job(6, paid_ago_s=30))
    tickets = wait_tickets(rig.printer, 4)
    assert [(t.daily_seq, t.late_minutes) for t in tickets] == [
        (5, 10),
        (5, 10),
        (6, None),
        (6, None),
    ]


def test_failover_to_the_second_printer_when_the_first_is_down(rig):
    dead = closed_port()
    with FakePrinter() as back:
        config = rig.config(
            printers=[printer_section("front", dead), printer_section("back", back.port)],
            copies={"picking": "front", "delivery": "front"},
        )
        rig.start(config)
        rig.queue.send(make_job(7))
        tickets = wait_tickets(back, 2)
        assert [t.copy for t in tickets] == ["picking", "delivery"]
        rig.api.wait_for(lambda a: len(a.acks) == 2)
        assert {a["printer"] for a in rig.api.acks} == {"back"}


def test_no_failover_when_turned_off_the_job_waits(rig):
    dead = closed_port()
    with FakePrinter() as back:
        config = rig.config(
            printers=[printer_section("front", dead), printer_section("back", back.port)],
            failover=False,
        )
        relay = rig.start(config)
        job = make_job(8)
        rig.queue.send(job)
        wait_until(lambda: relay.ledger.has_job(job["job_id"]))
        time.sleep(0.5)
        assert printed(back) == []
        assert {c.state for c in relay.ledger.copies(job["job_id"])} == {"pending"}


def test_copies_go_to_their_own_printers(rig):
    with FakePrinter() as back:
        config = rig.config(
            printers=[
                printer_section("front", rig.printer.port),
                printer_section("back", back.port, paper_mm=80),
            ],
            copies={"picking": "back", "delivery": "front"},
        )
        rig.start(config)
        rig.queue.send(make_job(9))
        (picking,) = wait_tickets(back, 1)
        (delivery,) = wait_tickets(rig.printer, 1)
        assert picking.copy == "picking" and delivery.copy == "delivery"
        widths = {len(line.encode("gbk")) for line in picking.text.splitlines() if "=" * 10 in line}
        assert widths == {48}  # the back printer has 80 mm paper


def test_heartbeat_reports_printers_ledger_and_version(rig):
    # A loaded machine can leave one status probe unanswered in its time limit (the
    # detail then says so): heartbeats repeat, and a healthy printer's clears it.
    rig.api.heartbeat_interval_s = 0.2
    rig.start()
    beat = rig.api.wait_for(
        lambda a: next((h for h in reversed(a.heartbeats) if not h["printers"][0]["detail"]), None)
    )
    assert beat["hostname"] == "test-pc"
    assert beat["relay_version"]
    assert beat["started_at"].endswith("Z")
    assert beat["printers"] == [{"name": "front", "state": "online", "detail": "", "paper_mm": 58}]
    assert beat["ledger"] == {"pending_copies": 0, "unacked_copies": 0, "oldest_pending_s": 0}
    assert beat["errors"] == []


def test_another_relay_on_the_same_token_is_shouted_and_reported(rig, caplog):
    rig.api.other_relay_host = "back-office-pc"
    rig.api.heartbeat_interval_s = 0.2
    rig.start()
    beat = rig.api.wait_for(lambda a: next((h for h in a.heartbeats if h["errors"]), None))
    assert beat["errors"] == [
        {"job_id": None, "message": "another relay (host back-office-pc) uses this relay's token"}
    ]
    assert any(
        "ANOTHER RELAY (host back-office-pc)" in r.getMessage() and r.levelname == "ERROR"
        for r in caplog.records
    )


def test_paper_out_shows_in_the_heartbeat_and_tickets_wait(rig):
    rig.printer.default = Behaviour(status="paper_out")
    relay = rig.start()
    beat = rig.api.wait_for(
        lambda a: next((h for h in a.heartbeats if h["printers"][0]["state"] == "paper_out"), None)
    )
    assert beat["printers"][0]["name"] == "front"
    job = make_job(10)
    rig.queue.send(job)
    wait_until(lambda: relay.ledger.has_job(job["job_id"]))
    time.sleep(0.4)
    assert rig.api.acks == []
    beat = rig.api.wait_for(
        lambda a: a.heartbeats[-1]["ledger"]["pending_copies"] == 2 and a.heartbeats[-1]
    )
    # paper loaded: the tickets print
    rig.printer.default = Behaviour()
    rig.api.wait_for(lambda a: len(a.acks) == 2, timeout=30)
    rig.api.wait_for(lambda a: a.heartbeats[-1]["printers"][0]["state"] == "online")
    good = [t for t in printed(rig.printer) if t.complete]
    assert {t.copy for t in good} == {"picking", "delivery"}


def test_relay_keeps_running_with_a_revoked_token(rig):
    rig.api.revoked = True
    relay = rig.start()
    rig.api.wait_for(lambda a: a.unauthorized >= 2)
    assert all(t.is_alive() for t in relay._threads)
    rig.api.revoked = False
    rig.queue.send(make_job(11))
    rig.api.wait_for(lambda a: len(a.acks) == 2, timeout=30)


def test_ledger_survives_a_restart_with_printed_unacked_copies(rig):
    rig.api.revoked = True  # no credentials: the relay cannot receive; seed the ledger directly
    job = make_job(13)
    ledger = Ledger(rig.tmp_path / "ledger.sqlite3")
    ledger.add_message(
        message_id="m-1",
        receipt_handle="gone",
        receive_count=1,
        received_at=time.time(),
        visible_until=time.time() + 60,
        job=job,
    )
    ledger.mark_printing(job["job_id"], "picking")  # killed mid-print
    ledger.close()
    rig.api.revoked = False
    relay = rig.start()
    tickets = wait_tickets(rig.printer, 2)
    assert [(t.copy, t.reprint) for t in tickets] == [("picking", True), ("delivery", False)]
    rig.api.wait_for(lambda a: len(a.acks) == 2)
    assert [(a["copy"], a.get("reprinted", False)) for a in rig.api.acks] == [
        ("picking", True),
        ("delivery", False),
    ]
    assert relay.ledger.copies(job["job_id"])[0].printed_as_reprint


def test_network_printer_name_comes_from_the_config(rig):
    config = rig.config()
    printer = config.printers[0].build()
    assert isinstance(printer, NetworkPrinter) and printer.name == "front"
    assert json.loads(json.dumps(config.copies)) == {
        "picking": "front",
        "delivery": "front",
        "slip": "front",
    }
    assert config.store_id == STORE


def test_print_gap_separates_every_two_tickets_on_a_printer_across_passes(rig):
    """A backlog drains over several passes (one per received batch of at most 10
    messages); print_gap_s must hold between any two tickets, copies of one job included."""
    gap = 0.15
    rig.start(rig.config(print_gap_s=gap, status_interval_s=3600))
    for n in range(1, 15):
        rig.queue.send(make_job(n))
    rig.api.wait_for(lambda a: len(a.acks) == 28, timeout=30)
    tickets = [c for c in list(rig.printer.connections) if c.job]
    assert len(tickets) == 28
    # The printer's journal: from the last byte of a ticket (its status answer, which the
    # relay waits for) to the next ticket's connection. Load can only make it longer.
    gaps = [b.accepted_mono - a.last_read_mono for a, b in itertools.pairwise(tickets)]
    assert min(gaps) >= gap, sorted(gaps)[:3]


def test_a_test_print_prints_one_slip_with_the_relay_label_and_is_acknowledged(rig):
    """打印测试 from the store page (kind test, copy test): one short slip, never late,
    acknowledged like any job so head office sees it printed."""
    job = make_job(
        31,
        kind="test",
        copies=["test"],
        order_id="",
        daily_seq=None,
        lines=[],
        paid_at=None,
        created_at="2026-11-24T02:30:00Z",  # hours ago: a test slip is never late
        test={"requested_by": "hq-admin", "relay_id": "rly-1", "relay_name": "收银台电脑"},
    )
    job["job_id"] = "test-sh-jingan-0001"
    rig.start()
    rig.queue.send(job)
    (ticket,) = wait_tickets(rig.printer, 1)
    assert ticket.copy == "test" and ticket.complete and ticket.late_minutes is None
    assert "打印测试" in ticket.text and "收银台电脑" in ticket.text
    assert "鲜到家 静安寺店" in ticket.text and "10:30" in ticket.text  # local time
    rig.api.wait_for(lambda a: len(a.acks) == 1)
    assert [(a["job_id"], a["copy"]) for a in rig.api.acks] == [("test-sh-jingan-0001", "test")]
    wait_until(rig.queue.empty, what="message deleted")
