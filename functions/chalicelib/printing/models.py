"""Print job tables: the jobs of each paid order, and monotonic counters (e.g.
a store's daily order sequence). Times are UTC ISO-8601 strings, except epoch-second
attributes used as index sort keys or TTL."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import (
    GlobalSecondaryIndex,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib.db.models import _meta
from chalicelib.db.transitions import HistoryAttribute


class PrintJobsByStoreStatus(GlobalSecondaryIndex):
    """Sparse: a store's print jobs that someone lists (missed, resolved), oldest first.
    A job on the normal path (pending -> sent -> printed) has no ``store_status`` and
    never enters it, and the keys are all it holds (the list reads the jobs by key), so a
    missed job's re-sends do not rewrite its entry either."""

    class Meta:
        index_name = "by_store_status"
        projection = KeysOnlyProjection()

    store_status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class PrintJobsUnacked(GlobalSecondaryIndex):
    """Sparse: jobs not yet acknowledged, by the time the watchdog must look at them."""

    class Meta:
        index_name = "by_watch"
        projection = KeysOnlyProjection()

    watch = UnicodeAttribute(hash_key=True)  # "unacked" until printed
    watch_at = NumberAttribute(range_key=True)


class PrintJobModel(Model):
    """A ticket to print at a store: written with the order's state change (in its
    transaction; the paid ticket right after the payment's update), then dispatched to
    the store's queue (DynamoDB stream; the watchdog re-sends)."""

    Meta = _meta("print_jobs")
    Meta.stream_view_type = "NEW_IMAGE"  # new jobs reach print_dispatch through the stream

    job_id = UnicodeAttribute(hash_key=True)
    store_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # order | reprint | cancellation | amendment | test
    copies = UnicodeSetAttribute()  # {"picking", "delivery"}, {"slip"} or {"test"}
    acked_copies = UnicodeSetAttribute(default=set)
    status = UnicodeAttribute()  # pending | sent | missed | printed
    store_status = UnicodeAttribute(null=True)  # "<store>#missed|resolved", else absent
    watch = UnicodeAttribute(null=True)
    watch_at = NumberAttribute(null=True)
    attempts = NumberAttribute(default=0)
    original_job_id = UnicodeAttribute(null=True)  # for reprints and cancellation slips
    created_at = UnicodeAttribute()
    sent_at = UnicodeAttribute(null=True)
    printed_at = UnicodeAttribute(null=True)
    history = HistoryAttribute(default=list)
    # test prints (kind "test", printing/test_prints.py): who asked, and the relay tested
    requested_by = UnicodeAttribute(null=True)
    test_relay_id = UnicodeAttribute(null=True)
    test_relay_name = UnicodeAttribute(null=True)
    # group picking lists (kind "group_pick_list", printing/pick_lists.py): the list as
    # printed (messages.PickList, JSON), written whole when the group succeeds
    pick_list = UnicodeAttribute(null=True)

    by_store_status = PrintJobsByStoreStatus()
    by_watch = PrintJobsUnacked()


class CounterModel(Model):
    """Monotonic counters, e.g. the daily order sequence of a store ("<store>#<day>")."""

    Meta = _meta("counters")

    name = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


PRINT_MODELS: tuple[type[Model], ...] = (PrintJobModel, CounterModel)
