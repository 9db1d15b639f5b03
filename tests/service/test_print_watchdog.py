"""The missed-print (漏单) flag shows within 60 s of payment whatever the watchdog's
schedule: the worst cases, run deterministically on a fake clock."""

from __future__ import annotations

from datetime import datetime

import pytest
from chalicelib.printing.models import PrintJobModel

from tests.service.test_print_dispatch import messages, paid_job  # noqa: F401 (fixture)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept.append(seconds)
        self.now += seconds


def flagged_at(job_id: str) -> int | None:
    """When the watchdog marked the job missed (its re-send sets watch_at = then + 60)."""
    from chalicelib.printing import print_jobs

    job = PrintJobModel.get(job_id, consistent_read=True)
    if job.status != "missed":
        return None
    return int(job.watch_at) - print_jobs.resend_interval(int(job.attempts))


@pytest.fixture
def sent_job(paid_job):  # noqa: F811
    from chalicelib.printing import dispatch as print_dispatch

    assert print_dispatch.dispatch(paid_job)
    messages()
    return paid_job


def test_the_deadline_counts_from_payment_not_from_the_send(paid_job):  # noqa: F811
    """The payment writes the ticket with its deadline (ACK_WITHIN_S from then); the send
    leaves it. Compared with the job's own creation time, not the wall clock: on a
    loaded machine seconds pass between the provider's notice and its handling."""
    from chalicelib.printing import dispatch as print_dispatch
    from chalicelib.printing.print_jobs import ACK_WITHIN_S

    job = PrintJobModel.get(paid_job, consistent_read=True)
    created = datetime.fromisoformat(job.created_at.replace("Z", "+00:00")).timestamp()
    assert ACK_WITHIN_S <= 45
    assert int(job.watch_at) - int(created) in (ACK_WITHIN_S - 1, ACK_WITHIN_S)
    # a payment 10 s ago: the send, now, keeps that deadline
    earlier = int(job.watch_at) - 10
    job.update(actions=[PrintJobModel.watch_at.set(earlier)])
    assert print_dispatch.dispatch(paid_job)
    messages()
    assert int(PrintJobModel.get(paid_job, consistent_read=True).watch_at) == earlier


def test_aws_worst_case_a_run_just_before_the_deadline_waits_for_it(sent_job):
    """Runs come every 60 s. A run that starts 1 s before the job falls due must not leave
    it to the next run (59 s later): it waits for it and flags it on time."""
    from chalicelib.printing import watchdog as print_watchdog
    from chalicelib.printing.print_jobs import ACK_WITHIN_S

    due = int(PrintJobModel.get(sent_job, consistent_read=True).watch_at)
    paid = due - ACK_WITHIN_S
    clock = FakeClock(due - 1)

    assert print_watchdog.run(period_s=60, clock=clock.time, sleep=clock.sleep) == 1

    assert flagged_at(sent_job) - paid <= print_watchdog.MISSED_WITHIN_S
    assert sum(clock.slept) <= print_watchdog.window_s(60)  # the Lambda's time is bounded


@pytest.mark.parametrize("phase", [0, 1, 13, 29, 30, 31, 45, 59])
def test_every_schedule_phase_flags_within_60_s_of_payment(paid_job, phase):  # noqa: F811
    """Runs every 60 s starting ``phase`` s after payment: whichever run gets the job, it
    is flagged ≤ 60 s after payment; runs with nothing due soon do not wait at all."""
    from chalicelib.printing import dispatch as print_dispatch
    from chalicelib.printing import watchdog as print_watchdog
    from chalicelib.printing.print_jobs import ACK_WITHIN_S

    print_dispatch.dispatch(paid_job)
    messages()
    paid = int(PrintJobModel.get(paid_job, consistent_read=True).watch_at) - ACK_WITHIN_S
    clock = FakeClock(paid + phase)
    while flagged_at(paid_job) is None:
        assert clock.now < paid + 180, "never flagged"
        start = clock.now
        waited = len(clock.slept)
        print_watchdog.run(period_s=60, clock=clock.time, sleep=clock.sleep)
        if flagged_at(paid_job) is None:
            assert len(clock.slept) == waited  # nothing due within its window: no waiting
        clock.now = start + 60
    assert flagged_at(paid_job) - paid <= print_watchdog.MISSED_WITHIN_S


def test_the_local_stack_schedule_never_waits(sent_job):
    """Every 5 s: ACK_WITHIN_S + 5 ≤ 60 s, so a run never needs to wait."""
    from chalicelib.printing import watchdog as print_watchdog
    from chalicelib.printing.print_jobs import ACK_WITHIN_S

    assert print_watchdog.window_s(5) == 0
    due = int(PrintJobModel.get(sent_job, consistent_read=True).watch_at)
    clock = FakeClock(due - 1)
    assert print_watchdog.run(period_s=5, clock=clock.time, sleep=clock.sleep) == 0
    assert clock.slept == []
    clock.now = due - 1 + 5
    assert print_watchdog.run(period_s=5, clock=clock.time, sleep=clock.sleep) == 1
    assert flagged_at(sent_job) - (due - ACK_WITHIN_S) <= ACK_WITHIN_S + 5
