"""Lockout after repeated wrong codes or passwords.

The rule (README, "Sign-in lockout"): failures are counted per account *and* client
address (the source IP API Gateway saw) and, separately, per account over all addresses.

- ``MAX_FAILED_SIGNINS`` (5) failures from one address within ``LOCKOUT_S`` (15 min) lock
  the account for that address only, for ``LOCKOUT_S``;
- the account is locked for every address only after a much higher number of failures
  within the window from all addresses together (``MAX_FAILED_SIGNINS_PER_ACCOUNT``, 50,
  for passwords; ``MAX_FAILED_CODES_PER_PHONE``, 10, for 6-digit sign-in codes).

So someone who knows a picker's username cannot lock the picker out from their own
phone, and guessing from many addresses is still capped. Staff guard keys carry the
account's ``signin_epoch``: head office's unlock and a password reset bump it, which
forgets every address's failures at once (there is no scan to find them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import UpdateError

from chalicelib.identity.models import SigninGuardModel
from chalicelib.kernel import config
from chalicelib.kernel.errors import TooManyRequests


@dataclass(frozen=True)
class Guard:
    """The two counters one sign-in attempt is judged by."""

    account: str  # "staff:<username>" / "otp:<phone>": every address together
    client: str  # "staff:<username>#<epoch>@<address>": one address
    account_limit: int


def for_staff(username: str, client_ip: str | None, epoch: int = 0) -> Guard:
    return Guard(
        f"staff:{username}",
        f"staff:{username}#{epoch}@{client_ip or 'unknown'}",
        config.MAX_FAILED_SIGNINS_PER_ACCOUNT,
    )


def for_phone(phone: str, client_ip: str | None) -> Guard:
    return Guard(
        f"otp:{phone}", f"otp:{phone}@{client_ip or 'unknown'}", config.MAX_FAILED_CODES_PER_PHONE
    )


def ensure_not_locked(guard: Guard) -> None:
    """429 while the account is locked for this address or for everyone."""
    now = time.time()
    wait = 0
    for item in SigninGuardModel.batch_get([guard.client, guard.account]):
        wait = max(wait, int((item.locked_until or 0) - now))
    if wait > 0:
        raise TooManyRequests(
            f"Too many failed attempts; try again in {max(1, wait // 60)} minute(s).",
            code="locked_out",
            details={"retry_after_s": wait},
        )


def record_failure(guard: Guard) -> None:
    """Count a failure on both counters; reaching a limit locks that counter's scope."""
    _count(guard.client, config.MAX_FAILED_SIGNINS)
    _count(guard.account, guard.account_limit)


def _count(key: str, limit: int) -> None:
    """Add one failure to the key's current window (or start one) and lock at the limit.

    The window ends at ``expires_at``; DynamoDB deletes expired items only lazily (and moto
    never), so the condition checks the window instead of relying on the item being gone.
    Both branches are conditional: two racing failures are both counted."""
    now = int(time.time())
    at_now = datetime.fromtimestamp(now, UTC)
    guard = SigninGuardModel(key)
    for _ in range(3):
        try:
            guard.update(
                actions=[SigninGuardModel.failures.add(1)],
                condition=SigninGuardModel.expires_at > at_now,
            )
            break
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        try:  # no window open: start one
            # TTLAttribute takes a timedelta (from now); PynamoDB types set() as datetime
            # only: type: ignore[arg-type] below.
            guard.update(
                actions=[
                    SigninGuardModel.failures.set(1),
                    SigninGuardModel.locked_until.set(0),
                    SigninGuardModel.expires_at.set(timedelta(seconds=config.LOCKOUT_S)),  # type: ignore[arg-type]
                ],
                condition=SigninGuardModel.expires_at.does_not_exist()
                | (SigninGuardModel.expires_at <= at_now),
            )
            break
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    if (guard.failures or 0) >= limit:
        # Lock, and start counting afresh once the lock is over.
        guard.update(
            actions=[
                SigninGuardModel.locked_until.set(now + config.LOCKOUT_S),
                SigninGuardModel.failures.set(0),
                SigninGuardModel.expires_at.set(timedelta(seconds=config.LOCKOUT_S)),  # type: ignore[arg-type]
            ]
        )


def clear(guard: Guard) -> None:
    """Forget this address's failures after a successful sign-in (the account-wide count
    stays until its window ends: a success must not reopen distributed guessing)."""
    SigninGuardModel(guard.client).delete()


def clear_account(guard: Guard) -> None:
    """Lift the account-wide lock (head office's unlock; bump the epoch for addresses)."""
    SigninGuardModel(guard.account).delete()
