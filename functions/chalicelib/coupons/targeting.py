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
from typing import Any, cast

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
