"""Check-in (签到): one per member per local day (the chain's time zone in the check-in
settings), daily points, streak rewards and cumulative (this month's) rewards.

Concurrency: the day's item (``attribute_not_exists``), the member's check-in state
(under its version) and the points earned (entry ``checkin:<day>``) are written in ONE
transaction, the points account's (loyalty/points.py ``change`` takes extra pieces): of
twenty simultaneous check-ins exactly one commits, and the points are earned once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.db.transactions import TxPiece
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict
from chalicelib.kernel.hours import zone
from chalicelib.loyalty import points
from chalicelib.loyalty import programme_schemas as s
from chalicelib.loyalty.programme_models import CheckinModel
from chalicelib.loyalty.programme_schemas import CheckinSettings, DayReward
from chalicelib.loyalty.programme_settings import checkin_settings

STATE = "state"


# --- the rules (pure) -------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    streak: int
    month_days: int
    points: int
    rewards: list[str]


def restarts(today: date, reset: str) -> bool:
    """The configured boundary: the streak starts again each Monday or each 1st."""
    return (reset == "weekly" and today.weekday() == 0) or (reset == "monthly" and today.day == 1)


def outcome(
    today: date,
    last_day: date | None,
    streak: int,
    month: str | None,
    month_days: int,
    settings: CheckinSettings,
) -> Outcome:
    """Today's check-in after the last one: the streak goes on only from yesterday and
    not across the boundary; the month count restarts with the month."""
    goes_on = last_day == today - timedelta(days=1) and not restarts(today, settings.streak_reset)
    new_streak = streak + 1 if goes_on else 1
    this_month = f"{today.year:04d}-{today.month:02d}"
    new_month_days = month_days + 1 if month == this_month else 1
    earned, rewards = settings.daily_points, ["daily"]
    for r in settings.streak_rewards:
        if r.day == new_streak:
            earned += r.points
            rewards.append(f"streak:{r.day}")
    for r in settings.cumulative_rewards:
        if r.day == new_month_days:
            earned += r.points
            rewards.append(f"cumulative:{r.day}")
    return Outcome(new_streak, new_month_days, earned, rewards)


def next_reward(streak: int, settings: CheckinSettings) -> DayReward | None:
    """The next streak reward after a streak of ``streak`` days."""
    ahead = sorted((r for r in settings.streak_rewards if r.day > streak), key=lambda r: r.day)
    return ahead[0] if ahead else None


# --- persistence ------------------------------------------------------------------------
class AlreadyCheckedIn(Conflict):
    code = "already_checked_in"


def local_day(settings: CheckinSettings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _state(customer_id: str) -> CheckinModel | None:
    try:
        return CheckinModel.get(customer_id, STATE, consistent_read=True)
    except DoesNotExist:
        return None


def check_in(customer_id: str) -> s.CheckinResult:
    """Check in today; 409 ``already_checked_in`` the second time the same day."""
    settings = checkin_settings()
    today = local_day(settings)
    day = today.isoformat()
    expiry_settings = points.points_settings()
    done: dict[str, Outcome] = {}

    def operate(ledger: Any, at: str) -> points.Change:
        state = _state(customer_id)  # read on every attempt: a racer may have won
        if state is not None and state.last_day == day:
            raise _already(day)
        last = date.fromisoformat(state.last_day) if state and state.last_day else None
        o = outcome(
            today,
            last,
            int(state.streak or 0) if state else 0,
            state.month if state else None,
            int(state.month_days or 0) if state else 0,
            settings,
        )
        done["outcome"] = o
        m = CheckinModel
        version = int(state.version or 0) if state else 0
        pieces = [
            TxPiece(
                CheckinModel(
                    customer_id, day, at=at, points=o.points, streak=o.streak, rewards=o.rewards
                ),
                {"condition": m.day.does_not_exist()},
                label="checkin",
                op="save",
            ),
            TxPiece(
                CheckinModel(customer_id, STATE),
                {
                    "actions": [
                        m.last_day.set(day),
                        m.streak.set(o.streak),
                        m.month.set(day[:7]),
                        m.month_days.set(o.month_days),
                        m.total_days.add(1),
                        m.version.add(1),
                        m.at.set(at),
                    ],
                    "condition": m.day.does_not_exist() if state is None else m.version == version,
                },
                label="checkin_state",
            ),
        ]
        entries = []
        if o.points > 0:
            expires_at = points.expiry_for(at, expiry_settings)
            entries.append(
                ledger.earn(
                    f"checkin:{day}",
                    o.points,
                    at,
                    expires_at,
                    kind="earn",
                    reason="check-in " + ", ".join(o.rewards),
                )
            )
        return points.Change(entries, {}, pieces)

    try:
        points.change(customer_id, operate)
    except points.Replayed:
        raise _already(day) from None
    o = done["outcome"]
    return s.CheckinResult(
        day=day,
        points=o.points,
        streak=o.streak,
        month_days=o.month_days,
        rewards=o.rewards,
        next_reward=_reward_view(next_reward(o.streak, settings)),
    )


def _already(day: str) -> AlreadyCheckedIn:
    return AlreadyCheckedIn(f"You have checked in today ({day}).", details={"day": day})


def _reward_view(r: DayReward | None) -> s.DayReward | None:
    return None if r is None else s.DayReward(day=r.day, points=r.points)


def calendar(customer_id: str, month: str | None) -> s.CheckinCalendar:
    """The month's check-ins (one Query of the member's days) and today's state."""
    settings = checkin_settings()
    today = local_day(settings).isoformat()
    month = month or today[:7]
    m = CheckinModel
    days = [
        s.CheckinDay(day=x.day, points=int(x.points or 0), streak=int(x.streak or 0))
        for x in CheckinModel.query(customer_id, m.day.between(f"{month}-01", f"{month}-31"))
    ]
    state = _state(customer_id)
    last = state.last_day if state else None
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    alive = last in (today, yesterday) and not (
        last == yesterday and restarts(date.fromisoformat(today), settings.streak_reset)
    )
    return s.CheckinCalendar(
        month=month,
        days=days,
        today=today,
        checked_in_today=last == today,
        streak=int(state.streak or 0) if state and alive else 0,
    )
