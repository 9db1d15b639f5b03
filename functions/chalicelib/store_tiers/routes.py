"""Store TOP tiers (门店 TOP 分级): the month's tiers and figures, a store's history, head
office's thresholds and the months' total transactions, scoring on demand."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.store_tiers import schemas as s

service = lazy_module("chalicelib.store_tiers.service")

area = Area(
    "store_tiers",
    __name__,
    "Store TOP tiers (门店分级): T time online, O order penetration, P punctuality.",
)


@area.route(
    "/admin/store-tiers",
    "GET",
    summary="Every store's tier and T, O, P for a month (this month: live, provisional)",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.TiersQuery,
    response=s.StoreTierPage,
    errors=(400, 403, 422),
    response_example=s.PAGE_EXAMPLE,
)
def list_tiers(query: s.TiersQuery, principal: Principal) -> s.StoreTierPage:
    """Head office: every store; a store manager: their own store. A month over and
    scored (the monthly job, 1st 02:00) reads its stored score; this month, or a month
    not scored, is scored live with the current thresholds (``provisional``)."""
    return service.listing(principal, query)


@area.route(
    "/admin/store-tiers/settings",
    "GET",
    summary="The tiers' thresholds (percent of T, O, P)",
    roles={HQ_ADMIN},
    response=s.TierSettings,
    errors=(403,),
    response_example=s.SETTINGS_EXAMPLE,
)
def get_settings(principal: Principal) -> s.TierSettings:
    """Defaults until head office sets them: S 95/30/95, A 90/20/90, B 80/10/80."""
    return service.settings()


@area.route(
    "/admin/store-tiers/settings",
    "PUT",
    summary="Replace the tiers' thresholds (audited)",
    roles={HQ_ADMIN},
    body=s.TierSettings,
    response=s.TierSettings,
    errors=(403, 409, 422),
    request_example=s.SETTINGS_EXAMPLE,
    response_example=s.SETTINGS_EXAMPLE,
)
def put_settings(body: s.TierSettings, principal: Principal) -> s.TierSettings:
    """Head office only; 409 ``settings_changed`` on a concurrent edit. Months already
    scored keep the thresholds they were scored with until scored again."""
    return service.put_settings(principal, body)


@area.route(
    "/admin/store-tiers/score",
    "POST",
    summary="Score a month now for every store (idempotent)",
    roles={HQ_ADMIN},
    body=s.ScoreRequest,
    response=s.ScoreResult,
    errors=(400, 403, 422),
    request_example=s.SCORE_EXAMPLE,
    response_example=s.SCORE_RESULT_EXAMPLE,
)
def score(body: s.ScoreRequest, principal: Principal) -> s.ScoreResult:
    """What the monthly job does for last month: each store's item rewritten whole with
    the current thresholds."""
    return s.ScoreResult(month=body.month, scored=service.score_month(body.month))


@area.route(
    "/admin/store-tiers/{store_id}",
    "GET",
    summary="A store's tier history (12 months) and this month live",
    roles={HQ_ADMIN, STORE_MANAGER},
    response=s.StoreTierHistory,
    errors=(403, 404),
    response_example=s.HISTORY_EXAMPLE,
)
def store_history(store_id: str, principal: Principal) -> s.StoreTierHistory:
    """A store manager: their own store only (403 ``other_store``)."""
    return service.history(principal, store_id)


@area.route(
    "/admin/store-tiers/{store_id}/transactions/{month}",
    "PUT",
    summary="Enter a store's total transactions of a month (O's denominator, audited)",
    roles={HQ_ADMIN},
    body=s.Transactions,
    response=s.TransactionsView,
    errors=(400, 403, 404, 422),
    request_example=s.TRANSACTIONS_EXAMPLE,
    response_example=s.TRANSACTIONS_VIEW_EXAMPLE,
)
def put_transactions(
    store_id: str, month: str, body: s.Transactions, principal: Principal
) -> s.TransactionsView:
    """The month's total transactions at the store (POS and online); without it O is
    not known and the tier is decided on T and P."""
    return service.set_transactions(principal, store_id, month, body)
