"""The print watchdog: a job not acknowledged in time is re-sent and shown to head office
as a missed print (漏单) until the relay acknowledges it.

Runs every minute in AWS (``@app.schedule``) and every 5 s in the local stack. It reads
the sparse ``by_watch`` index (only unacknowledged jobs are in it) up to now, so its cost
follows the number of late jobs, not the size of the table.
"""

from __future__ import annotations

import logging
import time

from chalicelib.db.order_models import PrintJobModel
from chalicelib.services import print_dispatch
from chalicelib.services.print_jobs import UNACKED

log = logging.getLogger("daojia.print")


def run(now: int | None = None, limit: int = 200, budget_s: float = 7.0) -> int:
    """Re-send every job whose acknowledgement is overdue and mark it missed, oldest
    first. Returns how many were re-sent. A job that fails is logged and tried again next
    run; so is whatever is left when ``budget_s`` runs out (the Lambda has 10 s)."""
    now = int(now if now is not None else time.time())
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
