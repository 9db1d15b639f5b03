"""Promotions and coupon templates start as drafts (issue 18 item 5): the one place tests
create them published. Every test that needs a live promotion or template creates it
through these helpers, so the approval step lives here only.

A draft above the two-approver threshold (or without a budget) needs a second head-office
person: ``SECOND_APPROVER`` approves after the creator's token."""

from __future__ import annotations

from typing import Any

SECOND_APPROVER = "hq-second"
DRAFT_STATES = ("draft", "pending")


def _second_token() -> str:
    from chalicelib.auth import tokens

    return tokens.issue(SECOND_APPROVER, "hq_admin", None, 3600)[0]


def _publish(api: Any, path: str, view: dict, token: str) -> dict:
    for who in (token, _second_token()):
        if view.get("status") not in DRAFT_STATES:
            break
        status, view = api.call("POST", f"{path}/approve", {}, token=who)
        assert status == 200, view
    return view


def create_promotion(api: Any, body: Any, token: str) -> tuple[int, Any]:
    """POST /admin/promotions then approve it (by ``token``'s user, then a second head
    office user when two are needed): (status, view) as ``api.call`` answers."""
    status, got = api.call("POST", "/admin/promotions", body, token=token)
    if status in (200, 201) and got.get("status") in DRAFT_STATES:
        got = _publish(api, f"/admin/promotions/{got['promotion_id']}", got, token)
    return status, got


def create_template(api: Any, body: Any, token: str) -> tuple[int, Any]:
    """POST /admin/coupon-templates then approve it, as ``create_promotion``."""
    status, got = api.call("POST", "/admin/coupon-templates", body, token=token)
    if status in (200, 201) and got.get("status") in DRAFT_STATES:
        got = _publish(api, f"/admin/coupon-templates/{got['template_id']}", got, token)
    return status, got


def publish_draft(api: Any, path: str, view: dict, token: str) -> dict:
    """Approve a draft created by a plain POST (a test that edits the draft first), as
    ``create_promotion`` does; ``path`` is the draft's own path. Its view."""
    return _publish(api, path, view, token)


# --- through the services (service, usecase and seed-like tests) ----------------------


def _principals() -> tuple[Any, Any]:
    from chalicelib.auth.principal import Principal

    return (
        Principal(subject="hq-admin", role="hq_admin", store_id=None),
        Principal(subject=SECOND_APPROVER, role="hq_admin", store_id=None),
    )


def publish_promotion(view: Any) -> Any:
    """Approve a promotion created through ``promotions.service.create``: its view."""
    from chalicelib.promotions import schemas, workflow

    for who in _principals():
        if view.status not in DRAFT_STATES:
            break
        view = workflow.approve(who, view.promotion_id, schemas.ApproveRequest())
    return view


def publish_template(view: Any) -> Any:
    """Approve a template created through ``coupons.service.create_template``: its view."""
    from chalicelib.coupons import schemas, workflow

    for who in _principals():
        if view.status not in DRAFT_STATES:
            break
        view = workflow.approve(who, view.template_id, schemas.TemplateApproveRequest())
    return view


# --- against the local stack (browser and e2e tests) -----------------------------------


def publish_http(call: Any, api: str, path: str, view: dict) -> dict:
    """Approve a draft through the stack's API as the demo's two head-office people
    (hq-admin, then hq-ops where two are needed); ``path`` is the draft's own path, e.g.
    ``/admin/promotions/<id>``. Its view."""
    from infra.local import demo_data

    for username in ("hq-admin", "hq-ops"):
        if view.get("status") not in DRAFT_STATES:
            break
        password = next(a["password"] for a in demo_data.staff() if a["username"] == username)
        status, body, _ = call(
            "POST", api + "/auth/login", {"username": username, "password": password}
        )
        assert status == 200, body
        status, view, _ = call("POST", f"{api}{path}/approve", {}, token=body["token"])
        assert status == 200, view
    return view
