"""Consolidated picking lists (kind ``group_pick_list``): one slip for a store that
hands out many orders of one SKU at once (a group buy's 百人团). Like a test print the
job has no order behind it (``order_id`` empty): the list is written whole on the job,
so dispatch builds the message from the job and the store alone, and the printing
feature knows nothing of group buys. Never watched nor re-sent by the watchdog, never a
missed print: each member's order has its own watched ticket.

Created once per caller-given id (a conditional put): a replayed or resumed success
finds the job there and writes nothing.
"""

from __future__ import annotations

from typing import Final

import msgspec

from chalicelib.auth.principal import Principal
from chalicelib.db import transitions
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock
from chalicelib.printing import messages as m
from chalicelib.printing.models import PrintJobModel
from chalicelib.printing.test_prints import orderless_message
from chalicelib.stores.models import StoreModel

KIND: Final = "group_pick_list"
COPY: Final = "pick_list"
# the job is written by a scheduled job or a payment's reaction, never by a person
SYSTEM = Principal("system", "system")  # type: ignore[arg-type]


def create(job_id: str, store_id: str, pick_list: m.PickList) -> bool:
    """Put the pending job unless it exists (True: this call created it)."""
    job = PrintJobModel(
        job_id,
        store_id=store_id,
        order_id="",
        kind=KIND,
        copies={COPY},
        status="pending",
        created_at=clock.now_iso_ms(),
        pick_list=msgspec.json.encode(pick_list).decode(),
    )
    job.history = [transitions.entry("pick_list", None, "pending", SYSTEM, pick_list.group_id)]
    try:
        job.save(condition=PrintJobModel.job_id.does_not_exist())
    except Exception as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def message(job: PrintJobModel, store: StoreModel, attempt: int) -> m.PrintJobMessage:
    """The queue message of a picking-list job: the list, the order fields empty."""
    return orderless_message(
        job,
        store,
        attempt,
        KIND,
        COPY,
        pick_list=msgspec.json.decode(job.pick_list or "{}", type=m.PickList),
    )
