"""Targeting of coupon templates (issue 18 item 4): a shareable code, a recurring window
the coupons are usable in, and an audience (a level or a saved segment).

* The code is upper case, 4-20 letters and digits; a ``CouponCodeModel`` item written in
  the template's create transaction with the condition that it is free makes it unique
  across templates.
* The window (kernel/recurrence.py) is copied onto every coupon issued (repo.issue_items)
  so checkout judges it with no read: the engine's ``outside_window`` verdict.
* The audience is checked when a coupon is claimed or redeemed by code. The member's
  level lives in loyalty and a segment's members in customers' nightly snapshot, both
  above coupons: they are reached through named providers (as members/providers.py
  does), so coupons imports neither. A bulk issue or a member-day pack is head office's
  own choice of members and is not filtered.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from msgspec import UNSET, UnsetType

from chalicelib.coupons.models import CouponModel, CouponTemplateModel
from chalicelib.db.transactions import Tx
from chalicelib.kernel import recurrence as rec
from chalicelib.kernel.errors import NotFound, field_error
from chalicelib.kernel.schema import AudienceOut, AudienceSpec, RecurrenceOut, RecurrenceSpec

CODE = re.compile(r"^[A-Z0-9]{4,20}$")
CODE_LABEL = "coupon_code"

# Providers above coupons, "module:function" imported by name when used (as
# members/providers.py): (customer_id, min_level) -> bool and (segment_id, customer_id)
# -> bool (NotFound when the segment or the snapshot is missing).
AT_LEVEL = "chalicelib.loyalty.member_data:at_level"
IN_SEGMENT = "chalicelib.customers.segments:is_member"


def _provider(name: str) -> Callable[..., Any]:
    module, function = name.split(":")
    return cast(Callable[..., Any], getattr(importlib.import_module(module), function))


def normalise(code: str) -> str | None:
    """The stored form of a code a person typed (case-insensitive, spaces trimmed), or
    None when it cannot be a code."""
    up = code.strip().upper()
    return up if CODE.match(up) else None


def errors(
    code: str | None,
    recurrence: RecurrenceSpec | None,
    audience: AudienceSpec | None,
    *,
    for_sale: bool,
    auto_issue: str | None,
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if code is not None:
        if normalise(code) is None:
            out.append(field_error("code", "4 to 20 letters and digits"))
        if for_sale:
            out.append(field_error("code", "a coupon for sale is bought, not redeemed by code"))
        if auto_issue is not None:
            out.append(field_error("code", "an automatically issued coupon takes no code"))
    if recurrence is not None:
        out += [
            field_error(f, r)
            for f, r in rec.errors(
                recurrence.weekdays, recurrence.start, recurrence.end, "recurrence"
            )
        ]
    if audience is not None and (audience.min_level is None) == (audience.segment_id is None):
        out.append(field_error("audience", "give min_level or segment_id (one of them)"))
    return out


def apply(
    m: CouponTemplateModel,
    code: str | None,
    recurrence: RecurrenceSpec | None,
    audience: AudienceSpec | None,
) -> None:
    """Set the targeting attributes of a new template (absent when not given)."""
    if code is not None:
        m.code = normalise(code)
    if recurrence is not None:
        m.rec_weekdays = sorted(recurrence.weekdays)
        m.rec_start, m.rec_end = recurrence.start, recurrence.end
    if audience is not None:
        m.aud_min_level, m.aud_segment_id = audience.min_level, audience.segment_id


PUBLISHED = (
    "the template is approved and published: its targeting is part of what was "
    "approved; create a new template to target it differently"
)


@dataclass(frozen=True)
class Edit:
    """A template update's targeting (UNSET: not sent; None: remove)."""

    code: str | UnsetType | None = UNSET
    recurrence: RecurrenceSpec | UnsetType | None = UNSET
    audience: AudienceSpec | UnsetType | None = UNSET

    @property
    def sent(self) -> list[str]:
        return [f for f in ("code", "recurrence", "audience") if getattr(self, f) is not UNSET]


def _given(v: Any) -> Any:
    return None if isinstance(v, UnsetType) else v


def edit_errors(m: CouponTemplateModel, draft: bool, edit: Edit) -> list[dict[str, str]]:
    """Why the targeting edit is refused: only a draft (or pending) template's changes,
    under the create rules (null, a removal, is always well-formed)."""
    if not edit.sent:
        return []
    if not draft:
        return [field_error(f, PUBLISHED) for f in edit.sent]
    return errors(
        _given(edit.code),
        _given(edit.recurrence),
        _given(edit.audience),
        for_sale=m.sale_price_fen is not None,
        auto_issue=m.auto_issue,
    )


def new_code(m: CouponTemplateModel, edit: Edit) -> str | UnsetType | None:
    """The template's code after the edit (UNSET: it stays as it is)."""
    if isinstance(edit.code, UnsetType):
        return UNSET
    code = None if edit.code is None else normalise(edit.code)
    return UNSET if code == m.code else code


def edit_actions(edit: Edit, code: str | UnsetType | None) -> list[Any]:
    """The update's actions for the targeting sent."""
    t = CouponTemplateModel
    out: list[Any] = []
    if code is None:
        out.append(t.code.remove())
    elif not isinstance(code, UnsetType):
        out.append(t.code.set(code))
    if edit.recurrence is None:
        out += [t.rec_weekdays.remove(), t.rec_start.remove(), t.rec_end.remove()]
    elif not isinstance(edit.recurrence, UnsetType):
        r = edit.recurrence
        out += [t.rec_weekdays.set(sorted(r.weekdays)), t.rec_start.set(r.start)]
        out.append(t.rec_end.set(r.end))
    if not isinstance(edit.audience, UnsetType):
        a = edit.audience
        level, segment = (None, None) if a is None else (a.min_level, a.segment_id)
        out.append(t.aud_min_level.set(level) if level else t.aud_min_level.remove())
        out.append(t.aud_segment_id.set(segment) if segment else t.aud_segment_id.remove())
    return out


def move_code(tx: Tx, m: CouponTemplateModel, code: str | UnsetType | None, now_iso: str) -> None:
    """Free the template's old code and take the new one in the update's transaction
    (the new one only if free: label coupon_code)."""
    from chalicelib.coupons.models import CouponCodeModel

    if isinstance(code, UnsetType):
        return
    if m.code is not None:
        tx.delete(
            CouponCodeModel(m.code),
            condition=CouponCodeModel.template_id == m.template_id,
            label="coupon_code_release",
        )
    if code is not None:
        tx.save(
            CouponCodeModel(code, template_id=m.template_id, created_at=now_iso),
            condition=CouponCodeModel.code.does_not_exist(),
            label=CODE_LABEL,
        )


def audited(m: CouponTemplateModel) -> dict[str, Any]:
    """The targeting as the audit entry's before/after shows it."""
    r = recurrence_of(m)
    audience = audience_view(m)
    return {
        "code": m.code,
        "recurrence": None
        if r is None
        else {"weekdays": list(r.weekdays), "start": r.start, "end": r.end},
        "audience": None
        if audience is None
        else {"min_level": audience.min_level, "segment_id": audience.segment_id},
    }


def add_code(tx: Tx, m: CouponTemplateModel, now_iso: str) -> Any:
    """The code's item, put only if no template holds the code yet (label coupon_code)."""
    from chalicelib.coupons.models import CouponCodeModel

    if m.code is None:
        return None
    return tx.save(
        CouponCodeModel(m.code, template_id=m.template_id, created_at=now_iso),
        condition=CouponCodeModel.code.does_not_exist(),
        label=CODE_LABEL,
    )


def recurrence_of(m: CouponTemplateModel | CouponModel) -> rec.Recurrence | None:
    if not m.rec_weekdays or m.rec_start is None or m.rec_end is None:
        return None
    return rec.Recurrence(tuple(int(d) for d in m.rec_weekdays), m.rec_start, m.rec_end)


def recurrence_view(m: CouponTemplateModel | CouponModel) -> RecurrenceOut | None:
    r = recurrence_of(m)
    if r is None:
        return None
    return RecurrenceOut(weekdays=list(r.weekdays), start=r.start, end=r.end, text=rec.describe(r))


def audience_view(m: CouponTemplateModel) -> AudienceOut | None:
    if m.aud_min_level is None and m.aud_segment_id is None:
        return None
    return AudienceOut(min_level=m.aud_min_level, segment_id=m.aud_segment_id)


def targeted(m: CouponTemplateModel) -> bool:
    """Not for everyone: a code or an audience (the public claimable list leaves it out)."""
    return m.code is not None or m.aud_min_level is not None or m.aud_segment_id is not None


def in_audience(m: CouponTemplateModel, customer_id: str) -> bool:
    """Whether the customer may get a coupon of this template: at or above its level
    (one GetItem of the member's account, the levels settings cached), or in its saved
    segment as of the latest snapshot (a member who revoked marketing consent is not,
    as for head office's bulk coupons). No snapshot or no segment: nobody."""
    if m.aud_min_level is not None and not _provider(AT_LEVEL)(customer_id, m.aud_min_level):
        return False
    if m.aud_segment_id is not None:
        try:
            return bool(_provider(IN_SEGMENT)(m.aud_segment_id, customer_id))
        except NotFound:
            return False
    return True
