"""Checkout promotions: tiered discounts, second item half price, flash sales.

Head office creates, lists and ends them; the storefront reads what is on at a store."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.promotions import limits_schemas as ls
from chalicelib.promotions import schemas as s

service = lazy_module("chalicelib.promotions.service")
limits = lazy_module("chalicelib.promotions.limits")

area = Area("promotions", __name__, "Checkout promotions: tiered discounts, flash sales.")

FLASH_EXAMPLE = {
    "promotion_id": "P9f2c1a7b3e4d5c6a",
    "kind": "flash_sale",
    "name": "草莓秒杀",
    "stores": ["sh-jingan"],
    "starts_at": "2026-11-25T02:00:00Z",
    "ends_at": "2026-11-25T04:00:00Z",
    "status": "active",
    "live": True,
    "tiers": [],
    "scope": {"categories": [], "skus": []},
    "budget_fen": None,
    "spent_fen": None,
    "sku": "100001",
    "flash_price_fen": 990,
    "quantity": 500,
    "per_customer_limit": 2,
    "shards": 4,
    "remaining": 312,
    "sold": 188,
    "created_by": "hq-admin",
    "created_at": "2026-11-24T08:00:00Z",
    "updated_at": "2026-11-24T08:00:00Z",
    "version": 0,
}
TIERED_REQUEST = {
    "kind": "tiered",
    "name": "满99减10 满199减30",
    "stores": [],
    "starts_at": "2026-11-25T00:00:00+08:00",
    "ends_at": "2026-11-28T00:00:00+08:00",
    "tiers": [
        {"threshold_fen": 9900, "off_fen": 1000},
        {"threshold_fen": 19900, "off_fen": 3000},
    ],
    "scope": {"categories": ["水果"], "skus": []},
    "budget_fen": 5_000_000,
}


@area.route(
    "/admin/promotions",
    "POST",
    summary="Create a promotion (tiered discount, second item half price, flash sale)",
    roles={HQ_ADMIN},
    body=s.PromotionCreate,
    response=s.Promotion,
    status=201,
    errors=(403, 409, 422),
    request_example=TIERED_REQUEST,
    response_example=FLASH_EXAMPLE,
)
def create(body: s.PromotionCreate, principal: Principal) -> s.Promotion:
    """Head office only. The promotion starts as a ``draft``: nothing is priced or listed
    until approvers publish it (``POST .../approve``). Times may carry any offset and are
    stored in UTC. A flash sale's
    quantity is split over ``shards`` counters (give ``expected_peak_per_s``, or
    ``shards``; see docs/flash-sales.md). Send a ``promotion_id`` of your own to make
    retries safe: the same body again answers the same promotion, a different body 409
    ``promotion_exists``. Validation errors list every bad field in ``details``."""
    return service.create(principal, body)


@area.route(
    "/admin/promotions",
    "GET",
    summary="Promotions, by status",
    roles={HQ_ADMIN},
    query=s.PromotionListQuery,
    response=s.PromotionList,
    errors=(403, 422),
    response_example={"items": [FLASH_EXAMPLE]},
)
def list_promotions(query: s.PromotionListQuery, principal: Principal) -> s.PromotionList:
    """Head office only. ``status=draft``, ``pending``, ``active`` or ``ended``; all
    when absent. Latest ending
    first. Flash sales carry ``remaining`` and ``sold`` (units of cancelled or expired
    orders count as remaining again)."""
    return service.list_promotions(principal, query.status)


@area.route(
    "/admin/promotions/abuse",
    "GET",
    summary="Suspected abuse of new-customer offers: devices, addresses and payment accounts "
    "shared by accounts",
    roles={HQ_ADMIN},
    query=ls.AbuseQuery,
    response=ls.AbuseReport,
    errors=(403, 422),
    response_example=ls.ABUSE_EXAMPLE,
)
def abuse(query: ls.AbuseQuery, principal: Principal) -> ls.AbuseReport:
    """Head office only. Devices (the order's ``device_id``), delivery addresses
    (normalised) and payment accounts (the order's ``payment_account`` and the payer its
    payment confirmed), kept only as hashes, that more than one customer used to take a
    first-order or new-customer promotion within ``days``, with the orders and the
    discounts they got; latest first. Promotions with ``limits.one_per`` refuse the
    second account (``new_customer_already_used``): the ones listed here got through
    where it was off."""
    return limits.abuse_report(query.days)


@area.route(
    "/admin/promotions/{promotion_id}",
    "GET",
    summary="One promotion, with a flash sale's units left and sold",
    roles={HQ_ADMIN},
    response=s.Promotion,
    errors=(403, 404),
    response_example=FLASH_EXAMPLE,
)
def get(promotion_id: str, principal: Principal) -> s.Promotion:
    """Head office only. ``spent_fen`` is the campaign budget used so far (tiered
    promotions with a budget)."""
    return service.get(principal, promotion_id)


@area.route(
    "/admin/promotions/{promotion_id}",
    "PATCH",
    summary="Edit (name, budget, window end, tiers before it starts) or end a promotion",
    roles={HQ_ADMIN},
    body=s.PromotionUpdate,
    response=s.Promotion,
    errors=(403, 404, 409, 422),
    request_example={
        "name": "草莓秒杀 (延长)",
        "ends_at": "2026-11-26T14:00:00Z",
        "expected_version": 0,
    },
    response_example=dict(
        FLASH_EXAMPLE, name="草莓秒杀 (延长)", ends_at="2026-11-26T14:00:00Z", version=1
    ),
)
def update(promotion_id: str, body: s.PromotionUpdate, principal: Principal) -> s.Promotion:
    """Head office only. Ending is final and immediate: a flash sale takes no purchase
    after the answer (orders already placed keep their price). Ending twice is fine.

    Edits, each refused with 422 naming the field: ``name`` any time; ``budget_fen``
    (tiered) not below what is spent, and on a promotion created without a budget only
    before it starts; ``ends_at`` while it has not ended, in the future and after
    ``starts_at`` (a flash sale's purchases follow the new end at once); ``tiers``
    (tiered, same rules as on create) only before it starts. An ended promotion keeps
    everything but its name. Send ``expected_version`` (the ``version`` you read): if
    someone else changed it since, 409 ``promotion_changed`` and nothing changes."""
    return service.update(principal, promotion_id, body)


@area.route(
    "/stores/{store_id}/promotions",
    "GET",
    summary="Promotions on now at a store",
    response=s.StorePromotions,
    errors=(404,),
    response_example={
        "store_id": "sh-jingan",
        "now": "2026-11-25T02:30:00Z",
        "items": [
            {
                k: FLASH_EXAMPLE[k]
                for k in (
                    "promotion_id",
                    "kind",
                    "name",
                    "starts_at",
                    "ends_at",
                    "tiers",
                    "scope",
                    "sku",
                    "flash_price_fen",
                    "per_customer_limit",
                    "remaining",
                )
            }
            | {"sold_out": False}
        ],
    },
)
def for_store(store_id: str) -> s.StorePromotions:
    """Public. What the storefront shows: tiers, half-price scopes, flash prices with
    the units left (a snapshot, up to a few seconds old; the purchase decides). Windows
    are instants in UTC; show them in the store's time zone."""
    return service.for_store(store_id)


# --- workflow (issue 18 item 5): approve, reject, clone --------------------------------

workflow = lazy_module("chalicelib.promotions.workflow")

APPROVED_EXAMPLE = dict(
    FLASH_EXAMPLE,
    status="pending",
    live=False,
    approvals=[{"by": "hq-li", "at": "2026-11-24T09:00:00Z"}],
    approvals_needed=2,
    rejected_reason=None,
    campaign_id=None,
)


@area.route(
    "/admin/promotions/{promotion_id}/approve",
    "POST",
    summary="Approve a draft promotion; published once it has the approvals it needs",
    roles={HQ_ADMIN},
    body=s.ApproveRequest,
    response=s.Promotion,
    errors=(403, 404, 409, 422),
    request_example={"expected_version": 0},
    response_example=APPROVED_EXAMPLE,
)
def approve(promotion_id: str, body: s.ApproveRequest, principal: Principal) -> s.Promotion:
    """Head office only. A promotion is created as a ``draft`` (not priced, not listed).
    Each approval is recorded (who, when; audited); the promotion becomes ``active`` with
    one approval when its ``budget_fen`` is at most the two-approver threshold (default
    ¥50,000), else (or without a budget) with two approvals by two different people
    (``pending`` after the first). 409 ``already_approved_by_you``, ``not_a_draft``,
    ``promotion_changed`` (``expected_version`` differs)."""
    return workflow.approve(principal, promotion_id, body)


@area.route(
    "/admin/promotions/{promotion_id}/reject",
    "POST",
    summary="Reject a draft or pending promotion: back to draft, approvals cleared",
    roles={HQ_ADMIN},
    body=s.RejectRequest,
    response=s.Promotion,
    errors=(403, 404, 409, 422),
    request_example={"reason": "预算超出本季度计划", "expected_version": 0},
    response_example=dict(
        APPROVED_EXAMPLE, status="draft", approvals=[], rejected_reason="预算超出本季度计划"
    ),
)
def reject(promotion_id: str, body: s.RejectRequest, principal: Principal) -> s.Promotion:
    """Head office only. 409 ``not_a_draft`` (already published or ended),
    ``promotion_changed``."""
    return workflow.reject(principal, promotion_id, body)


@area.route(
    "/admin/promotions/{promotion_id}/clone",
    "POST",
    summary="Copy a promotion as a new draft with a new window",
    roles={HQ_ADMIN},
    body=s.PromotionClone,
    response=s.Promotion,
    status=201,
    errors=(403, 404, 409, 422),
    request_example={
        "promotion_id": "P-dec-flash",
        "starts_at": "2026-12-25T02:00:00Z",
        "ends_at": "2026-12-25T04:00:00Z",
        "name": "草莓秒杀 (圣诞)",
    },
    response_example=dict(
        FLASH_EXAMPLE,
        promotion_id="P-dec-flash",
        name="草莓秒杀 (圣诞)",
        status="draft",
        live=False,
        starts_at="2026-12-25T02:00:00Z",
        ends_at="2026-12-25T04:00:00Z",
        remaining=500,
        sold=0,
        approvals=[],
        approvals_needed=2,
        rejected_reason=None,
        campaign_id=None,
    ),
)
def clone(promotion_id: str, body: s.PromotionClone, principal: Principal) -> s.Promotion:
    """Head office only. The copy keeps the rules (kind, tiers, scope, stores, budget,
    flash price and quantity, member-day rules, stacking policy) and starts as a draft
    with nothing spent. It joins its source's campaign only while that campaign is a
    draft (the campaign lists it in the same write); a copy of a promotion whose campaign
    is scheduled, running or over names no campaign (it would be left out at checkout
    as campaign_not_live). ``promotion_id`` is the copy's id, chosen by the client: the same
    body again answers the same copy; another body under that id is 409
    ``promotion_exists``."""
    return workflow.clone(principal, promotion_id, body)
