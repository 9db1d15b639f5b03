"""Driving the domain events' streams in tests, as Lambda (and the local worker) do:
read the orders, refunds and customers streams of the current moto and hand every record
to the events dispatcher. Records already handled are read again (from the stream's
start) and skipped by their delivery markers, or run again (subscribers declared
idempotent write no done marker), as a redelivery is."""

from __future__ import annotations

from typing import Any

EVENT_TABLES = ("orders", "refunds", "customers")


def stream_records(table: str) -> list[dict[str, Any]]:
    """Every record of ``table``'s stream (short name), oldest first."""
    from chalicelib.kernel import config

    from infra.local.worker import StreamReader

    got: list[dict[str, Any]] = []
    reader = StreamReader(config.table_name(table), got.extend)
    while reader.poll_once():
        pass
    return got


def deliver_events(registry: Any = None) -> int:
    """Deliver every event now in the streams; returns how many deliveries succeeded."""
    from chalicelib.events.dispatch import handle_stream_records

    return sum(
        handle_stream_records(table, stream_records(table), registry) for table in EVENT_TABLES
    )


def events_in(table: str, records: list[dict[str, Any]]) -> list[Any]:
    """The events of ``table``'s records, as the handler builds them: with the details
    (lines) of the batch's orders read first."""
    from chalicelib.events import dispatch
    from chalicelib.events import records as rec

    details = dispatch.order_details(rec.detail_ids(table, records))
    return [e for record in records for e in rec.events_of(table, record, details)]
