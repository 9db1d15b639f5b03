"""Coupons: templates, issuance, wallet, budgets.

Head office defines templates, issues to members, watches budgets and reminders; the
customer claims coupons and sees the wallet. Checkout uses coupons/service.py hooks."""

from __future__ import annotations

import msgspec
from chalice import Response

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.coupons import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

coupon_reminders = lazy_module("chalicelib.coupons.reminders")
coupon_sales = lazy_module("chalicelib.coupons.sales")
coupon_codes = lazy_module("chalicelib.coupons.codes")
service = lazy_module("chalicelib.coupons.service")

area = Area("coupons", __name__, "Coupons: templates, issuance, wallet, budgets.")

TEMPLATE_REQUEST = {
    "template_id": "new-member-20",
    "name": "满99减20",
    "kind": "amount_off",
    "threshold_fen": 9900,
    "amount_off_fen": 2000,
    "scope": {"categories": ["水果"], "skus": [], "stores": []},
    "days_after_claim": 7,
    "total_quantity": 10000,
    "per_customer_limit": 1,
    "funded_by": "supplier",
    "funder": "佳沛奇异果",
    "budget_fen": 5_000_000,
    "claimable": True,
    "auto_issue": "registration",
}
TEMPLATE_EXAMPLE = {
    "template_id": "new-member-20",
    "name": "满99减20",
    "kind": "amount_off",
    "threshold_fen": 9900,
    "amount_off_fen": 2000,
    "percent_off": None,
    "cap_fen": None,
    "scope": {"categories": ["水果"], "skus": [], "stores": []},
    "starts_at": None,
    "ends_at": None,
    "days_after_claim": 7,
    "total_quantity": 10000,
    "issued_count": 1520,
    "per_customer_limit": 1,
    "funded_by": "supplier",
    "funder": "佳沛奇异果",
    "budget_fen": 5_000_000,
    "spent_fen": 1_204_000,
    "remaining_budget_fen": 3_796_000,
    "used_count": 602,
    "claimable": True,
    "auto_issue": "registration",
    "after_payment_min_fen": None,
    "sale_price_fen": None,
    "status": "active",
    "created_by": "hq-admin",
    "created_at": "2026-11-20T02:00:00Z",
    "updated_at": "2026-11-24T02:00:00Z",
    "version": 3,
}
COUPON_EXAMPLE = {
    "coupon_id": "new-member-20:claim:c-3f2a9b1c4d5e6f70:r-1",
    "customer_id": "c-3f2a9b1c4d5e6f70",
    "template_id": "new-member-20",
    "name": "满99减20",
    "kind": "amount_off",
    "threshold_fen": 9900,
    "amount_off_fen": 2000,
    "percent_off": None,
    "cap_fen": None,
    "scope": {"categories": ["水果"], "skus": [], "stores": []},
    "state": "available",
    "valid_from": "2026-11-24T02:00:00Z",
    "valid_until": "2026-12-01T02:00:00Z",
    "source": "staff_qr",
    "staff_username": "sh-jingan-li",
    "order_id": None,
    "discount_fen": None,
    "created_at": "2026-11-24T02:00:00.123Z",
    "recurrence": None,
}


@area.route(
    "/admin/coupon-templates",
    "POST",
    summary="Create a coupon template",
    roles={HQ_ADMIN},
    body=s.TemplateCreate,
    response=s.CouponTemplate,
    status=201,
    errors=(403, 409, 422),
    request_example=TEMPLATE_REQUEST,
    response_example=TEMPLATE_EXAMPLE,
)
def create_template(body: s.TemplateCreate, principal: Principal) -> s.CouponTemplate:
    """Head office only. The template starts as a ``draft``: nothing is issued, claimed
    or listed until approvers publish it (``POST .../approve``). Times may carry any
    offset and are stored in UTC. Send a ``template_id`` of your own to make retries
    safe (same body: same template; a
    different body: 409 ``coupon_template_exists``). Validation errors list every bad
    field in ``details``."""
    return service.create_template(principal, body)


@area.route(
    "/admin/coupon-templates",
    "GET",
    summary="Coupon templates, newest first",
    roles={HQ_ADMIN},
    response=s.TemplateList,
    errors=(403,),
    response_example={"items": [TEMPLATE_EXAMPLE]},
)
def list_templates(principal: Principal) -> s.TemplateList:
    """Head office only."""
    return service.list_templates(principal)


@area.route(
    "/admin/coupon-templates/{template_id}",
    "GET",
    summary="One coupon template with its counts and budget",
    roles={HQ_ADMIN},
    response=s.CouponTemplate,
    errors=(403, 404),
    response_example=TEMPLATE_EXAMPLE,
)
def get_template(template_id: str, principal: Principal) -> s.CouponTemplate:
    """Head office only."""
    return service.get_template_view(principal, template_id)


@area.route(
    "/admin/coupon-templates/{template_id}",
    "PATCH",
    summary="Edit a template: status, name, budget, quantity, validity end, scope",
    roles={HQ_ADMIN},
    body=s.TemplateUpdate,
    response=s.CouponTemplate,
    errors=(403, 404, 409, 422),
    request_example={
        "name": "满99减20 (加码)",
        "budget_fen": 6_000_000,
        "total_quantity": 12000,
        "scope": {"categories": ["水果", "乳品烘焙"], "skus": [], "stores": []},
        "expected_version": 3,
    },
    response_example=dict(
        TEMPLATE_EXAMPLE,
        name="满99减20 (加码)",
        budget_fen=6_000_000,
        remaining_budget_fen=4_796_000,
        total_quantity=12000,
        scope={"categories": ["水果", "乳品烘焙"], "skus": [], "stores": []},
        version=4,
    ),
)
def update_template(
    template_id: str, body: s.TemplateUpdate, principal: Principal
) -> s.CouponTemplate:
    """Head office only. A paused template issues nothing (coupons already held stay
    usable). Coupons already issued keep their own terms (validity, scope): an edit
    applies to coupons issued after it. Refused with 422 naming the field:
    ``budget_fen`` below the spent amount, ``total_quantity`` below the issued count,
    ``ends_at`` on a template valid N days after claiming, in the past or before
    ``starts_at``, or earlier than now once coupons were issued (only extending is
    allowed then), ``scope`` narrowed once coupons were issued (only widening is). Send
    ``expected_version`` (the ``version`` you read): if someone else edited the template
    since, 409 ``coupon_template_changed`` (``details.version`` is the current one) and
    nothing changes. See docs/coupons.md."""
    return service.update_template(principal, template_id, body)


@area.route(
    "/admin/coupon-templates/{template_id}/issue",
    "POST",
    summary="Issue coupons to a list of members (bulk, idempotent per batch)",
    roles={HQ_ADMIN},
    body=s.IssueRequest,
    response=s.IssueResult,
    errors=(403, 404, 422),
    request_example={"batch_id": "double11-vip", "customer_ids": ["c-3f2a9b1c4d5e6f70"]},
    response_example={
        "issued": 1,
        "already_issued": 0,
        "refused": [{"customer_id": "c-0000000000000000", "reason": "unknown_customer"}],
    },
)
def issue(template_id: str, body: s.IssueRequest, principal: Principal) -> s.IssueResult:
    """Head office only. 1 to 500 members per call. Sending the same ``batch_id`` again
    issues nothing new (``already_issued``). The total quantity and the per-customer
    limit are respected: refusals are listed with their reason."""
    return service.bulk_issue(principal, template_id, body)


@area.route(
    "/admin/customers",
    "GET",
    summary="Find a member by phone",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.CustomerLookupQuery,
    response=s.CustomerFound,
    errors=(403, 404, 422),
    response_example={
        "customer_id": "c-3f2a9b1c4d5e6f70",
        "phone_masked": "139****0001",
        "nickname": "小王",
        "created_at": "2026-11-01T02:00:00Z",
    },
)
def find_customer(query: s.CustomerLookupQuery, principal: Principal) -> s.CustomerFound:
    """Head office and store managers. The phone is answered masked."""
    return service.find_customer(query.phone)


@area.route(
    "/admin/customers/{customer_id}/coupons",
    "GET",
    summary="A member's coupons (wallet)",
    roles={HQ_ADMIN},
    query=s.WalletQuery,
    response=s.CouponList,
    errors=(403, 422),
    response_example={"items": [COUPON_EXAMPLE]},
)
def customer_coupons(customer_id: str, query: s.WalletQuery, principal: Principal) -> s.CouponList:
    """Head office only. Same view as the customer's own wallet."""
    return service.wallet(customer_id, query.state)


@area.route(
    "/coupon-templates",
    "GET",
    summary="Coupons a customer can claim now",
    query=s.PublicTemplateQuery,
    response=s.PublicTemplateList,
    errors=(422,),
    response_example={
        "items": [
            {
                k: TEMPLATE_EXAMPLE[k]
                for k in (
                    "template_id",
                    "name",
                    "kind",
                    "threshold_fen",
                    "amount_off_fen",
                    "percent_off",
                    "cap_fen",
                    "scope",
                    "starts_at",
                    "ends_at",
                    "days_after_claim",
                    "per_customer_limit",
                )
            }
            | {"sold_out": False}
        ]
    },
)
def public_templates(query: s.PublicTemplateQuery) -> s.PublicTemplateList:
    """Public. Active, claimable templates not past their window; with ``store_id``,
    those usable in that store."""
    return service.public_templates(query.store_id)


@area.route(
    "/coupons/claim",
    "POST",
    summary="Claim a coupon (领券), optionally through a staff member's QR code",
    roles={CUSTOMER},
    body=s.ClaimRequest,
    response=s.Coupon,
    status=201,
    errors=(403, 404, 409, 422),
    request_example={
        "template_id": "new-member-20",
        "request_id": "r-1",
        "staff_username": "sh-jingan-li",
    },
    response_example=COUPON_EXAMPLE,
    replays=True,
)
def claim(body: s.ClaimRequest, principal: Principal) -> Response:
    """Customers only. 201 with the new coupon; the same ``request_id`` again answers the
    same coupon with 200. 409 ``sold_out``, ``limit_reached``, ``template_not_active``
    or ``template_not_claimable``; 422 when ``staff_username`` is not an active staff
    account."""
    return service.claim(principal, body)


@area.route(
    "/coupons/redeem-code",
    "POST",
    summary="Redeem a shareable code (通用码) for its coupon",
    roles={CUSTOMER},
    body=s.RedeemCodeRequest,
    response=s.Coupon,
    status=201,
    errors=(403, 404, 409, 422),
    request_example={"code": "spring2027", "request_id": "r-7"},
    response_example=COUPON_EXAMPLE
    | {
        "coupon_id": "spring-20:code:c-3f2a9b1c4d5e6f70:r-7",
        "template_id": "spring-20",
        "name": "春季满99减20",
        "source": "code",
        "staff_username": None,
        "recurrence": {
            "weekdays": [3],
            "start": "18:00",
            "end": "21:00",
            "text": "Wednesdays 18:00–21:00",
        },
    },
    replays=True,
)
def redeem_code(body: s.RedeemCodeRequest, principal: Principal) -> Response:
    """Customers only. The code is case-insensitive. 201 with the new coupon (the
    template's rules: validity, scope, usable window); the same ``request_id`` again
    answers the same coupon with 200. 404 ``unknown_code`` for a code that does not
    exist, is paused or has ended (one answer for all three, so guessing reveals
    nothing); 409 ``code_used_up`` (the template's quantity is issued) or
    ``code_limit_reached`` (the customer's per-customer limit) or ``not_for_you`` when
    the template has an audience (level, segment) the customer is not in."""
    coupon, created = coupon_codes.redeem(principal, body)
    return Response(
        body=msgspec.json.encode(coupon).decode(),
        status_code=201 if created else 200,
        headers={"Content-Type": "application/json"},
    )


@area.route(
    "/me/coupons",
    "GET",
    summary="My coupons",
    roles={CUSTOMER},
    query=s.WalletQuery,
    response=s.CouponList,
    errors=(403, 422),
    response_example={"items": [COUPON_EXAMPLE]},
)
def my_coupons(query: s.WalletQuery, principal: Principal) -> s.CouponList:
    """Customers only. Newest first; ``state`` filters. A coupon past ``valid_until``
    reads ``expired`` at once."""
    return service.wallet(principal.subject, query.state)


@area.route(
    "/admin/coupon-budgets",
    "GET",
    summary="Spend against budget per coupon template",
    roles={HQ_ADMIN},
    response=s.BudgetList,
    errors=(403,),
    response_example={
        "items": [
            {
                "template_id": "new-member-20",
                "name": "满99减20",
                "status": "active",
                "funded_by": "supplier",
                "funder": "佳沛奇异果",
                "budget_fen": 5_000_000,
                "spent_fen": 1_204_000,
                "remaining_fen": 3_796_000,
                "issued_count": 1520,
                "used_count": 602,
            }
        ]
    },
)
def budgets(principal: Principal) -> s.BudgetList:
    """Head office only. ``spent_fen`` counts discounts of orders placed and not
    cancelled (locked or used coupons)."""
    return service.budgets()


@area.route(
    "/admin/notifications",
    "GET",
    summary="Notifications recorded (coupon expiry reminders), newest first",
    roles={HQ_ADMIN},
    query=s.NotificationQuery,
    response=s.NotificationList,
    errors=(403, 422),
    response_example={
        "items": [
            {
                "notification_id": "coupon_expiring:new-member-20:reg:c-1:2026-11-24",
                "kind": "coupon_expiring",
                "customer_id": "c-3f2a9b1c4d5e6f70",
                "phone_masked": "139****0001",
                "coupon_id": "new-member-20:reg:c-1",
                "message": "您的优惠券「满99减20」将于 2026-11-26 到期",
                "channel": "log",
                "created_at": "2026-11-24T01:00:00Z",
            }
        ]
    },
)
def notifications(query: s.NotificationQuery, principal: Principal) -> s.NotificationList:
    """Head office only."""
    return coupon_reminders.list_notifications(query.kind, query.limit)


# --- coupons sold for money (一元买百元券) ---------------------------------------------


@area.route(
    "/coupon-sales",
    "POST",
    summary="Buy a coupon that is for sale (一元买百元券)",
    roles={CUSTOMER},
    body=s.CouponSaleCreate,
    response=s.CouponSale,
    status=201,
    errors=(403, 404, 409, 422),
    request_example={"template_id": "buy-1-get-100", "request_id": "r-1"},
    response_example=dict(
        s.COUPON_SALE_EXAMPLE, status="awaiting_payment", coupon_id=None, paid_at=None
    ),
    replays=True,
)
def buy_coupon(body: s.CouponSaleCreate, principal: Principal) -> Response:
    """Customers only, for templates with a ``sale_price_fen``. 201 with the sale awaiting
    payment (15 minutes); the same ``request_id`` again answers the same sale with 200.
    409 ``template_not_for_sale``, ``template_not_active``, ``sold_out`` or
    ``limit_reached`` (checked again when the payment issues the coupon: if the coupon
    sold out meanwhile, the payment is refunded in full). Pay with
    ``POST /coupon-sales/{sale_id}/payment``."""
    return coupon_sales.create(principal, body)


@area.route(
    "/coupon-sales/{sale_id}",
    "GET",
    summary="One of my coupon purchases",
    roles={CUSTOMER},
    response=s.CouponSale,
    errors=(403, 404),
    response_example=s.COUPON_SALE_EXAMPLE,
)
def get_coupon_sale(sale_id: str, principal: Principal) -> s.CouponSale:
    """Customers only, their own purchases (another customer's is a 404)."""
    return coupon_sales.get_view(principal, sale_id)


@area.route(
    "/coupon-sales/{sale_id}/payment",
    "POST",
    summary="Start paying for a coupon purchase",
    roles={CUSTOMER},
    response=s.CouponSalePaymentStart,
    errors=(403, 404, 409),
    response_example=s.EXAMPLES["CouponSalePaymentStart"],
)
def pay_coupon_sale(sale_id: str, principal: Principal) -> s.CouponSalePaymentStart:
    """Customers only. The provider's parameters for the payment sheet; the provider
    carries ``sale_id`` as its order number. The sale becomes ``paid`` and the coupon
    appears in ``GET /me/coupons`` (source ``sale``) when the provider notifies us, once
    however many times it does. 409 once the sale is paid, refunded or expired. On the
    local stage, ``POST /local/payments/{sale_id}/complete`` simulates paying."""
    return coupon_sales.start_payment(principal, sale_id)


@area.route(
    "/coupon-sales/{sale_id}/refund",
    "POST",
    summary="Refund a bought coupon while it is unused",
    roles={CUSTOMER},
    response=s.CouponSale,
    errors=(403, 404, 409),
    response_example=dict(
        s.COUPON_SALE_EXAMPLE,
        status="refunded",
        refund_id="CS3F9A0C1D2E4B5A6C:refund",
        refund_reason="requested",
        refunded_at="2026-11-25T09:00:00Z",
    ),
)
def refund_coupon_sale(sale_id: str, principal: Principal) -> s.CouponSale:
    """Customers only. The full price goes back and the coupon is voided, in one step;
    asking again answers the refunded sale. 409 ``coupon_in_use`` when an order has
    locked or used the coupon (cancelling that order gives it back, then it can be
    refunded); 409 ``illegal_transition`` when the sale was never paid."""
    return coupon_sales.refund(principal, sale_id)


# --- workflow (issue 18 item 5): approve, reject ---------------------------------------

workflow = lazy_module("chalicelib.coupons.workflow")

TEMPLATE_APPROVED_EXAMPLE = dict(
    TEMPLATE_EXAMPLE,
    status="active",
    approvals=[{"by": "hq-li", "at": "2026-11-24T09:00:00Z"}],
    approvals_needed=1,
    rejected_reason=None,
)


@area.route(
    "/admin/coupon-templates/{template_id}/approve",
    "POST",
    summary="Approve a draft coupon template; published once it has the approvals it needs",
    roles={HQ_ADMIN},
    body=s.TemplateApproveRequest,
    response=s.CouponTemplate,
    errors=(403, 404, 409, 422),
    request_example={"expected_version": 0},
    response_example=TEMPLATE_APPROVED_EXAMPLE,
)
def approve_template(
    template_id: str, body: s.TemplateApproveRequest, principal: Principal
) -> s.CouponTemplate:
    """Head office only. Each approval is recorded (who, when; audited); the template
    becomes ``active`` with one approval when its budget (``budget_fen``, else
    ``total_quantity`` × face value: ``amount_off_fen``, or a percent coupon's
    ``cap_fen``) is at most the two-approver threshold (default ¥50,000), else (or
    unbounded) with two approvals by two different people (``pending`` after the
    first). 409 ``already_approved_by_you``, ``not_a_draft``,
    ``coupon_template_changed``."""
    return workflow.approve(principal, template_id, body)


@area.route(
    "/admin/coupon-templates/{template_id}/reject",
    "POST",
    summary="Reject a draft or pending coupon template: back to draft, approvals cleared",
    roles={HQ_ADMIN},
    body=s.TemplateRejectRequest,
    response=s.CouponTemplate,
    errors=(403, 404, 409, 422),
    request_example={"reason": "面额过高", "expected_version": 0},
    response_example=dict(
        TEMPLATE_APPROVED_EXAMPLE, status="draft", approvals=[], rejected_reason="面额过高"
    ),
)
def reject_template(
    template_id: str, body: s.TemplateRejectRequest, principal: Principal
) -> s.CouponTemplate:
    """Head office only. 409 ``not_a_draft`` (already published or paused),
    ``coupon_template_changed``."""
    return workflow.reject(principal, template_id, body)
