"""Storefront events (public, batched) and head office's traffic figures."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import JSON, Area
from chalicelib.kernel.lazy import lazy_module
from chalicelib.traffic import schemas as s

ingest = lazy_module("chalicelib.traffic.ingest")
read = lazy_module("chalicelib.traffic.read")

area = Area(
    "traffic",
    __name__,
    "Storefront traffic (进店量): the batched events endpoint and per-day counters.",
)

# sendBeacon and a fetch with a text/plain string body are "simple" cross-origin requests:
# no CORS preflight (an OPTIONS request costs as much as the POST). The body is JSON either way.
TEXT = "text/plain"


@area.route(
    "/storefront/events",
    "POST",
    summary="Count a batch of storefront events (visit store, view product, cart, checkout)",
    body=s.EventBatch,
    response=s.EventBatchResult,
    status=202,
    errors=(409, 415, 422, 503),
    content_types=(JSON, TEXT),
    request_example=s.BATCH_EXAMPLE,
    response_example=s.RESULT_EXAMPLE,
)
def storefront_events(body: s.EventBatch) -> s.EventBatchResult:
    """Public: anonymous or signed-in, the storefront sends no Authorization header (the
    device id is what counts). At most 50 events a batch; the client queues events and
    sends one request per 50 events or per 10 seconds, and what is left when the page is
    hidden (``navigator.sendBeacon``; the body is JSON, as ``application/json`` or
    ``text/plain``). Counted exactly once per ``device_id`` + ``batch_id``: a retry of the
    same batch answers 202 ``duplicate: true`` and counts nothing (409
    ``batch_id_reused`` for other events under a used id). Events more than 1 day old, more
    than 5 minutes ahead or of a store that does not exist are dropped and listed in
    ``rejections``; an unknown ``campaign_id`` counts under no campaign. 422 for a
    malformed batch (unknown type, bad ids or times, more than 50 events, or
    ``batch_too_spread``: send one store's events per batch); 503 ``traffic_busy``: send
    the same batch again. Counters per store × local day × campaign: ``GET
    /admin/traffic``."""
    return ingest.ingest(body)


@area.route(
    "/admin/traffic",
    "GET",
    summary="Storefront traffic per day: visits, visitors (进店量), views, carts, checkouts",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.TrafficQuery,
    response=s.TrafficReport,
    errors=(403, 422),
    response_example=s.REPORT_EXAMPLE,
)
def traffic_report(query: s.TrafficQuery, principal: Principal) -> s.TrafficReport:
    """Every day from ``from`` to ``to`` (the store's local days, at most 92; default the
    last 7), with the days summed. ``store_id``: one store (a store manager: their own,
    403 ``other_store`` for another; the default); head office without it gets every store
    summed. ``campaign_id``: only events that named the campaign. Visitors are distinct
    devices per store and day (across campaigns when no campaign is named)."""
    return read.report(principal, query)
