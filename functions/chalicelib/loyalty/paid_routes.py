"""Paid membership (付费会员卡) routes: a member's card, buying, refund; head office's
plans, rules, trial grants and a member's card."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module
from chalicelib.loyalty import paid_schemas as s

paid = lazy_module("chalicelib.loyalty.paid_membership")

area = Area(
    "paid membership", __name__, "Paid membership (付费会员卡): plans, buying, trial, refund."
)

REFUND_EXAMPLE = {
    "refund_ref": "refund:pm-refund-20261124-1",
    "refund_fen": 1000,
    "refund_ids": ["PM3F2A9B1C4D5E6F70:refund:pm-refund-20261124-1"],
    "membership": dict(
        s.MEMBERSHIP_EXAMPLE, active=False, benefits=None, next_pack_at=None, started_at=None
    ),
}


@area.route(
    "/members/me/paid-membership",
    "GET",
    summary="My paid membership: plan, end, benefits, history",
    roles={CUSTOMER},
    response=s.Membership,
    response_example=s.MEMBERSHIP_EXAMPLE,
)
def my_membership(principal: Principal) -> s.Membership:
    """``active`` while ``ends_at`` is ahead; ``history`` newest first (buys, the trial,
    refunds, monthly coupon packs)."""
    return paid.membership(principal.subject)


@area.route(
    "/members/me/paid-membership/plans",
    "GET",
    summary="The paid membership plans on sale",
    roles={CUSTOMER},
    response=s.PlanList,
    response_example={"items": [dict(s.PLAN_EXAMPLE, active_members=None)]},
)
def plans_on_sale(principal: Principal) -> s.PlanList:
    """The active plans, cheapest first."""
    return paid.list_plans(admin=False)


@area.route(
    "/members/me/paid-membership/purchases",
    "POST",
    summary="Buy or renew a plan (send an Idempotency-Key)",
    roles={CUSTOMER},
    body=s.PurchaseCreate,
    response=s.Purchase,
    status=201,
    errors=(400, 404, 409, 422),
    request_example={"plan_id": "plan-month"},
    response_example=s.PURCHASE_EXAMPLE,
    idempotency_key=True,
    replays=True,
)
def buy(body: s.PurchaseCreate, principal: Principal) -> Response:
    """201 with the purchase awaiting payment (15 minutes) and ``payment``, the
    provider's sheet; the same Idempotency-Key again answers the same purchase (200).
    Paid, it activates the card, or extends a running one from its end. 404
    ``plan_not_found``, 409 ``plan_inactive``."""
    request = current_request_of(area)
    purchase, created = paid.create_purchase(
        principal, request.headers.get("idempotency-key"), body
    )
    return respond(purchase, 201 if created else 200)


@area.route(
    "/members/me/paid-membership/purchases/{purchase_id}",
    "GET",
    summary="One of my purchases (with its payment sheet while unpaid)",
    roles={CUSTOMER},
    response=s.Purchase,
    errors=(404,),
    response_example=s.PURCHASE_EXAMPLE,
)
def my_purchase(purchase_id: str, principal: Principal) -> s.Purchase:
    """404 ``paid_purchase_not_found`` for another member's purchase."""
    return paid.own_purchase(principal, purchase_id)


@area.route(
    "/members/me/paid-membership/refund-quote",
    "POST",
    summary="What ending my membership now would pay back",
    roles={CUSTOMER},
    response=s.RefundQuote,
    response_example=s.QUOTE_EXAMPLE,
)
def my_refund_quote(principal: Principal) -> s.RefundQuote:
    """In full within the settings' days of a payment if no benefit was used, else the
    unused days pro rata (docs/loyalty.md, Paid membership)."""
    return paid.refund_quote(principal.subject)


@area.route(
    "/members/me/paid-membership/refunds",
    "POST",
    summary="End my membership and get the quote back",
    roles={CUSTOMER},
    body=s.RefundRequest,
    response=s.Refund,
    status=201,
    errors=(409, 422),
    request_example={"request_id": "pm-refund-20261124-1", "expected_refund_fen": 1000},
    response_example=REFUND_EXAMPLE,
)
def my_refund(body: s.RefundRequest, principal: Principal) -> s.Refund:
    """Send the quote's ``refund_fen`` as ``expected_refund_fen``: 409 ``quote_changed``
    if it moved, ``no_membership`` without a running card. The card ends now."""
    return paid.refund(principal, principal.subject, body)


# --- head office ----------------------------------------------------------------------


@area.route(
    "/admin/loyalty/paid-plans",
    "GET",
    summary="Paid membership plans, with the members whose card runs",
    roles={HQ_ADMIN},
    response=s.PlanList,
    response_example={"items": [s.PLAN_EXAMPLE]},
)
def admin_plans(principal: Principal) -> s.PlanList:
    """Head office only; ``active_members`` counts the running cards of each plan."""
    return paid.list_plans(admin=True)


@area.route(
    "/admin/loyalty/paid-plans",
    "POST",
    summary="Add a paid membership plan (audited)",
    roles={HQ_ADMIN},
    body=s.PlanIn,
    response=s.Plan,
    status=201,
    errors=(403, 422),
    request_example=s.PLAN_IN_EXAMPLE,
    response_example=dict(s.PLAN_EXAMPLE, active_members=0),
)
def admin_create_plan(body: s.PlanIn, principal: Principal) -> s.Plan:
    """422 ``coupon_template_not_found`` when the pack names an unknown template."""
    return paid.create_plan(principal, body)


@area.route(
    "/admin/loyalty/paid-plans/{plan_id}",
    "PUT",
    summary="Replace a paid membership plan (audited)",
    roles={HQ_ADMIN},
    body=s.PlanUpdate,
    response=s.Plan,
    errors=(403, 404, 409, 422),
    request_example=dict(s.PLAN_IN_EXAMPLE, version=1),
    response_example=dict(s.PLAN_EXAMPLE, version=2),
)
def admin_update_plan(plan_id: str, body: s.PlanUpdate, principal: Principal) -> s.Plan:
    """409 ``plan_changed`` when ``version`` is not the one read. Cards already bought
    keep their benefits; set ``active`` false to stop selling it."""
    return paid.update_plan(principal, plan_id, body)


@area.route(
    "/admin/loyalty/paid-membership-settings",
    "GET",
    summary="Paid membership rules: trial, refunds",
    roles={HQ_ADMIN},
    response=s.PaidSettings,
    response_example=s.SETTINGS_EXAMPLE,
)
def admin_paid_settings(principal: Principal) -> s.PaidSettings:
    """The defaults until head office sets them. The top-up amount that grants the trial
    is stored value's ``trial_threshold_fen``."""
    return paid.settings()


@area.route(
    "/admin/loyalty/paid-membership-settings",
    "PUT",
    summary="Replace the paid membership rules (audited)",
    roles={HQ_ADMIN},
    body=s.PaidSettings,
    response=s.PaidSettings,
    errors=(403, 404, 409, 422),
    request_example=s.SETTINGS_EXAMPLE,
    response_example=s.SETTINGS_EXAMPLE,
)
def admin_put_paid_settings(body: s.PaidSettings, principal: Principal) -> s.PaidSettings:
    """404 ``plan_not_found`` for an unknown ``trial_plan_id``."""
    return paid.put_settings(principal, body)


@area.route(
    "/admin/members/{customer_id}/paid-membership",
    "GET",
    summary="A member's paid membership and its history",
    roles={HQ_ADMIN},
    response=s.Membership,
    response_example=s.MEMBERSHIP_EXAMPLE,
)
def admin_membership(customer_id: str, principal: Principal) -> s.Membership:
    """Head office only."""
    return paid.membership(customer_id)


@area.route(
    "/admin/members/{customer_id}/paid-membership/trial",
    "POST",
    summary="Grant a member the free trial (once per member, audited)",
    roles={HQ_ADMIN},
    body=s.TrialGrant,
    response=s.Membership,
    status=201,
    errors=(403, 404, 409, 422),
    request_example={"reason": "门店开业活动"},
    response_example=dict(s.MEMBERSHIP_EXAMPLE, trial=True, trial_used=True),
)
def admin_grant_trial(customer_id: str, body: s.TrialGrant, principal: Principal) -> s.Membership:
    """409 ``trial_used`` (the member had one), ``already_member`` (a card runs),
    ``no_trial_plan``; 404 ``member_not_found``."""
    return paid.grant_trial(
        customer_id, actor=principal.subject, reason=body.reason, principal=principal
    )
