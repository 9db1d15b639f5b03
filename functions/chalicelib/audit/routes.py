"""The audit log (审计日志): head office reads every entry, store managers their store's."""

from __future__ import annotations

from chalicelib.audit import schemas as s
from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.http.routing import Area
from chalicelib.kernel.lazy import lazy_module

service = lazy_module("chalicelib.audit.service")

area = Area("audit", __name__, "The audit log: who changed what in the back office.")


@area.route(
    "/admin/audit",
    "GET",
    summary="Audit log entries, newest first",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.AuditQuery,
    response=s.AuditPage,
    errors=(400, 403, 422),
    response_example=s.EXAMPLES["AuditPage"],
)
def list_audit(query: s.AuditQuery, principal: Principal) -> s.AuditPage:
    """Every admin change (docs/audit.md lists the actions and their routes): actor, role,
    time, action, target and the fields that changed, before and after (money in fen).
    Filters: ``actor``, ``target_type`` (with ``target_id`` for one thing's history),
    ``store_id``, ``date_from``/``date_to`` (UTC days, at most 92; default the last 7).
    Head office sees every entry; a store manager only entries about their own store
    (403 ``other_store`` for another). Entries are never changed or deleted: there is
    no route that would. ``next_cursor`` pages on."""
    return service.listing(principal, query)
