"""The print watchdog: a job not acknowledged in time is re-sent and shown to head office
as a missed print (漏单) until the relay acknowledges it.

The promise is that a missed print shows within ``MISSED_WITHIN_S`` (60 s) of payment. A
job is due ``ACK_WITHIN_S`` (30 s) after payment (its ``watch_at``, set when it is created
with the paid order), and is flagged by the first pass at or after that. Passes come from a
schedule: every 5 s in the local stack, every minute in AWS (the shortest rate EventBridge
has). With passes only at each run, a job due just after a run would wait a whole period:
30 + 60 = 90 s in AWS. So a run also covers what falls due before the next run could flag
it in time: it waits for jobs due up to ``period_s - (MISSED_WITHIN_S - ACK_WITHIN_S)``
after it starts (30 s in AWS, nothing locally), re-checking every few seconds, and ends as
soon as none is due in that window; usually at once, as relays acknowledge in seconds.
Worst case: ACK_WITHIN_S + max(0, period - window) ≤ MISSED_WITHIN_S.

It reads the sparse ``by_watch`` index (only unacknowledged jobs are in it), so its cost
follows the number of late jobs, not the size of the table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from chalicelib.printing import dispatch as print_dispatch
from chalicelib.printing.models import PrintJobModel
from chalicelib.printing.print_jobs import ACK_WITHIN_S, UNACKED

log = logging.getLogger("daojia.print")

MISSED_WITHIN_S = 60  # a missed print shows this soon after payment, at the latest
AWS_PERIOD_S = 60  # app.py: @app.schedule(Rate(1, unit=Rate.MINUTES))
RECHECK_S = 5.0  # while waiting for a due job: acknowledged jobs leave the index meanwhile


def window_s(period_s: float) -> float:
    """How far past its start a run must look so that the next run is not too late."""
    return max(0.0, period_s - (MISSED_WITHIN_S - ACK_WITHIN_S))


def run(
    now: int | None = None,
    limit: int = 200,
    budget_s: float = 7.0,
    *,
    period_s: float = 0,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> int:
    """Re-send every job whose acknowledgement is overdue and mark it missed, oldest
    first; then, when this runs every ``period_s`` (jobs.print_watchdog: 60 s in AWS),
    wait for the jobs that fall due within ``window_s(period_s)`` and do the same for
    them. Returns how many were re-sent. A job that fails is logged and tried again next
    run; so is whatever is left when a pass's ``budget_s`` runs out. ``now`` fixes the time
    of a single pass (no waiting)."""
    if now is not None:
        return _pass(int(now), limit, budget_s)
    clock, sleep = clock or time.time, sleep or time.sleep
    start = clock()
    window = window_s(period_s)
    horizon = start + window
    give_up = time.monotonic() + window + budget_s  # whatever the clock does: the Lambda ends
    t = int(start)
    resent = _pass(t, limit, budget_s)
    while time.monotonic() < give_up:
        due = _next_due(after=t)  # jobs a pass already tried wait for the next run
        if due is None or due > horizon:
            break
        wait = due - clock()
        if wait > 0:
            sleep(min(wait, RECHECK_S))
            continue
        t = int(clock())
        resent += _pass(t, limit, budget_s)
    return resent


def _next_due(after: int) -> int | None:
    """The earliest ``watch_at`` after ``after`` among unacknowledged jobs."""
    for key in PrintJobModel.by_watch.query(UNACKED, PrintJobModel.watch_at > after, limit=1):
        return int(key.watch_at)
    return None


def _pass(now: int, limit: int, budget_s: float) -> int:
    deadline = time.monotonic() + budget_s
    resent = 0
    overdue = PrintJobModel.by_watch.query(UNACKED, PrintJobModel.watch_at <= now, limit=limit)
    for key in overdue:
        if time.monotonic() > deadline:
            log.warning("print watchdog: out of time; the other late jobs wait for the next run")
            break
        try:
            resent += print_dispatch.resend_overdue(key.job_id, now)
        except Exception:
            log.exception("print job %s: re-send failed; trying again next run", key.job_id)
    if resent:
        log.warning("print watchdog: %d job(s) re-sent and shown as missed prints", resent)
    return resent
