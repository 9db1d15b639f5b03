"""Requests, responses and settings of growth value and levels, check-in and tasks
(issue 14 items 4 and 5)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, field

from chalicelib.kernel.schema import Fen, Out, Schema, Timestamp

LevelCode = Annotated[str, Meta(pattern=r"^V[1-9]$", examples=["V2"])]
TemplateId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$", examples=["birthday-v2"])]
Day = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-11-24"])]
Growth = Annotated[int, Meta(description="Growth value (成长值): integer, never spent.")]


# --- settings (one loyalty_settings item per area) ---------------------------------------
class Level(Schema, kw_only=True):
    """One level and its benefits."""

    code: LevelCode
    name: Annotated[str, Meta(min_length=1, max_length=20, examples=["白银会员"])]
    threshold: Annotated[int, Meta(ge=0, le=100_000_000, description="Growth value to reach it.")]
    discount_permille: Annotated[
        int,
        Meta(
            ge=500,
            le=1000,
            description="Member price as permille of the list price (950 = 5 % off; 1000: none).",
        ),
    ] = 1000
    points_multiplier: Annotated[
        float, Meta(ge=1.0, le=5.0, description="Points on orders are multiplied by this.")
    ] = 1.0
    free_delivery_min_fen: Annotated[
        Fen | None, Meta(description="Goods from this amount deliver free (None: no benefit).")
    ] = None
    birthday_template_id: Annotated[
        TemplateId | None, Meta(description="Coupon template given once a year on the birthday.")
    ] = None
    level_up_template_id: Annotated[
        TemplateId | None, Meta(description="Coupon template given once on reaching the level.")
    ] = None


class Downgrade(Schema, kw_only=True):
    """none: a level once reached is kept. recent_growth: a member keeps the level their
    growth earned in the last ``months`` months reaches; the review (monthly, and on the
    notice's date) warns ``notice_days`` before lowering it."""

    mode: Literal["none", "recent_growth"] = "none"
    months: Annotated[int, Meta(ge=1, le=36)] = 12
    notice_days: Annotated[int, Meta(ge=0, le=60)] = 7


def _default_levels() -> list[Level]:
    return [
        Level(code="V1", name="V1", threshold=0),
        Level(code="V2", name="V2", threshold=500, discount_permille=990, points_multiplier=1.2),
        Level(code="V3", name="V3", threshold=2000, discount_permille=980, points_multiplier=1.5),
        Level(code="V4", name="V4", threshold=5000, discount_permille=960, points_multiplier=1.8),
        Level(code="V5", name="V5", threshold=12000, discount_permille=950, points_multiplier=2.0),
    ]


class LevelsSettings(Schema, kw_only=True):
    """Growth and levels (head office). Levels in ascending order, V1 at threshold 0."""

    growth_per_yuan: Annotated[
        int, Meta(ge=0, le=100, description="Growth per yuan kept (after discounts and refunds).")
    ] = 1
    levels: Annotated[list[Level], Meta(min_length=1, max_length=9)] = field(
        default_factory=_default_levels
    )
    downgrade: Downgrade = field(default_factory=Downgrade)


class DayReward(Schema, kw_only=True):
    day: Annotated[int, Meta(ge=1, le=366, examples=[7])]
    points: Annotated[int, Meta(ge=0, le=100_000, examples=[30])]


class CheckinSettings(Schema, kw_only=True):
    """Check-in (签到) rewards. ``streak_rewards``: extra points on the n-th day in a row;
    ``cumulative_rewards``: extra points on the n-th check-in of the calendar month."""

    daily_points: Annotated[int, Meta(ge=0, le=10_000)] = 5
    streak_rewards: Annotated[list[DayReward], Meta(max_length=31)] = field(
        default_factory=lambda: [DayReward(day=3, points=10), DayReward(day=7, points=30)]
    )
    cumulative_rewards: Annotated[list[DayReward], Meta(max_length=31)] = field(
        default_factory=lambda: [DayReward(day=10, points=20), DayReward(day=20, points=50)]
    )
    streak_reset: Annotated[
        Literal["none", "weekly", "monthly"],
        Meta(description="Besides a missed day, the streak restarts each Monday or 1st."),
    ] = "none"
    timezone: Annotated[str, Meta(min_length=1, max_length=64)] = "Asia/Shanghai"


TaskKind = Literal["profile", "first_order", "orders_in_month", "invite"]


class Task(Schema, kw_only=True):
    """profile: nickname and birthday set (once); first_order: a first completed order
    (once); orders_in_month: ``target`` completed orders in a calendar month (once a
    month); invite: a friend registered with the member's invitation (each friend)."""

    task_id: Annotated[str, Meta(pattern=r"^[a-z0-9_-]{1,32}$", examples=["first-order"])]
    kind: TaskKind
    name: Annotated[str, Meta(min_length=1, max_length=40, examples=["完成首单"])]
    target: Annotated[int, Meta(ge=1, le=100)] = 1
    points: Annotated[int, Meta(ge=0, le=100_000)] = 0
    growth: Annotated[int, Meta(ge=0, le=100_000)] = 0
    active: bool = True


def _default_tasks() -> list[Task]:
    return [
        Task(task_id="profile", kind="profile", name="完善资料", points=50, growth=20),
        Task(task_id="first-order", kind="first_order", name="完成首单", points=100, growth=50),
        Task(
            task_id="monthly-4",
            kind="orders_in_month",
            name="本月下单4次",
            target=4,
            points=80,
            growth=40,
        ),
        Task(task_id="invite", kind="invite", name="邀请好友", points=100, growth=30),
    ]


class TasksSettings(Schema, kw_only=True):
    tasks: Annotated[list[Task], Meta(max_length=30)] = field(default_factory=_default_tasks)


# --- member's views ----------------------------------------------------------------------
class LevelBenefits(Out, kw_only=True):
    discount_permille: int
    points_multiplier: float
    free_delivery_min_fen: int | None
    birthday_template_id: str | None
    level_up_template_id: str | None


class LevelStep(Out, kw_only=True):
    code: str
    name: str
    threshold: Growth
    benefits: LevelBenefits


class GrowthEntry(Out, kw_only=True):
    entry_key: Annotated[str, Meta(description="What caused it: order:<id>, task:<id>:<period>…")]
    kind: Literal["order", "refund", "task", "level"]
    delta: Growth
    total_after: Growth
    at: Timestamp
    reason: str | None
    level_from: str | None
    level_to: str | None


class LevelNotice(Out, kw_only=True):
    level_to: str
    on: Annotated[Timestamp, Meta(description="When the level is lowered unless growth comes.")]
    growth_needed: Growth


class MyLevel(Out, kw_only=True):
    level: LevelStep
    growth: Annotated[Growth, Meta(description="All growth value earned (never spent).")]
    next_level: LevelStep | None
    growth_to_next: Annotated[Growth | None, Meta(description="None at the top level.")]
    notice: LevelNotice | None
    history: Annotated[list[GrowthEntry], Meta(description="Latest growth and level changes.")]


class CheckinResult(Out, kw_only=True):
    day: Day
    points: Annotated[int, Meta(description="Points earned by this check-in (all rewards).")]
    streak: Annotated[int, Meta(description="Days in a row, today included.")]
    month_days: Annotated[int, Meta(description="Check-ins this calendar month.")]
    rewards: Annotated[list[str], Meta(description="daily, streak:<n>, cumulative:<n>.")]
    next_reward: Annotated[
        DayReward | None, Meta(description="The next streak reward and its day (None: none).")
    ]


class CheckinMonthQuery(Schema, kw_only=True):
    month: Annotated[str, Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])] | None = (
        None
    )


class CheckinDay(Out, kw_only=True):
    day: Day
    points: int
    streak: int


class CheckinCalendar(Out, kw_only=True):
    month: str
    days: list[CheckinDay]
    today: Day
    checked_in_today: bool
    streak: int


class TaskProgress(Out, kw_only=True):
    task_id: str
    kind: TaskKind
    name: str
    points: int
    growth: int
    target: int
    progress: Annotated[int, Meta(description="Towards the target in the current period.")]
    done: Annotated[bool, Meta(description="Rewarded for the current period (or for good).")]
    period: Annotated[str, Meta(description="once | YYYY-MM | each")]


class TaskList(Out, kw_only=True):
    items: list[TaskProgress]


class TaskClaimResult(Out, kw_only=True):
    task_id: str
    rewarded: Annotated[bool, Meta(description="False: rewarded before.")]


_LEVEL = {
    "code": "V2",
    "name": "白银会员",
    "threshold": 500,
    "benefits": {
        "discount_permille": 990,
        "points_multiplier": 1.2,
        "free_delivery_min_fen": 4900,
        "birthday_template_id": "birthday-v2",
        "level_up_template_id": "levelup-v2",
    },
}
_LEVEL_SETTINGS = {
    "code": "V2",
    "name": "白银会员",
    "threshold": 500,
    "discount_permille": 990,
    "points_multiplier": 1.2,
    "free_delivery_min_fen": 4900,
    "birthday_template_id": "birthday-v2",
    "level_up_template_id": "levelup-v2",
}
EXAMPLES: dict[str, Any] = {
    "MyLevel": {
        "level": _LEVEL,
        "growth": 730,
        "next_level": {
            **_LEVEL,
            "code": "V3",
            "name": "黄金会员",
            "threshold": 2000,
            "benefits": {**_LEVEL["benefits"], "points_multiplier": 1.5},  # type: ignore[dict-item]
        },
        "growth_to_next": 1270,
        "notice": None,
        "history": [
            {
                "entry_key": "order:261124K7M2Q9XD",
                "kind": "order",
                "delta": 76,
                "total_after": 730,
                "at": "2026-11-24T05:00:00Z",
                "reason": "order completed",
                "level_from": None,
                "level_to": None,
            }
        ],
    },
    "LevelsSettings": {
        "growth_per_yuan": 1,
        "levels": [
            {
                **_LEVEL_SETTINGS,
                "code": "V1",
                "name": "普通会员",
                "threshold": 0,
                "discount_permille": 1000,
                "points_multiplier": 1.0,
                "birthday_template_id": None,
                "level_up_template_id": None,
            },
            _LEVEL_SETTINGS,
        ],
        "downgrade": {"mode": "recent_growth", "months": 12, "notice_days": 7},
    },
    "CheckinSettings": {
        "daily_points": 5,
        "streak_rewards": [{"day": 3, "points": 10}, {"day": 7, "points": 30}],
        "cumulative_rewards": [{"day": 10, "points": 20}, {"day": 20, "points": 50}],
        "streak_reset": "weekly",
        "timezone": "Asia/Shanghai",
    },
    "TasksSettings": {
        "tasks": [
            {
                "task_id": "first-order",
                "kind": "first_order",
                "name": "完成首单",
                "target": 1,
                "points": 100,
                "growth": 50,
                "active": True,
            },
            {
                "task_id": "monthly-4",
                "kind": "orders_in_month",
                "name": "本月下单4次",
                "target": 4,
                "points": 80,
                "growth": 40,
                "active": True,
            },
        ]
    },
    "CheckinResult": {
        "day": "2026-11-24",
        "points": 15,
        "streak": 3,
        "month_days": 8,
        "rewards": ["daily", "streak:3"],
        "next_reward": {"day": 7, "points": 30},
    },
    "CheckinCalendar": {
        "month": "2026-11",
        "days": [
            {"day": "2026-11-23", "points": 5, "streak": 2},
            {"day": "2026-11-24", "points": 15, "streak": 3},
        ],
        "today": "2026-11-24",
        "checked_in_today": True,
        "streak": 3,
    },
    "TaskList": {
        "items": [
            {
                "task_id": "monthly-4",
                "kind": "orders_in_month",
                "name": "本月下单4次",
                "points": 80,
                "growth": 40,
                "target": 4,
                "progress": 2,
                "done": False,
                "period": "2026-11",
            },
        ]
    },
    "TaskClaimResult": {"task_id": "profile", "rewarded": True},
}
