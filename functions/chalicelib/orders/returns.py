"""Returns (退货) of completed orders, and their refunds.

Rules:

* A return is opened on lines of a **completed** order, by the customer (the storefront)
  or by the store's staff recording the customer's call. A line can take back at most the
  units picked for it, less the units of its earlier returns that were not rejected;
  asking for more is 422 naming the line.
* **Fresh goods** (生鲜) are refunded at once: the return record (entering in
  ``refund_at_once`` and moving on to ``refunded``), the order's refund accounting and the
  refund record are one transaction. **Other goods** wait in ``awaiting_verification``;
  staff verify (or reject, with a reason), then collect them at the door or receive them
  at the service desk; the refund is created in the same transaction as that last step.
* A request with both kinds of lines opens **two returns** in one transaction: one for
  the fresh lines (refunded at once), one for the others (awaiting verification). Each
  return has one state and at most one refund.
* Refunds follow refunds.plan: each unit refunds its share of what the line paid
  (discounts deducted), so a line never refunds more than it paid and returning all of it
  refunds exactly what it paid. The **delivery fee is not refunded** on a return: the
  delivery took place.
* **Concurrency**: returns of an order are numbered ``<order id>-R1``, ``-R2``... and read
  by key (consistently) with the order; opening one is a transaction that puts the next
  number (only if it does not exist) and updates the order under its version attribute.
  Two staff recording returns at once: one transaction wins, the other re-reads and
  either succeeds on what is left or gets the 422. The refund at the end of verification
  is also conditioned on the order's version, so per-unit refund amounts are computed
  from the line's current refund count.
* **Idempotency**: opening a return needs an ``Idempotency-Key``; retrying with it
  returns the returns it opened and never refunds twice. Every later step is a state
  transition (a repeat is 409) and refund ids are derived from the return
  (``<order id>:return:<return id>``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import msgspec
from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import CUSTOMER, STAFF_ROLES, Principal, shown_actor
from chalicelib.checkout import reprice
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    field_error,
)
from chalicelib.kernel.states import RETURN, RETURN_FRESH_ENTRY, RETURN_OTHER_ENTRY
from chalicelib.orders import order_flow, refunds
from chalicelib.orders import returns_schemas as r
from chalicelib.orders import schemas as s
from chalicelib.orders.models import (
    IdempotencyModel,
    OrderDetailModel,
    OrderModel,
    RefundModel,
    ReturnLineAttribute,
    ReturnModel,
)
from chalicelib.orders.service import IDEMPOTENCY_KEY, encode_cursor
from chalicelib.stores.models import StoreModel

ATTEMPTS = 12  # tries to open a return or refund one while other writes move the order
QUEUE_WORKERS = 8  # concurrent queries of the returns queue (one per store)
_BATCH = 10  # returns of an order read per round trip (most orders have none or one)
_ID = re.compile(r"^(?P<order>[0-9A-Z]{1,32})-R(?P<n>[1-9]\d{0,5})$")


# --- reading ------------------------------------------------------------------------


def _seq(return_id: str) -> int:
    m = _ID.match(return_id)
    return int(m.group("n")) if m else 0


def load(order_id: str) -> tuple[OrderModel, list[ReturnModel]]:
    """The order and all its returns in number order, read consistently (by key: the
    returns are numbered R1, R2, ... without gaps)."""
    order: OrderModel | None = None
    found: list[ReturnModel] = []
    start = 1
    while True:
        keys: dict[Any, list[dict[str, Any]]] = {
            ReturnModel: [{"return_id": f"{order_id}-R{n}"} for n in range(start, start + _BATCH)]
        }
        if order is None:
            keys[OrderModel] = keys[OrderDetailModel] = [{"order_id": order_id}]
        got = batch_get(keys)
        if order is None:
            if not got[OrderModel] or not got[OrderDetailModel]:
                raise NotFound(f"No order {order_id!r}.", code="order_not_found")
            order = got[OrderModel][0].attach(got[OrderDetailModel][0])
        batch = got[ReturnModel]
        found.extend(batch)
        if len(batch) < _BATCH:
            break
        start += _BATCH
    assert order is not None
    return order, sorted(found, key=lambda x: _seq(x.return_id))


def _may_see(principal: Principal, store_id: str, customer_id: str) -> bool:
    if principal.role == CUSTOMER:
        return customer_id == principal.subject
    return principal.is_hq or (principal.role in STAFF_ROLES and principal.store_id == store_id)


def _visible_return(principal: Principal, return_id: str) -> ReturnModel:
    """The return if the principal may see it; 404 otherwise (ids are not probed)."""
    try:
        ret = ReturnModel.get(return_id, consistent_read=True)
    except DoesNotExist:
        ret = None
    if ret is None or not _may_see(principal, ret.store_id, ret.customer_id):
        raise NotFound(f"No return {return_id!r}.", code="return_not_found")
    return ret


def views(
    returns: list[ReturnModel], order: OrderModel | None = None, viewer: Principal | None = None
) -> list[r.Return]:
    """API views, with product names from the order and the state of each refund; one
    BatchGetItem for all of them. A customer ``viewer`` sees no staff login names."""
    orders: dict[str, OrderModel] = {order.order_id: order} if order else {}
    want_orders = sorted({x.order_id for x in returns} - set(orders))
    want_refunds = sorted({x.refund_id for x in returns if x.refund_id})
    if want_orders or want_refunds:
        got = batch_get(
            {
                OrderModel: [{"order_id": o} for o in want_orders],
                OrderDetailModel: [{"order_id": o} for o in want_orders],
                RefundModel: [{"refund_id": i} for i in want_refunds],
            }
        )
        details = {d.order_id: d for d in got[OrderDetailModel]}
        orders.update(
            {
                o.order_id: o.attach(details[o.order_id])
                for o in got[OrderModel]
                if o.order_id in details
            }
        )
        refund_by_id = {x.refund_id: x for x in got[RefundModel]}
    else:
        refund_by_id = {}
    return [
        _view(x, orders.get(x.order_id), refund_by_id.get(x.refund_id), viewer) for x in returns
    ]


def _view(
    ret: ReturnModel,
    order: OrderModel | None,
    refund: RefundModel | None,
    viewer: Principal | None = None,
) -> r.Return:
    def who(actor: str, role: str) -> str:
        return actor if viewer is None else shown_actor(actor, role, viewer)

    names = {line.sku: line.name for line in order.lines} if order else {}
    deducted = int(refund.deducted_fen or 0) if refund else 0
    refunded = {line.sku: int(line.amount_fen) for line in refund.lines} if refund else {}
    return r.Return(
        return_id=ret.return_id,
        order_id=ret.order_id,
        store_id=ret.store_id,
        customer_id=ret.customer_id,
        status=ret.status,
        lines=[
            r.ReturnLine(
                sku=line.sku,
                name=names.get(line.sku),
                units=int(line.units),
                fresh=bool(line.fresh),
                refund_fen=refunded.get(line.sku),
            )
            for line in ret.lines
        ],
        reason=ret.reason,
        requested_by=who(ret.requested_by, _requester_role(ret)),
        refund=None
        if refund is None
        else r.ReturnRefund(
            refund_id=refund.refund_id, amount_fen=int(refund.amount_fen), status=refund.status
        ),
        history=s.history_view(ret.history, who),
        created_at=ret.created_at,
        updated_at=ret.updated_at,
        refund_deducted_fen=deducted,
        refund_deduction=reprice.deduction_line(deducted),
    )


def _requester_role(ret: ReturnModel) -> str:
    """The role of who opened the return: its first history entry records it."""
    return ret.history[0].role if ret.history else "store_staff"


def get(principal: Principal, return_id: str) -> r.Return:
    """One return: the customer's own, their store's for staff, any for head office."""
    return views([_visible_return(principal, return_id)], viewer=principal)[0]


def of_order(principal: Principal, order_id: str) -> r.ReturnList:
    """Every return of an order the principal may see (404 otherwise)."""
    order, returns = load(order_id)
    if not _may_see(principal, order.store_id, order.customer_id):
        raise NotFound(f"No order {order_id!r}.", code="order_not_found")
    return r.ReturnList(items=views(returns, order, principal))


def list_store(principal: Principal, store_id: str, query: r.StoreReturnQuery) -> r.ReturnPage:
    """A store's returns in one status, oldest first (its return work queue)."""
    if not principal.can_act_for_store(store_id):
        raise Forbidden(
            "Your account belongs to another store.",
            code="other_store",
            details={"store_id": store_id},
        )
    if query.status not in RETURN.states():
        raise ValidationFailed(
            f"Unknown return status {query.status!r}.",
            details=[field_error("status", f"one of {', '.join(sorted(RETURN.states()))}")],
        )
    queue = f"{store_id}#{query.status}"
    results = ReturnModel.by_store_status.query(
        queue,
        scan_index_forward=True,
        limit=query.limit,
        page_size=query.limit,
        last_evaluated_key=cursors.decode(
            query.cursor, ("return_id", "store_status", "created_at"), {"store_status": queue}
        ),
    )
    items = list(results)
    more = len(items) == query.limit and results.last_evaluated_key
    return r.ReturnPage(
        items=views(items),
        next_cursor=encode_cursor(results.last_evaluated_key) if more else None,
    )


_RETURN_KEY = ("return_id", "store_status", "created_at")


def _queue_stores(principal: Principal, store_id: str | None) -> list[str]:
    """The stores whose queues the user sees: one asked for (if theirs), else every store
    for head office (one Query of the listing) and their own for store roles."""
    if store_id is not None:
        if not principal.can_act_for_store(store_id):
            raise Forbidden(
                "Your account belongs to another store.",
                code="other_store",
                details={"store_id": store_id},
            )
        return [store_id]
    if principal.is_hq:
        return sorted(m.store_id for m in StoreModel.by_listing.query("stores"))
    return [principal.store_id] if principal.store_id else []


def _queue_positions(cursor: str | None, stores: list[str], status: str) -> dict[str, Any]:
    """Store -> the key its queue resumes after (None: from its start). A store missing
    from a cursor is exhausted. The cursor is input: each position is checked like a
    single-store cursor, and a store the user may not see is ``bad_cursor``."""
    if not cursor:
        return dict.fromkeys(stores)
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        raw = None
    if (
        not isinstance(raw, dict)
        or raw.get("status") != status
        or not isinstance(raw.get("at"), dict)
        or not set(raw["at"]) <= set(stores)
    ):
        raise cursors.foreign()
    positions: dict[str, Any] = {}
    for store, inner in raw["at"].items():
        if inner is not None and not isinstance(inner, str):
            raise cursors.foreign()
        positions[store] = cursors.decode(inner, _RETURN_KEY, {"store_status": f"{store}#{status}"})
    return positions


def _queue_cursor(positions: dict[str, Any], status: str) -> str | None:
    if not positions:
        return None
    at = {store: cursors.encode(key) for store, key in positions.items()}
    raw = json.dumps({"status": status, "at": at}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _key_of(ret: ReturnModel) -> dict[str, Any]:
    return {
        "return_id": {"S": ret.return_id},
        "store_status": {"S": ret.store_status},
        "created_at": {"S": ret.created_at},
    }


def queue(principal: Principal, query: r.ReturnQueueQuery) -> r.ReturnPage:
    """Returns in one status across the stores the user may see, oldest first: each
    store's ``by_store_status`` bucket is queried from its position (at most ``limit``
    items each) and the pages are merged; the cursor holds every store's position."""
    if query.status not in RETURN.states():
        raise ValidationFailed(
            f"Unknown return status {query.status!r}.",
            details=[field_error("status", f"one of {', '.join(sorted(RETURN.states()))}")],
        )
    stores = _queue_stores(principal, query.store_id)
    positions = _queue_positions(query.cursor, stores, query.status)

    def bucket(item: tuple[str, Any]) -> list[ReturnModel]:
        store, start = item
        return list(
            ReturnModel.by_store_status.query(
                f"{store}#{query.status}",
                scan_index_forward=True,
                limit=query.limit,
                page_size=query.limit,
                last_evaluated_key=start,
            )
        )

    # the stores' buckets concurrently (as search/service.py): one query's latency
    with ThreadPoolExecutor(max_workers=max(1, min(QUEUE_WORKERS, len(positions)))) as pool:
        fetched = dict(zip(positions, pool.map(bucket, positions.items()), strict=True))
    merged = sorted(
        (ret for items in fetched.values() for ret in items),
        key=lambda x: (x.created_at, x.store_id),  # stable: a store's own order is kept
    )
    page = merged[: query.limit]
    taken: dict[str, int] = {}
    for ret in page:
        taken[ret.store_id] = taken.get(ret.store_id, 0) + 1
    after: dict[str, Any] = {}
    for store, items in fetched.items():
        n = taken.get(store, 0)
        if n == 0:
            if items:  # nothing of this store shown yet: it resumes where it was
                after[store] = positions[store]
        elif n < len(items) or len(items) == query.limit:  # more may follow in this store
            after[store] = _key_of(items[n - 1])
    return r.ReturnPage(items=views(page), next_cursor=_queue_cursor(after, query.status))


# --- opening a return -----------------------------------------------------------------


def returnable(order: OrderModel, returns: list[ReturnModel]) -> list[int]:
    """Per line: units picked less units of returns not rejected."""
    claimed: dict[str, int] = {}
    for ret in returns:
        if ret.status != "rejected":
            for line in ret.lines:
                claimed[line.sku] = claimed.get(line.sku, 0) + int(line.units)
    out = []
    for ordered in order.lines:
        picked = int(ordered.qty if ordered.picked_qty is None else ordered.picked_qty)
        out.append(picked - claimed.get(ordered.sku, 0))
    return out


def _checked_units(
    order: OrderModel, returns: list[ReturnModel], body: r.ReturnRequest
) -> dict[int, int]:
    """{line index: units} of the request; 409 unless the order is completed, 422 naming
    each line asked for more than it can return."""
    if order.status != "completed":
        raise Conflict(
            f"Returns are taken on completed orders; this order is "
            f"{order.status.replace('_', ' ')}."
            + (" Confirm receipt first." if order.status == "delivered" else ""),
            code="order_not_completed",
            details={"status": order.status},
        )
    index = {line.sku: i for i, line in enumerate(order.lines)}
    left = returnable(order, returns)
    units: dict[int, int] = {}
    errors = []
    for j, item in enumerate(body.lines):
        i = index.get(item.sku)
        if i is None:
            errors.append(field_error(f"lines[{j}].sku", f"{item.sku} is not in this order"))
        elif i in units:
            errors.append(field_error(f"lines[{j}].sku", f"{item.sku} is given twice"))
        elif item.units > left[i]:
            line = order.lines[i]
            picked = int(line.qty if line.picked_qty is None else line.picked_qty)
            errors.append(
                field_error(
                    f"lines[{j}].units",
                    f"{item.sku} ({line.name}): {left[i]} of the {picked} units delivered "
                    f"can still be returned, not {item.units}",
                )
            )
        else:
            units[i] = item.units
    if errors:
        raise ValidationFailed("Some lines cannot be returned as asked.", details=errors)
    return units


def refund_actions(
    order: OrderModel, refund_id: str, units: dict[int, int]
) -> tuple[Any, list, list]:
    """(refund plan or None, order actions, detail actions) for refunding ``units`` of
    lines, the order's re-evaluated discounts deducting what is no longer earned
    (docs/promotions.md "Refund rule"); units refunding 0 fen are still counted so later
    refunds start at the right unit."""
    plan = refunds.plan(order, refund_id, "return", units, reevaluate=True)
    if plan is not None:
        return plan, plan.order_actions, plan.detail_actions
    return None, [], refunds.nothing_back(order, units)


def _update_detail(tx: Tx, order: OrderModel, actions: list) -> None:
    """The refund's per-line accounting, on the order's detail, in the order's transaction."""
    if actions:
        tx.update(
            OrderDetailModel(order.order_id),
            actions=actions,
            condition=OrderDetailModel.order_id.exists(),
            label="detail",
        )


def _new_return(
    order: OrderModel,
    n: int,
    units: dict[int, int],
    fresh: bool,
    principal: Principal,
    reason: str,
    now: str,
) -> ReturnModel:
    entry = RETURN_FRESH_ENTRY if fresh else RETURN_OTHER_ENTRY
    return ReturnModel(
        f"{order.order_id}-R{n}",
        order_id=order.order_id,
        store_id=order.store_id,
        customer_id=order.customer_id,
        lines=[
            ReturnLineAttribute(sku=order.lines[i].sku, units=u, fresh=fresh)
            for i, u in sorted(units.items())
        ],
        reason=reason,
        requested_by=principal.subject,
        status=entry,
        store_status=f"{order.store_id}#{entry}",
        history=[transitions.entry("request", None, entry, principal, reason)],
        created_at=now,
        updated_at=clock.now_iso(),
    )


def _idempotency_record(key: str) -> IdempotencyModel | None:
    try:
        return IdempotencyModel.get(key, consistent_read=True)
    except DoesNotExist:
        return None


def _replay(principal: Principal, idem: IdempotencyModel, request_hash: str) -> r.ReturnList:
    if idem.request_hash != request_hash:
        raise ValidationFailed(
            "This Idempotency-Key was used for a different request; use a new key for a "
            "new return.",
            code="idempotency_key_reused",
            details=[field_error("Idempotency-Key", "used with another body")],
        )
    # For a return key the record's order_id holds the ids of the returns it opened.
    ids = idem.order_id.split(",")
    got = batch_get({ReturnModel: [{"return_id": i} for i in ids]})[ReturnModel]
    got.sort(key=lambda x: _seq(x.return_id))
    return r.ReturnList(items=views(got, viewer=principal))


def open_return(
    principal: Principal, order_id: str, body: r.ReturnRequest, idempotency_key: str | None
) -> tuple[r.ReturnList, bool]:
    """Open the return(s) a request asks for; returns (returns, created).

    Fresh lines are refunded in the same transaction; other lines wait for verification.
    """
    if not idempotency_key or not IDEMPOTENCY_KEY.match(idempotency_key):
        raise BadRequest(
            "Send an Idempotency-Key header: 8-64 letters, digits, '_', '-', '.', ':' "
            "(e.g. a UUID), the same on every retry of this return.",
            code="idempotency_key_required",
        )
    key = f"{principal.subject}#return#{idempotency_key}"
    request_hash = hashlib.sha256(order_id.encode() + b"\n" + msgspec.json.encode(body)).hexdigest()
    for attempt in range(ATTEMPTS):
        idem = _idempotency_record(key)
        if idem is not None:
            return _replay(principal, idem, request_hash), False
        order, existing = load(order_id)
        if not _may_see(principal, order.store_id, order.customer_id):
            raise NotFound(f"No order {order_id!r}.", code="order_not_found")
        try:
            units = _checked_units(order, existing, body)
        except (ValidationFailed, Conflict):
            again = _idempotency_record(key)  # a racing retry of this request may have won
            if again is not None:
                return _replay(principal, again, request_hash), False
            raise
        fresh = {i: u for i, u in units.items() if order.lines[i].fresh}
        other = {i: u for i, u in units.items() if not order.lines[i].fresh}
        now, n = clock.now_iso_ms(), len(existing)
        opened: list[ReturnModel] = []
        plan, order_actions = None, [OrderModel.updated_at.set(clock.now_iso())]
        detail_actions: list = []
        if fresh:
            n += 1
            ret = _new_return(order, n, fresh, True, principal, body.reason, now)
            plan, actions, detail_actions = refund_actions(
                order, f"{order.order_id}:return:{ret.return_id}", fresh
            )
            order_actions += actions
            _finish(ret, "refund", principal, None, plan)
            opened.append(ret)
        if other:
            n += 1
            opened.append(_new_return(order, n, other, False, principal, body.reason, now))
        record = IdempotencyModel(
            key,
            request_hash=request_hash,
            order_id=",".join(x.return_id for x in opened),
            created_at=clock.now_iso(),
            expires_at=timedelta(hours=24),
        )

        def build(
            tx: Tx,
            order: OrderModel = order,
            actions: list = order_actions,
            detail_actions: list = detail_actions,
            opened: list[ReturnModel] = opened,
            plan: Any = plan,
            record: IdempotencyModel = record,
        ) -> None:
            tx.save(record, condition=IdempotencyModel.key.does_not_exist(), label="key")
            # conditioned on the order's version
            tx.update(order, actions=actions, label="order")
            _update_detail(tx, order, detail_actions)
            for ret in opened:
                tx.save(
                    ret,
                    condition=ReturnModel.return_id.does_not_exist(),
                    label=f"return:{ret.return_id}",
                )
            if plan is not None:
                tx.save(
                    plan.refund, condition=RefundModel.refund_id.does_not_exist(), label="refund"
                )
                tx.add(*plan.pieces)  # its stored-value share back to the balance
            for ret in opened:
                refunded = plan if ret.refund_id else None
                _audit(tx, principal, "open", ret, None, str(ret.status), refunded)

        try:
            transact(build)
        except TransactionCancelled as exc:
            if "key" in exc.failed:
                continue  # the same request won meanwhile: replayed at the top
            if exc.codes & {"ConditionalCheckFailed", "TransactionConflict"}:
                _pause(attempt)  # another return or change of the order won: read again
                continue
            raise
        if plan is not None:
            refunds.execute(plan.refund.refund_id)
        return r.ReturnList(items=views(opened, order, principal)), True
    raise Conflict(
        "The order is being changed by others right now; try again.", code="order_changed"
    )


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))


def _audit(
    tx: Tx,
    principal: Principal,
    action: str,
    ret: ReturnModel,
    before: str | None,
    after: str,
    plan: Any,
    reason: str | None = None,
) -> None:
    """Audit entries of a staff step on a return (``return.<action>``), and of the refund
    it creates (``refund.create``), in the step's transaction. Keyed by the step: a return
    takes each step once. A customer's own request is not an admin change: not logged."""
    if principal.role == CUSTOMER:
        return
    target = audit.Target("return", ret.return_id, ret.store_id)
    after_fields: dict[str, Any] = {"status": after, "order_id": ret.order_id}
    if action == "open":
        after_fields["lines"] = [f"{x.sku} x{int(x.units)}" for x in ret.lines]
    if reason:
        after_fields["reason"] = reason
    before_fields = {"status": before, "order_id": ret.order_id}
    name = "receive" if action == "receive_at_counter" else action  # as the route says
    audit.add(tx, principal, f"return.{name}", target, before_fields, after_fields, key=action)
    if plan is not None:
        refund = plan.refund
        audit.add(
            tx,
            principal,
            "refund.create",
            audit.Target("refund", refund.refund_id, ret.store_id),
            {},
            {
                "amount_fen": int(refund.amount_fen),
                "order_id": refund.order_id,
                "return_id": ret.return_id,
                "reason": refund.reason,
            },
            key="create",
        )


# --- moving a return on -------------------------------------------------------------


def _finish(
    ret: ReturnModel, action: str, principal: Principal, reason: str | None, plan: Any
) -> None:
    """Move a return that is being created (not yet written) on by one action."""
    to = RETURN.target(action, ret.status)
    ret.history = [*ret.history, transitions.entry(action, ret.status, to, principal, reason)]
    ret.status = to
    ret.store_status = f"{ret.store_id}#{to}"
    if plan is not None:
        ret.refund_id = plan.refund.refund_id


def _transition_actions(
    ret: ReturnModel, steps: list[tuple[str, str | None]], principal: Principal
) -> tuple[list[Any], Any]:
    """(update actions, condition) moving the return through ``steps`` in one write, on
    condition that it is still in the state it was read in."""
    move = transitions.move(ReturnModel, RETURN, str(ret.status), steps, principal, exact=True)
    return [
        *move.actions,
        ReturnModel.store_status.set(f"{ret.store_id}#{move.to}"),
    ], move.condition


def _explain(return_id: str, action: str) -> None:
    current = ReturnModel.get(return_id, consistent_read=True)
    RETURN.target(action, current.status)  # 409 illegal_transition from where it is now
    raise Conflict("The return changed at the same time; reload and retry.", code="return_changed")


def _staff_return(principal: Principal, return_id: str) -> ReturnModel:
    ret = _visible_return(principal, return_id)
    if principal.role == CUSTOMER:  # routes do not let customers here; belt and braces
        raise NotFound(f"No return {return_id!r}.", code="return_not_found")
    return ret


def verify(principal: Principal, return_id: str) -> r.Return:
    """awaiting_verification -> verified: the store accepts the return (e.g. after
    checking the customer's photos or call)."""
    return _simple(principal, return_id, "verify", None)


def reject(principal: Principal, return_id: str, reason: str) -> r.Return:
    """awaiting_verification or verified -> rejected, with the reason told to the customer.
    The units become returnable again."""
    return _simple(principal, return_id, "reject", reason)


def _simple(principal: Principal, return_id: str, action: str, reason: str | None) -> r.Return:
    ret = _staff_return(principal, return_id)
    actions, condition = _transition_actions(ret, [(action, reason)], principal)
    to = RETURN.target(action, str(ret.status))

    def build(tx: Tx) -> None:
        tx.update(ret, actions=actions, condition=condition, label="return")
        _audit(tx, principal, action, ret, str(ret.status), to, None, reason)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "return" in exc.failed:
            _explain(return_id, action)
        raise
    return views([ReturnModel.get(return_id, consistent_read=True)])[0]


def receive(principal: Principal, return_id: str, action: str) -> r.Return:
    """verified -> goods_received -> refunded in one transaction with the order's refund
    accounting and the refund record. ``action``: ``collect`` (at the door) or
    ``receive_at_counter`` (at the service desk)."""
    ret = _staff_return(principal, return_id)
    for attempt in range(ATTEMPTS):
        if attempt:
            ret = ReturnModel.get(return_id, consistent_read=True)
        RETURN.target(action, ret.status)  # 409 if it is not (or no longer) verified
        order = order_flow.get(ret.order_id)
        index = {line.sku: i for i, line in enumerate(order.lines)}
        units = {index[line.sku]: int(line.units) for line in ret.lines}
        refund_id = f"{order.order_id}:return:{ret.return_id}"
        try:
            plan, order_actions, detail_actions = refund_actions(order, refund_id, units)
        except ValueError:
            # The order already counts these units as refunded: a concurrent press
            # finished this return after ``ret`` was read. Look at the return again: 409
            # from where it is now, or retry if it has somehow not moved.
            _pause(attempt)
            ret = ReturnModel.get(return_id, consistent_read=True)
            RETURN.target(action, ret.status)
            continue
        actions, condition = _transition_actions(ret, [(action, None), ("refund", None)], principal)
        if plan is not None:
            actions.append(ReturnModel.refund_id.set(refund_id))
        order_actions = [*order_actions, OrderModel.updated_at.set(clock.now_iso())]

        def build(
            tx: Tx,
            order: OrderModel = order,
            order_actions: list = order_actions,
            detail_actions: list = detail_actions,
            actions: list = actions,
            condition: Any = condition,
            plan: Any = plan,
            ret: ReturnModel = ret,
        ) -> None:
            tx.update(ret, actions=actions, condition=condition, label="return")
            # conditioned on the order's version
            tx.update(order, actions=order_actions, label="order")
            _update_detail(tx, order, detail_actions)
            if plan is not None:
                tx.save(
                    plan.refund, condition=RefundModel.refund_id.does_not_exist(), label="refund"
                )
                tx.add(*plan.pieces)  # its stored-value share back to the balance
            _audit(tx, principal, action, ret, str(ret.status), "refunded", plan)

        try:
            transact(build)
        except TransactionCancelled as exc:
            # Whatever failed (the return moved, or the order did), read both again.
            if exc.codes & {"ConditionalCheckFailed", "TransactionConflict"}:
                _pause(attempt)
                continue
            raise
        if plan is not None:
            refunds.execute(refund_id)
        return views([ReturnModel.get(return_id, consistent_read=True)], order)[0]
    raise Conflict(
        "The order is being changed by others right now; try again.", code="order_changed"
    )
