"""Use cases behind head office's routes: list and retry parked deliveries."""

from __future__ import annotations

import json
from typing import Any, cast

from chalicelib.events import dispatch
from chalicelib.events import schemas as s
from chalicelib.events.models import DeliveryModel


def _view(m: DeliveryModel) -> s.Delivery:
    try:
        event = json.loads(m.event) if m.event else None
    except ValueError:
        event = None
    return s.Delivery(
        delivery_id=m.delivery_id,
        event_id=m.event_id,
        event_type=m.event_type,
        subscriber=m.subscriber,
        # The str columns hold the schema's literals (checked when written): cast.
        status=cast(Any, m.status),
        attempts=int(m.attempts or 0),
        last_error=m.last_error,
        parked_at=m.parked_at,
        updated_at=m.updated_at,
        event=event,
    )


def parked(limit: int) -> s.ParkedPage:
    items, truncated = dispatch.list_parked(limit)
    return s.ParkedPage(items=[_view(m) for m in items], truncated=truncated)


def retry(delivery_id: str) -> s.Delivery:
    return _view(dispatch.retry_parked(delivery_id))
