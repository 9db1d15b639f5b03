"""Campaigns (issue 16): head office plans, launches, ends and reviews them; a store
manager reads the campaigns that include the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.campaigns import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.campaigns.service")
checklist = lazy_module("chalicelib.campaigns.checklist")

area = Area("campaigns", __name__, "Campaigns: grade, window, goal, budget, checklist, states.")

READERS = {HQ_ADMIN, STORE_MANAGER}
REQUEST = {
    "name": "双11 全城狂欢",
    "grade": "S",
    "starts_at": "2026-11-01T00:00:00+08:00",
    "ends_at": "2026-11-12T00:00:00+08:00",
    "stores_mode": "all",
    "goal": {"gmv_fen": 500_000_000, "orders": 40_000},
    "plan_notes": "满199减30 + 新客券",
    "budget": {"hq_fen": 3_000_000, "store_fen": 1_000_000, "supplier_fen": 1_000_000},
    "promotion_ids": ["P9f2c1a7b3e4d5c6a"],
    "coupon_template_ids": ["tpl-new-20"],
}
EXAMPLE = {
    "campaign_id": "C1a2b3c4d5e6f7a8b",
    "name": "双11 全城狂欢",
    "grade": "S",
    "state": "draft",
    "starts_at": "2026-10-31T16:00:00Z",
    "ends_at": "2026-11-11T16:00:00Z",
    "stores_mode": "all",
    "stores": [],
    "store_tiers": [],
    "segment_id": None,
    "goal": {"gmv_fen": 500_000_000, "orders": 40_000, "new_members": None, "aov_fen": None},
    "plan_notes": "满199减30 + 新客券",
    "budget": {"hq_fen": 3_000_000, "store_fen": 1_000_000, "supplier_fen": 1_000_000},
    "budget_fen": 5_000_000,
    "left_fen": 5_000_000,
    "spent_fen": 0,
    "used_percent": 0.0,
    "node_id": None,
    "promotion_ids": ["P9f2c1a7b3e4d5c6a"],
    "coupon_template_ids": ["tpl-new-20"],
    "member_day_ids": [],
    "mechanic_ids": [],
    "default_stacking": None,
    "review_note": None,
    "next_goal": None,
    "history": [],
    "created_by": "hq-admin",
    "created_at": "2026-10-01T02:00:00Z",
    "updated_at": "2026-10-01T02:00:00Z",
    "version": 0,
}
CHECKLIST_EXAMPLE = {
    "campaign_id": "C1a2b3c4d5e6f7a8b",
    "ok": False,
    "checks": [
        {
            "id": "budget",
            "ok": True,
            "blocking": True,
            "message": "Budget 5000000 fen",
            "details": {"budget_fen": 5_000_000},
        },
        {
            "id": "stacking_loss",
            "ok": False,
            "blocking": True,
            "message": "1 sample cart(s) sell below cost when the campaigns combine",
            "details": [{"campaign_id": "C77", "discount_fen": 3500, "margin_fen": 3000}],
        },
    ],
}


@area.route(
    "/admin/campaigns",
    "POST",
    summary="Create a draft campaign with its contents",
    roles={HQ_ADMIN},
    body=s.CampaignCreate,
    response=s.Campaign,
    status=201,
    errors=(403, 409, 422),
    request_example=REQUEST,
    response_example=EXAMPLE,
)
def create(body: s.CampaignCreate, principal: Principal) -> s.Campaign:
    """Head office only. The promotions, member days and coupon templates listed name
    the campaign in the same transaction; one that belongs to another campaign is 409
    ``already_in_campaign``. ``segment_id`` must be a saved segment. Send a
    ``campaign_id`` of your own to make retries safe: the same body again answers the
    same campaign, a different body 409 ``campaign_exists``."""
    return service.create(principal, body)


@area.route(
    "/admin/campaigns",
    "GET",
    summary="Campaigns of a year, by state and grade",
    roles=READERS,
    query=s.CampaignListQuery,
    response=s.CampaignList,
    errors=(403, 422),
    response_example={"items": [EXAMPLE]},
)
def list_campaigns(query: s.CampaignListQuery, principal: Principal) -> s.CampaignList:
    """Head office sees every campaign, a store manager those that include the store.
    ``year`` is the local (Asia/Shanghai) year of the start; ``state`` as of now."""
    return service.list_campaigns(principal, query.year, query.state, query.grade)


@area.route(
    "/admin/campaigns/{campaign_id}",
    "GET",
    summary="One campaign, with its state changes",
    roles=READERS,
    response=s.Campaign,
    errors=(403, 404),
    response_example=EXAMPLE,
)
def get(campaign_id: str, principal: Principal) -> s.Campaign:
    """A store manager reads only campaigns that include the store (404 otherwise)."""
    return service.get(principal, campaign_id)


@area.route(
    "/admin/campaigns/{campaign_id}",
    "PUT",
    summary="Replace a campaign's fields, at the version read",
    roles={HQ_ADMIN},
    body=s.CampaignUpdate,
    response=s.Campaign,
    status=200,
    errors=(403, 404, 409, 422),
    request_example={**REQUEST, "version": 0},
    response_example=dict(EXAMPLE, version=1),
)
def update(campaign_id: str, body: s.CampaignUpdate, principal: Principal) -> s.Campaign:
    """Head office only. 409 ``campaign_changed`` when ``version`` is not the current
    one. Window, stores, segment and contents change only in draft; name, notes, goal
    and budget until it ends (a budget change moves ``left_fen`` by the same amount;
    not below what is spent). Contents added or removed are linked or unlinked in the
    same transaction."""
    return service.update(principal, campaign_id, body)


@area.route(
    "/admin/campaigns/{campaign_id}/checklist",
    "GET",
    summary="Run the launch checklist without launching",
    roles={HQ_ADMIN},
    response=s.Checklist,
    errors=(403, 404),
    response_example=CHECKLIST_EXAMPLE,
)
def run_checklist(campaign_id: str, principal: Principal) -> s.Checklist:
    """Budget, goal, window, conflicts with scheduled or live campaigns (a warning), the
    loss of their combination, each discount's margin floor and a test order quoted as
    of the start (docs/campaigns.md, "The launch checklist")."""
    return checklist.checklist(principal, campaign_id)


def _transition(
    path: str, summary: str, doc: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A state change's route: the same roles, answers and errors for each."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        handler.__doc__ = doc
        return area.route(
            path,
            "POST",
            summary=summary,
            roles={HQ_ADMIN},
            response=s.Campaign,
            errors=(403, 404, 409, 422),
            response_example=dict(EXAMPLE, state="scheduled", version=1),
        )(handler)

    return register


@_transition(
    "/admin/campaigns/{campaign_id}/launch",
    "Launch: run the checklist and schedule the campaign",
    "Head office only; draft only (409 ``illegal_transition``). 422 "
    "``campaign_checklist_failed`` with the checks in ``details`` when a blocking check "
    "fails. A tiers campaign's stores are resolved now.",
)
def launch(campaign_id: str, principal: Principal) -> s.Campaign:
    return service.launch(principal, campaign_id)


@_transition(
    "/admin/campaigns/{campaign_id}/unschedule",
    "Back to draft before it starts",
    "Head office only; scheduled only (409 ``illegal_transition``).",
)
def unschedule(campaign_id: str, principal: Principal) -> s.Campaign:
    return service.unschedule(principal, campaign_id)


@_transition(
    "/admin/campaigns/{campaign_id}/end",
    "End a live campaign early",
    "Head office only; live only (409 ``illegal_transition``).",
)
def end(campaign_id: str, principal: Principal) -> s.Campaign:
    return service.end(principal, campaign_id)


@area.route(
    "/admin/campaigns/{campaign_id}/review-note",
    "POST",
    summary="Record the review note and the next goal (ended -> reviewed)",
    roles={HQ_ADMIN},
    body=s.ReviewNote,
    response=s.Campaign,
    errors=(403, 404, 409, 422),
    request_example={"note": "客单价未达标", "next_goal": {"aov_fen": 9000}},
    response_example=dict(EXAMPLE, state="reviewed", review_note="客单价未达标"),
)
def review_note(campaign_id: str, body: s.ReviewNote, principal: Principal) -> s.Campaign:
    """Head office only; ended only (409 ``illegal_transition``)."""
    return service.review_note(principal, campaign_id, body)


simulation = lazy_module("chalicelib.campaigns.simulate")
SIMULATE_REQUEST = {
    "carts": [
        {"store_id": "sh-jingan", "lines": [{"sku": "100001", "qty": 3}]},
        {"store_id": "sh-jingan", "lines": [{"sku": "100002", "qty": 1}]},
    ]
}


def _simulation_example(off_fen: int, label: str, funder: str) -> dict[str, Any]:
    """The answer for SIMULATE_REQUEST when the first cart gets ``off_fen`` off."""
    return {
        "carts": 2,
        "carts_changed": 1,
        "revenue_before_fen": 19800,
        "revenue_after_fen": 19800 - off_fen,
        "discount_before_fen": 0,
        "discount_after_fen": off_fen,
        "discount_cost_fen": off_fen,
        "by_funder": {funder: off_fen},
        "margin_before_fen": 6000,
        "margin_after_fen": 6000 - off_fen,
        "lines_without_cost": 0,
        "examples": [
            {
                "cart": 0,
                "store_id": "sh-jingan",
                "subtotal_fen": 14850,
                "total_before_fen": 14850,
                "total_after_fen": 14850 - off_fen,
                "discounts_after": [label],
            }
        ],
    }


@area.route(
    "/admin/promotions/{promotion_id}/simulate",
    "POST",
    summary="Simulate a promotion on sample carts: discount cost, margin, carts changed",
    roles={HQ_ADMIN},
    body=s.SimulateRequest,
    response=s.SimulateResult,
    errors=(403, 404, 422),
    request_example=SIMULATE_REQUEST,
    response_example=dict(_simulation_example(1000, "满99减10", "hq"), promotion_id="P-dec-fruit"),
)
def simulate_promotion(
    promotion_id: str, body: s.SimulateRequest, principal: Principal
) -> s.SimulateResult:
    """Head office only; writes nothing. Each cart is priced at its store's prices with
    the promotions live there (before) and again with this one added as if live (after),
    at a moment inside its window; goods only (no delivery fee, coupons or member
    prices; flash prices of other sales left out). 422 names a cart's unknown store or
    SKU, or a member day (it prices per member)."""
    return simulation.simulate(principal, promotion_id, body)


@area.route(
    "/admin/coupon-templates/{template_id}/simulate",
    "POST",
    summary="Simulate a coupon template on sample carts: discount cost, margin, carts changed",
    roles={HQ_ADMIN},
    body=s.SimulateRequest,
    response=s.TemplateSimulateResult,
    errors=(403, 404, 422),
    request_example=SIMULATE_REQUEST,
    response_example=dict(
        _simulation_example(2000, "满99减20", "supplier"), template_id="tpl-fruit-99-20"
    ),
)
def simulate_template(
    template_id: str, body: s.SimulateRequest, principal: Principal
) -> s.TemplateSimulateResult:
    """Head office only; writes nothing. Each cart is priced at its store's prices with
    the promotions live there (before) and again as if its customer held one coupon of
    this template (after), at a moment it is usable (inside its window and recurring
    hours); the engine applies the coupon only where its threshold, scope, stacking
    policy and margin floor allow and it is the best choice. Goods only. 422 names a
    cart's unknown store or SKU, or a free-delivery template (it waives the fee)."""
    return simulation.simulate_template(principal, template_id, body)


cloning = lazy_module("chalicelib.campaigns.clone")


@area.route(
    "/admin/campaigns/{campaign_id}/clone",
    "POST",
    summary="Copy a campaign, its promotions and coupon templates as drafts, new window",
    roles={HQ_ADMIN},
    body=s.CampaignClone,
    response=s.Campaign,
    status=201,
    errors=(403, 404, 409, 422),
    request_example={
        "campaign_id": "C-2027-double11",
        "starts_at": "2027-11-10T00:00:00+08:00",
        "ends_at": "2027-11-12T00:00:00+08:00",
        "name": "双11 全城狂欢 2027",
    },
    response_example=dict(EXAMPLE, campaign_id="C-2027-double11", name="双11 全城狂欢 2027"),
)
def clone_campaign(campaign_id: str, body: s.CampaignClone, principal: Principal) -> s.Campaign:
    """Head office only. The copy is a draft campaign with the same grade, stores,
    segment, goal, plan and budget; each promotion, member day and coupon template is
    copied as a draft (new ids, linked to the copy, nothing spent or issued, windows
    moved by as much as the campaign's) to approve before launch. ``campaign_id`` is the
    copy's id, chosen by the client: the same body again answers the same copy (a retry
    after a failure completes it); another body under that id is 409
    ``campaign_exists``."""
    return cloning.clone(principal, campaign_id, body)


default_stacking = lazy_module("chalicelib.campaigns.default_stacking")


@area.route(
    "/admin/campaigns/{campaign_id}/apply-default-stacking",
    "POST",
    summary="Copy the campaign's default stacking policy onto its drafts that follow it",
    roles={HQ_ADMIN},
    response=s.AppliedDefaultStacking,
    errors=(403, 404, 409),
    response_example={
        "campaign_id": "C1a2b3c4d5e6f7a8b",
        "default_stacking": {
            "exclusive": True,
            "priority": 10,
            "not_with_tiered": False,
            "not_with_member_price": False,
            "stack_group": None,
        },
        "updated": [{"type": "promotion", "id": "P9f2c1a7b3e4d5c6a", "reason": None}],
        "kept": [
            {
                "type": "coupon_template",
                "id": "tpl-new-20",
                "reason": "active: keeps its policy until edited",
            }
        ],
    },
)
def apply_default_stacking(campaign_id: str, principal: Principal) -> s.AppliedDefaultStacking:
    """Head office only. Each of the campaign's promotions and coupon templates that is
    still a draft (draft or pending) and follows the campaign (``stacking_source``
    ``campaign`` or ``matrix``: no policy of its own) gets a copy of the campaign's
    ``default_stacking`` now (none: the fixed matrix) and ``stacking_source: campaign``.
    Published ones keep theirs until edited (a live discount never changes under the
    carts that hold it), and so do those with their own policy; ``kept`` says why for
    each. Idempotent: again writes the same. 409 ``campaign_ended`` once it ended."""
    return default_stacking.apply(principal, campaign_id)
