"""Request and response schemas of the campaign calendar (issue 16 item 1)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from chalicelib.kernel.schema import Out, Schema, Timestamp

LocalDay = Annotated[
    str,
    Meta(
        pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="A local day of the chain (Asia/Shanghai), YYYY-MM-DD.",
        examples=["2026-06-01"],
    ),
]
Grade = Literal["S", "A", "B", "C"]
NodeName = Annotated[str, Meta(min_length=1, max_length=40)]
Notes = Annotated[str, Meta(max_length=500)]
AdhocKey = Annotated[
    Literal["new_product", "single_item", "member_exclusive", "other"],
    Meta(description="What an added node is for: new product, single-item special, ..."),
]


class CalendarNodeCampaign(Out, kw_only=True):
    """A campaign created from the node (its node_id)."""

    campaign_id: str
    name: str
    grade: str
    state: str
    starts_at: Timestamp
    ends_at: Timestamp


class CalendarNode(Out, kw_only=True):
    node_id: Annotated[
        str,
        Meta(
            description="'<year>:<key>' for the seed's nodes, '<year>:anniversary:<store_id>'"
            " for a store's anniversary, '<year>:adhoc:<hex>' for an added node.",
            examples=["2026:mid_autumn"],
        ),
    ]
    key: str
    kind: Literal["seed", "anniversary", "adhoc"]
    grade: Grade
    name_zh: str
    name_en: str
    starts_on: LocalDay
    ends_on: Annotated[str, Meta(description="The last day of the node (inclusive).")]
    store_id: str | None = None
    notes: str | None = None
    hidden: bool = False
    moved: Annotated[bool, Meta(description="A seed head office changed.")] = False
    version: Annotated[
        int, Meta(description="Send it back to change the node (0: the seed as computed).")
    ]
    campaigns: list[CalendarNodeCampaign] = field(default_factory=list)


class CalendarYear(Out, kw_only=True):
    year: int
    nodes: Annotated[list[CalendarNode], Meta(description="The year's nodes, by start.")]
    hidden: Annotated[
        list[CalendarNode], Meta(description="Seed nodes head office hid (PUT hidden=false).")
    ]


class CalendarNodeCreate(Schema, kw_only=True):
    """An added (ad hoc) node: grade C by default, any grade allowed."""

    key: AdhocKey = "other"
    grade: Grade = "C"
    name_zh: NodeName
    name_en: NodeName | None = None
    starts_on: LocalDay
    ends_on: LocalDay
    notes: Notes | None = None


class CalendarNodeUpdate(Schema, kw_only=True):
    """What to change; fields left out stay. ``version`` is the node's as read."""

    version: Annotated[int, Meta(ge=0)]
    grade: Grade | UnsetType = UNSET
    name_zh: NodeName | UnsetType = UNSET
    name_en: NodeName | UnsetType = UNSET
    starts_on: LocalDay | UnsetType = UNSET
    ends_on: LocalDay | UnsetType = UNSET
    notes: Notes | UnsetType | None = UNSET
    hidden: Annotated[bool, Meta(description="false brings a hidden seed back.")] | UnsetType = (
        UNSET
    )


_NODE = {
    "node_id": "2026:mid_autumn",
    "key": "mid_autumn",
    "kind": "seed",
    "grade": "A",
    "name_zh": "中秋",
    "name_en": "Mid-Autumn Festival",
    "starts_on": "2026-09-21",
    "ends_on": "2026-09-25",
    "store_id": None,
    "notes": None,
    "hidden": False,
    "moved": False,
    "version": 0,
    "campaigns": [
        {
            "campaign_id": "cmp-2026-mid-autumn",
            "name": "中秋月饼季",
            "grade": "A",
            "state": "scheduled",
            "starts_at": "2026-09-14T16:00:00Z",
            "ends_at": "2026-09-25T16:00:00Z",
        }
    ],
}
EXAMPLES = {
    "CalendarNode": _NODE,
    "CalendarYear": {"year": 2026, "nodes": [_NODE], "hidden": []},
    "CalendarNodeCreate": {
        "key": "new_product",
        "grade": "C",
        "name_zh": "新品尝鲜周",
        "name_en": "New product week",
        "starts_on": "2026-04-13",
        "ends_on": "2026-04-19",
    },
    "CalendarNodeUpdate": {"version": 0, "starts_on": "2026-05-25", "grade": "S"},
}
