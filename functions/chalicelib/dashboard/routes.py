"""The head-office dashboard (also a store's own figures for its manager and staff)."""

from __future__ import annotations

from chalicelib.auth.principal import BACK_OFFICE, Principal
from chalicelib.dashboard import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.dashboard.service")

area = Area("dashboard", __name__, "Today's orders, GMV, refunds and printing per store.")


@area.route(
    "/admin/dashboard",
    "GET",
    summary="Today's orders, GMV, refunds and printing per store, with a trend",
    roles=BACK_OFFICE,
    query=s.DashboardQuery,
    response=s.Dashboard,
    errors=(403, 404, 422),
)
def dashboard(query: s.DashboardQuery, principal: Principal) -> s.Dashboard:
    """Head office sees every store without ``store_id`` (or one store with it); store
    managers and staff see their own store (403 ``other_store`` for another).

    Definitions, per store and for ``totals`` (the stores added up):

    * **today** (``date``) is the business day in the store's time zone; an order belongs
      to the business day it was created on.
    * ``orders``: today's orders that were paid (``paid_at`` set), including those since
      cancelled or refunded. ``gmv_fen``: the sum of what they paid (``paid_fen``).
      ``average_order_fen``: ``gmv_fen // orders`` (0 without orders). ``refunded_fen``:
      what has been refunded on those orders so far, plus payments today's orders could
      not take (late, a second payment, the wrong amount), each paid back whole.
    * ``printed``: how many of them have their first ticket (the job made at payment)
      printed. ``print_latency_p50_s`` / ``print_latency_p95_s``: seconds from payment to
      that ticket's ``printed_at`` over the printed ones, interpolated linearly between
      the nearest ranks, to 0.1 s; null when none printed. For ``totals`` the percentiles
      are over every store's orders together.
    * ``missed_prints``: the store's print jobs missed (漏单) right now, whatever their
      day (``GET /admin/print-jobs?status=missed`` lists them); summed for ``totals``.
    * ``relay``: ``healthy`` and ``problems`` as ``GET /admin/print-health`` reports them.
    * ``trend``: ``days`` entries (1..31, default 7), oldest first, ending today: orders
      and GMV of each business day by the same rules. The top-level ``trend`` adds the
      stores up day by day.

    The top-level ``date`` is the latest of the stores' business days (they are the same
    unless stores are in different time zones; then each store contributes its own today).
    Cost: one index query per store and day (concurrently), a count per store, and a batch
    read of today's first tickets."""
    return service.dashboard(principal, query.store_id, query.days)
