"""Moving an order through its state machine, recording every transition.

Every change of state is one conditional write (or one transaction, when stock, refunds
or print jobs change with it) whose condition is that the order is still in a state the
action may start from: two staff members pressing the same button at once produce one
transition and one 409.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.auth.principal import Principal
from chalicelib.db import transitions
from chalicelib.db.applied import applied
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound
from chalicelib.kernel.states import ORDER, order_queue
from chalicelib.orders.models import OrderDetailModel, OrderModel
from chalicelib.stores.models import StoreModel

# The role recorded for what no person did: scheduled jobs (expiry, auto-completion, the
# print watchdog) and the payment provider's notifications. It is no role a token can
# carry (auth.principal.ALL_ROLES), so nothing that authorises by role ever grants it
# anything; it only names the actor in history (hence type: ignore: Role lists a token's).
SYSTEM_ROLE = "system"
SYSTEM = Principal("system", SYSTEM_ROLE)  # type: ignore[arg-type]
PAYMENT_PROVIDER = Principal("payment-provider", SYSTEM_ROLE)  # type: ignore[arg-type]
# History entries that record an event without changing the order's state.
NOTES = ("late_payment", "amount_mismatch")


def get(order_id: str, consistent: bool = True, detail: bool = True) -> OrderModel:
    """The order, or 404: its head and detail in one BatchGetItem (``detail=False``: the
    head alone, one GetItem)."""
    if detail:
        found = read_many([order_id], consistent)
        if order_id in found:
            return found[order_id]
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    try:
        return OrderModel.get(order_id, consistent_read=consistent)
    except DoesNotExist:
        raise NotFound(f"No order {order_id!r}.", code="order_not_found") from None


def get_with_store(order_id: str, store_id: str) -> tuple[OrderModel, StoreModel]:
    """The order (head and detail, consistent) and its store (eventually consistent: its
    name and phone for a ticket) in one BatchGetItem; 404 for a missing one."""
    keys = [{"order_id": order_id}]
    got = batch_get(
        {OrderModel: keys, OrderDetailModel: keys, StoreModel: [{"store_id": store_id}]},
        eventual=(StoreModel,),
    )
    if not got[OrderModel] or not got[OrderDetailModel]:
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    if not got[StoreModel]:
        raise NotFound(f"No store {store_id!r}.", code="store_not_found")
    return got[OrderModel][0].attach(got[OrderDetailModel][0]), got[StoreModel][0]


def read_many(order_ids: list[str], consistent: bool = True) -> dict[str, OrderModel]:
    """Up to 50 orders, heads with their details attached, in one BatchGetItem. An order
    whose detail is missing (one stored before the split and not yet migrated:
    infra/migrate_order_details.py) is left out."""
    keys = [{"order_id": o} for o in order_ids]
    got = batch_get({OrderModel: keys, OrderDetailModel: keys}, consistent=consistent)
    details = {d.order_id: d for d in got[OrderDetailModel]}
    return {
        o.order_id: o.attach(details[o.order_id]) for o in got[OrderModel] if o.order_id in details
    }


def explain_refusal(order: OrderModel, action: str) -> None:
    """Raise the 409 that says why a conditional write on the order failed."""
    current = get(order.order_id, detail=False)
    if current.status != order.status:
        ORDER.path(action, current.status)  # raises illegal_transition from the new state
    raise Conflict("The order changed at the same time; reload and retry.", code="order_changed")


def note_actions(order: OrderModel, note: str, actor: Principal, reason: str) -> list[Any]:
    """Update actions that add ``note`` (one of NOTES) to the order's history, its state
    unchanged (from = to = the current state)."""
    assert note in NOTES, note
    entry = transitions.entry(note, order.status, order.status, actor, reason)
    return [
        OrderModel.updated_at.set(clock.now_iso()),
        OrderModel.history.set(OrderModel.history.append([entry])),
    ]


def queue_key(store_id: str, status: str) -> str | None:
    """The ``store_queue`` (by_store_queue key) of an order in ``status``; None: unset."""
    bucket = order_queue(status)
    return None if bucket is None else f"{store_id}#{bucket}"


def queue_actions(order: OrderModel, to: str) -> list[Any]:
    """The action that puts the order in ``to``'s work-queue bucket: SET when paid or
    moving between buckets, REMOVE when it becomes final (deleting the index entry is one
    index write, a key change two). Compared with the key the order was read with, not
    the one its status implies, so an order keyed by an older release is put right by
    its next step; a step that keeps the key writes none (it would look like a move)."""
    key = queue_key(str(order.store_id), to)
    if key == order.store_queue:
        return []
    if key is None:
        return [OrderModel.store_queue.remove()]
    return [OrderModel.store_queue.set(key)]


def transition_actions(
    order: OrderModel,
    action: str | list[str],
    actor: Principal,
    reason: str | None,
    extra: list[Any] | None = None,
    queue: bool = True,
) -> tuple[str, list[Any], Any]:
    """(new state, update actions, condition) for applying ``action`` to ``order``;
    ``queue=False`` leaves the work-queue key to the caller.

    A list of actions is taken in turn in the same write (one history entry each,
    ``reason`` on the last), on the condition that the order is still in the state it
    was read in: the path was worked out from that state."""
    names = [action] if isinstance(action, str) else list(action)
    steps = [(name, reason if i == len(names) - 1 else None) for i, name in enumerate(names)]
    move = transitions.move(OrderModel, ORDER, str(order.status), steps, actor)
    keyed = queue_actions(order, move.to) if queue else []
    actions = [*move.actions, *keyed, *(extra or [])]
    return move.to, actions, move.condition


def apply(
    order: OrderModel,
    action: str | list[str],
    actor: Principal,
    reason: str | None = None,
    extra: list[Any] | None = None,
    also: Any = None,
    explain_as: str | None = None,
    detail: list[Any] | None = None,
) -> OrderModel:
    """Apply one action (or several in turn, see transition_actions) to an order in one
    write; ``also(tx)`` adds other (labelled) writes to the same transaction, in which
    the order's update is labelled "order". ``detail``: actions on the order's detail
    item (a refund's per-line units), written in the same transaction ("detail").

    409 when the order is no longer in a state the action can start from (someone else
    moved it first), explained as a refusal of ``explain_as`` (default: the first
    action)."""
    explain_as = explain_as or (action if isinstance(action, str) else action[0])
    _, actions, condition = transition_actions(order, action, actor, reason, extra)
    try:
        if also is None and not detail:
            # UpdateItem returns the new item and PynamoDB loads it into ``order``.
            order.update(actions=actions, condition=condition)
            return order
        else:

            def build(tx: Tx) -> None:
                tx.update(order, actions=actions, condition=condition, label="order")
                if detail:
                    tx.update(
                        OrderDetailModel(order.order_id),
                        actions=detail,
                        condition=OrderDetailModel.order_id.exists(),
                        label="detail",
                    )
                if also is not None:
                    also(tx)

            transact(build)
    except UpdateError as exc:
        if is_condition_failure(exc):
            explain_refusal(order, explain_as)
        raise
    except TransactionCancelled as exc:
        if "order" in exc.failed:
            explain_refusal(order, explain_as)
        raise
    # A transaction returns nothing; it committed on the version we read, so the order
    # now is what we read with our actions applied (no second read).
    updated = applied(order, actions)
    if order.has_detail:
        updated.attach(applied(order.detail, detail) if detail else order.detail)
    return updated
