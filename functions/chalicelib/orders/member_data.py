"""What orders hold on one member, for members' export, deletion and admin profile
(members/providers.py names these functions; members sits below orders, so it imports
them by name)."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.orders import order_flow
from chalicelib.orders.models import AddressAttribute, OrderDetailModel, OrderModel

ERASED = "已注销"  # what an erased member's order shows as receiver and address


def _order_ids(customer_id: str, limit: int | None = None) -> list[str]:
    keys = OrderModel.by_customer.query(customer_id, scan_index_forward=False, limit=limit)
    return [k.order_id for k in keys]


def _heads(order_ids: list[str]) -> list[OrderModel]:
    found: dict[str, OrderModel] = {}
    for start in range(0, len(order_ids), 50):
        found.update(order_flow.read_many(order_ids[start : start + 50]))
    return [found[o] for o in order_ids if o in found]


def _summary(o: OrderModel) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "store_id": o.store_id,
        "status": o.status,
        "total_fen": int(o.total_fen),
        "refunded_fen": int(o.refunded_fen or 0),
        "created_at": o.created_at,
    }


def export_orders(customer_id: str) -> list[dict[str, Any]]:
    """Every order of the member: amounts, lines, the address it went to."""
    out = []
    for o in _heads(_order_ids(customer_id)):
        a = o.address
        out.append(
            {
                **_summary(o),
                "fulfilment": o.fulfilment,
                "lines": [
                    {"sku": line.sku, "name": line.name, "qty": int(line.qty)} for line in o.lines
                ],
                "address": None
                if a is None
                else {"name": a.name, "phone": a.phone, "line": a.line, "lat": a.lat, "lng": a.lng},
                "remark": o.remark,
            }
        )
    return out


def recent_orders(customer_id: str, store_id: str | None, limit: int = 10) -> list[dict[str, Any]]:
    """The member's latest orders (of one store, for a store manager)."""
    ids = _order_ids(customer_id, limit=limit if store_id is None else limit * 5)
    heads = [o for o in _heads(ids) if store_id is None or o.store_id == store_id]
    return [_summary(o) for o in heads[:limit]]


def store_of_own_order(customer_id: str, order_id: str) -> str | None:
    """The store of the order if it is the member's own, else None."""
    try:
        o = OrderModel.get(order_id)
    except DoesNotExist:
        return None
    return o.store_id if o.customer_id == customer_id else None


def anonymise_orders(customer_id: str) -> int:
    """Replace the receiver's name, phone, address and coordinates and drop the remark on
    every order of the member; amounts, lines and history stay for accounting. Idempotent.
    Returns how many order details changed."""
    changed = 0
    for o in _heads(_order_ids(customer_id)):
        a = o.address
        needs = (a is not None and a.name != ERASED) or o.remark
        if not needs:
            continue
        actions: list[Any] = [OrderDetailModel.remark.remove()]
        if a is not None:
            blank = AddressAttribute(name=ERASED, phone="", line=ERASED, lat=0, lng=0)
            actions.append(OrderDetailModel.address.set(blank))
        try:
            OrderDetailModel(o.order_id).update(
                actions=actions, condition=OrderDetailModel.order_id.exists()
            )
            changed += 1
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    return changed
