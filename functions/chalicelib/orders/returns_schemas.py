"""Returns (退货) of completed orders."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from chalicelib.kernel.schema import Out, Schema, Sku, StoreId, Timestamp
from chalicelib.orders.schemas import MAX_LINES, Transition

Units = Annotated[int, Meta(ge=1, le=999, description="Units of the line to return.")]
ReturnReason = Annotated[str, Meta(min_length=1, max_length=200, examples=["草莓有压坏"])]


class ReturnItem(Schema, kw_only=True):
    sku: Sku
    units: Units


class ReturnRequest(Schema, kw_only=True):
    lines: Annotated[
        list[ReturnItem],
        Meta(min_length=1, max_length=MAX_LINES, description="Lines of the order, each SKU once."),
    ]
    reason: ReturnReason


class Rejection(Schema, kw_only=True):
    reason: ReturnReason


class ReturnLine(Out, kw_only=True):
    sku: str
    name: str | None
    units: int
    fresh: bool
    refund_fen: int | None  # what this line's units refund, once the refund exists


class ReturnRefund(Out, kw_only=True):
    refund_id: str
    amount_fen: int
    status: str  # pending (the provider has not confirmed yet) | succeeded | failed


class Return(Out, kw_only=True):
    return_id: str  # "<order id>-R<n>": the n-th return of the order
    order_id: str
    store_id: str
    customer_id: str
    status: str
    lines: list[ReturnLine]
    reason: str | None
    requested_by: str
    refund: ReturnRefund | None
    history: list[Transition]
    created_at: Timestamp
    updated_at: Timestamp
    # Its refund's deduction for discounts the units kept no longer earn (issue 18 item 2,
    # docs/promotions.md "Refund rule"): refund.amount_fen is the lines' refund_fen less
    # this (negative: an earlier return's deduction given back); 0 otherwise. And that
    # as its own line to show, e.g. "优惠不再满足: -¥7.50"
    refund_deducted_fen: int = 0
    refund_deduction: str | None = None


class ReturnList(Out, kw_only=True):
    """The returns one request opened: fresh lines and other lines are separate returns."""

    items: list[Return]


class ReturnPage(Out, kw_only=True):
    items: list[Return]
    next_cursor: str | None


class StoreReturnQuery(Schema, kw_only=True):
    status: Annotated[str, Meta(pattern=r"^[a-z_]+$", examples=["awaiting_verification"])] = (
        "awaiting_verification"
    )
    cursor: Annotated[str, Meta(max_length=2000)] | None = None
    limit: Annotated[int, Meta(ge=1, le=50)] = 20


class ReturnQueueQuery(StoreReturnQuery, kw_only=True):
    """The returns queue across the stores the user may see; ``store_id`` narrows it to one."""

    store_id: StoreId | None = None


_RETURN_EXAMPLE = {
    "return_id": "261124K7QX3M9P-R1",
    "order_id": "261124K7QX3M9P",
    "store_id": "sh-jingan",
    "customer_id": "c-7Q2M4K",
    "status": "refunded",
    "lines": [
        {"sku": "100001", "name": "丹东草莓 500g", "units": 1, "fresh": True, "refund_fen": 2590}
    ],
    "reason": "草莓有压坏",
    "requested_by": "c-7Q2M4K",
    "refund": {
        "refund_id": "261124K7QX3M9P:return:261124K7QX3M9P-R1",
        "amount_fen": 2590,
        "status": "succeeded",
    },
    "history": [
        {
            "at": "2026-11-25T01:10:00Z",
            "actor": "c-7Q2M4K",
            "role": "customer",
            "action": "request",
            "from_state": None,
            "to_state": "refund_at_once",
            "reason": "草莓有压坏",
        },
        {
            "at": "2026-11-25T01:10:00Z",
            "actor": "c-7Q2M4K",
            "role": "customer",
            "action": "refund",
            "from_state": "refund_at_once",
            "to_state": "refunded",
            "reason": None,
        },
    ],
    "created_at": "2026-11-25T01:10:00.123Z",
    "updated_at": "2026-11-25T01:10:00Z",
}

EXAMPLES = {
    "ReturnRequest": {"lines": [{"sku": "100001", "units": 1}], "reason": "草莓有压坏"},
    "Rejection": {"reason": "商品已拆封使用，不符合退货条件"},
    "Return": _RETURN_EXAMPLE,
    "ReturnList": {"items": [_RETURN_EXAMPLE]},
    "ReturnPage": {"items": [_RETURN_EXAMPLE], "next_cursor": None},
}
