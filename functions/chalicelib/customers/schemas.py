"""Customers: a member's aggregates as head office and store managers read them."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Timestamp

SignedFen = Annotated[int, Meta(description="Integer fen (分), CNY.")]
LocalDate = Annotated[str, Meta(description="The chain's local date (Asia/Shanghai), YYYY-MM-DD.")]


class CategorySpend(Out, kw_only=True):
    category1: Annotated[str, Meta(description="First-level category ('-': not known).")]
    spend_fen: SignedFen


class MemberStats(Out, kw_only=True):
    """A member's aggregates, kept live from order events (docs/segments.md); the
    figures that depend on today are computed when read."""

    customer_id: str
    registered_at: Timestamp | None = None
    orders: Annotated[int, Meta(description="Completed orders.")]
    spend_fen: Annotated[
        SignedFen, Meta(description="What the completed orders kept: paid - refunded.")
    ]
    average_order_fen: Annotated[SignedFen, Meta(description="spend / orders, rounded down.")]
    first_order_date: LocalDate | None = None
    last_order_date: LocalDate | None = None
    days_since_last_order: int | None = None
    months_since_last_order: int | None = None
    months_since_registered: int | None = None
    favourite_store_id: Annotated[
        str | None, Meta(description="The store with the most completed orders.")
    ] = None
    store_orders: Annotated[dict[str, int], Meta(description="Completed orders per store.")]
    categories: Annotated[
        list[CategorySpend], Meta(description="Spend by category, largest first.")
    ]
    orders_last_30_days: int
    fresh_orders_last_30_days: Annotated[
        int, Meta(description="Completed orders with a fresh (生鲜) line kept, last 30 days.")
    ]
    orders_last_90_days: int


EXAMPLE = {
    "customer_id": "c-5f2a9e01b7c44d10",
    "registered_at": "2026-06-02T02:10:00Z",
    "orders": 14,
    "spend_fen": 186040,
    "average_order_fen": 13288,
    "first_order_date": "2026-06-02",
    "last_order_date": "2026-11-28",
    "days_since_last_order": 7,
    "months_since_last_order": 0,
    "months_since_registered": 6,
    "favourite_store_id": "sh-jingan",
    "store_orders": {"sh-jingan": 11, "sh-xuhui": 3},
    "categories": [
        {"category1": "水果", "spend_fen": 72010},
        {"category1": "肉禽蛋", "spend_fen": 60530},
        {"category1": "乳品烘焙", "spend_fen": 53500},
    ],
    "orders_last_30_days": 4,
    "fresh_orders_last_30_days": 3,
    "orders_last_90_days": 9,
}


# --- the recall list (召回, issue 15 item 4) -------------------------------------------

Outcome = Literal["called", "no_answer", "coupon_sent", "came_back"]
RequestId = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9_.:-]{8,64}$",
        description="Unique per outcome: a retry with the same id records nothing more.",
    ),
]


Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A local date, YYYY-MM-DD.")]


class RecallSettings(Schema, kw_only=True):
    """Head office's recall rules. The 3-month window and the 30-day return window are
    fixed (issue 15)."""

    min_orders: Annotated[
        int, Meta(ge=1, le=100, description="Completed orders a member needs to be recalled.")
    ] = 2


class RecallQuery(Schema, kw_only=True):
    cursor: str | None = None
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class LatestOutcome(Out, kw_only=True):
    outcome: Outcome
    at: Timestamp
    by: str
    note: str | None = None
    first_at: Annotated[Timestamp, Meta(description="This round's first outcome.")]
    outcomes: Annotated[int, Meta(description="Outcomes recorded in this round.")]


class RecallRow(Out, kw_only=True):
    customer_id: str
    phone: Annotated[
        str, Meta(description="In full for the store's manager; masked for head office.")
    ]
    nickname: str | None = None
    orders: int
    spend_fen: SignedFen
    last_order_date: LocalDate | None = None
    months_since_last_order: int | None = None
    latest_outcome: LatestOutcome | None = None


class RecallPage(Out, kw_only=True):
    store_id: str
    day: LocalDate
    before_month: Annotated[
        str, Meta(description="Members whose last order was before this month (YYYY-MM).")
    ]
    min_orders: int
    total: Annotated[int, Meta(description="Members on the whole list (all pages).")]
    excluded_erased: int
    excluded_no_consent: Annotated[
        int, Meta(description="Left out: they revoked marketing consent.")
    ]
    items: list[RecallRow]
    next_cursor: str | None = None


class OutcomeBody(Schema, kw_only=True):
    outcome: Outcome
    note: Annotated[str, Meta(max_length=200)] | None = None
    request_id: RequestId


class RecallReportQuery(Schema, kw_only=True):
    # ?from=&to= ("from" is a Python keyword); default: the last 30 days
    from_: Day | None = msgspec.field(default=None, name="from")
    to: Day | None = None


class RecallReport(Out, kw_only=True):
    store_id: str
    date_from: LocalDate
    date_to: LocalDate
    recalled: Annotated[
        int, Meta(description="Members whose first recall outcome fell in the period.")
    ]
    came_back: Annotated[
        int, Meta(description="Of them, members who completed an order within 30 days after it.")
    ]
    pending: Annotated[int, Meta(description="Of them, not back yet and their 30 days not over.")]
    recall_rate: Annotated[float, Meta(description="came_back / recalled (0 when none).")]


RECALL_SETTINGS_EXAMPLE = {"min_orders": 2}
RECALL_PAGE_EXAMPLE = {
    "store_id": "sh-jingan",
    "day": "2026-12-05",
    "before_month": "2026-09",
    "min_orders": 2,
    "total": 318,
    "excluded_erased": 2,
    "excluded_no_consent": 17,
    "items": [
        {
            "customer_id": "c-5f2a9e01b7c44d10",
            "phone": "13812341234",
            "nickname": "王阿姨",
            "orders": 14,
            "spend_fen": 186040,
            "last_order_date": "2026-07-28",
            "months_since_last_order": 4,
            "latest_outcome": {
                "outcome": "no_answer",
                "at": "2026-12-04T02:30:00Z",
                "by": "sh-jingan-manager",
                "note": "下午再打",
                "first_at": "2026-12-04T02:30:00Z",
                "outcomes": 1,
            },
        },
        {
            "customer_id": "c-0a7d3c22e9f14b55",
            "phone": "13900001111",
            "nickname": None,
            "orders": 3,
            "spend_fen": 25800,
            "last_order_date": "2026-05-02",
            "months_since_last_order": 7,
            "latest_outcome": None,
        },
    ],
    "next_cursor": "eyJzdG9yZV9pZCI6eyJTIjoic2gtamluZ2FuIn19",
}
OUTCOME_EXAMPLE = {"outcome": "coupon_sent", "note": "发了¥10券", "request_id": "rc-7f3a9b21c0de"}
LATEST_EXAMPLE = {
    "outcome": "coupon_sent",
    "at": "2026-12-05T03:10:00Z",
    "by": "sh-jingan-manager",
    "note": "发了¥10券",
    "first_at": "2026-12-04T02:30:00Z",
    "outcomes": 2,
}
RECALL_REPORT_EXAMPLE = {
    "store_id": "sh-jingan",
    "date_from": "2026-11-01",
    "date_to": "2026-11-30",
    "recalled": 120,
    "came_back": 31,
    "pending": 12,
    "recall_rate": 0.2583,
}


# --- tags (标签, issue 15 item 2) ---------------------------------------------------------

TagOp = Literal[">=", "<=", "=", "!="]
TagName = Annotated[str, Meta(description="A tag's name: 1-20 characters, no control characters.")]


class TagRule(Schema, kw_only=True):
    """One condition: the member gets ``tag`` when ``metric op value`` holds (and every
    other rule naming the same tag). Metrics: orders (completed), spend_fen, aov_fen,
    orders_30d, fresh_orders_30d, orders_90d, days_since_last_order,
    months_since_registration, level_rank (V1 = 1 ...) take integers; level (e.g. "V3")
    and source_kind (store | shelf | staff | campaign | ticket | invite) strings;
    paid_member true or false; ``category_spend_fen:<category1>`` integer fen."""

    tag: TagName
    metric: Annotated[str, Meta(max_length=60, examples=["fresh_orders_30d"])]
    op: TagOp
    value: int | bool | str


def _default_rules() -> list[TagRule]:
    """Head office's rules until it sets its own (issue 15 item 2's examples)."""
    return [
        TagRule(tag="生鲜常客", metric="fresh_orders_30d", op=">=", value=3),
        TagRule(tag="高客单", metric="aov_fen", op=">=", value=15000),
        TagRule(tag="货架码来源", metric="source_kind", op="=", value="shelf"),
        TagRule(tag="付费会员", metric="paid_member", op="=", value=True),
        TagRule(tag="V3及以上", metric="level_rank", op=">=", value=3),
    ]


class TagRules(Schema, kw_only=True):
    """Head office's automatic tag rules (at most 50)."""

    rules: list[TagRule] = msgspec.field(default_factory=_default_rules)


TAG_RULES_EXAMPLE = {
    "rules": [
        {"tag": "生鲜常客", "metric": "fresh_orders_30d", "op": ">=", "value": 3},
        {"tag": "高客单", "metric": "aov_fen", "op": ">=", "value": 15000},
        {"tag": "货架码来源", "metric": "source_kind", "op": "=", "value": "shelf"},
        {"tag": "付费会员", "metric": "paid_member", "op": "=", "value": True},
        {"tag": "V3及以上", "metric": "level_rank", "op": ">=", "value": 3},
    ]
}


class ManualTag(Out, kw_only=True):
    tag: str
    by: Annotated[str, Meta(description="Who tagged the member.")]
    at: Timestamp
    store_id: Annotated[str | None, Meta(description="The tagger's store; null: head office.")] = (
        None
    )


class MemberTags(Out, kw_only=True):
    """A member's tags: automatic ones evaluated now on head office's rules, manual ones
    as staff added them."""

    customer_id: str
    auto: list[str]
    manual: list[ManualTag]


MANUAL_TAG_EXAMPLE = {
    "tag": "爱买榴莲",
    "by": "sh-jingan-manager",
    "at": "2026-12-05T02:00:00Z",
    "store_id": "sh-jingan",
}
MEMBER_TAGS_EXAMPLE = {
    "customer_id": "c-5f2a9e01b7c44d10",
    "auto": ["生鲜常客", "V3及以上"],
    "manual": [MANUAL_TAG_EXAMPLE],
}
# --- segments (issue 15 items 3 and 8) ---------------------------------------------------

RfmGroup = Literal[
    "important_value",
    "important_recall",
    "important_develop",
    "important_retain",
    "potential",
    "new",
    "maintain",
    "lost",
    "no_orders",
]
Stage = Literal["joining", "awakening", "churn_recall", "dormant", "lost"]
Short = Annotated[str, Meta(min_length=1, max_length=64)]


class SegmentFilter(Schema, kw_only=True):
    """Empty lists and nulls: no condition. Lists are ORs within, conditions AND."""

    tags_any: Annotated[list[Short], Meta(max_length=64)] = msgspec.field(default_factory=list)
    tags_all: Annotated[list[Short], Meta(max_length=64)] = msgspec.field(default_factory=list)
    rfm_groups: Annotated[list[RfmGroup], Meta(max_length=9)] = msgspec.field(default_factory=list)
    lifecycle: Annotated[
        list[Stage],
        Meta(max_length=10, description="Stage today (Shanghai), from the last order or joining."),
    ] = msgspec.field(default_factory=list)
    levels: Annotated[list[Short], Meta(max_length=32, description="e.g. V3")] = msgspec.field(
        default_factory=list
    )
    sources: Annotated[
        list[Short], Meta(max_length=16, description="source_kind: store, shelf, staff, ...")
    ] = msgspec.field(default_factory=list)
    stores: Annotated[
        list[Short],
        Meta(
            max_length=300, description="Favourite store (home store for members without orders)."
        ),
    ] = msgspec.field(default_factory=list)
    spend_min_fen: Annotated[int, Meta(ge=0)] | None = None
    spend_max_fen: Annotated[int, Meta(ge=0)] | None = None
    orders_min: Annotated[int, Meta(ge=0)] | None = None
    paid: Annotated[bool, Meta(description="Paid membership (付费会员) active.")] | None = None


class CountBody(Schema, kw_only=True):
    filter: SegmentFilter


class SegmentCount(Out, kw_only=True):
    members: int
    marketable: Annotated[int, Meta(description="Of them, not revoked marketing consent.")]
    excluded_no_consent: Annotated[int, Meta(description="Of them, revoked marketing consent.")]
    spend_fen: Annotated[SignedFen, Meta(description="Their spend after refunds, together.")]
    share_of_members: Annotated[float, Meta(description="members / all members, 0..1.")]
    as_of: Annotated[LocalDate, Meta(description="The snapshot's day (nightly).")]


class Pareto(Out, kw_only=True):
    top20_share: Annotated[float, Meta(description="Share of spend by the top 20 % (0..1).")]
    curve: Annotated[
        list[list[float]], Meta(description="[members %, spend %], biggest spenders first.")
    ]


class NewMembers(Out, kw_only=True):
    day: LocalDate
    source_kind: str
    members: int


class RfmCutoffs(Out, kw_only=True):
    recency_days: list[int]
    frequency_orders: list[int]
    monetary_fen: list[int]


class Overview(Out, kw_only=True):
    as_of: LocalDate
    members: int
    with_orders: int
    by_lifecycle: dict[str, int]
    by_rfm: dict[str, int]
    pareto: Pareto
    new_members: list[NewMembers]
    rfm_cutoffs: RfmCutoffs


class SegmentBody(Schema, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=80)]
    filter: SegmentFilter


class Segment(Out, kw_only=True):
    segment_id: str
    name: str
    filter: SegmentFilter
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp


class SegmentList(Out, kw_only=True):
    items: list[Segment]


class ActionBody(Schema, kw_only=True):
    """``segment_id`` or ``filter`` (one of them)."""

    segment_id: str | None = None
    filter: SegmentFilter | None = None
    action: Literal["issue_coupon", "add_tag"]
    template_id: Annotated[str | None, Meta(description="issue_coupon: the template.")] = None
    tag: Annotated[Short | None, Meta(description="add_tag: the manual tag.")] = None
    request_id: RequestId


class Action(Out, kw_only=True):
    action_id: str
    action: Annotated[
        Literal["issue_coupon", "add_tag", "member_day_pack"],
        Meta(
            description="member_day_pack: a member day's coupon pack for a segment, "
            "started by the daily job on the occurrence's first day (not requested)."
        ),
    ]
    target: Annotated[
        str,
        Meta(description="The template id, the tag, or <member day id>#<YYYYMMDD>."),
    ]
    state: Literal["queued", "running", "succeeded", "failed"]
    as_of: Annotated[LocalDate, Meta(description="The snapshot the members come from.")]
    targeted: Annotated[int, Meta(description="Members the action is for.")]
    excluded_no_consent: Annotated[int, Meta(description="Left out: revoked consent.")]
    done: Annotated[int, Meta(description="Members handled (issued / already had it / tagged).")]
    failed: Annotated[int, Meta(description="Members refused (sold out, limit, unknown).")]
    progress: Annotated[float, Meta(description="done + failed over targeted, 0..1.")]
    created_by: str
    created_at: Timestamp
    finished_at: Timestamp | None = None
    error: str | None = None


class Refresh(Out, kw_only=True):
    state: Literal["queued", "running", "succeeded", "failed"]
    requested_at: Timestamp
    finished_at: Timestamp | None = None
    as_of: LocalDate | None = None
    members: int | None = None


FILTER_EXAMPLE = {
    "rfm_groups": ["important_recall", "important_retain"],
    "lifecycle": ["churn_recall", "dormant"],
    "stores": ["sh-jingan"],
    "spend_min_fen": 50000,
}
COUNT_EXAMPLE = {"filter": FILTER_EXAMPLE}
SEGMENT_COUNT_EXAMPLE = {
    "members": 1840,
    "marketable": 1795,
    "excluded_no_consent": 45,
    "spend_fen": 312004500,
    "share_of_members": 0.0018,
    "as_of": "2026-12-05",
}
OVERVIEW_EXAMPLE = {
    "as_of": "2026-12-05",
    "members": 1000000,
    "with_orders": 720000,
    "by_lifecycle": {
        "joining": 210000,
        "awakening": 160000,
        "churn_recall": 110000,
        "dormant": 90000,
        "lost": 430000,
    },
    "by_rfm": {
        "important_value": 98000,
        "important_recall": 41000,
        "important_develop": 37000,
        "important_retain": 52000,
        "potential": 60000,
        "new": 120000,
        "maintain": 70000,
        "lost": 242000,
        "no_orders": 280000,
    },
    "pareto": {"top20_share": 0.71, "curve": [[0.0, 0.0], [20.0, 71.0], [100.0, 100.0]]},
    "new_members": [{"day": "2026-12-04", "source_kind": "shelf", "members": 312}],
    "rfm_cutoffs": {
        "recency_days": [12, 35, 80, 190],
        "frequency_orders": [1, 2, 4, 9],
        "monetary_fen": [4900, 12800, 30500, 82000],
    },
}
SEGMENT_BODY_EXAMPLE = {"name": "静安 重要唤回", "filter": FILTER_EXAMPLE}
SEGMENT_EXAMPLE = {
    "segment_id": "seg-3f9a1c0d2b7e4a55",
    "name": "静安 重要唤回",
    "filter": FILTER_EXAMPLE,
    "created_by": "hq-admin-1",
    "created_at": "2026-12-05T02:10:00Z",
    "updated_at": "2026-12-05T02:10:00Z",
}
ACTION_BODY_EXAMPLE = {
    "segment_id": "seg-3f9a1c0d2b7e4a55",
    "action": "issue_coupon",
    "template_id": "tpl-recall-10",
    "request_id": "act-2026-12-05-001",
}
ACTION_EXAMPLE = {
    "action_id": "act-5be0c2d9a1f34e77aa01",
    "action": "issue_coupon",
    "target": "tpl-recall-10",
    "state": "running",
    "as_of": "2026-12-05",
    "targeted": 1795,
    "excluded_no_consent": 45,
    "done": 1000,
    "failed": 0,
    "progress": 0.5571,
    "created_by": "hq-admin-1",
    "created_at": "2026-12-05T02:12:00Z",
}
REFRESH_EXAMPLE = {"state": "queued", "requested_at": "2026-12-05T02:00:00Z"}
