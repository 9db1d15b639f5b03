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

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

import msgspec

from chalicelib.auth.principal import Principal
from chalicelib.db import transitions
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock
from chalicelib.printing import messages as m
from chalicelib.printing.models import PrintJobModel
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
    try:
        zone = ZoneInfo(store.timezone)
    except Exception:
        zone = ZoneInfo("Asia/Shanghai")
    day = datetime.fromisoformat(job.created_at.replace("Z", "+00:00")).astimezone(zone)
    return m.PrintJobMessage(
        schema_version=m.SCHEMA_VERSION,
        job_id=job.job_id,
        kind=KIND,
        attempt=attempt,
        copies=[COPY],
        original_job_id=None,
        store_id=store.store_id,
        store_name=store.name,
        store_phone=store.phone,
        store_timezone=store.timezone,
        order_id="",
        daily_seq=None,
        business_day=day.date().isoformat(),
        fulfilment="pickup",
        created_at=job.created_at,
        paid_at=None,
        lines=[],
        remark=None,
        pickup_code=None,
        delivery=None,
        amounts=m.Amounts(subtotal_fen=0, discount_fen=0, delivery_fee_fen=0, total_fen=0),
        discounts=[],
        cancellation=None,
        pick_list=msgspec.json.decode(job.pick_list or "{}", type=m.PickList),
    )
