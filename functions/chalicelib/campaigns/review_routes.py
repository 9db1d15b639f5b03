"""The campaign review (复盘): JSON for the dashboard and review pages, CSV for a
spreadsheet. Head office sees the whole campaign; a store manager their own store."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.campaigns import review_schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

review = lazy_module("chalicelib.campaigns.review")
review_csv = lazy_module("chalicelib.campaigns.review_csv")

area = Area(
    "campaign_review",
    __name__,
    "A campaign's review (复盘): live during the campaign, frozen when it ends.",
)
ROLES = frozenset({HQ_ADMIN, STORE_MANAGER})


@area.route(
    "/admin/campaigns/{campaign_id}/review",
    "GET",
    summary="A campaign's figures, funnel, goal, cost, ROI and the decomposition of sales",
    roles=ROLES,
    query=s.ReviewQuery,
    response=s.Review,
    errors=(403, 404, 422),
)
def get_review(campaign_id: str, query: s.ReviewQuery, principal: Principal) -> s.Review:
    """Live while the campaign runs (``frozen`` false: its days so far, today's figures as
    of the reports' last rollup, at most 10 minutes old); frozen once it has ended
    (``frozen`` true: computed once and stored, the same figures on every read).
    ``baseline``: ``before`` (the same number of days just before the campaign) or
    ``last_year`` (the same dates a year earlier). The decomposition splits the change in
    GMV into visitors (进店量), conversion (转化率) and AOV (客单价) by LMDI, exactly in fen;
    ``available`` false (with ``reason``) when one of them is zero in either period.

    Head office: every store of the campaign, with cost by funder and kind against the
    budget (``alert`` at 80 %), ROI and the goal. A store manager: their own store only,
    computed on read, without cost, ROI and goal (403 ``other_store`` when their store is
    not in the campaign). 404 ``campaign_not_found``. Definitions: docs/campaigns.md."""
    return review.review(principal, campaign_id, query.baseline)


@area.route(
    "/admin/campaigns/{campaign_id}/review.csv",
    "GET",
    summary="The review's rows per store and per day, as CSV (UTF-8 with BOM)",
    roles=ROLES,
    query=s.ReviewQuery,
    errors=(403, 404, 422),
)
def get_review_csv(campaign_id: str, query: s.ReviewQuery, principal: Principal) -> Response:
    """``text/csv``: a total row, one row per store, then one per day (money in yuan with
    two decimals, rates as decimals), as Excel opens Chinese text (UTF-8 with a BOM).
    Same roles and figures as the JSON review."""
    got = review.review(principal, campaign_id, query.baseline)
    return Response(
        body=review_csv.render(got),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="review-{campaign_id}.csv"',
        },
    )
