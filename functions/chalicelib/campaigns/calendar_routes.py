"""Routes of the campaign calendar (issue 16 item 1): head office edits a year's nodes
(audited); store managers read them."""

from __future__ import annotations

from urllib.parse import unquote

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.campaigns import calendar_schemas as s
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

calendar = lazy_module("chalicelib.campaigns.calendar")

area = Area(
    "campaign-calendar",
    __name__,
    "The campaign calendar (活动日历): the year's S/A/B/C nodes, lunar festivals included.",
)
READERS = {HQ_ADMIN, STORE_MANAGER}


def _node_id(value: str) -> str:
    """Node ids hold ':': the local server hands them on percent-encoded, API Gateway
    decoded (ids never hold '%')."""
    return unquote(value)


@area.route(
    "/admin/calendar/{year}",
    "GET",
    summary="A year's campaign calendar: its nodes by start, each with its campaigns",
    roles=READERS,
    response=s.CalendarYear,
    errors=(400, 403),
    response_example=s.EXAMPLES["CalendarYear"],
)
def get_year(year: str, principal: Principal) -> s.CalendarYear:
    """Every year 2000-2099 is pre-filled with the seed's nodes (computed: lunar
    festivals from the lunar calendar, each store's anniversary from its ``opened_on``),
    with head office's changes applied. ``hidden``: the seeds head office removed.
    400 ``calendar_year_invalid`` outside 2000-2099."""
    return calendar.year_calendar(calendar.parse_year(year))


@area.route(
    "/admin/calendar/nodes/{node_id}",
    "GET",
    summary="One calendar node with its campaigns (a campaign is created from it)",
    roles=READERS,
    response=s.CalendarNode,
    errors=(403, 404),
    response_example=s.EXAMPLES["CalendarNode"],
)
def get_node(node_id: str, principal: Principal) -> s.CalendarNode:
    """404 ``calendar_node_not_found``."""
    return calendar.get_node(_node_id(node_id))


@area.route(
    "/admin/calendar/{year}/nodes",
    "POST",
    summary="Add a node to a year (ad hoc: new product, single-item special, member exclusive)",
    roles={HQ_ADMIN},
    body=s.CalendarNodeCreate,
    response=s.CalendarNode,
    status=201,
    errors=(400, 403, 422),
    request_example=s.EXAMPLES["CalendarNodeCreate"],
    response_example=s.EXAMPLES["CalendarNode"],
)
def add_node(year: str, body: s.CalendarNodeCreate, principal: Principal) -> s.CalendarNode:
    """Audited. 422 when the dates are not real days, ``ends_on`` is before
    ``starts_on``, the node lasts more than 120 days or falls outside the year."""
    return calendar.add_node(principal, calendar.parse_year(year), body)


@area.route(
    "/admin/calendar/{year}/nodes/{node_id}",
    "PUT",
    summary="Move, regrade or rename a node, or bring a hidden seed back",
    roles={HQ_ADMIN},
    body=s.CalendarNodeUpdate,
    response=s.CalendarNode,
    errors=(400, 403, 404, 409, 422),
    request_example=s.EXAMPLES["CalendarNodeUpdate"],
    response_example=s.EXAMPLES["CalendarNode"],
)
def update_node(
    year: str, node_id: str, body: s.CalendarNodeUpdate, principal: Principal
) -> s.CalendarNode:
    """Audited. ``version`` is the node's as read (0 for a seed never changed): 409
    ``edit_conflict`` when someone changed it since."""
    return calendar.update_node(principal, calendar.parse_year(year), _node_id(node_id), body)


@area.route(
    "/admin/calendar/{year}/nodes/{node_id}",
    "DELETE",
    summary="Hide a seed node from the year, or delete an added node",
    roles={HQ_ADMIN},
    status=204,
    errors=(400, 403, 404, 409),
)
def remove_node(year: str, node_id: str, principal: Principal) -> None:
    """Audited; hiding a hidden seed again writes nothing. 409
    ``calendar_node_has_campaigns`` when campaigns were created from it."""
    calendar.remove_node(principal, calendar.parse_year(year), _node_id(node_id))
