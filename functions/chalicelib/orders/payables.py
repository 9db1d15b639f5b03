"""Payable kinds that sit above orders (issue 17: subscriptions, ...): the payment
callback (payments.record_payment), the local payment simulation and the refund retry
ask this registry about ids they do not know. Orders never import those features; each
registers itself here when it is imported (app.py imports every feature)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.orders.payment_providers import PaymentNotice


@dataclass(frozen=True)
class Payable:
    """A kind of thing paid through the payment provider.

    ``is_id``: whether an id (the provider's order number) is of this kind.
    ``record_payment``: record a verified notice, once; returns the ack message. Raises
    NotFound with ``not_found_code`` for an unknown id (refunded as unknown) and
    BadRequest ``amount_mismatch`` for a wrong amount (refunded whole).
    ``payable``: (payment id, amount) the caller may pay (local simulation).
    ``payment_total``: what the provider took for the id (refund retries), or None."""

    name: str
    is_id: Callable[[str], bool]
    record_payment: Callable[[PaymentNotice], str]
    payable: Callable[[Principal, str], tuple[str, int]]
    payment_total: Callable[[str], int | None]
    not_found_code: str


_REGISTRY: list[Payable] = []


def register(payable: Payable) -> None:
    """Add a kind (idempotent by name: a module imported twice registers once)."""
    _REGISTRY[:] = [p for p in _REGISTRY if p.name != payable.name]
    _REGISTRY.append(payable)


def find(value: str) -> Payable | None:
    """The registered kind of ``value``, or None (an order)."""
    for p in _REGISTRY:
        if p.is_id(value):
            return p
    return None


def not_found_codes() -> set[str]:
    return {p.not_found_code for p in _REGISTRY}
