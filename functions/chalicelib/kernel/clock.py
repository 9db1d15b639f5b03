"""The current time, in one place so tests can move it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

# A moment that ``now`` answers instead of the real time, inside ``as_of``.
_as_of: ContextVar[datetime | None] = ContextVar("clock_as_of", default=None)


def now() -> datetime:
    """Aware UTC now (or the moment of the enclosing ``as_of``)."""
    moment = _as_of.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Run a block as if it were ``moment`` (a campaign's test order, quoted as of the
    campaign's start through the real checkout path)."""
    token = _as_of.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _as_of.reset(token)


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
