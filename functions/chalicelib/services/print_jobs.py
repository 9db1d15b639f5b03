"""Print jobs: created in the same transaction as the order change that needs a ticket."""

from __future__ import annotations

import time

from chalicelib import clock
from chalicelib.db.order_models import OrderModel, PrintJobModel

ACK_WITHIN_S = 60  # a job not acknowledged by then is re-sent and shown as missed (漏单)


def new_job(
    order: OrderModel, kind: str, copies: set[str], original_job_id: str | None = None
) -> PrintJobModel:
    """A pending job for the order's store. ``kind``: order | reprint | cancellation."""
    n = len(order.print_job_ids or ()) + 1
    return PrintJobModel(
        f"{order.order_id}-p{n}",
        store_id=order.store_id,
        order_id=order.order_id,
        kind=kind,
        copies=copies,
        status="pending",
        store_status=f"{order.store_id}#pending",
        watch="unacked",
        watch_at=int(time.time()) + ACK_WITHIN_S,
        original_job_id=original_job_id,
        created_at=clock.now_iso_ms(),
    )


def add_to_order(job: PrintJobModel) -> list:
    """Order update actions that remember the job."""
    return [OrderModel.print_job_ids.add({job.job_id})]
