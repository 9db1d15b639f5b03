"""Extension points that features above orders fill (orders never imports them).

* ``PlaceHook``: an order placed for a mechanic (a group buy's seat) reads the mechanic's
  items in placing's one BatchGetItem, prices its lines, marks the order and writes the
  mechanic's conditional pieces in placing's one transaction: still 2 AWS calls. It is
  passed to ``service.place`` by the mechanic's route; ordinary orders carry none.
* ``HELD_PAID``: an order placed with ``held`` set is paid but held: the payment prints
  no ticket and the order waits outside the store's queue until its mechanic releases
  it (``service.release_held``). The hook registered for the order's ``held`` kind runs
  after the payment is recorded (and again on the provider's retry: it is idempotent).
* ``GIVE_BACK``: pieces for the transaction that cancels or expires an order, giving
  back what a mechanic's placing took (the group seat); called for every cancellation
  and expiry, returning [] for orders that are not the mechanic's.

Features fill the registries at import time (app.py imports every feature).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.db.transactions import TransactionCancelled, TxPiece
    from chalicelib.kernel.errors import ApiError
    from chalicelib.orders.models import OrderModel


class PlaceHook(Protocol):
    def keys(self) -> dict[Any, list[dict[str, Any]]]:
        """Items to read in placing's BatchGetItem (model -> keys), strongly consistent."""

    def prices(self, got: Any, skus_qty: Sequence[tuple[str, int]]) -> dict[str, int]:
        """Check the read items (raise an ApiError to refuse) and give sku -> unit price.
        The order then takes no coupon, promotion, member price or minimum order."""

    def mark(self, order: OrderModel) -> None:
        """Set the mechanic's attributes on the order built (head: ``held``, ``group_id``,
        ``paid_queue``; detail: the campaign spend its pieces take)."""

    def pieces(self, order: OrderModel) -> list[TxPiece]:
        """Conditional pieces for placing's transaction, labelled."""

    def explain(self, exc: TransactionCancelled) -> ApiError | None:
        """The refusal to answer when the transaction failed on our pieces; None: not ours."""


# held kind ("group") -> what runs once the held order is paid (order as the payment left it)
HELD_PAID: dict[str, Callable[[OrderModel], None]] = {}
# each -> pieces for the cancel/expire transaction of ``order`` (paid: it was paid)
GIVE_BACK: list[Callable[[OrderModel, bool], list[TxPiece]]] = []


def held_kind(order: OrderModel) -> str | None:
    """ "group" for a held order of a group buy ("group:<group id>"); None: not held."""
    held = getattr(order, "held", None)
    return str(held).split(":", 1)[0] if held else None


def give_back_pieces(order: OrderModel, paid: bool) -> list[TxPiece]:
    out: list[TxPiece] = []
    for hook in GIVE_BACK:
        out += hook(order, paid)
    return out


def on_held_paid(order: OrderModel) -> None:
    kind = held_kind(order)
    hook = HELD_PAID.get(kind or "")
    if hook is not None:
        hook(order)
