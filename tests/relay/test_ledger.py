"""The ledger on its own: states, order, redeliveries, crash recovery, pruning, one owner."""

from __future__ import annotations

import time

import pytest

from print_relay.ledger import Ledger, LedgerLocked
from tests.relay.conftest import make_job


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite3")
    yield led
    led.close()


def add(ledger: Ledger, job: dict, message_id: str, count: int = 1) -> str:
    now = time.time()
    return ledger.add_message(
        message_id=message_id,
        receipt_handle=f"h-{message_id}-{count}",
        receive_count=count,
        received_at=now,
        visible_until=now + 60,
        job=job,
    )


def test_pragmas(ledger):
    conn = ledger._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_copies_come_out_in_arrival_then_copy_order(ledger):
    for n in (3, 1, 2):
        assert add(ledger, make_job(n), f"m{n}") == "new"
    assert [(ledger_row.job_id[-5:], ledger_row.copy) for ledger_row in ledger.printable()] == [
        ("03-p1", "picking"),
        ("03-p1", "delivery"),
        ("01-p1", "picking"),
        ("01-p1", "delivery"),
        ("02-p1", "picking"),
        ("02-p1", "delivery"),
    ]


def test_full_cycle_and_messages(ledger):
    job = make_job(1)
    add(ledger, job, "m1")
    assert add(ledger, {**job, "attempt": 2}, "m2") == "open"  # watchdog re-send, kept once
    assert len(ledger.printable()) == 2
    for copy in ("picking", "delivery"):
        ledger.mark_printing(job["job_id"], copy)
        ledger.mark_printed(job["job_id"], copy, printer="front", as_reprint=False, at=time.time())
    assert ledger.stats(time.time())["unacked_copies"] == 2
    assert ledger.finish_jobs(time.time()) == []
    assert ledger.deletable_messages() == []
    for c in ledger.due_acks(time.time()):
        ledger.mark_acked(c.job_id, c.copy, time.time())
    assert ledger.finish_jobs(time.time()) == [job["job_id"]]
    assert sorted(m.message_id for m in ledger.deletable_messages()) == ["m1", "m2"]
    ledger.set_message_state("m1", "deleted")
    ledger.set_message_state("m2", "deleted")
    assert ledger.held_message_count() == 0
    # a later redelivery: acknowledged again, never printed again
    assert add(ledger, {**job, "attempt": 3}, "m3") == "reopened"
    assert ledger.printable() == []
    assert [c.copy for c in ledger.due_acks(time.time())] == ["picking", "delivery"]


def test_unclear_and_crash_mean_reprint(ledger):
    job = make_job(1)
    add(ledger, job, "m1")
    ledger.mark_printing(job["job_id"], "picking")
    ledger.mark_not_printed(job["job_id"], "picking", unclear=True, error="FIN after 100 bytes")
    ledger.mark_printing(job["job_id"], "delivery")
    ledger.mark_not_printed(job["job_id"], "delivery", unclear=False, error="refused")
    rows = {c.copy: c for c in ledger.printable()}
    assert rows["picking"].reprint and not rows["delivery"].reprint
    ledger.mark_printing(job["job_id"], "delivery")
    assert ledger.recover() == [(job["job_id"], "delivery")]  # killed while printing it
    assert all(c.reprint for c in ledger.printable())


def test_ack_retry_schedule(ledger):
    job = make_job(1)
    add(ledger, job, "m1")
    ledger.mark_printing(job["job_id"], "picking")
    ledger.mark_printed(job["job_id"], "picking", printer="front", as_reprint=True, at=time.time())
    now = time.time()
    ledger.ack_later(job["job_id"], "picking", next_at=now + 5, error="HTTP 503")
    assert ledger.due_acks(now) == []
    assert ledger.next_ack_at() == pytest.approx(now + 5)
    (row,) = ledger.due_acks(now + 6)
    assert row.ack_tries == 1 and row.printed_as_reprint


def test_a_printed_copy_waits_for_the_rest_of_its_job_then_goes_alone(ledger):
    """One acknowledgement per job: a printed copy is not due while another copy of its
    job is still to print, for at most ``wait_s`` after it printed."""
    job, other = make_job(1), make_job(2)
    add(ledger, job, "m1")
    add(ledger, other, "m2")
    jid = job["job_id"]
    ledger.mark_printing(jid, "picking")
    ledger.mark_printed(jid, "picking", printer="front", as_reprint=False, at=100.0)
    assert ledger.due_acks(101.0, wait_s=10) == []
    assert ledger.next_ack_at(wait_s=10) == 110.0
    assert [c.copy for c in ledger.due_acks(110.0, wait_s=10)] == ["picking"]  # goes alone
    assert [c.copy for c in ledger.due_acks(101.0)] == ["picking"]  # no wait asked
    ledger.mark_printing(jid, "delivery")  # being printed: still waits
    assert ledger.due_acks(101.0, wait_s=10) == []
    ledger.mark_printed(jid, "delivery", printer="front", as_reprint=False, at=101.5)
    due = ledger.due_acks(101.5, wait_s=10)
    assert [(c.job_id, c.copy) for c in due] == [(jid, "picking"), (jid, "delivery")]
    assert ledger.next_ack_at(wait_s=10) == 0
    # a retry after a failed ack keeps its own schedule
    for copy in ("picking", "delivery"):
        ledger.ack_later(jid, copy, next_at=105.0, error="HTTP 500")
    assert ledger.due_acks(102.0, wait_s=10) == []
    assert len(ledger.due_acks(105.0, wait_s=10)) == 2


def test_failure_reports_once_per_job(ledger):
    body = {"reason": "render_failed", "message": "x", "receive_count": 5}
    assert ledger.add_failure("j1", body, time.time())
    assert not ledger.add_failure("j1", body, time.time())
    ((job_id, got, tries),) = ledger.due_failures(time.time())
    assert (job_id, got, tries) == ("j1", body, 0)
    ledger.failure_sent("j1", time.time())
    assert ledger.due_failures(time.time()) == []


def test_prune_forgets_old_finished_jobs_only(ledger):
    old, fresh, open_ = make_job(1), make_job(2), make_job(3)
    for n, job in enumerate((old, fresh, open_)):
        add(ledger, job, f"m{n}")
    for job in (old, fresh):
        for copy in ("picking", "delivery"):
            ledger.mark_rejected(job["job_id"], copy, "test")
    ledger.finish_jobs(time.time() - 10 * 86400)  # both finished "ten days ago"...
    ledger._conn.execute(
        "UPDATE jobs SET done_at = ? WHERE job_id = ?", (time.time(), fresh["job_id"])
    )
    assert ledger.prune(time.time(), 7 * 86400) == 1
    assert not ledger.has_job(old["job_id"])
    assert ledger.has_job(fresh["job_id"]) and ledger.has_job(open_["job_id"])


def test_one_relay_per_ledger(tmp_path, ledger):
    with pytest.raises(LedgerLocked, match="another relay is already running"):
        Ledger(tmp_path / "ledger.sqlite3")
    reader = Ledger(tmp_path / "ledger.sqlite3", exclusive=False)
    assert reader.stats(time.time())["pending_copies"] == 0
    reader.close()
