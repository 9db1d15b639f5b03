"""Shareable codes (通用码, issue 18 item 4): one code, many customers, each getting the
template's coupon under the template's own rules (total quantity, per-customer limit,
validity, budget at redemption), through the same issuance transaction as a claim.

A failed attempt is cheap and says nothing: a malformed code costs no read, an unknown
one one eventually consistent GetItem; an unknown, paused or ended code all answer the
same 404 ``unknown_code``, so guessing tells nobody which codes ever existed.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Principal
from chalicelib.coupons import schemas as s
from chalicelib.coupons import targeting
from chalicelib.coupons.models import CouponCodeModel
from chalicelib.coupons.service import IssueRefused, coupon_view, get_template, issue
from chalicelib.kernel.errors import Conflict, NotFound

UNKNOWN = "No coupon has this code."
REFUSED = {
    "sold_out": ("code_used_up", "This code's coupons are all gone."),
    "limit_reached": ("code_limit_reached", "You already redeemed this code as often as allowed."),
}


def _unknown() -> NotFound:
    return NotFound(UNKNOWN, code="unknown_code")


def redeem(principal: Principal, body: s.RedeemCodeRequest) -> tuple[s.Coupon, bool]:
    """Issue the code's coupon to the caller: (coupon, created); the same request_id
    again answers the same coupon, not created (its id is
    "<template>:code:<customer>:<request>")."""
    code = targeting.normalise(body.code)
    if code is None:
        raise _unknown()
    try:
        link = CouponCodeModel.get(code)
        template = get_template(link.template_id)
    except (DoesNotExist, NotFound):
        raise _unknown() from None
    if template.code != code:
        raise _unknown()
    if not targeting.in_audience(template, principal.subject):
        raise Conflict("This coupon is not for you.", code="not_for_you")
    coupon_id = f"{template.template_id}:code:{principal.subject}:{body.request_id}"
    try:
        coupon, created = issue(template, principal.subject, coupon_id, "code")
    except IssueRefused as err:
        if err.code not in REFUSED:  # template_not_active: paused or ended
            raise _unknown() from None
        code_name, message = REFUSED[err.code]
        raise Conflict(message, code=code_name) from None
    return coupon_view(coupon), created
