"""Targeting of promotions (issue 18 item 4): a recurring weekly window and an audience
(a level, or a saved segment), stored on the promotion (rec_* and aud_* attributes) and
applied where the promotions are made live for pricing (``service.active_for``: no read
of its own).

A segment's members are a filter on the nightly snapshot (an S3 object,
docs/segments.md) that checkout cannot read without one more AWS round trip. So the
snapshot job also keeps, per member, the saved segments they are in
(``SegmentMembershipModel``, written only when a member's set changes), and checkout
reads the member's item in the cart's one BatchGetItem, only while a promotion for a
segment is live at the store (checkout/service.py).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

from msgspec import UNSET, UnsetType

from chalicelib.kernel import clock
from chalicelib.kernel import recurrence as rec
from chalicelib.kernel.errors import NotFound, field_error
from chalicelib.kernel.schema import AudienceOut, AudienceSpec, RecurrenceOut, RecurrenceSpec
from chalicelib.promotions.models import PromotionModel


def errors(
    kind: str, recurrence: RecurrenceSpec | None, audience: AudienceSpec | None
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if kind == "member_day":
        if recurrence is not None:
            out.append(field_error("recurrence", "a member day has its own (member_day)"))
        if audience is not None:
            out.append(field_error("audience", "a member day has its own (member_day)"))
        return out
    if recurrence is not None:
        out += [
            field_error(f, r)
            for f, r in rec.errors(
                recurrence.weekdays, recurrence.start, recurrence.end, "recurrence"
            )
        ]
    if audience is not None and (audience.min_level is None) == (audience.segment_id is None):
        out.append(field_error("audience", "give min_level or segment_id (one of them)"))
    elif (
        audience is not None
        and audience.segment_id is not None
        and not segment_exists(audience.segment_id)
    ):
        out.append(field_error("audience.segment_id", "no such saved segment"))
    return out


# customers (saved segments) sits above promotions: reached by name, as coupons/targeting
GET_SEGMENT = "chalicelib.customers.segments:get_segment"


def segment_exists(segment_id: str) -> bool:
    """Whether head office saved this segment (one eventually consistent GetItem)."""
    module, function = GET_SEGMENT.split(":")
    try:
        getattr(importlib.import_module(module), function)(segment_id)
    except NotFound:
        return False
    return True


def apply(
    m: PromotionModel, recurrence: RecurrenceSpec | None, audience: AudienceSpec | None
) -> None:
    """Set the targeting attributes of a new promotion (absent when not given)."""
    if recurrence is not None:
        m.rec_weekdays = sorted(recurrence.weekdays)
        m.rec_start, m.rec_end = recurrence.start, recurrence.end
    if audience is not None:
        m.aud_min_level, m.aud_segment_id = audience.min_level, audience.segment_id


PUBLISHED = (
    "the promotion is approved and published: its targeting is part of what was "
    "approved; clone it to target it differently"
)


def edit_errors(
    kind: str,
    draft: bool,
    recurrence: RecurrenceSpec | UnsetType | None,
    audience: AudienceSpec | UnsetType | None,
) -> list[dict[str, str]]:
    """Why an edit of the targeting is refused: only a draft (or pending) promotion's
    changes; null (removal) is always well-formed."""
    sent = [f for f, v in (("recurrence", recurrence), ("audience", audience)) if v is not UNSET]
    if not sent:
        return []
    if not draft:
        return [field_error(f, PUBLISHED) for f in sent]
    return errors(
        kind,
        None if isinstance(recurrence, UnsetType) else recurrence,
        None if isinstance(audience, UnsetType) else audience,
    )


def edit_actions(
    recurrence: RecurrenceSpec | UnsetType | None, audience: AudienceSpec | UnsetType | None
) -> list[Any]:
    """The update's actions for the targeting sent (null removes it)."""
    p = PromotionModel
    out: list[Any] = []
    if recurrence is None:
        out += [p.rec_weekdays.remove(), p.rec_start.remove(), p.rec_end.remove()]
    elif not isinstance(recurrence, UnsetType):
        out += [
            p.rec_weekdays.set(sorted(recurrence.weekdays)),
            p.rec_start.set(recurrence.start),
            p.rec_end.set(recurrence.end),
        ]
    if not isinstance(audience, UnsetType):
        level = None if audience is None else audience.min_level
        out.append(p.aud_min_level.set(level) if level else p.aud_min_level.remove())
    return out


def audited(m: PromotionModel) -> dict[str, Any]:
    """The targeting as the audit entry's before/after shows it."""
    r = recurrence_of(m)
    return {
        "recurrence": None
        if r is None
        else {"weekdays": list(r.weekdays), "start": r.start, "end": r.end},
        "audience": None if m.aud_min_level is None else {"min_level": m.aud_min_level},
    }


def recurrence_of(m: PromotionModel) -> rec.Recurrence | None:
    if not m.rec_weekdays or m.rec_start is None or m.rec_end is None:
        return None
    return rec.Recurrence(tuple(int(d) for d in m.rec_weekdays), m.rec_start, m.rec_end)


def on_at(m: PromotionModel, now: datetime) -> bool:
    """Whether the promotion's recurring window (if any) is on at ``now``."""
    return rec.on_at(recurrence_of(m), now)


def recurrence_view(m: PromotionModel) -> RecurrenceOut | None:
    r = recurrence_of(m)
    if r is None:
        return None
    return RecurrenceOut(weekdays=list(r.weekdays), start=r.start, end=r.end, text=rec.describe(r))


def audience_view(m: PromotionModel) -> AudienceOut | None:
    if m.aud_min_level is None and m.aud_segment_id is None:
        return None
    return AudienceOut(min_level=m.aud_min_level, segment_id=m.aud_segment_id)


def targeted(m: PromotionModel) -> bool:
    """For an audience only: left out of the public list of the store's promotions."""
    return m.aud_min_level is not None or m.aud_segment_id is not None


def next_window(m: PromotionModel, now: datetime) -> list[str] | None:
    """[start, end] of the window on now or next (UTC instants, inside the overall
    window), or None: no recurrence, or no window left before the promotion ends."""
    r = recurrence_of(m)
    if r is None:
        return None
    got = rec.next_on(r, max(now, clock.parse(m.starts_at)))
    if got is None:
        return None
    starts, ends = clock.iso(got[0]), clock.iso(got[1])
    if starts >= m.ends_at:
        return None
    return [max(starts, m.starts_at), min(ends, m.ends_at)]
