"""Subscribers: which code reacts to which event, each under a stable name.

A feature subscribes in its own ``subscribers.py``::

    @subscriber(OrderPaid, "coupons.after_payment_gift")
    def after_payment_gift(event: OrderPaid) -> None: ...

and lists that module in ``SUBSCRIBER_MODULES``. ``when=`` (a predicate on the event)
limits it to the events it has something to do with: for the others it is not called
and no delivery marker is read or written (a marker is a write per event). The name is
part of the delivery marker's key (event id, subscriber): renaming a subscriber makes it
a new one, which would see again every event still being redelivered, so names never
change. A subscriber must be idempotent for its (event, subscriber): delivery is at least once.
``idempotent=True`` says more: running it again for the same event has no further effect
by construction (a conditional write, an id keyed by the event's subject, a SET of the
same value), so the dispatcher writes no ``done`` marker after its success (a marker is a
write per event) and a redelivery simply runs it again. Its failures are marked, retried
and parked like any other's.
The events feature imports the subscriber modules by name, so it depends on no feature.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chalicelib.events.types import Event

# Modules whose import registers subscribers (a feature that reacts to events adds its own).
SUBSCRIBER_MODULES: tuple[str, ...] = (
    "chalicelib.coupons.subscribers",
    "chalicelib.members.subscribers",
    "chalicelib.reports.subscribers",
    "chalicelib.loyalty.subscribers",
    "chalicelib.loyalty.programme_subscribers",
    "chalicelib.loyalty.mall_subscribers",
    "chalicelib.customers.subscribers",
    "chalicelib.campaign_budgets.subscribers",
    "chalicelib.orders.campaign_subscribers",
)

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Subscriber:
    name: str
    event_type: str
    handle: Callable[[Any], None]
    when: Callable[[Any], bool] | None = None
    # Runs again harmlessly: no done marker after a success (failures are marked as usual).
    idempotent: bool = False

    def concerns(self, event: Event) -> bool:
        return self.when is None or self.when(event)


@dataclass
class Registry:
    """Subscribers by event type, in registration order."""

    by_type: dict[str, list[Subscriber]] = field(default_factory=dict)
    by_name: dict[str, Subscriber] = field(default_factory=dict)

    def add(
        self,
        event_class: type[Event],
        name: str,
        handle: Callable[[Any], None],
        when: Callable[[Any], bool] | None = None,
        *,
        idempotent: bool = False,
    ) -> None:
        if name in self.by_name:
            raise ValueError(f"two subscribers are named {name!r}: names must be unique")
        sub = Subscriber(name, event_class.TYPE, handle, when, idempotent)
        self.by_name[name] = sub
        self.by_type.setdefault(sub.event_type, []).append(sub)

    def for_type(self, event_type: str) -> list[Subscriber]:
        return list(self.by_type.get(event_type, []))


REGISTRY = Registry()


def subscriber(
    event_class: type[E],
    name: str,
    registry: Registry | None = None,
    *,
    when: Callable[[E], bool] | None = None,
    idempotent: bool = False,
) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Register the decorated function for ``event_class`` under ``name``, for the events
    ``when`` accepts (all by default); ``idempotent``: no done marker after a success."""

    def register(fn: Callable[[E], None]) -> Callable[[E], None]:
        (registry or REGISTRY).add(event_class, name, fn, when, idempotent=idempotent)
        return fn

    return register


def loaded() -> Registry:
    """The registry with every feature's subscribers imported."""
    for module in SUBSCRIBER_MODULES:
        importlib.import_module(module)
    return REGISTRY
