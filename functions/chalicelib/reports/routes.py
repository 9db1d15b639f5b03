"""The sales report (head office and store managers)."""

from __future__ import annotations

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
