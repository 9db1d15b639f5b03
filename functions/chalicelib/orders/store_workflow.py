"""The store's work on a paid order, and the customer's confirmation of receipt.

paid -> picking -> picked -> checked_out -> out_for_delivery -> delivered -> completed
(delivery), or checked_out -> ready_for_pickup -> completed (pickup). Each request is one
conditional write on the order (see order_flow), so two staff pressing the same button
produce one transition and one 409.

Rules this module decides:

* **Fewer taps** (issue 11, item 9). The pick may come straight from ``paid``: the picker
  works from the printed ticket, so "start picking" (claiming the order on screen) is
  optional. Such a pick records both steps, start_picking then finish_picking (or
  cancel_out_of_stock), in one write whose condition is that the order is still paid:
  every picked order's history says when picking started and by whom, and a customer's
  cancellation (allowed while the order is paid) and the pick cannot both succeed.
  Likewise the POS checkout can hand a delivery order to the courier in the same write
  (``then: dispatch``), two history entries, as if it were two requests.

* **Shortage** (缺货). Picking finishes with the quantity found for every line. The
  missing units are refunded at once, each at exactly what was paid for it (its price
  less its share of order-level discounts, refunds.plan). The delivery fee is *not*
  refunded on a partial shortage: the rest of the order is still delivered. The order
  update (picked quantities, refund accounting, transition) and the refund record are one
  transaction; the provider is called after it commits.
* **Nothing left**: when not a single unit could be picked, the store cancels the order
  (``cancel_out_of_stock``) and the customer gets everything back, delivery fee
  included: there is nothing to deliver and nothing to wait for.
* **Stock** is not given back for a shortage: the goods are not there, so the stock count
  was already wrong; the shortage is a stock discrepancy for the ERP to correct at its
  next sync (the refund record, reason ``shortage``, lists SKUs and units).
* **Pickup** orders go from checked_out to ready_for_pickup in the same write as the
  POS checkout (two history entries); the counter completes them with the customer's
  6-digit code. A delivery order does the same with dispatch when the cashier asks.
* **Delivered** orders complete when the customer confirms receipt, or automatically
  ``AUTO_COMPLETE_DAYS`` after delivery.
* Store roles act only on their own store's orders and get 404 for others (order ids
  are not probed); head office acts on every store.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from chalicelib.audit import service as audit
from chalicelib.auth.principal import CUSTOMER, STAFF_ROLES, Principal, require_store_access
from chalicelib.checkout import service as promotions_checkout
from chalicelib.db.transactions import TransactionCancelled, Tx
from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.kernel.states import DELIVERED_QUEUE, ORDER, order_queue
from chalicelib.orders import order_flow, refunds
from chalicelib.orders import schemas as s
from chalicelib.orders import service as orders
from chalicelib.orders import store_workflow_schemas as w
from chalicelib.orders.models import OrderModel, RefundModel, line_path, short_picks
from chalicelib.printing import print_jobs
from chalicelib.stores.models import StoreModel


def _not_found(order_id: str) -> NotFound:
    return NotFound(f"No order {order_id!r}.", code="order_not_found")


def store_order(principal: Principal, order_id: str) -> OrderModel:
    """The order, read consistently, if ``principal`` works for its store (head office:
    any store); 404 otherwise."""
    order = order_flow.get(order_id)
    if principal.is_hq or (principal.role in STAFF_ROLES and principal.store_id == order.store_id):
        return order
    raise _not_found(order_id)


ANY_STATUS = "any"


def _not_held(order: OrderModel) -> None:
    """409 ``order_held``: a paid order a mechanic holds (a group buy not yet full) is not
    the store's to work on until it is released (its ticket prints then). The order's
    version moves on release, so a pick from a held read fails even if this is raced."""
    if order.held:
        raise Conflict(
            "This order waits for its group buy to fill; its ticket prints when it does.",
            code="order_held",
        )


def list_orders(principal: Principal, store_id: str, query: s.StoreOrderQuery) -> s.OrderPage:
    """The store's orders in one status, oldest first (its work queue); with ``date``,
    that business day's orders in one status or any, newest first."""
    require_store_access(principal, store_id)
    errors = []
    if query.status != ANY_STATUS and query.status not in ORDER.states():
        errors.append(field_error("status", f"one of {', '.join(sorted(ORDER.states()))}, or any"))
    elif query.status == ANY_STATUS and query.date is None:
        errors.append(field_error("status", "any needs date: give a business day"))
    elif query.date is None and order_queue(query.status) is None:
        # Unpaid and final orders are in no work queue (the store cannot act on them):
        # they are listed by business day.
        errors.append(field_error("status", f"{query.status} needs date: give a business day"))
    if query.date is not None:
        try:
            date.fromisoformat(query.date)
        except ValueError:
            errors.append(field_error("date", f"{query.date} is not a calendar date"))
    if errors:
        raise ValidationFailed(
            "The order list query has invalid fields: "
            + ", ".join(e["field"] for e in errors)
            + ".",
            details=errors,
        )
    if query.date is not None:
        status = None if query.status == ANY_STATUS else query.status
        return orders.list_store_day(principal, store_id, query.date, status, query)
    return orders.list_store(principal, store_id, query)


def start_picking(principal: Principal, order_id: str) -> s.Order:
    """paid -> picking: a picker took the ticket."""
    order = store_order(principal, order_id)
    _not_held(order)
    return orders.view(order_flow.apply(order, "start_picking", principal), principal)


def _picked_quantities(order: OrderModel, body: w.PickResult) -> list[int]:
    """The picked quantity of each order line; 422 naming every problem."""
    index = {line.sku: i for i, line in enumerate(order.lines)}
    picked: list[int | None] = [None] * len(order.lines)
    seen: set[int] = set()
    errors = []
    for j, given in enumerate(body.lines):
        i = index.get(given.sku)
        if i is None:
            errors.append(field_error(f"lines[{j}].sku", f"{given.sku} is not in this order"))
        elif i in seen:
            errors.append(field_error(f"lines[{j}].sku", f"{given.sku} is given twice"))
        elif given.picked_qty > int(order.lines[i].qty):
            errors.append(
                field_error(
                    f"lines[{j}].picked_qty",
                    f"{given.sku} ({order.lines[i].name}): {int(order.lines[i].qty)} ordered, "
                    f"cannot pick {given.picked_qty}",
                )
            )
        else:
            picked[i] = given.picked_qty
        if i is not None:
            seen.add(i)
    errors += [
        field_error("lines", f"{line.sku} ({line.name}) is missing: give every line")
        for i, line in enumerate(order.lines)
        if i not in seen
    ]
    if errors:
        raise ValidationFailed("The picking result does not match the order.", details=errors)
    return [int(p) for p in picked if p is not None]


def units_accounting(order: OrderModel, units: dict[int, int]) -> list[Any]:
    """Detail actions that count ``units`` as refunded when their refund amounts to 0 fen
    (refunds.plan makes no plan then), so later refunds of the line start at the right
    unit of its per-unit split."""
    return [line_path(i).refunded_units.add(n) for i, n in sorted(units.items()) if n > 0]


def pick(principal: Principal, order_id: str, body: w.PickResult) -> s.Order:
    """picking (or paid) -> picked, with the quantities found. Missing units are refunded
    (delivery fee kept); when nothing at all was found the order is cancelled and refunded
    in full. From paid, start_picking is recorded first, in the same write."""
    order = store_order(principal, order_id)
    _not_held(order)
    ORDER.path("finish_picking", order.status)  # 409 before judging the lines
    picked = _picked_quantities(order, body)
    refund_id = f"{order.order_id}:shortage"
    short = {i: int(line.qty) - picked[i] for i, line in enumerate(order.lines)}
    short = {i: n for i, n in short.items() if n > 0}
    # The head records the short lines: picking a whole basket writes no detail.
    extra: list[Any] = [OrderModel.short_picked.set(short_picks(order, picked))]
    if not any(picked):
        action = "cancel_out_of_stock"
        reason: str | None = "none of the goods could be picked"
        plan = refunds.full(order, refund_id, "shortage")
    else:
        action = "finish_picking"
        reason = f"{sum(short.values())} units short" if short else None
        plan = refunds.plan(order, refund_id, "shortage", short) if short else None
    if plan:
        extra += plan.order_actions
    detail = plan.detail_actions if plan else units_accounting(order, short)
    # A partial shortage changes what goes in the bag and what was paid: the store prints
    # an amendment slip (改单) citing the ticket, in the same transaction.
    slip = (
        print_jobs.new_job(order, "amendment", {"slip"})
        if short and action == "finish_picking"
        else None
    )
    if slip:
        extra += print_jobs.add_to_order(slip)

    # Nothing picked is a full refund: coupons, flash units and budgets go back too.
    give_back = (
        promotions_checkout.give_back(order, paid=True) if action == "cancel_out_of_stock" else []
    )

    def also(tx: Tx) -> None:
        tx.add(*give_back)
        if plan is not None:
            tx.save(plan.refund, condition=RefundModel.refund_id.does_not_exist(), label="refund")
            tx.add(*plan.pieces)  # its stored-value share back to the balance
        if slip is not None:
            tx.save(slip, condition=type(slip).job_id.does_not_exist(), label="slip")

    try:
        updated = order_flow.apply(
            order,
            ORDER.path(action, order.status),
            principal,
            reason,
            extra=extra,
            also=also if plan or slip or give_back else None,
            explain_as=action,
            detail=detail,
        )
    except TransactionCancelled as exc:
        # order_flow.apply explains the order's own condition; any other piece refused
        # (a refund or slip already written, a coupon moved) is the same race: explain it.
        if exc.failed:
            order_flow.explain_refusal(order, action)
        raise
    if plan:
        # Three round trips in all: the order, the transaction, the refund's outcome.
        total = refunds.provider_total(order) or refunds.provider_part(plan.refund)
        refunds.execute(refund_id, total, written=plan.refund)
    return orders.view(updated, principal)


def _order_at_store(principal: Principal, store_id: str, order_code: str) -> OrderModel:
    require_store_access(principal, store_id)
    order_id = order_code.strip().upper()
    try:
        order = order_flow.get(order_id)
    except NotFound:
        order = None
    if order is None or order.store_id != store_id:
        raise NotFound(
            f"No order {order_id!r} at this store; check that the ticket belongs here.",
            code="order_not_found",
        )
    return order


# What follows the checkout in the same write, by fulfilment: a pickup order always waits
# at the counter; a delivery order goes to the courier when the cashier asks (``then``).
HAND_OVER = {"delivery": "dispatch", "pickup": "ready_for_pickup"}


def _replayed(order: OrderModel, steps: list[str], principal: Principal) -> bool:
    """Whether ``order`` already went through exactly ``steps`` last, by ``principal``: a
    retried checkout (the answer was lost, or a double tap) finds its own work done."""
    tail = list(order.history or [])[-len(steps) :]
    return [h.action for h in tail] == steps and all(h.actor == principal.subject for h in tail)


def checkout(principal: Principal, store_id: str, body: w.Checkout) -> s.Order:
    """picked -> checked_out at the POS (the cashier scans the ticket's order code).
    Pickup orders go on to ready_for_pickup in the same write; delivery orders to
    out_for_delivery when ``then`` is ``dispatch``. A retry by the same account after
    the write succeeded answers the order as it is."""
    order = _order_at_store(principal, store_id, body.order_code)
    hand_over = HAND_OVER[str(order.fulfilment)]
    if body.then is not None and body.then != hand_over:
        raise Conflict(
            f"A {order.fulfilment} order cannot be checked out with then={body.then}: "
            f"send then={hand_over}, or leave it out.",
            code="fulfilment_mismatch",
            details={"fulfilment": order.fulfilment, "then": body.then, "allowed": [hand_over]},
        )
    steps = ["checkout"]
    if order.fulfilment == "pickup" or body.then is not None:
        steps.append(hand_over)
    if _replayed(order, steps, principal):
        return orders.view(order, principal)
    try:
        updated = order_flow.apply(order, steps, principal)
    except Conflict:
        current = order_flow.get(order.order_id)
        if _replayed(current, steps, principal):
            return orders.view(current, principal)
        raise
    return orders.view(updated, principal)


def dispatch(principal: Principal, order_id: str) -> s.Order:
    """checked_out -> out_for_delivery: handed to the courier."""
    order = store_order(principal, order_id)
    return orders.view(order_flow.apply(order, "dispatch", principal), principal)


def dispatch_many(
    principal: Principal, store_id: str, body: w.BulkDispatch
) -> w.BulkDispatchResult:
    """checked_out -> out_for_delivery for several of the store's orders handed to one
    courier. Dispatch is safe to batch: it moves no money or stock and each order is its
    own conditional write, so one order that cannot move (not checked out, a pickup
    order, another store's) is reported with why and does not stop the others. An order
    already out for delivery with dispatch as its last step is reported as
    ``already_dispatched``, not failed: a retried request finds its own work done.

    Unlike a single dispatch (the store's hot path: the order's history is its record),
    a bulk dispatch is a head-office-style change of many orders at once: each dispatched
    order also records an audit entry, in the same transaction as its transition."""
    require_store_access(principal, store_id)
    results = [
        _dispatch_one(principal, store_id, order_id, body.courier)
        for order_id in dict.fromkeys(o.strip().upper() for o in body.order_ids)
    ]
    return w.BulkDispatchResult(
        dispatched=sum(r.result == "dispatched" for r in results),
        already_dispatched=sum(r.result == "already_dispatched" for r in results),
        failed=sum(r.result == "failed" for r in results),
        results=results,
    )


def _dispatched(order: OrderModel) -> bool:
    history = list(order.history or [])
    return order.status == "out_for_delivery" and bool(history) and history[-1].action == "dispatch"


def _dispatch_one(
    principal: Principal, store_id: str, order_id: str, courier: str | None
) -> w.BulkOrderResult:
    try:
        order: OrderModel | None = order_flow.get(order_id)
    except NotFound:
        order = None
    if order is None or order.store_id != store_id:
        return w.BulkOrderResult(
            order_id=order_id,
            result="failed",
            code="order_not_found",
            message=f"No order {order_id!r} at this store.",
        )
    if _dispatched(order):
        return w.BulkOrderResult(
            order_id=order_id, result="already_dispatched", status=str(order.status)
        )
    after = {"status": "out_for_delivery", **({"courier": courier} if courier else {})}
    entry = audit.new_entry(
        principal,
        "order.dispatch",
        audit.Target("order", order_id, store_id),
        {"status": str(order.status)},
        after,
        # The place this transition takes in the order's history: one entry per
        # transition, whoever retries it.
        key=f"history#{len(order.history or [])}",
    )
    reason = f"courier: {courier}" if courier else None
    try:
        updated = order_flow.apply(
            order, "dispatch", principal, reason, also=lambda tx: audit.with_entry(tx, entry)
        )
    except Conflict as err:
        current = order_flow.get(order_id)
        if _dispatched(current):  # a concurrent request dispatched it first
            return w.BulkOrderResult(
                order_id=order_id, result="already_dispatched", status=str(current.status)
            )
        return w.BulkOrderResult(
            order_id=order_id,
            result="failed",
            status=str(current.status),
            code=err.code,
            message=err.message,
        )
    return w.BulkOrderResult(order_id=order_id, result="dispatched", status=str(updated.status))


def deliver(principal: Principal, order_id: str) -> s.Order:
    """out_for_delivery -> delivered; the order completes by itself after
    AUTO_COMPLETE_DAYS unless the customer confirms receipt first."""
    order = store_order(principal, order_id)
    due = int(clock.now().timestamp()) + config.AUTO_COMPLETE_DAYS * 86400
    # due_at without a due_kind: not in by_due (an index write saved); the order moves to
    # the delivered bucket in this write, which auto_complete_due reads.
    extra = [OrderModel.due_at.set(due)]
    return orders.view(order_flow.apply(order, "deliver", principal, extra=extra), principal)


def collect_pickup(principal: Principal, store_id: str, body: w.Pickup) -> s.Order:
    """ready_for_pickup -> completed: the counter checks the customer's pickup code."""
    require_store_access(principal, store_id)
    matches = [
        o
        for o in OrderModel.by_store_queue.query(
            f"{store_id}#{order_queue('ready_for_pickup')}",
            filter_condition=(OrderModel.status == "ready_for_pickup")
            & (OrderModel.pickup_code == body.pickup_code),
        )
        if body.order_code is None or o.order_id == body.order_code.strip().upper()
    ]
    if not matches:
        raise NotFound(
            f"No order waiting for pickup at this store has the code {body.pickup_code}; "
            "check the code with the customer (it is on their order page).",
            code="pickup_code_not_found",
        )
    if len(matches) > 1:
        raise Conflict(
            f"{len(matches)} orders waiting for pickup share this code; scan the customer's "
            "ticket or ask for the order number and send it as order_code.",
            code="pickup_code_ambiguous",
            details={
                "orders": [
                    {
                        "order_id": o.order_id,
                        "daily_seq": None if o.daily_seq is None else int(o.daily_seq),
                    }
                    # the index holds keys and the code: read the orders for their numbers
                    for o in orders.load_many([m.order_id for m in matches])
                ]
            },
        )
    order = order_flow.get(matches[0].order_id)
    return orders.view(
        order_flow.apply(order, "collect", principal, "pickup code checked"), principal
    )


def confirm_receipt(principal: Principal, order_id: str) -> s.Order:
    """delivered -> completed, by the customer whose order it is."""
    order = order_flow.get(order_id)
    if principal.role != CUSTOMER or order.customer_id != principal.subject:
        raise _not_found(order_id)
    return orders.view(
        order_flow.apply(order, "confirm_receipt", principal, extra=_due_cleared()), principal
    )


_LAST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: "everything" for a job run by hand


def _due_cleared() -> list[Any]:
    # due_kind too: an order delivered by an older release is also in by_due ("complete").
    return [OrderModel.due_kind.remove(), OrderModel.due_at.remove()]


def auto_complete_due(now_epoch: int | None = None, limit: int = 1000) -> int:
    """Scheduled (hourly): complete delivered orders whose customer did not confirm within
    AUTO_COMPLETE_DAYS of delivery. Returns how many completed (at most ``limit``).

    Reads each store's delivered bucket of by_store_queue, oldest first, and only the
    orders placed at least AUTO_COMPLETE_DAYS ago (a key condition: an order is delivered
    after it is placed, so none placed since can be due); each such order is read and
    completed when its due_at has passed. One Query per store, no index of its own."""
    now_epoch = int(now_epoch if now_epoch is not None else clock.now().timestamp())
    days = config.AUTO_COMPLETE_DAYS * 86400
    placed_by = datetime.fromtimestamp(min(now_epoch - days, _LAST_EPOCH), UTC)
    placed_by_key = placed_by.strftime("%Y-%m-%dT%H:%M:%S.999Z")  # created_at's form
    done = 0
    for store in StoreModel.by_listing.query("stores"):  # every store, closed ones too
        for entry in OrderModel.by_store_queue.query(
            f"{store.store_id}#{DELIVERED_QUEUE}",
            OrderModel.created_at <= placed_by_key,
            scan_index_forward=True,
        ):
            if done >= limit:
                return done
            order = order_flow.get(entry.order_id)
            if order.status != "delivered" or order.due_at is None:
                continue
            if int(order.due_at) > now_epoch:
                continue  # placed long ago but delivered lately: not due yet
            try:
                order_flow.apply(
                    order,
                    "auto_complete",
                    order_flow.SYSTEM,
                    f"not confirmed within {config.AUTO_COMPLETE_DAYS} days",
                    extra=_due_cleared(),
                )
                done += 1
            except Conflict:
                continue  # confirmed by the customer at the same moment
    return done
