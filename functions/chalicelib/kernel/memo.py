"""Values read once per unit of work (a stream batch, a job run) instead of once per use.

Handling one event runs several subscribers, each reading the same settings items: each
read is an AWS round trip. A unit of work opens a scope; inside it ``get(key, load)``
calls ``load()`` the first time ``key`` is asked for and answers the later asks from
memory. Outside a scope ``get`` calls ``load()`` every time, so API requests and tests
that open none read exactly as without this module.

    with memo.scope():
        for event in batch:
            deliver(event)          # settings.read(...) -> memo.get(...)

A writer calls ``forget(key)`` after a write, so a later read in the same scope reads
the new value. Scopes nest (an inner one is the outer one) and belong to their context
(a contextvar): a thread started inside a scope is outside it. Keep values immutable (a
str, a tuple, a frozen object): a caller changing a memoised value would change it for
every later reader of the scope.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_values: ContextVar[dict[Hashable, Any] | None] = ContextVar("daojia_memo", default=None)


@contextmanager
def scope() -> Iterator[None]:
    """Memoise ``get`` until the block ends; inside another scope, that scope goes on."""
    if _values.get() is not None:
        yield
        return
    token = _values.set({})
    try:
        yield
    finally:
        _values.reset(token)


def active() -> bool:
    """Whether a scope is open here (a reader may then load more than it was asked for,
    knowing the rest is kept)."""
    return _values.get() is not None


def get(key: Hashable, load: Callable[[], T]) -> T:
    """``load()``'s value, loaded once per scope; outside a scope, ``load()`` each time.
    An exception from ``load`` is not kept: the next ``get`` tries again."""
    values = _values.get()
    if values is None:
        return load()
    if key not in values:
        values[key] = load()
    value: T = values[key]
    return value


def forget(key: Hashable) -> None:
    """The next ``get(key, ...)`` in this scope loads again (a writer changed the value).
    Nothing to do outside a scope."""
    values = _values.get()
    if values is not None:
        values.pop(key, None)
