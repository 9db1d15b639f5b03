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
    """Head office only. Times may carry any offset and are stored in UTC. A flash sale's
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
    """Head office only. ``status=active`` or ``ended``; both when absent. Latest ending
    first. Flash sales carry ``remaining`` and ``sold`` (units of cancelled or expired
    orders count as remaining again)."""
    return service.list_promotions(principal, query.status)


@area.route(
    "/admin/promotions/abuse",
    "GET",
    summary="Suspected abuse of new-customer offers: devices and addresses shared by accounts",
    roles={HQ_ADMIN},
    query=ls.AbuseQuery,
    response=ls.AbuseReport,
    errors=(403, 422),
    response_example=ls.ABUSE_EXAMPLE,
)
def abuse(query: ls.AbuseQuery, principal: Principal) -> ls.AbuseReport:
    """Head office only. Devices (the order's ``device_id``) and delivery addresses
    (normalised), kept only as hashes, that more than one customer used to take a
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
