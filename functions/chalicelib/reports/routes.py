"""The sales report (head office and store managers)."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.reports import schemas as s

service = lazy_module("chalicelib.reports.service")

area = Area("reports", __name__, "Sales and printing over a range of days, from daily rollups.")


@area.route(
    "/admin/reports/sales",
    "GET",
    summary="Sales, refunds, categories, top products and printing per day over a range",
    roles=frozenset({HQ_ADMIN, STORE_MANAGER}),
    query=s.SalesQuery,
    response=s.SalesReport,
    errors=(400, 403, 404, 422),
)
def sales(query: s.SalesQuery, principal: Principal) -> s.SalesReport:
    """Head office sees every store (or the stores in ``store_id``, comma-separated);
    store managers their own store (403 ``other_store`` for another); other roles 403.

    The range is ``from``..``to`` inclusive (default: the 30 days ending today), at most
    366 days (400 ``range_too_long`` beyond); ``compare=previous`` adds the period of the
    same length just before. Definitions, per day (business day of the store, the day an
    order was created):

    * ``orders``/``paid_fen``: sales, i.e. orders paid and not cancelled since;
      ``refunded_fen``/``refund_orders``: refunded so far on those sales;
      ``aov_fen`` = paid_fen // orders; ``refund_rate`` = refunded_fen / paid_fen;
    * ``by_category``/``top_products``: the sales' lines as paid (line refunds not
      subtracted); top products are read from each day's top 20;
    * ``print_latency_p50_s``/``_p90_s``: payment to first ticket printed, read from a
      histogram (``latency_bounds_s``) by linear interpolation inside the bucket;
      ``missed_prints``: paid orders whose first ticket was missed (漏单).

    Figures come from daily rollups (one item per store and day), refreshed every 10
    minutes for today and yesterday and daily for the last 14 days: cost per view is one
    Query per store over the range, whatever the number of orders."""
    return service.sales_report(principal, query)


# --- effect reports and supplier settlement (issue 18 item 6) -----------------------------

effect = lazy_module("chalicelib.reports.effect")
settlement_csv = lazy_module("chalicelib.reports.settlement_csv")


@area.route(
    "/admin/promotions/{promotion_id}/report",
    "GET",
    summary="A promotion's effect: redemptions per day, cost by funder, GMV, AOV, stores",
    roles=frozenset({HQ_ADMIN, STORE_MANAGER}),
    query=s.EffectQuery,
    response=s.EffectReport,
    errors=(400, 403, 404, 422),
)
def promotion_report(
    promotion_id: str, query: s.EffectQuery, principal: Principal
) -> s.EffectReport:
    """Figures over ``from``..``to`` (default: its window up to today; at most 366
    days), from the daily rollups, never a scan of orders: ``redeemed`` the sales (paid,
    not cancelled) carrying it, per day (``days``) and store (``stores``); ``discount_fen``
    as given and ``net_fen`` net of refunds (each order's discount times the share of its
    paid amount kept, rounded down), by funder; ``gmv_fen`` what those sales kept paying;
    ``aov_with_fen`` against ``aov_without_fen`` (the other sales of the store-days on
    which it was redeemed); ``new_customers``: those sales whose customer had no completed
    order before that day. Head office: every store; a store manager: their own store.
    404 ``promotion_not_found``; 400 ``bad_date``, ``bad_range``, ``range_too_long``."""
    return effect.promotion_report(principal, promotion_id, query)


@area.route(
    "/admin/coupon-templates/{template_id}/report",
    "GET",
    summary="A coupon template's effect: issued, redeemed per day, cost, GMV, AOV, stores",
    roles=frozenset({HQ_ADMIN, STORE_MANAGER}),
    query=s.EffectQuery,
    response=s.EffectReport,
    errors=(400, 403, 404, 422),
)
def template_report(template_id: str, query: s.EffectQuery, principal: Principal) -> s.EffectReport:
    """Figures over ``from``..``to`` (default: its window up to today; at most 366
    days), from the daily rollups, never a scan of orders: ``redeemed`` the sales (paid,
    not cancelled) carrying it, per day (``days``) and store (``stores``); ``discount_fen``
    as given and ``net_fen`` net of refunds (each order's discount times the share of its
    paid amount kept, rounded down), by funder; ``gmv_fen`` what those sales kept paying;
    ``aov_with_fen`` against ``aov_without_fen`` (the other sales of the store-days on
    which it was redeemed); ``new_customers``: those sales whose customer had no completed
    order before that day. ``issued``: the template's coupons issued so far (all
    time). Head office: every store; a store manager: their own store.
    404 ``coupon_template_not_found``; 400 ``bad_date``, ``bad_range``, ``range_too_long``."""
    return effect.template_report(principal, template_id, query)


@area.route(
    "/admin/supplier-settlements",
    "GET",
    summary="What each supplier owes for the discounts it funded in a month",
    roles=frozenset({HQ_ADMIN}),
    query=s.SettlementQuery,
    response=s.SupplierSettlement,
    errors=(400, 403, 422),
)
def supplier_settlements(query: s.SettlementQuery, principal: Principal) -> s.SupplierSettlement:
    """Per supplier (a promotion's or template's ``funder`` when ``funded_by`` is
    ``supplier``, as it is now): the discounts it funded on the month's sales (the chain's
    local days the orders were created), per promotion/template and per store, net of
    refunds (``owed_fen`` = ``discount_fen`` − ``refunded_fen``). From the daily rollups.
    400 ``bad_month``. Head office only."""
    return effect.settlement(principal, query.month)


@area.route(
    "/admin/supplier-settlements.csv",
    "GET",
    summary="The supplier settlement statement as CSV (UTF-8 with BOM)",
    roles=frozenset({HQ_ADMIN}),
    query=s.SettlementQuery,
    errors=(400, 403, 422),
)
def supplier_settlements_csv(query: s.SettlementQuery, principal: Principal) -> Response:
    """``text/csv``: one ``line`` row per supplier × promotion/template × store, then a
    ``supplier_total`` row per supplier; headings in ``lang`` (zh-CN or en), money in yuan
    with two decimals. The same figures as the JSON statement."""
    got = effect.settlement(principal, query.month)
    return Response(
        body=settlement_csv.render(got, query.lang),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="supplier-settlement-{query.month}.csv"',
        },
    )
