"""Head office: event deliveries that kept failing (parked), and retrying one."""

from __future__ import annotations

from chalicelib.auth.principal import HQ_ADMIN, Principal
from chalicelib.events import schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.events.service")

area = Area("events", __name__, "Domain events: deliveries to subscribers that kept failing.")


@area.route(
    "/admin/events/parked",
    "GET",
    summary="Parked event deliveries (the dead-letter list), oldest first",
    roles={HQ_ADMIN},
    query=s.ParkedQuery,
    response=s.ParkedPage,
    errors=(403,),
    response_example=s.EXAMPLES["ParkedPage"],
)
def list_parked(query: s.ParkedQuery, principal: Principal) -> s.ParkedPage:
    """A subscriber (e.g. ``coupons.after_payment_gift``) that failed on an event as many
    times as ``DAOJIA_EVENT_MAX_ATTEMPTS`` (5) is parked here with the event, its last
    error and the attempt count, until head office retries it. The other subscribers of
    the event and the next events were not held up. docs/events.md explains delivery."""
    return service.parked(query.limit)


@area.route(
    "/admin/events/parked/{delivery_id}/retry",
    "POST",
    summary="Try a parked event delivery again now",
    roles={HQ_ADMIN},
    response=s.Delivery,
    errors=(403, 404, 409),
    response_example=s.EXAMPLES["Delivery"],
)
def retry_parked(delivery_id: str, principal: Principal) -> s.Delivery:
    """Runs the subscriber once more on the event. It succeeds: ``status`` is ``done`` and
    the delivery leaves the list. It fails again: it stays ``parked`` with the new error
    and one more attempt. Retrying a delivery already done returns it unchanged; 404
    ``delivery_not_found``; 409 ``delivery_not_parked`` while it is still being retried
    automatically."""
    return service.retry(delivery_id)
