"""Orders paid before they exist (a prepayment: a subscription's delivery, issue 17).

The order is created already ``paid``, with its ticket, in ONE transaction with its stock
decrements and whatever the caller adds (the prepayment's own record, e.g. the
subscription's schedule entry moving to ``ordered``): the order's id is derived by the
caller from what it pays for, and the put is conditional on that id not existing, so
running the creation twice (a replayed job, two jobs at once) makes one order. From then
on it is an order like any other: printed at its store, picked (a shortage at picking
refunds the missing units through the prepayment's payment, orders' shortage rule),
checked out, delivered. Orders do not know who prepaid: the caller passes the payment
(id and provider) the prepayment was captured with.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from chalicelib.catalogue.models import ProductModel, StoreItemModel
from chalicelib.db import transitions
from chalicelib.db.transactions import TransactionCancelled, Tx, TxPiece, transact
from chalicelib.db.transitions import Who
from chalicelib.kernel import clock, hours
from chalicelib.kernel.money import allocate
from chalicelib.orders import order_flow
from chalicelib.orders.models import (
    AddressAttribute,
    DiscountAttribute,
    OrderDetailModel,
    OrderLineAttribute,
    OrderModel,
)
from chalicelib.printing import print_jobs
from chalicelib.stores.models import StoreModel

_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
DISCOUNT = "prepaid"  # the discount line of a prepaid order (code and kind)


@dataclass(frozen=True)
class PrepaidLine:
    sku: str
    qty: int


@dataclass(frozen=True)
class Prepayment:
    """What paid for the order: the provider's payment, and the order's share of it."""

    payment_id: str
    provider: str
    paid_fen: int
    paid_at: str
    label: str  # the discount line's label, e.g. "周期购 每日鲜奶 第3/30次"
    actor: Who  # recorded on place and pay (the system role: a job)


class Short(Exception):
    """Stock could not be taken for these SKUs (the store's shelf is short)."""

    def __init__(self, skus: list[str]) -> None:
        super().__init__(f"short: {skus}")
        self.skus = skus


class Unsellable(Exception):
    """A product or the store is gone or not on sale: no order can be made of it."""


class PieceFailed(Exception):
    """The caller's own piece refused (e.g. the schedule entry moved meanwhile)."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__(f"failed: {labels}")
        self.labels = labels


def order_id_for(key: str, day: str) -> str:
    """An order id of the usual shape (yymmdd + 8 characters) from ``key`` (what the
    prepayment pays for, e.g. "<subscription>#<date>") and its local ``day``."""
    n = int.from_bytes(hashlib.sha256(f"prepaid\0{key}".encode()).digest()[:5], "big")
    code = "".join(_CODE_ALPHABET[(n >> shift) & 31] for shift in range(35, -1, -5))
    return day[2:4] + day[5:7] + day[8:10] + code


def create(
    order_id: str,
    customer_id: str,
    store_id: str,
    fulfilment: str,
    address: dict | None,
    lines: list[PrepaidLine],
    pay: Prepayment,
    pieces: list[TxPiece],
    remark: str | None = None,
) -> OrderModel | None:
    """Create the paid order with its ticket, stock and ``pieces`` in one transaction.
    Returns the order, or None when it exists already (created before: nothing
    written). Raises Short (no stock), Unsellable, PieceFailed (a caller's piece)."""
    got = {
        (i.store_id, i.sku): i
        for i in StoreItemModel.batch_get([(store_id, ln.sku) for ln in lines])
    }
    products = {p.sku: p for p in ProductModel.batch_get([ln.sku for ln in lines])}
    for ln in lines:
        item, product = got.get((store_id, ln.sku)), products.get(ln.sku)
        if item is None or product is None or not product.active:
            raise Unsellable(f"{ln.sku} is not sold at {store_id}")
    store = StoreModel.get(store_id)
    order = _build(
        order_id, customer_id, store, fulfilment, address, lines, pay, got, products, remark
    )
    order.print_job_ids = {print_jobs.paid_ticket_id(order_id)}
    ticket = print_jobs.new_job(
        order, "order", {"picking", "delivery"}, job_id=print_jobs.paid_ticket_id(order_id)
    )

    def build(tx: Tx) -> None:
        tx.save(order, condition=OrderModel.order_id.does_not_exist(), label="order")
        tx.save(order.detail, condition=OrderDetailModel.order_id.does_not_exist(), label="detail")
        tx.save(ticket, label="ticket")
        for ln in lines:
            tx.update(
                StoreItemModel(store_id, ln.sku),
                actions=[StoreItemModel.stock.add(-ln.qty)],
                condition=(StoreItemModel.stock >= ln.qty) & (StoreItemModel.on_sale == True),  # noqa: E712
                label=f"stock:{ln.sku}",
            )
        tx.add(*pieces)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "order" in exc.failed or "detail" in exc.failed:
            return None
        mine = [p.label for p in pieces if p.label in exc.failed]
        if mine:
            raise PieceFailed(mine) from None
        short = [ln.sku for ln in lines if f"stock:{ln.sku}" in exc.failed]
        if short:
            raise Short(short) from None
        raise
    return order


def _build(
    order_id: str,
    customer_id: str,
    store: StoreModel,
    fulfilment: str,
    address: dict | None,
    lines: list[PrepaidLine],
    pay: Prepayment,
    items: dict,
    products: dict,
    remark: str | None,
) -> OrderModel:
    amounts = [int(items[(store.store_id, ln.sku)].price_fen) * ln.qty for ln in lines]
    # The prepaid share over the lines in proportion to their list value (largest
    # remainder): each line knows what was paid for it, and refunds add up exactly.
    paid = (
        allocate(pay.paid_fen, amounts)
        if sum(amounts)
        else allocate(pay.paid_fen, [1] * len(lines))
    )
    subtotal = sum(amounts)
    now = clock.now()
    local_day = now.astimezone(hours.zone(store.timezone)).strftime("%Y-%m-%d")
    detail = OrderDetailModel(
        order_id,
        address=AddressAttribute(**address) if address and fulfilment == "delivery" else None,
        remark=pay.label if remark is None else remark,
        lines=[
            OrderLineAttribute(
                sku=ln.sku,
                name=products[ln.sku].name,
                unit=products[ln.sku].unit,
                category1=products[ln.sku].category1,
                category2=products[ln.sku].category2,
                zone=products[ln.sku].zone,
                shelf=products[ln.sku].shelf,
                fresh=bool(products[ln.sku].fresh),
                unit_price_fen=int(items[(store.store_id, ln.sku)].price_fen),
                qty=ln.qty,
                amount_fen=amount,
                discount_fen=amount - share,
                paid_fen=share,
                refunded_units=0,
                refunded_fen=0,
            )
            for ln, amount, share in zip(lines, amounts, paid, strict=True)
        ],
        discounts=[
            DiscountAttribute(
                code=DISCOUNT,
                label=pay.label,
                amount_fen=subtotal - pay.paid_fen,
                kind=DISCOUNT,
                funded_by="hq",
            )
        ]
        if subtotal != pay.paid_fen
        else [],
        subtotal_fen=subtotal,
        discount_fen=subtotal - pay.paid_fen,
        delivery_fee_fen=0,
    )
    stamp = clock.now_iso()
    return OrderModel(
        order_id,
        customer_id=customer_id,
        store_id=store.store_id,
        fulfilment=fulfilment,
        status="paid",
        store_queue=order_flow.queue_key(store.store_id, "paid"),
        paid_queue=order_flow.queue_key(store.store_id, "paid"),
        store_day=f"{store.store_id}#{local_day}",
        total_fen=pay.paid_fen,
        paid_fen=pay.paid_fen,
        payment_id=pay.payment_id,
        payment_provider=pay.provider,
        paid_at=pay.paid_at,
        pickup_code=f"{secrets.randbelow(10**6):06d}" if fulfilment == "pickup" else None,
        expires_at=stamp,  # nothing to pay: the deadline is already met
        created_at=clock.now_iso_ms(),
        updated_at=stamp,
        history=[
            transitions.entry("place", None, "awaiting_payment", pay.actor),
            transitions.entry("pay", "awaiting_payment", "paid", pay.actor, "prepaid"),
        ],
    ).attach(detail)
