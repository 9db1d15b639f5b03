"""The current time, in one place so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with a Z, second precision: '2026-11-24T02:30:00Z'."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(value: str) -> datetime:
    """The inverse of ``iso`` (and of ``now_iso_ms``): an ISO-8601 time with a Z or an
    offset, aware; a time without a zone stays naive (callers that take input check)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now_iso() -> str:
    return iso(now())


def now_iso_ms() -> str:
    """UTC ISO-8601 with milliseconds, for sort keys where seconds would tie."""
    return now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
