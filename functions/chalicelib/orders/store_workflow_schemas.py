"""The store's work on orders: picking with shortages, POS checkout, pickup at the counter."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Sku
from chalicelib.orders.schemas import MAX_LINES

OrderCode = Annotated[
    str,
    Meta(
        pattern=r"^[0-9A-Za-z]{6,32}$",
        description="The order code the ticket's QR code / barcode carries (the order id).",
        examples=["261124K7QX3M9P"],
    ),
]


class PickedLine(Schema, kw_only=True):
    sku: Sku
    picked_qty: Annotated[
        int, Meta(ge=0, le=999, description="Units found on the shelf: 0 to the ordered qty.")
    ]


class PickResult(Schema, kw_only=True):
    lines: Annotated[
        list[PickedLine],
        Meta(
            min_length=1,
            max_length=MAX_LINES,
            description="Every line of the order, once, with what was picked.",
        ),
    ]


class Checkout(Schema, kw_only=True):
    order_code: OrderCode
    then: Annotated[
        Literal["dispatch", "ready_for_pickup"] | None,
        Meta(
            description=(
                "Hand the order over in the same step: `dispatch` (a delivery order, to "
                "the courier: out_for_delivery) or `ready_for_pickup` (a pickup order, "
                "which goes there anyway). The other one for the order's fulfilment is "
                "409 `fulfilment_mismatch`."
            )
        ),
    ] = None


class Pickup(Schema, kw_only=True):
    pickup_code: Annotated[
        str, Meta(pattern=r"^\d{6}$", description="The customer's 6-digit pickup code.")
    ]
    order_code: OrderCode | None = None  # only when two ready orders share a pickup code


class BulkDispatch(Schema, kw_only=True):
    order_ids: Annotated[
        list[OrderCode],
        Meta(min_length=1, max_length=50, description="Checked-out delivery orders, 1 to 50."),
    ]
    courier: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=40,
                description="Who takes them (recorded in each order's history).",
                examples=["李师傅 13800000000"],
            ),
        ]
        | None
    ) = None


class BulkOrderResult(Out, kw_only=True):
    order_id: str
    # dispatched now; already_dispatched: out for delivery before this request (a retry
    # of a request that went through); failed: see code and message, nothing changed.
    result: Literal["dispatched", "already_dispatched", "failed"]
    status: str | None = None  # the order's status afterwards (null when not found)
    code: str | None = None
    message: str | None = None


class BulkDispatchResult(Out, kw_only=True):
    dispatched: int
    already_dispatched: int
    failed: int
    results: list[BulkOrderResult]


EXAMPLES = {
    "PickResult": {
        "lines": [{"sku": "100001", "picked_qty": 2}, {"sku": "400003", "picked_qty": 0}]
    },
    "Checkout": {"order_code": "261124K7QX3M9P", "then": "dispatch"},
    "Pickup": {"pickup_code": "042517"},
    "BulkDispatch": {"order_ids": ["261124K7QX3M9P", "261124K7QX3M9Q"], "courier": "李师傅"},
    "BulkDispatchResult": {
        "dispatched": 1,
        "already_dispatched": 0,
        "failed": 1,
        "results": [
            {
                "order_id": "261124K7QX3M9P",
                "result": "dispatched",
                "status": "out_for_delivery",
                "code": None,
                "message": None,
            },
            {
                "order_id": "261124K7QX3M9Q",
                "result": "failed",
                "status": "picking",
                "code": "illegal_transition",
                "message": "Cannot dispatch an order that is picking.",
            },
        ],
    },
}
