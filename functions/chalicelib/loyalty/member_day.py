"""A member day's coupon pack (会员日券包): claimed by a member on the day, or issued to a
segment's members by a job. Coupons go through coupons/service.issue with deterministic
ids "<template>:md-<promotion>-<day>:<customer>" (day: the occurrence's first local day,
YYYYMMDD), so a member gets each coupon once per occurrence whatever the retries and
races (the coupon's put is conditional on its id).

For an audience of all members (or a level) the pack is claimed, never pushed to a
million members; for a saved segment the hourly job ``member_day_packs`` starts a segment
action (customers/segments.py ``start_member_day_pack``) whose chunks call
``issue_member_day_pack`` with the segment's consenting member ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.coupons import service as coupons
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.db.transactions import batch_get
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound
from chalicelib.loyalty import growth
from chalicelib.loyalty import levels as level_rules
from chalicelib.loyalty.programme_settings import levels_settings
from chalicelib.promotions import member_day as md
from chalicelib.promotions import schemas as ps
from chalicelib.promotions.models import PromotionModel
from chalicelib.promotions.repo import get_promotion
from chalicelib.promotions.service import recurrence_of

SOURCE = "member_day"


def pack_coupon_id(template_id: str, promotion_id: str, day: str, customer_id: str) -> str:
    return f"{template_id}:md-{promotion_id}-{day}:{customer_id}"


def _member_day(promotion_id: str) -> PromotionModel:
    promo = get_promotion(promotion_id)
    if promo.kind != "member_day":
        raise NotFound(f"No member day {promotion_id!r}.", code="member_day_not_found")
    return promo


def _issue(
    promo: PromotionModel,
    templates: dict[str, CouponTemplateModel],
    day: str,
    customer_id: str,
) -> tuple[list[str], list[str], list[ps.PackRefusal]]:
    issued: list[str] = []
    already: list[str] = []
    refused: list[ps.PackRefusal] = []
    for tid in promo.md_coupon_templates or []:
        template = templates.get(tid)
        if template is None:
            refused.append(ps.PackRefusal(template_id=tid, reason="unknown_template"))
            continue
        cid = pack_coupon_id(tid, promo.promotion_id, day, customer_id)
        try:
            _, created = coupons.issue(template, customer_id, cid, SOURCE)
        except coupons.IssueRefused as err:
            refused.append(ps.PackRefusal(template_id=tid, reason=err.code))
            continue
        (issued if created else already).append(cid)
    return issued, already, refused


def _templates(promo: PromotionModel) -> dict[str, CouponTemplateModel]:
    ids = list(dict.fromkeys(promo.md_coupon_templates or []))
    if not ids:
        return {}
    got = batch_get({CouponTemplateModel: [{"template_id": t} for t in ids]})
    return {t.template_id: t for t in got[CouponTemplateModel]}


def claim(customer_id: str, promotion_id: str) -> ps.MemberDayClaim:
    """A member claims the pack of the member day on now: 409 ``member_day_not_on``
    outside its days, ``member_day_not_for_you`` outside its audience (a segment's pack
    is issued by a job, not claimed). Claiming again the same occurrence issues nothing
    new (the coupons come back as ``already_issued``)."""
    promo = _member_day(promotion_id)
    now = clock.now()
    on = md.occurrence_at(recurrence_of(promo), now) if promo.status == "active" else None
    if on is None:
        raise Conflict("The member day is not on today.", code="member_day_not_on")
    if promo.md_audience == "segment":
        raise Conflict("This member day is not for you.", code="member_day_not_for_you")
    if promo.md_audience == "level":
        settings = levels_settings()
        level = growth.current_level(customer_id)
        if level_rules.rank(level.code, settings) < level_rules.rank(promo.md_min_level, settings):
            raise Conflict("This member day is not for you.", code="member_day_not_for_you")
    if not promo.md_coupon_templates:
        raise Conflict("This member day has no coupon pack.", code="member_day_no_pack")
    day = md.day_key(on)
    issued, already, refused = _issue(promo, _templates(promo), day, customer_id)
    return ps.MemberDayClaim(
        promotion_id=promotion_id,
        day=on.isoformat(),
        issued=issued,
        already_issued=already,
        refused=refused,
    )


def issue_member_day_pack(
    member_day_id: str, day: str, customer_ids: Iterable[str]
) -> ps.MemberDayClaim:
    """THE HOOK for a segment audience: the job that starts member day ``day``
    (YYYYMMDD, the occurrence's first local day) passes the segment's member ids; each
    gets the pack once (idempotent ids: a rerun of the job issues nothing new). The
    caller excludes members who revoked marketing consent. Returns the counts over all
    members (``issued`` / ``already_issued`` coupon ids, refusals per template)."""
    promo = _member_day(member_day_id)
    templates = _templates(promo)
    issued: list[str] = []
    already: list[str] = []
    refused: list[ps.PackRefusal] = []
    for customer_id in customer_ids:
        i, a, r = _issue(promo, templates, day, customer_id)
        issued += i
        already += a
        refused += r
    return ps.MemberDayClaim(
        promotion_id=member_day_id,
        day=f"{day[:4]}-{day[4:6]}-{day[6:]}",
        issued=issued,
        already_issued=already,
        refused=refused,
    )
