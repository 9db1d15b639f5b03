"""Campaign rules in plain Python: the state a campaign is in at a moment (the window
moves it on before the job writes it), which fields each state lets head office change,
and the listing window of a local year. No I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.kernel import clock
from chalicelib.kernel.states import CAMPAIGN

LOCAL = ZoneInfo("Asia/Shanghai")
MAX_WINDOW_DAYS = 366  # the tick job reads campaigns that started within this many days

# Fields of the PUT body by when they may change. The window, the stores, the segment
# and the contents are what the checklist judged: change them in draft (unschedule a
# scheduled campaign first). Name, notes, goal, budget and the default stacking policy
# (it reaches only drafts: apply-default-stacking) may change until it ends.
DRAFT_ONLY = (
    "grade",
    "starts_at",
    "ends_at",
    "stores_mode",
    "stores",
    "store_tiers",
    "segment_id",
    "promotion_ids",
    "coupon_template_ids",
    "member_day_ids",
    "node_id",
)
UNTIL_ENDED = ("goal", "budget", "default_stacking")
ALWAYS = ("name", "plan_notes")
OPEN_STATES = frozenset({"draft", "scheduled", "live"})


def catch_up(stored: str, starts_at: str, ends_at: str, now_iso: str) -> list[str]:
    """The actions the window has already taken a campaign in ``stored`` through at
    ``now_iso``: a scheduled campaign whose start passed is live, one whose end passed
    is ended (start then end); a live one past its end is ended."""
    steps: list[str] = []
    state = stored
    if state == "scheduled" and starts_at <= now_iso:
        steps.append("start")
        state = "live"
    if state == "live" and ends_at <= now_iso:
        steps.append("end")
    return steps


def effective_state(stored: str, starts_at: str, ends_at: str, now_iso: str) -> str:
    """The state shown: the stored one moved on by the window (``catch_up``)."""
    state = stored
    for action in catch_up(stored, starts_at, ends_at, now_iso):
        state = CAMPAIGN.target(action, state)
    return state


def frozen_fields(state: str, changed: set[str]) -> list[tuple[str, str]]:
    """(field, reason) for each changed field the campaign's state does not allow."""
    out = []
    for f in sorted(changed):
        if f in DRAFT_ONLY and state != "draft":
            hint = " (unschedule it first)" if state == "scheduled" else ""
            out.append((f, f"fixed once the campaign is {state}{hint}"))
        elif f in UNTIL_ENDED and state not in OPEN_STATES:
            out.append((f, f"fixed once the campaign is {state}"))
    return out


def window_errors(starts_at: str, ends_at: str) -> list[tuple[str, str]]:
    """Both UTC ISO times, as stored: the end after the start, at most a year apart."""
    if ends_at <= starts_at:
        return [("ends_at", "must be after starts_at")]
    if clock.parse(ends_at) - clock.parse(starts_at) > timedelta(days=MAX_WINDOW_DAYS):
        return [("ends_at", f"at most {MAX_WINDOW_DAYS} days after starts_at")]
    return []


def year_bounds(year: int) -> tuple[str, str]:
    """The UTC ISO bounds [from, to) of a local (Asia/Shanghai) calendar year."""
    first = datetime(year, 1, 1, tzinfo=LOCAL)
    after = datetime(year + 1, 1, 1, tzinfo=LOCAL)
    return clock.iso(first), clock.iso(after)


def includes_store(stores_mode: str, stores: list[str], store_id: str | None) -> bool:
    """Whether a campaign covers a store (a tiers campaign covers the stores resolved at
    launch; before that, none for certain)."""
    if store_id is None:
        return False
    return stores_mode == "all" or store_id in stores


def default_stacking_kept(*, takes_policy: bool, status: str, follows: bool) -> str | None:
    """Why apply-default-stacking leaves a campaign's promotion or template as it is, or
    None when it takes the campaign's default. Only drafts (draft, pending) that follow
    the campaign (no policy of their own) change: a published discount keeps its policy
    until it is edited, so a discount live in customers' carts never changes under them,
    and its approvers approved what they saw."""
    if not takes_policy:
        return "takes no stacking policy"
    if not follows:
        return "has its own policy"
    if status not in ("draft", "pending"):
        return f"{status}: keeps its policy until edited"
    return None
