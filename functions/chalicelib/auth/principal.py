"""Who is calling, and what each role may reach. Plain Python, no AWS."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.kernel.errors import Forbidden, Unauthorized

Role = Literal["customer", "store_staff", "store_manager", "hq_admin", "relay"]
CUSTOMER: Role = "customer"
STORE_STAFF: Role = "store_staff"
STORE_MANAGER: Role = "store_manager"
HQ_ADMIN: Role = "hq_admin"
RELAY: Role = "relay"
ALL_ROLES: frozenset[Role] = frozenset({CUSTOMER, STORE_STAFF, STORE_MANAGER, HQ_ADMIN, RELAY})
STAFF_ROLES: frozenset[Role] = frozenset({STORE_STAFF, STORE_MANAGER})
BACK_OFFICE: frozenset[Role] = frozenset({STORE_STAFF, STORE_MANAGER, HQ_ADMIN})
STORE_ROLES: frozenset[Role] = frozenset({STORE_STAFF, STORE_MANAGER, RELAY})


@dataclass(frozen=True)
class Principal:
    """The verified caller: subject id, role and, for store roles, the one store.
    ``token_id`` is the token's ``jti`` (relay routes check it has not been revoked)."""

    subject: str
    role: Role
    store_id: str | None = None
    token_id: str | None = None

    @property
    def is_hq(self) -> bool:
        return self.role == HQ_ADMIN

    def can_act_for_store(self, store_id: str) -> bool:
        """Head office acts for every store; store roles only for their own."""
        if self.role == HQ_ADMIN:
            return True
        return self.role in STORE_ROLES and self.store_id == store_id


def principal_from_context(context: dict[str, Any] | None) -> Principal:
    """Build the principal from what the authorizer put in the request context.

    The authorizer lets every request through with either verified claims or the reason
    it could not verify them, so that a bad token gets our JSON 401 both under
    ``chalice local`` and on API Gateway. Expiry is checked here again because API Gateway
    caches an authorizer's answer for a while.
    """
    auth = (context or {}).get("authorizer") or {}
    if isinstance(auth.get("lambda"), dict):
        # An HTTP API sends a Lambda authorizer's context nested under "lambda" in its
        # 2.0 payload; the 1.0 payload we deploy is documented as REST-compatible (flat).
        auth = {**auth["lambda"], "principalId": auth.get("principalId")}
    problem = auth.get("auth_error")
    if problem:
        messages = {
            "token_expired": "Your session has expired; sign in again.",
            "token_invalid": "The access token is not valid; sign in again.",
            "token_missing": "Send 'Authorization: Bearer <token>'.",
            "token_revoked": "This session has ended (signed out everywhere, password "
            "changed or account moved); sign in again.",
            "account_disabled": "This account is disabled; ask head office.",
        }
        raise Unauthorized(messages.get(problem, "Sign in first."), code=problem)
    role = auth.get("role")
    if role not in ALL_ROLES:
        raise Unauthorized("Sign in first.", code="token_missing")
    exp = int(auth.get("exp") or 0)
    if exp and exp < time.time():
        raise Unauthorized("Your session has expired; sign in again.", code="token_expired")
    return Principal(
        subject=str(auth.get("principalId") or auth.get("sub") or ""),
        role=role,
        store_id=auth.get("store_id") or None,
        token_id=auth.get("jti") or None,
    )


def require_store_access(principal: Principal, store_id: str) -> None:
    """403 ``other_store`` for a store role of another store (the store id is in the path:
    nothing to hide); head office passes."""
    if not principal.can_act_for_store(store_id):
        raise Forbidden(
            "Your account belongs to another store.",
            code="other_store",
            details={"store_id": store_id},
        )


# Actors that are not people (scheduled jobs, the payment provider's notification): shown
# to everyone as they are.
SYSTEM_ACTORS = frozenset({"system", "payment-provider"})
# What a customer sees instead of a staff member's login name.
ROLE_LABELS: dict[str, str] = {
    STORE_STAFF: "store",
    STORE_MANAGER: "store",
    HQ_ADMIN: "head_office",
}


def shown_actor(actor: str, role: str, viewer: Principal) -> str:
    """Who made a recorded change, as ``viewer`` may see it. Customers see their own id,
    system actors, and for everyone else only a role label (``store``, ``head_office``),
    never a staff login name (a username is half of a sign-in). Staff and head office see
    the actor as recorded."""
    if viewer.role != CUSTOMER or actor == viewer.subject or actor in SYSTEM_ACTORS:
        return actor
    return ROLE_LABELS.get(role, "store" if role == RELAY else role)
