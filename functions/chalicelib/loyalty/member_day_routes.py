"""Member day (会员日): a member claims the coupon pack of the member day on now. Head
office schedules member days through the promotions routes (kind ``member_day``)."""

from __future__ import annotations

from chalicelib.auth.principal import CUSTOMER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.promotions import schemas as ps

member_day = lazy_module("chalicelib.loyalty.member_day")

area = Area("member_day", __name__, "Member day (会员日): a member claims the day's coupon pack.")


@area.route(
    "/members/me/member-days/{promotion_id}/claim",
    "POST",
    summary="Claim the coupon pack of the member day on now (once per member per day)",
    roles={CUSTOMER},
    response=ps.MemberDayClaim,
    errors=(403, 404, 409),
    response_example={
        "promotion_id": "md-18",
        "day": "2026-12-18",
        "issued": ["T-md10:md-md-18-20261218:c-3f2a9b1c4d5e6f70"],
        "already_issued": [],
        "refused": [],
    },
)
def claim(promotion_id: str, principal: Principal) -> ps.MemberDayClaim:
    """Members only, on the member day (local day, Asia/Shanghai). Each coupon of the
    pack is issued once per member per occurrence (ids
    ``<template>:md-<promotion>-<YYYYMMDD>:<customer>``): claiming again, or two claims at
    once, give one coupon each, listed in ``already_issued``. 409 ``member_day_not_on``
    outside its days, ``member_day_not_for_you`` below its level or for a segment's
    member day (its pack is issued by a job), ``member_day_no_pack`` without coupons; a
    template sold out or paused is in ``refused`` with its reason; 404
    ``member_day_not_found``."""
    return member_day.claim(principal.subject, promotion_id)
