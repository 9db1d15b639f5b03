"""The audit log's table: one entry per admin change, written once and never updated.

Every listing pages on an index whose sort key is ``at_id`` (the entry's time, then its
id, so entries of one instant keep a stable order): by UTC day (head office's log), by
store and day (a store manager's log, a store filter), by target (one store, SKU,
template...) and by actor. Times are UTC ISO-8601 with milliseconds; money in fen."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.db.models import _meta


class AuditByDay(GlobalSecondaryIndex):
    """Every entry, by the UTC day it was written: head office's log over a date range."""

    class Meta:
        index_name = "by_day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)  # "2026-12-05"
    at_id = UnicodeAttribute(range_key=True)


class AuditByStoreDay(GlobalSecondaryIndex):
    """Entries about one store's things, by day: what a store manager may read."""

    class Meta:
        index_name = "by_store_day"
        projection = AllProjection()

    store_day = UnicodeAttribute(hash_key=True)  # "sh-jingan#2026-12-05"
    at_id = UnicodeAttribute(range_key=True)


class AuditByTarget(GlobalSecondaryIndex):
    """The history of one thing: ``store_item#sh-jingan/100001``."""

    class Meta:
        index_name = "by_target"
        projection = AllProjection()

    target = UnicodeAttribute(hash_key=True)  # "<type>#<id>"
    at_id = UnicodeAttribute(range_key=True)


class AuditByActor(GlobalSecondaryIndex):
    """What one account changed."""

    class Meta:
        index_name = "by_actor"
        projection = AllProjection()

    actor = UnicodeAttribute(hash_key=True)
    at_id = UnicodeAttribute(range_key=True)


class AuditEntryModel(Model):
    """One change. ``changes`` is JSON: {field: [before, after]} for the fields that
    changed only (money in fen). Written with ``entry_id`` must not exist, never updated
    or deleted (no code path does: tests/api/test_audit.py checks the routes)."""

    Meta = _meta("audit")

    entry_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute()
    at_id = UnicodeAttribute()  # "<at>#<entry_id>"
    day = UnicodeAttribute()
    actor = UnicodeAttribute()
    role = UnicodeAttribute()
    actor_store_id = UnicodeAttribute(null=True)
    action = UnicodeAttribute()  # "store.update", "store_item.update", ...
    target_type = UnicodeAttribute()
    target_id = UnicodeAttribute()
    target = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)  # the store the target belongs to
    store_day = UnicodeAttribute(null=True)
    changes = UnicodeAttribute()  # JSON {field: [before, after]}

    by_day = AuditByDay()
    by_store_day = AuditByStoreDay()
    by_target = AuditByTarget()
    by_actor = AuditByActor()


AUDIT_MODELS: tuple[type[Model], ...] = (AuditEntryModel,)
