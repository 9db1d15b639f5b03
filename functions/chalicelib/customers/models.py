"""The customers feature's table: one aggregates item per member (``member_stats``).

Size: a typical member's item is well under 1 KB (one write unit per change): the
figures are plain numbers and the maps (per-store counts, category spend, day buckets,
the orders applied) one zlib-compressed JSON attribute (docs/segments.md, "Size")."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.db.models import CompactJSONAttribute, _meta


class StoreMembersByMonth(GlobalSecondaryIndex):
    """A store's members by the month of their last order (the recall list, issue 15
    items 4 and 8: "favourite store X, last order before month M"). The sort key is the
    MONTH, so a member's entry moves at most once a month (or when their favourite store
    changes), not at every order: KEYS_ONLY, one index write per such move."""

    class Meta:
        index_name = "by_store_month"
        projection = KeysOnlyProjection()

    favourite_store = UnicodeAttribute(hash_key=True, attr_name="fs")
    last_month = UnicodeAttribute(range_key=True, attr_name="lm")


class MemberStatsModel(Model):
    """A member's aggregates (customers/rules.py ``Stats``), changed by one conditional
    UpdateItem per event under ``version`` (customers/aggregates.py)."""

    Meta = _meta("member_stats")

    customer_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0, attr_name="v")
    orders = NumberAttribute(default=0, attr_name="n")
    spend_fen = NumberAttribute(default=0, attr_name="sp")
    first_date = UnicodeAttribute(null=True, attr_name="fd")  # local "YYYY-MM-DD"
    last_date = UnicodeAttribute(null=True, attr_name="ld")
    favourite_store = UnicodeAttribute(null=True, attr_name="fs")
    last_month = UnicodeAttribute(null=True, attr_name="lm")  # "YYYY-MM" of last_date
    # {"s": stores, "c": categories, "d": day buckets, "a": applied, "h": horizon}
    maps: CompactJSONAttribute = CompactJSONAttribute(null=True, attr_name="m")
    updated_at = UnicodeAttribute(null=True, attr_name="u")
    # staff distribution: the member's binding and the commissions on their orders
    # (customers/distribution_rules.py), on this item so an order's completion reads it free
    distribution: CompactJSONAttribute = CompactJSONAttribute(null=True, attr_name="ds")

    by_store_month = StoreMembersByMonth()


class RecallsByFirstDay(GlobalSecondaryIndex):
    """A store's recall rounds by the day of their first outcome (the recall report:
    "members recalled between two days", O(members recalled)). Sparse: only round
    items have ``first_day``."""

    class Meta:
        index_name = "by_first_day"
        projection = AllProjection()

    store_id = UnicodeAttribute(hash_key=True)
    first_day = UnicodeAttribute(range_key=True)  # local "YYYY-MM-DD"


class RecallModel(Model):
    """A store's recall records (docs/segments.md, "Recall list"), two kinds under the
    store's partition:

    - a round, ``key`` = "r#<customer_id>#<YYYY-MM>" (the member's last-order month when
      the round began): the first outcome's time and the latest outcome, one per store x
      member x lapse, updated by every outcome;
    - an outcome, ``key`` = "o#<request_id>": one per outcome recorded, written with
      ``attribute_not_exists`` in the round's transaction (a retried request writes nothing).
    """

    Meta = _meta("recalls")

    store_id = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    customer_id = UnicodeAttribute()
    round_month = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()  # called | no_answer | coupon_sent | came_back (the latest)
    note = UnicodeAttribute(null=True)
    at = UnicodeAttribute()
    by = UnicodeAttribute()
    # a round's
    first_at = UnicodeAttribute(null=True)
    first_day = UnicodeAttribute(null=True)
    outcomes = NumberAttribute(null=True)

    by_first_day = RecallsByFirstDay()


class MembersByTag(GlobalSecondaryIndex):
    """A manual tag's members (the member list's tag filter, issue 15 items 2 and 8):
    KEYS_ONLY, paged by member id; the list reads the members themselves."""

    class Meta:
        index_name = "by_tag"
        projection = KeysOnlyProjection()

    tag = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class MemberTagModel(Model):
    """A manual tag (标签) on a member: one item per member x tag, written once
    (``attribute_not_exists``), so adding it again writes nothing (customers/tags.py)."""

    Meta = _meta("member_tags")

    customer_id = UnicodeAttribute(hash_key=True)
    tag = UnicodeAttribute(range_key=True)
    by = UnicodeAttribute()  # the tagger's subject
    at = UnicodeAttribute()
    store_id = UnicodeAttribute(null=True)  # the tagger's store; None: head office

    by_tag = MembersByTag()


class SegmentModel(Model):
    """Segments' small records (docs/segments.md, "Segments"), by ``kind``:

    - "snapshot", id "current": the pointer to the nightly snapshot in S3 (object key,
      as_of, counts), written last by the job; "refresh", id "latest": a refresh's state;
    - "segment", id = the saved segment's id: its name and filter (audited);
    - "action", id = the bulk action's id (from the request_id): its progress."""

    Meta = _meta("segments")

    kind = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute(null=True)
    filter_json = UnicodeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    as_of = UnicodeAttribute(null=True)
    members = NumberAttribute(null=True)
    state = UnicodeAttribute(null=True)  # queued | running | succeeded | failed
    action = UnicodeAttribute(null=True)  # issue_coupon | add_tag
    target = UnicodeAttribute(null=True)  # the template id or the tag
    request_hash = UnicodeAttribute(null=True)
    targeted = NumberAttribute(null=True)
    excluded_no_consent = NumberAttribute(null=True)
    done = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    chunks = NumberAttribute(null=True)
    chunks_done = NumberAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    created_role = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    finished_at = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)  # an action's deliveries so far (run_action)
    version = NumberAttribute(default=0)


from chalicelib.customers.distribution_models import DISTRIBUTION_MODELS  # noqa: E402

CUSTOMER_MODELS = (
    MemberStatsModel,
    RecallModel,
    MemberTagModel,
    SegmentModel,
    *DISTRIBUTION_MODELS,
)
