"""Routes of growth value and levels, check-in and tasks: the member's own, and head
office's settings (audited)."""

from __future__ import annotations

from itertools import pairwise

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.kernel.hours import zone
from chalicelib.kernel.lazy import lazy_module
from chalicelib.loyalty import programme_schemas as s

growth = lazy_module("chalicelib.loyalty.growth")
checkin = lazy_module("chalicelib.loyalty.checkin")
tasks = lazy_module("chalicelib.loyalty.tasks")
settings = lazy_module("chalicelib.loyalty.programme_settings")

area = Area(
    "loyalty-programme",
    __name__,
    "Members' loyalty: growth value (成长值) and levels, check-in (签到), tasks (任务).",
)


# --- the member's own -------------------------------------------------------------------
@area.route(
    "/members/me/level",
    "GET",
    summary="My level, its benefits, my growth value and how far to the next level",
    roles={CUSTOMER},
    response=s.MyLevel,
    errors=(403,),
    response_example=s.EXAMPLES["MyLevel"],
)
def my_level(principal: Principal) -> s.MyLevel:
    """Growth comes from completed orders and tasks and is never spent. ``notice``: the
    level will be lowered on that date unless enough growth comes (downgrade rule).
    ``history``: the latest growth and level changes, newest first."""
    return growth.my_level(principal.subject)


@area.route(
    "/members/me/check-ins",
    "POST",
    summary="Check in today (签到)",
    roles={CUSTOMER},
    response=s.CheckinResult,
    status=201,
    errors=(403, 409),
    response_example=s.EXAMPLES["CheckinResult"],
)
def check_in(principal: Principal) -> s.CheckinResult:
    """Once per local day: daily points, plus a streak reward on its day and a reward
    for the n-th check-in of the month. 409 ``already_checked_in`` the second time."""
    return checkin.check_in(principal.subject)


@area.route(
    "/members/me/check-ins",
    "GET",
    summary="My check-ins of a month (calendar)",
    roles={CUSTOMER},
    query=s.CheckinMonthQuery,
    response=s.CheckinCalendar,
    errors=(400, 403, 422),
    response_example=s.EXAMPLES["CheckinCalendar"],
)
def my_check_ins(query: s.CheckinMonthQuery, principal: Principal) -> s.CheckinCalendar:
    """``month`` "YYYY-MM" (default: this month). ``streak`` is 0 once a day was missed."""
    return checkin.calendar(principal.subject, query.month)


@area.route(
    "/members/me/tasks",
    "GET",
    summary="My tasks and their progress",
    roles={CUSTOMER},
    response=s.TaskList,
    errors=(403,),
    response_example=s.EXAMPLES["TaskList"],
)
def my_tasks(principal: Principal) -> s.TaskList:
    """Order and invitation tasks reward by themselves; the profile task is claimed."""
    return tasks.progress(principal.subject)


@area.route(
    "/members/me/tasks/{task_id}/claim",
    "POST",
    summary="Claim a task done (the profile task)",
    roles={CUSTOMER},
    response=s.TaskClaimResult,
    errors=(403, 404, 409),
    response_example=s.EXAMPLES["TaskClaimResult"],
)
def claim_task(task_id: str, principal: Principal) -> s.TaskClaimResult:
    """Rewards once: ``rewarded`` false when it was rewarded before. 409
    ``task_not_done`` until the profile has a nickname and birthday,
    ``task_not_claimable`` for tasks that reward by themselves."""
    return tasks.claim(principal.subject, task_id)


@area.route(
    "/admin/members/{customer_id}/level",
    "GET",
    summary="A member's level, growth and level history",
    roles={HQ_ADMIN},
    response=s.MyLevel,
    errors=(403,),
    response_example=s.EXAMPLES["MyLevel"],
)
def member_level(customer_id: str, principal: Principal) -> s.MyLevel:
    """Head office only (the member profile's level history)."""
    return growth.my_level(customer_id, history_limit=100)


# --- head office's settings -------------------------------------------------------------
def check_levels(body: s.LevelsSettings) -> None:
    """Level codes unique; one level at 0; thresholds rising with the codes."""
    errors = []
    codes = [lv.code for lv in body.levels]
    if len(set(codes)) != len(codes):
        errors.append(field_error("levels", "level codes must be unique"))
    by_code = sorted(body.levels, key=lambda lv: lv.code)
    if by_code[0].threshold != 0:
        errors.append(field_error("levels", "the first level's threshold must be 0"))
    for a, b in pairwise(by_code):
        if b.threshold <= a.threshold:
            errors.append(field_error("levels", f"{b.code}'s threshold must be above {a.code}'s"))
    if errors:
        raise ValidationFailed("The levels are not consistent.", details=errors)


def check_checkin(body: s.CheckinSettings) -> None:
    errors = []
    try:
        zone(body.timezone)
    except ValueError:
        errors.append(field_error("timezone", "unknown time zone"))
    for name in ("streak_rewards", "cumulative_rewards"):
        days = [r.day for r in getattr(body, name)]
        if len(set(days)) != len(days):
            errors.append(field_error(name, "one reward per day"))
    if errors:
        raise ValidationFailed("The check-in rewards are not consistent.", details=errors)


def check_tasks(body: s.TasksSettings) -> None:
    ids = [t.task_id for t in body.tasks]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "Task ids must be unique.", details=[field_error("tasks", "duplicate task_id")]
        )


@area.route(
    "/admin/loyalty/levels",
    "GET",
    summary="Levels, thresholds, benefits, growth rate and downgrade rule",
    roles={HQ_ADMIN},
    response=s.LevelsSettings,
    errors=(403,),
    response_example=s.EXAMPLES["LevelsSettings"],
)
def get_levels(principal: Principal) -> s.LevelsSettings:
    """Head office only; the defaults (V1-V5) until head office sets them."""
    return settings.levels_settings()


@area.route(
    "/admin/loyalty/levels",
    "PUT",
    summary="Replace the levels and benefits (audited)",
    roles={HQ_ADMIN},
    body=s.LevelsSettings,
    response=s.LevelsSettings,
    errors=(403, 409, 422),
    request_example=s.EXAMPLES["LevelsSettings"],
    response_example=s.EXAMPLES["LevelsSettings"],
)
def put_levels(body: s.LevelsSettings, principal: Principal) -> s.LevelsSettings:
    """Head office only. A new threshold applies from the member's next growth change
    (a reached level is kept). 422 when codes repeat, the first level is not at 0 or
    thresholds do not rise with the codes; 409 ``settings_changed`` on a concurrent edit."""
    check_levels(body)
    return settings.put(principal, settings.LEVELS, body)


@area.route(
    "/admin/loyalty/checkin-settings",
    "GET",
    summary="Check-in rewards",
    roles={HQ_ADMIN},
    response=s.CheckinSettings,
    errors=(403,),
    response_example=s.EXAMPLES["CheckinSettings"],
)
def get_checkin_settings(principal: Principal) -> s.CheckinSettings:
    """Head office only."""
    return settings.checkin_settings()


@area.route(
    "/admin/loyalty/checkin-settings",
    "PUT",
    summary="Replace the check-in rewards (audited)",
    roles={HQ_ADMIN},
    body=s.CheckinSettings,
    response=s.CheckinSettings,
    errors=(403, 409, 422),
    request_example=s.EXAMPLES["CheckinSettings"],
    response_example=s.EXAMPLES["CheckinSettings"],
)
def put_checkin_settings(body: s.CheckinSettings, principal: Principal) -> s.CheckinSettings:
    """Head office only. 422 for an unknown time zone or two rewards on one day."""
    check_checkin(body)
    return settings.put(principal, settings.CHECKIN, body)


@area.route(
    "/admin/loyalty/tasks",
    "GET",
    summary="Tasks and their rewards",
    roles={HQ_ADMIN},
    response=s.TasksSettings,
    errors=(403,),
    response_example=s.EXAMPLES["TasksSettings"],
)
def get_tasks(principal: Principal) -> s.TasksSettings:
    """Head office only."""
    return settings.tasks_settings()


@area.route(
    "/admin/loyalty/tasks",
    "PUT",
    summary="Replace the tasks (audited)",
    roles={HQ_ADMIN},
    body=s.TasksSettings,
    response=s.TasksSettings,
    errors=(403, 409, 422),
    request_example=s.EXAMPLES["TasksSettings"],
    response_example=s.EXAMPLES["TasksSettings"],
)
def put_tasks(body: s.TasksSettings, principal: Principal) -> s.TasksSettings:
    """Head office only. A task id keeps its rewards: reusing an id for another task
    does not reward members who did the old one again."""
    check_tasks(body)
    return settings.put(principal, settings.TASKS, body)
