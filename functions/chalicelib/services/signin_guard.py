"""Lockout after repeated wrong codes or passwords."""

from __future__ import annotations

import time
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist

from chalicelib import config
from chalicelib.db.models import SigninGuardModel
from chalicelib.errors import TooManyRequests


def ensure_not_locked(key: str) -> None:
    """429 while ``key`` (e.g. 'staff:alice', 'otp:138...') is locked out."""
    try:
        guard = SigninGuardModel.get(key)
    except DoesNotExist:
        return
    wait = int(guard.locked_until - time.time())
    if wait > 0:
        raise TooManyRequests(
            f"Too many failed attempts; try again in {max(1, wait // 60)} minute(s).",
            code="locked_out",
            details={"retry_after_s": wait},
        )


def record_failure(key: str) -> None:
    """Count a failure; the MAX-th failure within the window locks the key for LOCKOUT_S."""
    now = int(time.time())
    guard = SigninGuardModel(key)
    guard.update(
        actions=[
            SigninGuardModel.failures.add(1),
            SigninGuardModel.expires_at.set(timedelta(seconds=config.LOCKOUT_S)),
        ]
    )
    if guard.failures >= config.MAX_FAILED_SIGNINS:
        # Lock, and start counting afresh for the next window.
        guard.update(
            actions=[
                SigninGuardModel.locked_until.set(now + config.LOCKOUT_S),
                SigninGuardModel.failures.set(0),
            ]
        )


def clear(key: str) -> None:
    """Forget failures after a successful sign-in."""
    SigninGuardModel(key).delete()
