"""Points routes: a member's own points and history, head office's view of a member's
ledger and adjustments, and the points settings."""

from __future__ import annotations

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.errors import ValidationFailed, field_error
from chalicelib.kernel.lazy import lazy_module
from chalicelib.loyalty import schemas as s

points = lazy_module("chalicelib.loyalty.points")
settings = lazy_module("chalicelib.loyalty.settings")

area = Area("loyalty", __name__, "Members' loyalty: points (积分) and programme settings.")


@area.route(
    "/members/me/points",
    "GET",
    summary="My points: spendable, pending, locked, debt, next expiry",
    roles={CUSTOMER},
    response=s.PointsBalance,
    errors=(403,),
    response_example=s.EXAMPLES["PointsBalance"],
)
def my_points(principal: Principal) -> s.PointsBalance:
    """``balance`` is spendable + locked + pending - debt, the sum of the history's
    entries. Pending points (from orders) become spendable after the pending days;
    ``next_expiry_*``: the next lot to expire. docs/loyalty.md explains the rules."""
    return points.balance(principal.subject)


@area.route(
    "/members/me/points/entries",
    "GET",
    summary="My points history, newest first",
    roles={CUSTOMER},
    query=s.EntriesQuery,
    response=s.EntriesPage,
    errors=(400, 403, 422),
    response_example=s.EXAMPLES["EntriesPage"],
)
def my_entries(query: s.EntriesQuery, principal: Principal) -> s.EntriesPage:
    """Each entry: why (kind, reason), the order, the lot's expiry, the lots it used.
    Pass ``cursor`` back for older entries."""
    return points.entries(principal.subject, query.cursor, query.limit)


@area.route(
    "/admin/members/{customer_id}/points",
    "GET",
    summary="A member's points",
    roles={HQ_ADMIN},
    response=s.PointsBalance,
    errors=(403,),
    response_example=s.EXAMPLES["PointsBalance"],
)
def member_points(customer_id: str, principal: Principal) -> s.PointsBalance:
    """Head office only."""
    return points.balance(customer_id)


@area.route(
    "/admin/members/{customer_id}/points/entries",
    "GET",
    summary="A member's points history, newest first",
    roles={HQ_ADMIN},
    query=s.EntriesQuery,
    response=s.EntriesPage,
    errors=(400, 403, 422),
    response_example=s.EXAMPLES["EntriesPage"],
)
def member_entries(customer_id: str, query: s.EntriesQuery, principal: Principal) -> s.EntriesPage:
    """Head office only; adjustments show who made them (``actor``)."""
    return points.entries(customer_id, query.cursor, query.limit, admin=True)


@area.route(
    "/admin/members/{customer_id}/points/adjustments",
    "POST",
    summary="Add or take a member's points, with a reason (audited)",
    roles={HQ_ADMIN},
    body=s.PointsAdjustment,
    response=s.PointsEntry,
    status=201,
    errors=(403, 404, 409, 422),
    request_example=s.EXAMPLES["PointsAdjustment"],
    response_example=s.EXAMPLES["PointsEntry"],
)
def adjust_points(
    customer_id: str, body: s.PointsAdjustment, principal: Principal
) -> s.PointsEntry:
    """Head office only. A deduction takes spendable points; beyond them it makes debt
    only when the points settings allow it, else 409 ``insufficient_points`` with the
    spendable points in ``details``. The same ``request_id`` again answers the entry
    already written (409 ``request_id_reused`` with a different delta or reason); 404
    ``member_not_found``; ``delta`` 0 is 422."""
    if body.delta == 0:
        raise ValidationFailed(
            "delta must not be 0.", details=[field_error("delta", "must not be 0")]
        )
    return points.adjust(principal, customer_id, body.delta, body.reason, body.request_id)


@area.route(
    "/admin/loyalty/points-settings",
    "GET",
    summary="Points rules: rate, expiry, pending days, points as cash",
    roles={HQ_ADMIN},
    response=s.PointsSettings,
    errors=(403,),
    response_example=s.EXAMPLES["PointsSettings"],
)
def get_points_settings(principal: Principal) -> s.PointsSettings:
    """Head office only; the defaults until head office sets them."""
    return settings.points_settings()


@area.route(
    "/admin/loyalty/points-settings",
    "PUT",
    summary="Replace the points rules (audited)",
    roles={HQ_ADMIN},
    body=s.PointsSettings,
    response=s.PointsSettings,
    errors=(403, 409, 422),
    request_example=s.EXAMPLES["PointsSettings"],
    response_example=s.EXAMPLES["PointsSettings"],
)
def put_points_settings(body: s.PointsSettings, principal: Principal) -> s.PointsSettings:
    """Head office only. Applies to points earned from now on (earned lots keep their
    expiry). 409 ``settings_changed`` when another edit landed meanwhile."""
    return settings.put_points_settings(principal, body)
