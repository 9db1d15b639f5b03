"""Delivery markers: one item per (event, subscriber) that was tried.

``status``: ``done`` (the subscriber ran; a redelivery skips it), ``failed`` (it raised;
the retry job tries again at ``retry_at``), ``parked`` (it failed ``MAX_ATTEMPTS``
times: on head office's dead-letter list, ``GET /admin/events/parked``, until retried
there). A failed or parked marker keeps the event, so it can be retried without the
stream. Done markers expire after ``DONE_KEEP_S`` (the stream keeps records 24 h).
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import _meta


class DeliveriesDue(GlobalSecondaryIndex):
    """Sparse: failed deliveries by the time of their next attempt (the retry job)."""

    class Meta:
        index_name = "by_retry"
        projection = KeysOnlyProjection()

    retry = UnicodeAttribute(hash_key=True)  # "due" while failed
    retry_at = NumberAttribute(range_key=True)


class DeliveriesParked(GlobalSecondaryIndex):
    """Sparse: parked deliveries, oldest first (head office's dead-letter list). Whole
    items: the list is short and read rarely, and shows the error and the event."""

    class Meta:
        index_name = "by_parked"
        projection = AllProjection()

    parked = UnicodeAttribute(hash_key=True)  # "parked" while parked
    parked_at = UnicodeAttribute(range_key=True)


class DeliveryModel(Model):
    Meta = _meta("event_deliveries")

    delivery_id = UnicodeAttribute(hash_key=True)  # a digest of (event_id, subscriber)
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    subscriber = UnicodeAttribute()
    status = UnicodeAttribute()  # done | failed | parked
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    event = UnicodeAttribute(null=True)  # the encoded event, kept while not done
    retry = UnicodeAttribute(null=True)
    retry_at = NumberAttribute(null=True)
    parked = UnicodeAttribute(null=True)
    parked_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)

    by_retry = DeliveriesDue()
    by_parked = DeliveriesParked()


EVENT_MODELS: tuple[type[Model], ...] = (DeliveryModel,)
