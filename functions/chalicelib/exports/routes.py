"""CSV exports of the lists the back office sees, made by background jobs."""

from __future__ import annotations

from chalicelib.auth.principal import BACK_OFFICE, Principal
from chalicelib.exports import schemas as s
from chalicelib.http.routing import Area, current_request_of
from chalicelib.kernel.lazy import lazy_module

jobs = lazy_module("chalicelib.exports.jobs")

area = Area("exports", __name__, "CSV exports of lists, made in the background.")


@area.route(
    "/admin/exports",
    "POST",
    summary="Start a CSV export of a list",
    roles=BACK_OFFICE,
    body=s.ExportRequest,
    response=s.ExportJob,
    status=202,
    errors=(403, 404, 422),
    idempotency_key=True,
    request_example={
        "kind": "orders",
        "filters": {"store_id": "sh-jingan", "date_from": "2026-11-01", "date_to": "2026-11-30"},
        "language": "zh-CN",
    },
)
def start_export(body: s.ExportRequest, principal: Principal) -> s.ExportJob:
    """``kind``: ``orders`` (one row per order line, the order's columns repeated; optional
    ``filters.status``), ``refunds`` (of the orders placed on the days), ``coupon_redemptions``
    (coupons used by paid orders; head office only), ``stock`` (one store's items),
    ``daily_sales`` (per store and business day) or ``audit`` (the audit log, one row per
    changed field: the log page's filters ``actor``, ``target_type``, ``target_id``,
    ``store_id`` and UTC days, default the last 7; head office every entry, a store
    manager their store's, others 403 ``role_not_allowed``), ``members`` (the member list:
    its filters ``phone``, ``source_kind``, ``registered_from``/``registered_to`` (UTC
    days, default the last year, at most 24 months) and ``store_id``; head office every
    member with full phones, a store manager their home store's with phones masked,
    others 403 ``role_not_allowed``), ``points_entries`` or ``stored_value_entries`` (one
    member's ledger, newest first: ``filters.customer_id``, 404 ``member_not_found``;
    head office only). Dated kinds need
    ``filters.date_from`` and ``filters.date_to`` (business days in the store's time zone,
    at most 366 days: 422 ``range_too_long``). ``filters.store_id``: store accounts their
    own store (the default; 403 ``other_store`` for another), head office one store or,
    without it, every store.

    The file is UTF-8 with a BOM, CRLF line ends, a header in ``language``, money in yuan
    with two decimals, times in the stores' time zone (named in the header). Returns the
    job at once (202); poll ``GET /admin/exports/{export_id}`` until ``status`` is
    ``succeeded`` (then ``download_url``) or ``failed`` (``error``). The same
    Idempotency-Key returns the same job."""
    request = current_request_of(area)
    return jobs.create_job(principal, body, request.headers.get("idempotency-key"))


@area.route(
    "/admin/exports/{export_id}",
    "GET",
    summary="Progress of an export and, when done, its download link",
    roles=BACK_OFFICE,
    response=s.ExportJob,
    errors=(404,),
)
def get_export(export_id: str, principal: Principal) -> s.ExportJob:
    """``rows_done`` of ``rows_estimated`` (an estimate until it succeeds). Once succeeded,
    ``download_url`` is a link to the CSV that works until ``download_expires_at`` (15
    minutes; ask again for a new one). Your own exports; head office sees everyone's."""
    return jobs.get_job(principal, export_id)
