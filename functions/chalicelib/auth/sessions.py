"""Ending sessions before their tokens expire.

Every staff and customer account has a token generation (``token_gen``); a token carries
the generation it was signed under (the ``gen`` claim, 0 when absent). The authorizer
refuses a token whose generation is older than its account's, and any token of a
disabled staff account, or of a staff account whose role or store changed since.
Disabling, re-enabling, resetting a password and "sign out everywhere" bump the
generation (one atomic ADD), which revokes every token issued before.

The authorizer reads the account at most once per ``config.SESSION_CACHE_S`` per
container, and API Gateway caches the authorizer's answer per token for
``AUTHORIZER_TTL_S``, so a revocation takes effect everywhere within the sum of the two
(45 s by default; README, "Sessions"). An account that does not exist has nothing to
revoke: accounts are disabled, never deleted. Relay tokens are revoked through their own
record (printing/relays.py) and are not looked at here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.kernel import config

# API Gateway caches the authorizer's answer per token for this long (auth/authorizer.py).
AUTHORIZER_TTL_S = 30
STAFF_ROLES = frozenset({"store_staff", "store_manager", "hq_admin"})
_MAX_CACHED = 10_000  # accounts remembered per container; beyond that the cache restarts


@dataclass(frozen=True)
class AccountState:
    """What the authorizer needs to know about an account."""

    active: bool
    generation: int
    role: str | None = None
    store_id: str | None = None


Loader = Callable[[str, str], "AccountState | None"]

_cache: dict[tuple[str, str], tuple[float, AccountState | None]] = {}
_lock = threading.Lock()
clock: Callable[[], float] = time.monotonic  # tests replace it instead of sleeping


def _kind(role: str) -> str | None:
    if role in STAFF_ROLES:
        return "staff"
    if role == "customer":
        return "customer"
    return None


def _load(kind: str, subject: str) -> AccountState | None:
    """The account as stored (strongly consistent: the delay stays bounded)."""
    from pynamodb.exceptions import DoesNotExist

    from chalicelib.identity.models import CustomerModel, StaffModel

    try:
        if kind == "staff":
            staff = StaffModel.get(
                subject,
                consistent_read=True,
                attributes_to_get=["active", "token_gen", "role", "store_id"],
            )
            return AccountState(
                active=staff.active is not False,
                generation=int(staff.token_gen or 0),
                role=staff.role,
                store_id=staff.store_id,
            )
        customer = CustomerModel.get(subject, consistent_read=True, attributes_to_get=["token_gen"])
        return AccountState(active=True, generation=int(customer.token_gen or 0))
    except DoesNotExist:
        return None


loader: Loader = _load  # tests count or replace the reads


def account_state(kind: str, subject: str) -> AccountState | None:
    """The account's state, from this container's cache while it is fresh."""
    key = (kind, subject)
    now = clock()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < config.SESSION_CACHE_S:
        return hit[1]
    state = loader(kind, subject)
    with _lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[key] = (now, state)
    return state


def forget(kind: str, subject: str) -> None:
    """Drop the cached state after changing the account here (this container then sees the
    change at once; other containers within SESSION_CACHE_S)."""
    with _lock:
        _cache.pop((kind, subject), None)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def problem(claims: dict[str, Any]) -> str | None:
    """Why a verified token may no longer be used (an ``auth_error`` code), or None."""
    role = str(claims.get("role") or "")
    kind = _kind(role)
    if kind is None:
        return None
    subject = str(claims.get("sub") or "")
    generation = int(claims.get("gen") or 0)
    state = account_state(kind, subject)
    if state is not None and generation > state.generation:
        forget(kind, subject)  # signed after what we cached (e.g. re-enabled): read again
        state = account_state(kind, subject)
    if state is None:
        return None
    if generation < state.generation:
        return "token_revoked"
    if not state.active:
        return "account_disabled"
    if kind == "staff" and (
        state.role != role or (state.store_id or "") != (claims.get("store_id") or "")
    ):
        return "token_revoked"  # moved to another role or store: sign in again
    return None
